//! The core as an ensemble member: ZAB sits between prep and final.
//!
//! The consensus decisions are [`crate::zab::Node`]'s (a pure state
//! machine); this module is the part of the core task that feeds it and
//! carries out what it asks, so prep and final stay as they are:
//!
//! - on the leader, prep's txns are proposed instead of handed to sync, and
//!   a txn reaches final when the machine commits it ([`Action::Apply`]);
//! - on a follower, writes (and `sync`) are forwarded to the leader and
//!   answered when their txn commits here, matched by session and cxid
//!   (`forward.rs`); committed txns of other servers' clients are applied
//!   as they come (`apply.rs`);
//! - persistence goes to the sync stage as numbered commands, and the
//!   machine hears back through [`crate::zab::Node::persisted`];
//! - leaving the broadcast phase closes every client connection, as
//!   ZooKeeper's shutdown of its ZooKeeperServer does on a role change.
//!
//! Sockets are behind [`QuorumIo`]: the core never touches them.

mod actions;
mod apply;
mod config_node;
mod forward;
pub(super) mod replies;
mod status;
mod sync_log;

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;
use jute::data::Id;

use crate::quorum::wire::payload::ForwardedRequest;
use crate::txn::LoggedTxn;
use crate::zab::{Node, Notification, QuorumPacket, ServerState, Sid, Zxid};

pub use actions::snapshot_stream;
pub use sync_log::TxnLogSync;

/// What the member sends through the quorum and election ports. The
/// implementation translates to ZooKeeper's wire format and owns the sockets.
pub trait QuorumIo: Send {
    fn elect(&mut self, to: Sid, msg: &Notification);
    /// Opens the learner's connection to `leader` (closing an older one).
    fn connect_leader(&mut self, leader: Sid);
    fn send(&mut self, to: Sid, packet: &QuorumPacket);
    /// A forwarded client request (REQUEST) with the connection's auth ids.
    fn send_request(&mut self, to: Sid, req: &ForwardedRequest, auth: &[Id]);
    /// A learner's PING reply carrying the sessions its clients touched.
    fn send_ping(&mut self, to: Sid, zxid: Zxid, touches: &[(i64, i32)]);
    /// A learner asks whether a session moving to it is still valid.
    fn send_revalidate(&mut self, to: Sid, session: i64, timeout: i32);
    /// The leader's answer to a learner's REVALIDATE.
    fn send_revalidate_reply(&mut self, to: Sid, session: i64, valid: bool);
    /// SNAP then the serialized database.
    fn send_snapshot(&mut self, to: Sid, zxid: Zxid, stream: Bytes);
    fn disconnect(&mut self, peer: Sid);
}

/// What reaches the core from the ensemble's sockets. Quorum packets come
/// as they are on the wire: what a PING or REVALIDATE means depends on
/// whether we lead, which only the core knows.
pub enum MemberEvent {
    Election {
        from: Sid,
        msg: Notification,
    },
    Wire {
        from: Sid,
        packet: jute::quorum::QuorumPacket,
    },
    /// The serialized database that followed a SNAP.
    Snapshot {
        from: Sid,
        zxid: i64,
        stream: Bytes,
    },
    Disconnected {
        peer: Sid,
    },
    /// The leader's txn log read for syncing `learner` (see [`TxnLogSync`]).
    SyncLog {
        learner: Sid,
        after: Zxid,
        history: Option<crate::zab::LogHistory>,
    },
}

/// The member's state beside the machine.
pub struct Ensemble {
    pub(super) node: Node,
    pub(super) io: Box<dyn QuorumIo>,
    pub(super) state: ServerState,
    /// In ZooKeeper's BROADCAST phase: clients are served.
    pub(super) serving: bool,
    /// Learner: sessions touched since the last PING, with their timeouts.
    pub(super) touches: HashMap<i64, i32>,
    /// Committed txns not applied yet, in zxid order.
    pub(super) committed: VecDeque<LoggedTxn>,
    /// Appends handed to the sync stage and not yet durable: (command id,
    /// the txn's creation time), for `proposal_ack_creation_latency`.
    pub(super) appending: VecDeque<(u64, i64)>,
    /// The leader's SNAP stream just loaded, kept for the snapshot the
    /// machine saves right after (`actions.rs`).
    pub(super) loaded_snapshot: Option<(i64, bytes::Bytes)>,
    /// Learner: SYNC replies from the leader not yet matched to a client's
    /// forwarded sync, each with the zxid that must be applied first: the
    /// leader sent every COMMIT before its SYNC, so a sync is answered only
    /// once the commits that came before it are applied here.
    pub(super) sync_replies: VecDeque<i64>,
    /// Ticks of the machine so far (for logs).
    pub(super) ticks: u64,
    /// What the admin surfaces need beside the machine's state.
    pub(super) view: MemberView,
    /// When this member last became an established leader.
    pub(super) leading_since: Option<std::time::Instant>,
    pub(super) proposal_sizes: crate::pipeline::quorum_status::ProposalSizes,
    /// Core-clock ms when the phases behind `election_time`,
    /// `unavailable_time` and `follower_sync_time` began.
    pub(super) phases: PhaseClock,
    /// Leader: where to read the txn log for learners older than the
    /// committed window, and the core's inbox for the answer; without it
    /// they get SNAP.
    pub(super) txnlog_sync: Option<(
        TxnLogSync,
        tokio::sync::mpsc::Sender<crate::pipeline::core::CoreMsg>,
    )>,
}

