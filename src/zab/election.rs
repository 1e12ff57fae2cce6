//! FastLeaderElection (`FastLeaderElection.lookForLeader`) as a state machine.
//!
//! One round: bump the logical clock, vote for yourself with (currentEpoch,
//! lastLoggedZxid, sid), adopt any better vote and re-broadcast, and once a
//! quorum's votes equal yours wait finalizeWait for a better one before
//! deciding. Notifications from FOLLOWING/LEADING peers let a late joiner
//! find an ensemble that already has a leader (`outofelection`).

use std::collections::BTreeMap;

use super::message::{Action, Notification};
use super::node::Core;
use super::types::{Epoch, ServerState, Sid, Zxid};

/// A vote as FLE keeps it (`Vote.java`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    pub leader: Sid,
    pub zxid: Zxid,
    pub election_epoch: Epoch,
    pub peer_epoch: Epoch,
    pub state: ServerState,
}

impl Vote {
    /// `Vote.equals`: a vote of a settled peer (FOLLOWING/LEADING) matches on
    /// the leader and its epoch only; while either side is LOOKING every
    /// field must match.
    pub fn matches(&self, other: &Vote) -> bool {
        if self.state == ServerState::Looking || other.state == ServerState::Looking {
            self.leader == other.leader
                && self.zxid == other.zxid
                && self.election_epoch == other.election_epoch
                && self.peer_epoch == other.peer_epoch
        } else {
            self.leader == other.leader && self.peer_epoch == other.peer_epoch
        }
    }

    pub fn notification(&self, state: ServerState) -> Notification {
        Notification {
            state,
            leader: self.leader,
            zxid: self.zxid,
            election_epoch: self.election_epoch,
            peer_epoch: self.peer_epoch,
        }
    }
}

/// `totalOrderPredicate`: is (epoch, zxid, sid) `new` better than `cur`?
pub fn better(new: (Epoch, Zxid, Sid), cur: (Epoch, Zxid, Sid)) -> bool {
    new > cur
}

/// What a notification or tick decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    /// The round ended: lead or follow `vote.leader`.
    Decided(Vote),
}

#[derive(Debug)]
pub struct Election {
    pub logical_clock: Epoch,
    /// (peerEpoch, zxid, leader) currently proposed.
    proposal: (Epoch, Zxid, Sid),
    recvset: BTreeMap<Sid, Vote>,
    outofelection: BTreeMap<Sid, Vote>,
    notify_interval: u64,
    last_heard: u64,
    finalize_at: Option<u64>,
}

impl Election {
    /// Starts a round (`lookForLeader`): clock + 1, vote for ourselves.
    pub fn start(core: &mut Core, logical_clock: Epoch) -> Election {
        let mut e = Election {
            logical_clock: logical_clock + 1,
            proposal: initial_vote(core),
            recvset: BTreeMap::new(),
            outofelection: BTreeMap::new(),
            notify_interval: core.cfg.ticks(core.cfg.min_notification_ms),
            last_heard: core.now,
            finalize_at: None,
        };
        e.broadcast(core);
        e
    }

    fn proposal_vote(&self) -> Vote {
        Vote {
            leader: self.proposal.2,
            zxid: self.proposal.1,
            election_epoch: self.logical_clock,
            peer_epoch: self.proposal.0,
            state: ServerState::Looking,
        }
    }

    /// `sendNotifications`: our proposal to every voter; our own copy goes
    /// straight into the recvset (ZooKeeper loops it back through its queue).
    fn broadcast(&mut self, core: &mut Core) {
        let v = self.proposal_vote();
        for to in core.cfg.others().collect::<Vec<_>>() {
            core.emit(Action::Elect {
                to,
                msg: v.notification(ServerState::Looking),
            });
        }
        self.recvset.insert(core.cfg.my_sid, v);
    }

    pub fn tick(&mut self, core: &mut Core) -> Outcome {
        if let Some(at) = self.finalize_at {
            if core.now >= at {
                return Outcome::Decided(self.decide(core));
            }
            return Outcome::Continue;
        }
        if core.now >= self.last_heard + self.notify_interval {
            // The poll timed out: resend and back off (200 ms doubling to 60 s).
            self.broadcast(core);
            self.last_heard = core.now;
            let max = core.cfg.ticks(core.cfg.max_notification_ms);
            self.notify_interval = (self.notify_interval * 2).min(max);
        }
        Outcome::Continue
    }

    fn decide(&mut self, core: &Core) -> Vote {
        let mut v = self.proposal_vote();
        v.state = if v.leader == core.cfg.my_sid {
            ServerState::Leading
        } else {
            ServerState::Following
        };
        v
    }

