//! Zxids, server ids, txns and the timing configuration, shared by every role.

use bytes::Bytes;

/// A server id (`myid`, the `N` of `server.N`).
pub type Sid = u64;

/// A ZooKeeper epoch. Java keeps epochs in `long`s (FLE's peerEpoch, the epoch
/// files) and -1 means "none" on the wire (ACKEPOCH), so this is an `i64`.
pub type Epoch = i64;

/// A transaction id: `epoch << 32 | counter`, a Java `long` on the wire
/// (`ZxidUtils.makeZxid`). Ordering is plain integer order, which is the
/// order ZAB commits in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Zxid(pub i64);

impl Zxid {
    pub const ZERO: Zxid = Zxid(0);

    pub fn new(epoch: Epoch, counter: u32) -> Zxid {
        Zxid((epoch << 32) | i64::from(counter))
    }
    pub fn epoch(self) -> Epoch {
        self.0 >> 32
    }
    pub fn counter(self) -> u32 {
        (self.0 & 0xffff_ffff) as u32
    }
    /// The next zxid of the same epoch; `None` once the counter is exhausted.
    pub fn next(self) -> Option<Zxid> {
        self.counter()
            .checked_add(1)
            .map(|c| Zxid::new(self.epoch(), c))
    }
}

impl std::fmt::Debug for Zxid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:x}:{}", self.epoch(), self.counter())
    }
}

/// A transaction as consensus sees it: its zxid and opaque bytes (the host's
/// TxnHeader + record + digest, exactly what goes into a PROPOSAL packet).
#[derive(Clone, PartialEq, Eq)]
pub struct Txn {
    pub zxid: Zxid,
    pub data: Bytes,
}

impl std::fmt::Debug for Txn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.zxid)
    }
}

/// FastLeaderElection's peer states, with their wire numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServerState {
    Looking = 0,
    Following = 1,
    Leading = 2,
    Observing = 3,
}

/// Timing and membership. Every timeout is converted to a count of `tick()`
/// calls here, so the machine never reads a clock.
#[derive(Clone, Debug)]
pub struct ZabConfig {
    pub my_sid: Sid,
    /// Voting members, including `my_sid`.
    pub voters: Vec<Sid>,
    /// Observers (`server.N=…:observer`): learners that sync and get every
    /// commit as INFORM but count in no quorum (`Leader.isParticipant`).
    pub observers: Vec<Sid>,
    /// How often the host calls `tick()`, in ms.
    pub tick_interval_ms: u64,
    /// ZooKeeper's `tickTime` (default 3000 ms in ZooKeeperServer, 2000 in the sample zoo.cfg).
    pub tick_time_ms: u64,
    pub init_limit: u64,
    pub sync_limit: u64,
    /// FLE's finalizeWait, 200 ms in ZooKeeper.
    pub finalize_wait_ms: u64,
    /// `zookeeper.fastleader.minNotificationInterval`, 200 ms.
    pub min_notification_ms: u64,
    /// `zookeeper.fastleader.maxNotificationInterval`, 60 s.
    pub max_notification_ms: u64,
    /// Learner connect retry delay (`leaderConnectDelayDuringRetryMs`, 100 ms) and tries (5).
    pub connect_retry_ms: u64,
    pub connect_tries: u32,
    /// Committed proposals kept for DIFF (`zookeeper.commitLogCount`, 500).
    pub commit_log_count: usize,
}

impl ZabConfig {
    pub fn new(my_sid: Sid, voters: Vec<Sid>) -> ZabConfig {
        ZabConfig {
            my_sid,
            voters,
            observers: Vec::new(),
            tick_interval_ms: 50,
            tick_time_ms: 2000,
            init_limit: 10,
            sync_limit: 5,
            finalize_wait_ms: 200,
            min_notification_ms: 200,
            max_notification_ms: 60_000,
            connect_retry_ms: 100,
            connect_tries: 5,
            commit_log_count: 500,
        }
    }

    /// `ms` rounded up to whole ticks, at least one.
    pub fn ticks(&self, ms: u64) -> u64 {
        ms.div_ceil(self.tick_interval_ms.max(1)).max(1)
    }
    /// One ZooKeeper tick (`tickTime`) in machine ticks.
    pub fn zk_tick(&self) -> u64 {
        self.ticks(self.tick_time_ms)
    }
    pub fn init_ticks(&self) -> u64 {
        self.zk_tick() * self.init_limit
    }
    pub fn sync_ticks(&self) -> u64 {
        self.zk_tick() * self.sync_limit
    }
    pub fn is_voter(&self, sid: Sid) -> bool {
        self.voters.contains(&sid)
    }
    pub fn is_observer(&self, sid: Sid) -> bool {
        self.observers.contains(&sid)
    }
    /// Majority of the voters (`QuorumMaj.containsQuorum`: more than half).
    pub fn is_quorum(&self, n: usize) -> bool {
        n * 2 > self.voters.len()
    }
    pub fn others(&self) -> impl Iterator<Item = Sid> + '_ {
        self.voters
            .iter()
            .copied()
            .filter(move |s| *s != self.my_sid)
    }
}

/// Identifies one persistence command; the host reports `persisted(id)` in
/// the order the commands were issued.
pub type PersistId = u64;
