//! FerroKeeper's admin output on an ensemble member, from a [`QuorumStatus`]
//! shaped like the Java 3.8.0 ensemble captured in
//! `compat-tests/quorum-admin/java-3.8.0/` (same sids, ports, roles and
//! proposal sizes; see its README), compared with Java's replies: keys, their
//! order and value types everywhere; values where the status decides them.
//! Numbers that depend on timing or on the data (latencies, packet counts,
//! sizes of the data directory, per-namespace keys) are compared as types.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;

use super::mntr::SummaryView;
use super::quorum_status::{
    LeaderStatus, LearnerStatus, PeerState, ProposalSizes, QuorumStatus, SyncMode, ZabState,
};
use super::{Core, CoreConfig, ServerInfo};
use crate::config::ListenAddress;

macro_rules! capture {
    ($role:literal, $file:expr) => {
        include_str!(concat!(
            "../../compat-tests/quorum-admin/java-3.8.0/",
            $role,
            "/",
            $file
        ))
    };
}

const MEMBERS: &str = include_str!("../../compat-tests/quorum-admin/java-3.8.0/members.json");

struct Role {
    sid: u64,
    java: fn(&str) -> &'static str,
}

fn leader_file(name: &str) -> &'static str {
    match name {
        "mntr" => capture!("leader", "mntr.txt"),
        "srvr" => capture!("leader", "srvr.txt"),
        "stat" => capture!("leader", "stat.txt"),
        "conf" => capture!("leader", "conf.txt"),
        "isro" => capture!("leader", "isro.txt"),
        "leader" => capture!("leader", "leader.json"),
        "voting_view" => capture!("leader", "voting_view.json"),
        "zabstate" => capture!("leader", "zabstate.json"),
        "server_stats" => capture!("leader", "server_stats.json"),
        "stats" => capture!("leader", "stats.json"),
        "monitor" => capture!("leader", "monitor.json"),
        "configuration" => capture!("leader", "configuration.json"),
        "observers" => capture!("leader", "observers.json"),
        "is_read_only" => capture!("leader", "is_read_only.json"),
        _ => panic!("no capture {name}"),
    }
}

fn follower_file(name: &str) -> &'static str {
    match name {
        "mntr" => capture!("follower", "mntr.txt"),
        "srvr" => capture!("follower", "srvr.txt"),
        "stat" => capture!("follower", "stat.txt"),
        "conf" => capture!("follower", "conf.txt"),
        "isro" => capture!("follower", "isro.txt"),
        "leader" => capture!("follower", "leader.json"),
        "voting_view" => capture!("follower", "voting_view.json"),
        "zabstate" => capture!("follower", "zabstate.json"),
        "server_stats" => capture!("follower", "server_stats.json"),
        "stats" => capture!("follower", "stats.json"),
        "monitor" => capture!("follower", "monitor.json"),
        "configuration" => capture!("follower", "configuration.json"),
        "observers" => capture!("follower", "observers.json"),
        "is_read_only" => capture!("follower", "is_read_only.json"),
        _ => panic!("no capture {name}"),
    }
}

fn members() -> Value {
    serde_json::from_str(MEMBERS).expect("members.json")
}

fn roles() -> (Role, Role) {
    let m = members();
    let sid = |k: &str| m[k].as_u64().expect("sid");
    (
        Role {
            sid: sid("leader"),
            java: leader_file,
        },
        Role {
            sid: sid("follower"),
            java: follower_file,
        },
    )
}

fn port(sid: u64, which: &str) -> u16 {
    members()["members"][sid.to_string()][which]
        .as_u64()
        .expect("port") as u16
}

/// The ensemble's config as the member loaded it: the membership Java
/// printed in `conf`, with this member's client address from its static
/// clientPort/clientPortAddress, as the config loader fills it in.
fn config(my_id: u64, conf: &str) -> crate::config::QuorumConfig {
    let text = conf
        .split_once("membership: \n")
        .expect("membership section")
        .1;
    let mut cfg = crate::quorum::wire::parse_config_text(text.as_bytes()).expect("config text");
    let me = cfg.servers.get_mut(&my_id).expect("own entry");
    me.client_address = Some(ListenAddress::new("127.0.0.1", port(my_id, "client")));
    me.client_address_from_static = true;
    cfg
}

fn summary(percentiles: bool) -> SummaryView {
    SummaryView {
        avg: 0.5,
        min: 0,
        max: 1,
        count: 2,
        sum: 1,
        percentiles: percentiles.then_some([0, 1, 1, 1]),
        quantiles: vec![(0.5, 0.0)],
    }
}

