//! The HTTP AdminServer and Prometheus `/metrics` in process, on port 0:
//! routing and status codes as Jetty answers them, every command's reply
//! shape, and the one-source-of-truth property — `mntr`, `/commands/monitor`
//! and `/metrics` taken at a quiet moment report the same numbers.
//! compat-tests/admin/ compares the replies with Java 3.8.0's.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use common::{bounded, four_letter, TestServer};
use ferrokeeper::admin::prometheus::MetricsSettings;
use ferrokeeper::admin::server::{AdminServerSettings, AdminStartError};
use ferrokeeper::server::Settings;
use jute::consts::CreateMode;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn admin_settings(port: u16) -> AdminServerSettings {
    AdminServerSettings {
        address: "127.0.0.1".into(),
        port,
        command_url: "/commands".into(),
        idle_timeout: Duration::from_secs(30),
        initial_config: Some("tickTime=2000\n".into()),
        system_properties: vec![("zookeeper.admin.serverPort".into(), "0".into())],
    }
}

/// The AdminServer and Prometheus `/metrics` (so `mntr` lists the
/// provider's samples, as ZooKeeper's does with that provider).
async fn start() -> TestServer {
    TestServer::start_with(|s: &mut Settings| {
        s.admin = Some(admin_settings(0));
        s.metrics = Some(MetricsSettings {
            host: "127.0.0.1".into(),
            port: 0,
            export_process_info: true,
        });
        s.info.prometheus = Some(true);
    })
    .await
}

/// The AdminServer with ZooKeeper's default metrics provider.
async fn start_admin_only() -> TestServer {
    TestServer::start_with(|s: &mut Settings| s.admin = Some(admin_settings(0))).await
}

struct Reply {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
}

/// One HTTP/1.1 request with `Connection: close`; the whole response.
async fn http(addr: SocketAddr, method: &str, path: &str) -> Reply {
    bounded("http request", async {
        let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let req = format!("{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.expect("write");
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).await.expect("read");
        let text = String::from_utf8(raw).expect("utf-8 response");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .expect("status line");
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_string(),
        }
    })
    .await
}

async fn command(server: &TestServer, name: &str) -> Value {
    let admin = server.admin_addr.expect("admin server enabled");
    let r = http(admin, "GET", &format!("/commands/{name}")).await;
    assert_eq!(r.status, 200, "{name}");
    assert_eq!(
        r.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{name}: {e}: {}", r.body))
}

fn mntr_map(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("zk_"))
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Prometheus samples: "name{labels}" → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_string(), v.parse::<f64>().unwrap_or(f64::NAN)))
        .collect()
}

