//! The ensemble's part of the admin replies, from a [`QuorumStatus`]:
//! `conf`'s quorum lines and the AdminServer's `leader`, `voting_view` and
//! `zabstate`, as Java ZooKeeper 3.8.0 prints them on a member (captures in
//! `compat-tests/quorum-admin/java-3.8.0/`). Sources:
//! `QuorumZooKeeperServer.dumpConf`, `Commands.LeadCommand`,
//! `VotingViewCommand` (`QuorumServerView`), `ZabStateCommand` (Jackson's
//! view of `MultipleAddresses`).

use std::fmt::Write;

use serde_json::{json, Map, Value};

use super::quorum_status::QuorumStatus;
use crate::config::quorum::{QuorumAddress, QuorumServer};
use crate::config::LearnerType;
use crate::quorum::wire::config_text::java_hash_map_order;

type Data = Map<String, Value>;

/// `QuorumZooKeeperServer.dumpConf`'s part after `serverId`: the limits,
/// this member's ports (`|`-joined over its addresses), its learner type's
/// ordinal, then `membership: ` and `QuorumMaj.toString()`, which has no
/// newline after its `version=` line.
pub(super) fn render_conf(q: &QuorumStatus, s: &mut String) {
    let me = q.config.servers.get(&q.my_id);
    let ports = |pick: fn(&QuorumAddress) -> u16| {
        me.map_or(String::new(), |m| {
            let ports: Vec<String> = m.addresses.iter().map(|a| pick(a).to_string()).collect();
            ports.join("|")
        })
    };
    let _ = writeln!(s, "initLimit={}", q.init_limit);
    let _ = writeln!(s, "syncLimit={}", q.sync_limit);
    let _ = writeln!(s, "electionAlg=3");
    let _ = writeln!(s, "electionPort={}", ports(|a| a.election_port));
    let _ = writeln!(s, "quorumPort={}", ports(|a| a.quorum_port));
    let observer = me.is_some_and(|m| m.learner_type == LearnerType::Observer);
    let _ = writeln!(s, "peerType={}", u8::from(observer));
    s.push_str("membership: \n");
    match crate::quorum::wire::render_config_text(&q.config) {
        Ok(text) => s.push_str(&text),
        // QuorumHierarchical's text (group/weight lines) is not written.
        Err(e) => {
            let _ = write!(s, "# {e}");
        }
    }
}

/// `LeadCommand`: whether this member leads, the leader's id and its
/// quorum hosts (`|`-joined; "" while no leader is known).
pub(super) fn leader_json(q: &QuorumStatus, d: &mut Data) {
    let leader = u64::try_from(q.leader_id)
        .ok()
        .and_then(|id| q.config.servers.get(&id));
    let ip = leader.map_or(String::new(), |l| {
        let hosts: Vec<String> = l.addresses.iter().map(|a| a.host.clone()).collect();
        hosts.join("|")
    });
    d.insert(
        "is_leader".into(),
        json!(q.leader_id >= 0 && q.leader_id as u64 == q.my_id),
    );
    d.insert("leader_id".into(), json!(q.leader_id));
    d.insert("leader_ip".into(), json!(ip));
}

/// `VotingViewCommand`: every voting member by id (a `HashMap<Long, _>`'s
/// order), each as `QuorumServerView`.
pub(super) fn voting_view_json(q: &QuorumStatus, d: &mut Data) {
    let voters = q.config.participants().map(|s| s.id);
    let mut view = Data::new();
    for id in java_hash_map_order(voters) {
        let Some(s) = q.config.servers.get(&id) else {
            continue;
        };
        view.insert(id.to_string(), server_view(s));
    }
    d.insert("current_config".into(), Value::Object(view));
}

fn server_view(s: &QuorumServer) -> Value {
    let quorum: Vec<String> = s
        .addresses
        .iter()
        .map(|a| host_port(&a.host, a.quorum_port))
        .collect();
    let election: Vec<String> = s
        .addresses
        .iter()
        .map(|a| host_port(&a.host, a.election_port))
        .collect();
    let client = s
        .client_address
        .as_ref()
        .map_or(String::new(), |c| c.to_string());
    json!({
        "server_addresses": quorum,
        "election_addresses": election,
        "client_address": client,
        "learner_type": s.learner_type.as_str(),
    })
}

/// `delimitedHostString(addr) + ":" + port`.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// `ZabStateCommand`. `last_zxid` is the database's last processed zxid.
pub(super) fn zabstate_json(q: &QuorumStatus, last_zxid: i64, d: &mut Data) {
    let me = q.config.servers.get(&q.my_id);
    let addrs = |pick: fn(&QuorumAddress) -> u16| -> Vec<(String, u16)> {
        me.map_or(Vec::new(), |m| {
            m.addresses
                .iter()
                .map(|a| (a.host.clone(), pick(a)))
                .collect()
        })
    };
    let client = me
        .and_then(|m| m.client_address.as_ref())
        .map_or(Value::Null, |c| json!(c.to_string()));
    let voting = me.is_some_and(|m| m.learner_type == LearnerType::Participant);
    d.insert("myid".into(), json!(q.my_id));
    d.insert("is_leader".into(), json!(q.leader.is_some()));
    d.insert(
        "quorum_address".into(),
        multiple_addresses(&addrs(|a| a.quorum_port)),
    );
    d.insert(
        "election_address".into(),
        multiple_addresses(&addrs(|a| a.election_port)),
    );
    d.insert("client_address".into(), client);
    d.insert("voting".into(), json!(voting));
    // ZxidUtils.zxidToString: Long.toHexString.
    d.insert(
        "last_zxid".into(),
        json!(format!("0x{:x}", last_zxid as u64)),
    );
    d.insert("zab_epoch".into(), json!(last_zxid >> 32));
    d.insert("zab_counter".into(), json!(last_zxid & 0xffff_ffff));
    d.insert("zabstate".into(), json!(q.zab_state.as_str()));
}

/// Jackson's view of a `MultipleAddresses` (its getters, snake_case).
/// Every address counts as reachable: FerroKeeper does not ping them
/// (Java's `isReachable` on a configured loopback or routable address).
fn multiple_addresses(addrs: &[(String, u16)]) -> Value {
    let all: Vec<String> = addrs.iter().map(|(h, p)| host_port(h, *p)).collect();
    let wildcard: Vec<String> = addrs.iter().map(|(_, p)| format!("0.0.0.0:{p}")).collect();
    let ports: Vec<u16> = addrs.iter().map(|(_, p)| *p).collect();
    let hosts: Vec<&str> = addrs.iter().map(|(h, _)| h.as_str()).collect();
    let one = all.first().cloned().map_or(Value::Null, Value::String);
    json!({
        "empty": addrs.is_empty(),
        "all_addresses": all,
        "all_reachable_addresses": all,
        "one": one,
        "reachable_address": one,
        "wildcard_addresses": wildcard,
        "all_ports": ports,
        "all_host_strings": hosts,
        "all_reachable_addresses_or_all": all,
        "reachable_or_one": one,
    })
}
