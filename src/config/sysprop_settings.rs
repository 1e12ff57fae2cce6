//! Typed settings that ZooKeeper reads from Java system properties.
//!
//! Each setting below uses the exact property name and the exact JDK
//! conversion the Java code uses, because they differ: `Integer.getInteger`
//! accepts hex and octal and quietly falls back to the default on garbage,
//! `skipACL` is on only for the exact string `yes`, `forceSync` is off only
//! for the exact string `no`, `admin.enableServer` is off only for `false`.
//! Where Java silently falls back, FerroKeeper does too but reports a
//! warning naming where the bad value came from.
//!
//! The names come from ZooKeeper 3.8/3.9 sources: ZooKeeperServer,
//! FileTxnLog, FilePadding, SnapStream, ZKDatabase, ServerCnxnFactory,
//! FourLetterCommands, JettyAdminServer, AdminServerFactory, EphemeralType,
//! BinaryInputArchive, DigestAuthenticationProvider, FileTxnSnapLog,
//! QuorumPeer, Leader.

use super::error::{ConfigError, ConfigWarning};
use super::four_letter_words::FourLetterWordWhitelist;
use super::java_values::{decode_int, decode_long, java_bool, parse_double, parse_int, parse_long};
use super::sections::SnapshotCompression;
use super::server_config::ServerConfig;
use super::system_props::{PropertyOrigin, SystemProperties, SystemProperty};

/// ZooKeeper's default `snapCount` (transactions between snapshots).
pub const DEFAULT_SNAP_COUNT: i32 = 100_000;
/// ZooKeeper's default `snapSizeLimitInKb` (4 GiB).
pub const DEFAULT_SNAP_SIZE_LIMIT_KB: i64 = 4_194_304;
/// ZooKeeper's default `preAllocSize` in KiB (64 MiB).
pub const DEFAULT_PRE_ALLOC_SIZE_KB: i64 = 65_536;
/// ZooKeeper's default `globalOutstandingLimit`.
pub const DEFAULT_GLOBAL_OUTSTANDING_LIMIT: i32 = 1000;
/// `jute.maxbuffer` default: 0xfffff bytes, just under 1 MiB.
pub const DEFAULT_JUTE_MAX_BUFFER: u32 = 0xfffff;
/// ZooKeeper's default and minimum `commitLogCount`.
pub const DEFAULT_COMMIT_LOG_COUNT: i32 = 500;
/// ZooKeeper's default `snapshotSizeFactor` (`ZKDatabase.DEFAULT_SNAPSHOT_SIZE_FACTOR`).
pub const DEFAULT_SNAPSHOT_SIZE_FACTOR: f64 = 0.33;
/// ZooKeeper's default `fsync.warningthresholdms`.
pub const DEFAULT_FSYNC_WARNING_THRESHOLD_MS: i64 = 1000;
/// Largest server id allowed with `extendedTypesEnabled` (`EphemeralType.MAX_EXTENDED_SERVER_ID`).
pub const MAX_EXTENDED_SERVER_ID: u64 = 0xfe;

/// zoo.cfg keys that look like settings but that ZooKeeper never reads,
/// because the code reads a differently named system property. Setting one
/// in zoo.cfg has no effect on the Java server and, faithfully, none here.
const INEFFECTIVE_ZOO_CFG_KEYS: [(&str, &str); 21] = [
    ("jute.maxbuffer", "-Djute.maxbuffer"),
    ("readonlymode.enabled", "-Dreadonlymode.enabled"),
    ("superDigest", "DigestAuthenticationProvider.superDigest"),
    ("connectionMaxTokens", "connection_throttle_tokens"),
    ("connectionTokenFillTime", "connection_throttle_fill_time"),
    ("connectionTokenFillCount", "connection_throttle_fill_count"),
    ("connectionFreezeTime", "connection_throttle_freeze_time"),
    (
        "connectionDropIncrease",
        "connection_throttle_drop_increase",
    ),
    (
        "connectionDropDecrease",
        "connection_throttle_drop_decrease",
    ),
    (
        "connectionDecreaseRatio",
        "connection_throttle_decrease_ratio",
    ),
    ("requestThrottleLimit", "request_throttle_max_requests"),
    ("requestThrottleStallTime", "request_throttle_stall_time"),
    ("requestThrottleDropStale", "request_throttle_drop_stale"),
    ("requestStaleLatencyCheck", "request_stale_latency_check"),
    (
        "requestStaleConnectionCheck",
        "request_stale_connection_check",
    ),
    (
        "advancedFlowControlEnabled",
        "netty.advancedFlowControl.enabled",
    ),
    ("maxConcurrentSnapSyncs", "leader.maxConcurrentSnapSyncs"),
    ("maxConcurrentDiffSyncs", "leader.maxConcurrentDiffSyncs"),
    ("maxTimeToWaitForEpoch", "leader.maxTimeToWaitForEpoch"),
    ("throttledOpWaitTime", "throttled_op_wait_time"),
    (
        "outstandingHandshake.limit",
        "netty.server.outstandingHandshake.limit",
    ),
];

