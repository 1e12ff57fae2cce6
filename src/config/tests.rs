//! End-to-end tests of configuration loading: text in, `ServerConfig` or
//! an error message out.

use std::fs;
use std::path::PathBuf;

use super::*;

/// A fresh directory for files a test needs (dataDir, myid, dynamic file).
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fk-config-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn parse(text: &str) -> ServerConfig {
    ServerConfig::from_str(text, "zoo.cfg").unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    match ServerConfig::from_str(text, "zoo.cfg") {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn flags(value: &str) -> SystemProperties {
    SystemProperties::from_vars([("SERVER_JVMFLAGS", value)])
}

fn has_warning(cfg: &ServerConfig, needle: &str) -> bool {
    cfg.warnings.iter().any(|w| w.to_string().contains(needle))
}

// ---------------------------------------------------------------- samples

#[test]
fn shipped_sample_parses() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/conf/zoo.cfg");
    let cfg = ServerConfig::from_file(path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.tick_time_ms, 2000);
    assert_eq!(cfg.init_limit, 10);
    assert_eq!(cfg.sync_limit, 5);
    assert_eq!(cfg.data_dir, PathBuf::from("/tmp/zookeeper"));
    assert_eq!(cfg.data_log_dir, PathBuf::from("/tmp/zookeeper"));
    assert_eq!(cfg.client_port_address, Some(ListenAddress::any(2181)));
    assert_eq!(cfg.min_session_timeout_ms, 4000);
    assert_eq!(cfg.max_session_timeout_ms, 40000);
    assert_eq!(cfg.mode, ServerMode::Standalone);
    assert!(cfg.four_letter_words.is_enabled("ruok"));
    assert!(cfg.four_letter_words.is_enabled("conf"));
    assert!(!cfg.four_letter_words.is_enabled("dump"));
    // The AdminServer lines are commented out (defaults).
    assert!(cfg.admin.enabled);
    assert_eq!(cfg.admin.address, "0.0.0.0");
    assert_eq!(cfg.admin.port, 8080);
    assert_eq!(cfg.config_file.as_deref(), Some(std::path::Path::new(path)));
    assert!(cfg.initial_config.contains("tickTime=2000"));
    assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
}

/// ZooKeeper 3.8's conf/zoo_sample.cfg, key for key (comments shortened).
const ZOOKEEPER_SAMPLE: &str = "\
# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial 
# synchronization phase can take
initLimit=10
# The number of ticks that can pass between 
# sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
#maxClientCnxns=60
#autopurge.snapRetainCount=3
#autopurge.purgeInterval=1
#metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
#metricsProvider.httpHost=0.0.0.0
#metricsProvider.httpPort=7000
#metricsProvider.exportJvmInfo=true
";

#[test]
fn zookeeper_sample_parses() {
    let cfg = parse(ZOOKEEPER_SAMPLE);
    assert_eq!(cfg.tick_time_ms, 2000);
    assert_eq!(cfg.client_port_address, Some(ListenAddress::any(2181)));
    assert_eq!(cfg.entries.len(), 5);
    assert_eq!(cfg.line_of("clientPort"), Some(12));
    // initLimit and syncLimit are acted on (the ensemble); nothing here is ignored.
    assert!(cfg.ignored_keys().is_empty(), "{:?}", cfg.ignored_keys());
}

// ---------------------------------------------------------------- defaults

#[test]
fn defaults_match_zookeeper() {
    let cfg = parse("dataDir=/var/lib/zk\n");
    assert_eq!(cfg.tick_time_ms, 3000);
    assert_eq!(cfg.data_log_dir, PathBuf::from("/var/lib/zk"));
    assert_eq!(cfg.client_port_address, None);
    assert_eq!(cfg.secure_client_port_address, None);
    assert_eq!(cfg.max_client_cnxns, 60);
    assert_eq!(cfg.min_session_timeout_ms, 6000);
    assert_eq!(cfg.max_session_timeout_ms, 60000);
    assert_eq!(cfg.client_port_listen_backlog, -1);
    assert_eq!(cfg.snap_count, 100_000);
    assert_eq!(cfg.snap_size_limit_kb, 4_194_304);
    assert_eq!(cfg.txn_log_size_limit_kb, -1);
    assert_eq!(cfg.pre_alloc_size_kb, 65_536);
    assert_eq!(cfg.global_outstanding_limit, 1000);
    assert!(cfg.force_sync);
    assert_eq!(cfg.fsync_warning_threshold_ms, 1000);
    assert_eq!(cfg.snapshot_compression, SnapshotCompression::None);
    assert_eq!(cfg.commit_log_count, 500);
    assert!(cfg.digest_enabled);
    assert_eq!(cfg.max_cnxns, 0);
    assert_eq!(cfg.jute_max_buffer, 0xfffff);
    assert_eq!(cfg.jute_max_buffer_extra_size, 0xfffff);
    assert!(!cfg.extended_types_enabled);
    assert!(!cfg.read_only_mode_enabled);
    assert_eq!(cfg.super_digest, None);
    assert!(cfg.digest_auth_enabled);
    assert!(!cfg.skip_acl);
    assert!(cfg.ssl.is_empty());
    assert_eq!(
        cfg.four_letter_words.enabled().collect::<Vec<_>>(),
        vec!["srvr"]
    );
    assert_eq!(cfg.admin, AdminServerConfig::default());
    assert!(cfg.admin.enabled);
    assert_eq!(cfg.admin.address, "0.0.0.0");
    assert_eq!(cfg.admin.port, 8080);
    assert_eq!(cfg.admin.command_url, "/commands");
    assert_eq!(cfg.admin.idle_timeout_ms, 30000);
    assert_eq!(cfg.metrics, MetricsProviderConfig::default());
    assert_eq!(cfg.metrics.http_port, 7000);
    assert_eq!(cfg.autopurge_snap_retain_count, 3);
    assert_eq!(cfg.autopurge_purge_interval_hours, 0);
    assert_eq!(cfg.election_alg, 3);
    assert!(cfg.standalone_enabled);
    assert!(!cfg.reconfig_enabled);
    assert!(cfg.sync_enabled);
    assert!(cfg.leader_serves);
    assert!(cfg.data_dir_autocreate);
    assert_eq!(cfg.peer_type, LearnerType::Participant);
    assert_eq!(cfg.mode, ServerMode::Standalone);
    assert!(!cfg.is_quorum());
    assert!(cfg.quorum.servers.is_empty());
    assert_eq!(cfg.server_id, None);
    assert!(has_warning(
        &cfg,
        "zoo.cfg: neither clientPort nor secureClientPort is set"
    ));
}

#[test]
fn default_standalone_is_the_embedded_config() {
    let d = ServerConfig::default_standalone();
    assert_eq!(
        d.client_port_address,
        Some(ListenAddress::new("127.0.0.1", 2181))
    );
    assert_eq!(d.data_dir, PathBuf::from("./data"));
    assert_eq!(d.data_log_dir, PathBuf::from("./data"));
    assert_eq!(d.tick_time_ms, 3000);
    assert_eq!(d.min_session_timeout_ms, 6000);
    assert_eq!(d.max_session_timeout_ms, 60000);
    assert_eq!(d.mode, ServerMode::Standalone);
    assert_eq!(d.admin.address, "127.0.0.1");
    assert!(d.warnings.is_empty());

    // Same settings as parsing the equivalent zoo.cfg (no myid under this dataDir).
    let dir = temp_dir("default-standalone");
    let text = format!(
        "tickTime=3000\ndataDir={}\nclientPort=2181\nclientPortAddress=127.0.0.1\nadmin.serverAddress=127.0.0.1\n",
        dir.display()
    );
    let mut parsed = parse(&text);
    parsed.source = d.source.clone();
    parsed.initial_config.clear();
    parsed.entries.clear();
    parsed.system_properties = SystemProperties::new();
    parsed.data_dir = d.data_dir.clone();
    parsed.data_log_dir = d.data_log_dir.clone();
    assert_eq!(parsed, d);
}

// ---------------------------------------------------------------- every key

#[test]
fn every_key_is_parsed() {
    let dir = temp_dir("every-key");
    let data = dir.join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("myid"), "2\n").unwrap();
    let text = format!(
        "\
tickTime=1000
dataDir={data}
dataLogDir={dir}/log
clientPort=2191
clientPortAddress=10.0.0.2
secureClientPort=2281
secureClientPortAddress=10.0.0.2
observerMasterPort=2999
maxClientCnxns=0
minSessionTimeout=1500
maxSessionTimeout=90000
initLimit=7
syncLimit=3
connectToLearnerMasterLimit=4
electionAlg=3
quorumListenOnAllIPs=true
peerType=participant
syncEnabled=false
autopurge.snapRetainCount=5
autopurge.purgeInterval=24
standaloneEnabled=true
reconfigEnabled=true
sslQuorum=true
portUnification=true
sslQuorumReloadCertFiles=true
server.1=zk1:2888:3888
server.2=zk2:2888:3888;10.0.0.2:2191
server.3=zk3:2888:3888
server.4=zk4:2888:3888:observer
localSessionsEnabled=true
localSessionsUpgradingEnabled=true
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpHost=127.0.0.1
metricsProvider.httpPort=7001
metricsProvider.exportJvmInfo=false
metricsProvider.numWorkerThreads=4
clientPortListenBacklog=128
snapCount=5000
snapSizeLimitInKb=1024
txnLogSizeLimitInKb=2048
preAllocSize=16384
globalOutstandingLimit=2000
forceSync=no
4lw.commands.whitelist=*
admin.enableServer=false
admin.serverAddress=127.0.0.1
admin.serverPort=9090
admin.commandURL=/cmds
admin.idleTimeout=5000
admin.portUnification=true
admin.forceHttps=true
extendedTypesEnabled=true
emulate353TTLNodes=true
enforceQuota=true
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
DigestAuthenticationProvider.enabled=false
skipACL=yes
snapshot.compression.method=snappy
digest.enabled=false
maxCnxns=500
commitLogCount=1000
fsync.warningthresholdms=250
leaderServes=no
jute.maxbuffer.extrasize=2048
ssl.keyStore.location=/etc/zk/keystore.jks
ssl.keyStore.password=secret
ssl.quorum.trustStore.type=PEM
quorum.auth.enableSasl=true
quorum.auth.learnerRequireSasl=true
quorum.auth.serverRequireSasl=true
quorum.auth.learner.saslLoginContext=L
quorum.auth.server.saslLoginContext=S
quorum.auth.kerberos.servicePrincipal=zk/_HOST
quorum.cnxn.threads.size=30
jvm.pause.monitor=true
jvm.pause.info-threshold.ms=100
jvm.pause.warn-threshold.ms=200
jvm.pause.sleep.time.ms=300
multiAddress.reachabilityCheckEnabled=false
multiAddress.reachabilityCheckTimeoutMs=500
oraclePath={dir}/oracle
someUnknown.key=value
",
        data = data.display(),
        dir = dir.display()
    );
    let cfg = parse(&text);

    assert_eq!(cfg.tick_time_ms, 1000);
    assert_eq!(cfg.data_dir, data);
    assert_eq!(cfg.data_log_dir, dir.join("log"));
    // This server (myid 2) takes its client address from server.2, which matches.
    assert_eq!(
        cfg.client_port_address,
        Some(ListenAddress::new("10.0.0.2", 2191))
    );
    assert_eq!(
        cfg.secure_client_port_address,
        Some(ListenAddress::new("10.0.0.2", 2281))
    );
    assert_eq!(cfg.observer_master_port, Some(2999));
    assert_eq!(cfg.max_client_cnxns, 0);
    assert_eq!(cfg.min_session_timeout_ms, 1500);
    assert_eq!(cfg.max_session_timeout_ms, 90000);
    assert_eq!(cfg.init_limit, 7);
    assert_eq!(cfg.sync_limit, 3);
    assert_eq!(cfg.connect_to_learner_master_limit, 4);
    assert_eq!(cfg.election_alg, 3);
    assert!(cfg.quorum_listen_on_all_ips);
    assert_eq!(cfg.peer_type, LearnerType::Participant);
    assert!(!cfg.sync_enabled);
    assert_eq!(cfg.autopurge_snap_retain_count, 5);
    assert_eq!(cfg.autopurge_purge_interval_hours, 24);
    assert!(cfg.standalone_enabled);
    assert!(cfg.reconfig_enabled);
    assert!(cfg.ssl_quorum);
    assert!(cfg.port_unification);
    assert!(cfg.ssl_quorum_reload_cert_files);
    assert_eq!(cfg.mode, ServerMode::Quorum);
    assert_eq!(cfg.server_id, Some(2));
    assert_eq!(cfg.quorum.participant_count(), 3);
    assert_eq!(cfg.quorum.observer_count(), 1);
    assert_eq!(cfg.quorum.oracle_path, Some(dir.join("oracle")));
    assert!(cfg.local_sessions_enabled);
    assert!(cfg.local_sessions_upgrading_enabled);
    assert!(cfg.metrics.is_prometheus());
    assert_eq!(cfg.metrics.http_host, "127.0.0.1");
    assert_eq!(cfg.metrics.http_port, 7001);
    assert!(!cfg.metrics.export_jvm_info);
    assert_eq!(cfg.metrics.properties["numWorkerThreads"], "4");
    assert!(!cfg.metrics.properties.contains_key("className"));
    assert_eq!(cfg.client_port_listen_backlog, 128);
    assert_eq!(cfg.snap_count, 5000);
    assert_eq!(cfg.snap_size_limit_kb, 1024);
    assert_eq!(cfg.txn_log_size_limit_kb, 2048);
    assert_eq!(cfg.pre_alloc_size_kb, 16384);
    assert_eq!(cfg.global_outstanding_limit, 2000);
    assert!(!cfg.force_sync);
    for c in KNOWN_FOUR_LETTER_WORDS {
        assert!(cfg.four_letter_words.is_enabled(c), "{c}");
    }
    assert!(!cfg.admin.enabled);
    assert_eq!(cfg.admin.address, "127.0.0.1");
    assert_eq!(cfg.admin.port, 9090);
    assert_eq!(cfg.admin.command_url, "/cmds");
    assert_eq!(cfg.admin.idle_timeout_ms, 5000);
    assert!(cfg.admin.port_unification);
    assert!(cfg.admin.force_https);
    assert!(cfg.extended_types_enabled);
    assert!(cfg.emulate_353_ttl_nodes);
    assert!(cfg.enforce_quota);
    assert_eq!(
        cfg.super_digest.as_deref(),
        Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
    );
    assert!(!cfg.digest_auth_enabled);
    assert!(cfg.skip_acl);
    assert_eq!(cfg.snapshot_compression, SnapshotCompression::Snappy);
    assert!(!cfg.digest_enabled);
    assert_eq!(cfg.max_cnxns, 500);
    assert_eq!(cfg.commit_log_count, 1000);
    assert_eq!(cfg.fsync_warning_threshold_ms, 250);
    assert!(!cfg.leader_serves);
    assert_eq!(cfg.jute_max_buffer_extra_size, 2048);
    assert_eq!(cfg.ssl["keyStore.location"], "/etc/zk/keystore.jks");
    assert_eq!(cfg.ssl["keyStore.password"], "secret");
    assert_eq!(cfg.ssl["quorum.trustStore.type"], "PEM");
    assert_eq!(
        cfg.quorum_sasl,
        QuorumSaslConfig {
            enabled: true,
            server_required: true,
            learner_required: true,
            learner_login_context: "L".into(),
            server_login_context: "S".into(),
            kerberos_service_principal: "zk/_HOST".into(),
        }
    );
    assert_eq!(cfg.quorum_cnxn_threads_size, Some(30));
    assert_eq!(
        cfg.jvm_pause_monitor,
        JvmPauseMonitorConfig {
            enabled: true,
            info_threshold_ms: 100,
            warn_threshold_ms: 200,
            sleep_time_ms: 300,
        }
    );
    assert!(!cfg.multi_address.reachability_check_enabled);
    assert_eq!(cfg.multi_address.reachability_check_timeout_ms, 500);
    // Unknown keys (and the static server.N lines) become zookeeper.<key>.
    assert_eq!(
        cfg.system_properties.get("zookeeper.someUnknown.key"),
        Some("value")
    );
    assert_eq!(
        cfg.system_properties.get("zookeeper.server.4"),
        Some("zk4:2888:3888:observer")
    );
    assert_eq!(cfg.system_properties.get("zookeeper.tickTime"), None);
    // secureClientPort registers the x509 provider like configureSSLAuth.
    assert_eq!(
        cfg.system_properties.get("zookeeper.authProvider.x509"),
        Some("org.apache.zookeeper.server.auth.X509AuthenticationProvider")
    );
}

