//! The core task: owns the database ([`ZkDatabase`]: tree, ACL cache,
//! session table), the session tracker and watches, and runs prep and final
//! for every request in arrival order.
//!
//! One task owns all of it, so applying and reading need no locks. Alone,
//! the order ZooKeeper's standalone pipeline gives — every request handled
//! in the order it arrived, reads waiting behind earlier writes — falls out
//! of a single FIFO. A member orders replies per connection instead, as
//! ZooKeeper's CommitProcessor does per session (`ensemble/replies.rs`).
//! Sync runs on its own thread (see `sync.rs`); the core hands it each
//! pass's txns as one batch and applies them when they come back durable.

use std::collections::VecDeque;

// foldhash (hashbrown's default): much cheaper than SipHash on path keys,
// and still seeded per process against crafted collisions.
use hashbrown::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use jute::consts::{ErrorCode, OpCode};
use jute::data::Id;
use jute::proto::{ConnectRequest, ReplyHeader};
use jute::txn::{DeleteTxn, ErrorTxn, TxnDigest, TxnHeader};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use super::changes::OutstandingChanges;
use super::metrics::{Metrics, SyncReport};
use super::prep::Requester;
use super::request::ClientOp;
use super::stats::{ConnStats, ServerStats};
use crate::admin::java_fmt::{java_socket_addr, JavaSocketAddr};
use crate::database::{ApplyObserver, ApplyOutcome, TreeEvent, ZkDatabase};
use crate::net::Outbox;
use crate::session::{
    session_password, OwnerCheck, SessionId, SessionOwner, SessionTracker, TouchOutcome,
};
use crate::txn::{LoggedTxn, TxnBody};
use crate::watch::WatchManager;

/// Identifies one client connection for the life of the server.
pub type ConnId = u64;

/// Settings the core acts on, resolved from zoo.cfg.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    pub tick_ms: u64,
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub extended_types_enabled: bool,
    /// skipACL, superDigest and the enabled auth providers.
    pub auth: crate::acl::AuthConfig,
    /// `znode.container.maxNeverUsedIntervalMs`: 0 keeps never-used containers.
    pub container_max_never_used_ms: i64,
    /// `zookeeper.digest.enabled`: keep the tree digest and write it into
    /// snapshots.
    pub digest_enabled: bool,
    /// How often containers and TTL nodes are checked for removal.
    pub container_check_interval_ms: u64,
    /// Most container/TTL deletions issued per check.
    pub container_max_per_check: usize,
    /// Server id that goes into the top byte of session ids (1 standalone).
    pub server_id: u8,
    /// `zookeeper.commitLogCount`: committed proposals kept for syncing
    /// learners (see [`crate::persist::CommittedLog`]).
    pub commit_log_count: usize,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            tick_ms: 3000,
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 60000,
            extended_types_enabled: false,
            auth: crate::acl::AuthConfig::default(),
            container_max_never_used_ms: 0,
            digest_enabled: true,
            container_check_interval_ms: 60_000,
            container_max_per_check: 10_000,
            server_id: 1,
            commit_log_count: 500,
        }
    }
}

/// A new connection's handshake, sent once its ConnectRequest is decoded.
pub struct ConnectMsg {
    pub conn: ConnId,
    pub out: Arc<Outbox>,
    pub addr: SocketAddr,
    pub req: ConnectRequest,
    /// Whether the client sent the trailing readOnly flag (newer clients).
    pub sent_read_only: bool,
    /// Bytes the request took on the wire, length prefix included.
    pub size: usize,
    /// When the connection read it.
    pub received: Instant,
    /// Resolved when the session is established (true) or refused (false).
    pub established: oneshot::Sender<bool>,
}

/// Everything the core task reacts to.
pub enum CoreMsg {
    Connect(Box<ConnectMsg>),
    Request {
        conn: ConnId,
        xid: i32,
        op: ClientOp,
        /// Bytes the request took on the wire, length prefix included.
        size: usize,
        /// When the connection read it: latencies count from here.
        received: Instant,
    },
    Closed {
        conn: ConnId,
        /// The client went away (EOF or a read error) rather than the
        /// server closing the connection (`connection_drop_count`).
        dropped: bool,
    },
    /// A four-letter word; the reply is the text to send.
    Admin(AdminRequest),
    /// An AdminServer command or a Prometheus scrape (HTTP, `admin/`).
    AdminQuery(AdminQuery),
    /// From sync: these txns are durable, in zxid order.
    Durable(Vec<LoggedTxn>, SyncReport),
    /// From sync: every ensemble persistence command (`SyncCmd::Zab`) with
    /// an id up to `through` is done (for `zab::Node::persisted`).
    Persisted {
        through: u64,
        report: SyncReport,
    },
    LogFailed(String),
    /// From sync: snapCount txns were logged and the log rolled; take a
    /// snapshot now.
    TakeSnapshot,
    /// From the snapshot writer thread.
    SnapshotDone {
        zxid: i64,
        result: Result<std::path::PathBuf, String>,
    },
    /// From the ensemble's sockets (election and quorum ports).
    Member(super::ensemble::MemberEvent),
    /// Stop for a restart: see [`Core::begin_shutdown`]. The reply is sent
    /// once every txn handed to sync is durable, applied and answered.
    Shutdown(oneshot::Sender<Drained>),
}

/// What the core hands back when it has drained for a shutdown.
pub struct Drained {
    /// The last applied (and durable) zxid.
    pub last_zxid: i64,
    /// Sessions left open: they survive the restart, as in ZooKeeper.
    pub sessions: usize,
    /// The outboxes of the connections the core closed; the caller may
    /// wait for their writers to flush the last replies.
    pub outboxes: Vec<Arc<Outbox>>,
}

/// Why the core task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreExit {
    /// A [`CoreMsg::Shutdown`] was served.
    Shutdown,
    /// The txn log failed: nothing further could be acknowledged.
    LogFailed(String),
    /// Every sender of the inbox went away.
    InboxClosed,
}

/// A four-letter word and the connection that sent it.
pub struct AdminRequest {
    pub cmd: &'static str,
    /// The asking connection's peer; it shows in `cons`, `stat`, `srvr`.
    pub peer: SocketAddr,
    /// `stmk`: the trace mask that followed the word, if all 8 bytes had
    /// arrived with it.
    pub trace_mask: Option<i64>,
    pub reply: oneshot::Sender<String>,
}