struct Reader<'a> {
    props: &'a SystemProperties,
    warnings: &'a mut Vec<ConfigWarning>,
}

impl Reader<'_> {
    fn prop(&self, name: &str) -> Option<&SystemProperty> {
        self.props.property(name)
    }

    fn warn_default(&mut self, name: &str, expected: &str, default: &dyn std::fmt::Display) {
        if let Some(p) = self.props.property(name) {
            self.warnings.push(ConfigWarning::new(
                p.origin.location(),
                Some(&p.spelled(name)),
                format!(
                    "expected {expected}, got {:?}; using the default {default}, as ZooKeeper silently does",
                    p.value
                ),
            ));
        }
    }

    /// `Integer.getInteger(name, default)`.
    fn integer(&mut self, name: &str, default: i32, expected: &str) -> i32 {
        let Some(p) = self.prop(name) else {
            return default;
        };
        match decode_int(&p.value) {
            Some(v) => v,
            None => {
                self.warn_default(name, expected, &default);
                default
            }
        }
    }

    /// `Long.getLong(name)`, `None` when absent or unparseable.
    fn long_opt(&self, name: &str) -> Option<i64> {
        self.prop(name).and_then(|p| decode_long(&p.value))
    }

    /// `Long.getLong(name, default)`.
    fn long(&mut self, name: &str, default: i64, expected: &str) -> i64 {
        if self.prop(name).is_none() {
            return default;
        }
        match self.long_opt(name) {
            Some(v) => v,
            None => {
                self.warn_default(name, expected, &default);
                default
            }
        }
    }

    /// `Boolean.getBoolean(name)`.
    fn flag(&self, name: &str) -> bool {
        self.props.get(name).is_some_and(java_bool)
    }

    /// `!System.getProperty(name, default).equals(off)`.
    fn unless_exactly(&self, name: &str, off: &str) -> bool {
        self.props.get(name) != Some(off)
    }

    fn string(&self, name: &str) -> Option<String> {
        self.props.get(name).map(str::to_owned)
    }

    fn error(&self, name: &str, message: String) -> ConfigError {
        match self.prop(name) {
            Some(p) => ConfigError::new(p.origin.location(), Some(&p.spelled(name)), message),
            None => ConfigError::new(super::error::Location::Builtin, Some(name), message),
        }
    }
}

