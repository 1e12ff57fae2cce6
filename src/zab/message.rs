//! What goes in and out of the machine. Message fields map 1:1 onto
//! ZooKeeper 3.8's wire messages, so the network shell translates them
//! mechanically (`src/quorum/wire` owns the byte layouts).

use bytes::Bytes;

use super::types::{Epoch, PersistId, ServerState, Sid, Txn, Zxid};

/// A FastLeaderElection notification (`FastLeaderElection.buildMsg`), minus
/// the framing-level fields the shell adds (version 2, config bytes). The
/// sender's sid is the connection's, as in QuorumCnxManager.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub state: ServerState,
    pub leader: Sid,
    pub zxid: Zxid,
    pub election_epoch: Epoch,
    pub peer_epoch: Epoch,
}

/// A vote for nobody: what a non-voter (an observer) proposes while it looks
/// for the leader, Java's `Long.MIN_VALUE` (`FastLeaderElection.getInitId`).
pub const NO_LEADER: Sid = u64::MAX;

/// The version ZooKeeper 3.4+ learners and leaders announce (`0x10000`).
pub const PROTOCOL_VERSION: i32 = 0x10000;

/// QuorumPacket types that consensus uses (`Leader.java` constants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumPacket {
    /// 11: zxid = acceptedEpoch << 32; data = LearnerInfo(sid, protocolVersion, configVersion).
    FollowerInfo {
        zxid: Zxid,
        sid: Sid,
        protocol_version: i32,
    },
    /// 16: an observer's FOLLOWERINFO, the same fields; the leader syncs it
    /// like a follower but counts it in no quorum.
    ObserverInfo {
        zxid: Zxid,
        sid: Sid,
        protocol_version: i32,
    },
    /// 17: zxid = newEpoch << 32; data = int32 protocol version.
    LeaderInfo { zxid: Zxid, protocol_version: i32 },
    /// 18: zxid = lastLoggedZxid; data = int32 currentEpoch, or -1 when the
    /// learner had already accepted this epoch (then not counted).
    AckEpoch { zxid: Zxid, current_epoch: i32 },
    /// 13: the learner's log is a prefix of the leader's; zxid = leader's last committed.
    Diff { zxid: Zxid },
    /// 14: the learner must truncate its log to `zxid`.
    Trunc { zxid: Zxid },
    /// 15: zxid = the leader's lastProcessedZxid; the serialized database follows.
    Snap { zxid: Zxid, snapshot: Bytes },
    /// 10: zxid = newEpoch << 32 (data: last-seen config text, added by the shell).
    NewLeader { zxid: Zxid },
    /// 12: zxid -1 on the wire.
    UpToDate,
    /// 2
    Proposal { txn: Txn },
    /// 3
    Ack { zxid: Zxid },
    /// 4
    Commit { zxid: Zxid },
    /// 8: a committed txn for an observer, in place of PROPOSAL + COMMIT
    /// (`Leader.inform`): zxid and data as in the PROPOSAL.
    Inform { txn: Txn },
    /// 5: leader → learner carries lastProposed; the learner echoes it (with
    /// session touches, which the shell adds).
    Ping { zxid: Zxid },
    /// 7: reply to a forwarded sync, sent after everything proposed before it commits.
    Sync { zxid: Zxid },
    /// 1: a forwarded write, opaque bytes (session, cxid, type, record).
    Request { data: Bytes },
}

/// A durable-state change the host must perform, then report with
/// [`super::Node::persisted`]. Commands are executed and reported in issue
/// order; that ordering is what makes "ACK only after durable" cheap to
/// express (see [`super::node::Core::after_durable`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PersistOp {
    /// Append to the txn log and fsync.
    Append(Txn),
    /// Drop every log entry after `zxid` (TRUNC; ZooKeeper's `truncateLog`).
    Truncate(Zxid),
    /// Write the `acceptedEpoch` file (temp file + rename).
    AcceptedEpoch(Epoch),
    /// Write the `currentEpoch` file.
    CurrentEpoch(Epoch),
    /// Write a snapshot of the host's database as it is when this command is
    /// issued (its last applied zxid is `zxid`).
    Snapshot { zxid: Zxid },
}

/// The machine's outputs, in the order the host must carry them out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Elect {
        to: Sid,
        msg: Notification,
    },
    /// Open the quorum connection to `leader` (closing an older one). The
    /// FOLLOWERINFO that follows goes on the new connection.
    Connect {
        leader: Sid,
    },
    Send {
        to: Sid,
        packet: QuorumPacket,
    },
    /// Serialize the database (it is at `zxid` now) and send it as SNAP.
    SendSnapshot {
        to: Sid,
        zxid: Zxid,
    },
    /// Read the on-disk txn log for syncing `learner`, whose last zxid is
    /// `after`: its txns after `after` through at least `through` (the
    /// window's first entry when asked; reading on to the end of the log
    /// keeps up with a window that moves before the answer), if Java would sync
    /// from the log at all (`getProposalsFromTxnLog`'s size limit). Answer
    /// with [`super::Node::on_sync_log`], now or later; the learner waits.
    ReadSyncLog {
        learner: Sid,
        after: Zxid,
        through: Zxid,
    },
    /// Close the quorum connection to `peer`.
    Disconnect {
        peer: Sid,
    },
    Persist {
        id: PersistId,
        op: PersistOp,
    },
    /// Apply a txn to the database, in zxid order. On the leader this is a
    /// commit the client may now be answered for.
    Apply(Txn),
    /// Roll the database back to `zxid` (TRUNC: reload from snapshot + log).
    Rollback {
        to: Zxid,
    },
    /// Replace the database by a snapshot received from the leader.
    LoadSnapshot {
        zxid: Zxid,
        snapshot: Bytes,
    },
    /// The peer state changed; `broadcast` is set once a leader has its
    /// NEWLEADER quorum or a follower got UPTODATE (ZooKeeper's BROADCAST phase).
    State {
        state: ServerState,
        epoch: Epoch,
        broadcast: bool,
    },
}
