//! The keys `QuorumPeerConfig.parseProperties` knows, and the rule for all
//! others.
//!
//! ZooKeeper trims every key and value (`String.trim`), handles the keys it
//! knows, and hands any other key to `System.setProperty("zookeeper." + key,
//! value)`. This module does the same against a [`ServerConfig`]: known keys
//! are parsed into fields with ZooKeeper's parser for each (an error where
//! Java throws), unknown keys land in `ServerConfig::system_properties`.
//! It then applies the checks ZooKeeper makes at the end of
//! `parseProperties`; the ensemble (`server.N`, myid) is handled by
//! `ensemble`.

use std::path::PathBuf;

use super::address::{parse_port, ListenAddress};
use super::error::{ConfigError, ConfigWarning, Location};
use super::java_values::{java_trim, parse_int, parse_long, parse_strict_bool};
use super::properties::Properties;
use super::quorum::{is_quorum_key, LearnerType};
use super::sections::{
    DEFAULT_METRICS_PROVIDER, NULL_METRICS_PROVIDER, PROMETHEUS_METRICS_PROVIDER,
};
use super::server_config::ServerConfig;
use super::system_props::PropertyOrigin;

/// A zoo.cfg entry after ZooKeeper's trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Trimmed key.
    pub key: String,
    /// Trimmed value.
    pub value: String,
    /// 1-based line where the entry starts.
    pub line: usize,
}

/// The effective entries of a properties file, trimmed like ZooKeeper does.
/// A key given twice keeps its last value (and that line).
pub(crate) fn trimmed_entries(props: &Properties) -> Vec<ConfigEntry> {
    let mut out: Vec<ConfigEntry> = Vec::new();
    for e in props.effective_entries() {
        let key = java_trim(&e.key).to_owned();
        // Keys that differ only in escaped edge whitespace collide after trimming.
        out.retain(|existing| existing.key != key);
        out.push(ConfigEntry {
            key,
            value: java_trim(&e.value).to_owned(),
            line: e.line,
        });
    }
    out
}

/// Client listener values that are resolved after every key has been seen.
#[derive(Debug, Default)]
pub(crate) struct StaticClientPorts {
    pub client_port: Option<(u16, usize)>,
    pub client_port_address: Option<(String, usize)>,
    pub secure_client_port: Option<(u16, usize)>,
    pub secure_client_port_address: Option<(String, usize)>,
}

struct Parser<'a> {
    source: &'a str,
}

impl Parser<'_> {
    fn location(&self, line: usize) -> Location {
        Location::Line {
            source: self.source.to_owned(),
            line,
        }
    }

    fn invalid(&self, e: &ConfigEntry, expected: &str) -> ConfigError {
        ConfigError::new(
            self.location(e.line),
            Some(&e.key),
            format!("expected {expected}, got {:?}", e.value),
        )
    }

    fn int(&self, e: &ConfigEntry, expected: &str) -> Result<i32, ConfigError> {
        parse_int(&e.value).ok_or_else(|| self.invalid(e, expected))
    }

    fn long(&self, e: &ConfigEntry, expected: &str) -> Result<i64, ConfigError> {
        parse_long(&e.value).ok_or_else(|| self.invalid(e, expected))
    }

    fn boolean(&self, e: &ConfigEntry) -> Result<bool, ConfigError> {
        parse_strict_bool(&e.value).ok_or_else(|| self.invalid(e, "true or false"))
    }

    fn port(&self, e: &ConfigEntry) -> Result<u16, ConfigError> {
        parse_port(&e.value).ok_or_else(|| self.invalid(e, "a port number (0-65535)"))
    }

    fn directory(
        &self,
        e: &ConfigEntry,
        warnings: &mut Vec<ConfigWarning>,
    ) -> Result<PathBuf, ConfigError> {
        if e.value.is_empty() {
            return Err(self.invalid(e, "a directory path"));
        }
        // VerifyingFileFactory.warnForRelativePath. Relative paths are kept
        // relative: like java.io.File they resolve against the working directory.
        let path = PathBuf::from(&e.value);
        if path.is_relative() && !e.value.starts_with("./") {
            warnings.push(ConfigWarning::new(
                self.location(e.line),
                Some(&e.key),
                format!(
                    "{:?} is relative to the working directory. Prepend ./ to indicate that you're sure!",
                    e.value
                ),
            ));
        }
        Ok(path)
    }

    /// An address for `InetAddress.getByName`; empty means loopback there.
    fn address(&self, e: &ConfigEntry, warnings: &mut Vec<ConfigWarning>) -> String {
        if e.value.is_empty() {
            warnings.push(ConfigWarning::new(
                self.location(e.line),
                Some(&e.key),
                "empty address; ZooKeeper resolves it to the loopback address 127.0.0.1",
            ));
            return "127.0.0.1".to_owned();
        }
        e.value.clone()
    }
}

