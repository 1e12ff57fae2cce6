//! The request pipeline: prep → sync → final.
//!
//! - [`request`]: a client request, decoded once by its connection.
//! - `prep.rs`: validation, ACL checks, zxid assignment; a write becomes a txn.
//! - `sync.rs`: txns are appended to the [`crate::persist::TxnLog`] and
//!   committed in groups before anything is answered.
//! - `final_stage.rs`, `reads.rs`: txns are applied to the
//!   [`crate::database::ZkDatabase`] in zxid order, watches fire, replies go
//!   out in request order.
//!
//! `core.rs` is the task that owns the state and drives prep and final.

mod admin_json;
mod admin_quorum;
mod admin_view;
mod changes;
mod core;
mod enforce_auth;
pub mod ensemble;
mod final_stage;
mod metrics;
mod mntr;
mod prep;
#[cfg(test)]
mod quorum_admin_tests;
pub mod quorum_status;
mod reads;
mod recovery;
pub mod request;
pub mod snapshot_job;
mod stats;
mod sync;
mod sync_reports;

pub use self::core::{
    AdminQuery, AdminRequest, ConnId, ConnectMsg, Core, CoreConfig, CoreExit, CoreMsg, Drained,
};
pub use self::mntr::{FlatValue, MetricsView, SummaryView, Value as MetricValue};
pub use quorum_status::QuorumStatus;
pub use recovery::{PersistSettings, Recovered};
pub use request::ClientOp;
pub use sync::{StorageOp, SyncCmd, SyncPaths, SyncStage};
pub use sync_reports::SyncReports;

use tokio::sync::mpsc;

use crate::persist::TxnLog;

/// Static facts about this server that admin commands report.
#[derive(Debug, Clone, Default)]
pub struct ServerInfo {
    pub client_port: u16,
    pub client_address: String,
    /// dataDir and dataLogDir, absolute; ZooKeeper keeps its files in their
    /// `version-2` subdirectories, which is what `conf` and `dirs` report.
    pub data_dir: String,
    pub data_log_dir: String,
    pub max_client_cnxns: u32,
    pub four_letter_words: Vec<String>,
    /// `conf`: tickTime, maxClientCnxns (as configured), the negotiated
    /// session timeout bounds and clientPortListenBacklog.
    pub tick_time_ms: u64,
    pub max_client_cnxns_configured: i32,
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub client_port_listen_backlog: i32,
    /// What the connection limits and throttles did (`mntr`'s
    /// connection_rejected, sessionless_connections_expired, ...).
    pub load: std::sync::Arc<crate::net::ServerLoad>,
    /// `Some(exportJvmInfo)` when the Prometheus metrics provider is
    /// configured: `mntr`/`monitor` then list its samples, as ZooKeeper's
    /// `PrometheusMetricsProvider.dump` does, and `srst` leaves its
    /// counters and summaries alone (`resetAllValues` is not supported there).
    pub prometheus: Option<bool>,
}

/// Capacity of the queue from connections to the core. Bounded so a flood of
/// requests slows readers down instead of growing memory without limit.
pub const CORE_QUEUE: usize = 16 * 1024;

/// The sync stage's half of the pipeline, made before the core so that
/// recovery can fill the core before anything runs.
pub struct Pipeline {
    pub core: Core,
    core_tx: mpsc::Sender<CoreMsg>,
    core_rx: mpsc::Receiver<CoreMsg>,
    sync_rx: std::sync::mpsc::Receiver<sync::SyncCmd>,
}

impl Pipeline {
    pub fn new(cfg: CoreConfig, info: ServerInfo) -> Pipeline {
        let (core_tx, core_rx) = mpsc::channel(CORE_QUEUE);
        let (sync_tx, sync_rx) = std::sync::mpsc::channel();
        Pipeline {
            core: Core::new(cfg, info, sync_tx),
            core_tx,
            core_rx,
            sync_rx,
        }
    }

    /// A sender into the core's inbox (for the ensemble's sockets).
    pub fn core_sender(&self) -> mpsc::Sender<CoreMsg> {
        self.core_tx.clone()
    }

    /// Starts the core task and the sync stage's thread and keeps hold of
    /// them, for a server that must know when they end (shutdown, a failed
    /// txn log). `snap_count` is ZooKeeper's snapCount (0: never snapshot);
    /// `paths` is where the sync stage writes snapshots and epoch files for
    /// an ensemble member (`None`: nothing but the log is persisted).
    /// Fails only if the sync thread cannot be started.
    pub fn start(
        self,
        log: Box<dyn TxnLog>,
        snap_count: u64,
        paths: Option<SyncPaths>,
    ) -> std::io::Result<PipelineTasks> {
        let Pipeline {
            core,
            core_tx,
            core_rx,
            sync_rx,
        } = self;
        let sync = SyncStage::spawn(log, sync_rx, core.sync_reports(), snap_count, paths)?;
        let core = tokio::spawn(core.run(core_rx, core_tx.clone()));
        Ok(PipelineTasks {
            core_tx,
            core,
            sync,
        })
    }
}

/// A running pipeline. The sync stage ends (closing the txn log) once the
/// core task has ended and dropped its side of the channel between them.
pub struct PipelineTasks {
    pub core_tx: mpsc::Sender<CoreMsg>,
    pub core: tokio::task::JoinHandle<CoreExit>,
    pub sync: SyncStage,
}
