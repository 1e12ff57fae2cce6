//! [`ServerConfig`]: everything zoo.cfg, the dynamic config file, `myid` and
//! the `-D` flags say, typed, validated and defaulted like Apache ZooKeeper.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::acted_on::is_acted_on;
use super::address::ListenAddress;
use super::ensemble::setup_ensemble;
use super::error::{ConfigError, ConfigWarning, Location};
use super::four_letter_words::FourLetterWordWhitelist;
use super::properties::Properties;
use super::quorum::{LearnerType, QuorumConfig};
use super::sections::{
    AdminServerConfig, JvmPauseMonitorConfig, MetricsProviderConfig, MultiAddressConfig,
    QuorumSaslConfig, ServerMode, SnapshotCompression,
};
use super::sysprop_settings::{
    apply_system_properties, DEFAULT_COMMIT_LOG_COUNT, DEFAULT_FSYNC_WARNING_THRESHOLD_MS,
    DEFAULT_GLOBAL_OUTSTANDING_LIMIT, DEFAULT_JUTE_MAX_BUFFER, DEFAULT_PRE_ALLOC_SIZE_KB,
    DEFAULT_SNAPSHOT_SIZE_FACTOR, DEFAULT_SNAP_COUNT, DEFAULT_SNAP_SIZE_LIMIT_KB,
};
use super::system_props::SystemProperties;
use super::zoo_cfg::{apply_static_entries, trimmed_entries, ConfigEntry};

/// ZooKeeper's default tick (`ZooKeeperServer.DEFAULT_TICK_TIME`), in milliseconds.
pub const DEFAULT_TICK_TIME_MS: u32 = 3000;
/// ZooKeeper's default per-IP connection limit.
pub const DEFAULT_MAX_CLIENT_CNXNS: i32 = 60;

