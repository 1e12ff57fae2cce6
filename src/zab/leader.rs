//! The leader (`Leader.lead` + one `LearnerHandler` per learner): discovery
//! (epoch agreement), sync (DIFF/TRUNC/SNAP then NEWLEADER), and broadcast
//! (pipelined proposals, commit in zxid order on a quorum of ACKs that
//! includes the leader's own once its log write is durable).
//!
//! Observers (`LearnerType.OBSERVER`, OBSERVERINFO) go through the same
//! handshake and sync but count in no quorum: not in the epoch agreement,
//! the epoch acks, the NEWLEADER acks or the synced-quorum check. After their
//! sync they get no PROPOSALs, only each commit as one INFORM
//! (`Leader.startForwarding` queues outstanding proposals for participants
//! only; `Leader.commit` informs the observers).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use bytes::Bytes;

use super::message::{Action, PersistOp, QuorumPacket, PROTOCOL_VERSION};
use super::node::{Core, Deferred, Next, ProposeError};
use super::sync::{choose, LogHistory, OnDisk, SyncPlan};
use super::types::{Epoch, ServerState, Sid, Txn, Zxid};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Collecting FOLLOWERINFOs until a quorum agrees on the new epoch.
    Discovery,
    /// acceptedEpoch is being written; LEADERINFO waits for it.
    EpochWrite,
    /// Waiting for a quorum of ACKEPOCHs (`waitForEpochAck`).
    EpochAck,
    /// Waiting for a quorum of NEWLEADER ACKs (`waitForNewLeaderAck`).
    NewLeaderAck,
    Broadcast,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HandlerState {
    WantEpoch,
    WantAckEpoch,
    /// ACKEPOCH in, waiting for the epoch-ack quorum before syncing.
    AckedEpoch,
    /// Older than the committed window: the host reads the on-disk log
    /// (`Action::ReadSyncLog`) before the sync choice.
    WantLog,
    WantNewLeaderAck,
    /// Acked NEWLEADER; UPTODATE goes out once the leader is established.
    AwaitStartup,
    Synced,
}

#[derive(Debug)]
struct Handler {
    state: HandlerState,
    peer_last: Zxid,
    /// `tickOfNextAckDeadline`, in machine ticks.
    deadline: u64,
    /// Gets PROPOSAL/COMMIT broadcasts (`forwardingFollowers`), or INFORMs
    /// if an observer (`observingLearners`).
    forwarding: bool,
    /// Came with OBSERVERINFO: never counted, informed instead of proposed to.
    observer: bool,
    /// Proposals sent and not yet acked, with their send tick (`SyncLimitCheck`).
    unacked: VecDeque<(Zxid, u64)>,
    /// COMMITs (and SYNCs) due to a learner between its NEWLEADER and its UPTODATE, sent
    /// right after the UPTODATE, in order. A Java 3.8.0 learner logs the proposals it got
    /// before NEWLEADER when NEWLEADER arrives and forgets them, so a COMMIT of one of them
    /// before UPTODATE finds nothing pending and throws (ZOOKEEPER-4394,
    /// `Learner.syncWithLeader`: NPE on `pif`); it drops the connection and the next try
    /// fails the same way while writes go on. After UPTODATE the same COMMITs match its
    /// pending txns in order.
    held: Vec<QuorumPacket>,
    /// The learner's forwarded syncs still to be answered, each with the zxid whose
    /// COMMIT its SYNC must follow (`Leader.pendingSyncs`, keyed by `lastProposed`).
    syncs: VecDeque<Zxid>,
}

impl Handler {
    /// A COMMIT or SYNC, now or, before the learner's UPTODATE, right after it.
    fn deliver(&mut self, core: &mut Core, sid: Sid, packet: QuorumPacket) {
        if self.state == HandlerState::Synced {
            core.send(sid, packet);
        } else {
            self.held.push(packet);
        }
    }
}