/// What the HTTP side (`crate::admin`) asks the core: the same state the
/// four-letter words read, so every view of a number agrees.
pub enum AdminQuery {
    /// An AdminServer command by primary name, with the request's
    /// parameters; the reply is the command's data (`admin_json.rs`).
    Command {
        cmd: &'static str,
        args: Vec<(String, String)>,
        reply: oneshot::Sender<serde_json::Map<String, serde_json::Value>>,
    },
    /// Every metric, for `/metrics`.
    Metrics {
        reply: oneshot::Sender<super::mntr::MetricsView>,
    },
}

pub(super) struct Conn {
    pub out: Arc<Outbox>,
    pub addr: SocketAddr,
    pub session: SessionId,
    pub auth: Vec<Id>,
    pub sent_read_only: bool,
    pub timeout_ms: i32,
    pub stats: ConnStats,
}

/// Who is waiting for a txn's result.
pub(super) enum Origin {
    Client {
        conn: ConnId,
        xid: i32,
        op: i32,
        /// When the request arrived, for latency statistics.
        at: Instant,
    },
    Connect {
        conn: ConnId,
        established: oneshot::Sender<bool>,
        /// When the ConnectRequest was read (None for a revalidation).
        at: Option<Instant>,
    },
    /// Session expiry, container and TTL cleanup: nobody to answer.
    Internal,
}

/// One request between prep and final, in arrival order.
pub(super) enum Pending {
    Txn {
        zxid: i64,
        origin: Origin,
    },
    Read {
        conn: ConnId,
        xid: i32,
        op: ClientOp,
        at: Instant,
    },
    /// Follower: a write (or a new session) forwarded to the leader, matched
    /// to its committed txn by session and cxid; `done` holds the applied
    /// result until the requests before it are answered.
    Forwarded {
        session: SessionId,
        cxid: i32,
        origin: Origin,
        done: Option<Box<AppliedTxn>>,
    },
    /// Member: a txn of this server's client, committed and applied, whose
    /// reply waits for the connection's earlier requests.
    Applied {
        origin: Origin,
        done: Box<AppliedTxn>,
    },
    /// Follower: a reconnect waiting for the leader's answer to REVALIDATE.
    Revalidating {
        session: SessionId,
        conn: ConnId,
        origin: Origin,
        valid: Option<bool>,
    },
    /// Follower: a sync forwarded to the leader, answered once the leader's
    /// SYNC came back (they come back in order) and `after`, the last txn
    /// committed before it, is applied here.
    ForwardedSync {
        conn: ConnId,
        xid: i32,
        op: ClientOp,
        at: Instant,
        after: Option<i64>,
    },
    /// Answered with just a header (`zxid` -1 when ZooKeeper sends -1).
    Error {
        conn: ConnId,
        xid: i32,
        err: ErrorCode,
        zxid: Option<i64>,
    },
}

/// A txn applied for a request whose reply waits its turn: the reply
/// carries the zxid the database had just after it, as ZooKeeper's final
/// processor sends.
pub(super) struct AppliedTxn {
    pub txn: LoggedTxn,
    pub outcome: ApplyOutcome,
    pub zxid: i64,
}

pub struct Core {
    pub(super) cfg: CoreConfig,
    pub(super) db: ZkDatabase,
    pub(super) watches: WatchManager,
    pub(super) sessions: SessionTracker,
    pub(super) changes: OutstandingChanges,
    pub(super) conns: HashMap<ConnId, Conn>,
    pub(super) session_conns: HashMap<SessionId, ConnId>,
    pub(super) last_assigned_zxid: i64,
    /// Standalone: every request in arrival order (see the module doc).
    pub(super) fifo: VecDeque<Pending>,
    /// Member: each connection's requests in its own order.
    pub(super) replies: super::ensemble::replies::ReplyQueues,
    /// See [`PassClock`].
    pub(super) clock: PassClock,
    pub(super) durable: VecDeque<LoggedTxn>,
    pub(super) to_sync: Vec<LoggedTxn>,
    pub(super) sync_tx: super::sync::SyncSender,
    /// Where the sync stage leaves its reports (ahead of the inbox).
    pub(super) sync_reports: Arc<super::sync_reports::SyncReports>,
    pub(super) started: Instant,
    pub(super) stats: ServerStats,
    pub(super) next_container_check_ms: u64,
    pub(super) info: super::ServerInfo,
    /// The snapshot being written, if any.
    pub(super) snapshot: Option<super::snapshot_job::SnapshotJob>,
    /// Opens snapshot files; `None` when nothing is persisted.
    pub(super) snapshot_sink: Option<super::snapshot_job::SinkFactory>,
    /// When the snapshot being written was started (`snapshottime`).
    pub(super) snapshot_started: Option<Instant>,
    /// The core's own inbox, for the snapshot writer to report back.
    pub(super) self_tx: Option<mpsc::Sender<CoreMsg>>,
    /// Counters and summaries of `mntr` beyond [`ServerStats`].
    pub(super) metrics: Metrics,
    /// ZooKeeper's text trace mask (`gtmk`, `stmk`): kept and reported; no
    /// FerroKeeper log depends on it.
    pub(super) trace_mask: i64,
    /// Set by [`CoreMsg::Shutdown`]: who waits for the drain to finish.
    pub(super) draining: Option<oneshot::Sender<Drained>>,
    /// Why the loop must end, once set.
    pub(super) exit: Option<CoreExit>,
    /// The newest snapshot written or loaded: (zxid, file), for the
    /// AdminServer's `last_snapshot`.
    pub(super) last_snapshot: Option<(i64, std::path::PathBuf)>,
    /// Passes of the loop so far: lets tests see that an idle core waits.
    pub(super) passes: u64,
    /// Set when this server is an ensemble member (`server.N` lines).
    pub(super) ensemble: Option<Box<super::ensemble::Ensemble>>,
    /// What this ensemble member reports about the ensemble (`srvr`'s
    /// Mode, `mntr`'s quorum keys, `leader`, `voting_view`, ...); `None`
    /// on a standalone server. Set by the member runner.
    pub(super) quorum: Option<super::quorum_status::QuorumStatus>,
}