/// The server's configuration.
///
/// Fields hold resolved values: defaults applied, derived values computed
/// (session timeout bounds from `tickTime`, `dataLogDir` from `dataDir`,
/// this server's client address from its `server.N` entry). Relative paths
/// are kept relative, so they resolve against the working directory as
/// `java.io.File` does.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    // ----- provenance -----
    /// Name used in messages: the config path as given, or `from_str`'s source name.
    pub source: String,
    /// The static config file, when loaded from one (also locates `.dynamic.next`).
    pub config_file: Option<PathBuf>,
    /// The static file's full text, as served by the `icfg` admin command.
    pub initial_config: String,
    /// Effective zoo.cfg entries (trimmed; a repeated key keeps its last value).
    pub entries: Vec<ConfigEntry>,
    /// Everything worth logging once at startup; never fatal.
    pub warnings: Vec<ConfigWarning>,
    /// The Java system-property view: `-D` flags plus zoo.cfg's unrecognised
    /// keys as `zookeeper.<key>` (see `system_props`). What `sysp` shows.
    pub system_properties: SystemProperties,

    // ----- mode and identity -----
    /// Standalone or quorum, decided as ZooKeeper does.
    pub mode: ServerMode,
    /// Contents of `<dataDir>/myid`, read whenever the file exists.
    pub server_id: Option<u64>,

    // ----- storage -----
    /// `dataDir`: snapshots and `myid` (required; no default in zoo.cfg).
    pub data_dir: PathBuf,
    /// `dataLogDir`: transaction logs; defaults to `data_dir`.
    pub data_log_dir: PathBuf,
    /// `zookeeper.datadir.autocreate`; default true. zkServer.sh sets it to
    /// false when `ZOO_DATADIR_AUTOCREATE_DISABLE` is non-empty.
    pub data_dir_autocreate: bool,
    /// `zookeeper.snapshot.trust.empty`: start without snapshots; default false.
    pub snapshot_trust_empty: bool,
    /// `snapCount`: transactions between snapshots (randomised in
    /// [snapCount/2+1, snapCount]); default 100000, minimum 2.
    pub snap_count: i32,
    /// `snapSizeLimitInKb`: log bytes between snapshots, KiB; default 4194304 (4 GiB); ≤ 0 disables.
    pub snap_size_limit_kb: i64,
    /// `txnLogSizeLimitInKb`: roll the log at this size, KiB; default -1 (off).
    pub txn_log_size_limit_kb: i64,
    /// `preAllocSize`: transaction-log preallocation block, KiB; default 65536 (64 MiB).
    pub pre_alloc_size_kb: i64,
    /// `forceSync`: fsync the log before acknowledging; default true (only `no` disables).
    pub force_sync: bool,
    /// `fsync.warningthresholdms`: warn when an fsync takes longer, ms; default 1000.
    pub fsync_warning_threshold_ms: i64,
    /// `snapshot.compression.method`; default none.
    pub snapshot_compression: SnapshotCompression,
    /// `commitLogCount`: committed proposals kept in memory for DIFF sync; default 500 (also the minimum).
    pub commit_log_count: i32,
    /// `snapshotSizeFactor`: a leader syncs a learner from its txn log only while the log
    /// files to send are at most this times the newest snapshot's size; default 0.33, a
    /// negative value never syncs from the log, above 1 falls back to the default.
    pub snapshot_size_factor: f64,
    /// `digest.enabled`: maintain the data-tree digest; default true.
    pub digest_enabled: bool,
    /// `autopurge.snapRetainCount`: snapshots kept by auto-purge; default 3, minimum 3.
    pub autopurge_snap_retain_count: u32,
    /// `autopurge.purgeInterval`: hours between purges; default 0 (≤ 0 disables).
    pub autopurge_purge_interval_hours: i32,

    // ----- client connections -----
    /// `clientPort` (+ `clientPortAddress`), or this server's `server.N`
    /// client section. `None`: no plaintext listener.
    pub client_port_address: Option<ListenAddress>,
    /// `secureClientPort` (+ `secureClientPortAddress`). `None`: no TLS listener.
    pub secure_client_port_address: Option<ListenAddress>,
    /// `clientPortListenBacklog`; default -1 (OS default, 50 on Linux for Java).
    pub client_port_listen_backlog: i32,
    /// `maxClientCnxns`: concurrent connections per client IP; default 60; 0 (or less) = unlimited.
    pub max_client_cnxns: i32,
    /// `maxCnxns`: total connections per listener; default 0 = unlimited.
    pub max_cnxns: i32,
    /// `globalOutstandingLimit`: queued requests before throttling; default 1000.
    pub global_outstanding_limit: i32,
    /// `-Djute.maxbuffer`: largest packet/znode payload, bytes; default 0xfffff.
    /// System property only: the zoo.cfg key is ignored, as by ZooKeeper.
    pub jute_max_buffer: u32,
    /// `jute.maxbuffer.extrasize`: allowance for server-added txn data, bytes;
    /// default `jute_max_buffer`, minimum 1024.
    pub jute_max_buffer_extra_size: u32,
    /// `portUnification`: quorum ports accept TLS and plaintext; default false.
    pub port_unification: bool,

    // ----- time and sessions -----
    /// `tickTime`: the basic time unit, ms; default 3000.
    pub tick_time_ms: u32,
    /// `minSessionTimeout`, ms; default (or -1) 2 × tickTime.
    pub min_session_timeout_ms: i32,
    /// `maxSessionTimeout`, ms; default (or -1) 20 × tickTime.
    pub max_session_timeout_ms: i32,
    /// `localSessionsEnabled`; default false.
    pub local_sessions_enabled: bool,
    /// `localSessionsUpgradingEnabled`; default false.
    pub local_sessions_upgrading_enabled: bool,

    // ----- data model -----
    /// `extendedTypesEnabled`: TTL nodes; default false. Needs server ids ≤ 254.
    pub extended_types_enabled: bool,
    /// `emulate353TTLNodes`: 3.5.3's TTL encoding; default false.
    pub emulate_353_ttl_nodes: bool,
    /// `enforceQuota`: reject writes over hard quotas; default false.
    pub enforce_quota: bool,
    /// `-Dreadonlymode.enabled`: serve reads when partitioned; default false.
    /// System property only, like `jute.maxbuffer`.
    pub read_only_mode_enabled: bool,

    // ----- authentication and ACLs -----
    /// `DigestAuthenticationProvider.superDigest` (`super:<base64 sha1>`); default none.
    pub super_digest: Option<String>,
    /// `DigestAuthenticationProvider.enabled`; default true.
    pub digest_auth_enabled: bool,
    /// `skipACL`: skip every ACL check; default false (only `yes` enables).
    pub skip_acl: bool,
    /// `enforce.auth.enabled` + `enforce.auth.schemes` (or the legacy
    /// `sessionRequireClientSASLAuth`, which means `sasl`): a session must
    /// hold an id of one of these schemes before any request is served.
    /// Empty: not enforced. Only schemes FerroKeeper can check get here; any
    /// other fails the configuration.
    pub enforce_auth_schemes: Vec<String>,
    /// Every `ssl.*` property (`zookeeper.ssl.*`) with the `ssl.` prefix
    /// removed, e.g. `keyStore.location`, `quorum.trustStore.type`; raw strings.
    pub ssl: BTreeMap<String, String>,

    // ----- operations -----
    /// `4lw.commands.whitelist`; default only `srvr`.
    pub four_letter_words: FourLetterWordWhitelist,
    /// `admin.*`.
    pub admin: AdminServerConfig,
    /// `metricsProvider.*`.
    pub metrics: MetricsProviderConfig,
    /// `jvm.pause.*` (accepted, no effect).
    pub jvm_pause_monitor: JvmPauseMonitorConfig,

    // ----- quorum -----
    /// The ensemble (`server.N`, `group.N`, `weight.N`), from zoo.cfg or the dynamic file.
    pub quorum: QuorumConfig,
    /// `<config>.dynamic.next`: the ensemble of an unfinished reconfig, if present.
    pub last_seen_quorum: Option<QuorumConfig>,
    /// `dynamicConfigFile`: where `server.N` lines live (3.5+); relative to the working directory.
    pub dynamic_config_file: Option<PathBuf>,
    /// `initLimit`, ticks: time for followers to connect and sync; no default (required in a quorum).
    pub init_limit: i32,
    /// `syncLimit`, ticks: how far followers may lag; no default (required in a quorum).
    pub sync_limit: i32,
    /// `connectToLearnerMasterLimit`, ticks; default 0 = use `init_limit`.
    pub connect_to_learner_master_limit: i32,
    /// `electionAlg`; always 3 (other values are rejected).
    pub election_alg: i32,
    /// `quorumListenOnAllIPs`: bind quorum/election ports on all interfaces; default false.
    pub quorum_listen_on_all_ips: bool,
    /// `peerType`, corrected to what the server list says for this server's id.
    pub peer_type: LearnerType,
    /// `syncEnabled` (or `-Dzookeeper.observer.syncEnabled`): observers log to disk; default true.
    pub sync_enabled: bool,
    /// `observerMasterPort`: followers also serve observers here; default none.
    pub observer_master_port: Option<u16>,
    /// `standaloneEnabled`; default true.
    pub standalone_enabled: bool,
    /// `reconfigEnabled`: allow the reconfig operation; default false.
    pub reconfig_enabled: bool,
    /// `sslQuorum`: TLS between servers; default false.
    pub ssl_quorum: bool,
    /// `sslQuorumReloadCertFiles`; default false.
    pub ssl_quorum_reload_cert_files: bool,
    /// `quorum.auth.*`.
    pub quorum_sasl: QuorumSaslConfig,
    /// `quorum.cnxn.threads.size`; default none (ZooKeeper uses 20).
    pub quorum_cnxn_threads_size: Option<i32>,
    /// `multiAddress.*`.
    pub multi_address: MultiAddressConfig,
    /// `leaderServes`: the leader accepts clients; default true (only `no` disables).
    pub leader_serves: bool,
}