/// `QuorumPeerConfig.parseProperties` up to (not including) the ensemble setup.
pub(crate) fn apply_static_entries(
    cfg: &mut ServerConfig,
    entries: &[ConfigEntry],
) -> Result<StaticClientPorts, ConfigError> {
    let source = cfg.source.clone();
    let p = Parser { source: &source };
    let has_dynamic_file = entries.iter().any(|e| e.key == "dynamicConfigFile");
    let mut ports = StaticClientPorts::default();
    let mut data_dir_seen = false;
    let mut data_log_dir_seen = false;
    let mut tick_time: Option<(i32, usize)> = None;
    let mut min_session: Option<i32> = None;
    let mut max_session: Option<i32> = None;
    let mut snap_retain: Option<(i32, usize)> = None;
    let mut multi_address_enabled: Option<bool> = None;

    for e in entries {
        let warnings = &mut cfg.warnings;
        match e.key.as_str() {
            "dataDir" => {
                cfg.data_dir = p.directory(e, warnings)?;
                data_dir_seen = true;
            }
            "dataLogDir" => {
                cfg.data_log_dir = p.directory(e, warnings)?;
                data_log_dir_seen = true;
            }
            "clientPort" => ports.client_port = Some((p.port(e)?, e.line)),
            "localSessionsEnabled" => cfg.local_sessions_enabled = p.boolean(e)?,
            "localSessionsUpgradingEnabled" => {
                cfg.local_sessions_upgrading_enabled = p.boolean(e)?
            }
            "clientPortAddress" => {
                ports.client_port_address = Some((p.address(e, warnings), e.line))
            }
            "secureClientPort" => ports.secure_client_port = Some((p.port(e)?, e.line)),
            "secureClientPortAddress" => {
                ports.secure_client_port_address = Some((p.address(e, warnings), e.line))
            }
            "observerMasterPort" => {
                let port = p.int(e, "a port number (0-65535)")?;
                // Java treats zero and negative values as "not set".
                cfg.observer_master_port = if port <= 0 {
                    None
                } else {
                    Some(u16::try_from(port).map_err(|_| p.invalid(e, "a port number (0-65535)"))?)
                };
            }
            "clientPortListenBacklog" => {
                cfg.client_port_listen_backlog = p.int(e, "an integer socket backlog length")?
            }
            "tickTime" => {
                tick_time = Some((p.int(e, "an integer number of milliseconds")?, e.line))
            }
            "maxClientCnxns" => {
                cfg.max_client_cnxns = p.int(e, "an integer number of connections per client IP")?
            }
            "minSessionTimeout" => {
                min_session = Some(p.int(e, "an integer number of milliseconds")?)
            }
            "maxSessionTimeout" => {
                max_session = Some(p.int(e, "an integer number of milliseconds")?)
            }
            "initLimit" => cfg.init_limit = p.int(e, "an integer number of ticks")?,
            "syncLimit" => cfg.sync_limit = p.int(e, "an integer number of ticks")?,
            "connectToLearnerMasterLimit" => {
                cfg.connect_to_learner_master_limit = p.int(e, "an integer number of ticks")?
            }
            "electionAlg" => {
                let alg = p.int(e, "3 (fast leader election, the only algorithm left)")?;
                if alg != 3 {
                    return Err(p.invalid(e, "3 (fast leader election, the only algorithm left)"));
                }
                cfg.election_alg = alg;
            }
            "quorumListenOnAllIPs" => cfg.quorum_listen_on_all_ips = p.boolean(e)?,
            "peerType" => {
                cfg.peer_type = LearnerType::parse(&e.value)
                    .ok_or_else(|| p.invalid(e, "participant or observer"))?
            }
            "syncEnabled" => cfg.sync_enabled = p.boolean(e)?,
            "dynamicConfigFile" => {
                if e.value.is_empty() {
                    return Err(p.invalid(e, "the path of the dynamic configuration file"));
                }
                cfg.dynamic_config_file = Some(PathBuf::from(&e.value));
            }
            "autopurge.snapRetainCount" => {
                snap_retain = Some((p.int(e, "an integer number of snapshots")?, e.line))
            }
            "autopurge.purgeInterval" => {
                cfg.autopurge_purge_interval_hours = p.int(e, "an integer number of hours")?
            }
            "standaloneEnabled" => cfg.standalone_enabled = p.boolean(e)?,
            "reconfigEnabled" => cfg.reconfig_enabled = p.boolean(e)?,
            "sslQuorum" => cfg.ssl_quorum = p.boolean(e)?,
            "portUnification" => cfg.port_unification = p.boolean(e)?,
            "sslQuorumReloadCertFiles" => cfg.ssl_quorum_reload_cert_files = p.boolean(e)?,
            key if is_quorum_key(key) && has_dynamic_file => {
                return Err(ConfigError::new(
                    p.location(e.line),
                    Some(key),
                    "must be in the separate dynamic config file, since dynamicConfigFile is set",
                ));
            }
            "quorum.auth.enableSasl" => cfg.quorum_sasl.enabled = p.boolean(e)?,
            "quorum.auth.serverRequireSasl" => cfg.quorum_sasl.server_required = p.boolean(e)?,
            "quorum.auth.learnerRequireSasl" => cfg.quorum_sasl.learner_required = p.boolean(e)?,
            "quorum.auth.learner.saslLoginContext" => {
                cfg.quorum_sasl.learner_login_context = e.value.clone()
            }
            "quorum.auth.server.saslLoginContext" => {
                cfg.quorum_sasl.server_login_context = e.value.clone()
            }
            "quorum.auth.kerberos.servicePrincipal" => {
                cfg.quorum_sasl.kerberos_service_principal = e.value.clone()
            }
            "quorum.cnxn.threads.size" => {
                cfg.quorum_cnxn_threads_size = Some(p.int(e, "an integer number of threads")?)
            }
            "jvm.pause.info-threshold.ms" => {
                cfg.jvm_pause_monitor.info_threshold_ms =
                    p.long(e, "an integer number of milliseconds")?
            }
            "jvm.pause.warn-threshold.ms" => {
                cfg.jvm_pause_monitor.warn_threshold_ms =
                    p.long(e, "an integer number of milliseconds")?
            }
            "jvm.pause.sleep.time.ms" => {
                cfg.jvm_pause_monitor.sleep_time_ms =
                    p.long(e, "an integer number of milliseconds")?
            }
            "jvm.pause.monitor" => cfg.jvm_pause_monitor.enabled = p.boolean(e)?,
            "metricsProvider.className" => cfg.metrics.class_name = e.value.clone(),
            key if key.starts_with("metricsProvider.") => {
                let sub = &key["metricsProvider.".len()..];
                cfg.metrics
                    .properties
                    .insert(sub.to_owned(), e.value.clone());
            }
            "multiAddress.enabled" => multi_address_enabled = Some(p.boolean(e)?),
            "multiAddress.reachabilityCheckTimeoutMs" => {
                cfg.multi_address.reachability_check_timeout_ms =
                    p.int(e, "an integer number of milliseconds")?
            }
            "multiAddress.reachabilityCheckEnabled" => {
                cfg.multi_address.reachability_check_enabled = p.boolean(e)?
            }
            "oraclePath" => cfg.quorum.oracle_path = Some(PathBuf::from(&e.value)),
            key => {
                // Everything else, including server.N/group.N/weight.N in the
                // static file, becomes the system property zookeeper.<key>.
                cfg.system_properties.set(
                    &format!("zookeeper.{key}"),
                    &e.value,
                    PropertyOrigin::ConfigFile {
                        source: source.clone(),
                        line: e.line,
                        key: key.to_owned(),
                    },
                );
            }
        }
    }

    // The zoo.cfg key wins; otherwise the JVM flag the Java field starts from.
    cfg.multi_address.enabled = multi_address_enabled.unwrap_or_else(|| {
        cfg.system_properties
            .get("zookeeper.multiAddress.enabled")
            .is_some_and(super::java_values::java_bool)
    });

    check_quorum_sasl(cfg, entries, &p)?;

    if let Some((count, line)) = snap_retain {
        if count < 3 {
            cfg.warnings.push(ConfigWarning::new(
                p.location(line),
                Some("autopurge.snapRetainCount"),
                format!("{count} is below the minimum of 3; using 3"),
            ));
            cfg.autopurge_snap_retain_count = 3;
        } else {
            cfg.autopurge_snap_retain_count = count.unsigned_abs();
        }
    }

    if !data_dir_seen {
        return Err(ConfigError::new(
            Location::File { source: source.clone() },
            Some("dataDir"),
            "is not set; it names the directory for snapshots (and the transaction log unless dataLogDir is set)",
        ));
    }
    if !data_log_dir_seen {
        cfg.data_log_dir = cfg.data_dir.clone();
    }

    check_listener_pair(
        &p,
        ports.client_port,
        &ports.client_port_address,
        "clientPort",
        "clientPortAddress",
    )?;
    check_listener_pair(
        &p,
        ports.secure_client_port,
        &ports.secure_client_port_address,
        "secureClientPort",
        "secureClientPortAddress",
    )?;
    cfg.client_port_address = listener(ports.client_port, &ports.client_port_address);
    cfg.secure_client_port_address =
        listener(ports.secure_client_port, &ports.secure_client_port_address);
    if cfg.secure_client_port_address.is_some() {
        configure_ssl_auth(cfg, ports.secure_client_port.map_or(0, |(_, l)| l))?;
    }

    if let Some((tick, line)) = tick_time {
        let tick = u32::try_from(tick).ok().filter(|t| *t > 0).ok_or_else(|| {
            ConfigError::new(
                p.location(line),
                Some("tickTime"),
                format!("expected a positive integer number of milliseconds, got \"{tick}\""),
            )
        })?;
        cfg.tick_time_ms = tick;
    }
    let tick = i32::try_from(cfg.tick_time_ms).unwrap_or(i32::MAX);
    cfg.min_session_timeout_ms = match min_session {
        Some(v) if v != -1 => v,
        _ => tick.saturating_mul(2),
    };
    cfg.max_session_timeout_ms = match max_session {
        Some(v) if v != -1 => v,
        _ => tick.saturating_mul(20),
    };
    if cfg.min_session_timeout_ms > cfg.max_session_timeout_ms {
        let line = cfg
            .line_of("minSessionTimeout")
            .or_else(|| cfg.line_of("maxSessionTimeout"));
        let location = match line {
            Some(line) => p.location(line),
            None => Location::File {
                source: source.clone(),
            },
        };
        return Err(ConfigError::new(
            location,
            Some("minSessionTimeout"),
            format!(
                "must not be larger than maxSessionTimeout, but {} > {} (ms; unset values default to 2 and 20 ticks)",
                cfg.min_session_timeout_ms, cfg.max_session_timeout_ms
            ),
        ));
    }

    check_metrics_provider(cfg, &p)?;
    Ok(ports)
}

