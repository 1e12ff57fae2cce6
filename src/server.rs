//! Putting the parts together: bind the client port, start the pipeline,
//! accept connections. Tests start servers the same way, on port 0.

use std::net::SocketAddr;

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::admin::prometheus::{self, MetricsSettings};
use crate::admin::server::{self as admin_server, AdminServerSettings};
use crate::net::{self, ConnLimits, Listener};
use crate::persist::{MemTxnLog, TxnLog};
use crate::pipeline::{CoreConfig, PersistSettings, Pipeline, ServerInfo};
use tracing::{info, warn};

/// Everything a standalone server needs, resolved from zoo.cfg.
#[derive(Debug, Clone)]
pub struct Settings {
    pub client_addr: SocketAddr,
    pub core: CoreConfig,
    pub limits: ConnLimits,
    pub info: ServerInfo,
    /// Where data is kept; `None` keeps nothing (tests, benchmarks of the
    /// pipeline alone).
    pub persist: Option<PersistSettings>,
    /// snapCount: txns between snapshots (0: only the start-up snapshot).
    pub snap_count: u64,
    /// autopurge: (snapRetainCount, purgeInterval in hours); off when the
    /// interval is 0.
    pub autopurge: (usize, u64),
    /// The HTTP AdminServer (`admin.*`); `None` when disabled.
    pub admin: Option<AdminServerSettings>,
    /// Prometheus `/metrics` (`metricsProvider.*`); `None` unless the
    /// Prometheus provider is configured.
    pub metrics: Option<MetricsSettings>,
}

impl Settings {
    /// The embedded default: 127.0.0.1:2181, data under ./data, tickTime
    /// 3000, the four-letter words ZooKeeper enables by default (srvr).
    ///
    /// Unlike a zoo.cfg without `admin.*` keys, it starts no AdminServer: a
    /// zero-configuration start (and every in-process test built on it)
    /// should take one port, not also 8080, the port most often already in
    /// use on a developer's machine.
    pub fn standalone_default() -> Settings {
        match Settings::from_config(&crate::config::ServerConfig::default_standalone()) {
            Ok(s) => Settings { admin: None, ..s },
            Err(_) => Settings::fallback_default(),
        }
    }

    fn fallback_default() -> Settings {
        Settings {
            persist: None,
            snap_count: 100_000,
            autopurge: (3, 0),
            admin: None,
            metrics: None,
            client_addr: SocketAddr::from(([127, 0, 0, 1], 2181)),
            core: CoreConfig::default(),
            limits: ConnLimits::default(),
            info: ServerInfo {
                client_port: 2181,
                client_address: "127.0.0.1".into(),
                data_dir: "./data".into(),
                data_log_dir: "./data".into(),
                max_client_cnxns: 60,
                four_letter_words: vec!["srvr".into()],
                tick_time_ms: 3000,
                max_client_cnxns_configured: 60,
                min_session_timeout_ms: 6000,
                max_session_timeout_ms: 60000,
                client_port_listen_backlog: -1,
                prometheus: None,
            },
        }
    }
}

/// A started server.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    /// Where the AdminServer listens, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// Where Prometheus `/metrics` is served, when configured.
    pub metrics_addr: Option<SocketAddr>,
    accept: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting new connections.
    pub fn stop_accepting(&self) {
        self.accept.abort();
    }

    /// Waits for the accept loop to end (it ends only on abort).
    pub async fn wait(self) {
        let _ = self.accept.await;
    }
}