/// Fills every system-property-driven field of `cfg` from `cfg.system_properties`.
pub(crate) fn apply_system_properties(cfg: &mut ServerConfig) -> Result<(), ConfigError> {
    warn_ineffective_keys(cfg);
    let mut r = Reader {
        props: &cfg.system_properties,
        warnings: &mut cfg.warnings,
    };

    // Persistence.
    let snap_count = r.integer(
        "zookeeper.snapCount",
        DEFAULT_SNAP_COUNT,
        "an integer number of transactions",
    );
    cfg.snap_count = if snap_count < 2 {
        r.warn_default("zookeeper.snapCount", "at least 2", &2);
        2
    } else {
        snap_count
    };
    cfg.snap_size_limit_kb = r.long(
        "zookeeper.snapSizeLimitInKb",
        DEFAULT_SNAP_SIZE_LIMIT_KB,
        "an integer number of KiB",
    );
    cfg.txn_log_size_limit_kb = r.long(
        "zookeeper.txnLogSizeLimitInKb",
        -1,
        "an integer number of KiB",
    );
    // FilePadding uses Long.parseLong (decimal only), not Long.getLong.
    cfg.pre_alloc_size_kb = match r
        .prop("zookeeper.preAllocSize")
        .map(|p| parse_long(&p.value))
    {
        None => DEFAULT_PRE_ALLOC_SIZE_KB,
        Some(Some(kb)) => kb,
        Some(None) => {
            r.warn_default(
                "zookeeper.preAllocSize",
                "an integer number of KiB",
                &DEFAULT_PRE_ALLOC_SIZE_KB,
            );
            DEFAULT_PRE_ALLOC_SIZE_KB
        }
    };
    cfg.force_sync = r.unless_exactly("zookeeper.forceSync", "no");
    // FileTxnLog: the zookeeper.-prefixed name first, then the old bare name.
    cfg.fsync_warning_threshold_ms = match r.long_opt("zookeeper.fsync.warningthresholdms") {
        Some(v) => v,
        None => {
            if r.prop("zookeeper.fsync.warningthresholdms").is_some() {
                r.warn_default(
                    "zookeeper.fsync.warningthresholdms",
                    "an integer number of milliseconds",
                    &"(fsync.warningthresholdms or 1000)",
                );
            }
            r.long(
                "fsync.warningthresholdms",
                DEFAULT_FSYNC_WARNING_THRESHOLD_MS,
                "an integer number of milliseconds",
            )
        }
    };
    cfg.snapshot_compression = match r.string("zookeeper.snapshot.compression.method") {
        None => SnapshotCompression::None,
        Some(v) => SnapshotCompression::parse(&v).unwrap_or_else(|| {
            r.warn_default(
                "zookeeper.snapshot.compression.method",
                "\"gz\", \"snappy\" or empty",
                &"(no compression)",
            );
            SnapshotCompression::None
        }),
    };
    // ZKDatabase: Integer.parseInt, raised to the recommended minimum.
    cfg.commit_log_count = match r
        .prop("zookeeper.commitLogCount")
        .map(|p| parse_int(&p.value))
    {
        None => DEFAULT_COMMIT_LOG_COUNT,
        Some(Some(n)) if n >= DEFAULT_COMMIT_LOG_COUNT => n,
        Some(_) => {
            r.warn_default(
                "zookeeper.commitLogCount",
                "an integer of at least 500",
                &DEFAULT_COMMIT_LOG_COUNT,
            );
            DEFAULT_COMMIT_LOG_COUNT
        }
    };
    // ZKDatabase: Double.parseDouble; above 1 (or unparseable) the default. A
    // negative factor (or NaN) is kept: it turns syncing from the log off.
    cfg.snapshot_size_factor = match r
        .prop("zookeeper.snapshotSizeFactor")
        .map(|p| parse_double(&p.value))
    {
        None => DEFAULT_SNAPSHOT_SIZE_FACTOR,
        Some(Some(f)) if f <= 1.0 || f.is_nan() => f,
        Some(_) => {
            r.warn_default(
                "zookeeper.snapshotSizeFactor",
                "a number of at most 1",
                &DEFAULT_SNAPSHOT_SIZE_FACTOR,
            );
            DEFAULT_SNAPSHOT_SIZE_FACTOR
        }
    };
    cfg.digest_enabled = r
        .props
        .get("zookeeper.digest.enabled")
        .is_none_or(java_bool);
    cfg.data_dir_autocreate = r
        .props
        .get("zookeeper.datadir.autocreate")
        .is_none_or(java_bool);
    cfg.snapshot_trust_empty = r.flag("zookeeper.snapshot.trust.empty");

    // Connections and requests.
    cfg.global_outstanding_limit = r.integer(
        "zookeeper.globalOutstandingLimit",
        DEFAULT_GLOBAL_OUTSTANDING_LIMIT,
        "an integer number of requests",
    );
    let max_cnxns = r.integer("zookeeper.maxCnxns", 0, "an integer number of connections");
    cfg.max_cnxns = if max_cnxns < 0 {
        r.warn_default("zookeeper.maxCnxns", "0 (unlimited) or more", &0);
        0
    } else {
        max_cnxns
    };
    let jute = r.integer(
        "jute.maxbuffer",
        i32::try_from(DEFAULT_JUTE_MAX_BUFFER).unwrap_or(i32::MAX),
        "an integer number of bytes",
    );
    cfg.jute_max_buffer = u32::try_from(jute).ok().filter(|v| *v > 0).ok_or_else(|| {
        r.error(
            "jute.maxbuffer",
            format!("expected a positive number of bytes, got {jute}"),
        )
    })?;
    let extra = r.integer(
        "zookeeper.jute.maxbuffer.extrasize",
        jute,
        "an integer number of bytes",
    );
    cfg.jute_max_buffer_extra_size = u32::try_from(extra.max(1024)).unwrap_or(1024);
    cfg.extended_types_enabled = r.flag("zookeeper.extendedTypesEnabled");
    cfg.emulate_353_ttl_nodes = r.flag("zookeeper.emulate353TTLNodes");
    cfg.enforce_quota = r.flag("zookeeper.enforceQuota");
    cfg.read_only_mode_enabled = r.flag("readonlymode.enabled");
    cfg.leader_serves = r.unless_exactly("zookeeper.leaderServes", "no");
    if r.prop("zookeeper.observer.syncEnabled").is_some() {
        // QuorumPeer.getSyncEnabled: the property overrides zoo.cfg's syncEnabled.
        cfg.sync_enabled = r.flag("zookeeper.observer.syncEnabled");
    }

    // Authentication and ACLs.
    cfg.super_digest = r.string("zookeeper.DigestAuthenticationProvider.superDigest");
    cfg.digest_auth_enabled = r
        .props
        .get("zookeeper.DigestAuthenticationProvider.enabled")
        .is_none_or(java_bool);
    cfg.skip_acl = r.props.get("zookeeper.skipACL") == Some("yes");
    cfg.enforce_auth_schemes = enforce_auth_schemes(&r, cfg.digest_auth_enabled)?;
    cfg.ssl = r
        .props
        .with_prefix("zookeeper.ssl.")
        .map(|(k, p)| (k.to_owned(), p.value.clone()))
        .collect();

    // Four-letter words and the AdminServer.
    cfg.four_letter_words = FourLetterWordWhitelist::from_property(
        r.props.get("zookeeper.4lw.commands.whitelist"),
        r.props.get("readonlymode.enabled") == Some("true"),
    );
    cfg.admin.enabled = r.unless_exactly("zookeeper.admin.enableServer", "false");
    if let Some(address) = r.string("zookeeper.admin.serverAddress") {
        cfg.admin.address = address;
    }
    let admin_port = r.integer(
        "zookeeper.admin.serverPort",
        i32::from(cfg.admin.port),
        "a port number",
    );
    cfg.admin.port = u16::try_from(admin_port).map_err(|_| {
        r.error(
            "zookeeper.admin.serverPort",
            format!("expected a port number (0-65535), got {admin_port}"),
        )
    })?;
    cfg.admin.idle_timeout_ms = r.integer(
        "zookeeper.admin.idleTimeout",
        cfg.admin.idle_timeout_ms,
        "an integer number of milliseconds",
    );
    if let Some(url) = r.string("zookeeper.admin.commandURL") {
        cfg.admin.command_url = url;
    }
    cfg.admin.port_unification = r.flag("zookeeper.admin.portUnification");
    cfg.admin.force_https = r.flag("zookeeper.admin.forceHttps");

    // Multi-address reachability defaults come from properties unless zoo.cfg set them.
    if !cfg
        .entries
        .iter()
        .any(|e| e.key == "multiAddress.reachabilityCheckEnabled")
    {
        if let Some(v) = r
            .props
            .get("zookeeper.multiAddress.reachabilityCheckEnabled")
        {
            cfg.multi_address.reachability_check_enabled = java_bool(v);
        }
    }
    if !cfg
        .entries
        .iter()
        .any(|e| e.key == "multiAddress.reachabilityCheckTimeoutMs")
    {
        let ms = r
            .prop("zookeeper.multiAddress.reachabilityCheckTimeoutMs")
            .map(|p| parse_int(&p.value));
        match ms {
            None => {}
            Some(Some(ms)) => cfg.multi_address.reachability_check_timeout_ms = ms,
            Some(None) => r.warn_default(
                "zookeeper.multiAddress.reachabilityCheckTimeoutMs",
                "an integer number of milliseconds",
                &cfg.multi_address.reachability_check_timeout_ms,
            ),
        }
    }

    check_extended_types_server_id(cfg)
}

