//! The ensemble definition: `server.N`, `group.N`, `weight.N` and `version`.
//!
//! These keys may live in zoo.cfg or, since ZooKeeper 3.5, in the separate
//! dynamic configuration file named by `dynamicConfigFile`. Parsing follows
//! `QuorumPeer.QuorumServer`, `QuorumMaj` and `QuorumHierarchical`, so the
//! same lines are accepted and rejected, with two deliberate leniencies
//! noted where they occur (trailing whitespace and `multiAddress.enabled`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::address::{host_and_port_parts, java_split, parse_port, ListenAddress};
use super::error::{ConfigError, Location};
use super::java_values::{java_trim, parse_long};
use super::zoo_cfg::ConfigEntry;

/// Whether a server votes or only observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LearnerType {
    /// Votes in elections and commits (the default).
    #[default]
    Participant,
    /// Follows the leader without voting.
    Observer,
}

impl LearnerType {
    /// Java's spelling, as written in zoo.cfg and in `conf` output.
    pub fn as_str(self) -> &'static str {
        match self {
            LearnerType::Participant => "participant",
            LearnerType::Observer => "observer",
        }
    }

    /// Case-insensitive `participant` / `observer` (Java trims first).
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let s = java_trim(s);
        if s.eq_ignore_ascii_case("participant") {
            Some(LearnerType::Participant)
        } else if s.eq_ignore_ascii_case("observer") {
            Some(LearnerType::Observer)
        } else {
            None
        }
    }
}

/// One network address of a quorum member.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuorumAddress {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Port followers use to connect to the leader (conventionally 2888).
    pub quorum_port: u16,
    /// Port for leader election (conventionally 3888).
    pub election_port: u16,
}

/// One `server.N` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumServer {
    /// The `N` of `server.N`; matches the `myid` file of that server.
    pub id: u64,
    /// One address, or several joined by `|` (ZooKeeper 3.6 multi-address).
    pub addresses: Vec<QuorumAddress>,
    /// Participant unless `:observer` was given.
    pub learner_type: LearnerType,
    /// The `;[host:]port` client section. A bare port means `0.0.0.0:port`.
    /// For this server's own entry without a client section, the loader
    /// fills in the static `clientPort`/`clientPortAddress` (and sets
    /// `client_address_from_static`), as ZooKeeper does.
    pub client_address: Option<ListenAddress>,
    /// Whether `client_address` was copied from the static config.
    pub client_address_from_static: bool,
    /// Line of the defining entry, for messages.
    pub line: usize,
}

/// Hierarchical quorums (`group.N` / `weight.N`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuorumHierarchy {
    /// Group id to its member server ids, in the order written.
    pub groups: BTreeMap<u64, Vec<u64>>,
    /// Server id to weight; participants without `weight.N` get 1.
    pub weights: BTreeMap<u64, i64>,
}

/// The ensemble: every `server.N`, plus grouping and the config version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuorumConfig {
    /// All members by id, participants and observers.
    pub servers: BTreeMap<u64, QuorumServer>,
    /// Present when any `group*` or `weight*` key exists.
    pub hierarchy: Option<QuorumHierarchy>,
    /// The config version (`version=` in hex, or the dynamic file's suffix); 0 if none.
    pub version: i64,
    /// `oraclePath`: file consulted by `QuorumOracleMaj` in two-server ensembles.
    pub oracle_path: Option<PathBuf>,
}

impl QuorumConfig {
    /// Voting members.
    pub fn participants(&self) -> impl Iterator<Item = &QuorumServer> {
        self.servers
            .values()
            .filter(|s| s.learner_type == LearnerType::Participant)
    }

    /// Non-voting members.
    pub fn observers(&self) -> impl Iterator<Item = &QuorumServer> {
        self.servers
            .values()
            .filter(|s| s.learner_type == LearnerType::Observer)
    }

    /// Number of voting members.
    pub fn participant_count(&self) -> usize {
        self.participants().count()
    }

    /// Number of observers.
    pub fn observer_count(&self) -> usize {
        self.observers().count()
    }
}

/// Whether a key belongs to the ensemble definition (ZooKeeper's own test,
/// which is a plain prefix match: `groupies=1` counts as a group key).
pub(crate) fn is_quorum_key(key: &str) -> bool {
    key.starts_with("server.") || key.starts_with("group") || key.starts_with("weight")
}