fn check_quorum_sasl(
    cfg: &ServerConfig,
    entries: &[ConfigEntry],
    p: &Parser<'_>,
) -> Result<(), ConfigError> {
    let sasl = &cfg.quorum_sasl;
    let error_at = |key: &str, message: &str| {
        let location = entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| p.location(e.line))
            .unwrap_or_else(|| Location::File {
                source: p.source.to_owned(),
            });
        ConfigError::new(location, Some(key), message)
    };
    if !sasl.enabled && sasl.server_required {
        return Err(error_at(
            "quorum.auth.serverRequireSasl",
            "cannot be true while quorum.auth.enableSasl is false",
        ));
    }
    if !sasl.enabled && sasl.learner_required {
        return Err(error_at(
            "quorum.auth.learnerRequireSasl",
            "cannot be true while quorum.auth.enableSasl is false",
        ));
    }
    if !sasl.learner_required && sasl.server_required {
        return Err(error_at(
            "quorum.auth.serverRequireSasl",
            "cannot be true while quorum.auth.learnerRequireSasl is false (this server could not join the quorum)",
        ));
    }
    Ok(())
}

fn check_listener_pair(
    p: &Parser<'_>,
    port: Option<(u16, usize)>,
    address: &Option<(String, usize)>,
    port_key: &str,
    address_key: &str,
) -> Result<(), ConfigError> {
    match (port, address) {
        (None, Some((_, line))) => Err(ConfigError::new(
            p.location(*line),
            Some(address_key),
            format!("is set but {port_key} is not"),
        )),
        _ => Ok(()),
    }
}