#[derive(Debug)]
pub struct Leader {
    phase: Phase,
    epoch: Epoch,
    connecting: BTreeSet<Sid>,
    epoch_acks: BTreeSet<Sid>,
    newleader_acks: BTreeSet<Sid>,
    handlers: BTreeMap<Sid, Handler>,
    /// Outstanding proposals and the voters that acked them.
    outstanding: BTreeMap<Zxid, BTreeSet<Sid>>,
    last_proposed: Zxid,
    phase_deadline: u64,
    next_ping: u64,
    next_quorum_check: u64,
}

impl Leader {
    pub fn start(core: &mut Core) -> Leader {
        let me = core.cfg.my_sid;
        core.emit(Action::State {
            state: ServerState::Leading,
            epoch: 0,
            broadcast: false,
        });
        let mut l = Leader {
            phase: Phase::Discovery,
            epoch: core.accepted_epoch + 1,
            connecting: BTreeSet::from([me]),
            epoch_acks: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            handlers: BTreeMap::new(),
            outstanding: BTreeMap::new(),
            last_proposed: Zxid::ZERO,
            phase_deadline: core.now + core.cfg.init_ticks(),
            next_ping: 0,
            next_quorum_check: 0,
        };
        l.check_epoch_quorum(core);
        l
    }

    /// Test hook: jump the counter to just below exhaustion.
    #[cfg(test)]
    pub(crate) fn set_last_proposed(&mut self, zxid: Zxid) {
        self.last_proposed = zxid;
    }

    /// Every connected learner and whether it is past UPTODATE.
    pub fn learners(&self) -> Vec<(Sid, bool)> {
        let mut v: Vec<(Sid, bool)> = self
            .handlers
            .iter()
            .map(|(sid, h)| (*sid, h.state == HandlerState::Synced))
            .collect();
        v.sort_unstable();
        v
    }