/// What the core does when the database changes: the session tracker's
/// expiry buckets follow the session table, writes feed the per-namespace
/// statistics, digest mismatches are counted.
pub(super) struct CoreObserver<'a> {
    pub metrics: &'a mut Metrics,
    pub sessions: &'a mut SessionTracker,
    /// The core's clock (ms since start) for new sessions' expiry.
    pub now_ms: u64,
    /// Whether any watch exists (events then carry the ACLs that filter
    /// their notifications).
    pub watching: bool,
}

impl ApplyObserver for CoreObserver<'_> {
    fn wants_event_acls(&self) -> bool {
        self.watching
    }

    fn wrote(&mut self, path: &str, bytes: usize) {
        self.metrics.write_stat(path, bytes);
    }

    /// A restart gives each session its whole timeout from now, as in
    /// ZooKeeper.
    fn session_created(&mut self, id: i64, timeout_ms: i32) {
        if !self.sessions.contains(id) {
            self.sessions.add(id, timeout_ms, self.now_ms);
        }
    }

    fn session_closed(&mut self, id: i64) {
        self.sessions.remove(id);
    }

    fn digest_mismatch(&mut self) {
        self.metrics.digest_mismatches_count += 1;
    }
}

/// `ZooTrace`'s default mask: client requests, server packets, sessions, warnings.
pub(super) const DEFAULT_TRACE_MASK: i64 = 2 | 16 | 32 | 256;

/// The clocks as read at the start of a pass of the core's loop.
#[derive(Debug, Clone, Copy)]
pub(super) struct PassClock {
    pub instant: Instant,
    /// ms since the core started (session expiry).
    pub mono_ms: u64,
    /// ms since the epoch (txn times).
    pub wall_ms: i64,
}

/// Most messages handled in one pass before txns are handed to sync and
/// replies flushed; bounds the latency a burst can add.
const MAX_MSGS_PER_PASS: usize = 1024;

/// The ZAB machine's ticks on the wall clock: due ticks run after every pass
/// of the core, whatever the inbox holds. A core that fell behind (a long
/// pass, a starved process) catches up at most [`MemberClock::CATCH_UP`]
/// ticks per pass, so the messages that arrived meanwhile (ACKs, PINGs) are
/// read between them, and a member never times a peer out for the time it
/// was not reading.
#[derive(Debug)]
struct MemberClock {
    every: Duration,
    next: Instant,
}

impl MemberClock {
    const CATCH_UP: u32 = 4;

    fn new(every: Duration, now: Instant) -> Self {
        let every = every.max(Duration::from_millis(1));
        MemberClock {
            every,
            next: now + every,
        }
    }

    /// How many ticks to run now.
    fn due(&mut self, now: Instant) -> u32 {
        let mut n = 0;
        while self.next <= now && n < Self::CATCH_UP {
            self.next += self.every;
            n += 1;
        }
        n
    }
}

