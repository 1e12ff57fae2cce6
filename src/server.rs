//! Putting the parts together: bind the client port, start the pipeline,
//! accept connections. Tests start servers the same way, on port 0.

use std::net::SocketAddr;

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::admin::prometheus::{self, MetricsSettings};
use crate::admin::server::{self as admin_server, AdminServerSettings};
use crate::net::{self, ConnLimits, Listener, ServerLoad};
use crate::persist::{MemTxnLog, TxnLog};
use crate::pipeline::{
    CoreConfig, CoreExit, CoreMsg, PersistSettings, Pipeline, PipelineTasks, ServerInfo, SyncPaths,
};
use tokio_util::sync::CancellationToken;
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
    /// zoo.cfg describes an ensemble (server.N lines). Java then starts
    /// through `QuorumPeer`, which only warns when the AdminServer cannot
    /// start; its standalone path exits 4.
    pub quorum_configured: bool,
    /// This server's part in its ensemble; `None` standalone.
    pub member: Option<crate::quorum::settings::MemberSettings>,
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
            quorum_configured: false,
            member: None,
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
                load: Default::default(),
                prometheus: None,
            },
        }
    }
}

/// A started server.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    /// Cancelled when the server begins to shut down. Every accept loop
    /// (the client port; an AdminServer or metrics endpoint started beside
    /// it) stops on it — take a `child_token()` for a new one.
    pub shutdown: CancellationToken,
    /// Requests in process and what the connection limits did.
    pub load: std::sync::Arc<ServerLoad>,
    /// Where the AdminServer listens, when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// Where Prometheus `/metrics` is served, when configured.
    pub metrics_addr: Option<SocketAddr>,
    accept: JoinHandle<()>,
    purge: Option<JoinHandle<()>>,
    pipeline: PipelineTasks,
}

/// What a graceful shutdown found.
#[derive(Debug)]
pub struct ShutdownReport {
    /// Last zxid applied, durable in the txn log.
    pub last_zxid: i64,
    /// Sessions left open for the restarted server (their clients reconnect).
    pub sessions: usize,
    /// Client connections closed.
    pub connections: usize,
    /// Connections whose last replies were not flushed within the bound.
    pub unflushed: usize,
}

/// How long a shutdown waits for connection writers to hand their last
/// replies to the kernel. Every such write is already durable: this only
/// spares clients a ConnectionLoss for a reply that was on its way.
const FLUSH_BOUND: Duration = Duration::from_secs(2);

impl RunningServer {
    /// Stops accepting new connections.
    pub fn stop_accepting(&self) {
        self.shutdown.cancel();
    }

    /// Resolves if the server stops by itself: the core task ended because
    /// the txn log failed (or its inbox closed). A graceful stop is
    /// [`Self::shutdown`].
    pub async fn stopped(&mut self) -> CoreExit {
        match (&mut self.pipeline.core).await {
            Ok(exit) => exit,
            Err(e) => CoreExit::LogFailed(format!("core task failed: {e}")),
        }
    }

    /// Graceful shutdown, in ZooKeeper's order (`ZooKeeperServerMain.shutdown`:
    /// stop the connection factory, then `ZooKeeperServer.shutdown`): stop
    /// accepting; let every request already in the pipeline be logged,
    /// fsynced, applied and answered; close client connections; end the sync
    /// task, which closes the txn log. Sessions stay open for the restart.
    pub async fn shutdown(self) -> Result<ShutdownReport, String> {
        let RunningServer {
            shutdown,
            accept,
            purge,
            pipeline,
            ..
        } = self;
        shutdown.cancel();
        let _ = accept.await;
        if let Some(p) = purge {
            p.abort();
        }
        let PipelineTasks {
            core_tx,
            core,
            sync,
        } = pipeline;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let asked = core_tx.send(CoreMsg::Shutdown(tx)).await.is_ok();
        drop(core_tx);
        let drained = if asked { rx.await.ok() } else { None };
        let exit = core
            .await
            .map_err(|e| format!("core task failed during shutdown: {e}"))?;
        sync.join()
            .await
            .map_err(|e| format!("sync stage failed during shutdown: {e}"))?;
        let Some(drained) = drained else {
            return Err(format!(
                "the core had stopped before the shutdown: {exit:?}"
            ));
        };
        let unflushed = flush_bounded(&drained.outboxes, FLUSH_BOUND).await;
        Ok(ShutdownReport {
            last_zxid: drained.last_zxid,
            sessions: drained.sessions,
            connections: drained.outboxes.len(),
            unflushed,
        })
    }
}