/// `AuthenticationHelper`: the schemes a session must have authenticated
/// with, when enforcement is on. `sessionRequireClientSASLAuth=true` wins and
/// means `sasl`; else `enforce.auth.enabled` (Boolean.parseBoolean) with
/// `enforce.auth.schemes` split on `,` and trimmed. ZooKeeper refuses to
/// start (exit 2) when enforcement is on with no scheme, or with a scheme it
/// has no provider for. FerroKeeper has `ip` and `digest` (unless digest is
/// disabled); any other scheme is refused the same way, even one Java could
/// check with a plugged-in provider (sasl, x509): a server told to require
/// authentication must never serve unauthenticated requests.
fn enforce_auth_schemes(r: &Reader<'_>, digest_enabled: bool) -> Result<Vec<String>, ConfigError> {
    const LEGACY: &str = "zookeeper.sessionRequireClientSASLAuth";
    const ENABLED: &str = "zookeeper.enforce.auth.enabled";
    const SCHEMES: &str = "zookeeper.enforce.auth.schemes";
    let (schemes, key) = if r.flag(LEGACY) {
        (vec!["sasl".to_owned()], LEGACY)
    } else if r.flag(ENABLED) {
        let schemes: Vec<String> = match r.props.get(SCHEMES) {
            Some(v) => super::address::java_split(v, ',')
                .into_iter()
                .map(|s| s.trim().to_owned())
                .collect(),
            None => Vec::new(),
        };
        if schemes.is_empty() {
            return Err(r.error(
                ENABLED,
                format!("is true but {SCHEMES} is not configured (ZooKeeper refuses to start too)"),
            ));
        }
        (schemes, SCHEMES)
    } else {
        return Ok(Vec::new());
    };
    let checkable = |s: &str| s == "ip" || (s == "digest" && digest_enabled);
    if let Some(bad) = schemes.iter().find(|s| !checkable(s)) {
        let available = if digest_enabled {
            "ip and digest"
        } else {
            "ip"
        };
        return Err(r.error(
            key,
            format!(
                "requires clients to authenticate with scheme {bad:?}, which FerroKeeper cannot \
                 check (it has {available}); refusing to start rather than serve \
                 unauthenticated clients"
            ),
        ));
    }
    Ok(schemes)
}

