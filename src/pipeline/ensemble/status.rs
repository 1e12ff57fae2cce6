//! The member's part of the status the admin surfaces print
//! ([`QuorumStatus`]), rebuilt from the machine's state when it changes
//! and on every tick.

use crate::pipeline::core::Core;
use crate::pipeline::quorum_status::{
    LeaderStatus, LearnerStatus, PeerState, QuorumStatus, SyncMode, ZabState,
};
use crate::zab::ServerState;

impl Core {
    pub(in crate::pipeline) fn refresh_quorum_status(&mut self) {
        let Some(m) = self.ensemble.as_deref() else {
            return;
        };
        let state = match m.state {
            ServerState::Looking => PeerState::Looking,
            ServerState::Following => PeerState::Following,
            ServerState::Leading => PeerState::Leading,
            ServerState::Observing => PeerState::Observing,
        };
        let zab_state = match (m.state, m.serving) {
            (ServerState::Looking, _) => ZabState::Election,
            (_, true) => ZabState::Broadcast,
            (_, false) => ZabState::Synchronization,
        };
        let leader = m.node.learners().map(|learners| LeaderStatus {
            learners: learners
                .into_iter()
                .filter_map(|(sid, synced)| {
                    let addr = *m.view.quorum_addrs.get(&sid)?;
                    Some(LearnerStatus {
                        sid,
                        addr,
                        observer: m.view.config.servers.get(&sid).is_some_and(|s| {
                            s.learner_type == crate::config::quorum::LearnerType::Observer
                        }),
                        synced,
                        queued_packets: crate::pipeline::SummaryView::empty(false),
                        queued_packet_time_ms: crate::pipeline::SummaryView::empty(true),
                    })
                })
                .collect(),
            pending_syncs: m.node.pending_syncs(),
            proposal_sizes: m.proposal_sizes,
            uptime_ms: m
                .leading_since
                .map_or(0, |t| t.elapsed().as_millis() as u64),
        });
        let status = QuorumStatus {
            my_id: m.view.my_id,
            state,
            zab_state,
            sync_mode: SyncMode::None,
            leader_id: m.node.leader().map_or(-1, |l| l as i64),
            config: m.view.config.clone(),
            init_limit: m.view.init_limit,
            sync_limit: m.view.sync_limit,
            leader,
        };
        self.quorum = Some(status);
    }
}
