//! What a member needs from zoo.cfg to join its ensemble: its id, the
//! members' (voters' and observers') quorum and election addresses, and the
//! timing.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, ToSocketAddrs};

use crate::config::quorum::{LearnerType, QuorumAddress};
use crate::config::ServerConfig;

/// One member's two ports, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddrs {
    /// Learners connect here to the leader (the `2888` of `server.N`).
    pub quorum: SocketAddr,
    /// Leader election (`3888`).
    pub election: SocketAddr,
}

#[derive(Debug, Clone)]
pub struct MemberSettings {
    pub my_sid: u64,
    /// Every member (voter or observer) as zoo.cfg names it, this server included.
    pub hosts: BTreeMap<u64, QuorumAddress>,
    /// The members listed `:observer`: they sync from the leader and get its
    /// commits but vote in no quorum.
    pub observers: BTreeSet<u64>,
    /// Every member's resolved ports: empty until [`Self::resolve`] (a start
    /// resolves them; `--check-config` does not, as Java's config parsing
    /// keeps names that do not resolve yet).
    pub members: BTreeMap<u64, PeerAddrs>,
    pub tick_time_ms: u64,
    pub init_limit: u64,
    pub sync_limit: u64,
    /// `quorumListenOnAllIPs`: bind both ports on the wildcard address.
    pub listen_on_all_ips: bool,
    /// The config text a leader sends in NEWLEADER (QuorumMaj.toString).
    pub config_text: String,
    pub config_version: i64,
    /// The configuration as parsed, for the admin surfaces.
    pub quorum: std::sync::Arc<crate::config::QuorumConfig>,
    /// `zookeeper.commitLogCount`: the committed window a leader syncs from.
    pub commit_log_count: usize,
    /// `zookeeper.snapshotSizeFactor`: how much on-disk txn log a leader
    /// may sync a learner from, as a share of its newest snapshot's size.
    pub snapshot_size_factor: f64,
}

impl MemberSettings {
    /// `None` for a standalone configuration. An ensemble this server cannot
    /// take part in (as an observer itself, hierarchical quorums) is refused
    /// with the key and line named.
    pub fn from_config(cfg: &ServerConfig) -> Result<Option<MemberSettings>, String> {
        if !cfg.is_quorum() {
            return Ok(None);
        }
        let my_sid = cfg
            .server_id
            .ok_or_else(|| format!("{}: server.N lines but no myid", cfg.source))?;
        if cfg.quorum.hierarchy.is_some() {
            return Err(format!(
                "{}: group/weight (hierarchical quorums) are not supported yet",
                cfg.source
            ));
        }
        let mut hosts = BTreeMap::new();
        let mut observers = BTreeSet::new();
        for s in cfg.quorum.servers.values() {
            if s.learner_type == LearnerType::Observer {
                if s.id == my_sid {
                    return Err(format!(
                        "{}: line {}: server.{} (this server) is an observer; FerroKeeper \
                         leads and follows observers but cannot observe yet",
                        cfg.source, s.line, s.id
                    ));
                }
                observers.insert(s.id);
            }
            let addr = s.addresses.first().ok_or_else(|| {
                format!(
                    "{}: line {}: server.{} has no address",
                    cfg.source, s.line, s.id
                )
            })?;
            hosts.insert(s.id, addr.clone());
        }
        if !hosts.contains_key(&my_sid) {
            return Err(format!(
                "{}: myid {my_sid} has no server.{my_sid} line",
                cfg.source
            ));
        }
        let config_text = crate::quorum::wire::render_config_text(&cfg.quorum)
            .map_err(|e| format!("{}: {e}", cfg.source))?;
        Ok(Some(MemberSettings {
            my_sid,
            hosts,
            observers,
            members: BTreeMap::new(),
            tick_time_ms: u64::from(cfg.tick_time_ms.max(1)),
            init_limit: u64::try_from(cfg.init_limit.max(1)).unwrap_or(1),
            sync_limit: u64::try_from(cfg.sync_limit.max(1)).unwrap_or(1),
            listen_on_all_ips: cfg.quorum_listen_on_all_ips,
            config_text,
            config_version: cfg.quorum.version,
            quorum: std::sync::Arc::new(cfg.quorum.clone()),
            commit_log_count: usize::try_from(cfg.commit_log_count).unwrap_or(500),
            snapshot_size_factor: cfg.snapshot_size_factor,
        }))
    }

