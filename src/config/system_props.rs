//! The Java system-property namespace ZooKeeper reads most settings from.
//!
//! In ZooKeeper, a zoo.cfg key that `QuorumPeerConfig.parseProperties` does
//! not recognise is passed to `System.setProperty("zookeeper." + key, value)`.
//! That is how `snapCount`, `4lw.commands.whitelist`, `admin.serverPort`,
//! `ssl.*` and dozens of other settings work from zoo.cfg: the code that uses
//! them reads `System.getProperty("zookeeper.snapCount")`, which may equally
//! have been set with `-Dzookeeper.snapCount=...` on the JVM command line.
//!
//! FerroKeeper keeps the same single map so that both spellings keep working
//! and precedence matches Java:
//!
//! 1. `-D` flags from the environment (`SERVER_JVMFLAGS`, then `JVMFLAGS`;
//!    the later flag wins, as with repeated `-D` on a `java` command line);
//! 2. then zoo.cfg's unrecognised keys, which overwrite a `-D` value of the
//!    same name because `System.setProperty` runs after the JVM has started.
//!
//! A few settings are read without the `zookeeper.` prefix in Java
//! (`jute.maxbuffer`, `readonlymode.enabled`, `znode.container.*`, ...). Those
//! can only be set with `-D`: the same key in zoo.cfg becomes
//! `zookeeper.jute.maxbuffer`, which ZooKeeper never reads.

use std::collections::BTreeMap;

use super::error::{ConfigWarning, Location};
use super::jvm_flags::{parse_jvm_flag, shell_words, whitespace_words};

/// The environment variables whose `-D` flags reach the server JVM, in the
/// order they appear on zkServer.sh's java command line.
pub const SERVER_JVM_FLAG_VARIABLES: [&str; 2] = ["SERVER_JVMFLAGS", "JVMFLAGS"];

/// zkServer.sh adds `-Dzookeeper.datadir.autocreate=false` when this is non-empty.
pub const DATADIR_AUTOCREATE_DISABLE_VARIABLE: &str = "ZOO_DATADIR_AUTOCREATE_DISABLE";

/// Where a system property's current value was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyOrigin {
    /// A `-D` flag in the named environment variable.
    JvmFlag { variable: String },
    /// An environment variable zkServer.sh translates into a property.
    Environment { variable: String },
    /// An unrecognised zoo.cfg key (`key` is the zoo.cfg spelling, without `zookeeper.`).
    ConfigFile {
        source: String,
        line: usize,
        key: String,
    },
    /// Set by FerroKeeper code (command line, embedded defaults, tests).
    Builtin,
}

impl PropertyOrigin {
    /// The location to cite in messages about this property.
    pub fn location(&self) -> Location {
        match self {
            PropertyOrigin::JvmFlag { variable } => Location::JvmFlag {
                variable: variable.clone(),
            },
            PropertyOrigin::Environment { variable } => Location::Environment {
                variable: variable.clone(),
            },
            PropertyOrigin::ConfigFile { source, line, .. } => Location::Line {
                source: source.clone(),
                line: *line,
            },
            PropertyOrigin::Builtin => Location::Builtin,
        }
    }
}

/// One property value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemProperty {
    /// The value exactly as set (zoo.cfg values are already trimmed by then).
    pub value: String,
    /// Who set it last.
    pub origin: PropertyOrigin,
}

impl SystemProperty {
    /// How an operator would spell this property where it was set: the
    /// zoo.cfg key for zoo.cfg entries, `-Dname` for flags.
    pub fn spelled(&self, name: &str) -> String {
        match &self.origin {
            PropertyOrigin::ConfigFile { key, .. } => key.clone(),
            PropertyOrigin::JvmFlag { .. } => format!("-D{name}"),
            PropertyOrigin::Environment { .. } | PropertyOrigin::Builtin => name.to_owned(),
        }
    }
}