impl ServerConfig {
    /// Every field at ZooKeeper's default, with `data_dir` as given.
    fn base(source: &str, data_dir: PathBuf) -> Self {
        ServerConfig {
            source: source.to_owned(),
            config_file: None,
            initial_config: String::new(),
            entries: Vec::new(),
            warnings: Vec::new(),
            system_properties: SystemProperties::new(),
            mode: ServerMode::Standalone,
            server_id: None,
            data_log_dir: data_dir.clone(),
            data_dir,
            data_dir_autocreate: true,
            snapshot_trust_empty: false,
            snap_count: DEFAULT_SNAP_COUNT,
            snap_size_limit_kb: DEFAULT_SNAP_SIZE_LIMIT_KB,
            txn_log_size_limit_kb: -1,
            pre_alloc_size_kb: DEFAULT_PRE_ALLOC_SIZE_KB,
            force_sync: true,
            fsync_warning_threshold_ms: DEFAULT_FSYNC_WARNING_THRESHOLD_MS,
            snapshot_compression: SnapshotCompression::None,
            commit_log_count: DEFAULT_COMMIT_LOG_COUNT,
            snapshot_size_factor: DEFAULT_SNAPSHOT_SIZE_FACTOR,
            digest_enabled: true,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
            client_port_address: None,
            secure_client_port_address: None,
            client_port_listen_backlog: -1,
            max_client_cnxns: DEFAULT_MAX_CLIENT_CNXNS,
            max_cnxns: 0,
            global_outstanding_limit: DEFAULT_GLOBAL_OUTSTANDING_LIMIT,
            jute_max_buffer: DEFAULT_JUTE_MAX_BUFFER,
            jute_max_buffer_extra_size: DEFAULT_JUTE_MAX_BUFFER,
            port_unification: false,
            tick_time_ms: DEFAULT_TICK_TIME_MS,
            min_session_timeout_ms: 2 * DEFAULT_TICK_TIME_MS as i32,
            max_session_timeout_ms: 20 * DEFAULT_TICK_TIME_MS as i32,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            extended_types_enabled: false,
            emulate_353_ttl_nodes: false,
            enforce_quota: false,
            read_only_mode_enabled: false,
            super_digest: None,
            digest_auth_enabled: true,
            skip_acl: false,
            enforce_auth_schemes: Vec::new(),
            ssl: BTreeMap::new(),
            four_letter_words: FourLetterWordWhitelist::default(),
            admin: AdminServerConfig::default(),
            metrics: MetricsProviderConfig::default(),
            jvm_pause_monitor: JvmPauseMonitorConfig::default(),
            quorum: QuorumConfig::default(),
            last_seen_quorum: None,
            dynamic_config_file: None,
            init_limit: 0,
            sync_limit: 0,
            connect_to_learner_master_limit: 0,
            election_alg: 3,
            quorum_listen_on_all_ips: false,
            peer_type: LearnerType::Participant,
            sync_enabled: true,
            observer_master_port: None,
            standalone_enabled: true,
            reconfig_enabled: false,
            ssl_quorum: false,
            ssl_quorum_reload_cert_files: false,
            quorum_sasl: QuorumSaslConfig::default(),
            quorum_cnxn_threads_size: None,
            multi_address: MultiAddressConfig::default(),
            leader_serves: true,
        }
    }

