//! Groups of related settings that `ServerConfig` holds as sub-structs.
//!
//! Each `Default` is Apache ZooKeeper's default, so a zoo.cfg that omits
//! the keys behaves the same on both servers.

use std::collections::BTreeMap;

/// Standalone (one server, no election) or a replicated ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerMode {
    /// No `server.N` entries, or exactly one participant with
    /// `standaloneEnabled=true` (ZooKeeper then ignores the lone entry).
    #[default]
    Standalone,
    /// Two or more participants, or `standaloneEnabled=false`.
    Quorum,
}

/// `zookeeper.snapshot.compression.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnapshotCompression {
    /// `""` (default): uncompressed snapshots with an Adler32 checksum.
    #[default]
    None,
    /// `gz`: gzip; snapshot files get a `.gz` suffix.
    Gzip,
    /// `snappy`: Snappy framing; snapshot files get a `.snappy` suffix.
    Snappy,
}

impl SnapshotCompression {
    /// The property value ZooKeeper uses for this mode.
    pub fn as_str(self) -> &'static str {
        match self {
            SnapshotCompression::None => "",
            SnapshotCompression::Gzip => "gz",
            SnapshotCompression::Snappy => "snappy",
        }
    }

    /// `StreamMode.fromString`: case-insensitive match, `None` if unknown
    /// (ZooKeeper then silently uses the default).
    pub(crate) fn parse(s: &str) -> Option<Self> {
        [Self::None, Self::Gzip, Self::Snappy]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s))
    }
}

/// The embedded HTTP AdminServer (`admin.*` keys, i.e. `zookeeper.admin.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminServerConfig {
    /// `admin.enableServer`; default true. Only the exact value `false` disables it.
    pub enabled: bool,
    /// `admin.serverAddress`; default `0.0.0.0`.
    pub address: String,
    /// `admin.serverPort`; default 8080.
    pub port: u16,
    /// `admin.commandURL`; default `/commands`.
    pub command_url: String,
    /// `admin.idleTimeout` in milliseconds; default 30000.
    pub idle_timeout_ms: i32,
    /// `admin.portUnification`: accept HTTP and HTTPS on one port; default false.
    pub port_unification: bool,
    /// `admin.forceHttps`: HTTPS only; default false; overrides port unification.
    pub force_https: bool,
}

impl Default for AdminServerConfig {
    fn default() -> Self {
        AdminServerConfig {
            enabled: true,
            address: "0.0.0.0".to_owned(),
            port: 8080,
            command_url: "/commands".to_owned(),
            idle_timeout_ms: 30_000,
            port_unification: false,
            force_https: false,
        }
    }
}

/// The Java class ZooKeeper uses when `metricsProvider.className` is absent.
pub const DEFAULT_METRICS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
/// The Prometheus exporter bundled with ZooKeeper.
pub const PROMETHEUS_METRICS_PROVIDER: &str =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
/// The provider that discards all metrics.
pub const NULL_METRICS_PROVIDER: &str = "org.apache.zookeeper.metrics.impl.NullMetricsProvider";

/// `metricsProvider.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsProviderConfig {
    /// `metricsProvider.className`; default [`DEFAULT_METRICS_PROVIDER`] (metrics
    /// only via `mntr` and the AdminServer). [`PROMETHEUS_METRICS_PROVIDER`]
    /// enables the `/metrics` HTTP endpoint.
    pub class_name: String,
    /// `metricsProvider.httpHost`; default `0.0.0.0` (Prometheus only).
    pub http_host: String,
    /// `metricsProvider.httpPort`; default 7000 (Prometheus only).
    pub http_port: u16,
    /// `metricsProvider.exportJvmInfo`; default true (there is no JVM here).
    pub export_jvm_info: bool,
    /// Every `metricsProvider.X` except `className`, keyed by `X`, as passed
    /// to the Java provider (includes numWorkerThreads, maxQueueSize, ...).
    pub properties: BTreeMap<String, String>,
}