/// Parses the ensemble from `entries`.
///
/// `dynamic` is true for a dynamic config file, where any key other than
/// `server.*`, `group*`, `weight*` and `version` is an error.
pub(crate) fn parse_quorum(
    entries: &[ConfigEntry],
    source: &str,
    dynamic: bool,
    multi_address_enabled: bool,
) -> Result<QuorumConfig, ConfigError> {
    let at = |line: usize| Location::Line {
        source: source.to_owned(),
        line,
    };
    let hierarchical = entries
        .iter()
        .any(|e| e.key.starts_with("group") || e.key.starts_with("weight"));
    let mut quorum = QuorumConfig::default();
    let mut hierarchy = QuorumHierarchy::default();
    let mut server_group: BTreeMap<u64, u64> = BTreeMap::new();

    for entry in entries {
        let key = entry.key.as_str();
        let err = |message: String| ConfigError::new(at(entry.line), Some(key), message);
        if key.starts_with("server.") {
            let id = suffix_id(key).ok_or_else(|| {
                err("expected server.N where N is a non-negative integer server id".to_owned())
            })?;
            let server =
                parse_server(id, &entry.value, entry.line, multi_address_enabled).map_err(err)?;
            quorum.servers.insert(id, server);
        } else if key.starts_with("group") {
            let gid = suffix_id(key).ok_or_else(|| {
                err("expected group.N where N is a non-negative integer group id".to_owned())
            })?;
            let mut members = Vec::new();
            for part in java_split(&entry.value, ':') {
                let sid = parse_long(java_trim(part))
                    .and_then(|v| u64::try_from(v).ok())
                    .ok_or_else(|| {
                        err(format!(
                            "expected a colon-separated list of server ids, got {:?}",
                            entry.value
                        ))
                    })?;
                if let Some(other) = server_group.get(&sid) {
                    return Err(err(format!(
                        "server {sid} is already in group {other}; groups must be disjoint"
                    )));
                }
                server_group.insert(sid, gid);
                members.push(sid);
            }
            hierarchy.groups.insert(gid, members);
        } else if key.starts_with("weight") {
            let sid = suffix_id(key).ok_or_else(|| {
                err("expected weight.N where N is a non-negative integer server id".to_owned())
            })?;
            let weight = parse_long(java_trim(&entry.value))
                .ok_or_else(|| err(format!("expected an integer weight, got {:?}", entry.value)))?;
            hierarchy.weights.insert(sid, weight);
        } else if key == "version" {
            quorum.version = parse_hex_long(&entry.value).ok_or_else(|| {
                err(format!(
                    "expected the configuration version in hexadecimal, got {:?}",
                    entry.value
                ))
            })?;
        } else if dynamic {
            return Err(err(
                "not allowed in a dynamic configuration file (only server.N, group.N, weight.N)"
                    .to_owned(),
            ));
        }
    }

    if hierarchical {
        for server in quorum.participants() {
            if !server_group.contains_key(&server.id) {
                return Err(ConfigError::new(
                    at(server.line),
                    Some(&format!("server.{}", server.id)),
                    "hierarchical quorum (group.N) is configured but this participant is in no group",
                ));
            }
            hierarchy.weights.entry(server.id).or_insert(1);
        }
        quorum.hierarchy = Some(hierarchy);
    }
    Ok(quorum)
}

/// `Long.parseLong(key.substring(key.indexOf('.') + 1))`, non-negative only.
fn suffix_id(key: &str) -> Option<u64> {
    let (_, id) = key.split_once('.')?;
    parse_long(id).and_then(|v| u64::try_from(v).ok())
}

