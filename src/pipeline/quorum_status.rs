//! What an ensemble member tells its admin surfaces about the ensemble:
//! plain data the core hands to `srvr`/`stat`/`conf`/`mntr`
//! (`admin_view.rs`, `mntr.rs`), the AdminServer (`admin_json.rs`) and
//! Prometheus, so none of them reaches into the member runner. A standalone
//! server has none (`Core::quorum` is `None`) and prints exactly what it
//! printed before.
//!
//! The fields are what Java ZooKeeper 3.8.0 reads from `QuorumPeer`,
//! `Leader` and `LearnerHandler` for the same words; the reference output of
//! a real 3-member Java ensemble is in `compat-tests/quorum-admin/java-3.8.0/`.

use std::net::SocketAddr;
use std::sync::Arc;

use super::mntr::SummaryView;
use crate::config::quorum::QuorumConfig;
pub use crate::quorum::wire::PeerState;

/// `QuorumPeer.ZabState`: where the member is in ZAB's phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZabState {
    #[default]
    Election,
    Discovery,
    Synchronization,
    Broadcast,
}

impl ZabState {
    /// Java's `name().toLowerCase()`, as `zabstate` and `peer_state` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            ZabState::Election => "election",
            ZabState::Discovery => "discovery",
            ZabState::Synchronization => "synchronization",
            ZabState::Broadcast => "broadcast",
        }
    }
}

/// `QuorumPeer.SyncMode`: how a learner is being synced right now (`None`
/// outside a sync, and always on the leader).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    #[default]
    None,
    Diff,
    Snap,
    Trunc,
}

/// `BufferStats` of the leader's proposals (bytes of each serialised
/// PROPOSAL packet's payload): -1 for each until the first proposal, as Java.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProposalSizes {
    pub last: i64,
    pub min: i64,
    pub max: i64,
}

impl Default for ProposalSizes {
    fn default() -> Self {
        ProposalSizes {
            last: -1,
            min: -1,
            max: -1,
        }
    }
}

impl ProposalSizes {
    /// Records one proposal of `bytes` (`BufferStats.setLastBufferSize`).
    pub fn record(&mut self, bytes: i64) {
        self.last = bytes;
        self.min = if self.min < 0 {
            bytes
        } else {
            self.min.min(bytes)
        };
        self.max = self.max.max(bytes);
    }
}

/// One learner connected to this leader (a `LearnerHandler`).
#[derive(Debug, Clone)]
pub struct LearnerStatus {
    pub sid: u64,
    /// The learner's end of the quorum connection.
    pub addr: SocketAddr,
    /// Observer or participant, as its LearnerInfo said.
    pub observer: bool,
    /// Past UPTODATE: counted in `synced_followers` / `synced_observers`.
    pub synced: bool,
    /// `learner_handler_qp_size`: packets queued to it, sampled per packet
    /// sent (a basic summary, no percentiles).
    pub queued_packets: SummaryView,
    /// `learner_handler_qp_time_ms`: ms each packet waited in that queue
    /// (with percentiles).
    pub queued_packet_time_ms: SummaryView,
}

/// What only the leader has.
#[derive(Debug, Clone, Default)]
pub struct LeaderStatus {
    /// Every learner with a live connection, synced or not (`learners`).
    pub learners: Vec<LearnerStatus>,
    /// SYNC requests waiting for their commit (`Leader.getNumPendingSyncs`).
    pub pending_syncs: usize,
    /// `zk_last/min/max_proposal_size`, srvr's `Proposal sizes` line.
    pub proposal_sizes: ProposalSizes,
    /// ms since this member became leader (`leader_uptime`).
    pub uptime_ms: u64,
}

impl LeaderStatus {
    /// `synced_followers`: synced voting followers (`getForwardingFollowers`).
    pub fn synced_followers(&self, voters: &QuorumConfig) -> usize {
        self.learners
            .iter()
            .filter(|l| l.synced && !l.observer && is_voter(voters, l.sid))
            .count()
    }

    /// `synced_non_voting_followers`: synced followers not in the voting
    /// view (a participant being added by reconfig).
    pub fn synced_non_voting_followers(&self, voters: &QuorumConfig) -> usize {
        self.learners
            .iter()
            .filter(|l| l.synced && !l.observer && !is_voter(voters, l.sid))
            .count()
    }