// ---------------------------------------------------------------- syntax

#[test]
fn java_properties_syntax_in_zoo_cfg() {
    let text = "\
! old-style comment
tickTime : 2500
dataDir   /var/lib/zk   
clientPort=\\
    2181
4lw.commands.whitelist=stat, \\
                       ruok
admin.commandURL=/c\\u006fmmands
";
    let cfg = parse(text);
    assert_eq!(cfg.tick_time_ms, 2500);
    assert_eq!(cfg.data_dir, PathBuf::from("/var/lib/zk"));
    assert_eq!(cfg.client_port_address, Some(ListenAddress::any(2181)));
    assert_eq!(cfg.line_of("clientPort"), Some(4));
    assert!(cfg.four_letter_words.is_enabled("ruok"));
    assert_eq!(cfg.admin.command_url, "/commands");
}

#[test]
fn repeated_key_last_wins() {
    let cfg = parse("dataDir=/a\ntickTime=1000\ntickTime=2000\n");
    assert_eq!(cfg.tick_time_ms, 2000);
    assert_eq!(cfg.line_of("tickTime"), Some(3));
}

#[test]
fn latin1_file_decoding_matches_java() {
    let dir = temp_dir("latin1");
    let path = dir.join("zoo.cfg");
    fs::write(&path, b"dataDir=/srv/d\xc3\xa9\n").unwrap();
    let cfg = ServerConfig::from_file(&path).unwrap();
    assert_eq!(cfg.data_dir, PathBuf::from("/srv/d\u{00C3}\u{00A9}"));
}

