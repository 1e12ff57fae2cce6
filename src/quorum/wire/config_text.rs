//! The quorum config as text, exactly as `QuorumMaj.toString()` prints it.
//!
//! Java puts this text in every election notification and in the NEWLEADER
//! packet, and a LOOKING Java peer that receives a *higher* config version
//! with different members restarts its election, so a FerroKeeper member
//! must send the same members Java would. One line per member, then the
//! version in hex, no trailing newline:
//!
//! ```text
//! server.1=127.0.0.1:2888:3888:participant;127.0.0.1:2181
//! server.2=zk2:2888:3888:observer
//! version=100000000
//! ```
//!
//! A member line is `QuorumServer.toString()`: `host:qport:eport` per address
//! (several joined by `|`, sorted by host text), `:participant` or
//! `:observer`, then `;host:port` if the member has a client address that was
//! not copied from this server's static `clientPort`.

use super::error::WireError;
use crate::config::quorum::{parse_quorum, QuorumConfig, QuorumServer};
use crate::config::zoo_cfg::trimmed_entries;
use crate::config::{LearnerType, Properties};

/// `QuorumMaj.toString()` for a majority (non-hierarchical) config. Members
/// come in the order Java's `HashMap<Long, QuorumServer>` iterates them (see
/// [`java_hash_map_order`]); the receiver compares members, not text, so the
/// order only matters for byte-exact comparisons.
pub fn render_config_text(quorum: &QuorumConfig) -> Result<String, WireError> {
    if quorum.hierarchy.is_some() {
        return Err(WireError::BadConfig(
            "hierarchical (group/weight) configs are printed by QuorumHierarchical, not supported"
                .to_owned(),
        ));
    }
    let mut out = String::new();
    for id in java_hash_map_order(quorum.servers.keys().copied()) {
        if let Some(server) = quorum.servers.get(&id) {
            out.push_str(&format!("server.{id}={}\n", render_server(server)));
        }
    }
    // Long.toHexString: two's complement for negatives.
    out.push_str(&format!("version={:x}", quorum.version as u64));
    Ok(out)
}

/// `QuorumServer.toString()`.
pub fn render_server(server: &QuorumServer) -> String {
    let mut addresses: Vec<_> = server.addresses.iter().collect();
    // Java sorts the quorum and election address lists separately by host
    // text; both lists hold the same hosts, so one stable sort is the same.
    addresses.sort_by(|a, b| a.host.cmp(&b.host));
    let mut out = addresses
        .iter()
        .map(|a| {
            format!(
                "{}:{}:{}",
                delimited_host(&a.host),
                a.quorum_port,
                a.election_port
            )
        })
        .collect::<Vec<_>>()
        .join("|");
    out.push_str(match server.learner_type {
        LearnerType::Participant => ":participant",
        LearnerType::Observer => ":observer",
    });
    if let Some(client) = &server.client_address {
        if !server.client_address_from_static {
            // ListenAddress's Display is delimitedHostString + ":" + port.
            out.push_str(&format!(";{client}"));
        }
    }
    out
}

/// `QuorumServer.delimitedHostString`: IPv6 literals in brackets.
fn delimited_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// The iteration order of a `java.util.HashMap<Long, _>` filled with `ids`:
/// by bucket (`spread(Long.hashCode(id)) & (capacity - 1)`, the capacity
/// grown from 16 by doubling past a 0.75 load factor), then by id within a
/// bucket (Java keeps insertion order there, which comes from a Properties
/// table and is not reproducible; ids that share a bucket are ≥ 16 apart).
pub fn java_hash_map_order(ids: impl IntoIterator<Item = u64>) -> Vec<u64> {
    let mut ids: Vec<u64> = ids.into_iter().collect();
    let mut capacity: usize = 16;
    while ids.len() > capacity / 4 * 3 {
        capacity *= 2;
    }
    let bucket = |id: u64| {
        let h = (id ^ (id >> 32)) as u32;
        let spread = h ^ (h >> 16);
        spread as usize & (capacity - 1)
    };
    ids.sort_by_key(|&id| (bucket(id), id));
    ids
}