/// Binds and starts everything; returns once the port accepts connections.
/// With persistence configured, the data directory is recovered first.
pub async fn start(settings: Settings) -> std::io::Result<RunningServer> {
    let listener = Listener::bind(settings.client_addr).await?;
    let local_addr = listener.local_addr()?;
    let mut info = settings.info.clone();
    info.client_port = local_addr.port();
    let mut pipeline = Pipeline::new(settings.core.clone(), info);
    let log: Box<dyn TxnLog> = match &settings.persist {
        None => Box::new(MemTxnLog::new()),
        Some(p) => {
            let p = p.clone();
            let (log, recovered, core) = tokio::task::spawn_blocking(move || {
                let mut core = pipeline.core;
                core.recover(&p).map(|(log, r)| (log, r, core))
            })
            .await
            .map_err(std::io::Error::other)??;
            pipeline.core = core;
            info!(
                snapshot = ?recovered.snapshot,
                replayed = recovered.replayed,
                zxid = format_args!("0x{:x}", recovered.last_zxid),
                "data recovered"
            );
            Box::new(log)
        }
    };
    if let (Some(p), (retain, hours)) = (&settings.persist, settings.autopurge) {
        if hours > 0 {
            tokio::spawn(autopurge(
                p.clone(),
                retain,
                Duration::from_secs(hours * 3600),
            ));
        }
    }
    let core = pipeline.spawn(log, settings.snap_count);
    // As ZooKeeperServerMain: the metrics provider, then the AdminServer,
    // then clients; either HTTP endpoint failing to bind stops the start.
    let metrics_addr = match &settings.metrics {
        Some(m) => {
            let addr = prometheus::start(m.clone(), core.clone()).await?;
            info!(address = %addr, "serving Prometheus /metrics");
            Some(addr)
        }
        None => None,
    };
    let admin_addr = match &settings.admin {
        Some(a) => {
            let addr = admin_server::start(a.clone(), core.clone()).await?;
            info!(address = %addr, command_url = %a.command_url, "started AdminServer");
            Some(addr)
        }
        None => None,
    };
    let accept = tokio::spawn(net::serve(listener, core, settings.limits.clone()));
    Ok(RunningServer {
        local_addr,
        admin_addr,
        metrics_addr,
        accept,
    })
}

/// Why a configuration cannot be served.
#[derive(Debug)]
pub struct SettingsError(pub String);

impl std::fmt::Display for SettingsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SettingsError {}

impl Settings {
    /// What a parsed zoo.cfg means for this standalone server.
    pub fn from_config(cfg: &crate::config::ServerConfig) -> Result<Settings, SettingsError> {
        use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
        let listen = cfg
            .client_port_address
            .as_ref()
            .ok_or_else(|| SettingsError(format!("{}: no clientPort is configured", cfg.source)))?;
        let client_addr = if listen.is_wildcard() {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), listen.port)
        } else {
            let host = listen.host_or_wildcard();
            (host, listen.port)
                .to_socket_addrs()
                .map_err(|e| SettingsError(format!("clientPortAddress {host}: {e}")))?
                .next()
                .ok_or_else(|| SettingsError(format!("clientPortAddress {host}: no address")))?
        };
        let tick = u64::from(cfg.tick_time_ms.max(1));
        let sysprop_ms = |name: &str, default: i64| -> i64 {
            cfg.system_properties
                .get(name)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(default)
        };
        let core = CoreConfig {
            tick_ms: tick,
            min_session_timeout_ms: cfg.min_session_timeout_ms,
            max_session_timeout_ms: cfg.max_session_timeout_ms,
            extended_types_enabled: cfg.extended_types_enabled,
            auth: crate::acl::AuthConfig {
                skip_acl: cfg.skip_acl,
                super_digest: cfg.super_digest.clone(),
                digest_enabled: cfg.digest_auth_enabled,
            },
            container_max_never_used_ms: sysprop_ms("znode.container.maxNeverUsedIntervalMs", 0),
            container_check_interval_ms: sysprop_ms("znode.container.checkIntervalMs", 60_000)
                .max(1) as u64,
            container_max_per_check: sysprop_ms("znode.container.maxPerMinute", 10_000).max(1)
                as usize,
            digest_enabled: cfg.digest_enabled,
            server_id: 1,
        };
        let limits = ConnLimits {
            max_frame: cfg.jute_max_buffer as usize,
            max_client_cnxns: cfg.max_client_cnxns.max(0) as u32,
        };
        let mut words: Vec<String> = cfg
            .four_letter_words
            .enabled()
            .map(str::to_string)
            .collect();
        if words.is_empty() {
            words.push("srvr".into());
        }
        // `File.getAbsolutePath`: relative to the working directory, not normalised.
        let absolute = |p: &std::path::Path| {
            std::path::absolute(p)
                .unwrap_or_else(|_| p.to_path_buf())
                .display()
                .to_string()
        };
        let data_dir = absolute(&cfg.data_dir);
        let data_log_dir = absolute(&cfg.data_log_dir);
        let mut log = crate::persist::txnlog::FileTxnLogOptions {
            force_sync: cfg.force_sync,
            ..Default::default()
        };
        log.pre_alloc_size = (cfg.pre_alloc_size_kb.max(0) as u64) * 1024;
        log.fsync_warning_threshold =
            std::time::Duration::from_millis(cfg.fsync_warning_threshold_ms.max(0) as u64);
        if cfg.txn_log_size_limit_kb > 0 {
            log.size_limit = Some(cfg.txn_log_size_limit_kb as u64 * 1024);
        }
        let persist = PersistSettings {
            data_dir: cfg.data_dir.clone(),
            data_log_dir: cfg.data_log_dir.clone(),
            log,
            compression: cfg.snapshot_compression,
            trust_empty_snapshot: cfg.snapshot_trust_empty,
            autocreate: cfg.data_dir_autocreate,
            truncate_corrupt_log: false,
        };
        let admin = admin_settings(cfg)?;
        let metrics = cfg.metrics.is_prometheus().then(|| MetricsSettings {
            host: cfg.metrics.http_host.clone(),
            port: cfg.metrics.http_port,
            export_process_info: cfg.metrics.export_jvm_info,
        });
        Ok(Settings {
            admin,
            metrics,
            persist: Some(persist),
            snap_count: cfg.snap_count.max(0) as u64,
            autopurge: (
                cfg.autopurge_snap_retain_count.max(3) as usize,
                cfg.autopurge_purge_interval_hours.max(0) as u64,
            ),
            client_addr,
            core,
            limits,
            info: ServerInfo {
                client_port: client_addr.port(),
                client_address: client_addr.ip().to_string(),
                data_dir,
                data_log_dir,
                max_client_cnxns: cfg.max_client_cnxns.max(0) as u32,
                four_letter_words: words,
                tick_time_ms: tick,
                max_client_cnxns_configured: cfg.max_client_cnxns,
                min_session_timeout_ms: cfg.min_session_timeout_ms,
                max_session_timeout_ms: cfg.max_session_timeout_ms,
                client_port_listen_backlog: cfg.client_port_listen_backlog,
                prometheus: cfg
                    .metrics
                    .is_prometheus()
                    .then_some(cfg.metrics.export_jvm_info),
            },
        })
    }
}