/// Java system properties as ZooKeeper would see them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemProperties {
    map: BTreeMap<String, SystemProperty>,
    warnings: Vec<ConfigWarning>,
}

impl SystemProperties {
    /// An empty map (no `-D` flags).
    pub fn new() -> Self {
        Self::default()
    }

    /// The properties zkServer.sh would give the server JVM, read from this
    /// process's environment (see [`SystemProperties::from_vars`]).
    pub fn from_env() -> Self {
        let mut vars = Vec::new();
        for name in
            std::iter::once(DATADIR_AUTOCREATE_DISABLE_VARIABLE).chain(SERVER_JVM_FLAG_VARIABLES)
        {
            if let Some(value) = std::env::var_os(name) {
                vars.push((name.to_owned(), value.to_string_lossy().into_owned()));
            }
        }
        Self::from_vars(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Builds the map from `(variable, value)` pairs: `ZOO_DATADIR_AUTOCREATE_DISABLE`
    /// first, then the `-D` flags of `SERVER_JVMFLAGS` followed by `JVMFLAGS`,
    /// whatever order the pairs come in. Other variables are ignored.
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let vars: Vec<(&str, &str)> = vars.into_iter().collect();
        let lookup = |name: &str| vars.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| *v);
        let mut props = SystemProperties::new();
        if lookup(DATADIR_AUTOCREATE_DISABLE_VARIABLE).is_some_and(|v| !v.is_empty()) {
            props.set(
                "zookeeper.datadir.autocreate",
                "false",
                PropertyOrigin::Environment {
                    variable: DATADIR_AUTOCREATE_DISABLE_VARIABLE.to_owned(),
                },
            );
        }
        for name in SERVER_JVM_FLAG_VARIABLES {
            if let Some(flags) = lookup(name) {
                props.apply_jvm_flags(name, flags);
            }
        }
        props
    }

    /// Applies every `-Dkey=value` in `flags` (the contents of environment
    /// variable `variable`), ignoring non-`-D` JVM options.
    pub fn apply_jvm_flags(&mut self, variable: &str, flags: &str) {
        let words = match shell_words(flags) {
            Ok(words) => words,
            Err(e) => {
                self.warnings.push(ConfigWarning::new(
                    Location::JvmFlag {
                        variable: variable.to_owned(),
                    },
                    None,
                    format!(
                        "{}; splitting on whitespace only, as zkServer.sh would",
                        e.describe()
                    ),
                ));
                whitespace_words(flags)
            }
        };
        for word in words {
            if let Some((key, value)) = parse_jvm_flag(&word) {
                self.set(
                    &key,
                    &value,
                    PropertyOrigin::JvmFlag {
                        variable: variable.to_owned(),
                    },
                );
            } else if word.starts_with("-D") {
                self.warnings.push(ConfigWarning::new(
                    Location::JvmFlag {
                        variable: variable.to_owned(),
                    },
                    None,
                    format!("ignoring {word:?}: a system property needs a name (-Dname=value)"),
                ));
            }
        }
    }

    /// Sets (or replaces) a property, like `System.setProperty`.
    pub fn set(&mut self, name: &str, value: &str, origin: PropertyOrigin) {
        self.map.insert(
            name.to_owned(),
            SystemProperty {
                value: value.to_owned(),
                origin,
            },
        );
    }

