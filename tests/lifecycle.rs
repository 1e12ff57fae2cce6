//! The built `ferrokeeper` binary as a service manager sees it: graceful
//! shutdown on SIGTERM/SIGINT (exit 0, nothing acknowledged lost, sessions
//! and their ephemerals there after the restart), ZooKeeper's exit codes for
//! a bad zoo.cfg (2), a port in use (1), an inaccessible dataDir (3),
//! `--check-config`, the log-level precedence, and the session log lines.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{bounded, free_port, header_only_frame, Client};
use jute::consts::{CreateMode, OpCode};
use jute::proto::{ConnectRequest, CreateRequest};

const BIN: &str = env!("CARGO_BIN_EXE_ferrokeeper");
/// Bound on a start or a shutdown of the debug binary.
const PROCESS_BOUND: Duration = Duration::from_secs(20);

fn write_cfg(dir: &Path, port: u16, extra: &str) -> PathBuf {
    let cfg = dir.join("zoo.cfg");
    let data = dir.join("data");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=100\nmaxSessionTimeout=60000\ndataDir={}\nclientPort={port}\n\
             clientPortAddress=127.0.0.1\nadmin.enableServer=false\n{extra}",
            data.display()
        ),
    )
    .expect("write zoo.cfg");
    cfg
}

/// A running binary whose stdout (the log) and stderr go to files.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
    err: PathBuf,
}

