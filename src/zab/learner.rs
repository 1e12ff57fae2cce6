//! A follower (`Learner.registerWithLeader`, `syncWithLeader`,
//! `Follower.processPacket`), with ZooKeeper 3.8.5's durability order:
//! at NEWLEADER the held txns are logged and fsynced, then currentEpoch is
//! written, and only then is NEWLEADER acked (ZOOKEEPER-4785/3911/4646/4643).

use std::collections::VecDeque;

use super::message::{Action, PersistOp, QuorumPacket, PROTOCOL_VERSION};
use super::node::{Core, Next};
use super::types::{Epoch, ServerState, Sid, Txn, Zxid};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    WantLeaderInfo,
    WantSyncMode,
    Syncing,
    Broadcast,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Diff,
    Trunc,
    Snap,
}

#[derive(Debug)]
pub struct Learner {
    leader: Sid,
    phase: Phase,
    mode: Mode,
    new_epoch: Epoch,
    tries: u32,
    retry_at: Option<u64>,
    last_heard: u64,
    newleader_seen: bool,
    /// PROPOSALs received during sync, not yet logged (`packetsNotLogged`).
    not_logged: VecDeque<Txn>,
    /// Logged at NEWLEADER; acked after UPTODATE (3.8.5, ZOOKEEPER-4685: an
    /// ACK of these must not overtake the NEWLEADER ACK).
    logged_unacked: Vec<Zxid>,
    /// COMMITs received during sync, applied after UPTODATE (`packetsCommitted`).
    committed: Vec<Zxid>,
    /// The zxid of the snapshot saved when SNAP loaded: NEWLEADER saves
    /// another only if something was applied since (Java takes one).
    snapshot_saved: Option<Zxid>,
}

impl Learner {
    pub fn start(core: &mut Core, leader: Sid) -> Learner {
        core.emit(Action::State {
            state: ServerState::Following,
            epoch: 0,
            broadcast: false,
        });
        let mut l = Learner {
            leader,
            phase: Phase::WantLeaderInfo,
            mode: Mode::Diff,
            new_epoch: 0,
            tries: 1,
            retry_at: None,
            last_heard: core.now,
            newleader_seen: false,
            not_logged: VecDeque::new(),
            logged_unacked: Vec::new(),
            committed: Vec::new(),
            snapshot_saved: None,
        };
        l.connect(core);
        l
    }

    pub fn leader(&self) -> Sid {
        self.leader
    }
    pub fn is_broadcasting(&self) -> bool {
        self.phase == Phase::Broadcast
    }

    fn connect(&mut self, core: &mut Core) {
        core.emit(Action::Connect {
            leader: self.leader,
        });
        let info = QuorumPacket::FollowerInfo {
            zxid: Zxid::new(core.accepted_epoch, 0),
            sid: core.cfg.my_sid,
            protocol_version: PROTOCOL_VERSION,
        };
        core.send(self.leader, info);
    }

    fn quit(&self, core: &mut Core, reason: &'static str) -> Next {
        core.emit(Action::Disconnect { peer: self.leader });
        Next::Look(reason)
    }

    pub fn tick(&mut self, core: &mut Core) -> Next {
        if self.retry_at.is_some_and(|at| core.now >= at) {
            self.retry_at = None;
            self.connect(core);
        }
        // Read timeout: initLimit until NEWLEADER, syncLimit after it.
        let limit = if self.newleader_seen {
            core.cfg.sync_ticks()
        } else {
            core.cfg.init_ticks()
        };
        if core.now > self.last_heard + limit {
            return self.quit(core, "leader timed out");
        }
        Next::Stay
    }

    pub fn on_disconnected(&mut self, core: &mut Core, peer: Sid) -> Next {
        if peer != self.leader {
            return Next::Stay;
        }
        if self.phase == Phase::WantLeaderInfo && self.tries < core.cfg.connect_tries {
            // LeaderConnector: the leader may not be listening yet.
            self.tries += 1;
            self.retry_at = Some(core.now + core.cfg.ticks(core.cfg.connect_retry_ms));
            return Next::Stay;
        }
        Next::Look("leader connection closed")
    }