pub(super) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Core {
    pub fn new(cfg: CoreConfig, info: super::ServerInfo, sync_tx: super::sync::SyncSender) -> Self {
        let sessions = SessionTracker::new(cfg.tick_ms, cfg.server_id, wall_ms() as u64);
        let db = ZkDatabase::new(
            crate::tree::TreeConfig {
                ephemeral_types: crate::tree::EphemeralTypes {
                    extended_types_enabled: cfg.extended_types_enabled,
                    emulate_353_ttl: false,
                },
                digest_enabled: cfg.digest_enabled,
            },
            cfg.commit_log_count,
        );
        let next_container_check_ms = cfg.container_check_interval_ms;
        let metrics = Metrics::started(info.prometheus.is_some());
        Core {
            db,
            watches: WatchManager::new(crate::watch::WatchSemantics::Zk38),
            sessions,
            changes: OutstandingChanges::default(),
            conns: HashMap::new(),
            session_conns: HashMap::new(),
            last_assigned_zxid: 0,
            fifo: VecDeque::new(),
            replies: Default::default(),
            durable: VecDeque::new(),
            to_sync: Vec::new(),
            sync_tx,
            sync_reports: Arc::new(super::sync_reports::SyncReports::new()),
            started: Instant::now(),
            clock: PassClock {
                instant: Instant::now(),
                mono_ms: 0,
                wall_ms: wall_ms(),
            },
            stats: ServerStats::default(),
            next_container_check_ms,
            info,
            cfg,
            snapshot: None,
            snapshot_sink: None,
            snapshot_started: None,
            self_tx: None,
            metrics,
            trace_mask: DEFAULT_TRACE_MASK,
            draining: None,
            exit: None,
            last_snapshot: None,
            passes: 0,
            ensemble: None,
            quorum: None,
        }
    }

    /// The mailbox the sync stage reports to; the core takes from it
    /// before its inbox on every pass.
    pub fn sync_reports(&self) -> Arc<super::sync_reports::SyncReports> {
        self.sync_reports.clone()
    }

    /// Replaces what the admin surfaces report about the ensemble (`None`:
    /// standalone).
    pub fn set_quorum_status(&mut self, status: Option<super::quorum_status::QuorumStatus>) {
        self.quorum = status;
    }

    /// Whether the tree keeps ZooKeeper's digest.
    pub(super) fn digest_enabled(&self) -> bool {
        self.cfg.digest_enabled
    }

    /// Makes the core an ensemble member driven by `member`'s machine.
    pub fn set_ensemble(&mut self, member: super::ensemble::Ensemble) {
        self.ensemble = Some(Box::new(member));
        self.init_config_node();
        self.run_member_actions();
    }

    /// Lets the core write snapshots through `factory`.
    pub fn set_snapshot_sink(&mut self, factory: super::snapshot_job::SinkFactory) {
        self.snapshot_sink = Some(factory);
    }

    /// Applies one txn to the database and records the events it fires
    /// into `events`; the session tracker and the write statistics follow.
    pub(super) fn apply_txn(
        &mut self,
        header: &TxnHeader,
        body: &mut TxnBody,
        events: &mut Vec<TreeEvent>,
    ) -> ApplyOutcome {
        let mut obs = CoreObserver {
            metrics: &mut self.metrics,
            sessions: &mut self.sessions,
            now_ms: self.clock.mono_ms,
            watching: self.watches.watch_count() > 0,
        };
        let out = self.db.apply(header, body, events, &mut obs);
        self.changes.applied_through(header.zxid);
        out
    }

    /// Compares the digest logged with an applied txn to the tree's
    /// ([`ZkDatabase::compare_digest`]) and counts a mismatch.
    pub(super) fn compare_digest(&mut self, header: &TxnHeader, digest: Option<&TxnDigest>) {
        if self.db.compare_digest(header, digest) {
            self.metrics.digest_mismatches_count += 1;
        }
    }

    /// The ACL list behind a node's reference.
    pub(super) fn acl_list(&self, r: crate::tree::AclRef) -> Vec<jute::data::ACL> {
        self.db.acl_list(r)
    }

    /// Applies one logged txn during recovery — the same apply as for live
    /// requests, with nobody to answer and no watches to fire. The logged
    /// digest is compared unless `fuzzy`: while replay has not yet passed
    /// the zxid of the snapshot's digest, the tree is a fuzzy snapshot plus
    /// part of the log and matches no logged digest (ZooKeeper skips the
    /// comparison then too).
    pub fn replay(&mut self, mut txn: LoggedTxn, fuzzy: bool) {
        let mut events = Vec::new();
        let _ = self.apply_txn(&txn.header, &mut txn.body, &mut events);
        if !fuzzy {
            self.compare_digest(&txn.header, txn.digest.as_ref());
        }
        self.last_assigned_zxid = self.last_assigned_zxid.max(txn.header.zxid);
    }

    /// The zxid of the last applied txn.
    pub fn last_zxid(&self) -> i64 {
        self.db.last_processed_zxid
    }

    /// The tree's digest now (`DataTree.getTreeDigest`).
    pub fn tree_digest(&self) -> i64 {
        self.db.digest()
    }

    /// The database the core serves.
    pub fn database(&self) -> &ZkDatabase {
        &self.db
    }

    /// Txns (and snapshots) whose logged digest disagreed with the tree
    /// (`digest_mismatches_count`).
    pub fn digest_mismatches(&self) -> u64 {
        self.metrics.digest_mismatches_count
    }

    /// Milliseconds since the core started: the clock for session expiry.
    /// Milliseconds since the core started, as of this pass of its loop.
    pub(super) fn now_ms(&self) -> u64 {
        self.clock.mono_ms
    }

    /// Reads the clocks once for a whole pass of the loop: every request
    /// handled in the pass shares these instants (session touches, txn
    /// times, queue and latency figures in ms), instead of several clock
    /// reads per request.
    fn tick_clock(&mut self) {
        let instant = Instant::now();
        self.clock = PassClock {
            instant,
            mono_ms: instant.saturating_duration_since(self.started).as_millis() as u64,
            wall_ms: wall_ms(),
        };
    }

    fn next_deadline_ms(&self) -> u64 {
        let mut next = self.next_container_check_ms;
        if self.ensemble.as_deref().is_some_and(|m| !m.is_leader()) {
            return next;
        }
        if let Some(s) = self.sessions.next_expiry_ms() {
            next = next.min(s);
        }
        next
    }

    /// Runs until a shutdown has drained, the txn log fails, or every
    /// sender of `rx` is gone; says which.
    ///
    /// Each pass handles at most [`MAX_MSGS_PER_PASS`] messages, then checks
    /// the deadlines (session expiry, containers and TTLs) with a fresh
    /// clock, whether or not the inbox is empty: a saturated inbox delays
    /// expiry by at most one pass, never indefinitely. The timer branch of
    /// the select only wakes an idle core.
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<CoreMsg>,
        self_tx: mpsc::Sender<CoreMsg>,
    ) -> CoreExit {
        self.self_tx = Some(self_tx);
        let mut member_clock = self
            .ensemble
            .as_deref()
            .map(|m| MemberClock::new(m.tick_interval(), Instant::now()));
        let sync_reports = self.sync_reports.clone();
        loop {
            let deadline = self.started + Duration::from_millis(self.next_deadline_ms());
            let next_member_tick = member_clock.as_ref().map(|c| c.next);
            let snapshot = self.snapshot_progress();
            tokio::select! {
                biased;
                // The sync stage's reports are taken below, every pass, so
                // they wait for at most one pass of requests. This branch
                // comes first so that a report wakes an idle core at once
                // and goes ahead of a full inbox; it cannot starve the
                // inbox: the stage reports at most once per run of
                // commands, and its commands come from passes that read
                // the inbox.
                _ = sync_reports.wait() => {}
                msg = rx.recv() => {
                    let Some(msg) = msg else {
                        self.exit.get_or_insert(CoreExit::InboxClosed);
                        break;
                    };
                    self.tick_clock();
                    self.handle(msg, rx.len());
                    for _ in 1..MAX_MSGS_PER_PASS {
                        if self.exit.is_some() {
                            break;
                        }
                        match rx.try_recv() {
                            Ok(msg) => self.handle(msg, rx.len()),
                            Err(_) => break,
                        }
                    }
                }
                // Nothing new is started while draining for a shutdown:
                // expiry and container checks resume after the restart.
                // The deadline itself is checked below, after every pass.
                _ = tokio::time::sleep_until(deadline.into()), if self.draining.is_none() => {}
                // A snapshot in progress: write a chunk when no request
                // waits, or once the writer has taken one.
                _ = snapshot.ready() => {}
                // Only wakes an idle member: its ticks are run below.
                _ = tokio::time::sleep_until(next_member_tick.unwrap_or(deadline).into()),
                    if next_member_tick.is_some() => {}
            }
            for msg in sync_reports.take() {
                self.handle(msg, rx.len());
            }
            if self.exit.is_some() {
                break;
            }
            self.run_due_timers();
            if let Some(clock) = member_clock.as_mut() {
                // After every pass, as the deadlines above: a busy inbox must
                // not stop the leader's PINGs and syncLimit checks (a Java
                // learner drops a leader it hears nothing from for syncLimit).
                for _ in 0..clock.due(Instant::now()) {
                    self.tick_clock();
                    self.member_tick();
                }
            }
            self.advance_snapshot();
            self.flush_to_sync();
            self.run_final();
            self.passes += 1;
            if self.draining.is_some() && self.drained() {
                self.finish_shutdown();
                break;
            }
        }
        let exit = self.exit.take().unwrap_or(CoreExit::InboxClosed);
        info!(reason = ?exit, zxid = format_args!("0x{:x}", self.db.last_processed_zxid), "core task stopped");
        exit
    }

    /// Expires sessions and checks containers if their time has come, as
    /// of now (not of the pass's start: a pass may take a while).
    fn run_due_timers(&mut self) {
        if self.draining.is_some() {
            return;
        }
        self.tick_clock();
        if self.now_ms() >= self.next_deadline_ms() {
            self.on_timer();
        }
    }

    /// Shutdown, first half (ZooKeeper's `ZooKeeperServer.shutdown` and
    /// `ServerCnxnFactory.shutdown`): from here on no new session or request
    /// is taken; what prep already handed to sync is made durable, applied
    /// and answered. Sessions are not closed — they are in the log and in
    /// snapshots and survive the restart, as with ZooKeeper; no snapshot is
    /// taken either (ZooKeeper 3.8 takes none at shutdown, and one at start).
    fn begin_shutdown(&mut self, done: oneshot::Sender<Drained>) {
        info!(
            pending = self.outstanding(),
            sessions = self.sessions.len(),
            "shutting down: draining requests in flight"
        );
        self.draining = Some(done);
    }

    /// Everything handed to sync has come back and been answered.
    fn drained(&self) -> bool {
        self.outstanding() == 0 && self.to_sync.is_empty() && self.durable.is_empty()
    }

    /// Shutdown, second half: close every connection (each writer flushes
    /// the replies queued for it first) and report. A snapshot still being
    /// written is abandoned; its temporary file is removed at the next start.
    fn finish_shutdown(&mut self) {
        let outboxes: Vec<Arc<Outbox>> = self.conns.values().map(|c| c.out.clone()).collect();
        for out in &outboxes {
            out.close();
        }
        self.snapshot = None;
        let drained = Drained {
            last_zxid: self.db.last_processed_zxid,
            sessions: self.sessions.len(),
            outboxes,
        };
        info!(
            zxid = format_args!("0x{:x}", drained.last_zxid),
            sessions = drained.sessions,
            connections = drained.outboxes.len(),
            "drained: every acknowledged write is durable; closing client connections"
        );
        if let Some(done) = self.draining.take() {
            let _ = done.send(drained);
        }
        self.exit = Some(CoreExit::Shutdown);
    }

    /// Handles one message; sets `self.exit` when the server must stop.
    /// `queued` is how many messages still wait in the inbox
    /// (`prep_processor_queue_size`).
    fn handle(&mut self, msg: CoreMsg, queued: usize) {
        match msg {
            CoreMsg::Connect(c) if self.draining.is_some() => {
                debug!(client = %JavaSocketAddr(c.addr), "refusing session request: shutting down");
                c.out.close();
                let _ = c.established.send(false);
            }
            // Not acknowledged, so not lost: the client sees the connection
            // close and retries against the restarted server.
            CoreMsg::Request { .. } if self.draining.is_some() => {}
            CoreMsg::Connect(c) => self.on_connect(*c, queued),
            CoreMsg::Request {
                conn,
                xid,
                op,
                size,
                received,
            } => self.on_request(conn, xid, op, size, received, queued),
            CoreMsg::Closed { conn, dropped } => {
                if dropped {
                    self.metrics.connection_drop_count += 1;
                }
                self.on_closed(conn)
            }
            CoreMsg::Admin(req) => {
                let text = self.admin_command(req.cmd, req.peer, req.trace_mask);
                let _ = req.reply.send(text);
            }
            CoreMsg::AdminQuery(q) => self.admin_query(q),
            CoreMsg::Durable(txns, report) => {
                self.metrics.sync_done(&report);
                self.durable.extend(txns);
            }
            CoreMsg::LogFailed(e) => {
                error!(error = %e, zxid = format_args!("0x{:x}", self.db.last_processed_zxid),
                    "txn log failed; stopping so no unlogged write is acknowledged");
                self.exit = Some(CoreExit::LogFailed(e));
            }
            CoreMsg::TakeSnapshot if self.draining.is_some() => {}
            CoreMsg::TakeSnapshot => self.start_snapshot(),
            CoreMsg::SnapshotDone { zxid, result } => self.on_snapshot_done(zxid, result),
            CoreMsg::Shutdown(done) => self.begin_shutdown(done),
            CoreMsg::Member(ev) => self.on_member_event(ev),
            CoreMsg::Persisted { through, report } => {
                self.metrics.sync_done(&report);
                self.member_persisted(through);
            }
        }
    }

    fn on_timer(&mut self) {
        let now = self.now_ms();
        // In an ensemble only the leader expires sessions and reaps
        // containers and TTL nodes; learners report touches instead.
        if self.ensemble.as_deref().is_some_and(|m| !m.is_leader()) {
            self.next_container_check_ms = now + self.cfg.container_check_interval_ms.max(1);
            return;
        }
        for session in self.sessions.take_expired(now) {
            let timeout = self.sessions.timeout_ms(session).unwrap_or(0);
            info!(
                client = %self.session_client(session),
                "Expiring session 0x{session:x}, timeout of {timeout}ms exceeded"
            );
            self.metrics.stale_sessions_expired += 1;
            self.submit_internal_close(session);
        }
        if now >= self.next_container_check_ms {
            self.next_container_check_ms = now + self.cfg.container_check_interval_ms.max(1);
            self.check_containers();
        }
    }

    /// The address of the connection a session is attached to, for logs
    /// ("-" when it has none).
    pub(super) fn session_client(&self, session: SessionId) -> String {
        self.session_conns
            .get(&session)
            .and_then(|c| self.conns.get(c))
            .map_or_else(|| "-".to_string(), |c| java_socket_addr(&c.addr))
    }

    fn submit_internal_close(&mut self, session: SessionId) {
        let zxid = self.next_zxid();
        let body = self.prep_write(
            &mut ClientOp::CloseSession,
            &Requester {
                session,
                auth: &[],
                owner: SessionOwner::Local,
            },
            zxid,
            self.clock.wall_ms,
        );
        // prep_close_session cannot fail; an expired session is closing already.
        let body = body.unwrap_or_else(|e| TxnBody::Error(ErrorTxn { err: e as i32 }));
        self.enqueue_txn(session, 0, zxid, body, Origin::Internal);
    }

    /// Containers that had children and are empty, TTL nodes past their
    /// time: deleted through the pipeline like any write
    /// (ZooKeeper's `ContainerManager`).
    fn check_containers(&mut self) {
        let now = wall_ms();
        let mut candidates = self
            .db
            .tree
            .expiry_candidates(now, self.cfg.container_max_never_used_ms);
        candidates.truncate(self.cfg.container_max_per_check);
        for path in candidates {
            let zxid = self.next_zxid();
            let body = match self.prep_delete_container(&path, zxid) {
                Ok(body) => body,
                Err(e) => TxnBody::Error(ErrorTxn { err: e as i32 }),
            };
            self.enqueue_txn(0, 0, zxid, body, Origin::Internal);
        }
    }

    fn prep_delete_container(&mut self, path: &str, zxid: i64) -> Result<TxnBody, ErrorCode> {
        if crate::tree::DataTree::is_special_path(path) {
            return Err(ErrorCode::BadArguments);
        }
        let parent_path = match path.rfind('/') {
            Some(i) => path[..i].to_string(),
            None => return Err(ErrorCode::BadArguments),
        };
        let node = self.record_for(path)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        let owner = node.stat.as_ref().map_or(0, |s| s.ephemeral_owner);
        if crate::tree::EphemeralType::of(owner, self.ephemeral_types())
            == crate::tree::EphemeralType::Normal
        {
            return Err(ErrorCode::BadVersion);
        }
        let parent = self.record_for(&parent_path)?;
        self.prep_remove(parent, node, zxid);
        Ok(TxnBody::DeleteContainer(DeleteTxn {
            path: path.to_string(),
        }))
    }

    pub(super) fn ephemeral_types(&self) -> crate::tree::EphemeralTypes {
        crate::tree::EphemeralTypes {
            extended_types_enabled: self.cfg.extended_types_enabled,
            emulate_353_ttl: false,
        }
    }

    pub(super) fn next_zxid(&mut self) -> i64 {
        self.last_assigned_zxid += 1;
        self.last_assigned_zxid
    }

    pub(super) fn enqueue_txn(
        &mut self,
        session: SessionId,
        cxid: i32,
        zxid: i64,
        body: TxnBody,
        origin: Origin,
    ) {
        let header = TxnHeader {
            client_id: session,
            cxid,
            zxid,
            time: self.clock.wall_ms,
            type_: body.op_code() as i32,
        };
        // ZooKeeper gives every txn but an error the tree digest it will
        // leave behind (`setTxnDigest`).
        let digest =
            (self.digest_enabled() && !matches!(body, TxnBody::Error(_))).then(|| TxnDigest {
                version: crate::tree::DIGEST_VERSION,
                tree_digest: self.prepared_tree_digest(),
            });
        let txn = LoggedTxn {
            header,
            body,
            digest,
        };
        self.metrics.sync_processor_request_queued += 1;
        if self.ensemble.is_some() {
            self.propose(txn);
        } else {
            self.to_sync.push(txn);
        }
        self.queue(Pending::Txn { zxid, origin });
    }

    fn flush_to_sync(&mut self) {
        if self.to_sync.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.to_sync);
        let cmd = super::sync::SyncCmd::Append {
            sent: Instant::now(),
            txns: batch,
        };
        if self.sync_tx.send(cmd).is_err() {
            error!("sync stage is gone; no further writes can be acknowledged");
        }
    }

    /// `queued`: messages still in the inbox behind this one.
    fn on_connect(&mut self, c: ConnectMsg, queued: usize) {
        let ConnectMsg {
            conn,
            out,
            addr,
            req,
            sent_read_only,
            established,
            size,
            received,
        } = c;
        let client = JavaSocketAddr(addr);
        self.stats.packets_received += 1;
        self.metrics.bytes_received += size as u64;
        self.metrics.connection_request_count += 1;
        if self.ensemble.as_deref().is_some_and(|m| !m.serving()) {
            // ZooKeeper has no ZooKeeperServer to take the session while it
            // elects or syncs: the connection is closed.
            info!(client = %client, "refusing session request: not serving (no quorum leader yet)");
            let _ = established.send(false);
            out.close();
            return;
        }
        if req.last_zxid_seen > self.db.last_processed_zxid {
            info!(
                session = format_args!("0x{:x}", req.session_id),
                "Refusing session request for client {client} as it has seen zxid 0x{:x} \
                 our last zxid is 0x{:x} client must try another server",
                req.last_zxid_seen,
                self.db.last_processed_zxid
            );
            let _ = established.send(false);
            out.close();
            return;
        }
        let timeout = req
            .time_out
            .max(self.cfg.min_session_timeout_ms)
            .min(self.cfg.max_session_timeout_ms);
        let mut stats = ConnStats::new();
        stats.packets_received = 1;
        self.conns.insert(
            conn,
            Conn {
                out,
                addr,
                session: 0,
                auth: vec![crate::acl::connection_id(addr.ip())],
                sent_read_only,
                timeout_ms: timeout,
                stats,
            },
        );
        if req.session_id == 0 {
            // ZooKeeper's createSession goes through PrepRequestProcessor
            // like any request, and is sampled like one.
            self.prep_taken(queued, received);
            let session = self.sessions.next_id();
            if let Some(c) = self.conns.get_mut(&conn) {
                c.session = session;
            }
            self.session_conns.insert(session, conn);
            if self.ensemble.as_deref().is_some_and(|m| m.is_follower()) {
                self.forward_create_session(conn, session, timeout, established, received);
                return;
            }
            let zxid = self.next_zxid();
            let body = self.prep_create_session(session, timeout, SessionOwner::Local);
            self.enqueue_txn(
                session,
                0,
                zxid,
                body,
                Origin::Connect {
                    conn,
                    established,
                    at: Some(received),
                },
            );
        } else {
            let session = req.session_id;
            self.metrics.connection_revalidate_count += 1;
            let password_ok = req.passwd.as_deref() == Some(&session_password(session)[..]);
            if let Some(old) = self.session_conns.get(&session).copied() {
                if old != conn {
                    // The session moved here: the old connection goes, as in
                    // ZooKeeper (its watches go with it; the client re-sends them).
                    self.drop_conn(old);
                }
            }
            let valid = password_ok && {
                let now = self.now_ms();
                self.sessions.touch(session, now) == TouchOutcome::Alive
            };
            if !password_ok {
                warn!(
                    client = %client,
                    "Incorrect password from {client} for session 0x{session:x}"
                );
            } else if !valid {
                info!(
                    client = %client,
                    "Invalid session 0x{session:x} for client {client}, probably expired"
                );
            }
            if valid {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.session = session;
                }
                self.session_conns.insert(session, conn);
            }
            let origin = Origin::Connect {
                conn,
                established,
                at: None,
            };
            if valid && self.ensemble.as_deref().is_some_and(|m| m.is_follower()) {
                // A learner asks the leader (REVALIDATE): the session may
                // have expired there, and the leader must learn that the
                // session now lives here (Java's leader answers requests of
                // a session owned by another learner with SESSIONMOVED).
                self.revalidate_with_leader(conn, session, timeout, origin);
                return;
            }
            if valid {
                // LeaderZooKeeperServer.revalidateSession: the client is
                // attached here now (alone, it always was).
                self.sessions.set_owner(session, SessionOwner::Local);
            }
            // Revalidation answers in order with the rest of the pipeline.
            self.queue(Pending::Txn { zxid: 0, origin });
            if !valid {
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.session = 0;
                }
            }
        }
    }

    fn on_closed(&mut self, conn: ConnId) {
        self.drop_conn(conn);
    }

    /// Forgets a connection: its watches go, its session stays until it
    /// expires or is closed.
    pub(super) fn drop_conn(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            c.out.close();
            self.watches.remove_watcher(crate::watch::WatcherId(conn));
            if c.session != 0 && self.session_conns.get(&c.session) == Some(&conn) {
                self.session_conns.remove(&c.session);
            }
            if c.session != 0 {
                debug!(
                    "Closed socket connection for client {} which had sessionid 0x{:x}",
                    JavaSocketAddr(c.addr),
                    c.session
                );
            } else {
                debug!(
                    "Closed socket connection for client {} (no session established for client)",
                    JavaSocketAddr(c.addr)
                );
            }
        }
    }

    /// `queued`: messages still in the inbox behind this one.
    fn on_request(
        &mut self,
        conn_id: ConnId,
        xid: i32,
        op: ClientOp,
        size: usize,
        received: Instant,
        queued: usize,
    ) {
        let now = self.now_ms();
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        conn.stats.packets_received += 1;
        self.stats.packets_received += 1;
        self.metrics.bytes_received += size as u64;
        let session = conn.session;
        if session == 0 {
            return;
        }
        if self.refuse_unauthenticated(conn_id, xid, &op) {
            return;
        }
        if matches!(op, ClientOp::Auth(_)) {
            // Answered by the connection in ZooKeeper: never reaches prep.
            self.prep_request(conn_id, xid, op, session, now, received);
            return;
        }
        self.prep_taken(queued, received);
        self.prep_request(conn_id, xid, op, session, now, received);
    }

    /// The samples of one request taken from the inbox, which stands for
    /// both of ZooKeeper's queues in front of prep (RequestThrottler's and
    /// PrepRequestProcessor's): the wait is sampled as
    /// `request_throttle_queue_time_ms` and `prep_processor_queue_time_ms`.
    /// Time within prep, and prep's hand-off of the request
    /// (`proposal_process_time`), are below the clock's per-pass resolution:
    /// every request of a pass starts and ends prep at the pass's instant,
    /// so both are 0.
    fn prep_taken(&mut self, queued: usize, received: Instant) {
        let waited = self
            .clock
            .instant
            .saturating_duration_since(received)
            .as_millis() as u64;
        let m = &mut self.metrics;
        m.request_throttle_queue_time_ms.add(waited);
        m.prep_processor_request_queued += 1;
        m.prep_processor_queue_size.add(queued as u64);
        m.prep_processor_queue_time_ms.add(waited);
        m.prep_process_time.add(0);
        m.proposal_process_time.add(0);
    }

    /// Prep for one request of an established session: answered at once
    /// (auth), queued as a read, or turned into a txn.
    fn prep_request(
        &mut self,
        conn_id: ConnId,
        xid: i32,
        op: ClientOp,
        session: SessionId,
        now: u64,
        received: Instant,
    ) {
        // ZooKeeperServer.submitRequestNow's touch: a request of an unknown
        // or closing session is dropped unanswered, closeSession included
        // (a second closeSession pipelined behind the first logs nothing in
        // Java 3.8.0: compat-tests/close-session).
        if self.sessions.touch(session, now) == TouchOutcome::Gone {
            debug!(
                session = format_args!("0x{session:x}"),
                "dropping request of a closed session"
            );
            return;
        }
        if self.ensemble.is_some() {
            let timeout = self.conns.get(&conn_id).map_or(0, |c| c.timeout_ms);
            self.member_touch(session, timeout);
            let forwards = op.is_write()
                || matches!(op, ClientOp::Sync(_))
                || matches!(op, ClientOp::Malformed(code) if is_write_code(code));
            if forwards && self.ensemble.as_deref().is_some_and(|m| m.is_follower()) {
                self.forward_request(conn_id, xid, op, session, received);
                return;
            }
        }
        match op {
            ClientOp::Auth(auth) => self.on_auth(conn_id, xid, auth),
            ClientOp::Unimplemented(code) => {
                warn!(op = code, "received packet of unknown type");
                self.queue(Pending::Error {
                    conn: conn_id,
                    xid,
                    err: ErrorCode::Unimplemented,
                    zxid: Some(-1),
                });
            }
            // Request.isThrottled: no prep, no txn, no apply; answered in
            // order with lastZxid, as FinalRequestProcessor does.
            ClientOp::Throttled(_) => self.queue(Pending::Error {
                conn: conn_id,
                xid,
                err: ErrorCode::Throttled,
                zxid: None,
            }),
            ClientOp::Malformed(code) if !is_write_code(code) => {
                self.queue(Pending::Error {
                    conn: conn_id,
                    xid,
                    err: ErrorCode::MarshallingError,
                    zxid: None,
                });
            }
            op if op.is_write() || matches!(op, ClientOp::Malformed(_)) => {
                let closing = matches!(op, ClientOp::CloseSession);
                let request_op = match &op {
                    ClientOp::Malformed(code) => *code,
                    ClientOp::Create { op, .. } => *op as i32,
                    ClientOp::CreateTtl(_) => OpCode::CreateTTL as i32,
                    ClientOp::Delete(_) => OpCode::Delete as i32,
                    ClientOp::SetData(_) => OpCode::SetData as i32,
                    ClientOp::SetAcl(_) => OpCode::SetACL as i32,
                    ClientOp::Check(_) => OpCode::Check as i32,
                    ClientOp::Multi(_) => OpCode::Multi as i32,
                    _ => OpCode::CloseSession as i32,
                };
                let zxid = self.next_zxid();
                // The connection's auth ids are lent to prep, not copied
                // (prep needs `&mut self`), and returned right after.
                let auth = self
                    .conns
                    .get_mut(&conn_id)
                    .map(|c| std::mem::take(&mut c.auth))
                    .unwrap_or_default();
                let who = Requester {
                    session,
                    auth: &auth,
                    owner: SessionOwner::Local,
                };
                let mut op = op;
                let body = match self.prep_write(&mut op, &who, zxid, self.clock.wall_ms) {
                    Ok(body) => body,
                    Err(e) => TxnBody::Error(ErrorTxn { err: e as i32 }),
                };
                if let Some(c) = self.conns.get_mut(&conn_id) {
                    c.auth = auth;
                }
                self.enqueue_txn(
                    session,
                    xid,
                    zxid,
                    body,
                    Origin::Client {
                        conn: conn_id,
                        xid,
                        op: request_op,
                        at: received,
                    },
                );
                if closing {
                    // See prep_process_time: below the per-pass clock.
                    self.metrics.close_session_prep_time.add(0);
                }
            }
            op => {
                // A leader checks every request of its own clients, reads and
                // pings too, against the session's owner (PrepRequestProcessor's
                // checkSession); alone, or as a follower, there is no owner.
                let moved = self.ensemble.as_deref().is_some_and(|m| m.is_leader())
                    && self.sessions.check_owner(session, SessionOwner::Local) == OwnerCheck::Moved;
                if moved {
                    self.queue(Pending::Error {
                        conn: conn_id,
                        xid,
                        err: ErrorCode::SessionMoved,
                        zxid: None,
                    });
                    return;
                }
                self.queue(Pending::Read {
                    conn: conn_id,
                    xid,
                    op,
                    at: received,
                })
            }
        }
    }

    /// addauth: answered at once, outside the pipeline, as ZooKeeper does;
    /// a failure closes the connection.
    fn on_auth(&mut self, conn_id: ConnId, xid: i32, auth: jute::proto::AuthPacket) {
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        let data = auth.auth.unwrap_or_default();
        let outcome = self
            .cfg
            .auth
            .authenticate(&auth.scheme, &data, conn.addr.ip());
        // Answered either way: a packet sent, as every sendResponse is.
        conn.stats.packets_sent += 1;
        self.stats.packets_sent += 1;
        match outcome {
            Ok(ids) => {
                for id in ids {
                    crate::acl::add_auth_id(&mut conn.auth, id);
                }
                info!(client = %JavaSocketAddr(conn.addr), session = format_args!("0x{:x}", conn.session), scheme = %auth.scheme, "auth success");
                conn.out.push_reply(
                    &ReplyHeader {
                        xid,
                        zxid: 0,
                        err: 0,
                    },
                    None,
                );
            }
            Err(_) => {
                self.stats.auth_failed += 1;
                warn!(client = %JavaSocketAddr(conn.addr), session = format_args!("0x{:x}", conn.session), scheme = %auth.scheme, "authentication failed");
                conn.out.push_reply(
                    &ReplyHeader {
                        xid,
                        zxid: 0,
                        err: ErrorCode::AuthFailed as i32,
                    },
                    None,
                );
                let out = conn.out.clone();
                out.close();
            }
        }
    }

    /// Applies every txn that is durable and answers every request behind
    /// it, in order; stops at the first txn still waiting for sync.
    fn run_final(&mut self) {
        if self.ensemble.is_some() {
            self.run_final_member();
            return;
        }
        while let Some(front) = self.fifo.front() {
            if let Pending::Txn { zxid, .. } = front {
                let zxid = *zxid;
                if zxid != 0 {
                    match self.durable.front() {
                        Some(t) if t.zxid() == zxid => {}
                        _ => break,
                    }
                }
            }
            let Some(pending) = self.fifo.pop_front() else {
                break;
            };
            self.finish(pending);
        }
    }
}