impl Server {
    fn spawn(cfg: &Path, port: u16, tag: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = cfg.parent().expect("cfg has a dir");
        let log = dir.join(format!("{tag}.log"));
        let err = dir.join(format!("{tag}.err"));
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .arg(cfg)
            .env_remove("FERROKEEPER_LOG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).expect("log file"))
            .stderr(std::fs::File::create(&err).expect("err file"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn ferrokeeper");
        Server {
            child,
            port,
            log,
            err,
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        ([127, 0, 0, 1], self.port).into()
    }

    /// Waits until the port accepts connections (bounded retries: the
    /// process gives no other sign that it is up).
    async fn wait_serving(&mut self) {
        let start = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(self.addr()).await.is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited before serving: {status}; {}", self.stderr());
            }
            assert!(start.elapsed() < PROCESS_BOUND, "server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -{sig} failed");
    }

    /// The exit status, failing the test past `bound`.
    fn wait_exit(&mut self, bound: Duration) -> ExitStatus {
        wait_child(&mut self.child, bound)
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// Waits (bounded) until the log holds a line containing `needle`.
    async fn wait_log(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            if let Some(line) = self.stdout().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(
                start.elapsed() < PROCESS_BOUND,
                "no log line with {needle:?} in:\n{}",
                self.stdout()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Waits for a child on a helper thread so the wait is an event, bounded.
fn wait_child(child: &mut Child, bound: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("try_wait") {
            Some(s) => return s,
            None if start.elapsed() > bound => {
                let _ = child.kill();
                panic!("process still running after {bound:?}");
            }
            None => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Runs the binary to completion with `args`; (status, stdout, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (ExitStatus, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("FERROKEEPER_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn ferrokeeper");
    let status = wait_child(&mut child, PROCESS_BOUND);
    let mut out = String::new();
    let mut err = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status, out, err)
}

fn create_req(path: &str, data: &[u8]) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: common::open_acl(),
        flags: CreateMode::Persistent.flag(),
    }
}

/// SIGTERM in the middle of a stream of writes: exit 0 within the bound;
/// every write the client saw acknowledged is there after a restart on the
/// same dataDir; the session reattaches with its id and password and keeps
/// its ephemeral node, as with ZooKeeper (which neither closes sessions nor
/// snapshots at shutdown).
/// Every session log line names its client as Java 3.8.0 does
/// (`InetSocketAddress.toString()` on JDK 17): `/127.0.0.1:PORT`, and for
/// IPv6 the full uncompressed address in brackets, `/[0:0:0:0:0:0:0:1]:PORT`.
/// Java 3.8.0, started with no clientPortAddress and a client over ::1, logs
/// `Established session 0x10001504c4e0003 with negotiated timeout 4000 for
/// client /[0:0:0:0:0:0:0:1]:54872` and `Closed socket connection for client
/// /[0:0:0:0:0:0:0:1]:54872 which had sessionid 0x10001504c4e0003` (and
/// `/127.0.0.1:40392` for an IPv4 client); `cons` uses the same form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_log_lines_name_ipv4_and_ipv6_clients_as_java_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    // No clientPortAddress: the dual-stack wildcard, as Java binds it.
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=100\nmaxSessionTimeout=60000\ndataDir={}\nclientPort={port}\n\
             admin.enableServer=false\n",
            dir.path().join("data").display()
        ),
    )
    .expect("write zoo.cfg");
    let mut server = Server::spawn(
        &cfg,
        port,
        "log",
        &["--log-level", "info,ferrokeeper=debug"],
        &[],
    );
    server.wait_serving().await;

    let mut targets: Vec<(std::net::SocketAddr, &str)> = vec![(server.addr(), "/127.0.0.1")];
    if std::net::TcpListener::bind("[::1]:0").is_ok() {
        targets.push((
            std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port)),
            "/[0:0:0:0:0:0:0:1]",
        ));
    } else {
        eprintln!("this host has no ::1: the IPv6 half of this test is skipped");
    }
    for (to, host) in targets {
        // A session closed by the client.
        let mut c = Client::connect(to, 30_000).await;
        let (id, client) = (c.session_id, format!("{host}:{}", c.local_addr().port()));
        let line = server
            .wait_log(&format!("Established session 0x{id:x}"))
            .await;
        assert!(
            line.contains(&format!(
                "with negotiated timeout 30000 for client {client} "
            )),
            "{client}: {line}"
        );
        let xid = c.take_xid();
        c.send_raw(&header_only_frame(xid, OpCode::CloseSession.code()))
            .await;
        assert_eq!(c.read_reply().await.header.err, 0);
        let line = server.wait_log(&format!("Closed session 0x{id:x}")).await;
        assert!(line.contains(&format!("client={client} ")), "{line}");
        let line = server
            .wait_log(&format!(
                "Closed socket connection for client {client} which had sessionid 0x{id:x}"
            ))
            .await;
        assert!(line.contains("DEBUG"), "{line}");

        // A session that expires while its connection is open.
        let short = Client::connect(to, 200).await;
        let (id, client) = (
            short.session_id,
            format!("{host}:{}", short.local_addr().port()),
        );
        let line = server
            .wait_log(&format!(
                "Expiring session 0x{id:x}, timeout of 200ms exceeded"
            ))
            .await;
        assert!(
            line.split(' ').any(|w| w == format!("client={client}")),
            "{line}"
        );
        drop(short);
    }
    server.signal("TERM");
    assert_eq!(server.wait_exit(PROCESS_BOUND).code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_exits_0_and_the_restart_keeps_data_and_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let cfg = write_cfg(dir.path(), port, "");
    let mut server = Server::spawn(&cfg, port, "run1", &[], &[]);
    server.wait_serving().await;

    let mut c = Client::connect(server.addr(), 30_000).await;
    let session = c.session_id;
    let passwd = c.passwd.clone();
    c.create("/keep", b"v1", CreateMode::Persistent)
        .await
        .expect("create /keep");
    c.create("/eph", b"mine", CreateMode::Ephemeral)
        .await
        .expect("create /eph");
    let line = server
        .wait_log(&format!("Established session 0x{session:x}"))
        .await;
    assert!(
        line.contains("with negotiated timeout 30000 for client /127.0.0.1:"),
        "{line}"
    );

    // 300 creates in flight, then SIGTERM: read replies until the server
    // closes the connection; the acknowledged ones must survive.
    const N: usize = 300;
    let mut xids = Vec::with_capacity(N);
    for i in 0..N {
        let xid = c
            .send(OpCode::Create.code(), &create_req(&format!("/w{i}"), b"x"))
            .await;
        xids.push((xid, i));
    }
    server.signal("TERM");
    let mut acked = Vec::new();
    while let Some(frame) = bounded("reply or close", c.read_frame()).await {
        let mut input = &frame[..];
        let h = <jute::proto::ReplyHeader as jute::Record>::deserialize(&mut input)
            .expect("reply header");
        if h.err == 0 {
            if let Some(&(_, i)) = xids.iter().find(|(x, _)| *x == h.xid) {
                acked.push(i);
            }
        }
    }
    let started = Instant::now();
    let status = server.wait_exit(PROCESS_BOUND);
    assert_eq!(
        status.code(),
        Some(0),
        "exit status; stderr: {}",
        server.stderr()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let out = server.stdout();
    assert!(out.contains("received SIGTERM: shutting down"), "{out}");
    assert!(out.contains("shutdown complete"), "{out}");
    assert!(
        out.contains("Exiting normally"),
        "the last line says it exited normally: {out}"
    );
    drop(server);

    // Restart on the same dataDir (and a new port).
    let port2 = free_port();
    let cfg = write_cfg(dir.path(), port2, "");
    let mut server = Server::spawn(&cfg, port2, "run2", &[], &[]);
    server.wait_serving().await;
    let mut c2 = Client::open(server.addr()).await;
    let hs = c2
        .handshake(
            &ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                time_out: 30_000,
                session_id: session,
                passwd: Some(passwd),
                read_only: false,
            },
            true,
        )
        .await
        .expect("the restarted server answers the reconnect");
    assert_eq!(
        hs.response.session_id, session,
        "session survived the restart"
    );
    assert_eq!(hs.response.time_out, 30_000);
    let eph = c2.exists("/eph", false).await.expect("/eph kept");
    assert_eq!(eph.ephemeral_owner, session);
    assert_eq!(
        c2.get_data("/keep", false)
            .await
            .expect("/keep")
            .data
            .as_deref(),
        Some(&b"v1"[..])
    );
    for i in &acked {
        c2.exists(&format!("/w{i}"), false)
            .await
            .unwrap_or_else(|e| panic!("acknowledged /w{i} lost across SIGTERM (err {e})"));
    }
    let line = server
        .wait_log(&format!("Established session 0x{session:x}"))
        .await;
    assert!(line.contains("reconnected=true"), "{line}");
    eprintln!(
        "{} of {N} in-flight creates were acknowledged before the close",
        acked.len()
    );

    // One log line per session event: closed, expired.
    let mut short = Client::connect(server.addr(), 200).await;
    let short_id = short.session_id;
    drop(short.create("/x", b"", CreateMode::Persistent).await);
    let mut closer = Client::connect(server.addr(), 30_000).await;
    let closer_id = closer.session_id;
    let xid = closer.take_xid();
    closer
        .send_raw(&header_only_frame(xid, OpCode::CloseSession.code()))
        .await;
    let r = closer.read_reply().await;
    assert_eq!((r.header.xid, r.header.err), (xid, 0));
    let line = server
        .wait_log(&format!("Closed session 0x{closer_id:x}"))
        .await;
    assert!(
        line.contains("client=/127.0.0.1:") && line.contains("zxid=0x"),
        "{line}"
    );
    let line = server
        .wait_log(&format!(
            "Expiring session 0x{short_id:x}, timeout of 200ms exceeded"
        ))
        .await;
    assert!(line.contains("client=/127.0.0.1:"), "{line}");

    server.signal("INT");
    let status = server.wait_exit(PROCESS_BOUND);
    assert_eq!(
        status.code(),
        Some(0),
        "SIGINT too; stderr: {}",
        server.stderr()
    );
    assert!(server.stdout().contains("received SIGINT"));
}

/// A bad value: exit 2 (ZooKeeper's INVALID_INVOCATION), the key and the
/// line named on stderr.
#[test]
fn invalid_config_exits_2_naming_key_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "dataDir={}\ntickTime=abc\nclientPort=2181\n",
            dir.path().display()
        ),
    )
    .expect("write");
    let cfg_s = cfg.to_str().expect("utf-8 path");
    for args in [vec![cfg_s], vec!["--check-config", cfg_s]] {
        let (status, _, err) = run(&args, &[]);
        assert_eq!(status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("tickTime"), "names the key: {err}");
        assert!(
            err.contains(":2") || err.contains("line 2"),
            "names the line: {err}"
        );
        assert!(err.contains("Invalid config"), "{err}");
    }
    let (status, _, err) = run(
        &[dir.path().join("absent.cfg").to_str().unwrap_or("x")],
        &[],
    );
    assert_eq!(
        status.code(),
        Some(2),
        "a missing file is a config error: {err}"
    );
}

