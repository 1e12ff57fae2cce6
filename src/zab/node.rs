//! The machine's front door: one [`Node`] per ensemble member, driven by
//! ticks and messages, emitting [`Action`]s. It owns the state every role
//! shares ([`Core`]) and swaps the role-specific state on transitions.

use std::collections::VecDeque;

use bytes::Bytes;

use super::election::{Election, Outcome, Vote};
use super::leader::Leader;
use super::learner::Learner;
use super::log::Log;
use super::message::{Action, Notification, PersistOp, QuorumPacket};
use super::sync::LogHistory;
use super::types::{Epoch, PersistId, ServerState, Sid, Txn, ZabConfig, Zxid};

/// Durable state the host loaded at start (ZooKeeper's `loadDataBase`): the
/// epoch files, the snapshot's zxid and the log entries after it.
#[derive(Clone, Debug, Default)]
pub struct Restored {
    pub accepted_epoch: Epoch,
    pub current_epoch: Epoch,
    pub snapshot_zxid: Zxid,
    pub log: Vec<Txn>,
}

/// Work waiting for persistence: released once every command issued before
/// it is durable, and dropped if the role that asked for it has ended.
#[derive(Debug)]
pub(crate) enum Deferred {
    Emit(Action),
    /// The leader's acceptedEpoch write finished: LEADERINFO may go out.
    EpochAccepted,
    /// The leader's currentEpoch write finished: it acks NEWLEADER itself.
    LeaderNewEpochDurable,
    /// The leader's own log holds this proposal durably: its self-ACK.
    LeaderLogged(Zxid),
}

/// State shared by all roles.
#[derive(Debug)]
pub struct Core {
    pub cfg: ZabConfig,
    pub log: Log,
    pub accepted_epoch: Epoch,
    pub current_epoch: Epoch,
    /// Ticks since start.
    pub now: u64,
    /// The vote we answer LOOKING peers with when we are not looking.
    pub vote: Vote,
    /// Bumped at every role change; deferred work of an old role is dropped.
    generation: u64,
    out: Vec<Action>,
    last_issued: PersistId,
    durable: PersistId,
    deferred: VecDeque<(PersistId, u64, Deferred)>,
}

impl Core {
    pub fn emit(&mut self, a: Action) {
        self.out.push(a);
    }
    pub fn send(&mut self, to: Sid, packet: QuorumPacket) {
        self.out.push(Action::Send { to, packet });
    }
    pub fn persist(&mut self, op: PersistOp) -> PersistId {
        self.last_issued += 1;
        self.out.push(Action::Persist {
            id: self.last_issued,
            op,
        });
        self.last_issued
    }
    /// Runs `d` once everything persisted so far is durable. This is how
    /// every ACK is ordered after the writes it vouches for (ZOOKEEPER-3911,
    /// 4646: an ACK sent before the fsync let a quorum "have" txns that a
    /// crash then erased).
    pub(crate) fn after_durable(&mut self, d: Deferred) {
        self.deferred
            .push_back((self.last_issued, self.generation, d));
    }
    pub fn send_after_durable(&mut self, to: Sid, packet: QuorumPacket) {
        self.after_durable(Deferred::Emit(Action::Send { to, packet }));
    }
    fn take_ready(&mut self) -> Option<Deferred> {
        loop {
            let (id, gen, _) = self.deferred.front()?;
            if *id > self.durable {
                return None;
            }
            let stale = *gen != self.generation;
            let (_, _, d) = self.deferred.pop_front()?;
            if !stale {
                return Some(d);
            }
        }
    }
    pub fn apply(&mut self, txn: Txn) {
        self.out.push(Action::Apply(txn));
    }
}

#[derive(Debug)]
enum Role {
    Looking(Election),
    Following(Learner),
    Leading(Box<Leader>),
}

/// What a role handler wants next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Stay,
    /// Back to LOOKING (lost the leader, lost the quorum, protocol error).
    Look(&'static str),
}

/// Why [`Node::propose`] refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ProposeError {
    NotLeader,
    /// ZOOKEEPER-1277: the counter would reach 0xffffffff; the leader stepped
    /// down so a new epoch starts the counter again.
    CounterExhausted,
}

#[derive(Debug)]
pub struct Node {
    core: Core,
    role: Role,
    /// The reason of the last step down, for traces.
    pub last_reason: &'static str,
}