// ---------------------------------------------------------------- errors

#[test]
fn error_names_file_line_key_value_and_expectation() {
    let text = "# c\n\ndataDir=/d\n\n\n\ntickTime=abc\n";
    assert_eq!(
        parse_err(text),
        "zoo.cfg:7: tickTime: expected an integer number of milliseconds, got \"abc\""
    );
}

#[test]
fn typed_errors() {
    let cases = [
        ("dataDir=/d\nclientPort=70000\n", "zoo.cfg:2: clientPort: expected a port number (0-65535), got \"70000\""),
        ("dataDir=/d\nclientPort=21 81\n", "zoo.cfg:2: clientPort: expected a port number"),
        ("dataDir=/d\nsyncEnabled=yes\n", "zoo.cfg:2: syncEnabled: expected true or false, got \"yes\""),
        ("dataDir=/d\nelectionAlg=1\n", "zoo.cfg:2: electionAlg: expected 3"),
        ("dataDir=/d\npeerType=voter\n", "zoo.cfg:2: peerType: expected participant or observer"),
        ("dataDir=/d\ntickTime=0\n", "zoo.cfg:2: tickTime: expected a positive integer"),
        ("dataDir=/d\ntickTime=0x10\n", "zoo.cfg:2: tickTime: expected an integer"),
        ("dataDir=/d\nmaxClientCnxns=many\n", "zoo.cfg:2: maxClientCnxns: expected an integer"),
        ("dataDir=\n", "zoo.cfg:1: dataDir: expected a directory path"),
        ("tickTime=2000\n", "zoo.cfg: dataDir: is not set"),
        ("dataDir=/d\nclientPortAddress=127.0.0.1\n", "zoo.cfg:2: clientPortAddress: is set but clientPort is not"),
        ("dataDir=/d\nsecureClientPortAddress=::1\n", "zoo.cfg:2: secureClientPortAddress: is set but secureClientPort is not"),
        (
            "dataDir=/d\nminSessionTimeout=5000\nmaxSessionTimeout=4000\n",
            "zoo.cfg:2: minSessionTimeout: must not be larger than maxSessionTimeout, but 5000 > 4000",
        ),
        (
            "dataDir=/d\ntickTime=1000\nminSessionTimeout=30000\n",
            "zoo.cfg:3: minSessionTimeout: must not be larger than maxSessionTimeout, but 30000 > 20000",
        ),
        ("dataDir=/d\nquorum.auth.learnerRequireSasl=true\n", "zoo.cfg:2: quorum.auth.learnerRequireSasl: cannot be true"),
        (
            "dataDir=/d\nquorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n",
            "zoo.cfg:3: quorum.auth.serverRequireSasl: cannot be true while quorum.auth.learnerRequireSasl is false",
        ),
        ("dataDir=/d\nadmin.serverPort=99999\n", "zoo.cfg:2: admin.serverPort: expected a port number (0-65535), got 99999"),
        ("dataDir=/d\nfoo=\\uZZZZ\n", "zoo.cfg:2: malformed \\uxxxx escape"),
        ("dataDir=/d\nserver.1=zk1:2888\n", "zoo.cfg:2: server.1: expected host:quorumPort:electionPort"),
        ("dataDir=/d\nserver.1=zk1:2888:3888\nserver.2=zk2:2888:2888\n", "zoo.cfg:3: server.2: the quorum port and the election port must be different"),
        ("dataDir=/d\nserver.1=a:1:2|b:1:2\n", "zoo.cfg:2: server.1: several addresses separated by '|' need multiAddress.enabled=true"),
        (
            "dataDir=/d\ndynamicConfigFile=/x/zoo.cfg.dynamic\nserver.1=zk1:2888:3888\n",
            "zoo.cfg:3: server.1: must be in the separate dynamic config file",
        ),
        ("dataDir=/d\nserver.1=a:1:2:observer\n", "zoo.cfg: observers without participants"),
        ("dataDir=/d\nstandaloneEnabled=false\n", "zoo.cfg: standaloneEnabled: is false, so at least one participant"),
        ("dataDir=/d\nsecureClientPort=2281\nssl.authProvider=custom\n", "zoo.cfg:2: secureClientPort: no auth provider is configured"),
        ("dataDir=/d\nmetricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\nmetricsProvider.httpPort=x\n", "zoo.cfg:3: metricsProvider.httpPort: expected a port number"),
    ];
    for (text, expected) in cases {
        let got = parse_err(text);
        assert!(
            got.starts_with(expected),
            "for {text:?}\n got: {got}\nwant: {expected}"
        );
    }
}