/// `--check-config` on a good file: exit 0, nothing bound or created.
#[test]
fn check_config_accepts_a_good_file_and_touches_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_cfg(dir.path(), 2181, "4lw.commands.whitelist=*\n");
    let (status, out, err) = run(&["--check-config", cfg.to_str().expect("utf-8")], &[]);
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        out.contains("valid; standalone server on 127.0.0.1:2181"),
        "{out}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "dataDir must not be created"
    );
}

/// The client port taken: exit 1 (ZooKeeper's UNEXPECTED_ERROR, as Java
/// 3.8.0 exits for a BindException), saying which port.
#[test]
fn port_in_use_exits_1() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_cfg(dir.path(), port, "");
    let (status, _, err) = run(&[cfg.to_str().expect("utf-8")], &[]);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("cannot bind client port 127.0.0.1:{port}")),
        "{err}"
    );
    drop(holder);
}

/// dataDir missing with autocreate off: exit 3 (UNABLE_TO_ACCESS_DATADIR).
#[test]
fn missing_datadir_without_autocreate_exits_3() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_cfg(dir.path(), free_port(), "");
    let (status, _, err) = run(
        &[cfg.to_str().expect("utf-8")],
        &[("SERVER_JVMFLAGS", "-Dzookeeper.datadir.autocreate=false")],
    );
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("unable to access datadir"), "{err}");
}