impl Node {
    /// Starts LOOKING from the durable state. If the log (or snapshot) is
    /// of a newer epoch than `current_epoch` (a crash between a SNAP
    /// learner's NEWLEADER snapshot and its epoch write, which 3.8.5's order
    /// allows), the epoch is raised to it and rewritten: everything older was
    /// durable first, so the node holds a prefix of that epoch's history.
    /// ZooKeeper refuses to start there unless `currentEpoch.tmp` exists.
    pub fn new(cfg: ZabConfig, mut restored: Restored) -> Node {
        let me = cfg.my_sid;
        let log = Log::restored(restored.snapshot_zxid, restored.log);
        let raise_epoch = log.last_zxid().epoch() > restored.current_epoch;
        if raise_epoch {
            restored.current_epoch = log.last_zxid().epoch();
            restored.accepted_epoch = restored.accepted_epoch.max(restored.current_epoch);
        }
        let vote = Vote {
            leader: me,
            zxid: log.last_zxid(),
            election_epoch: 0,
            peer_epoch: restored.current_epoch,
            state: ServerState::Looking,
        };
        let mut core = Core {
            cfg,
            log,
            accepted_epoch: restored.accepted_epoch,
            current_epoch: restored.current_epoch,
            now: 0,
            vote,
            generation: 0,
            out: Vec::new(),
            last_issued: 0,
            durable: 0,
            deferred: VecDeque::new(),
        };
        core.emit(Action::State {
            state: ServerState::Looking,
            epoch: 0,
            broadcast: false,
        });
        if raise_epoch {
            core.persist(PersistOp::AcceptedEpoch(core.accepted_epoch));
            core.persist(PersistOp::CurrentEpoch(core.current_epoch));
        }
        let role = Role::Looking(Election::start(&mut core, 0));
        Node {
            core,
            role,
            last_reason: "start",
        }
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.core.out)
    }

    pub fn state(&self) -> ServerState {
        match &self.role {
            Role::Looking(_) => ServerState::Looking,
            Role::Following(_) => ServerState::Following,
            Role::Leading(_) => ServerState::Leading,
        }
    }
    /// In ZooKeeper's BROADCAST phase: serving clients.
    pub fn is_broadcasting(&self) -> bool {
        match &self.role {
            Role::Looking(_) => false,
            Role::Following(l) => l.is_broadcasting(),
            Role::Leading(l) => l.is_established(),
        }
    }
    pub fn config(&self) -> &ZabConfig {
        &self.core.cfg
    }
    pub fn sid(&self) -> Sid {
        self.core.cfg.my_sid
    }
    pub fn log(&self) -> &Log {
        &self.core.log
    }
    pub fn current_epoch(&self) -> Epoch {
        self.core.current_epoch
    }
    pub fn accepted_epoch(&self) -> Epoch {
        self.core.accepted_epoch
    }
    pub fn current_vote(&self) -> Vote {
        self.core.vote
    }
    #[cfg(test)]
    pub(crate) fn leader_state_mut(&mut self) -> Option<&mut Leader> {
        match &mut self.role {
            Role::Leading(l) => Some(l),
            _ => None,
        }
    }

    /// Leading: every connected learner and whether it is synced.
    pub fn learners(&self) -> Option<Vec<(Sid, bool)>> {
        match &self.role {
            Role::Leading(l) => Some(l.learners()),
            _ => None,
        }
    }

    /// Leading: a learner forwarded a client's `sync`; its SYNC follows the COMMIT of the
    /// last proposal outstanding now ([`Leader::sync`]). Not leading: nothing.
    pub fn learner_sync(&mut self, learner: Sid) {
        if let Role::Leading(l) = &mut self.role {
            l.sync(&mut self.core, learner);
        }
    }

    /// Leading: learners' syncs waiting for a COMMIT, by zxid.
    pub fn pending_syncs(&self) -> usize {
        match &self.role {
            Role::Leading(l) => l.pending_syncs(),
            _ => 0,
        }
    }

    /// The leader this node follows or is.
    pub fn leader(&self) -> Option<Sid> {
        match &self.role {
            Role::Looking(_) => None,
            Role::Following(l) => Some(l.leader()),
            Role::Leading(_) => Some(self.core.cfg.my_sid),
        }
    }

    pub fn tick(&mut self) {
        self.core.now += 1;
        let next = match &mut self.role {
            Role::Looking(e) => match e.tick(&mut self.core) {
                Outcome::Decided(v) => return self.finish_election(v),
                Outcome::Continue => Next::Stay,
            },
            Role::Following(l) => l.tick(&mut self.core),
            Role::Leading(l) => l.tick(&mut self.core),
        };
        self.settle(next);
    }

    pub fn on_election(&mut self, from: Sid, n: Notification) {
        if self.core.cfg.is_observer(from) {
            // WorkerReceiver: a non-voter (an observer finding its leader) gets our
            // current vote and state at once, whatever its state and ours, and is
            // never counted. Its LOOKING vote is for nobody (Long.MIN_VALUE).
            let election_epoch = match &self.role {
                Role::Looking(e) => e.logical_clock,
                _ => self.core.vote.election_epoch,
            };
            let mut msg = self.core.vote.notification(self.state());
            msg.election_epoch = election_epoch;
            self.core.emit(Action::Elect { to: from, msg });
            return;
        }
        let next = match &mut self.role {
            Role::Looking(e) => match e.on_notification(&mut self.core, from, &n) {
                Outcome::Decided(v) => return self.finish_election(v),
                Outcome::Continue => Next::Stay,
            },
            _ => {
                // WorkerReceiver: a settled peer answers a LOOKING one with its vote.
                if n.state == ServerState::Looking && self.core.cfg.is_voter(from) {
                    let msg = self.core.vote.notification(self.state());
                    self.core.emit(Action::Elect { to: from, msg });
                }
                Next::Stay
            }
        };
        self.settle(next);
    }

    pub fn on_quorum(&mut self, from: Sid, packet: QuorumPacket) {
        let next = match &mut self.role {
            Role::Looking(_) => {
                // Only a leader listens on the quorum port.
                self.core.emit(Action::Disconnect { peer: from });
                Next::Stay
            }
            Role::Following(l) => l.on_packet(&mut self.core, from, packet),
            Role::Leading(l) => l.on_packet(&mut self.core, from, packet),
        };
        self.settle(next);
    }

    pub fn on_disconnected(&mut self, peer: Sid) {
        let next = match &mut self.role {
            Role::Looking(_) => Next::Stay,
            Role::Following(l) => l.on_disconnected(&mut self.core, peer),
            Role::Leading(l) => l.on_disconnected(&mut self.core, peer),
        };
        self.settle(next);
    }

    /// The host finished persistence command `id` (and all before it).
    pub fn persisted(&mut self, id: PersistId) {
        self.core.durable = self.core.durable.max(id);
        self.settle(Next::Stay);
    }

    /// The host's answer to [`Action::ReadSyncLog`] for `learner` (whose
    /// last zxid was `after`): the log's history, or `None` when it cannot
    /// be used. Ignored unless that learner still waits for it.
    pub fn on_sync_log(&mut self, learner: Sid, after: Zxid, history: Option<LogHistory>) {
        let next = match &mut self.role {
            Role::Leading(l) => l.on_sync_log(&mut self.core, learner, after, history),
            _ => Next::Stay,
        };
        self.settle(next);
    }

    /// A client write arriving at this member: the leader proposes it, a
    /// learner forwards it (REQUEST). Returns the zxid on the leader.
    pub fn propose(&mut self, data: Bytes) -> Result<Option<Zxid>, ProposeError> {
        let r = match &mut self.role {
            Role::Leading(l) => l.propose(&mut self.core, data).map(Some),
            Role::Following(l) if l.is_broadcasting() => {
                let to = l.leader();
                self.core.send(to, QuorumPacket::Request { data });
                Ok(None)
            }
            _ => Err(ProposeError::NotLeader),
        };
        if r == Err(ProposeError::CounterExhausted) {
            self.settle(Next::Look("zxid counter rolled over, forcing re-election"));
        } else {
            self.settle(Next::Stay);
        }
        r
    }

    fn finish_election(&mut self, v: Vote) {
        self.core.vote = v;
        self.core.generation += 1;
        self.role = if v.leader == self.core.cfg.my_sid {
            Role::Leading(Box::new(Leader::start(&mut self.core)))
        } else {
            Role::Following(Learner::start(&mut self.core, v.leader))
        };
        self.settle(Next::Stay);
    }

    /// Releases deferred work that became durable, then applies `next`.
    fn settle(&mut self, mut next: Next) {
        while next == Next::Stay {
            let Some(d) = self.core.take_ready() else {
                break;
            };
            next = match d {
                Deferred::Emit(a) => {
                    self.core.emit(a);
                    Next::Stay
                }
                other => match &mut self.role {
                    Role::Leading(l) => l.on_durable(&mut self.core, other),
                    _ => Next::Stay,
                },
            };
        }
        if let Next::Look(reason) = next {
            if let Role::Following(l) = &mut self.role {
                l.on_exit(&mut self.core);
            }
            self.last_reason = reason;
            self.look();
        }
    }

    fn look(&mut self) {
        let clock = self.core.vote.election_epoch;
        self.core.generation += 1;
        let epoch = self.core.current_epoch;
        self.core.emit(Action::State {
            state: ServerState::Looking,
            epoch,
            broadcast: false,
        });
        // fastForwardDataBase: the database takes in every logged txn, so
        // the vote we are about to cast describes what we hold.
        for txn in self.core.log.fast_forward() {
            self.core.apply(txn);
        }
        self.role = Role::Looking(Election::start(&mut self.core, clock));
    }
}
