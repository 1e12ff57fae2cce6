//! The AdminServer's command table and replies, as ZooKeeper 3.8.0's
//! `Commands.java` and `CommandResponse` define them.
//!
//! Every command has a primary name and aliases (mostly the four-letter
//! word); the reply's `command` is always the primary name. The reply is a
//! JSON object: the command's data, then `command`, then `error` (null when
//! the command worked) — unless the data already holds `error`, which then
//! keeps its place, as `CommandResponse.toMap` does.

use serde_json::{Map, Value};

/// Every command ZooKeeper 3.8.0 registers: primary name first, then aliases.
pub const COMMANDS: &[&[&str]] = &[
    &["connection_stat_reset", "crst"],
    &["configuration", "conf", "config"],
    &["connections", "cons"],
    &["hash"],
    &["dirs"],
    &["dump"],
    &["environment", "env", "envi"],
    &["get_trace_mask", "gtmk"],
    &["initial_configuration", "icfg"],
    &["is_read_only", "isro"],
    &["last_snapshot", "lsnp"],
    &["leader", "lead"],
    &["monitor", "mntr"],
    &["observer_connection_stat_reset", "orst"],
    &["ruok"],
    &["set_trace_mask", "stmk"],
    &["server_stats", "srvr"],
    &["stats", "stat"],
    &["stat_reset", "srst"],
    &["observers", "obsr"],
    &["system_properties", "sysp"],
    &["voting_view"],
    &["watches", "wchc"],
    &["watches_by_path", "wchp"],
    &["watch_summary", "wchs"],
    &["zabstate"],
];

/// The primary name of the command called `name` (a primary name or an
/// alias; case matters, as in ZooKeeper).
pub fn primary_name(name: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|names| names.contains(&name))
        .map(|names| names[0])
}

/// Commands answered without the core: what was configured at start.
pub fn is_static(primary: &str) -> bool {
    matches!(primary, "initial_configuration" | "system_properties")
}

/// The page `GET <commandURL>` answers: a link to every command's primary
/// name, sorted, each line followed by a `<br/>` line (`commandLinks`).
pub fn links_page(command_url: &str) -> String {
    let mut names: Vec<&str> = COMMANDS.iter().map(|n| n[0]).collect();
    names.sort_unstable();
    let mut out = String::new();
    for n in names {
        out.push_str(&format!("<a href=\"{command_url}/{n}\">{n}</a>\n<br/>\n"));
    }
    out
}

/// `CommandResponse.toMap`: `data`, then `command`, then `error` (null
/// unless given), where `data`'s own `error` wins and keeps its place.
pub fn response(command: &str, error: Option<&str>, data: Map<String, Value>) -> Value {
    let mut m = data;
    if !m.contains_key("command") {
        m.insert("command".into(), Value::String(command.to_string()));
    }
    if !m.contains_key("error") {
        m.insert(
            "error".into(),
            error.map_or(Value::Null, |e| Value::String(e.to_string())),
        );
    }
    Value::Object(m)
}

/// `Commands.runCommand`'s answer to a name no command has.
pub fn unknown(name: &str) -> Value {
    response(name, Some(&format!("Unknown command: {name}")), Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aliases_map_to_primary_names() {
        assert_eq!(primary_name("mntr"), Some("monitor"));
        assert_eq!(primary_name("config"), Some("configuration"));
        assert_eq!(primary_name("zabstate"), Some("zabstate"));
        assert_eq!(primary_name("MNTR"), None);
        assert_eq!(primary_name(""), None);
        let all: usize = COMMANDS.iter().map(|n| n.len()).sum();
        assert_eq!(all, 48);
    }

    #[test]
    fn response_puts_command_and_error_last_unless_data_has_error() {
        let mut d = Map::new();
        d.insert("tracemask".into(), json!(306));
        let r = serde_json::to_string(&response("gtmk", None, d)).unwrap();
        assert_eq!(r, r#"{"tracemask":306,"command":"gtmk","error":null}"#);
        let mut d = Map::new();
        d.insert("error".into(), json!("server is not initialized"));
        let r = serde_json::to_string(&response("leader", None, d)).unwrap();
        assert_eq!(
            r,
            r#"{"error":"server is not initialized","command":"leader"}"#
        );
        let r = serde_json::to_string(&unknown("x")).unwrap();
        assert_eq!(r, r#"{"command":"x","error":"Unknown command: x"}"#);
    }

    #[test]
    fn links_are_sorted_primary_names() {
        let page = links_page("/commands");
        assert!(page.starts_with("<a href=\"/commands/configuration\">configuration</a>\n<br/>\n"));
        assert!(page.ends_with("<a href=\"/commands/zabstate\">zabstate</a>\n<br/>\n"));
        assert_eq!(page.matches("<br/>").count(), COMMANDS.len());
    }
}