#[test]
fn quorum_requires_limits_and_myid() {
    let dir = temp_dir("quorum-requirements");
    let servers = "server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n";
    let e = parse_err(&format!("dataDir={}\n{servers}", dir.display()));
    assert_eq!(
        e,
        "zoo.cfg: initLimit: is not set; a quorum needs it (a number of ticks)"
    );
    let e = parse_err(&format!(
        "dataDir={}\ninitLimit=5\n{servers}",
        dir.display()
    ));
    assert!(e.starts_with("zoo.cfg: syncLimit: is not set"), "{e}");
    let e = parse_err(&format!(
        "dataDir={}\ninitLimit=5\nsyncLimit=-2\n{servers}",
        dir.display()
    ));
    assert!(
        e.starts_with("zoo.cfg:3: syncLimit: expected a positive number of ticks"),
        "{e}"
    );
    let e = parse_err(&format!(
        "dataDir={}\ninitLimit=5\nsyncLimit=2\n{servers}",
        dir.display()
    ));
    assert!(e.contains("myid file is missing"), "{e}");
    assert!(
        e.starts_with(&dir.join("myid").display().to_string()),
        "{e}"
    );

    fs::write(dir.join("myid"), "x\n").unwrap();
    let e = parse_err(&format!(
        "dataDir={}\ninitLimit=5\nsyncLimit=2\n{servers}",
        dir.display()
    ));
    assert!(
        e.starts_with(&format!(
            "{}: expected this server's id",
            dir.join("myid").display()
        )),
        "{e}"
    );

    fs::write(dir.join("myid"), "3\n").unwrap();
    let cfg = parse(&format!(
        "dataDir={}\ninitLimit=5\nsyncLimit=2\n{servers}",
        dir.display()
    ));
    assert_eq!(cfg.server_id, Some(3));
    assert!(cfg.is_quorum());
}