    /// What `ferrokeeper` runs with when given no configuration: standalone,
    /// clients on 127.0.0.1:2181, data in `./data`, tickTime 3000, every other
    /// setting at ZooKeeper's default except that the AdminServer address is
    /// 127.0.0.1 (ZooKeeper's 0.0.0.0:8080 is not a safe default for a
    /// zero-configuration start; `server::Settings::standalone_default`
    /// goes further and starts none). Reads neither files nor the environment.
    pub fn default_standalone() -> Self {
        let mut cfg = Self::base("<built-in defaults>", PathBuf::from("./data"));
        cfg.client_port_address = Some(ListenAddress::new("127.0.0.1", 2181));
        cfg.admin.address = "127.0.0.1".to_owned();
        cfg
    }

    /// Loads a zoo.cfg file with no `-D` flags (see [`ServerConfig::from_file_with`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::from_file_with(path, SystemProperties::new())
    }

    /// Loads a zoo.cfg file, on top of `system_properties` (normally
    /// [`SystemProperties::from_env`]). The file is decoded as ISO-8859-1 like
    /// Java's `Properties.load(InputStream)`; `myid` and `dynamicConfigFile`
    /// are read from disk, relative paths against the working directory.
    pub fn from_file_with(
        path: impl AsRef<Path>,
        system_properties: SystemProperties,
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let bytes = fs::read(path).map_err(|e| {
            ConfigError::new(
                Location::File {
                    source: source.clone(),
                },
                None,
                format!("cannot read the configuration file: {e}"),
            )
        })?;
        let props = Properties::parse_latin1(&bytes).map_err(|e| syntax_error(&source, e))?;
        let initial_config: String = bytes.iter().map(|&b| char::from(b)).collect();
        Self::load(
            props,
            &source,
            Some(path.to_path_buf()),
            initial_config,
            system_properties,
        )
    }

    /// Parses zoo.cfg text with no `-D` flags; `source_name` is used in messages.
    /// `myid` and `dynamicConfigFile` are still read from disk.
    pub fn from_str(text: &str, source_name: &str) -> Result<Self, ConfigError> {
        Self::from_str_with(text, source_name, SystemProperties::new())
    }

    /// Parses zoo.cfg text on top of `system_properties`.
    pub fn from_str_with(
        text: &str,
        source_name: &str,
        system_properties: SystemProperties,
    ) -> Result<Self, ConfigError> {
        let props = Properties::parse(text).map_err(|e| syntax_error(source_name, e))?;
        Self::load(props, source_name, None, text.to_owned(), system_properties)
    }

    fn load(
        props: Properties,
        source: &str,
        config_file: Option<PathBuf>,
        initial_config: String,
        mut system_properties: SystemProperties,
    ) -> Result<Self, ConfigError> {
        let mut cfg = Self::base(source, PathBuf::new());
        cfg.config_file = config_file;
        cfg.initial_config = initial_config;
        cfg.warnings = system_properties.take_warnings();
        cfg.system_properties = system_properties;
        cfg.entries = trimmed_entries(&props);
        let entries = cfg.entries.clone();
        apply_static_entries(&mut cfg, &entries)?;
        setup_ensemble(&mut cfg, &entries)?;
        apply_system_properties(&mut cfg)?;
        Ok(cfg)
    }

    /// Whether this server runs as a member of a replicated ensemble.
    pub fn is_quorum(&self) -> bool {
        self.mode == ServerMode::Quorum
    }

    /// The zoo.cfg entry for `key`, if present.
    pub fn entry(&self, key: &str) -> Option<&ConfigEntry> {
        self.entries.iter().find(|e| e.key == key)
    }

    /// The zoo.cfg line of `key`, if present.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        self.entry(key).map(|e| e.line)
    }

    /// zoo.cfg keys FerroKeeper parsed but does not act on yet, with their
    /// lines, in file order, for the server to log once each. Driven by
    /// [`super::acted_on::ACTED_ON_KEYS`].
    pub fn ignored_keys(&self) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = self
            .entries
            .iter()
            .filter(|e| !is_acted_on(&e.key))
            .map(|e| (e.key.clone(), e.line))
            .collect();
        out.sort_by_key(|(_, line)| *line);
        out
    }
}

fn syntax_error(source: &str, e: super::properties::PropertiesError) -> ConfigError {
    ConfigError::new(
        Location::Line {
            source: source.to_owned(),
            line: e.line,
        },
        None,
        e.message,
    )
}
