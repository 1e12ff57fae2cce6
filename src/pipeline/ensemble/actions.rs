//! Carrying out the machine's actions, in the order it emits them.

use bytes::Bytes;
use tracing::{debug, error, info, warn};

use super::{Ensemble, MemberEvent};
use crate::persist::snapshot::sync_stream::write_snap_sync;
use crate::persist::txnlog::format::decode_txn;
use crate::pipeline::core::{Core, CoreObserver};
use crate::pipeline::sync::{StorageOp, SyncCmd};
use crate::quorum::translate::{packet_from_wire, Inbound, Side};
use crate::txn::LoggedTxn;
use crate::zab::{Action, PersistOp, QuorumPacket, ServerState, Txn};

/// The database as a SNAP stream (`ZKDatabase.serializeSnapshot`): what a
/// leader sends a learner and what a learner saves after a SNAP.
pub fn snapshot_stream(db: &crate::database::ZkDatabase) -> std::io::Result<Bytes> {
    let (out, _nodes) = write_snap_sync(
        Vec::with_capacity(64 * 1024),
        db.tree(),
        db.acls(),
        db.sessions(),
    )?;
    Ok(Bytes::from(out))
}

impl Core {
    fn member(&mut self) -> Option<&mut Ensemble> {
        self.ensemble.as_deref_mut()
    }

    /// One event from the ensemble's sockets.
    pub(in crate::pipeline) fn on_member_event(&mut self, ev: MemberEvent) {
        let Some(m) = self.member() else {
            return;
        };
        match ev {
            MemberEvent::Election { from, msg } => m.node.on_election(from, msg),
            MemberEvent::Snapshot { from, zxid, stream } => m.node.on_quorum(
                from,
                QuorumPacket::Snap {
                    zxid: crate::zab::Zxid(zxid),
                    snapshot: stream,
                },
            ),
            MemberEvent::Disconnected { peer } => m.node.on_disconnected(peer),
            MemberEvent::SyncLog {
                learner,
                after,
                history,
            } => m.node.on_sync_log(learner, after, history),
            MemberEvent::Wire { from, packet } => self.on_wire(from, &packet),
        }
        self.run_member_actions();
    }

    /// A quorum packet, read as the side we are on.
    fn on_wire(&mut self, from: crate::zab::Sid, packet: &jute::quorum::QuorumPacket) {
        let applied = self.db.last_processed_zxid;
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        let side = if m.state == ServerState::Leading {
            Side::Leader
        } else {
            Side::Learner
        };
        match packet_from_wire(packet, side) {
            Ok(Inbound::Zab(packet)) => {
                let following = m.is_follower();
                match &packet {
                    QuorumPacket::Sync { .. } if following => {
                        let after = m.committed.back().map_or(applied, |t| t.zxid());
                        m.sync_replies.push_back(after);
                    }
                    QuorumPacket::Proposal { txn } if following => {
                        let q = &mut self.metrics.quorum;
                        q.learner_proposal_received_count += 1;
                        if let Some(ms) = since_txn_created(&txn.data) {
                            q.proposal_latency.add(ms);
                        }
                    }
                    QuorumPacket::Commit { .. } if following => {
                        self.metrics.quorum.learner_commit_received_count += 1;
                    }
                    _ => {}
                }
                if let Some(m) = self.ensemble.as_deref_mut() {
                    m.node.on_quorum(from, packet)
                }
            }
            Ok(Inbound::Request { req, auth }) => self.on_forwarded(from, req, auth),
            Ok(Inbound::Ping { zxid, touches }) => {
                if m.is_leader() {
                    let now = self.now_ms();
                    for (session, _timeout) in touches {
                        let _ = self.sessions.touch(session, now);
                    }
                }
                if let Some(m) = self.member() {
                    m.node.on_quorum(from, QuorumPacket::Ping { zxid });
                }
            }
            // LearnerHandler's REVALIDATE: a client moved to that learner
            // with this session; it stays valid if it has not expired.
            Ok(Inbound::Revalidate { session, timeout }) => {
                if m.is_leader() {
                    self.metrics.quorum.revalidate_count += 1;
                }
                let Some(m) = self.ensemble.as_deref() else {
                    return;
                };
                let valid = m.is_leader() && {
                    let now = self.now_ms();
                    self.sessions.touch(session, now) == crate::session::TouchOutcome::Alive
                };
                if valid {
                    // Leader.revalidateSession: the client is that learner's now.
                    self.sessions
                        .set_owner(session, crate::session::SessionOwner::Learner(from));
                }
                if let Some(m) = self.member() {
                    debug!(
                        learner = from,
                        session = format_args!("0x{session:x}"),
                        timeout,
                        valid,
                        "revalidated"
                    );
                    m.io.send_revalidate_reply(from, session, valid);
                }
            }
            Ok(Inbound::RevalidateReply { session, valid }) => {
                self.on_revalidate_reply(session, valid)
            }
            // The stream follows as its own event.
            Ok(Inbound::Snap { .. }) => {}
            Ok(other) => debug!(peer = from, packet = ?other, "quorum packet not handled, ignored"),
            Err(e) => {
                warn!(peer = from, error = %e, "unreadable quorum packet: closing the connection");
                m.io.disconnect(from);
                m.node.on_disconnected(from);
            }
        }
    }

