//! An ensemble in one thread: hosts that carry out each node's actions
//! against a simulated disk, an election channel (datagram-like: loss, delay,
//! reordering, duplication) and quorum connections (TCP-like: per-connection
//! FIFO that can break). Faults are injected through the methods here, by
//! the random swarm ([`super::swarm`]) or by scripted scenarios.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::{BufMut, Bytes, BytesMut};

use super::check::Checker;
use super::rng::Rng;
use crate::zab::{
    Action, Epoch, LogHistory, Node, Notification, PersistOp, QuorumPacket, Restored, ServerState,
    Sid, Txn, ZabConfig, Zxid,
};

/// Network and disk behaviour; all probabilities are per mille.
#[derive(Clone, Debug)]
pub struct Faults {
    pub election_loss: u64,
    pub election_dup: u64,
    pub max_delay: u64,
    pub max_persist_delay: u64,
}

impl Faults {
    pub fn none() -> Faults {
        Faults {
            election_loss: 0,
            election_dup: 0,
            max_delay: 1,
            max_persist_delay: 1,
        }
    }
}

/// What survives a crash: only completed persistence commands.
#[derive(Clone, Debug, Default)]
pub struct Disk {
    pub accepted_epoch: Epoch,
    pub current_epoch: Epoch,
    pub snapshot: (Zxid, Vec<Txn>),
    pub log: Vec<Txn>,
}

#[derive(Debug)]
struct Pending {
    id: u64,
    op: PersistOp,
    /// For `Snapshot`: the database as it was when the command was issued.
    image: Vec<Txn>,
    due: u64,
}

pub struct Host {
    pub sid: Sid,
    pub node: Option<Node>,
    pub disk: Disk,
    /// The database: applied txns in order.
    pub db: Vec<Txn>,
    /// The last `State` action: role and whether it is serving (broadcast).
    pub role: (ServerState, bool),
    pending: VecDeque<Pending>,
    /// Scenario control: persistence makes no progress while set.
    pub stall_disk: bool,
    /// Tick skew: 0 normal, otherwise this host skips every `skew`-th tick.
    pub skew: u64,
    /// The database or role changed since the last invariant check.
    dirty: bool,
}

impl Host {
    pub fn is_up(&self) -> bool {
        self.node.is_some()
    }
    pub fn serving(&self) -> bool {
        self.is_up() && self.role.1
    }
    pub fn durable_ops(&self) -> usize {
        self.pending.len()
    }
}

struct Conn {
    id: u64,
    /// learner → leader and leader → learner queues of (due tick, packet).
    up: VecDeque<(u64, QuorumPacket)>,
    down: VecDeque<(u64, QuorumPacket)>,
}

/// A held quorum packet rule for scenarios: packets from → to matching
/// `kind` stay queued until released.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hold {
    pub from: Sid,
    pub to: Sid,
    pub kind: &'static str,
}

pub struct Cluster {
    pub cfgs: Vec<ZabConfig>,
    pub hosts: Vec<Host>,
    pub now: u64,
    pub rng: Rng,
    pub faults: Faults,
    pub checker: Checker,
    pub trace: Option<Vec<String>>,
    election: Vec<(u64, Sid, Sid, Notification)>,
    /// Keyed by (learner, leader).
    conns: BTreeMap<(Sid, Sid), Conn>,
    next_conn: u64,
    closed: VecDeque<(Sid, Sid, (Sid, Sid))>,
    /// Unordered pairs that cannot talk.
    cut: BTreeSet<(Sid, Sid)>,
    pub holds: BTreeSet<Hold>,
    next_data: u64,
    /// Every quorum packet sent, (from, to, packet), when `record` is set.
    pub sent: Vec<(Sid, Sid, QuorumPacket)>,
    pub record: bool,
    /// How a leader's host answers `ReadSyncLog`.
    pub log_sync: LogSync,
    /// `ReadSyncLog`s answered later: (due tick, leader, learner, after, through).
    log_reads: Vec<(u64, Sid, Sid, Zxid, Zxid)>,
}

/// How the simulated hosts answer a leader's `ReadSyncLog` from their disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogSync {
    /// Never usable (a negative snapshotSizeFactor, or a log over the size
    /// limit): learners older than the window get SNAP.
    Off,
    /// Always read, at once.
    Now,
    /// Usable or not at random, answered now or a few ticks later (the
    /// window may have moved meanwhile).
    Random,
}