/// Java 3.9 semantics: an explicit port (even 0, an ephemeral port) enables
/// the listener; ZooKeeper 3.8 treated `clientPort=0` as unset.
fn listener(
    port: Option<(u16, usize)>,
    address: &Option<(String, usize)>,
) -> Option<ListenAddress> {
    let (port, _) = port?;
    Some(match address {
        Some((host, _)) => ListenAddress::new(host, port),
        None => ListenAddress::any(port),
    })
}

/// `QuorumPeerConfig.configureSSLAuth`: with a secure client port, the SSL
/// auth scheme (`ssl.authProvider`, default `x509`) must have a provider;
/// the built-in x509 one is registered automatically.
fn configure_ssl_auth(cfg: &mut ServerConfig, line: usize) -> Result<(), ConfigError> {
    let scheme = cfg
        .system_properties
        .get("zookeeper.ssl.authProvider")
        .unwrap_or("x509")
        .to_owned();
    let provider_property = format!("zookeeper.authProvider.{scheme}");
    if cfg.system_properties.get(&provider_property).is_some() {
        return Ok(());
    }
    if scheme == "x509" {
        cfg.system_properties.set(
            &provider_property,
            "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
            PropertyOrigin::Builtin,
        );
        return Ok(());
    }
    Err(ConfigError::new(
        Location::Line {
            source: cfg.source.clone(),
            line,
        },
        Some("secureClientPort"),
        format!(
            "no auth provider is configured for the SSL authentication scheme {scheme:?} \
             (set authProvider.{scheme} or ssl.authProvider)"
        ),
    ))
}