// ---------------------------------------------------------------- quorum shapes

#[test]
fn standalone_vs_quorum() {
    let dir = temp_dir("modes");
    let base = format!("dataDir={}\ninitLimit=5\nsyncLimit=2\n", dir.display());

    // One server and standaloneEnabled (default): standalone, with a warning.
    let cfg = parse(&format!("{base}server.1=a:2888:3888\n"));
    assert_eq!(cfg.mode, ServerMode::Standalone);
    assert!(has_warning(&cfg, "only one server specified"));

    // One participant with standaloneEnabled=false: a quorum of one (needs myid).
    fs::write(dir.join("myid"), "1").unwrap();
    let cfg = parse(&format!(
        "{base}standaloneEnabled=false\nserver.1=a:2888:3888\n"
    ));
    assert_eq!(cfg.mode, ServerMode::Quorum);
    assert!(cfg
        .warnings
        .iter()
        .any(|w| w.message().contains("No server failure will be tolerated")));

    // Four participants: quorum with the even-size warning.
    let cfg = parse(&format!(
        "{base}server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nserver.4=d:1:2\n"
    ));
    assert!(has_warning(&cfg, "consider an odd number"));

    // One participant plus an observer while standalone is enabled: error.
    let e = parse_err(&format!("{base}server.1=a:1:2\nserver.2=b:1:2:observer\n"));
    assert!(e.contains("observers need a quorum"), "{e}");
}

#[test]
fn server_entries_client_sections_and_multi_address() {
    let dir = temp_dir("server-forms");
    fs::write(dir.join("myid"), "3\n").unwrap();
    let text = format!(
        "\
dataDir={}
initLimit=10
syncLimit=5
multiAddress.enabled=true
server.1=zk1-a:2888:3888|zk1-b:2889:3889
server.2=[fd00::2]:2888:3888:participant;2181
server.3=zk3:2888:3888:observer;192.168.1.3:2182
server.4=zk4:2888:3888
server.5=zk5:2888:3888
",
        dir.display()
    );
    let cfg = parse(&text);
    let q = &cfg.quorum;
    assert_eq!(q.servers.len(), 5);
    assert_eq!(q.servers[&1].addresses.len(), 2);
    assert_eq!(q.servers[&1].addresses[1].host, "zk1-b");
    assert_eq!(q.servers[&1].addresses[1].election_port, 3889);
    assert_eq!(q.servers[&2].addresses[0].host, "fd00::2");
    assert_eq!(
        q.servers[&2].client_address,
        Some(ListenAddress::new("0.0.0.0", 2181))
    );
    assert_eq!(q.servers[&3].learner_type, LearnerType::Observer);
    assert_eq!(q.servers[&3].line, 7);
    // This is server 3: an observer whose client address comes from its entry.
    assert_eq!(cfg.server_id, Some(3));
    assert_eq!(cfg.peer_type, LearnerType::Observer);
    assert!(has_warning(
        &cfg,
        "peerType: is participant but the server list says observer"
    ));
    assert_eq!(
        cfg.client_port_address,
        Some(ListenAddress::new("192.168.1.3", 2182))
    );
    assert_eq!(cfg.mode, ServerMode::Quorum);
    assert!(cfg.multi_address.enabled);
}

#[test]
fn own_entry_without_client_section_takes_static_client_port() {
    let dir = temp_dir("static-client");
    fs::write(dir.join("myid"), "1\n").unwrap();
    let text = format!(
        "dataDir={}\ninitLimit=1\nsyncLimit=1\nclientPort=2181\nserver.1=a:1:2\nserver.2=b:1:2;2182\nserver.3=c:1:2\n",
        dir.display()
    );
    let cfg = parse(&text);
    let me = &cfg.quorum.servers[&1];
    assert_eq!(me.client_address, Some(ListenAddress::any(2181)));
    assert!(me.client_address_from_static);
    assert_eq!(cfg.client_port_address, Some(ListenAddress::any(2181)));

    // A static clientPort that contradicts the server's own entry is an error.
    fs::write(dir.join("myid"), "2\n").unwrap();
    let e = parse_err(&text);
    assert!(
        e.starts_with("zoo.cfg:4: clientPort: the client address for this server (id 2)"),
        "{e}"
    );
}

#[test]
fn multi_address_from_jvm_flag() {
    let text = "dataDir=/d\nserver.1=a:1:2|b:1:2\n";
    let cfg = ServerConfig::from_str_with(
        text,
        "zoo.cfg",
        flags("-Dzookeeper.multiAddress.enabled=true"),
    )
    .unwrap();
    assert_eq!(cfg.quorum.servers[&1].addresses.len(), 2);
}