    pub fn on_notification(&mut self, core: &mut Core, from: Sid, n: &Notification) -> Outcome {
        // lookForLeader: only a voter's vote for a voter counts (an observer's vote
        // for nobody, NO_LEADER, never does).
        if !core.cfg.is_voter(from) || !core.cfg.is_voter(n.leader) {
            return Outcome::Continue;
        }
        // A LOOKING peer behind us learns our round at once (WorkerReceiver).
        if n.state == ServerState::Looking && n.election_epoch < self.logical_clock {
            let msg = self.proposal_vote().notification(ServerState::Looking);
            core.emit(Action::Elect { to: from, msg });
        }
        self.last_heard = core.now;
        let vote_of_n = (n.peer_epoch, n.zxid, n.leader);
        if self.finalize_at.is_some() {
            if better(vote_of_n, self.proposal) {
                self.finalize_at = None; // requeued: the round goes on
            } else {
                self.finalize_at = Some(core.now + core.cfg.ticks(core.cfg.finalize_wait_ms));
                return Outcome::Continue;
            }
        }
        match n.state {
            ServerState::Looking => self.on_looking(core, from, n),
            ServerState::Following | ServerState::Leading => self.on_settled(core, from, n),
            ServerState::Observing => Outcome::Continue,
        }
    }

    fn on_looking(&mut self, core: &mut Core, from: Sid, n: &Notification) -> Outcome {
        let theirs = (n.peer_epoch, n.zxid, n.leader);
        if n.election_epoch > self.logical_clock {
            self.logical_clock = n.election_epoch;
            self.recvset.clear();
            let mine = initial_vote(core);
            self.proposal = if better(theirs, mine) { theirs } else { mine };
            self.broadcast(core);
        } else if n.election_epoch < self.logical_clock {
            return Outcome::Continue;
        } else if better(theirs, self.proposal) {
            self.proposal = theirs;
            self.broadcast(core);
        }
        self.recvset.insert(
            from,
            Vote {
                leader: n.leader,
                zxid: n.zxid,
                election_epoch: n.election_epoch,
                peer_epoch: n.peer_epoch,
                state: ServerState::Looking,
            },
        );
        let target = self.proposal_vote();
        if core.cfg.is_quorum(count_matching(&self.recvset, &target)) {
            self.finalize_at = Some(core.now + core.cfg.ticks(core.cfg.finalize_wait_ms));
        }
        Outcome::Continue
    }

    /// `receivedFollowingNotification`: follow a leader a quorum already follows.
    fn on_settled(&mut self, core: &mut Core, from: Sid, n: &Notification) -> Outcome {
        let v = Vote {
            leader: n.leader,
            zxid: n.zxid,
            election_epoch: n.election_epoch,
            peer_epoch: n.peer_epoch,
            state: n.state,
        };
        let me = core.cfg.my_sid;
        if n.election_epoch == self.logical_clock {
            self.recvset.insert(from, v);
            if core.cfg.is_quorum(count_matching(&self.recvset, &v))
                && check_leader(
                    &self.recvset,
                    n.leader,
                    n.election_epoch,
                    me,
                    self.logical_clock,
                )
            {
                return Outcome::Decided(settled(v, me));
            }
        }
        self.outofelection.insert(from, v);
        if core.cfg.is_quorum(count_matching(&self.outofelection, &v))
            && check_leader(
                &self.outofelection,
                n.leader,
                n.election_epoch,
                me,
                self.logical_clock,
            )
        {
            self.logical_clock = n.election_epoch;
            return Outcome::Decided(settled(v, me));
        }
        Outcome::Continue
    }
}

fn settled(mut v: Vote, me: Sid) -> Vote {
    v.state = if v.leader == me {
        ServerState::Leading
    } else {
        ServerState::Following
    };
    v
}

fn initial_vote(core: &Core) -> (Epoch, Zxid, Sid) {
    (core.current_epoch, core.log.last_zxid(), core.cfg.my_sid)
}

fn count_matching(votes: &BTreeMap<Sid, Vote>, target: &Vote) -> usize {
    votes.values().filter(|v| v.matches(target)).count()
}

/// `checkLeader`: another leader must itself say LEADING; we may only lead
/// from a vote of our own round.
fn check_leader(
    votes: &BTreeMap<Sid, Vote>,
    leader: Sid,
    election_epoch: Epoch,
    me: Sid,
    clock: Epoch,
) -> bool {
    if leader == me {
        clock == election_epoch
    } else {
        votes
            .get(&leader)
            .is_some_and(|v| v.state == ServerState::Leading)
    }
}