/// Parses config text as `QuorumPeer.configFromString` does (a properties
/// text; `server.N` lines and `version`; other keys ignored), reusing the
/// zoo.cfg parser so the same server lines are accepted and refused.
pub fn parse_config_text(text: &[u8]) -> Result<QuorumConfig, WireError> {
    let text = std::str::from_utf8(text).map_err(|_| WireError::InvalidUtf8("config text"))?;
    let props = Properties::parse(text)
        .map_err(|e| WireError::BadConfig(format!("line {}: {}", e.line, e.message)))?;
    let entries = trimmed_entries(&props);
    parse_quorum(&entries, "config text", false, true)
        .map_err(|e| WireError::BadConfig(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ListenAddress, QuorumAddress};

    fn server(id: u64, host: &str, q: u16, e: u16, client: Option<(&str, u16)>) -> QuorumServer {
        QuorumServer {
            id,
            addresses: vec![QuorumAddress {
                host: host.to_owned(),
                quorum_port: q,
                election_port: e,
            }],
            learner_type: LearnerType::Participant,
            client_address: client.map(|(h, p)| ListenAddress::new(h, p)),
            client_address_from_static: false,
            line: 0,
        }
    }

    fn config(servers: Vec<QuorumServer>, version: i64) -> QuorumConfig {
        QuorumConfig {
            servers: servers.into_iter().map(|s| (s.id, s)).collect(),
            version,
            ..QuorumConfig::default()
        }
    }

    #[test]
    fn renders_like_quorum_maj() {
        let mut own = server(1, "127.0.0.1", 2888, 3888, Some(("0.0.0.0", 2181)));
        own.client_address_from_static = true;
        let mut obs = server(3, "::1", 2890, 3890, Some(("::1", 2183)));
        obs.learner_type = LearnerType::Observer;
        let q = config(
            vec![
                own,
                server(2, "zk2", 2889, 3889, Some(("0.0.0.0", 2182))),
                obs,
            ],
            0x1_0000_0000,
        );
        assert_eq!(
            render_config_text(&q).unwrap(),
            "server.1=127.0.0.1:2888:3888:participant\n\
             server.2=zk2:2889:3889:participant;0.0.0.0:2182\n\
             server.3=[::1]:2890:3890:observer;[::1]:2183\n\
             version=100000000"
        );
        assert!(render_config_text(&config(vec![], 0))
            .unwrap()
            .ends_with("version=0"));
    }

    #[test]
    fn multi_address_sorted_by_host() {
        let mut s = server(1, "b", 1, 2, None);
        s.addresses.insert(
            0,
            QuorumAddress {
                host: "c".into(),
                quorum_port: 5,
                election_port: 6,
            },
        );
        s.addresses.push(QuorumAddress {
            host: "a".into(),
            quorum_port: 3,
            election_port: 4,
        });
        assert_eq!(render_server(&s), "a:3:4|b:1:2|c:5:6:participant");
    }

    #[test]
    fn round_trip_through_the_zoo_cfg_parser() {
        let q = config(
            vec![
                server(1, "127.0.0.1", 2888, 3888, Some(("127.0.0.1", 2181))),
                server(2, "127.0.0.1", 2889, 3889, None),
            ],
            5,
        );
        let text = render_config_text(&q).unwrap();
        let back = parse_config_text(text.as_bytes()).unwrap();
        assert_eq!(back.version, 5);
        assert_eq!(back.servers.len(), 2);
        for (id, s) in &q.servers {
            assert_eq!(render_server(&back.servers[id]), render_server(s));
        }
        assert!(parse_config_text(b"server.1=nonsense").is_err());
        assert!(parse_config_text(b"version=zz").is_err());
        assert!(parse_config_text(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn hash_map_order() {
        assert_eq!(java_hash_map_order([3, 1, 2]), vec![1, 2, 3]);
        // 17 shares bucket 1 with 1 in a 16-slot table.
        assert_eq!(java_hash_map_order([17, 2, 1]), vec![1, 17, 2]);
        // 13 entries grow the table to 32: 17 gets its own bucket.
        let ids: Vec<u64> = (1..=12).chain([17]).collect();
        assert_eq!(java_hash_map_order(ids.clone()), ids);
    }
}