#[test]
fn hierarchical_groups() {
    let dir = temp_dir("groups");
    fs::write(dir.join("myid"), "1").unwrap();
    let text = format!(
        "dataDir={}\ninitLimit=1\nsyncLimit=1\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\ngroup.1=1:2\ngroup.2=3\nweight.3=0\n",
        dir.display()
    );
    let cfg = parse(&text);
    let h = cfg.quorum.hierarchy.as_ref().unwrap();
    assert_eq!(h.groups.len(), 2);
    assert_eq!(h.weights[&1], 1);
    assert_eq!(h.weights[&3], 0);
}

#[test]
fn dynamic_config_file() {
    let dir = temp_dir("dynamic");
    let data = dir.join("data");
    fs::create_dir_all(&data).unwrap();
    fs::write(data.join("myid"), "2\n").unwrap();
    let dynamic = dir.join("zoo.cfg.dynamic.100000000");
    fs::write(
        &dynamic,
        "server.1=a:2888:3888:participant;0.0.0.0:2181\n\
         server.2=b:2888:3888:participant;0.0.0.0:2182\n\
         server.3=c:2888:3888:participant;0.0.0.0:2183\n",
    )
    .unwrap();
    let zoo_cfg = dir.join("zoo.cfg");
    fs::write(
        &zoo_cfg,
        format!(
            "dataDir={}\ninitLimit=5\nsyncLimit=2\nreconfigEnabled=true\ndynamicConfigFile={}\n",
            data.display(),
            dynamic.display()
        ),
    )
    .unwrap();
    let cfg = ServerConfig::from_file(&zoo_cfg).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cfg.quorum.version, 0x1_0000_0000);
    assert_eq!(cfg.quorum.servers.len(), 3);
    assert_eq!(
        cfg.client_port_address,
        Some(ListenAddress::new("0.0.0.0", 2182))
    );
    assert!(cfg.is_quorum());
    assert_eq!(cfg.last_seen_quorum, None);

    // A pending reconfiguration next to zoo.cfg is picked up.
    fs::write(
        dir.join("zoo.cfg.dynamic.next"),
        "server.1=a:2888:3888;2181\nserver.2=b:2888:3888;2182\nversion=200000000\n",
    )
    .unwrap();
    let cfg = ServerConfig::from_file(&zoo_cfg).unwrap();
    let next = cfg.last_seen_quorum.unwrap();
    assert_eq!(next.servers.len(), 2);
    assert_eq!(next.version, 0x2_0000_0000);

    // Keys other than server/group/weight are rejected in the dynamic file.
    fs::write(&dynamic, "server.1=a:2888:3888\ntickTime=1\n").unwrap();
    let e = ServerConfig::from_file(&zoo_cfg).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!("{}:2: tickTime: not allowed", dynamic.display())),
        "{e}"
    );

    // So is version.
    fs::write(&dynamic, "server.1=a:2888:3888\nversion=1\n").unwrap();
    let e = ServerConfig::from_file(&zoo_cfg).unwrap_err().to_string();
    assert!(
        e.contains("version: must not be in the dynamic config file"),
        "{e}"
    );

    // A missing dynamic file is reported against the dynamicConfigFile line.
    fs::remove_file(&dynamic).unwrap();
    let e = ServerConfig::from_file(&zoo_cfg).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}:5: dynamicConfigFile: cannot read",
            zoo_cfg.display()
        )),
        "{e}"
    );
}

#[test]
fn extended_types_limit_server_ids() {
    let dir = temp_dir("ttl-ids");
    fs::write(dir.join("myid"), "300").unwrap();
    let e = parse_err(&format!(
        "dataDir={}\nextendedTypesEnabled=true\n",
        dir.display()
    ));
    assert!(
        e.starts_with("zoo.cfg:2: extendedTypesEnabled: is true but this server's id is 300"),
        "{e}"
    );
    fs::write(dir.join("myid"), "254").unwrap();
    assert!(
        parse(&format!(
            "dataDir={}\nextendedTypesEnabled=true\n",
            dir.display()
        ))
        .extended_types_enabled
    );
}

// ---------------------------------------------------------------- system properties

#[test]
fn jvm_flags_feed_typed_settings() {
    let props = SystemProperties::from_vars([
        (
            "SERVER_JVMFLAGS",
            "-Xmx2g -Dzookeeper.snapCount=0x100 -Djute.maxbuffer=4194304 \
             -Dzookeeper.4lw.commands.whitelist=ruok,stat -Dreadonlymode.enabled=true \
             -Dzookeeper.DigestAuthenticationProvider.superDigest=super:abc= \
             -Dzookeeper.extendedTypesEnabled=TRUE -Dzookeeper.admin.serverPort=9999",
        ),
        ("JVMFLAGS", "-Dzookeeper.admin.serverPort=9998"),
    ]);
    let cfg = ServerConfig::from_str_with("dataDir=/d\n", "zoo.cfg", props).unwrap();
    assert_eq!(cfg.snap_count, 256, "Integer.getInteger decodes hex");
    assert_eq!(cfg.jute_max_buffer, 4_194_304);
    assert_eq!(cfg.jute_max_buffer_extra_size, 4_194_304);
    assert!(cfg.four_letter_words.is_enabled("ruok"));
    assert!(cfg.four_letter_words.is_enabled("isro"));
    assert!(cfg.read_only_mode_enabled);
    assert_eq!(cfg.super_digest.as_deref(), Some("super:abc="));
    assert!(cfg.extended_types_enabled);
    assert_eq!(cfg.admin.port, 9998, "JVMFLAGS comes after SERVER_JVMFLAGS");
}

#[test]
fn zoo_cfg_overrides_jvm_flags() {
    let props = flags("-Dzookeeper.snapCount=1000 -Dzookeeper.skipACL=yes");
    let cfg =
        ServerConfig::from_str_with("dataDir=/d\nsnapCount=2000\n", "zoo.cfg", props).unwrap();
    assert_eq!(cfg.snap_count, 2000);
    assert!(cfg.skip_acl);
    let origin = &cfg
        .system_properties
        .property("zookeeper.snapCount")
        .unwrap()
        .origin;
    assert!(
        matches!(origin, PropertyOrigin::ConfigFile { line: 2, .. }),
        "{origin:?}"
    );
}