    /// `System.getProperty(name)`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(|p| p.value.as_str())
    }

    /// The property with its origin.
    pub fn property(&self, name: &str) -> Option<&SystemProperty> {
        self.map.get(name)
    }

    /// All properties, sorted by name (what the `sysp` admin command lists).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &SystemProperty)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Properties whose name starts with `prefix`, with the prefix removed.
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a SystemProperty)> + 'a {
        self.map
            .range(prefix.to_owned()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .map(move |(k, v)| (&k[prefix.len()..], v))
    }

    /// Number of properties.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Problems found while reading flags (unbalanced quotes, nameless `-D`).
    /// The configuration loader moves these into `ServerConfig::warnings`.
    pub fn take_warnings(&mut self) -> Vec<ConfigWarning> {
        std::mem::take(&mut self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_flags_then_jvmflags_later_wins() {
        let props = SystemProperties::from_vars([
            ("JVMFLAGS", "-Dzookeeper.snapCount=2000"),
            (
                "SERVER_JVMFLAGS",
                "-Xmx1000m -Dzookeeper.snapCount=1000 -Djute.maxbuffer=4194304 -Dflag",
            ),
            ("CLIENT_JVMFLAGS", "-Dzookeeper.client.secure=true"),
        ]);
        assert_eq!(props.get("zookeeper.snapCount"), Some("2000"));
        assert_eq!(
            props.property("zookeeper.snapCount").unwrap().origin,
            PropertyOrigin::JvmFlag {
                variable: "JVMFLAGS".into()
            }
        );
        assert_eq!(props.get("jute.maxbuffer"), Some("4194304"));
        assert_eq!(props.get("flag"), Some(""));
        assert_eq!(
            props.get("zookeeper.client.secure"),
            None,
            "CLIENT_JVMFLAGS never reaches the server"
        );
        assert_eq!(props.len(), 3);
    }

    #[test]
    fn quoted_values_and_unbalanced_fallback() {
        let mut props = SystemProperties::from_vars([(
            "SERVER_JVMFLAGS",
            r#"-Dzookeeper.4lw.commands.whitelist="stat, ruok""#,
        )]);
        assert_eq!(
            props.get("zookeeper.4lw.commands.whitelist"),
            Some("stat, ruok")
        );
        assert!(props.take_warnings().is_empty());

        let mut props = SystemProperties::from_vars([("SERVER_JVMFLAGS", r#"-Da="x y -Db=1"#)]);
        assert_eq!(props.get("a"), Some("\"x"));
        assert_eq!(props.get("b"), Some("1"));
        let warnings = props.take_warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0]
            .to_string()
            .starts_with("SERVER_JVMFLAGS: unterminated double quote"));
    }

    #[test]
    fn datadir_autocreate_disable() {
        let props = SystemProperties::from_vars([
            ("ZOO_DATADIR_AUTOCREATE_DISABLE", "1"),
            ("JVMFLAGS", ""),
        ]);
        assert_eq!(props.get("zookeeper.datadir.autocreate"), Some("false"));
        let props = SystemProperties::from_vars([("ZOO_DATADIR_AUTOCREATE_DISABLE", "")]);
        assert_eq!(props.get("zookeeper.datadir.autocreate"), None);
        // A -D flag comes later on the command line and wins.
        let props = SystemProperties::from_vars([
            ("ZOO_DATADIR_AUTOCREATE_DISABLE", "yes"),
            ("SERVER_JVMFLAGS", "-Dzookeeper.datadir.autocreate=true"),
        ]);
        assert_eq!(props.get("zookeeper.datadir.autocreate"), Some("true"));
    }

    #[test]
    fn prefix_iteration() {
        let mut props = SystemProperties::new();
        props.set(
            "zookeeper.ssl.keyStore.location",
            "/k",
            PropertyOrigin::Builtin,
        );
        props.set(
            "zookeeper.ssl.quorum.protocol",
            "TLSv1.3",
            PropertyOrigin::Builtin,
        );
        props.set("zookeeper.sslQuorum", "true", PropertyOrigin::Builtin);
        props.set("zookeeper.snapCount", "1", PropertyOrigin::Builtin);
        let keys: Vec<_> = props
            .with_prefix("zookeeper.ssl.")
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, vec!["keyStore.location", "quorum.protocol"]);
    }

    #[test]
    fn nameless_flag_warns() {
        let mut props = SystemProperties::from_vars([("JVMFLAGS", "-D=1 -Dok=1")]);
        assert_eq!(props.get("ok"), Some("1"));
        assert_eq!(props.take_warnings().len(), 1);
    }
}