    /// The machine's clock.
    pub(in crate::pipeline) fn member_tick(&mut self) {
        if let Some(m) = self.member() {
            m.ticks += 1;
            m.node.tick();
            self.run_member_actions();
            self.refresh_quorum_status();
        }
    }

    /// The sync stage made every command through `through` durable.
    pub(in crate::pipeline) fn member_persisted(&mut self, through: u64) {
        let now = super::super::core::wall_ms();
        let q = &mut self.metrics.quorum;
        if let Some(m) = self.ensemble.as_deref_mut() {
            // Logged: the machine makes their ACKs now.
            while let Some(&(id, created)) = m.appending.front() {
                if id > through {
                    break;
                }
                m.appending.pop_front();
                if let Ok(ms) = u64::try_from(now - created) {
                    q.proposal_ack_creation_latency.add(ms);
                }
            }
        }
        if let Some(m) = self.member() {
            m.node.persisted(through);
            self.run_member_actions();
        }
    }

    /// Carries out everything the machine asked for so far, in order.
    pub(in crate::pipeline) fn run_member_actions(&mut self) {
        loop {
            let actions = match self.member() {
                Some(m) => m.node.take_actions(),
                None => return,
            };
            if actions.is_empty() {
                return;
            }
            for a in actions {
                self.carry_out(a);
            }
        }
    }

    fn carry_out(&mut self, action: Action) {
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        match action {
            Action::Elect { to, msg } => m.io.elect(to, &msg),
            Action::Connect { leader } => m.io.connect_leader(leader),
            Action::Send {
                to,
                packet: QuorumPacket::Ping { zxid },
            } if m.state == ServerState::Following => {
                let touches: Vec<(i64, i32)> = m.touches.drain().collect();
                m.io.send_ping(to, zxid, &touches);
            }
            Action::Send { to, packet } => {
                if matches!(
                    packet,
                    QuorumPacket::Diff { .. } | QuorumPacket::Trunc { .. }
                ) {
                    self.metrics.quorum.diff_count += 1;
                }
                m.io.send(to, &packet)
            }
            Action::Disconnect { peer } => m.io.disconnect(peer),
            Action::ReadSyncLog { learner, after, .. } => match &m.txnlog_sync {
                Some((sync, to_core)) => sync.read_off_core(to_core, learner, after),
                // No log on disk: SNAP. The caller's loop takes what the machine does next.
                None => m.node.on_sync_log(learner, after, None),
            },
            Action::SendSnapshot { to, zxid } => {
                self.metrics.quorum.snap_count += 1;
                self.apply_committed();
                match snapshot_stream(&self.db) {
                    Ok(stream) => {
                        if let Some(m) = self.ensemble.as_deref_mut() {
                            info!(
                                learner = to,
                                zxid = format_args!("0x{:x}", zxid.0),
                                bytes = stream.len(),
                                "Sending snapshot to learner"
                            );
                            m.io.send_snapshot(to, zxid, stream);
                        }
                    }
                    Err(e) => {
                        error!(learner = to, error = %e, "could not serialize the database for SNAP")
                    }
                }
            }
            Action::Persist { id, op } => self.persist(id, op),
            Action::Apply(txn) => self.queue_committed(txn),
            Action::Rollback { to } => self.roll_back(to.0),
            Action::LoadSnapshot { zxid, snapshot } => self.load_leader_snapshot(zxid.0, snapshot),
            Action::State {
                state,
                epoch,
                broadcast,
            } => self.on_member_state(state, epoch, broadcast),
        }
    }