    /// Resolves every member's host, or says which one does not resolve.
    pub fn resolve(&mut self) -> Result<(), String> {
        let mut members = BTreeMap::new();
        for (sid, a) in &self.hosts {
            members.insert(*sid, resolve(a).map_err(|e| format!("server.{sid}: {e}"))?);
        }
        self.members = members;
        Ok(())
    }

    pub fn me(&self) -> Option<PeerAddrs> {
        self.members.get(&self.my_sid).copied()
    }

    /// The voting members, this server included.
    pub fn voter_ids(&self) -> Vec<u64> {
        self.hosts
            .keys()
            .copied()
            .filter(|sid| !self.observers.contains(sid))
            .collect()
    }

    /// The machine's configuration: ZooKeeper's timeouts in ticks of 50 ms
    /// (a tenth of the smallest tickTime one would run, 500 ms, or less).
    pub fn zab_config(&self) -> crate::zab::ZabConfig {
        let mut z = crate::zab::ZabConfig::new(self.my_sid, self.voter_ids());
        z.observers = self.observers.iter().copied().collect();
        z.tick_time_ms = self.tick_time_ms;
        z.tick_interval_ms = (self.tick_time_ms / 10).clamp(1, 50);
        z.finalize_wait_ms = finalize_wait_ms(self.tick_time_ms);
        z.init_limit = self.init_limit;
        z.sync_limit = self.sync_limit;
        z.commit_log_count = self.commit_log_count;
        z
    }
}

/// FastLeaderElection's finalizeWait: how long a member whose quorum agrees
/// waits for a better vote before it decides. Java fixes it at 200 ms; here
/// it is a quarter of tickTime, at most Java's 200 ms (so the default
/// tickTime of 2000 keeps Java's timing) and at least 20 ms. An operator who
/// runs a short tickTime asks for fast failure detection, and the wait is
/// most of a failover then (200 ms of ~300 ms at tickTime 200). It decides
/// only which up-to-date member leads, never whether one is up to date: a
/// member votes only for a history at least as new as its own, whatever the
/// wait, so a shorter wait costs at worst another round of voting.
fn finalize_wait_ms(tick_time_ms: u64) -> u64 {
    (tick_time_ms / 4).clamp(20, 200)
}

fn resolve(a: &QuorumAddress) -> Result<PeerAddrs, String> {
    let one = |port: u16| -> Result<SocketAddr, String> {
        (a.host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("{}:{port}: {e}", a.host))?
            .next()
            .ok_or_else(|| format!("{}:{port}: no address", a.host))
    };
    Ok(PeerAddrs {
        quorum: one(a.quorum_port)?,
        election: one(a.election_port)?,
    })
}

#[cfg(test)]
mod tests {
    use super::{finalize_wait_ms, MemberSettings};
    use crate::config::ServerConfig;

    /// zoo.cfg of voters 1-3 and observer 4, read by server `myid`.
    fn settings_of(myid: u64) -> Result<Option<MemberSettings>, String> {
        let dir = std::env::temp_dir().join(format!(
            "fk-settings-{}-observer-{myid}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("myid"), format!("{myid}\n")).unwrap();
        let text = format!(
            "dataDir={}\ninitLimit=5\nsyncLimit=2\nclientPort=2181\n\
             server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n\
             server.3=127.0.0.1:2890:3890\nserver.4=127.0.0.1:2891:3891:observer\n",
            dir.display()
        );
        let cfg = ServerConfig::from_str(&text, "zoo.cfg").unwrap();
        let settings = MemberSettings::from_config(&cfg);
        let _ = std::fs::remove_dir_all(&dir);
        settings
    }

    #[test]
    fn a_voter_knows_the_observers_and_votes_without_them() {
        let m = settings_of(2).unwrap().unwrap();
        assert_eq!(m.hosts.keys().copied().collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert_eq!(m.voter_ids(), [1, 2, 3]);
        let z = m.zab_config();
        assert_eq!((z.voters, z.observers), (vec![1, 2, 3], vec![4]));
    }

    #[test]
    fn an_observer_is_refused_with_its_line() {
        let e = settings_of(4).unwrap_err();
        assert!(
            e.starts_with("zoo.cfg: line 8: server.4 (this server) is an observer"),
            "{e}"
        );
    }

    #[test]
    fn finalize_wait_is_java_s_at_the_usual_tick_and_shorter_below_it() {
        assert_eq!(finalize_wait_ms(2000), 200);
        assert_eq!(finalize_wait_ms(3000), 200);
        assert_eq!(finalize_wait_ms(800), 200);
        assert_eq!(finalize_wait_ms(200), 50);
        assert_eq!(finalize_wait_ms(10), 20);
    }
}