fn types(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn mntr_monitor_and_metrics_agree() {
    let server = start().await;
    let mut c = server.client().await;
    c.create("/adm", b"hello", CreateMode::Persistent)
        .await
        .unwrap();
    c.create("/adm/e1", b"x", CreateMode::Ephemeral)
        .await
        .unwrap();
    c.create("/adm/e2", b"y", CreateMode::Ephemeral)
        .await
        .unwrap();
    c.get_data("/adm", true).await.unwrap();
    c.exists("/adm/none", true).await.unwrap_err();

    let mntr_text = four_letter(server.addr, "mntr").await;
    let mntr = mntr_map(&mntr_text);
    let monitor = command(&server, "monitor").await;
    let metrics = http(server.metrics_addr.unwrap(), "GET", "/metrics").await;
    assert_eq!(metrics.status, 200);
    assert_eq!(
        metrics.headers.get("content-type").map(String::as_str),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let prom = samples(&metrics.body);
    let kinds = types(&metrics.body);

    // With the Prometheus provider, mntr and monitor list version,
    // server_state, then every sample (labels without the trailing comma).
    let obj = monitor.as_object().unwrap();
    let json_keys: Vec<&String> = obj
        .keys()
        .filter(|k| *k != "command" && *k != "error")
        .collect();
    let text_keys: Vec<String> = mntr_text
        .lines()
        .filter_map(|l| l.strip_prefix("zk_"))
        .filter_map(|l| l.split_once('\t'))
        .map(|(k, _)| k.to_string())
        .collect();
    assert_eq!(json_keys, text_keys.iter().collect::<Vec<_>>());
    let prom_keys: Vec<String> = prom.keys().map(|k| k.replace(",}", "}")).collect();
    let mut mntr_keys: Vec<String> = text_keys[2..].to_vec();
    mntr_keys.sort();
    assert_eq!(mntr_keys, prom_keys);

    // 4 znodes of /zookeeper + /, and ours: /adm, /adm/e1, /adm/e2.
    for (key, want) in [
        ("znode_count", 8.0),
        ("ephemerals_count", 2.0),
        ("watch_count", 2.0),
        ("global_sessions", 1.0),
        // the session's creation and the three creates
        ("updatelatency_count", 4.0),
    ] {
        let from_mntr: f64 = mntr[key].parse().unwrap();
        let from_json = obj[key].as_f64().unwrap();
        assert_eq!(
            (from_mntr, from_json, prom[key]),
            (want, want, want),
            "{key}"
        );
    }
    assert_eq!(
        mntr["znode_count"], "8.0",
        "doubles, as the provider holds them"
    );
    assert_eq!(
        prom["approximate_data_size"],
        mntr["approximate_data_size"].parse::<f64>().unwrap()
    );
    for (name, kind) in [
        ("znode_count", "gauge"),
        ("watch_bytes", "counter"),
        ("fsynctime", "summary"),
        ("readlatency", "summary"),
        ("process_open_fds", "gauge"),
    ] {
        assert_eq!(kinds[name], kind, "{name}");
    }
    assert!(prom.contains_key("readlatency{quantile=\"0.99\",}"));
    assert!(prom.contains_key("fsynctime_count"));
    assert_eq!(obj["fsynctime{quantile=\"0.5\"}"], "NaN", "Jackson's NaN");
    assert_eq!(obj["server_state"], "standalone");

    // srst resets ServerStats (packets, latency) but not the provider's
    // counters and summaries: Prometheus' resetAllValues does nothing.
    command(&server, "stat_reset").await;
    let after = command(&server, "monitor").await;
    assert_eq!(after["packets_received"], 0.0);
    assert_eq!(after["updatelatency_count"], 4.0);
}

#[tokio::test]
async fn commands_answer_with_javas_shape() {
    let server = start_admin_only().await;
    let mut c = server.client().await;
    c.create("/w", b"", CreateMode::Persistent).await.unwrap();
    c.create("/w/e", b"", CreateMode::Ephemeral).await.unwrap();
    c.get_data("/w", true).await.unwrap();

    let cons = command(&server, "cons").await;
    assert_eq!(
        cons["command"], "connections",
        "aliases answer as the primary name"
    );
    let conn = &cons["connections"][0];
    assert!(conn["remote_socket_address"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert!(conn["session_id"].as_i64().unwrap() != 0);
    assert_eq!(cons["secure_connections"], serde_json::json!([]));
    let sid = conn["session_id"].as_i64().unwrap().to_string();

    let dump = command(&server, "dump").await;
    assert_eq!(
        dump["session_id_to_ephemeral_paths"][&sid],
        serde_json::json!(["/w/e"])
    );
    let wchc = command(&server, "watches").await;
    assert_eq!(
        wchc["session_id_to_watched_paths"][&sid],
        serde_json::json!(["/w"])
    );
    let wchs = command(&server, "wchs").await;
    assert_eq!(wchs["num_total_watches"], 1);
    let srvr = command(&server, "srvr").await;
    assert_eq!(srvr["node_count"], 7);
    assert_eq!(srvr["server_stats"]["num_alive_client_connections"], 1);
    assert!(srvr["server_stats"]["avg_latency"].is_f64());
    let stats = command(&server, "stats").await;
    assert!(stats["connections"][0].get("session_id").is_none(), "brief");

    let leader = command(&server, "leader").await;
    let keys: Vec<&String> = leader.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["error", "command"]);
    assert_eq!(leader["error"], "server is not initialized");

    let unknown = command(&server, "nosuch").await;
    assert_eq!(unknown["error"], "Unknown command: nosuch");
    assert_eq!(unknown["command"], "nosuch");

    let stmk = command(&server, "set_trace_mask?traceMask=255").await;
    assert_eq!(stmk["tracemask"], 255);
    assert_eq!(command(&server, "gtmk").await["tracemask"], 255);
    assert_eq!(
        four_letter(server.addr, "gtmk").await,
        "255",
        "one trace mask"
    );
    let bad = command(&server, "stmk?traceMask=x").await;
    assert_eq!(
        bad["error"],
        "setTraceMask requires long traceMask argument, got x"
    );

    let icfg = command(&server, "icfg").await;
    assert_eq!(icfg["initial_configuration"], "tickTime=2000\n");
    let sysp = command(&server, "sysp").await;
    assert_eq!(sysp["zookeeper.admin.serverPort"], "0");
    assert!(command(&server, "environment").await["zookeeper.version"].is_string());
    assert_eq!(command(&server, "lsnp").await["zxid"], "ffffffffffffffff");

    // Every 128th zxid's tree digest, fields in Java's order
    // (captured from Java 3.8.0: zxid, digest, digest_version).
    for i in 0..130 {
        c.create(&format!("/h{i}"), b"x", CreateMode::Persistent)
            .await
            .unwrap();
    }
    let hash = command(&server, "hash").await;
    let first = hash["digests"][0]
        .as_object()
        .expect("a digest at zxid 128");
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["zxid", "digest", "digest_version"]
    );
    assert_eq!(first["zxid"], 128);
    assert_eq!(first["digest_version"], 2);
    let text = four_letter(server.addr, "hash").await;
    assert!(
        text.starts_with(&format!("80: {}\n", first["digest"])),
        "{text}"
    );

    // srst over HTTP resets what srst over 4lw resets.
    assert!(
        command(&server, "mntr").await["packets_received"]
            .as_i64()
            .unwrap()
            > 0
    );
    command(&server, "stat_reset").await;
    let after = command(&server, "monitor").await;
    assert_eq!(after["packets_received"], 0);
    assert_eq!(after["cnt_updatelatency"], 0);
}

#[tokio::test]
async fn routes_and_status_codes_as_jetty() {
    let server = start().await;
    let admin = server.admin_addr.unwrap();
    for path in ["/commands", "/commands/"] {
        let r = http(admin, "GET", path).await;
        assert_eq!(r.status, 200);
        assert!(!r.headers.contains_key("content-type"), "Java sets none");
        assert!(r
            .body
            .starts_with("<a href=\"/commands/configuration\">configuration</a>\n<br/>\n"));
        assert_eq!(r.body.matches("<a href=").count(), 26);
    }
    let r = http(admin, "GET", "/elsewhere").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.headers["content-type"], "text/html;charset=iso-8859-1");
    assert_eq!(http(admin, "GET", "/commandsx").await.status, 404);
    assert_eq!(http(admin, "POST", "/commands/ruok").await.status, 405);
    assert_eq!(http(admin, "TRACE", "/commands/ruok").await.status, 403);
    let head = http(admin, "HEAD", "/commands/ruok").await;
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    let slash = command(&server, "/").await;
    assert_eq!(slash["error"], "Unknown command: /");

    let m = server.metrics_addr.unwrap();
    assert_eq!(http(m, "GET", "/").await.status, 404);
    let only = http(m, "GET", "/metrics?name[]=znode_count").await;
    assert_eq!(
        types(&only.body).keys().collect::<Vec<_>>(),
        ["znode_count"]
    );
}

#[tokio::test]
async fn a_taken_admin_port_stops_the_start_naming_the_key() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut s = Settings::standalone_default();
    s.client_addr = "127.0.0.1:0".parse().unwrap();
    s.persist = None;
    s.admin = Some(admin_settings(port));
    let err = match ferrokeeper::server::start(s).await {
        Ok(_) => panic!("started although the admin port is taken"),
        Err(e) => e,
    };
    assert!(err.get_ref().is_some_and(|i| i.is::<AdminStartError>()));
    let msg = err.to_string();
    assert!(msg.contains(&format!("port {port}")), "{msg}");
    assert!(msg.contains("admin.serverPort"), "{msg}");
}