/// Waits until every outbox's queued bytes were taken by its writer, up to
/// `bound`; returns how many still held bytes. Writers run on other tasks and
/// report nothing back, so this polls, briefly, once, at shutdown.
async fn flush_bounded(outboxes: &[std::sync::Arc<crate::net::Outbox>], bound: Duration) -> usize {
    let until = tokio::time::Instant::now() + bound;
    loop {
        let left = outboxes.iter().filter(|o| o.queued_bytes() > 0).count();
        if left == 0 || tokio::time::Instant::now() >= until {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Why a server could not start; [`crate::lifecycle::ExitStatus`] maps
/// each to ZooKeeper's exit code.
#[derive(Debug)]
pub enum StartError {
    /// The client port could not be bound (in use, no permission).
    Bind(std::io::Error),
    /// dataDir / dataLogDir missing (autocreate off) or not accessible.
    DataDir(std::io::Error),
    /// Recovery failed: damaged files and the like.
    Recovery(std::io::Error),
    /// The AdminServer could not bind (ZooKeeper exits with 4 for it).
    Admin(std::io::Error),
    /// The Prometheus metrics endpoint could not bind.
    Metrics(std::io::Error),
    /// A thread of the server (the sync stage's) could not be started.
    Threads(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(e) => write!(f, "{e}"),
            StartError::DataDir(e) => write!(f, "unable to access datadir: {e}"),
            StartError::Recovery(e) => write!(f, "cannot load the data: {e}"),
            StartError::Admin(e) | StartError::Metrics(e) => write!(f, "{e}"),
            StartError::Threads(e) => write!(f, "cannot start a server thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

impl From<StartError> for std::io::Error {
    fn from(e: StartError) -> std::io::Error {
        match e {
            StartError::Bind(e)
            | StartError::DataDir(e)
            | StartError::Recovery(e)
            | StartError::Admin(e)
            | StartError::Metrics(e)
            | StartError::Threads(e) => e,
        }
    }
}

/// Binds and starts everything; returns once the port accepts connections.
/// With persistence configured, the data directory is recovered first.
pub async fn start(settings: Settings) -> std::io::Result<RunningServer> {
    start_server(settings).await.map_err(Into::into)
}

/// [`start`], saying which part failed.
pub async fn start_server(settings: Settings) -> Result<RunningServer, StartError> {
    // AuthenticationHelper's start-up lines.
    let enforced = &settings.core.auth.enforce_schemes;
    info!("zookeeper.enforce.auth.enabled = {}", !enforced.is_empty());
    info!("zookeeper.enforce.auth.schemes = [{}]", enforced.join(", "));
    let listener = Listener::bind(settings.client_addr)
        .await
        .map_err(StartError::Bind)?;
    let local_addr = listener.local_addr().map_err(StartError::Bind)?;
    let limits = settings.limits.clone();
    let load = std::sync::Arc::new(
        ServerLoad::new(
            limits.global_outstanding_limit,
            limits.request_throttle.clone(),
        )
        .with_large_requests(limits.large_requests),
    );
    let mut info = settings.info.clone();
    info.client_port = local_addr.port();
    info.load = load.clone();
    let mut pipeline = Pipeline::new(settings.core.clone(), info);
    let log: Box<dyn TxnLog> = match &settings.persist {
        None => Box::new(MemTxnLog::new()),
        Some(p) => {
            let p = p.clone();
            let as_member = settings.member.is_some();
            let (log, recovered, core) = tokio::task::spawn_blocking(move || {
                let mut core = pipeline.core;
                let recovered = if as_member {
                    core.recover_as_member(&p)
                } else {
                    core.recover(&p)
                };
                recovered.map(|(log, r)| (log, r, core))
            })
            .await
            .map_err(|e| StartError::Recovery(std::io::Error::other(e)))?
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    StartError::DataDir(e)
                }
                _ => StartError::Recovery(e),
            })?;
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
    let mut purge = None;
    if let (Some(p), (retain, hours)) = (&settings.persist, settings.autopurge) {
        if hours > 0 {
            purge = Some(tokio::spawn(autopurge(
                p.clone(),
                retain,
                Duration::from_secs(hours * 3600),
            )));
        }
    }
    let shutdown = CancellationToken::new();
    if let Some(m) = &settings.member {
        join_ensemble(m, &settings, &mut pipeline, shutdown.child_token()).await?;
    }
    let sync_paths = settings
        .persist
        .as_ref()
        .map(|p| SyncPaths::for_data_dir(&p.data_dir, p.compression));
    let pipeline = pipeline
        .start(log, settings.snap_count, sync_paths)
        .map_err(StartError::Threads)?;
    // As ZooKeeperServerMain: the metrics provider, then the AdminServer,
    // then clients; either HTTP endpoint failing to bind stops the start.
    let metrics_addr = match &settings.metrics {
        Some(m) => {
            let addr =
                prometheus::start(m.clone(), pipeline.core_tx.clone(), shutdown.child_token())
                    .await
                    .map_err(StartError::Metrics)?;
            info!(address = %addr, "serving Prometheus /metrics");
            Some(addr)
        }
        None => None,
    };
    let admin_addr = match &settings.admin {
        Some(a) => {
            let started =
                admin_server::start(a.clone(), pipeline.core_tx.clone(), shutdown.child_token())
                    .await;
            match started {
                Ok(addr) => {
                    info!(address = %addr, command_url = %a.command_url, "started AdminServer");
                    Some(addr)
                }
                // QuorumPeer.start: `LOG.warn("Problem starting AdminServer", e)`,
                // then leader election and clients as usual.
                Err(e) if settings.quorum_configured => {
                    warn!("{e}; serving without it, as ZooKeeper does with server.N entries");
                    None
                }
                Err(e) => return Err(StartError::Admin(e)),
            }
        }
        None => None,
    };
    let serve = net::serve(listener, pipeline.core_tx.clone(), limits, load.clone());
    let stop = shutdown.clone();
    // Dropping the accept loop drops the listener: the port closes at once.
    let accept = tokio::spawn(async move {
        tokio::select! {
            _ = serve => {}
            _ = stop.cancelled() => {}
        }
    });
    Ok(RunningServer {
        local_addr,
        shutdown,
        load,
        admin_addr,
        metrics_addr,
        accept,
        purge,
        pipeline,
    })
}

/// Makes the core an ensemble member: its epochs and recovered log seed
/// the ZAB machine, and the election and quorum ports start.
async fn join_ensemble(
    m: &crate::quorum::settings::MemberSettings,
    settings: &Settings,
    pipeline: &mut Pipeline,
    shutdown: CancellationToken,
) -> Result<(), StartError> {
    let db = pipeline.core.database();
    let last_zxid = db.last_processed_zxid();
    let (accepted, current) = match &settings.persist {
        Some(p) => {
            let snap_dir = crate::persist::snapshot::snapshot_dir(&p.data_dir);
            let (epochs, _repairs) = crate::persist::epoch::EpochFiles::load(&snap_dir, last_zxid)
                .map_err(|e| StartError::Recovery(std::io::Error::other(e.to_string())))?;
            (epochs.accepted(), epochs.current())
        }
        None => {
            let e = last_zxid >> 32;
            (e, e)
        }
    };
    // The machine's view of the log: the txns replayed after the snapshot
    // (the committed window holds their bytes), or nothing past it.
    let window: Vec<crate::zab::Txn> = db
        .committed()
        .iter()
        .map(|p| crate::zab::Txn {
            zxid: crate::zab::Zxid(p.zxid),
            data: p.bytes.clone(),
        })
        .collect();
    let base = window.first().map_or(last_zxid, |t| t.zxid.0 - 1);
    let restored = crate::zab::Restored {
        accepted_epoch: accepted,
        current_epoch: current,
        snapshot_zxid: crate::zab::Zxid(base),
        log: window,
    };
    info!(
        myid = m.my_sid,
        voters = m.voter_ids().len(),
        observers = m.observers.len(),
        zxid = format_args!("0x{last_zxid:x}"),
        accepted_epoch = accepted,
        current_epoch = current,
        "joining the ensemble"
    );
    // Host names resolve now, not when zoo.cfg was read: a member may start
    // before its peers' names exist (containers started together). Like
    // Java, it keeps trying; after a minute it gives up.
    let mut m = m.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        match m.resolve() {
            Ok(()) => break,
            Err(e) if std::time::Instant::now() < deadline => {
                warn!("{e}; trying again in 1 s");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => {
                return Err(StartError::Bind(std::io::Error::other(format!(
                    "{e}; gave up after 60 s"
                ))))
            }
        }
    }
    let m = &m;
    let node = crate::zab::Node::new(m.zab_config(), restored);
    let io = crate::quorum::member_io::start(m, pipeline.core_sender(), shutdown)
        .await
        .map_err(StartError::Bind)?;
    let view = crate::pipeline::ensemble::MemberView {
        my_id: m.my_sid,
        config: m.quorum.clone(),
        init_limit: u32::try_from(m.init_limit).unwrap_or(u32::MAX),
        sync_limit: u32::try_from(m.sync_limit).unwrap_or(u32::MAX),
        quorum_addrs: m.members.iter().map(|(sid, a)| (*sid, a.quorum)).collect(),
    };
    let to_core = pipeline.core_sender();
    pipeline.core.set_ensemble(txnlog_sync(
        crate::pipeline::ensemble::Ensemble::new(node, Box::new(io), view),
        m,
        settings,
        to_core,
    ));
    Ok(())
}

/// A leader syncs learners older than its committed window from its own
/// txn log (when it has one on disk).
fn txnlog_sync(
    e: crate::pipeline::ensemble::Ensemble,
    m: &crate::quorum::settings::MemberSettings,
    settings: &Settings,
    to_core: tokio::sync::mpsc::Sender<crate::pipeline::CoreMsg>,
) -> crate::pipeline::ensemble::Ensemble {
    match &settings.persist {
        Some(p) => e.with_txnlog_sync(
            crate::pipeline::ensemble::TxnLogSync {
                log_dir: crate::persist::txnlog::version2_dir(&p.data_log_dir),
                snap_dir: crate::persist::snapshot::snapshot_dir(&p.data_dir),
                snapshot_size_factor: m.snapshot_size_factor,
            },
            to_core,
        ),
        None => e,
    }
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
        let member =
            crate::quorum::settings::MemberSettings::from_config(cfg).map_err(SettingsError)?;
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
                enforce_schemes: cfg.enforce_auth_schemes.clone(),
            },
            container_max_never_used_ms: sysprop_ms("znode.container.maxNeverUsedIntervalMs", 0),
            container_check_interval_ms: sysprop_ms("znode.container.checkIntervalMs", 60_000)
                .max(1) as u64,
            container_max_per_check: sysprop_ms("znode.container.maxPerMinute", 10_000).max(1)
                as usize,
            digest_enabled: cfg.digest_enabled,
            server_id: member
                .as_ref()
                .map_or(1, |m| u8::try_from(m.my_sid).unwrap_or(u8::MAX)),
            // The config already raises values below ZooKeeper's minimum.
            commit_log_count: usize::try_from(cfg.commit_log_count).unwrap_or(500),
        };
        let limits = ConnLimits::from_config(cfg);
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
        refuse_unenforced_security_keys(cfg)?;
        let admin = admin_settings(cfg)?;
        let metrics = cfg.metrics.is_prometheus().then(|| MetricsSettings {
            host: cfg.metrics.http_host.clone(),
            port: cfg.metrics.http_port,
            export_process_info: cfg.metrics.export_jvm_info,
        });
        Ok(Settings {
            admin,
            metrics,
            quorum_configured: cfg.is_quorum(),
            member,
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
                load: Default::default(),
                prometheus: cfg
                    .metrics
                    .is_prometheus()
                    .then_some(cfg.metrics.export_jvm_info),
            },
        })
    }
}

/// Keys that make ZooKeeper stricter (or keep a security record) and that
/// FerroKeeper cannot honour yet: accepting them and serving anyway would
/// quietly weaken the server, so the start is refused (exit 2) naming the
/// key. `enforceQuota` (hard quotas reject writes), a digest algorithm other
/// than SHA-1 (`DigestAuthenticationProvider.digestAlg`: ids and the super
/// digest would be computed differently), `audit.enable` (the audit log).
fn refuse_unenforced_security_keys(cfg: &crate::config::ServerConfig) -> Result<(), SettingsError> {
    let props = &cfg.system_properties;
    let refuse = |name: &str, why: &str| {
        let (at, key) = match props.property(name) {
            Some(p) => (p.origin.location().to_string(), p.spelled(name)),
            None => (cfg.source.clone(), name.to_owned()),
        };
        Err(SettingsError(format!("{at}: {key}: {why}")))
    };
    let is_true = |name: &str| {
        props
            .get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    if cfg.enforce_quota {
        return refuse(
            "zookeeper.enforceQuota",
            "is true, but FerroKeeper does not enforce quotas yet; drop it (quotas are then \
             only reported, as with enforceQuota=false)",
        );
    }
    let alg = "zookeeper.DigestAuthenticationProvider.digestAlg";
    if let Some(v) = props.get(alg) {
        // MessageDigest names for SHA-1, matched without case as the JDK does.
        if !["SHA1", "SHA-1", "SHA"]
            .iter()
            .any(|n| v.eq_ignore_ascii_case(n))
        {
            return refuse(
                alg,
                &format!("{v:?}: FerroKeeper computes digest ids with SHA-1 only"),
            );
        }
    }
    if is_true("zookeeper.audit.enable") {
        return refuse(
            "zookeeper.audit.enable",
            "is true, but FerroKeeper writes no audit log yet",
        );
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ServerConfig, SystemProperties};

    fn resolve(text: &str, jvm: &str) -> Result<Settings, String> {
        let props = SystemProperties::from_vars([("SERVER_JVMFLAGS", jvm)]);
        let cfg = ServerConfig::from_str_with(text, "zoo.cfg", props).map_err(|e| e.to_string())?;
        Settings::from_config(&cfg).map_err(|e| e.to_string())
    }

    /// Keys that would make Java stricter are refused, not ignored.
    #[test]
    fn unenforced_security_keys_refuse_the_start() {
        let base = "dataDir=/d\nclientPort=2181\n";
        assert!(resolve(base, "").is_ok());
        let e = resolve(&format!("{base}enforceQuota=true\n"), "").unwrap_err();
        assert!(e.starts_with("zoo.cfg:3: enforceQuota:"), "{e}");
        assert!(resolve(&format!("{base}enforceQuota=false\n"), "").is_ok());
        let alg = "-Dzookeeper.DigestAuthenticationProvider.digestAlg";
        let e = resolve(base, &format!("{alg}=SHA-256")).unwrap_err();
        assert!(e.contains(alg) && e.contains("SHA-256"), "{e}");
        assert!(resolve(base, &format!("{alg}=sha-1")).is_ok());
        let e = resolve(base, "-Dzookeeper.audit.enable=true").unwrap_err();
        assert!(e.contains("-Dzookeeper.audit.enable"), "{e}");
    }
}