impl MetricsProviderConfig {
    /// Whether the Prometheus exporter is selected.
    pub fn is_prometheus(&self) -> bool {
        self.class_name == PROMETHEUS_METRICS_PROVIDER
    }
}

impl Default for MetricsProviderConfig {
    fn default() -> Self {
        MetricsProviderConfig {
            class_name: DEFAULT_METRICS_PROVIDER.to_owned(),
            http_host: "0.0.0.0".to_owned(),
            http_port: 7000,
            export_jvm_info: true,
            properties: BTreeMap::new(),
        }
    }
}

/// Quorum (server-to-server) SASL authentication, `quorum.auth.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumSaslConfig {
    /// `quorum.auth.enableSasl`; default false.
    pub enabled: bool,
    /// `quorum.auth.serverRequireSasl`; default false; needs `enabled` and `learner_required`.
    pub server_required: bool,
    /// `quorum.auth.learnerRequireSasl`; default false; needs `enabled`.
    pub learner_required: bool,
    /// `quorum.auth.learner.saslLoginContext`; default `QuorumLearner`.
    pub learner_login_context: String,
    /// `quorum.auth.server.saslLoginContext`; default `QuorumServer`.
    pub server_login_context: String,
    /// `quorum.auth.kerberos.servicePrincipal`; default `zkquorum/localhost`.
    pub kerberos_service_principal: String,
}

impl Default for QuorumSaslConfig {
    fn default() -> Self {
        QuorumSaslConfig {
            enabled: false,
            server_required: false,
            learner_required: false,
            learner_login_context: "QuorumLearner".to_owned(),
            server_login_context: "QuorumServer".to_owned(),
            kerberos_service_principal: "zkquorum/localhost".to_owned(),
        }
    }
}

/// Multiple addresses per server (`multiAddress.*`, ZooKeeper 3.6+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiAddressConfig {
    /// `multiAddress.enabled` (zoo.cfg, else `-Dzookeeper.multiAddress.enabled`); default false.
    pub enabled: bool,
    /// `multiAddress.reachabilityCheckEnabled`; default true.
    pub reachability_check_enabled: bool,
    /// `multiAddress.reachabilityCheckTimeoutMs` in milliseconds; default 1000.
    pub reachability_check_timeout_ms: i32,
}

impl Default for MultiAddressConfig {
    fn default() -> Self {
        MultiAddressConfig {
            enabled: false,
            reachability_check_enabled: true,
            reachability_check_timeout_ms: 1000,
        }
    }
}

/// `jvm.pause.*`: ZooKeeper's JVM pause monitor. Parsed and validated like
/// Java does so configs carrying them load, but there are no GC pauses to
/// watch in FerroKeeper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JvmPauseMonitorConfig {
    /// `jvm.pause.monitor`; default false.
    pub enabled: bool,
    /// `jvm.pause.info-threshold.ms`; default 1000.
    pub info_threshold_ms: i64,
    /// `jvm.pause.warn-threshold.ms`; default 10000.
    pub warn_threshold_ms: i64,
    /// `jvm.pause.sleep.time.ms`; default 500.
    pub sleep_time_ms: i64,
}

impl Default for JvmPauseMonitorConfig {
    fn default() -> Self {
        JvmPauseMonitorConfig {
            enabled: false,
            info_threshold_ms: 1000,
            warn_threshold_ms: 10_000,
            sleep_time_ms: 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_names() {
        assert_eq!(
            SnapshotCompression::parse("GZ"),
            Some(SnapshotCompression::Gzip)
        );
        assert_eq!(
            SnapshotCompression::parse("snappy"),
            Some(SnapshotCompression::Snappy)
        );
        assert_eq!(
            SnapshotCompression::parse(""),
            Some(SnapshotCompression::None)
        );
        assert_eq!(SnapshotCompression::parse("zstd"), None);
    }
}