    fn persist(&mut self, id: u64, op: PersistOp) {
        let op = match op {
            PersistOp::Append(txn) => {
                if let (Some(m), Some(created)) =
                    (self.ensemble.as_deref_mut(), txn_created(&txn.data))
                {
                    m.appending.push_back((id, created));
                }
                StorageOp::Append {
                    zxid: txn.zxid.0,
                    bytes: txn.data,
                }
            }
            PersistOp::Truncate(z) => StorageOp::Truncate { zxid: z.0 },
            PersistOp::AcceptedEpoch(e) => StorageOp::AcceptedEpoch(e),
            PersistOp::CurrentEpoch(e) => StorageOp::CurrentEpoch(e),
            PersistOp::Snapshot { zxid } => {
                // "The database as it is when this command is issued": every
                // txn committed before it is in.
                self.apply_committed();
                // Right after a SNAP the leader's stream is that database:
                // written as it came, not serialized again.
                let loaded = self
                    .ensemble
                    .as_deref_mut()
                    .and_then(|m| m.loaded_snapshot.take())
                    .filter(|(z, _)| *z == zxid.0 && self.db.last_processed_zxid == zxid.0);
                if let Some((_, stream)) = loaded {
                    StorageOp::Snapshot {
                        zxid: zxid.0,
                        stream,
                    }
                } else {
                    match snapshot_stream(&self.db) {
                        Ok(stream) => StorageOp::Snapshot {
                            zxid: zxid.0,
                            stream,
                        },
                        Err(e) => {
                            error!(error = %e, "could not serialize the database for a snapshot");
                            self.exit
                                .get_or_insert(super::super::core::CoreExit::LogFailed(
                                    e.to_string(),
                                ));
                            return;
                        }
                    }
                }
            }
        };
        if self.sync_tx.send(SyncCmd::Zab { id, op }).is_err() {
            error!("sync stage is gone; nothing further can be made durable");
        }
    }

    /// A committed txn, decoded once, waits for final.
    fn queue_committed(&mut self, txn: Txn) {
        match decode_txn(&txn.data) {
            Ok(d) => {
                let ms = super::super::core::wall_ms() - d.header.time;
                if let Some(m) = self.ensemble.as_deref() {
                    let q = &mut self.metrics.quorum;
                    if m.is_leader() {
                        q.commit_count += 1;
                        if ms >= 0 {
                            q.quorum_ack_latency.add(ms as u64);
                        }
                    } else if m.is_follower() && ms >= 0 {
                        q.commit_propagation_latency.add(ms as u64);
                    }
                }
                let logged = LoggedTxn {
                    header: d.header,
                    body: d.body,
                    digest: d.digest,
                };
                if let Some(m) = self.ensemble.as_deref_mut() {
                    m.committed.push_back(logged);
                }
            }
            Err(e) => {
                // The leader sent bytes we cannot apply: applying anything
                // after it would diverge, so the member stops.
                error!(zxid = format_args!("0x{:x}", txn.zxid.0), error = %e, "committed txn does not decode; stopping");
                self.exit
                    .get_or_insert(super::super::core::CoreExit::LogFailed(format!(
                        "committed txn 0x{:x} does not decode: {e}",
                        txn.zxid.0
                    )));
            }
        }
    }

    /// TRUNC: the database goes back to `zxid` (reloaded from disk up to it).
    fn roll_back(&mut self, zxid: i64) {
        self.apply_committed();
        if self.db.last_processed_zxid <= zxid {
            return;
        }
        self.reset_sessions();
        let mut obs = CoreObserver {
            metrics: &mut self.metrics,
            sessions: &mut self.sessions,
            now_ms: self.clock.mono_ms,
            watching: false,
        };
        match self.db.reload_through(zxid, &mut obs) {
            Ok(_) => info!(
                zxid = format_args!("0x{zxid:x}"),
                "database truncated for the leader's TRUNC"
            ),
            Err(e) => {
                error!(error = %e, "could not roll the database back; stopping");
                self.exit
                    .get_or_insert(super::super::core::CoreExit::LogFailed(e.to_string()));
            }
        }
        self.changes = Default::default();
    }

    /// SNAP: the leader's database replaces ours.
    fn load_leader_snapshot(&mut self, zxid: i64, snapshot: Bytes) {
        if let Some(m) = self.ensemble.as_deref_mut() {
            m.committed.clear();
        }
        self.reset_sessions();
        let mut obs = CoreObserver {
            metrics: &mut self.metrics,
            sessions: &mut self.sessions,
            now_ms: self.clock.mono_ms,
            watching: false,
        };
        match self.db.load_snapshot_from(&snapshot[..], zxid, &mut obs) {
            Ok(_) => {
                info!(
                    zxid = format_args!("0x{zxid:x}"),
                    bytes = snapshot.len(),
                    "database replaced by the leader's snapshot"
                );
                self.init_config_node();
                if let Some(m) = self.ensemble.as_deref_mut() {
                    m.loaded_snapshot = Some((zxid, snapshot));
                }
            }
            Err(e) => {
                error!(error = %e, "the leader's snapshot does not load; stopping");
                self.exit
                    .get_or_insert(super::super::core::CoreExit::LogFailed(e.to_string()));
            }
        }
        self.changes = Default::default();
        self.last_assigned_zxid = zxid;
    }