    pub fn on_packet(&mut self, core: &mut Core, from: Sid, packet: QuorumPacket) -> Next {
        if from != self.leader {
            core.emit(Action::Disconnect { peer: from });
            return Next::Stay;
        }
        self.last_heard = core.now;
        match (self.phase, packet) {
            (Phase::WantLeaderInfo, QuorumPacket::LeaderInfo { zxid, .. }) => {
                self.on_leader_info(core, zxid)
            }
            (Phase::WantSyncMode, QuorumPacket::Diff { .. }) => {
                self.mode = Mode::Diff;
                self.phase = Phase::Syncing;
                Next::Stay
            }
            (Phase::WantSyncMode, QuorumPacket::Trunc { zxid }) => {
                if !core.log.truncate(zxid) {
                    return self.quit(core, "cannot truncate to the leader's zxid");
                }
                core.persist(PersistOp::Truncate(zxid));
                core.emit(Action::Rollback { to: zxid });
                self.mode = Mode::Trunc;
                self.phase = Phase::Syncing;
                Next::Stay
            }
            (Phase::WantSyncMode, QuorumPacket::Snap { zxid, snapshot }) => {
                core.emit(Action::LoadSnapshot { zxid, snapshot });
                core.log.reset_to(zxid);
                // ZOOKEEPER-3642: the loaded state is saved before anything
                // else, or a later vote or DIFF could build on a database
                // that a restart no longer has.
                core.persist(PersistOp::Snapshot { zxid });
                self.snapshot_saved = Some(zxid);
                self.mode = Mode::Snap;
                self.phase = Phase::Syncing;
                Next::Stay
            }
            (Phase::Syncing, QuorumPacket::Proposal { txn }) => {
                self.not_logged.push_back(txn);
                Next::Stay
            }
            (Phase::Syncing, QuorumPacket::Commit { zxid }) => {
                self.on_sync_commit(core, zxid);
                Next::Stay
            }
            (Phase::Syncing, QuorumPacket::NewLeader { zxid }) => self.on_new_leader(core, zxid),
            (Phase::Syncing, QuorumPacket::UpToDate) => self.on_up_to_date(core),
            (Phase::Syncing, QuorumPacket::Ping { .. }) => Next::Stay,
            (Phase::Broadcast, QuorumPacket::Proposal { txn }) => {
                if txn.zxid <= core.log.last_zxid() {
                    return self.quit(core, "proposal zxid not after the last logged one");
                }
                self.log_and_ack(core, txn);
                Next::Stay
            }
            (Phase::Broadcast, QuorumPacket::Commit { zxid }) => self.commit(core, zxid),
            (Phase::Broadcast, QuorumPacket::Ping { zxid }) => {
                core.send(self.leader, QuorumPacket::Ping { zxid });
                Next::Stay
            }
            (Phase::Broadcast, QuorumPacket::Sync { .. }) => Next::Stay,
            _ => self.quit(core, "unexpected packet from the leader"),
        }
    }

    fn on_leader_info(&mut self, core: &mut Core, zxid: Zxid) -> Next {
        self.new_epoch = zxid.epoch();
        let last = core.log.last_zxid();
        if self.new_epoch > core.accepted_epoch {
            // acceptedEpoch is durable before ACKEPOCH promises it.
            core.accepted_epoch = self.new_epoch;
            core.persist(PersistOp::AcceptedEpoch(self.new_epoch));
            let current_epoch = i32::try_from(core.current_epoch).unwrap_or(i32::MAX);
            core.send_after_durable(
                self.leader,
                QuorumPacket::AckEpoch {
                    zxid: last,
                    current_epoch,
                },
            );
        } else if self.new_epoch == core.accepted_epoch {
            core.send(
                self.leader,
                QuorumPacket::AckEpoch {
                    zxid: last,
                    current_epoch: -1,
                },
            );
        } else {
            return self.quit(core, "leader's epoch is older than our accepted epoch");
        }
        self.phase = Phase::WantSyncMode;
        Next::Stay
    }

    /// Before NEWLEADER a SNAP/TRUNC learner applies commits in memory (the
    /// NEWLEADER snapshot makes them durable); a DIFF learner remembers them.
    fn on_sync_commit(&mut self, core: &mut Core, zxid: Zxid) {
        if !self.newleader_seen && self.mode != Mode::Diff {
            if self.not_logged.front().is_some_and(|t| t.zxid == zxid) {
                if let Some(txn) = self.not_logged.pop_front() {
                    core.log.apply_unlogged(txn.clone());
                    core.apply(txn);
                }
            }
        } else {
            // ZOOKEEPER-4394: a COMMIT before UPTODATE is only remembered.
            self.committed.push(zxid);
        }
    }

