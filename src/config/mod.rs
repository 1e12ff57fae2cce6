//! zoo.cfg parsing into a typed configuration.
//!
//! FerroKeeper reads the same files as Apache ZooKeeper 3.8/3.9 and must
//! reach the same decisions from them, so this module follows ZooKeeper's
//! own loading path rather than a generic config library:
//!
//! 1. [`properties`]: zoo.cfg is a Java `.properties` file (`key value`,
//!    `key: value`, `!` comments, `\` continuations, `\uXXXX` escapes).
//! 2. [`zoo_cfg`]: the keys `QuorumPeerConfig.parseProperties` knows are
//!    parsed with the JDK parser Java uses for each; any other key becomes
//!    the Java system property `zookeeper.<key>` ([`system_props`]), which
//!    also holds `-D` flags from `SERVER_JVMFLAGS`/`JVMFLAGS`.
//! 3. [`ensemble`]: `server.N` (zoo.cfg or `dynamicConfigFile`), `myid`,
//!    standalone vs quorum.
//! 4. [`sysprop_settings`]: settings ZooKeeper reads from system properties
//!    (`snapCount`, `4lw.commands.whitelist`, `admin.*`, `jute.maxbuffer`, ...),
//!    each under its exact Java name.
//!
//! Errors name the file and line, the key, the bad value and what was
//! expected. Things ZooKeeper silently tolerates become
//! [`ConfigWarning`]s in [`ServerConfig::warnings`] for the server to log.
//!
//! Deliberate differences from ZooKeeper, each more permissive:
//! trailing whitespace in `server.N` values and in `myid` is accepted;
//! `multiAddress.enabled=true` in zoo.cfg is enough for `|`-separated
//! addresses (ZooKeeper 3.8 also wants the `-D` flag); `-D` values in
//! `SERVER_JVMFLAGS` may be quoted. `clientPort=0` follows 3.9 (listen on an
//! ephemeral port) rather than 3.8 (no listener).

pub mod acted_on;
pub mod address;
pub mod ensemble;
pub mod error;
pub mod four_letter_words;
pub(crate) mod java_values;
pub mod jvm_flags;
pub mod myid;
pub mod properties;
pub mod quorum;
pub mod sections;
pub mod server_config;
pub mod sysprop_settings;
pub mod system_props;
pub mod zoo_cfg;

pub use acted_on::{is_acted_on, ACTED_ON_KEYS};
pub use address::ListenAddress;
pub use error::{ConfigError, ConfigWarning, Location};
pub use four_letter_words::{FourLetterWordWhitelist, KNOWN_FOUR_LETTER_WORDS};
pub use jvm_flags::parse_jvm_flag;
pub use properties::{Properties, PropertiesError, PropertyEntry};
pub use quorum::{LearnerType, QuorumAddress, QuorumConfig, QuorumHierarchy, QuorumServer};
pub use sections::{
    AdminServerConfig, JvmPauseMonitorConfig, MetricsProviderConfig, MultiAddressConfig,
    QuorumSaslConfig, ServerMode, SnapshotCompression,
};
pub use server_config::ServerConfig;
pub use system_props::{PropertyOrigin, SystemProperties, SystemProperty};
pub use zoo_cfg::ConfigEntry;

#[cfg(test)]
mod tests;