/// A core in the state of the captured member `role`.
fn member(role: &Role, leader_sid: u64) -> Core {
    let (tx, _rx) = std::sync::mpsc::channel();
    let info = ServerInfo {
        client_port: port(role.sid, "client"),
        tick_time_ms: 2000,
        max_client_cnxns_configured: 0,
        min_session_timeout_ms: 4000,
        max_session_timeout_ms: 40000,
        client_port_listen_backlog: -1,
        ..ServerInfo::default()
    };
    let mut core = Core::new(CoreConfig::default(), info, tx);
    core.db.last_processed_zxid = 0x1_0000_0009;
    let leading = role.sid == leader_sid;
    let leader = leading.then(|| {
        let mut sizes = ProposalSizes::default();
        sizes.record(121);
        sizes.record(48);
        LeaderStatus {
            learners: [1u64, 2, 3]
                .into_iter()
                .filter(|s| *s != leader_sid)
                .map(|sid| LearnerStatus {
                    sid,
                    addr: SocketAddr::from(([127, 0, 0, 1], 40000 + sid as u16)),
                    observer: false,
                    synced: true,
                    queued_packets: summary(false),
                    queued_packet_time_ms: summary(true),
                })
                .collect(),
            pending_syncs: 0,
            proposal_sizes: sizes,
            uptime_ms: 758,
        }
    });
    core.set_quorum_status(Some(QuorumStatus {
        my_id: role.sid,
        state: if leading {
            PeerState::Leading
        } else {
            PeerState::Following
        },
        zab_state: ZabState::Broadcast,
        sync_mode: SyncMode::None,
        leader_id: leader_sid as i64,
        config: Arc::new(config(role.sid, (role.java)("conf"))),
        init_limit: 10,
        sync_limit: 5,
        leader,
    }));
    // The captured leader had made and committed 9 proposals.
    if leading {
        core.metrics.quorum.proposal_count = 9;
        core.metrics.quorum.commit_count = 9;
    }
    core.metrics.quorum.election_time.add(212);
    core
}

fn peer() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 56932))
}

/// `zk_key -> value` lines, without the keys that name a namespace (they
/// depend on the data) and FerroKeeper's own.
fn mntr_lines(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(k, _)| !k.ends_with("_per_namespace") && !k.starts_with("zk_ferrokeeper_"))
        .collect()
}

/// Java's and FerroKeeper's value of one key are of the same kind.
fn kind(v: &str) -> &'static str {
    if v.parse::<i64>().is_ok() {
        "int"
    } else if v.parse::<f64>().is_ok() {
        "double"
    } else {
        "text"
    }
}

#[test]
fn mntr_keys_order_and_types_are_java_s_on_leader_and_follower() {
    let (leader, follower) = roles();
    for role in [&leader, &follower] {
        let ours = member(role, leader.sid).render_mntr(1);
        let java = (role.java)("mntr");
        let ours = mntr_lines(&ours);
        let java = mntr_lines(java);
        let keys = |l: &[(&str, &str)]| l.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>();
        assert_eq!(keys(&ours), keys(&java), "server.{}", role.sid);
        for ((k, ov), (_, jv)) in ours.iter().zip(&java) {
            assert_eq!(kind(ov), kind(jv), "{k}: ours {ov}, Java {jv}");
        }
        // Values the status decides are Java's values.
        let fixed = [
            "zk_server_state",
            "zk_peer_state",
            "zk_quorum_size",
            "zk_learners",
            "zk_synced_followers",
            "zk_synced_non_voting_followers",
            "zk_synced_observers",
            "zk_pending_syncs",
            "zk_last_proposal_size",
            "zk_min_proposal_size",
            "zk_max_proposal_size",
            "zk_proposal_count",
            "zk_commit_count",
        ];
        for (k, jv) in java.iter().filter(|(k, _)| fixed.contains(k)) {
            let ov = ours.iter().find(|(ok, _)| ok == k).map(|(_, v)| *v);
            if *k == "zk_commit_count" || *k == "zk_proposal_count" {
                // Java counts these on the leader only.
                if role.sid != leader.sid {
                    continue;
                }
            }
            assert_eq!(ov, Some(*jv), "{k} on server.{}", role.sid);
        }
    }
}