#[test]
fn properties_read_without_prefix_ignore_zoo_cfg() {
    let cfg = parse(
        "dataDir=/d\njute.maxbuffer=4194304\nreadonlymode.enabled=true\nsuperDigest=super:x\n",
    );
    assert_eq!(cfg.jute_max_buffer, 0xfffff);
    assert!(!cfg.read_only_mode_enabled);
    assert_eq!(cfg.super_digest, None);
    assert!(has_warning(
        &cfg,
        "zoo.cfg:2: jute.maxbuffer: has no effect in zoo.cfg"
    ));
    assert!(has_warning(
        &cfg,
        "zoo.cfg:3: readonlymode.enabled: has no effect"
    ));
    assert!(has_warning(&cfg, "zoo.cfg:4: superDigest: has no effect"));
    assert_eq!(
        cfg.system_properties.get("zookeeper.jute.maxbuffer"),
        Some("4194304")
    );
}

#[test]
fn java_string_comparisons() {
    // skipACL needs exactly "yes"; forceSync is off only for exactly "no";
    // admin.enableServer is off only for exactly "false".
    let cfg = parse("dataDir=/d\nskipACL=YES\nforceSync=No\nadmin.enableServer=FALSE\n");
    assert!(!cfg.skip_acl);
    assert!(cfg.force_sync);
    assert!(cfg.admin.enabled);
    // digest.enabled uses Boolean.parseBoolean: "yes" is false.
    let cfg = parse("dataDir=/d\ndigest.enabled=yes\n");
    assert!(!cfg.digest_enabled);
}

#[test]
fn silent_java_fallbacks_become_warnings() {
    let props = flags("-Dzookeeper.globalOutstandingLimit=lots");
    let cfg = ServerConfig::from_str_with(
        "dataDir=/d\nsnapCount=abc\npreAllocSize=0x10\ncommitLogCount=10\nmaxCnxns=-5\nsnapshot.compression.method=zstd\n",
        "zoo.cfg",
        props,
    )
    .unwrap();
    assert_eq!(cfg.snap_count, 100_000);
    assert_eq!(
        cfg.pre_alloc_size_kb, 65_536,
        "FilePadding uses Long.parseLong, no hex"
    );
    assert_eq!(cfg.commit_log_count, 500);
    assert_eq!(cfg.max_cnxns, 0);
    assert_eq!(cfg.snapshot_compression, SnapshotCompression::None);
    assert_eq!(cfg.global_outstanding_limit, 1000);
    assert!(has_warning(
        &cfg,
        "zoo.cfg:2: snapCount: expected an integer number of transactions, got \"abc\""
    ));
    assert!(has_warning(&cfg, "zoo.cfg:3: preAllocSize:"));
    assert!(has_warning(&cfg, "zoo.cfg:4: commitLogCount:"));
    assert!(has_warning(&cfg, "zoo.cfg:5: maxCnxns:"));
    assert!(has_warning(&cfg, "zoo.cfg:6: snapshot.compression.method:"));
    assert!(has_warning(
        &cfg,
        "SERVER_JVMFLAGS: -Dzookeeper.globalOutstandingLimit: expected an integer"
    ));

    let cfg = parse("dataDir=/d\nsnapCount=1\n");
    assert_eq!(cfg.snap_count, 2);
}

#[test]
fn fsync_threshold_old_and_new_names() {
    let cfg =
        ServerConfig::from_str_with("dataDir=/d\n", "z", flags("-Dfsync.warningthresholdms=50"))
            .unwrap();
    assert_eq!(cfg.fsync_warning_threshold_ms, 50);
    let cfg = ServerConfig::from_str_with(
        "dataDir=/d\nfsync.warningthresholdms=70\n",
        "z",
        flags("-Dfsync.warningthresholdms=50"),
    )
    .unwrap();
    assert_eq!(cfg.fsync_warning_threshold_ms, 70);
}

#[test]
fn sync_enabled_property_overrides_zoo_cfg() {
    let cfg = ServerConfig::from_str_with(
        "dataDir=/d\nsyncEnabled=true\n",
        "z",
        flags("-Dzookeeper.observer.syncEnabled=false"),
    )
    .unwrap();
    assert!(!cfg.sync_enabled);
}

#[test]
fn datadir_autocreate_from_zkserver_env() {
    let props = SystemProperties::from_vars([("ZOO_DATADIR_AUTOCREATE_DISABLE", "1")]);
    let cfg = ServerConfig::from_str_with("dataDir=/d\n", "z", props).unwrap();
    assert!(!cfg.data_dir_autocreate);
}

#[test]
fn jvm_flag_warnings_reach_the_config() {
    let cfg = ServerConfig::from_str_with("dataDir=/d\n", "z", flags("-Da='x")).unwrap();
    assert!(has_warning(
        &cfg,
        "SERVER_JVMFLAGS: unterminated single quote"
    ));
}