pub fn packet_kind(p: &QuorumPacket) -> &'static str {
    match p {
        QuorumPacket::FollowerInfo { .. } => "FOLLOWERINFO",
        QuorumPacket::ObserverInfo { .. } => "OBSERVERINFO",
        QuorumPacket::Inform { .. } => "INFORM",
        QuorumPacket::LeaderInfo { .. } => "LEADERINFO",
        QuorumPacket::AckEpoch { .. } => "ACKEPOCH",
        QuorumPacket::Diff { .. } => "DIFF",
        QuorumPacket::Trunc { .. } => "TRUNC",
        QuorumPacket::Snap { .. } => "SNAP",
        QuorumPacket::NewLeader { .. } => "NEWLEADER",
        QuorumPacket::UpToDate => "UPTODATE",
        QuorumPacket::Proposal { .. } => "PROPOSAL",
        QuorumPacket::Ack { .. } => "ACK",
        QuorumPacket::Commit { .. } => "COMMIT",
        QuorumPacket::Ping { .. } => "PING",
        QuorumPacket::Sync { .. } => "SYNC",
        QuorumPacket::Request { .. } => "REQUEST",
    }
}

fn encode_db(db: &[Txn]) -> Bytes {
    let mut b = BytesMut::new();
    for t in db {
        b.put_i64(t.zxid.0);
        b.put_u32(t.data.len() as u32);
        b.put_slice(&t.data);
    }
    b.freeze()
}

fn decode_db(mut b: &[u8]) -> Option<Vec<Txn>> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let zxid = i64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let len = u32::from_be_bytes(b.get(8..12)?.try_into().ok()?) as usize;
        let data = Bytes::copy_from_slice(b.get(12..12 + len)?);
        out.push(Txn {
            zxid: Zxid(zxid),
            data,
        });
        b = &b[12 + len..];
    }
    Some(out)
}

fn pair(a: Sid, b: Sid) -> (Sid, Sid) {
    (a.min(b), a.max(b))
}

impl Cluster {
    /// `members` voters with sids 1..=n, tickTime 200 ms driven at 20 ms ticks.
    pub fn new(members: usize, seed: u64, faults: Faults) -> Cluster {
        let voters: Vec<Sid> = (1..=members as u64).collect();
        let cfgs: Vec<ZabConfig> = voters
            .iter()
            .map(|s| {
                let mut c = ZabConfig::new(*s, voters.clone());
                c.tick_interval_ms = 20;
                c.tick_time_ms = 200;
                c.max_notification_ms = 1600;
                c.commit_log_count = 40;
                c
            })
            .collect();
        let hosts = cfgs
            .iter()
            .map(|c| Host {
                sid: c.my_sid,
                node: None,
                disk: Disk::default(),
                db: Vec::new(),
                role: (ServerState::Looking, false),
                pending: VecDeque::new(),
                stall_disk: false,
                skew: 0,
                dirty: true,
            })
            .collect();
        let mut c = Cluster {
            cfgs,
            hosts,
            now: 0,
            rng: Rng::new(seed),
            faults,
            checker: Checker::default(),
            trace: None,
            election: Vec::new(),
            conns: BTreeMap::new(),
            next_conn: 0,
            closed: VecDeque::new(),
            cut: BTreeSet::new(),
            holds: BTreeSet::new(),
            next_data: 0,
            sent: Vec::new(),
            record: false,
            log_sync: LogSync::Random,
            log_reads: Vec::new(),
        };
        for sid in 1..=members as u64 {
            c.restart(sid);
        }
        c
    }

    pub fn log(&mut self, f: impl FnOnce() -> String) {
        if let Some(t) = &mut self.trace {
            t.push(format!("{:>6} {}", self.now, f()));
        }
    }

    fn idx(&self, sid: Sid) -> usize {
        (sid - 1) as usize
    }
    pub fn host(&self, sid: Sid) -> &Host {
        &self.hosts[self.idx(sid)]
    }
    pub fn host_mut(&mut self, sid: Sid) -> &mut Host {
        let i = self.idx(sid);
        &mut self.hosts[i]
    }
    pub fn sids(&self) -> Vec<Sid> {
        self.hosts.iter().map(|h| h.sid).collect()
    }

