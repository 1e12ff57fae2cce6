//! `4lw.commands.whitelist`: which four-letter-word commands are answered.
//!
//! ZooKeeper 3.5.3+ disables four-letter words unless listed in
//! `zookeeper.4lw.commands.whitelist` (zoo.cfg key `4lw.commands.whitelist`).
//! The list is split on commas only and each entry trimmed, so `stat ruok`
//! is one unknown entry, not two; `*` anywhere enables every command.
//! `srvr` is always enabled because zkServer.sh's `status` uses it, and
//! `isro` is added when the system property `readonlymode.enabled` is
//! exactly `true`. Source: `FourLetterCommands.isEnabled` (3.8 and 3.9).

use std::collections::BTreeSet;

use super::java_values::java_trim;

/// Every four-letter word ZooKeeper 3.8/3.9 knows, as `*` enables them.
/// `telnet close` is the name ZooKeeper gives the telnet IAC/close sequence.
pub const KNOWN_FOUR_LETTER_WORDS: [&str; 19] = [
    "conf",
    "cons",
    "crst",
    "dirs",
    "dump",
    "envi",
    "gtmk",
    "ruok",
    "stmk",
    "srst",
    "srvr",
    "stat",
    "wchc",
    "wchp",
    "wchs",
    "mntr",
    "isro",
    "telnet close",
    "hash",
];

/// The set of enabled four-letter-word commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FourLetterWordWhitelist {
    enabled: BTreeSet<String>,
}

impl Default for FourLetterWordWhitelist {
    /// ZooKeeper's default: only `srvr`.
    fn default() -> Self {
        Self::from_property(None, false)
    }
}

impl FourLetterWordWhitelist {
    /// Builds the set the way `FourLetterCommands.isEnabled` does from the
    /// property value (`None` when unset) and whether `readonlymode.enabled`
    /// is exactly `"true"`.
    pub fn from_property(value: Option<&str>, read_only_mode: bool) -> Self {
        let mut enabled = BTreeSet::new();
        if let Some(list) = value {
            for entry in list.split(',') {
                let entry = java_trim(entry);
                if entry == "*" {
                    enabled.extend(KNOWN_FOUR_LETTER_WORDS.iter().map(|s| (*s).to_owned()));
                    break;
                }
                if !entry.is_empty() {
                    enabled.insert(entry.to_owned());
                }
            }
        }
        if read_only_mode {
            enabled.insert("isro".to_owned());
        }
        enabled.insert("srvr".to_owned());
        FourLetterWordWhitelist { enabled }
    }

    /// Whether `command` (e.g. `"ruok"`) may run.
    pub fn is_enabled(&self, command: &str) -> bool {
        self.enabled.contains(command)
    }

    /// The enabled commands, sorted (unknown names included, as in Java's log line).
    pub fn enabled(&self) -> impl Iterator<Item = &str> {
        self.enabled.iter().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_only_srvr() {
        let w = FourLetterWordWhitelist::default();
        assert_eq!(w.enabled().collect::<Vec<_>>(), vec!["srvr"]);
        assert!(!w.is_enabled("ruok"));
    }

    #[test]
    fn comma_separated_and_trimmed() {
        let w = FourLetterWordWhitelist::from_property(Some("stat, ruok ,conf,,"), false);
        assert!(w.is_enabled("stat") && w.is_enabled("ruok") && w.is_enabled("conf"));
        assert!(w.is_enabled("srvr"));
        assert!(!w.is_enabled("mntr"));
    }

    #[test]
    fn spaces_do_not_separate() {
        let w = FourLetterWordWhitelist::from_property(Some("stat ruok"), false);
        assert!(!w.is_enabled("stat"));
        assert!(w.is_enabled("stat ruok"));
    }

    #[test]
    fn star_enables_all() {
        let w = FourLetterWordWhitelist::from_property(Some("ruok, *"), false);
        for c in KNOWN_FOUR_LETTER_WORDS {
            assert!(w.is_enabled(c), "{c}");
        }
    }

    #[test]
    fn read_only_mode_adds_isro() {
        let w = FourLetterWordWhitelist::from_property(None, true);
        assert!(w.is_enabled("isro"));
    }
}