/// `Long.parseLong(s, 16)` after trimming.
pub(crate) fn parse_hex_long(s: &str) -> Option<i64> {
    let s = java_trim(s);
    let (negative, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, 16).ok()?;
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

const SERVER_FORMAT: &str = "expected host:quorumPort:electionPort[:participant|observer]\
[;[clientHost:]clientPort], with several host:port:port addresses separated by '|'";

/// `QuorumServer.initializeWithAddressString`.
///
/// Leniency: Java does not trim the value, so `server.1=zk1:2888:3888 `
/// (trailing space) fails there with "Address unresolved"; FerroKeeper trims.
fn parse_server(
    id: u64,
    raw: &str,
    line: usize,
    multi_address_enabled: bool,
) -> Result<QuorumServer, String> {
    let value = java_trim(raw);
    let bad_format = || format!("{SERVER_FORMAT}, got {raw:?}");
    let server_client = java_split(value, ';');
    if server_client.is_empty() || server_client.len() > 2 {
        return Err(bad_format());
    }

    let client_address = match server_client.get(1) {
        None => None,
        Some(client) => {
            let parts = host_and_port_parts(java_trim(client))
                .map_err(|e| format!("{e}; {}", bad_format()))?;
            if parts.len() > 2 {
                return Err(bad_format());
            }
            let host = if parts.len() == 2 {
                parts[0].as_str()
            } else {
                "0.0.0.0"
            };
            let port_text = parts.last().map(String::as_str).unwrap_or_default();
            let port = parse_port(java_trim(port_text)).ok_or_else(|| {
                format!("expected a client port number (0-65535) after ';', got {port_text:?}")
            })?;
            Some(ListenAddress::new(host, port))
        }
    };

    let address_texts = java_split(server_client[0], '|');
    if address_texts.len() > 1 && !multi_address_enabled {
        return Err(format!(
            "several addresses separated by '|' need multiAddress.enabled=true \
             (in zoo.cfg or as -Dzookeeper.multiAddress.enabled=true), got {raw:?}"
        ));
    }

    let mut addresses = Vec::with_capacity(address_texts.len());
    let mut learner_type: Option<LearnerType> = None;
    for text in address_texts {
        let parts =
            host_and_port_parts(java_trim(text)).map_err(|e| format!("{e}; {}", bad_format()))?;
        if parts.len() < 3 || parts.len() > 4 {
            return Err(bad_format());
        }
        // Java's InetSocketAddress("", port) is the loopback address.
        let host = if parts[0].is_empty() {
            "127.0.0.1".to_owned()
        } else {
            parts[0].clone()
        };
        let quorum_port = parse_port(java_trim(&parts[1])).ok_or_else(|| {
            format!(
                "expected a quorum port number (0-65535), got {:?} in {raw:?}",
                parts[1]
            )
        })?;
        let election_port = parse_port(java_trim(&parts[2])).ok_or_else(|| {
            format!(
                "expected an election port number (0-65535), got {:?} in {raw:?}",
                parts[2]
            )
        })?;
        if quorum_port == election_port {
            return Err(format!(
                "the quorum port and the election port must be different, both are {quorum_port}"
            ));
        }
        if let Some(type_text) = parts.get(3) {
            let t = LearnerType::parse(type_text).ok_or_else(|| {
                format!("expected participant or observer as the server type, got {type_text:?}")
            })?;
            match learner_type {
                None => learner_type = Some(t),
                Some(previous) if previous != t => {
                    return Err(format!(
                        "all addresses of one server must have the same type, got {} and {}",
                        previous.as_str(),
                        t.as_str()
                    ));
                }
                Some(_) => {}
            }
        }
        addresses.push(QuorumAddress {
            host,
            quorum_port,
            election_port,
        });
    }

    Ok(QuorumServer {
        id,
        addresses,
        learner_type: learner_type.unwrap_or_default(),
        client_address,
        client_address_from_static: false,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(text: &[(&str, &str)]) -> Vec<ConfigEntry> {
        text.iter()
            .enumerate()
            .map(|(i, (k, v))| ConfigEntry {
                key: (*k).to_owned(),
                value: (*v).to_owned(),
                line: i + 1,
            })
            .collect()
    }

    fn server(value: &str) -> Result<QuorumServer, String> {
        parse_server(1, value, 1, true)
    }

    #[test]
    fn basic_forms() {
        let s = server("zk1:2888:3888").unwrap();
        assert_eq!(
            s.addresses,
            vec![QuorumAddress {
                host: "zk1".into(),
                quorum_port: 2888,
                election_port: 3888
            }]
        );
        assert_eq!(s.learner_type, LearnerType::Participant);
        assert_eq!(s.client_address, None);

        let s = server("zk1:2888:3888:observer").unwrap();
        assert_eq!(s.learner_type, LearnerType::Observer);
        let s = server("zk1:2888:3888:PARTICIPANT").unwrap();
        assert_eq!(s.learner_type, LearnerType::Participant);
    }

    #[test]
    fn client_section() {
        let s = server("zk1:2888:3888;2181").unwrap();
        assert_eq!(s.client_address, Some(ListenAddress::new("0.0.0.0", 2181)));
        let s = server("zk1:2888:3888:participant;10.0.0.1:2181").unwrap();
        assert_eq!(s.client_address, Some(ListenAddress::new("10.0.0.1", 2181)));
        let s = server("zk1:2888:3888;[::1]:2181").unwrap();
        assert_eq!(s.client_address, Some(ListenAddress::new("::1", 2181)));
        // A trailing ';' is dropped by String.split.
        assert_eq!(server("zk1:2888:3888;").unwrap().client_address, None);
        assert!(server("zk1:2888:3888;a:b:2181").is_err());
        assert!(server("zk1:2888:3888;host").is_err());
        assert!(server("zk1:2888:3888;1;2").is_err());
    }

    #[test]
    fn multi_address() {
        let s = server("zk1-net1:2888:3888|zk1-net2:2889:3889;2181").unwrap();
        assert_eq!(s.addresses.len(), 2);
        assert_eq!(s.addresses[1].host, "zk1-net2");
        assert_eq!(s.addresses[1].quorum_port, 2889);
        assert_eq!(s.client_address.unwrap().port, 2181);
        let s = server("a:1:2:observer|b:1:2").unwrap();
        assert_eq!(s.learner_type, LearnerType::Observer);
        let e = server("a:1:2:observer|b:1:2:participant").unwrap_err();
        assert!(e.contains("same type"), "{e}");
        let e = parse_server(1, "a:1:2|b:1:2", 1, false).unwrap_err();
        assert!(e.contains("multiAddress.enabled"), "{e}");
    }

    #[test]
    fn ipv6_and_odd_hosts() {
        let s = server("[2001:db8::1]:2888:3888").unwrap();
        assert_eq!(s.addresses[0].host, "2001:db8::1");
        assert_eq!(server(":2888:3888").unwrap().addresses[0].host, "127.0.0.1");
        // Trailing whitespace is tolerated (Java would reject it).
        assert!(server("zk1:2888:3888 ").is_ok());
    }

    #[test]
    fn bad_forms() {
        for bad in [
            "zk1",
            "zk1:2888",
            "zk1:2888:3888:observer:x",
            "zk1:x:3888",
            "zk1:2888:y",
            "zk1:70000:3888",
            "zk1:2888:3888:voter",
            "",
            ";2181",
        ] {
            assert!(server(bad).is_err(), "{bad:?} should be rejected");
        }
        let e = server("zk1:2888:2888").unwrap_err();
        assert!(e.contains("must be different"), "{e}");
    }

    #[test]
    fn majority_quorum() {
        let q = parse_quorum(
            &entries(&[
                ("server.1", "a:2888:3888"),
                ("server.2", "b:2888:3888"),
                ("server.3", "c:2888:3888:observer"),
                ("tickTime", "2000"),
            ]),
            "zoo.cfg",
            false,
            false,
        )
        .unwrap();
        assert_eq!(q.participant_count(), 2);
        assert_eq!(q.observer_count(), 1);
        assert!(q.hierarchy.is_none());
        assert_eq!(q.version, 0);
    }

    #[test]
    fn bad_server_id_names_key_and_line() {
        let e = parse_quorum(
            &entries(&[("tickTime", "1"), ("server.x", "a:1:2")]),
            "zoo.cfg",
            false,
            false,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("zoo.cfg:2: server.x: "), "{e}");
        let e =
            parse_quorum(&entries(&[("server.-1", "a:1:2")]), "zoo.cfg", false, false).unwrap_err();
        assert_eq!(e.key(), Some("server.-1"));
    }

    #[test]
    fn hierarchical_quorum() {
        let q = parse_quorum(
            &entries(&[
                ("server.1", "a:2888:3888"),
                ("server.2", "b:2888:3888"),
                ("server.3", "c:2888:3888"),
                ("server.4", "d:2888:3888:observer"),
                ("group.1", "1:2"),
                ("group.2", "3"),
                ("weight.1", "2"),
            ]),
            "zoo.cfg",
            false,
            false,
        )
        .unwrap();
        let h = q.hierarchy.unwrap();
        assert_eq!(h.groups[&1], vec![1, 2]);
        assert_eq!(h.groups[&2], vec![3]);
        assert_eq!(h.weights[&1], 2);
        assert_eq!(h.weights[&2], 1);
        assert_eq!(h.weights.get(&4), None);

        let e = parse_quorum(
            &entries(&[
                ("server.1", "a:1:2"),
                ("server.2", "b:1:2"),
                ("group.1", "1"),
            ]),
            "zoo.cfg",
            false,
            false,
        )
        .unwrap_err();
        assert_eq!(e.key(), Some("server.2"));

        let e = parse_quorum(
            &entries(&[("group.1", "1:2"), ("group.2", "2")]),
            "zoo.cfg",
            false,
            false,
        )
        .unwrap_err();
        assert!(e.to_string().contains("already in group 1"), "{e}");
        assert!(parse_quorum(&entries(&[("weight.1", "x")]), "z", false, false).is_err());
        assert!(parse_quorum(&entries(&[("groupies", "1")]), "z", false, false).is_err());
    }

    #[test]
    fn dynamic_file_rules() {
        let q = parse_quorum(
            &entries(&[("server.1", "a:1:2;2181"), ("version", "100000000")]),
            "zoo.cfg.dynamic",
            true,
            false,
        )
        .unwrap();
        assert_eq!(q.version, 0x1_0000_0000);
        let e = parse_quorum(
            &entries(&[("server.1", "a:1:2"), ("tickTime", "2000")]),
            "zoo.cfg.dynamic",
            true,
            false,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("zoo.cfg.dynamic:2: tickTime: not allowed"),
            "{e}"
        );
    }

    #[test]
    fn hex_versions() {
        assert_eq!(parse_hex_long("1ff"), Some(0x1ff));
        assert_eq!(parse_hex_long(" 0 "), Some(0));
        assert_eq!(parse_hex_long("xyz"), None);
        assert_eq!(parse_hex_long(""), None);
    }
}