#[test]
fn jute_maxbuffer_must_be_positive() {
    let e = ServerConfig::from_str_with("dataDir=/d\n", "z", flags("-Djute.maxbuffer=0"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "SERVER_JVMFLAGS: -Djute.maxbuffer: expected a positive number of bytes, got 0"
    );
}

// ---------------------------------------------------------------- warnings & ignored keys

#[test]
fn tolerated_values_warn() {
    let cfg = parse("dataDir=data\nautopurge.snapRetainCount=1\nclientPort=2181\nclientPortAddress=\nmetricsProvider.className=com.example.Metrics\n");
    assert_eq!(cfg.autopurge_snap_retain_count, 3);
    assert!(has_warning(
        &cfg,
        "zoo.cfg:2: autopurge.snapRetainCount: 1 is below the minimum of 3; using 3"
    ));
    assert!(has_warning(
        &cfg,
        "zoo.cfg:1: dataDir: \"data\" is relative"
    ));
    assert_eq!(
        cfg.data_dir,
        PathBuf::from("data"),
        "relative paths stay relative to the working directory"
    );
    assert_eq!(
        cfg.client_port_address,
        Some(ListenAddress::new("127.0.0.1", 2181))
    );
    assert!(has_warning(
        &cfg,
        "zoo.cfg:4: clientPortAddress: empty address"
    ));
    assert_eq!(cfg.metrics.class_name, sections::DEFAULT_METRICS_PROVIDER);
    assert!(has_warning(&cfg, "zoo.cfg:5: metricsProvider.className:"));
    // "./" marks a relative path as intended.
    assert!(parse("dataDir=./data\nclientPort=2181\n")
        .warnings
        .is_empty());
}

#[test]
fn ignored_keys_in_file_order() {
    let cfg = parse(
        "tickTime=2000\nelectionAlg=3\ndataDir=/d\ninitLimit=5\nsnapCount=10\npeerType=participant\n",
    );
    assert_eq!(
        cfg.ignored_keys(),
        vec![("electionAlg".to_owned(), 2), ("peerType".to_owned(), 6)]
    );
}

#[test]
fn client_port_zero_listens_on_ephemeral_port() {
    let cfg = parse("dataDir=/d\nclientPort=0\nclientPortAddress=127.0.0.1\n");
    assert_eq!(
        cfg.client_port_address,
        Some(ListenAddress::new("127.0.0.1", 0))
    );
}

#[test]
fn missing_file_names_it() {
    let e = ServerConfig::from_file("/nonexistent/fk/zoo.cfg").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("/nonexistent/fk/zoo.cfg: cannot read the configuration file:"),
        "{e}"
    );
}

#[test]
fn snapshot_size_factor_is_read_as_zkdatabase_reads_it() {
    let with = |flag: &str| {
        ServerConfig::from_str_with("dataDir=/d\n", "zoo.cfg", flags(flag))
            .unwrap()
            .snapshot_size_factor
    };
    assert_eq!(with(""), 0.33);
    assert_eq!(with("-Dzookeeper.snapshotSizeFactor=0.5"), 0.5);
    assert_eq!(with("-Dzookeeper.snapshotSizeFactor=1"), 1.0);
    // Negative: kept, it turns syncing from the txn log off.
    assert_eq!(with("-Dzookeeper.snapshotSizeFactor=-1"), -1.0);
    // Above 1 or unparseable: the default, with a warning.
    assert_eq!(with("-Dzookeeper.snapshotSizeFactor=2"), 0.33);
    let cfg = ServerConfig::from_str_with(
        "dataDir=/d\nsnapshotSizeFactor=lots\n",
        "zoo.cfg",
        flags(""),
    )
    .unwrap();
    assert_eq!(cfg.snapshot_size_factor, 0.33);
    assert!(has_warning(&cfg, "zoo.cfg:2: snapshotSizeFactor:"));
}

/// `AuthenticationHelper`'s rules (checked against Java 3.8.0 in
/// compat-tests/security): the legacy flag means `sasl`; schemes are split on
/// `,` and trimmed; enforcement without a scheme, or with a scheme FerroKeeper
/// cannot check, fails the start with exit 2 naming the key.
#[test]
fn enforce_auth() {
    let ok = |text: &str, jvm: &str| {
        ServerConfig::from_str_with(text, "zoo.cfg", flags(jvm))
            .map(|c| c.enforce_auth_schemes)
            .map_err(|e| e.to_string())
    };
    assert_eq!(ok("dataDir=/d\n", ""), Ok(vec![]));
    assert_eq!(
        ok("dataDir=/d\nenforce.auth.schemes=digest\n", ""),
        Ok(vec![]),
        "schemes alone enforce nothing"
    );
    assert_eq!(
        ok(
            "dataDir=/d\nenforce.auth.enabled=TRUE\nenforce.auth.schemes= digest ,ip,\n",
            ""
        ),
        Ok(vec!["digest".to_string(), "ip".to_string()])
    );
    assert_eq!(
        ok(
            "dataDir=/d\n",
            "-Dzookeeper.enforce.auth.enabled=true -Dzookeeper.enforce.auth.schemes=digest"
        ),
        Ok(vec!["digest".to_string()])
    );
    let err = ok(
        "dataDir=/d\n",
        "-Dzookeeper.sessionRequireClientSASLAuth=true",
    )
    .unwrap_err();
    assert!(
        err.contains("-Dzookeeper.sessionRequireClientSASLAuth") && err.contains("\"sasl\""),
        "{err}"
    );
    // The legacy flag wins over enforce.auth.* (as in Java).
    let err = ok(
        "dataDir=/d\nenforce.auth.enabled=true\nenforce.auth.schemes=digest\n",
        "-Dzookeeper.sessionRequireClientSASLAuth=true",
    )
    .unwrap_err();
    assert!(err.contains("sessionRequireClientSASLAuth"), "{err}");
    let err = ok("dataDir=/d\nenforce.auth.enabled=true\n", "").unwrap_err();
    assert!(
        err.contains("zoo.cfg:2: enforce.auth.enabled") && err.contains("enforce.auth.schemes"),
        "{err}"
    );
    let err = ok(
        "dataDir=/d\nenforce.auth.enabled=true\nenforce.auth.schemes=digest,x509\n",
        "",
    )
    .unwrap_err();
    assert!(
        err.contains("zoo.cfg:3: enforce.auth.schemes") && err.contains("\"x509\""),
        "{err}"
    );
    let err = ok(
        "dataDir=/d\nenforce.auth.enabled=true\nenforce.auth.schemes=digest\n",
        "-Dzookeeper.DigestAuthenticationProvider.enabled=false",
    )
    .unwrap_err();
    assert!(err.contains("\"digest\""), "{err}");
}