/// Op codes whose requests become txns, malformed or not.
fn is_write_code(op: i32) -> bool {
    matches!(
        OpCode::try_from(op),
        Ok(OpCode::Create
            | OpCode::Create2
            | OpCode::CreateContainer
            | OpCode::CreateTTL
            | OpCode::Delete
            | OpCode::SetData
            | OpCode::SetACL
            | OpCode::Check
            | OpCode::Multi
            | OpCode::CloseSession)
    )
}

#[cfg(test)]
mod member_clock_tests {
    use super::*;

    #[test]
    fn due_ticks_follow_the_wall_clock_and_catch_up_a_few_per_pass() {
        let t0 = Instant::now();
        let every = Duration::from_millis(20);
        let mut c = MemberClock::new(every, t0);
        assert_eq!(c.due(t0), 0);
        assert_eq!(c.due(t0 + every), 1);
        assert_eq!(c.due(t0 + every), 0, "a tick runs once");
        // A pass that took 200 ms owes 9 more ticks: 4, 4, then 1.
        let late = t0 + every * 10;
        assert_eq!(c.due(late), MemberClock::CATCH_UP);
        assert_eq!(c.due(late), MemberClock::CATCH_UP);
        assert_eq!(c.due(late), 1);
        assert_eq!(c.due(late), 0);
        assert_eq!(c.next, t0 + every * 11);
    }
}