    /// `synced_observers`.
    pub fn synced_observers(&self) -> usize {
        self.learners
            .iter()
            .filter(|l| l.synced && l.observer)
            .count()
    }
}

fn is_voter(config: &QuorumConfig, sid: u64) -> bool {
    config.participants().any(|s| s.id == sid)
}

/// The quorum half of what a member reports. Java prints these only once
/// the member serves (leading, following or observing); while looking the
/// four-letter words that need a server are refused as on a standalone
/// server that has not started.
#[derive(Debug, Clone)]
pub struct QuorumStatus {
    /// myid.
    pub my_id: u64,
    /// `QuorumPeer.getPeerState`: `srvr`'s `Mode`, `mntr`'s `server_state`.
    pub state: PeerState,
    pub zab_state: ZabState,
    pub sync_mode: SyncMode,
    /// The leader this member follows or is, -1 before the first election
    /// (`QuorumPeer.getLeaderId`).
    pub leader_id: i64,
    /// The quorum verifier in force (the last committed config): `conf`'s
    /// membership, `voting_view`, `quorum_size`, the leader's host for
    /// `leader`, this member's own addresses for `zabstate`.
    pub config: Arc<QuorumConfig>,
    /// initLimit and syncLimit in ticks, and electionAlg (always 3), for `conf`.
    pub init_limit: u32,
    pub sync_limit: u32,
    /// `Some` while leading.
    pub leader: Option<LeaderStatus>,
}

impl QuorumStatus {
    /// `ServerState.toString().toLowerCase()`, as `peer_state` starts.
    fn state_word(&self) -> &'static str {
        match self.state {
            PeerState::Looking => "looking",
            PeerState::Following => "following",
            PeerState::Leading => "leading",
            PeerState::Observing => "observing",
        }
    }

    /// `ZooKeeperServer.getState()` of the member's server: `srvr`'s
    /// `Mode:`, `mntr`'s `server_state`, `server_stats.server_state`.
    pub fn server_state(&self) -> &'static str {
        match self.state {
            PeerState::Leading => "leader",
            PeerState::Following => "follower",
            PeerState::Observing => "observer",
            // No server runs while looking; Java has no word for it.
            PeerState::Looking => "looking",
        }
    }

    /// `QuorumPeer.getDetailedPeerState`: `leading - broadcast`,
    /// `following - synchronization - diff`, `looking`.
    pub fn detailed_peer_state(&self) -> String {
        let mut s = self.state_word().to_string();
        if self.zab_state != ZabState::Election {
            s.push_str(" - ");
            s.push_str(self.zab_state.as_str());
        }
        let mode = match self.sync_mode {
            SyncMode::None => None,
            SyncMode::Diff => Some("diff"),
            SyncMode::Snap => Some("snap"),
            SyncMode::Trunc => Some("trunc"),
        };
        if let Some(m) = mode {
            s.push_str(" - ");
            s.push_str(m);
        }
        s
    }

    /// `QuorumPeer.getQuorumSize`: voting members of the config in force.
    pub fn quorum_size(&self) -> usize {
        self.config.participant_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: PeerState, zab: ZabState, sync: SyncMode) -> QuorumStatus {
        QuorumStatus {
            my_id: 1,
            state,
            zab_state: zab,
            sync_mode: sync,
            leader_id: 1,
            config: Arc::new(QuorumConfig::default()),
            init_limit: 10,
            sync_limit: 5,
            leader: None,
        }
    }

    #[test]
    fn detailed_peer_state_is_java_s() {
        let s = status(PeerState::Leading, ZabState::Broadcast, SyncMode::None);
        assert_eq!(s.detailed_peer_state(), "leading - broadcast");
        let s = status(
            PeerState::Following,
            ZabState::Synchronization,
            SyncMode::Diff,
        );
        assert_eq!(
            s.detailed_peer_state(),
            "following - synchronization - diff"
        );
        let s = status(PeerState::Looking, ZabState::Election, SyncMode::None);
        assert_eq!(s.detailed_peer_state(), "looking");
    }

    #[test]
    fn proposal_sizes_start_at_minus_one() {
        let mut p = ProposalSizes::default();
        assert_eq!((p.last, p.min, p.max), (-1, -1, -1));
        p.record(121);
        p.record(48);
        assert_eq!((p.last, p.min, p.max), (48, 48, 121));
    }
}