/// When the current election, unavailability and learner sync began.
#[derive(Debug, Default)]
pub(super) struct PhaseClock {
    pub looking_since: Option<u64>,
    pub unavailable_since: Option<u64>,
    pub syncing_since: Option<u64>,
}

/// The ensemble's configuration as the admin surfaces print it.
#[derive(Debug, Clone)]
pub struct MemberView {
    pub my_id: u64,
    pub config: std::sync::Arc<crate::config::QuorumConfig>,
    pub init_limit: u32,
    pub sync_limit: u32,
    /// Each voter's quorum address (a learner's shown address).
    pub quorum_addrs: std::collections::BTreeMap<Sid, std::net::SocketAddr>,
}

impl Ensemble {
    pub fn new(node: Node, io: Box<dyn QuorumIo>, view: MemberView) -> Ensemble {
        Ensemble {
            view,
            leading_since: None,
            proposal_sizes: Default::default(),
            phases: PhaseClock::default(),
            state: node.state(),
            node,
            io,
            serving: false,
            touches: HashMap::new(),
            committed: VecDeque::new(),
            loaded_snapshot: None,
            appending: VecDeque::new(),
            sync_replies: VecDeque::new(),
            ticks: 0,
            txnlog_sync: None,
        }
    }

    /// Lets a leader sync learners older than the window from its log; the
    /// reads answer through `to_core`.
    pub fn with_txnlog_sync(
        mut self,
        sync: TxnLogSync,
        to_core: tokio::sync::mpsc::Sender<crate::pipeline::core::CoreMsg>,
    ) -> Ensemble {
        self.txnlog_sync = Some((sync, to_core));
        self
    }

    pub fn is_leader(&self) -> bool {
        self.serving && self.state == ServerState::Leading
    }

    pub fn is_follower(&self) -> bool {
        self.serving && self.state == ServerState::Following
    }

    /// The peer state for admin surfaces.
    pub fn state(&self) -> ServerState {
        self.state
    }

    pub fn leader(&self) -> Option<Sid> {
        self.node.leader()
    }

    pub fn serving(&self) -> bool {
        self.serving
    }
}

impl Ensemble {
    /// How often the machine ticks (`ZabConfig::tick_interval_ms`).
    pub fn tick_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.node.config().tick_interval_ms.max(1))
    }
}

impl crate::pipeline::core::Core {
    /// Leader: prep's txn, encoded once, becomes a proposal; final sees it
    /// when the machine commits it.
    pub(in crate::pipeline) fn propose(&mut self, txn: LoggedTxn) {
        let bytes = Bytes::from(crate::persist::txnlog::format::marshal_txn(
            &txn.header,
            &txn.body,
            txn.digest.as_ref(),
        ));
        let zxid = txn.zxid();
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        m.proposal_sizes.record(bytes.len() as i64);
        let sizes = m.proposal_sizes;
        if let Some(l) = self.quorum.as_mut().and_then(|q| q.leader.as_mut()) {
            l.proposal_sizes = sizes;
        }
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        match m.node.propose(bytes) {
            Ok(Some(z)) if z.0 == zxid => self.metrics.quorum.proposal_count += 1,
            Ok(other) => {
                tracing::error!(
                    prepared = format_args!("0x{zxid:x}"),
                    proposed = ?other,
                    "prep and the machine disagree on the next zxid"
                );
            }
            Err(e) => tracing::warn!(zxid = format_args!("0x{zxid:x}"), error = ?e, "not proposed"),
        }
        self.run_member_actions();
    }
}