/// ZooKeeper fails to start when the class cannot be loaded. FerroKeeper
/// cannot load Java classes at all, so it recognises the bundled providers
/// and only warns about others (metrics never change client-visible behaviour).
fn check_metrics_provider(cfg: &mut ServerConfig, p: &Parser<'_>) -> Result<(), ConfigError> {
    let line = cfg.line_of("metricsProvider.className");
    let location = || match line {
        Some(line) => p.location(line),
        None => Location::File {
            source: p.source.to_owned(),
        },
    };
    let class = cfg.metrics.class_name.as_str();
    if ![
        DEFAULT_METRICS_PROVIDER,
        PROMETHEUS_METRICS_PROVIDER,
        NULL_METRICS_PROVIDER,
    ]
    .contains(&class)
    {
        cfg.warnings.push(ConfigWarning::new(
            location(),
            Some("metricsProvider.className"),
            format!(
                "{class:?} is not a metrics provider FerroKeeper implements; using the default"
            ),
        ));
        cfg.metrics.class_name = DEFAULT_METRICS_PROVIDER.to_owned();
        return Ok(());
    }
    if !cfg.metrics.is_prometheus() {
        return Ok(());
    }
    // PrometheusMetricsProvider.configure reads these three; a bad port stops it.
    for e in &cfg.entries {
        match e.key.as_str() {
            "metricsProvider.httpHost" => cfg.metrics.http_host = e.value.clone(),
            "metricsProvider.httpPort" => cfg.metrics.http_port = p.port(e)?,
            "metricsProvider.exportJvmInfo" => {
                cfg.metrics.export_jvm_info = super::java_values::java_bool(&e.value)
            }
            _ => {}
        }
    }
    Ok(())
}
