//! Standalone or quorum: `QuorumPeerConfig.setupQuorumPeerConfig` and the
//! reading of the dynamic configuration file.
//!
//! ZooKeeper decides the mode from the participants: none, or one while
//! `standaloneEnabled=true` (HBase writes a single `server.1` line), means
//! standalone; anything else is a quorum, which then needs `initLimit`,
//! `syncLimit` and a `myid` file. The `myid` file is read whenever it
//! exists. This server's own `server.N` client section, if any, overrides
//! `clientPort`/`clientPortAddress`.

use std::fs;
use std::net::IpAddr;
use std::path::Path;

use super::error::{ConfigError, ConfigWarning, Location};
use super::myid::read_myid;
use super::properties::Properties;
use super::quorum::{parse_hex_long, parse_quorum, LearnerType, QuorumConfig};
use super::sections::ServerMode;
use super::server_config::ServerConfig;
use super::zoo_cfg::{trimmed_entries, ConfigEntry};

/// Suffix ZooKeeper appends to the config file name for a pending reconfig.
pub const NEXT_DYNAMIC_CONFIG_SUFFIX: &str = ".dynamic.next";

/// Completes `cfg` with the ensemble, myid, mode and the checks that depend on them.
pub(crate) fn setup_ensemble(
    cfg: &mut ServerConfig,
    static_entries: &[ConfigEntry],
) -> Result<(), ConfigError> {
    let multi = cfg.multi_address.enabled;
    let oracle_path = cfg.quorum.oracle_path.clone();
    let quorum_source;
    match cfg.dynamic_config_file.clone() {
        Some(dynamic_path) => {
            quorum_source = dynamic_path.display().to_string();
            cfg.quorum = read_dynamic_file(cfg, &dynamic_path, multi)?;
            cfg.last_seen_quorum = read_next_dynamic_file(cfg, multi)?;
        }
        None => {
            quorum_source = cfg.source.clone();
            cfg.quorum = parse_quorum(static_entries, &cfg.source, false, multi)?;
        }
    }
    cfg.quorum.oracle_path = oracle_path;

    check_membership(cfg, &quorum_source)?;
    cfg.server_id = read_myid(&cfg.data_dir)?;
    setup_client_port(cfg)?;
    if cfg.client_port_address.is_none() && cfg.secure_client_port_address.is_none() {
        // ZooKeeper starts anyway (log line "clientPort is not set"), unreachable by clients.
        cfg.warnings.push(ConfigWarning::new(
            Location::File {
                source: cfg.source.clone(),
            },
            None,
            "neither clientPort nor secureClientPort is set, nor a client section in this \
             server's server.N entry; no client listener will be started",
        ));
    }
    setup_peer_type(cfg);

    let distributed = !cfg.standalone_enabled || cfg.quorum.participant_count() > 1;
    cfg.mode = if distributed {
        ServerMode::Quorum
    } else {
        ServerMode::Standalone
    };
    if distributed {
        check_quorum_validity(cfg)?;
    }
    Ok(())
}

fn read_dynamic_file(
    cfg: &ServerConfig,
    path: &Path,
    multi: bool,
) -> Result<QuorumConfig, ConfigError> {
    let source = path.display().to_string();
    let bytes = fs::read(path).map_err(|e| {
        let location = match cfg.line_of("dynamicConfigFile") {
            Some(line) => Location::Line {
                source: cfg.source.clone(),
                line,
            },
            None => Location::File {
                source: cfg.source.clone(),
            },
        };
        ConfigError::new(
            location,
            Some("dynamicConfigFile"),
            format!("cannot read {source:?}: {e}"),
        )
    })?;
    let props = Properties::parse_latin1(&bytes).map_err(|e| {
        ConfigError::new(
            Location::Line {
                source: source.clone(),
                line: e.line,
            },
            None,
            e.message,
        )
    })?;
    let entries = trimmed_entries(&props);
    if let Some(version) = entries.iter().find(|e| e.key == "version") {
        return Err(ConfigError::new(
            Location::Line {
                source: source.clone(),
                line: version.line,
            },
            Some("version"),
            "must not be in the dynamic config file; the version is the file name's hex suffix",
        ));
    }
    let mut quorum = parse_quorum(&entries, &source, true, multi)?;
    quorum.version = version_from_filename(&source).unwrap_or(0);
    Ok(quorum)
}