    /// A fresh session tracker: the database about to be loaded brings its
    /// own session table.
    fn reset_sessions(&mut self) {
        self.sessions = crate::session::SessionTracker::new(
            self.cfg.tick_ms,
            self.cfg.server_id,
            super::super::core::wall_ms() as u64,
        );
    }

    fn on_member_state(&mut self, state: ServerState, epoch: i64, broadcast: bool) {
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        let was_serving = m.serving;
        let now = self.clock.mono_ms;
        let q = &mut self.metrics.quorum;
        let phases = &mut m.phases;
        if state == ServerState::Looking {
            if m.state != ServerState::Looking || phases.looking_since.is_none() {
                q.looking_count += 1;
            }
            phases.looking_since.get_or_insert(now);
            phases.unavailable_since.get_or_insert(now);
            phases.syncing_since = None;
        } else {
            if let Some(t) = phases.looking_since.take() {
                q.election_time.add(now.saturating_sub(t));
                if state == ServerState::Following {
                    phases.syncing_since = Some(now);
                }
            }
            if broadcast {
                if let Some(t) = phases.unavailable_since.take() {
                    q.unavailable_time.add(now.saturating_sub(t));
                    if state == ServerState::Leading {
                        q.leader_unavailable_time.add(now.saturating_sub(t));
                    }
                }
                if let Some(t) = phases.syncing_since.take() {
                    q.follower_sync_time.add(now.saturating_sub(t));
                }
            }
        }
        let (reason, ticks) = (m.node.last_reason, m.ticks);
        m.state = state;
        m.serving = broadcast;
        m.leading_since =
            (broadcast && state == ServerState::Leading).then(std::time::Instant::now);
        if broadcast {
            if state == ServerState::Leading {
                // The machine proposes from epoch << 32 on; prep numbers txns
                // in the same sequence.
                self.last_assigned_zxid = epoch << 32;
                // A new leader's session tracker gives every session its
                // whole timeout from now (SessionTrackerImpl at lead()), and
                // knows no owners yet.
                self.sessions.forget_owners();
                let now = self.now_ms();
                let ids: Vec<i64> = self.sessions.sessions().map(|(id, _)| id).collect();
                for id in ids {
                    let _ = self.sessions.touch(id, now);
                }
            }
            info!(state = ?state, epoch, "serving clients");
        } else {
            if let Some(m) = self.ensemble.as_deref_mut() {
                m.sync_replies.clear();
                m.touches.clear();
            }
            if was_serving {
                // The machine's tick count next to the log's clock shows whether its
                // timeouts (counted in ticks) kept pace with wall time.
                warn!(state = ?state, reason, machine_ticks = ticks,
                    "left the broadcast phase: closing client connections");
            }
            self.stop_serving();
        }
        self.refresh_quorum_status();
    }

    /// ZooKeeper shuts its ZooKeeperServer down on a role change: clients
    /// lose their connections (not their sessions) and reconnect, to this
    /// server once it serves again or to another.
    fn stop_serving(&mut self) {
        self.apply_committed();
        let conns: Vec<_> = self.conns.keys().copied().collect();
        for c in conns {
            self.drop_conn(c);
        }
        self.fifo.clear();
        self.replies.clear();
        self.changes = Default::default();
        if !self.to_sync.is_empty() {
            warn!(n = self.to_sync.len(), "dropping txns never proposed");
            self.to_sync.clear();
        }
    }
}

/// ms since the txn in a PROPOSAL was created (its header's wall-clock
/// time, bytes 20..28 of the serialized txn), as Java measures
/// `proposal_latency`; `None` for a clock that went backwards or a short txn.
fn since_txn_created(txn: &[u8]) -> Option<u64> {
    u64::try_from(super::super::core::wall_ms() - txn_created(txn)?).ok()
}

/// The wall-clock ms in a serialized txn's header.
fn txn_created(txn: &[u8]) -> Option<i64> {
    Some(i64::from_be_bytes(txn.get(20..28)?.try_into().ok()?))
}
