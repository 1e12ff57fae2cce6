//! The zoo.cfg keys FerroKeeper acts on today.
//!
//! Every key of ZooKeeper's Administrator's Guide parses, but not every one
//! changes FerroKeeper's behaviour yet. So that an operator is never misled,
//! the server logs each zoo.cfg key it does not act on once at startup
//! (`ServerConfig::ignored_keys`). Add a key here in the same change that
//! makes the server honour it.
//!
//! Entries are zoo.cfg spellings. An entry ending in `*` matches any key
//! with that prefix (e.g. `server.*`).

/// Keys whose values FerroKeeper uses.
pub const ACTED_ON_KEYS: &[&str] = &[
    "tickTime",
    "dataDir",
    "dataLogDir",
    "clientPort",
    "clientPortAddress",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "4lw.commands.whitelist",
    "extendedTypesEnabled",
    // Read from -Djute.maxbuffer; in zoo.cfg it is inert in ZooKeeper too
    // and `ServerConfig::warnings` already says so.
    "jute.maxbuffer",
    "DigestAuthenticationProvider.superDigest",
    "skipACL",
    // AuthenticationHelper (src/pipeline/enforce_auth.rs).
    "enforce.auth.enabled",
    "enforce.auth.schemes",
    "sessionRequireClientSASLAuth",
    "snapCount",
    "preAllocSize",
    "forceSync",
    "globalOutstandingLimit",
    // server::autopurge (ZooKeeper's DatadirCleanupManager).
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "maxCnxns",
    // Unknown zoo.cfg keys become `zookeeper.<key>` system properties, as
    // in ZooKeeper; these are the ones src/net/settings.rs reads.
    "request_throttle_*",
    "request_stale_*",
    "connection_throttle_*",
    "nio.sessionlessCnxnTimeout",
    "throttled_op_wait_time",
    "largeRequestThreshold",
    "largeRequestMaxBytes",
    "admin.enableServer",
    "admin.serverAddress",
    "admin.serverPort",
    "admin.commandURL",
    "admin.idleTimeout",
    "metricsProvider.className",
    "metricsProvider.httpHost",
    "metricsProvider.httpPort",
    "metricsProvider.exportJvmInfo",
    // The ensemble (src/quorum/settings.rs, src/zab/).
    "server.*",
    "initLimit",
    "syncLimit",
    "quorumListenOnAllIPs",
    "standaloneEnabled",
];

/// Whether `key` is acted on according to [`ACTED_ON_KEYS`].
pub fn is_acted_on(key: &str) -> bool {
    ACTED_ON_KEYS
        .iter()
        .any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => key.starts_with(prefix),
            None => key == *pattern,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_prefix() {
        assert!(is_acted_on("tickTime"));
        assert!(!is_acted_on("ticktime"));
        assert!(is_acted_on("server.12"));
        assert!(!is_acted_on("peerType"));
        assert!(ACTED_ON_KEYS.iter().all(|k| is_acted_on(k)));
    }
}
