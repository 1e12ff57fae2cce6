//! Errors and warnings produced while loading the configuration.
//!
//! Every message names where the offending value came from (a `file:line`, a
//! whole file, or an environment variable such as `SERVER_JVMFLAGS`), the key,
//! and what was expected, because an operator migrating from Apache ZooKeeper
//! has to be able to fix the file from the message alone.

use std::fmt;

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A line of a properties file (zoo.cfg or the dynamic config file).
    /// `line` is 1-based and is the first physical line of a continued line.
    Line { source: String, line: usize },
    /// A whole file, e.g. when a required key is absent or the myid file is bad.
    File { source: String },
    /// A `-Dkey=value` flag found in an environment variable (`SERVER_JVMFLAGS`, `JVMFLAGS`).
    JvmFlag { variable: String },
    /// An environment variable that zkServer.sh turns into a system property.
    Environment { variable: String },
    /// Set by FerroKeeper itself (embedded defaults, tests, command line).
    Builtin,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line { source, line } => write!(f, "{source}:{line}"),
            Location::File { source } => write!(f, "{source}"),
            Location::JvmFlag { variable } => write!(f, "{variable}"),
            Location::Environment { variable } => write!(f, "environment variable {variable}"),
            Location::Builtin => write!(f, "<built-in>"),
        }
    }
}

/// A configuration problem that stops the server from starting, as it would
/// stop Apache ZooKeeper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    location: Location,
    key: Option<String>,
    message: String,
}

impl ConfigError {
    /// An error about `key` at `location`.
    pub fn new(location: Location, key: Option<&str>, message: impl Into<String>) -> Self {
        ConfigError {
            location,
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }

    /// Where the bad value came from.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The configuration key concerned, if the problem is about one key.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The description without location and key.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_diagnostic(f, &self.location, self.key.as_deref(), &self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Something ZooKeeper accepts (often silently) but an operator should know
/// about; the server logs each one once at startup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    location: Location,
    key: Option<String>,
    message: String,
}

impl ConfigWarning {
    /// A warning about `key` at `location`.
    pub fn new(location: Location, key: Option<&str>, message: impl Into<String>) -> Self {
        ConfigWarning {
            location,
            key: key.map(str::to_owned),
            message: message.into(),
        }
    }

    /// Where the questionable value came from.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The configuration key concerned, if any.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The description without location and key.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_diagnostic(f, &self.location, self.key.as_deref(), &self.message)
    }
}

fn write_diagnostic(
    f: &mut fmt::Formatter<'_>,
    location: &Location,
    key: Option<&str>,
    message: &str,
) -> fmt::Result {
    match key {
        Some(key) => write!(f, "{location}: {key}: {message}"),
        None => write!(f, "{location}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_key_and_message() {
        let e = ConfigError::new(
            Location::Line {
                source: "zoo.cfg".into(),
                line: 7,
            },
            Some("tickTime"),
            "expected an integer number of milliseconds, got \"abc\"",
        );
        assert_eq!(
            e.to_string(),
            "zoo.cfg:7: tickTime: expected an integer number of milliseconds, got \"abc\""
        );
    }

    #[test]
    fn display_without_key() {
        let w = ConfigWarning::new(
            Location::JvmFlag {
                variable: "SERVER_JVMFLAGS".into(),
            },
            None,
            "unterminated quote",
        );
        assert_eq!(w.to_string(), "SERVER_JVMFLAGS: unterminated quote");
    }
}