    // ---- faults -------------------------------------------------------

    /// Kill a member: its un-persisted commands are lost with it.
    pub fn crash(&mut self, sid: Sid) {
        self.log(|| format!("CRASH {sid}"));
        let h = self.host_mut(sid);
        h.node = None;
        h.pending.clear();
        h.role = (ServerState::Looking, false);
        let keys: Vec<(Sid, Sid)> = self
            .conns
            .keys()
            .filter(|k| k.0 == sid || k.1 == sid)
            .copied()
            .collect();
        for k in keys {
            self.close(k);
        }
        self.election.retain(|m| m.2 != sid);
        self.log_reads.retain(|r| r.1 != sid);
    }

    /// Start (or restart) a member from its disk, as `loadDataBase` would.
    pub fn restart(&mut self, sid: Sid) {
        let i = self.idx(sid);
        let cfg = self.cfgs[i].clone();
        let disk = self.hosts[i].disk.clone();
        let (snap_zxid, snap_db) = disk.snapshot.clone();
        let tail: Vec<Txn> = disk
            .log
            .iter()
            .filter(|t| t.zxid > snap_zxid)
            .cloned()
            .collect();
        if tail.windows(2).any(|w| w[0].zxid >= w[1].zxid) {
            self.checker
                .fail(format!("sid {sid}: log on disk is not ascending"));
        }
        let last = tail.last().map_or(snap_zxid, |t| t.zxid);
        if last.epoch() > disk.current_epoch {
            // ZooKeeper refuses to start here ("currentEpoch is older than the
            // last zxid"); the machine raises the epoch (see `Node::new`).
            self.checker.epoch_raised_at_start += 1;
        }
        let mut db = snap_db;
        db.extend(tail.iter().cloned());
        let restored = Restored {
            accepted_epoch: disk.accepted_epoch,
            current_epoch: disk.current_epoch,
            snapshot_zxid: snap_zxid,
            log: tail,
        };
        self.log(|| {
            format!(
                "START {sid} last={last:?} cur={} acc={}",
                disk.current_epoch, disk.accepted_epoch
            )
        });
        let h = &mut self.hosts[i];
        h.db = db;
        h.dirty = true;
        h.pending.clear();
        h.node = Some(Node::new(cfg, restored));
        self.process(sid);
    }

    pub fn partition(&mut self, a: &[Sid], b: &[Sid]) {
        self.log(|| format!("PARTITION {a:?} | {b:?}"));
        for x in a {
            for y in b {
                self.cut.insert(pair(*x, *y));
            }
        }
    }
    pub fn heal(&mut self) {
        self.log(|| "HEAL".to_string());
        self.cut.clear();
        self.holds.clear();
    }
    pub fn connected(&self, a: Sid, b: Sid) -> bool {
        !self.cut.contains(&pair(a, b))
    }
    /// Break the quorum connection between `a` and `b` (either direction).
    pub fn break_conn(&mut self, a: Sid, b: Sid) {
        for k in [(a, b), (b, a)] {
            if self.conns.contains_key(&k) {
                self.close(k);
            }
        }
    }

    fn close(&mut self, key: (Sid, Sid)) {
        if self.conns.remove(&key).is_some() {
            self.log(|| format!("CLOSE {}->{}", key.0, key.1));
            self.closed.push_back((key.0, key.1, key));
            self.closed.push_back((key.1, key.0, key));
        }
    }

    // ---- workload -----------------------------------------------------

    /// A client write to `sid` (a follower forwards it); returns whether it was taken.
    pub fn submit(&mut self, sid: Sid) -> bool {
        self.next_data += 1;
        let data = Bytes::from(format!("w{}", self.next_data));
        let Some(node) = self.host_mut(sid).node.as_mut() else {
            return false;
        };
        let r = node.propose(data.clone());
        let ok = r.is_ok();
        if ok {
            self.checker.submitted.insert(data);
        }
        self.log(|| format!("SUBMIT {sid} {r:?}"));
        self.process(sid);
        ok
    }