/// The AdminServer as zoo.cfg configures it (`admin.*`, or the
/// `zookeeper.admin.*` flags): on by default, as in ZooKeeper.
fn admin_settings(
    cfg: &crate::config::ServerConfig,
) -> Result<Option<AdminServerSettings>, SettingsError> {
    let a = &cfg.admin;
    if !a.enabled {
        return Ok(None);
    }
    if a.force_https {
        // Serving plain HTTP where HTTPS was demanded would be a downgrade.
        return Err(SettingsError(format!(
            "{}: admin.forceHttps=true: the AdminServer cannot serve HTTPS; \
             set admin.enableServer=false or drop admin.forceHttps",
            cfg.source
        )));
    }
    if a.port_unification {
        warn!("admin.portUnification=true: the AdminServer serves plain HTTP only");
    }
    Ok(Some(AdminServerSettings {
        address: a.address.clone(),
        port: a.port,
        command_url: a.command_url.clone(),
        idle_timeout: Duration::from_millis(a.idle_timeout_ms.max(1) as u64),
        initial_config: Some(cfg.initial_config.clone()),
        system_properties: cfg
            .system_properties
            .iter()
            .map(|(k, p)| (k.to_string(), p.value.clone()))
            .collect(),
    }))
}

/// ZooKeeper's DatadirCleanupManager: every `period` (purgeInterval hours in
/// zoo.cfg), keep the newest `retain` snapshots and the logs they need. Runs
/// until aborted; the first purge is one period after the start.
pub async fn autopurge(p: PersistSettings, retain: usize, period: Duration) {
    let mut every = tokio::time::interval(period);
    every.tick().await;
    loop {
        every.tick().await;
        let p = p.clone();
        let done = tokio::task::spawn_blocking(move || {
            let snap_dir = crate::persist::snapshot::snapshot_dir(&p.data_dir);
            let log_dir = crate::persist::txnlog::version2_dir(&p.data_log_dir);
            let snaps = crate::persist::valid_snapshots_newest_first(&snap_dir)?;
            crate::persist::purge::purge(&log_dir, &snap_dir, &snaps, retain)
        })
        .await;
        match done {
            Ok(Ok(purged)) => info!(
                snapshots = purged.snapshots.len(),
                logs = purged.logs.len(),
                "autopurge done"
            ),
            Ok(Err(e)) => warn!(error = %e, "autopurge failed"),
            Err(e) => warn!(error = %e, "autopurge task failed"),
        }
    }
}