/// `--log-level` beats `-v`'s absence and FERROKEEPER_LOG; FERROKEEPER_LOG
/// beats the default; a bad filter is an invocation error (2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_level_precedence() {
    let dir = tempfile::tempdir().expect("tempdir");
    // FERROKEEPER_LOG=warn: the info line "serving clients" is not logged...
    let port = free_port();
    let cfg = write_cfg(dir.path(), port, "");
    let mut s = Server::spawn(&cfg, port, "warn", &[], &[("FERROKEEPER_LOG", "warn")]);
    s.wait_serving().await;
    s.signal("TERM");
    assert_eq!(s.wait_exit(PROCESS_BOUND).code(), Some(0));
    assert!(!s.stdout().contains("serving clients"), "{}", s.stdout());
    // ...unless --log-level says info.
    let port = free_port();
    let cfg = write_cfg(dir.path(), port, "");
    let mut s = Server::spawn(
        &cfg,
        port,
        "info",
        &["--log-level", "info"],
        &[("FERROKEEPER_LOG", "warn")],
    );
    s.wait_serving().await;
    s.wait_log("serving clients").await;
    s.signal("TERM");
    assert_eq!(s.wait_exit(PROCESS_BOUND).code(), Some(0));
    // -v: debug lines (the socket close of the probe connection).
    let port = free_port();
    let cfg = write_cfg(dir.path(), port, "");
    let mut s = Server::spawn(&cfg, port, "debug", &["-v"], &[("FERROKEEPER_LOG", "warn")]);
    s.wait_serving().await;
    s.wait_log("DEBUG").await;
    s.signal("TERM");
    assert_eq!(s.wait_exit(PROCESS_BOUND).code(), Some(0));

    let (status, _, err) = run(&["--log-level", "info,=[", "--check-config"], &[]);
    assert_eq!(status.code(), Some(2), "{err}");
    let (status, _, err) = run(&["--check-config"], &[("FERROKEEPER_LOG", "info,=[")]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("FERROKEEPER_LOG"), "{err}");
}