    /// The serving leader with the highest epoch, if any.
    pub fn leader(&self) -> Option<Sid> {
        self.hosts
            .iter()
            .filter(|h| h.serving() && h.role.0 == ServerState::Leading)
            .max_by_key(|h| h.node.as_ref().map_or(0, |n| n.current_epoch()))
            .map(|h| h.sid)
    }

    // ---- the step loop --------------------------------------------------

    /// One tick of simulated time: deliver what is due, finish due disk
    /// writes, tick every node, check the invariants.
    pub fn step(&mut self) {
        self.now += 1;
        self.deliver_election();
        self.deliver_quorum();
        self.finish_persistence();
        self.answer_log_reads();
        for sid in self.sids() {
            let skew = self.host(sid).skew;
            if skew > 0 && self.now.is_multiple_of(skew) {
                continue;
            }
            if let Some(n) = self.host_mut(sid).node.as_mut() {
                n.tick();
                self.process(sid);
            }
        }
        self.drain_closed();
        self.check();
    }

    fn answer_log_reads(&mut self) {
        let now = self.now;
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.log_reads)
            .into_iter()
            .partition(|r| r.0 <= now);
        self.log_reads = later;
        for (_, leader, learner, after, through) in due {
            self.answer_log_read(leader, learner, after, through);
            self.process(leader);
        }
    }

    /// The leader's durable log after `after` through `through`, as a host
    /// reads it for `ReadSyncLog`.
    fn answer_log_read(&mut self, leader: Sid, learner: Sid, after: Zxid, through: Zxid) {
        let usable = match self.log_sync {
            LogSync::Off => false,
            LogSync::Now => true,
            LogSync::Random => self.rng.chance(700),
        };
        let history = usable.then(|| {
            let log = &self.host(leader).disk.log;
            LogHistory {
                preceding: log
                    .iter()
                    .map(|t| t.zxid)
                    .take_while(|z| *z <= after)
                    .last(),
                txns: log
                    .iter()
                    .filter(|t| t.zxid > after && t.zxid <= through)
                    .cloned()
                    .collect(),
            }
        });
        self.log(|| {
            format!(
                "LOGREAD {leader} for {learner} after {after:?} through {through:?}: {:?}",
                history.as_ref().map(|h| (h.preceding, h.txns.len()))
            )
        });
        // The caller carries out what the node asks next (`process`).
        if let Some(n) = self.host_mut(leader).node.as_mut() {
            n.on_sync_log(learner, after, history);
        }
    }

    pub fn check(&mut self) {
        for h in self.hosts.iter_mut() {
            if h.serving() && h.dirty {
                self.checker.check_serving(h.sid, &h.db);
            }
            h.dirty = false;
        }
    }

    /// A clock jump: `sid` sees `n` ticks at once.
    pub fn jump(&mut self, sid: Sid, n: u64) {
        self.log(|| format!("JUMP {sid} +{n}"));
        for _ in 0..n {
            if let Some(node) = self.host_mut(sid).node.as_mut() {
                node.tick();
                self.process(sid);
            }
        }
    }

    /// Everyone up, serving, with the same database.
    pub fn converged(&self) -> bool {
        let first = &self.hosts[0].db;
        self.hosts.iter().all(|h| h.serving() && h.db == *first)
    }

    fn deliver_election(&mut self) {
        let now = self.now;
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.election)
            .into_iter()
            .partition(|m| m.0 <= now);
        self.election = keep;
        for (_, from, to, msg) in due {
            if !self.connected(from, to) {
                continue;
            }
            if let Some(n) = self.host_mut(to).node.as_mut() {
                n.on_election(from, msg);
                self.process(to);
            }
        }
    }

    fn held(&self, from: Sid, to: Sid, p: &QuorumPacket) -> bool {
        self.holds
            .iter()
            .any(|h| h.from == from && h.to == to && (h.kind == "*" || h.kind == packet_kind(p)))
    }

    fn deliver_quorum(&mut self) {
        let keys: Vec<(Sid, Sid)> = self.conns.keys().copied().collect();
        for key in keys {
            if !self.connected(key.0, key.1) {
                continue;
            }
            for up in [true, false] {
                let (from, to) = if up { key } else { (key.1, key.0) };
                while let Some(p) = self.pop_due(key, up, from, to) {
                    self.log(|| format!("RECV {to}<-{from} {p:?}"));
                    if let Some(n) = self.host_mut(to).node.as_mut() {
                        n.on_quorum(from, p);
                        self.process(to);
                    }
                    self.drain_closed();
                }
            }
        }
    }

    /// The head packet of one direction of `key`, if due and not held.
    fn pop_due(&mut self, key: (Sid, Sid), up: bool, from: Sid, to: Sid) -> Option<QuorumPacket> {
        let c = self.conns.get(&key)?;
        let q = if up { &c.up } else { &c.down };
        let (due, p) = q.front()?;
        if *due > self.now || self.held(from, to, p) {
            return None;
        }
        let c = self.conns.get_mut(&key)?;
        let q = if up { &mut c.up } else { &mut c.down };
        q.pop_front().map(|(_, p)| p)
    }

    fn drain_closed(&mut self) {
        while let Some((to, peer, key)) = self.closed.pop_front() {
            if self.conns.contains_key(&key) {
                continue; // superseded by a newer connection
            }
            if let Some(n) = self.host_mut(to).node.as_mut() {
                n.on_disconnected(peer);
                self.process(to);
            }
        }
    }

    fn finish_persistence(&mut self) {
        for sid in self.sids() {
            let now = self.now;
            loop {
                let h = self.host_mut(sid);
                if h.stall_disk || h.node.is_none() {
                    break;
                }
                let Some(p) = h.pending.front() else { break };
                if p.due > now {
                    break;
                }
                let Some(p) = h.pending.pop_front() else {
                    break;
                };
                self.complete(sid, p);
            }
        }
    }

    /// Completes the oldest pending command of `sid` now, regardless of its
    /// delay (scenarios use it to persist exactly what they want).
    pub fn persist_one(&mut self, sid: Sid) -> bool {
        match self.host_mut(sid).pending.pop_front() {
            Some(p) => {
                self.complete(sid, p);
                true
            }
            None => false,
        }
    }
    pub fn pending_ops(&self, sid: Sid) -> Vec<PersistOp> {
        self.host(sid)
            .pending
            .iter()
            .map(|p| p.op.clone())
            .collect()
    }

    fn complete(&mut self, sid: Sid, p: Pending) {
        let d = &mut self.host_mut(sid).disk;
        match &p.op {
            PersistOp::Append(t) => d.log.push(t.clone()),
            PersistOp::Truncate(z) => d.log.retain(|t| t.zxid <= *z),
            PersistOp::AcceptedEpoch(e) => d.accepted_epoch = *e,
            PersistOp::CurrentEpoch(e) => d.current_epoch = *e,
            PersistOp::Snapshot { zxid } => {
                d.snapshot = (*zxid, p.image);
                let z = *zxid;
                d.log.retain(|t| t.zxid > z);
            }
        }
        self.log(|| format!("DURABLE {sid} #{} {:?}", p.id, p.op));
        if let Some(n) = self.host_mut(sid).node.as_mut() {
            n.persisted(p.id);
            self.process(sid);
        }
    }

    fn delay(&mut self) -> u64 {
        self.rng.below(self.faults.max_delay + 1)
    }

    fn quorum_key(&self, me: Sid, to: Sid) -> (Sid, Sid) {
        if self.host(me).role.0 == ServerState::Leading {
            (to, me)
        } else {
            (me, to)
        }
    }

    fn send_quorum(&mut self, me: Sid, to: Sid, p: QuorumPacket) {
        let key = self.quorum_key(me, to);
        let due0 = self.now + self.delay();
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        let q = if key.0 == me { &mut c.up } else { &mut c.down };
        let due = q.back().map_or(due0, |b| b.0.max(due0));
        q.push_back((due, p));
    }

    /// Carries out everything `sid`'s node asked for.
    pub fn process(&mut self, sid: Sid) {
        loop {
            let Some(node) = self.host_mut(sid).node.as_mut() else {
                return;
            };
            let actions = node.take_actions();
            if actions.is_empty() {
                return;
            }
            for a in actions {
                self.carry_out(sid, a);
            }
        }
    }

    fn carry_out(&mut self, me: Sid, a: Action) {
        match a {
            Action::Elect { to, msg } => {
                if self.rng.chance(self.faults.election_loss) {
                    return;
                }
                let copies = if self.rng.chance(self.faults.election_dup) {
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let due = self.now + self.delay();
                    self.election.push((due, me, to, msg.clone()));
                }
            }
            Action::Connect { leader } => {
                if self.conns.contains_key(&(me, leader)) {
                    self.close((me, leader));
                }
                self.next_conn += 1;
                let c = Conn {
                    id: self.next_conn,
                    up: VecDeque::new(),
                    down: VecDeque::new(),
                };
                self.log(|| format!("CONNECT {me}->{leader} #{}", c.id));
                self.conns.insert((me, leader), c);
                if !self.host(leader).is_up() || !self.connected(me, leader) {
                    self.close((me, leader));
                }
            }
            Action::Send { to, packet } => {
                self.log(|| format!("SEND {me}->{to} {packet:?}"));
                if self.record {
                    self.sent.push((me, to, packet.clone()));
                }
                self.send_quorum(me, to, packet);
            }
            Action::SendSnapshot { to, zxid } => {
                let db = &self.host(me).db;
                let at = db.last().map_or(Zxid::ZERO, |t| t.zxid);
                let snapshot = encode_db(db);
                if at != zxid && at != Zxid::ZERO {
                    self.checker.fail(format!(
                        "sid {me}: SNAP at {zxid:?} but database is at {at:?}"
                    ));
                }
                self.log(|| format!("SEND {me}->{to} SNAP {zxid:?}"));
                let snap = QuorumPacket::Snap { zxid, snapshot };
                if self.record {
                    self.sent.push((me, to, snap.clone()));
                }
                self.send_quorum(me, to, snap);
            }
            Action::ReadSyncLog {
                learner,
                after,
                through,
            } => {
                let later = self.log_sync == LogSync::Random && self.rng.chance(500);
                if later {
                    let due = self.now + 1 + self.delay();
                    self.log_reads.push((due, me, learner, after, through));
                } else {
                    self.answer_log_read(me, learner, after, through);
                }
            }
            Action::Disconnect { peer } => self.break_conn(me, peer),
            Action::Persist { id, op } => {
                let image = match op {
                    PersistOp::Snapshot { .. } => self.host(me).db.clone(),
                    _ => Vec::new(),
                };
                let extra = self.rng.below(self.faults.max_persist_delay + 1);
                let now = self.now;
                let h = self.host_mut(me);
                // Latency, not service time: one fsync covers every write
                // queued before it (group commit), in order.
                let due = h.pending.back().map_or(0, |p| p.due).max(now + extra);
                h.pending.push_back(Pending { id, op, image, due });
            }
            Action::Apply(txn) => {
                let i = self.idx(me);
                let h = &mut self.hosts[i];
                if h.db.last().is_some_and(|l| l.zxid >= txn.zxid) {
                    let msg = format!(
                        "sid {me}: applied {:?} after {:?}",
                        txn.zxid,
                        h.db.last().map(|t| t.zxid)
                    );
                    self.checker.fail(msg);
                }
                let leader_commit = h.role == (ServerState::Leading, true);
                h.db.push(txn.clone());
                h.dirty = true;
                if leader_commit && self.checker.submitted.contains(&txn.data) {
                    self.log(|| format!("ACKED {me} {:?}", txn.zxid));
                    self.checker.acked.insert(txn.zxid, txn.data);
                }
            }
            Action::Rollback { to } => {
                self.log(|| format!("ROLLBACK {me} to {to:?}"));
                let h = self.host_mut(me);
                h.db.retain(|t| t.zxid <= to);
                h.dirty = true;
            }
            Action::LoadSnapshot { zxid, snapshot } => match decode_db(&snapshot) {
                Some(db) => {
                    self.log(|| format!("LOADSNAP {me} {zxid:?}"));
                    let h = self.host_mut(me);
                    h.db = db;
                    h.dirty = true;
                }
                None => self.checker.fail(format!("sid {me}: undecodable snapshot")),
            },
            Action::State {
                state,
                epoch,
                broadcast,
            } => {
                self.log(|| format!("STATE {me} {state:?} epoch={epoch} broadcast={broadcast}"));
                let h = self.host_mut(me);
                h.role = (state, broadcast);
                h.dirty = true;
                if state == ServerState::Leading && broadcast {
                    let db = self.host(me).db.clone();
                    self.checker.on_established(epoch, me, &db);
                }
            }
        }
    }
}