/// With server.N entries ZooKeeper starts through QuorumPeer, which only
/// warns ("Problem starting AdminServer") and goes on serving; checked
/// against Java 3.8.0 in compat-tests/listeners.
#[tokio::test]
async fn quorum_configured_server_serves_without_admin_server() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut s = Settings::standalone_default();
    s.client_addr = "127.0.0.1:0".parse().unwrap();
    s.persist = None;
    s.admin = Some(admin_settings(port));
    s.quorum_configured = true;
    s.info.four_letter_words = vec!["*".into()];
    let server = ferrokeeper::server::start(s)
        .await
        .expect("a quorum-configured server starts without its AdminServer");
    assert!(server.admin_addr.is_none());
    assert_eq!(four_letter(server.local_addr, "ruok").await, "imok");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn command_url_is_configurable() {
    let server = TestServer::start_with(|s: &mut Settings| {
        s.admin = Some(AdminServerSettings {
            command_url: "/zk/cmd".into(),
            ..admin_settings(0)
        });
    })
    .await;
    let admin = server.admin_addr.unwrap();
    let links = http(admin, "GET", "/zk/cmd").await;
    assert!(links.body.contains("<a href=\"/zk/cmd/ruok\">ruok</a>"));
    assert_eq!(http(admin, "GET", "/commands/ruok").await.status, 404);
    let r = http(admin, "GET", "/zk/cmd/isro").await;
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        (v["command"].as_str(), v["read_only"].as_bool()),
        (Some("is_read_only"), Some(false))
    );
    assert!(
        server.metrics_addr.is_none(),
        "no /metrics unless Prometheus is configured"
    );
}

/// The binary exits as ZooKeeperServerMain does: 4 (ERROR_STARTING_ADMIN_SERVER)
/// when the AdminServer cannot bind, 1 when the Prometheus provider cannot.
#[test]
fn binary_exit_codes_on_bind_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let client = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let base = format!(
        "tickTime=2000\ndataDir={}\nclientPort={client}\nclientPortAddress=127.0.0.1\n",
        dir.path().display()
    );
    let cases = [
        (
            format!("{base}admin.serverAddress=127.0.0.1\nadmin.serverPort={busy}\n"),
            4,
            "admin.serverPort",
        ),
        (
            format!(
                "{base}admin.enableServer=false\nmetricsProvider.className=\
                 org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n\
                 metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort={busy}\n"
            ),
            1,
            "metricsProvider.httpPort",
        ),
    ];
    for (cfg, code, key) in cases {
        let path = dir.path().join("zoo.cfg");
        std::fs::write(&path, cfg).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ferrokeeper"))
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("the server kept running although port {busy} is taken");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(code), "{err}");
        assert!(
            err.contains(key) && err.contains(&busy.to_string()),
            "{err}"
        );
    }
}