/// `EphemeralType.validateServerId`: TTL/container ephemeral owners encode
/// the server id in one byte, so ids above 254 cannot be used with them.
fn check_extended_types_server_id(cfg: &ServerConfig) -> Result<(), ConfigError> {
    match cfg.server_id {
        Some(id) if cfg.extended_types_enabled && id > MAX_EXTENDED_SERVER_ID => {
            let p = cfg
                .system_properties
                .property("zookeeper.extendedTypesEnabled");
            let (location, key) = match p {
                Some(p) => (
                    p.origin.location(),
                    p.spelled("zookeeper.extendedTypesEnabled"),
                ),
                None => (
                    super::error::Location::Builtin,
                    "extendedTypesEnabled".to_owned(),
                ),
            };
            Err(ConfigError::new(
                location,
                Some(&key),
                format!("is true but this server's id is {id}; it cannot be larger than {MAX_EXTENDED_SERVER_ID}"),
            ))
        }
        _ => Ok(()),
    }
}

fn warn_ineffective_keys(cfg: &mut ServerConfig) {
    for (key, real) in INEFFECTIVE_ZOO_CFG_KEYS {
        let name = format!("zookeeper.{key}");
        let Some(p) = cfg.system_properties.property(&name) else {
            continue;
        };
        if !matches!(p.origin, PropertyOrigin::ConfigFile { .. }) {
            continue;
        }
        let hint = if real.starts_with("-D") {
            format!("it can only be set as a JVM flag: {real}=... in SERVER_JVMFLAGS")
        } else {
            format!("ZooKeeper reads {real} instead (zoo.cfg key {real}, or -Dzookeeper.{real})")
        };
        cfg.warnings.push(ConfigWarning::new(
            p.origin.location(),
            Some(key),
            format!("has no effect in zoo.cfg (ZooKeeper ignores it too); {hint}"),
        ));
    }
}