    /// Leaving the role. Commits a SNAP/TRUNC learner applied in memory
    /// before NEWLEADER exist nowhere on disk; save them before the next
    /// vote claims them (ZOOKEEPER-3642's shape).
    pub fn on_exit(&mut self, core: &mut Core) {
        if self.phase == Phase::Syncing && !self.newleader_seen && self.mode != Mode::Diff {
            core.persist(PersistOp::Snapshot {
                zxid: core.log.applied(),
            });
        }
    }

    fn on_new_leader(&mut self, core: &mut Core, zxid: Zxid) -> Next {
        if self.newleader_seen || zxid.epoch() != self.new_epoch {
            return self.quit(core, "unexpected NEWLEADER");
        }
        self.newleader_seen = true;
        // ZOOKEEPER-3642: the synced state must be on disk before we ack;
        // the snapshot saved when SNAP loaded already is, if nothing was
        // applied since.
        if self.mode != Mode::Diff && self.snapshot_saved != Some(core.log.applied()) {
            core.persist(PersistOp::Snapshot {
                zxid: core.log.applied(),
            });
        }
        // Proposals of the new epoch (forwarded to a learner joining an
        // established leader) are logged after the epoch write: a crash in
        // between must not leave a log newer than currentEpoch, a state
        // ZooKeeper refuses to start from.
        let (old, new): (Vec<Txn>, Vec<Txn>) = std::mem::take(&mut self.not_logged)
            .into_iter()
            .partition(|t| t.zxid.epoch() < self.new_epoch);
        for txn in old {
            self.logged_unacked.push(txn.zxid);
            core.log.append(txn.clone());
            core.persist(PersistOp::Append(txn));
        }
        // ZOOKEEPER-4643: currentEpoch only after the txns, or a crash leaves
        // a node whose epoch claims history it does not have.
        core.current_epoch = self.new_epoch;
        core.persist(PersistOp::CurrentEpoch(self.new_epoch));
        core.send_after_durable(self.leader, QuorumPacket::Ack { zxid });
        for txn in new {
            self.logged_unacked.push(txn.zxid);
            core.log.append(txn.clone());
            core.persist(PersistOp::Append(txn));
        }
        Next::Stay
    }

    fn on_up_to_date(&mut self, core: &mut Core) -> Next {
        if !self.newleader_seen {
            return self.quit(core, "UPTODATE before NEWLEADER");
        }
        core.send(
            self.leader,
            QuorumPacket::Ack {
                zxid: Zxid::new(self.new_epoch, 0),
            },
        );
        for zxid in std::mem::take(&mut self.logged_unacked) {
            core.send_after_durable(self.leader, QuorumPacket::Ack { zxid });
        }
        for txn in std::mem::take(&mut self.not_logged) {
            self.log_and_ack(core, txn);
        }
        self.phase = Phase::Broadcast;
        core.vote.peer_epoch = self.new_epoch;
        core.emit(Action::State {
            state: ServerState::Following,
            epoch: self.new_epoch,
            broadcast: true,
        });
        for zxid in std::mem::take(&mut self.committed) {
            if let Next::Look(r) = self.commit(core, zxid) {
                return Next::Look(r);
            }
        }
        Next::Stay
    }

    /// Log-before-ack: the ACK is released only once the append is durable.
    fn log_and_ack(&mut self, core: &mut Core, txn: Txn) {
        let zxid = txn.zxid;
        core.log.append(txn.clone());
        core.persist(PersistOp::Append(txn));
        core.send_after_durable(self.leader, QuorumPacket::Ack { zxid });
    }

    /// Apply in zxid order; a COMMIT that is not the next pending txn is a
    /// protocol break (ZooKeeper exits the JVM; we rejoin through election).
    fn commit(&mut self, core: &mut Core, zxid: Zxid) -> Next {
        if zxid <= core.log.applied() {
            return Next::Stay;
        }
        if !core.log.mark_applied(zxid) {
            return self.quit(core, "COMMIT is not the next pending txn");
        }
        if let Some(txn) = core.log.get(zxid).cloned() {
            core.apply(txn);
        }
        core.log.trim(core.cfg.commit_log_count);
        Next::Stay
    }
}