/// `<config file>.dynamic.next`, left behind by an unfinished reconfig.
/// ZooKeeper ignores it when unreadable but fails on bad content.
fn read_next_dynamic_file(
    cfg: &mut ServerConfig,
    multi: bool,
) -> Result<Option<QuorumConfig>, ConfigError> {
    let Some(config_file) = &cfg.config_file else {
        return Ok(None);
    };
    let next = format!("{}{NEXT_DYNAMIC_CONFIG_SUFFIX}", config_file.display());
    if !Path::new(&next).exists() {
        return Ok(None);
    }
    let bytes = match fs::read(&next) {
        Ok(bytes) => bytes,
        Err(e) => {
            cfg.warnings.push(ConfigWarning::new(
                Location::File {
                    source: next.clone(),
                },
                None,
                format!("cannot read the pending reconfiguration file ({e}); ignoring it"),
            ));
            return Ok(None);
        }
    };
    let props = Properties::parse_latin1(&bytes).map_err(|e| {
        ConfigError::new(
            Location::Line {
                source: next.clone(),
                line: e.line,
            },
            None,
            e.message,
        )
    })?;
    parse_quorum(&trimmed_entries(&props), &next, false, multi).map(Some)
}

/// `QuorumPeerConfig.getVersionFromFilename`: `zoo.cfg.dynamic.100000000`
/// has version 0x100000000; no parseable hex suffix means no version.
pub(crate) fn version_from_filename(name: &str) -> Option<i64> {
    let (_, suffix) = name.rsplit_once('.')?;
    parse_hex_long(suffix).filter(|_| !suffix.trim().is_empty() && suffix == suffix.trim())
}

/// The participant/observer rules of `QuorumPeerConfig.parseDynamicConfig`.
fn check_membership(cfg: &mut ServerConfig, source: &str) -> Result<(), ConfigError> {
    let participants = cfg.quorum.participant_count();
    let observers = cfg.quorum.observer_count();
    let file = || Location::File {
        source: source.to_owned(),
    };
    if participants == 0 {
        if !cfg.standalone_enabled {
            return Err(ConfigError::new(
                file(),
                Some("standaloneEnabled"),
                "is false, so at least one participant server.N entry is required",
            ));
        }
        if observers > 0 {
            return Err(ConfigError::new(
                file(),
                None,
                "observers without participants are an invalid configuration",
            ));
        }
    } else if participants == 1 && cfg.standalone_enabled {
        if observers > 0 {
            return Err(ConfigError::new(
                file(),
                None,
                "observers need a quorum, but only one participant is configured and standaloneEnabled is true",
            ));
        }
        cfg.warnings.push(ConfigWarning::new(
            file(),
            None,
            "only one server specified; running standalone and ignoring the server.N entry \
             (set standaloneEnabled=false to run a one-member quorum)",
        ));
    } else if participants <= 2 {
        cfg.warnings.push(ConfigWarning::new(
            file(),
            None,
            "No server failure will be tolerated. You need at least 3 servers.",
        ));
    } else if participants.is_multiple_of(2) {
        cfg.warnings.push(ConfigWarning::new(
            file(),
            None,
            "Non-optimal configuration, consider an odd number of servers.",
        ));
    }
    Ok(())
}