    pub fn is_established(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    fn newleader_zxid(&self) -> Zxid {
        Zxid::new(self.epoch, 0)
    }

    fn voters_in(core: &Core, set: &BTreeSet<Sid>) -> usize {
        set.iter().filter(|s| core.cfg.is_voter(**s)).count()
    }

    /// `getEpochToPropose`: 1 + the highest acceptedEpoch among a quorum.
    fn check_epoch_quorum(&mut self, core: &mut Core) {
        if self.phase == Phase::Discovery
            && core.cfg.is_quorum(Self::voters_in(core, &self.connecting))
        {
            self.phase = Phase::EpochWrite;
            core.accepted_epoch = self.epoch;
            core.persist(PersistOp::AcceptedEpoch(self.epoch));
            core.after_durable(Deferred::EpochAccepted);
        }
    }

    fn check_epoch_ack_quorum(&mut self, core: &mut Core) {
        if self.phase != Phase::EpochAck
            || !core.cfg.is_quorum(Self::voters_in(core, &self.epoch_acks))
        {
            return;
        }
        self.phase = Phase::NewLeaderAck;
        self.phase_deadline = core.now + core.cfg.init_ticks();
        core.current_epoch = self.epoch;
        core.persist(PersistOp::CurrentEpoch(self.epoch));
        core.after_durable(Deferred::LeaderNewEpochDurable);
        let waiting: Vec<Sid> = self
            .handlers
            .iter()
            .filter(|(_, h)| h.state == HandlerState::AckedEpoch)
            .map(|(s, _)| *s)
            .collect();
        for sid in waiting {
            self.sync_learner(core, sid, OnDisk::NotRead);
        }
    }

    fn check_newleader_quorum(&mut self, core: &mut Core) {
        if self.phase != Phase::NewLeaderAck
            || !core
                .cfg
                .is_quorum(Self::voters_in(core, &self.newleader_acks))
        {
            return;
        }
        self.phase = Phase::Broadcast;
        self.last_proposed = self.newleader_zxid();
        // ZOOKEEPER-1732: votes now carry the new epoch, so a joiner can match them.
        core.vote.peer_epoch = self.epoch;
        core.emit(Action::State {
            state: ServerState::Leading,
            epoch: self.epoch,
            broadcast: true,
        });
        self.next_ping = core.now;
        self.next_quorum_check = core.now + core.cfg.zk_tick();
        for (sid, h) in self.handlers.iter_mut() {
            if h.state == HandlerState::AwaitStartup {
                Self::up_to_date(core, *sid, h);
            }
        }
    }

    pub(crate) fn on_durable(&mut self, core: &mut Core, d: Deferred) -> Next {
        match d {
            Deferred::EpochAccepted => {
                self.phase = Phase::EpochAck;
                self.phase_deadline = core.now + core.cfg.init_ticks();
                let leader_info = QuorumPacket::LeaderInfo {
                    zxid: self.newleader_zxid(),
                    protocol_version: PROTOCOL_VERSION,
                };
                for (sid, h) in self.handlers.iter_mut() {
                    if h.state == HandlerState::WantEpoch {
                        h.state = HandlerState::WantAckEpoch;
                        core.send(*sid, leader_info.clone());
                    }
                }
                self.epoch_acks.insert(core.cfg.my_sid);
                self.check_epoch_ack_quorum(core);
            }
            Deferred::LeaderNewEpochDurable => {
                self.newleader_acks.insert(core.cfg.my_sid);
                self.check_newleader_quorum(core);
            }
            Deferred::LeaderLogged(zxid) => {
                if let Some(acks) = self.outstanding.get_mut(&zxid) {
                    acks.insert(core.cfg.my_sid);
                    self.try_commit(core);
                }
            }
            Deferred::Emit(a) => core.emit(a),
        }
        Next::Stay
    }

    /// `syncFollower` + `startForwarding` + NEWLEADER, atomically (ZooKeeper
    /// holds the log lock for the same reason: no commit may slip between the
    /// sync choice and forwarding, ZOOKEEPER-3104). A learner older than the
    /// window waits for the host's read of the on-disk log first; the choice
    /// is then made on the window as it is when the answer comes.
    fn sync_learner(&mut self, core: &mut Core, sid: Sid, disk: OnDisk) {
        let Some(h) = self.handlers.get_mut(&sid) else {
            return;
        };
        let window: Vec<Zxid> = core.log.committed_window().map(|t| t.zxid).collect();
        let applied = core.log.applied();
        let plan = match choose(&window, applied, h.peer_last, disk) {
            SyncPlan::ReadLog { through } => {
                if let OnDisk::NotRead = disk {
                    h.state = HandlerState::WantLog;
                    core.emit(Action::ReadSyncLog {
                        learner: sid,
                        after: h.peer_last,
                        through,
                    });
                    return;
                }
                SyncPlan::Snap
            }
            plan => plan,
        };
        let reaches = plan.reaches(h.peer_last, applied);
        let send = match plan {
            SyncPlan::Diff { zxid, send } => {
                core.send(sid, QuorumPacket::Diff { zxid });
                send
            }
            SyncPlan::Trunc { zxid, send } => {
                core.send(sid, QuorumPacket::Trunc { zxid });
                send
            }
            SyncPlan::Snap | SyncPlan::ReadLog { .. } => {
                core.emit(Action::SendSnapshot {
                    to: sid,
                    zxid: applied,
                });
                Vec::new()
            }
        };
        let logged = match disk {
            OnDisk::Read(history) => Some(history),
            _ => None,
        };
        for z in send {
            let txn = core
                .log
                .get(z)
                .or_else(|| logged.and_then(|l| l.get(z)))
                .cloned();
            if let Some(txn) = txn {
                core.send(sid, QuorumPacket::Proposal { txn });
                core.send(sid, QuorumPacket::Commit { zxid: z });
            }
        }
        // Outstanding proposals go to participants only; an observer gets
        // each as INFORM when it commits.
        let pending: Vec<Txn> = if h.observer {
            Vec::new()
        } else {
            core.log.unapplied_after(reaches).cloned().collect()
        };
        for txn in pending {
            h.unacked.push_back((txn.zxid, core.now));
            core.send(sid, QuorumPacket::Proposal { txn });
        }
        h.forwarding = true;
        h.state = HandlerState::WantNewLeaderAck;
        core.send(
            sid,
            QuorumPacket::NewLeader {
                zxid: self.newleader_zxid(),
            },
        );
    }

    /// The host's read of the on-disk log for a learner waiting in `WantLog`.
    pub fn on_sync_log(
        &mut self,
        core: &mut Core,
        sid: Sid,
        after: Zxid,
        history: Option<LogHistory>,
    ) -> Next {
        let waiting = self
            .handlers
            .get(&sid)
            .is_some_and(|h| h.state == HandlerState::WantLog && h.peer_last == after);
        if waiting {
            let disk = history.as_ref().map_or(OnDisk::Unusable, OnDisk::Read);
            self.sync_learner(core, sid, disk);
        }
        Next::Stay
    }

    /// UPTODATE, then the COMMITs and SYNCs held back since NEWLEADER (see `held`).
    fn up_to_date(core: &mut Core, sid: Sid, h: &mut Handler) {
        h.state = HandlerState::Synced;
        core.send(sid, QuorumPacket::UpToDate);
        for packet in std::mem::take(&mut h.held) {
            core.send(sid, packet);
        }
    }

    /// `Leader.processSync`: a learner forwarded a client's `sync`. Its SYNC goes out right
    /// after the COMMIT of the last proposal outstanding now, or at once if none is, so it
    /// sits between the COMMITs of the learner's requests forwarded before and after it.
    /// A Java learner depends on that order: its CommitProcessor matches every commit (a
    /// SYNC is one) against the oldest of its clients' requests still waiting, and a commit
    /// that overtakes it is taken for another server's; the request it overtook then waits
    /// for ever, and every later one of its clients behind it. Answering a sync once the
    /// txns before it had been applied let the COMMITs of later ones, committed in the same
    /// pass, go first (and at a new epoch's start the SYNC waited for the next txn).
    /// A learner that has gone gets nothing (Java queues it on the dead handler).
    pub fn sync(&mut self, core: &mut Core, learner: Sid) {
        let Some(h) = self.handlers.get_mut(&learner) else {
            return;
        };
        if self.outstanding.is_empty() {
            h.deliver(core, learner, QuorumPacket::Sync { zxid: Zxid::ZERO });
        } else {
            h.syncs.push_back(self.last_proposed);
        }
    }

    /// Syncs waiting for a COMMIT, counted by that zxid (`Leader.getNumPendingSyncs`).
    pub fn pending_syncs(&self) -> usize {
        let zxids: BTreeSet<Zxid> = self
            .handlers
            .values()
            .flat_map(|h| h.syncs.iter().copied())
            .collect();
        zxids.len()
    }

    fn drop_handler(&mut self, core: &mut Core, sid: Sid) {
        self.handlers.remove(&sid);
        core.emit(Action::Disconnect { peer: sid });
    }

    fn shutdown(&mut self, core: &mut Core, reason: &'static str) -> Next {
        for sid in std::mem::take(&mut self.handlers).into_keys() {
            core.emit(Action::Disconnect { peer: sid });
        }
        Next::Look(reason)
    }

    pub fn on_disconnected(&mut self, _core: &mut Core, peer: Sid) -> Next {
        self.handlers.remove(&peer);
        Next::Stay
    }

    pub fn on_packet(&mut self, core: &mut Core, from: Sid, packet: QuorumPacket) -> Next {
        match packet {
            QuorumPacket::FollowerInfo { zxid, .. } => {
                return self.on_learner_info(core, from, zxid, false)
            }
            QuorumPacket::ObserverInfo { zxid, .. } => {
                return self.on_learner_info(core, from, zxid, true)
            }
            _ => {}
        }
        let newleader_zxid = self.newleader_zxid();
        let phase = self.phase;
        let Some(h) = self.handlers.get_mut(&from) else {
            core.emit(Action::Disconnect { peer: from });
            return Next::Stay;
        };
        h.deadline = core.now + core.cfg.sync_ticks();
        let state = h.state;
        match (state, packet) {
            (
                HandlerState::WantAckEpoch,
                QuorumPacket::AckEpoch {
                    zxid,
                    current_epoch,
                },
            ) => {
                h.peer_last = zxid;
                h.state = HandlerState::AckedEpoch;
                if current_epoch != -1 {
                    // waitForEpochAck: a learner with a newer history than ours
                    // must not be synced by us.
                    let theirs = (Epoch::from(current_epoch), zxid);
                    if theirs > (core.current_epoch, core.log.last_zxid()) {
                        self.drop_handler(core, from);
                        return Next::Stay;
                    }
                    if !h.observer {
                        self.epoch_acks.insert(from);
                    }
                }
                if self.phase >= Phase::NewLeaderAck {
                    self.sync_learner(core, from, OnDisk::NotRead);
                } else {
                    self.check_epoch_ack_quorum(core);
                }
            }
            (HandlerState::WantNewLeaderAck, QuorumPacket::Ack { zxid }) => {
                // Only an ACK of the NEWLEADER zxid counts; an overtaking
                // proposal ACK (ZOOKEEPER-4685) leaves the learner uncounted.
                if phase == Phase::Broadcast {
                    Self::up_to_date(core, from, h);
                } else {
                    h.state = HandlerState::AwaitStartup;
                    if zxid == newleader_zxid && !h.observer {
                        self.newleader_acks.insert(from);
                    }
                    self.check_newleader_quorum(core);
                }
            }
            (HandlerState::AwaitStartup | HandlerState::Synced, QuorumPacket::Ack { zxid }) => {
                self.process_ack(core, from, zxid);
            }
            (HandlerState::AwaitStartup | HandlerState::Synced, QuorumPacket::Ping { .. }) => {}
            (HandlerState::Synced, QuorumPacket::Request { data }) => {
                if let Err(ProposeError::CounterExhausted) = self.propose(core, data) {
                    return self.shutdown(core, "zxid counter rolled over, forcing re-election");
                }
            }
            _ => self.drop_handler(core, from),
        }
        Next::Stay
    }

    /// FOLLOWERINFO from a voter or OBSERVERINFO from an observer; any other
    /// sender is closed (Java would take an unlisted sid, or a voter's
    /// OBSERVERINFO, as the kind of learner it claims to be; here only the
    /// configuration decides who may vote or observe). An observer's
    /// acceptedEpoch still raises the new epoch (`getEpochToPropose` raises it
    /// for every learner and counts only participants).
    fn on_learner_info(&mut self, core: &mut Core, from: Sid, zxid: Zxid, observer: bool) -> Next {
        let listed = if observer {
            core.cfg.is_observer(from)
        } else {
            core.cfg.is_voter(from)
        };
        if !listed {
            core.emit(Action::Disconnect { peer: from });
            return Next::Stay;
        }
        let mut h = Handler {
            state: HandlerState::WantEpoch,
            peer_last: Zxid::ZERO,
            deadline: core.now + core.cfg.init_ticks() + core.cfg.sync_ticks(),
            forwarding: false,
            observer,
            unacked: VecDeque::new(),
            held: Vec::new(),
            syncs: VecDeque::new(),
        };
        if self.phase == Phase::Discovery {
            if !observer {
                self.connecting.insert(from);
            }
            if zxid.epoch() >= self.epoch {
                self.epoch = zxid.epoch() + 1;
            }
        } else if self.phase > Phase::EpochWrite {
            h.state = HandlerState::WantAckEpoch;
            let packet = QuorumPacket::LeaderInfo {
                zxid: self.newleader_zxid(),
                protocol_version: PROTOCOL_VERSION,
            };
            core.send(from, packet);
        }
        self.handlers.insert(from, h);
        self.check_epoch_quorum(core);
        Next::Stay
    }

    /// `processAck`: counter-0 (NEWLEADER/UPTODATE) and unknown zxids are ignored.
    fn process_ack(&mut self, core: &mut Core, from: Sid, zxid: Zxid) {
        if let Some(h) = self.handlers.get_mut(&from) {
            while h.unacked.front().is_some_and(|(z, _)| *z <= zxid) {
                h.unacked.pop_front();
            }
        }
        if zxid.counter() == 0 || !core.cfg.is_voter(from) {
            return;
        }
        if let Some(acks) = self.outstanding.get_mut(&zxid) {
            acks.insert(from);
            self.try_commit(core);
        }
    }

    /// `tryToCommit`, in zxid order: a proposal commits only once every
    /// earlier one has.
    fn try_commit(&mut self, core: &mut Core) {
        while let Some((&zxid, acks)) = self.outstanding.iter().next() {
            if !core.cfg.is_quorum(Self::voters_in(core, acks)) {
                break;
            }
            self.outstanding.remove(&zxid);
            let Some(txn) = core.log.get(zxid).cloned() else {
                break;
            };
            core.log.mark_applied(zxid);
            core.apply(txn.clone());
            for (sid, h) in self.handlers.iter_mut() {
                if h.forwarding && h.observer {
                    // At once, before UPTODATE too: a Java observer applies an INFORM
                    // during its sync (`Learner.syncWithLeader`), as Java's leader sends it.
                    core.send(*sid, QuorumPacket::Inform { txn: txn.clone() });
                } else if h.forwarding {
                    h.deliver(core, *sid, QuorumPacket::Commit { zxid });
                }
                while h.syncs.front().is_some_and(|z| *z <= zxid) {
                    h.syncs.pop_front();
                    h.deliver(core, *sid, QuorumPacket::Sync { zxid: Zxid::ZERO });
                }
            }
        }
        core.log.trim(core.cfg.commit_log_count);
    }

    pub fn propose(&mut self, core: &mut Core, data: Bytes) -> Result<Zxid, ProposeError> {
        if self.phase != Phase::Broadcast {
            return Err(ProposeError::NotLeader);
        }
        // ZOOKEEPER-1277: never use counter 0xffffffff; a new epoch restarts it.
        let zxid = match self.last_proposed.next() {
            Some(z) if z.counter() != u32::MAX => z,
            _ => {
                self.shutdown(core, "zxid counter rolled over");
                return Err(ProposeError::CounterExhausted);
            }
        };
        self.last_proposed = zxid;
        let txn = Txn { zxid, data };
        core.log.append(txn.clone());
        core.persist(PersistOp::Append(txn.clone()));
        core.after_durable(Deferred::LeaderLogged(zxid));
        self.outstanding.insert(zxid, BTreeSet::new());
        for (sid, h) in self.handlers.iter_mut() {
            if h.forwarding && !h.observer {
                h.unacked.push_back((zxid, core.now));
                core.send(*sid, QuorumPacket::Proposal { txn: txn.clone() });
            }
        }
        Ok(zxid)
    }

    pub fn tick(&mut self, core: &mut Core) -> Next {
        if self.phase != Phase::Broadcast {
            if core.now >= self.phase_deadline {
                return self.shutdown(core, "timed out waiting for a quorum to join");
            }
            return Next::Stay;
        }
        if core.now >= self.next_ping {
            self.next_ping = core.now + (core.cfg.zk_tick() / 2).max(1);
            let mut stale = Vec::new();
            for (sid, h) in &self.handlers {
                if h.unacked
                    .front()
                    .is_some_and(|(_, at)| core.now - at > core.cfg.sync_ticks())
                {
                    stale.push(*sid);
                } else if h.observer && core.now > h.deadline {
                    // An observer acks nothing, so only its silence shows it is gone:
                    // Java's LearnerHandler read times out after syncLimit ticks.
                    stale.push(*sid);
                } else if h.forwarding {
                    core.send(
                        *sid,
                        QuorumPacket::Ping {
                            zxid: self.last_proposed,
                        },
                    );
                }
            }
            for sid in stale {
                self.drop_handler(core, sid);
            }
        }
        if core.now >= self.next_quorum_check {
            self.next_quorum_check = core.now + core.cfg.zk_tick();
            let synced = 1 + self
                .handlers
                .iter()
                .filter(|(s, h)| core.cfg.is_voter(**s) && core.now <= h.deadline)
                .count();
            if !core.cfg.is_quorum(synced) {
                return self.shutdown(core, "not sufficient followers synced");
            }
        }
        Next::Stay
    }
}