#[test]
fn srvr_and_stat_print_the_role_and_the_leader_s_proposal_sizes() {
    let (leader, follower) = roles();
    for role in [&leader, &follower] {
        let mut core = member(role, leader.sid);
        for word in ["srvr", "stat"] {
            let ours = core.render_admin(word, peer(), None);
            let java = (role.java)(word);
            // Line by line: the same label, and the same text where the
            // status decides it (Mode, Proposal sizes, Zxid).
            let label = |l: &str| l.split(':').next().unwrap_or("").to_string();
            let ol: Vec<&str> = ours.lines().collect();
            let jl: Vec<&str> = java.lines().collect();
            assert_eq!(
                ol.iter().map(|l| label(l)).collect::<Vec<_>>(),
                jl.iter().map(|l| label(l)).collect::<Vec<_>>(),
                "{word} on server.{}:\n{ours}",
                role.sid
            );
            for l in &jl {
                if l.starts_with("Mode: ")
                    || l.starts_with("Proposal sizes")
                    || l.starts_with("Zxid: ")
                {
                    assert!(ol.contains(l), "{word}: {l} missing from\n{ours}");
                }
            }
            assert!(ours.ends_with('\n'));
        }
    }
}

#[test]
fn conf_prints_the_quorum_lines_and_membership_as_java() {
    let (leader, follower) = roles();
    for role in [&leader, &follower] {
        let mut core = member(role, leader.sid);
        let ours = core.render_admin("conf", peer(), None);
        let java = (role.java)("conf");
        // Up to serverId the lines are the standalone ones (directories
        // differ); from serverId on, every byte is Java's.
        let key = |l: &str| l.split('=').next().unwrap_or("").to_string();
        assert_eq!(
            ours.lines().map(key).collect::<Vec<_>>(),
            java.lines().map(key).collect::<Vec<_>>()
        );
        let tail = |t: &str| t[t.find("serverId=").expect("serverId")..].to_string();
        assert_eq!(tail(&ours), tail(java));
        assert!(!ours.ends_with('\n'), "no newline after version=, as Java");
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("Java's JSON")
}

fn ours_json(core: &mut Core, cmd: &str) -> Value {
    crate::admin::commands::response(cmd, None, core.admin_json(cmd, &[]))
}

/// Same keys in the same order, same JSON types, recursively; objects
/// listed in `unordered` are compared as key sets (Jackson orders a bean's
/// getters as reflection returns them, which differs between Java runs:
/// `server_stats` came out in two orders in two captures).
fn same_shape(ours: &Value, java: &Value, path: &str, unordered: &[&str]) {
    match (ours, java) {
        (Value::Object(o), Value::Object(j)) => {
            let mut ok: Vec<&String> = o.keys().collect();
            let mut jk: Vec<&String> = j.keys().collect();
            if unordered.contains(&path) {
                ok.sort();
                jk.sort();
            }
            assert_eq!(ok, jk, "keys of {path}");
            for (k, v) in o {
                same_shape(v, &j[k], &format!("{path}.{k}"), unordered);
            }
        }
        (Value::Array(o), Value::Array(j)) => {
            if let (Some(o), Some(j)) = (o.first(), j.first()) {
                same_shape(o, j, &format!("{path}[]"), unordered);
            }
        }
        (Value::Number(o), Value::Number(j)) => {
            assert_eq!(o.is_f64(), j.is_f64(), "number kind of {path}: {o} vs {j}")
        }
        (o, j) => assert_eq!(
            std::mem::discriminant(o),
            std::mem::discriminant(j),
            "type of {path}: {o} vs {j}"
        ),
    }
}

#[test]
fn leader_voting_view_and_observers_are_java_s_replies() {
    let (leader, follower) = roles();
    for role in [&leader, &follower] {
        let mut core = member(role, leader.sid);
        for cmd in ["leader", "voting_view", "observers", "is_read_only"] {
            let java = json((role.java)(cmd));
            let ours = ours_json(&mut core, cmd);
            assert_eq!(
                serde_json::to_string(&ours).expect("json"),
                serde_json::to_string(&java).expect("json"),
                "{cmd} on server.{}",
                role.sid
            );
        }
    }
}

#[test]
fn zabstate_is_java_s_reply() {
    let (leader, follower) = roles();
    for role in [&leader, &follower] {
        let mut core = member(role, leader.sid);
        let java = json((role.java)("zabstate"));
        let ours = ours_json(&mut core, "zabstate");
        assert_eq!(
            serde_json::to_string(&ours).expect("json"),
            serde_json::to_string(&java).expect("json"),
            "server.{}",
            role.sid
        );
    }
}

#[test]
fn server_stats_stats_monitor_and_configuration_have_java_s_shape() {
    let (leader, follower) = roles();
    for role in [&leader, &follower] {
        let mut core = member(role, leader.sid);
        for cmd in ["server_stats", "stats", "monitor", "configuration"] {
            let mut java = json((role.java)(cmd));
            let mut ours = ours_json(&mut core, cmd);
            for v in [&mut java, &mut ours] {
                if let Value::Object(m) = v {
                    m.retain(|k, _| {
                        !k.ends_with("_per_namespace") && !k.starts_with("ferrokeeper_")
                    });
                }
            }
            same_shape(&ours, &java, cmd, &[&format!("{cmd}.server_stats")]);
            for key in ["server_state", "peer_state", "server_id", "quorum_size"] {
                if let Some(j) = java.get(key) {
                    assert_eq!(ours.get(key), Some(j), "{cmd}.{key}");
                }
            }
            if let Some(j) = java.get("server_stats") {
                assert_eq!(
                    ours["server_stats"]["server_state"], j["server_state"],
                    "{cmd} on server.{}",
                    role.sid
                );
            }
            if let Some(j) = java.get("proposal_stats") {
                assert_eq!(ours.get("proposal_stats"), Some(j));
            }
        }
    }
}

#[test]
fn standalone_has_no_quorum_output() {
    let (tx, _rx) = std::sync::mpsc::channel();
    let mut core = Core::new(CoreConfig::default(), ServerInfo::default(), tx);
    let srvr = core.render_admin("srvr", peer(), None);
    assert!(srvr.contains("\nMode: standalone\n"));
    assert!(!srvr.contains("Proposal sizes"));
    let conf = core.render_admin("conf", peer(), None);
    assert!(conf.ends_with("serverId=0\n"));
    let mntr = core.render_mntr(1);
    assert!(mntr.contains("zk_server_state\tstandalone\n"));
    assert!(!mntr.contains("zk_peer_state") && !mntr.contains("zk_quorum_size"));
    let leader = ours_json(&mut core, "leader");
    assert_eq!(leader["error"], "server is not initialized");
}

#[test]
fn prometheus_exports_the_quorum_gauges_and_learner_summaries_under_mntr_s_names() {
    let (leader, follower) = roles();
    let view = member(&leader, leader.sid).metrics_view(0);
    let text =
        crate::admin::prometheus::render(&crate::admin::prometheus::families(&view, false), &[]);
    for line in [
        "# TYPE quorum_size gauge\nquorum_size 3.0\n",
        "# TYPE learners gauge\nlearners 2.0\n",
        "# TYPE synced_followers gauge\nsynced_followers 2.0\n",
        "# TYPE last_proposal_size gauge\nlast_proposal_size 48.0\n",
        "# TYPE min_proposal_size gauge\nmin_proposal_size 48.0\n",
        "# TYPE max_proposal_size gauge\nmax_proposal_size 121.0\n",
        "# TYPE pending_syncs gauge\npending_syncs 0.0\n",
        "learner_handler_qp_size_count{key=\"1\",} 2.0\n",
        "learner_handler_qp_time_ms_count{key=\"2\",} 2.0\n",
        "proposal_count 9.0\n",
    ] {
        assert!(text.contains(line), "{line:?} missing");
    }
    // peer_state is no metric (dumpMonitorValues adds it to mntr only).
    assert!(!text.contains("peer_state"));
    let view = member(&follower, leader.sid).metrics_view(0);
    let text =
        crate::admin::prometheus::render(&crate::admin::prometheus::families(&view, false), &[]);
    assert!(text.contains("quorum_size 3.0\n"));
    assert!(!text.contains("synced_followers") && !text.contains("learner_handler_qp_size_count"));
}

#[test]
fn a_looking_member_answers_as_java_s_looking_member() {
    let (leader, _) = roles();
    let mut core = member(&leader, leader.sid);
    core.info.four_letter_words = vec!["*".to_string()];
    if let Some(q) = core.quorum.as_mut() {
        q.state = PeerState::Looking;
        q.zab_state = ZabState::Election;
        q.leader = None;
        q.leader_id = -1;
    }
    macro_rules! looking {
        ($($word:literal),*) => {
            [$(($word, capture!("looking", concat!($word, ".txt")))),*]
        };
    }
    for (word, java) in looking!(
        "srvr", "stat", "mntr", "conf", "isro", "ruok", "cons", "dump", "wchs", "wchc", "wchp",
        "dirs", "hash", "gtmk", "crst", "srst"
    ) {
        assert_eq!(core.admin_command(word, peer(), None), java, "{word}");
    }
    let envi = core.admin_command("envi", peer(), None);
    let java = capture!("looking", "envi.txt");
    assert_eq!(envi.lines().next(), java.lines().next());
    assert!(
        envi.lines().count() > 10,
        "envi answers while looking:\n{envi}"
    );
}

/// Java's follower starts its ZooKeeperServer only at UPTODATE: while it
/// syncs with its leader, srvr answers as a looking member does, and only
/// then says `Mode: follower` (a client that trusts that line gets a session).
#[test]
fn a_syncing_follower_is_not_serving_until_broadcast() {
    let (leader, follower) = roles();
    let mut core = member(&follower, leader.sid);
    core.info.four_letter_words = vec!["*".to_string()];
    if let Some(q) = core.quorum.as_mut() {
        q.zab_state = ZabState::Synchronization;
    }
    let java = capture!("looking", "srvr.txt");
    assert_eq!(core.admin_command("srvr", peer(), None), java);
    if let Some(q) = core.quorum.as_mut() {
        q.zab_state = ZabState::Broadcast;
    }
    let srvr = core.admin_command("srvr", peer(), None);
    assert!(srvr.contains("\nMode: follower\n"), "{srvr}");
}

/// A follower's `dump` is `LearnerSessionTracker.dumpSessions`: every
/// session with its timeout, ids in a `TreeSet<Long>`'s (signed) order, as
/// Java 3.8.0's follower printed it
/// (compat-tests/fourletter/java-3.8.0-follower/dump.txt); the leader keeps
/// the expiry buckets of `SessionTrackerImpl`.
#[test]
fn a_follower_dumps_every_session_as_java_s_learner_session_tracker() {
    let (leader, follower) = roles();
    let mut core = member(&follower, leader.sid);
    core.info.four_letter_words = vec!["*".to_string()];
    core.sessions.add(0x0100_0000_0000_0002, 10_000, 0);
    core.sessions.add(-0x7f00_0000_0000_0000, 4_000, 0); // server id 0x81: negative
    core.sessions.add(0x0100_0000_0000_0001, 30_000, 0);
    let dump = core.admin_command("dump", peer(), None);
    assert!(
        dump.starts_with(
            "SessionTracker dump:\nGlobal Sessions(3):\n0x8100000000000000\t4000ms\n\
             0x100000000000001\t30000ms\n0x100000000000002\t10000ms\n\
             ephemeral nodes dump:\n"
        ),
        "{dump}"
    );
    let mut core = member(&leader, leader.sid);
    core.info.four_letter_words = vec!["*".to_string()];
    core.sessions.add(0x0100_0000_0000_0001, 30_000, 0);
    let dump = core.admin_command("dump", peer(), None);
    assert!(
        dump.starts_with("SessionTracker dump:\nSession Sets (1)/(1):\n"),
        "{dump}"
    );
}

#[test]
fn a_looking_member_s_admin_server_answers_as_java_s() {
    let (leader, _) = roles();
    let mut core = member(&leader, leader.sid);
    if let Some(q) = core.quorum.as_mut() {
        q.state = PeerState::Looking;
        q.zab_state = ZabState::Election;
        q.leader = None;
        q.leader_id = -1;
    }
    macro_rules! looking {
        ($($cmd:literal),*) => {
            [$(($cmd, capture!("looking", concat!($cmd, ".json")))),*]
        };
    }
    // initial_configuration and system_properties are answered without the
    // core (crate::admin::server); environment's values are this machine's.
    for (cmd, java) in looking!(
        "connection_stat_reset",
        "configuration",
        "connections",
        "hash",
        "dirs",
        "dump",
        "get_trace_mask",
        "is_read_only",
        "last_snapshot",
        "leader",
        "observer_connection_stat_reset",
        "ruok",
        "server_stats",
        "stats",
        "stat_reset",
        "observers",
        "voting_view",
        "watches",
        "watches_by_path",
        "watch_summary",
        "zabstate"
    ) {
        assert_eq!(
            serde_json::to_string(&ours_json(&mut core, cmd)).expect("json"),
            serde_json::to_string(&json(java)).expect("json"),
            "{cmd}"
        );
    }
    let env = ours_json(&mut core, "environment");
    assert_eq!(env["error"], Value::Null);
    let monitor = ours_json(&mut core, "monitor");
    assert_eq!(
        monitor["error"],
        "This ZooKeeper instance is not currently serving requests"
    );
}