/// `QuorumPeerConfig.setupClientPort`.
fn setup_client_port(cfg: &mut ServerConfig) -> Result<(), ConfigError> {
    let Some(id) = cfg.server_id else {
        return Ok(());
    };
    let static_address = cfg.client_port_address.clone();
    let Some(server) = cfg.quorum.servers.get_mut(&id) else {
        return Ok(());
    };
    match server.client_address.clone() {
        Some(dynamic_address) => {
            if let Some(static_address) = &static_address {
                // Java compares resolved addresses; without resolving, only a
                // different port or two different IP literals are certain mismatches.
                let port_differs = static_address.port != dynamic_address.port;
                let host_differs = !static_address.is_wildcard()
                    && matches!(
                        (
                            static_address.host_or_wildcard().parse::<IpAddr>(),
                            dynamic_address.host_or_wildcard().parse::<IpAddr>(),
                        ),
                        (Ok(a), Ok(b)) if a != b
                    );
                if port_differs || host_differs {
                    let location = match cfg.entries.iter().find(|e| e.key == "clientPort") {
                        Some(e) => Location::Line {
                            source: cfg.source.clone(),
                            line: e.line,
                        },
                        None => Location::File {
                            source: cfg.source.clone(),
                        },
                    };
                    return Err(ConfigError::new(
                        location,
                        Some("clientPort"),
                        format!(
                            "the client address for this server (id {id}) is {static_address} here \
                             but {dynamic_address} in its server.{id} entry"
                        ),
                    ));
                }
            }
            cfg.client_port_address = Some(dynamic_address);
        }
        None => {
            server.client_address = static_address;
            server.client_address_from_static = true;
        }
    }
    Ok(())
}

/// `QuorumPeerConfig.setupPeerType`: the server list decides; a different
/// `peerType` only earns a warning.
fn setup_peer_type(cfg: &mut ServerConfig) {
    let by_list = match cfg.server_id.and_then(|id| cfg.quorum.servers.get(&id)) {
        Some(server) if server.learner_type == LearnerType::Observer => LearnerType::Observer,
        _ => LearnerType::Participant,
    };
    if by_list != cfg.peer_type {
        let location = match cfg.line_of("peerType") {
            Some(line) => Location::Line {
                source: cfg.source.clone(),
                line,
            },
            None => Location::File {
                source: cfg.source.clone(),
            },
        };
        cfg.warnings.push(ConfigWarning::new(
            location,
            Some("peerType"),
            format!(
                "is {} but the server list says {}; using the server list",
                cfg.peer_type.as_str(),
                by_list.as_str()
            ),
        ));
        cfg.peer_type = by_list;
    }
}

/// `QuorumPeerConfig.checkValidity` for a quorum.
fn check_quorum_validity(cfg: &mut ServerConfig) -> Result<(), ConfigError> {
    let file = Location::File {
        source: cfg.source.clone(),
    };
    for (key, value) in [("initLimit", cfg.init_limit), ("syncLimit", cfg.sync_limit)] {
        if value <= 0 {
            let location = match cfg.line_of(key) {
                Some(line) => Location::Line {
                    source: cfg.source.clone(),
                    line,
                },
                None => file.clone(),
            };
            let message = if value == 0 {
                "is not set; a quorum needs it (a number of ticks)".to_owned()
            } else {
                format!("expected a positive number of ticks, got \"{value}\"")
            };
            return Err(ConfigError::new(location, Some(key), message));
        }
    }
    let Some(id) = cfg.server_id else {
        return Err(ConfigError::new(
            Location::File {
                source: cfg.data_dir.join(super::myid::MYID_FILE_NAME).display().to_string(),
            },
            None,
            "myid file is missing; a quorum member needs its server id (the N of its server.N entry) in it",
        ));
    };
    if !cfg.quorum.servers.contains_key(&id) {
        cfg.warnings.push(ConfigWarning::new(
            Location::File {
                source: cfg.source.clone(),
            },
            None,
            format!("myid is {id} but there is no server.{id} entry"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_file_names() {
        assert_eq!(
            version_from_filename("zoo.cfg.dynamic.100000000"),
            Some(0x1_0000_0000)
        );
        assert_eq!(version_from_filename("/conf/zoo.cfg.dynamic.0"), Some(0));
        assert_eq!(version_from_filename("zoo.cfg.dynamic"), None);
        assert_eq!(version_from_filename("dynamic"), None);
        assert_eq!(version_from_filename("a."), None);
    }
}
