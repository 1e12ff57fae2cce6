//! Three FerroKeeper members in one process, on loopback: they elect a
//! leader, a write through any member is acknowledged and visible through
//! every member after `sync`, sessions made on a follower work, and a new
//! leader takes over when the old one stops. (Real processes under kill -9,
//! pauses and Java members are in compat-tests/ensemble.)

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{free_port, new_session_request, Client};
use ferrokeeper::config::ServerConfig;
use ferrokeeper::server::{self, RunningServer, Settings};
use jute::consts::{CreateMode, OpCode};
use jute::proto::{ConnectRequest, GetDataRequest, SetDataRequest, SyncRequest};

/// zoo.cfg of member `id` of an ensemble whose ports are `ports`
/// ((client, quorum, election) per member), with `extra` lines.
fn member_settings_with(
    root: &Path,
    id: usize,
    ports: &[(u16, u16, u16)],
    extra: &str,
) -> Settings {
    let data = root.join(format!("m{id}"));
    std::fs::create_dir_all(&data).expect("data dir");
    std::fs::write(data.join("myid"), format!("{id}\n")).expect("myid");
    let mut text = format!(
        "tickTime=200\ninitLimit=10\nsyncLimit=5\ndataDir={}\nclientPort={}\n\
         clientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n\
         forceSync=no\n",
        data.display(),
        ports[id - 1].0
    );
    for (i, (_, q, e)) in ports.iter().enumerate() {
        text.push_str(&format!("server.{}=127.0.0.1:{q}:{e}\n", i + 1));
    }
    text.push_str(extra);
    let cfg_path = data.join("zoo.cfg");
    std::fs::write(&cfg_path, &text).expect("zoo.cfg");
    let cfg = ServerConfig::from_str(&text, &cfg_path.display().to_string()).expect("parses");
    let mut s = Settings::from_config(&cfg).expect("servable");
    s.admin = None;
    s
}

struct Ensemble {
    _dir: tempfile::TempDir,
    servers: Vec<Option<RunningServer>>,
    addrs: Vec<SocketAddr>,
    /// (client, quorum, election) port of each member.
    ports: Vec<(u16, u16, u16)>,
}

impl Ensemble {
    async fn start(n: usize) -> Ensemble {
        Ensemble::start_with(n, "").await
    }

    /// `n` members with `extra` zoo.cfg lines each.
    async fn start_with(n: usize, extra: &str) -> Ensemble {
        let dir = tempfile::tempdir().expect("tempdir");
        let ports: Vec<(u16, u16, u16)> = (0..n)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let mut servers = Vec::new();
        let mut addrs = Vec::new();
        for id in 1..=n {
            let s = member_settings_with(dir.path(), id, &ports, extra);
            let srv = server::start(s).await.expect("member starts");
            addrs.push(srv.local_addr);
            servers.push(Some(srv));
        }
        Ensemble {
            _dir: dir,
            servers,
            addrs,
            ports,
        }
    }
}

/// A session on `addr`, retried while the member is not serving yet (it
/// closes connections until it has a leader), up to `limit`.
async fn session_on(addr: SocketAddr, limit: Duration) -> Client {
    let deadline = Instant::now() + limit;
    loop {
        let mut c = Client::open(addr).await;
        if let Some(hs) = c.handshake(&new_session_request(10_000), true).await {
            if hs.response.session_id != 0 {
                return c;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{addr} did not take a session within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn sync(c: &mut Client, path: &str) {
    let r = c
        .call(
            OpCode::Sync,
            &SyncRequest {
                path: path.to_string(),
            },
        )
        .await;
    assert_eq!(r.err(), 0, "sync");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_members_elect_replicate_and_fail_over() {
    let mut ens = Ensemble::start(3).await;
    let limit = Duration::from_secs(30);
    // Every member serves once a leader is established.
    let mut clients = Vec::new();
    for a in &ens.addrs {
        clients.push(session_on(*a, limit).await);
    }
    // A write through each member is visible through every member.
    for (i, c) in clients.iter_mut().enumerate() {
        let path = format!("/via-{}", i + 1);
        assert_eq!(
            c.create(&path, format!("v{i}").as_bytes(), CreateMode::Persistent)
                .await,
            Ok(path.clone())
        );
    }
    for c in clients.iter_mut() {
        sync(c, "/").await;
        for i in 0..3 {
            let got = c
                .get_data(&format!("/via-{}", i + 1), false)
                .await
                .expect("replicated");
            assert_eq!(got.data.as_deref(), Some(format!("v{i}").as_bytes()));
        }
    }
    // Stop the leader: the others elect a new one and keep every write.
    let leader = find_leader(&ens).await;
    drop(clients);
    if let Some(srv) = ens.servers[leader].take() {
        srv.shutdown().await.expect("leader stops");
    }
    let survivor = (leader + 1) % 3;
    let mut c = session_on(ens.addrs[survivor], limit).await;
    assert_eq!(
        c.create("/after", b"x", CreateMode::Persistent).await,
        Ok("/after".to_string())
    );
    let other = (leader + 2) % 3;
    let mut d = session_on(ens.addrs[other], limit).await;
    sync(&mut d, "/").await;
    for p in ["/via-1", "/via-2", "/via-3", "/after"] {
        assert!(
            d.exists(p, false).await.is_ok(),
            "{p} survives the failover"
        );
    }
}

/// Garbage on every member's quorum and election ports, and peers that
/// connect and never speak, cost only their own connections: the ensemble
/// keeps its leader and serves writes through every member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_quorum_and_election_ports_closes_only_that_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ens = Ensemble::start(3).await;
    let limit = Duration::from_secs(30);
    let mut clients = Vec::new();
    for a in &ens.addrs {
        clients.push(session_on(*a, limit).await);
    }
    let leader = find_leader(&ens).await;
    let mut silent = Vec::new();
    for &(_, quorum, election) in &ens.ports {
        for port in [quorum, election] {
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            // A quorum packet announcing a 2 GiB buffer, then noise; an
            // election initial message with a negative length.
            let mut bad = tokio::net::TcpStream::connect(addr).await.expect("dial");
            let mut junk = vec![
                0u8, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff,
            ];
            junk.extend(std::iter::repeat_n(0xa5u8, 4096));
            let _ = bad.write_all(&junk).await;
            // The member closes it: the read ends (EOF or reset) in bounded time.
            let mut buf = [0u8; 64];
            let closed = tokio::time::timeout(limit, async {
                loop {
                    match bad.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
            assert!(
                closed.is_ok(),
                "port {port} kept a connection that sent garbage"
            );
            silent.push(tokio::net::TcpStream::connect(addr).await.expect("dial"));
        }
    }
    for (i, c) in clients.iter_mut().enumerate() {
        let path = format!("/after-garbage-{i}");
        assert_eq!(
            c.create(&path, b"x", CreateMode::Persistent).await,
            Ok(path.clone()),
            "member {} still serves writes",
            i + 1
        );
    }
    for c in clients.iter_mut() {
        sync(c, "/").await;
        for i in 0..3 {
            assert!(c
                .exists(&format!("/after-garbage-{i}"), false)
                .await
                .is_ok());
        }
    }
    assert_eq!(find_leader(&ens).await, leader, "the leader did not change");
    drop(silent);
}

/// Reattach `session` (with `passwd`) on `addr`; the handshake must be
/// accepted.
async fn reattach(addr: SocketAddr, session: i64, passwd: &[u8]) -> Client {
    let mut c = Client::open(addr).await;
    let req = ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 10_000,
        session_id: session,
        passwd: Some(passwd.to_vec()),
        read_only: false,
    };
    let hs = c.handshake(&req, true).await.expect("handshake answered");
    assert_eq!(
        hs.response.session_id, session,
        "reattach to {addr} refused"
    );
    c
}

/// A session is owned by the server its client last attached to, as the
/// leader tracks it: a request still arriving through a server the client
/// left ends that connection (SESSIONMOVED, ZOOKEEPER-710) and is never
/// applied, whichever way it comes (forwarded by a follower, or sent to the
/// leader itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_through_a_server_the_session_left_is_refused_there() {
    let ens = Ensemble::start(3).await;
    let limit = Duration::from_secs(30);
    for a in &ens.addrs {
        drop(session_on(*a, limit).await);
    }
    let leader = find_leader(&ens).await;
    let (f1, f2) = ((leader + 1) % 3, (leader + 2) % 3);

    // The session starts on a follower and writes there.
    let mut on_f1 = session_on(ens.addrs[f1], limit).await;
    let (session, passwd) = (on_f1.session_id, on_f1.passwd.clone());
    assert_eq!(
        on_f1.create("/owned", b"0", CreateMode::Persistent).await,
        Ok("/owned".to_string())
    );

    // It moves to the leader; the follower's old connection stays open.
    let mut on_leader = reattach(ens.addrs[leader], session, &passwd).await;
    assert!(on_leader.exists("/owned", false).await.is_ok());
    // A write through the old connection is refused by the leader: the
    // follower closes it without an answer.
    on_f1
        .send(
            OpCode::SetData as i32,
            &SetDataRequest {
                path: "/owned".to_string(),
                data: Some(b"stale".to_vec()),
                version: -1,
            },
        )
        .await;
    on_f1.expect_closed().await;

    // It moves on to the other follower: now the leader's own connection
    // of it is the stale one, refused even for a read.
    let mut on_f2 = reattach(ens.addrs[f2], session, &passwd).await;
    on_leader
        .send(
            OpCode::GetData as i32,
            &GetDataRequest {
                path: "/owned".to_string(),
                watch: false,
            },
        )
        .await;
    on_leader.expect_closed().await;

    // Where it is attached now it writes; the stale write never applied.
    assert!(on_f2.set_data("/owned", b"1", -1).await.is_ok());
    sync(&mut on_f2, "/").await;
    let got = on_f2.get_data("/owned", false).await.expect("read");
    assert_eq!(got.data.as_deref(), Some(&b"1"[..]));
    assert_eq!(
        got.stat.version, 1,
        "only the live connection's write applied"
    );
}

/// `mntr`'s value of `key` on `addr`.
async fn mntr_value(addr: SocketAddr, key: &str) -> i64 {
    let text = common::four_letter(addr, "mntr").await;
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} missing from mntr of {addr}:\n{text}"))
}

/// The quorum counters and summaries of `mntr` count what the member did,
/// where Java counts it: proposals and commits on the leader, PROPOSALs and
/// COMMITs received on followers, one election each, one sync per follower.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mntr_counts_each_member_s_quorum_work() {
    let ens = Ensemble::start(3).await;
    let limit = Duration::from_secs(30);
    for a in &ens.addrs {
        drop(session_on(*a, limit).await);
    }
    let leader = find_leader(&ens).await;
    let follower = (leader + 1) % 3;
    let before = mntr_value(ens.addrs[leader], "zk_proposal_count").await;
    let received_before = mntr_value(ens.addrs[follower], "zk_learner_commit_received_count").await;
    let mut c = session_on(ens.addrs[follower], limit).await;
    for i in 0..5 {
        let path = format!("/counted-{i}");
        assert_eq!(
            c.create(&path, b"x", CreateMode::Persistent).await,
            Ok(path.clone())
        );
    }
    sync(&mut c, "/").await;
    // createSession and five creates.
    let proposed = mntr_value(ens.addrs[leader], "zk_proposal_count").await - before;
    assert_eq!(proposed, 6, "leader's proposals");
    assert_eq!(
        mntr_value(ens.addrs[leader], "zk_commit_count").await,
        mntr_value(ens.addrs[leader], "zk_proposal_count").await,
        "every proposal committed"
    );
    let received =
        mntr_value(ens.addrs[follower], "zk_learner_commit_received_count").await - received_before;
    assert_eq!(received, 6, "follower's COMMITs");
    assert!(mntr_value(ens.addrs[follower], "zk_learner_proposal_received_count").await >= 6);
    assert_eq!(
        mntr_value(ens.addrs[follower], "zk_proposal_count").await,
        0
    );
    assert!(mntr_value(ens.addrs[follower], "zk_cnt_commit_propagation_latency").await >= 6);
    assert!(mntr_value(ens.addrs[leader], "zk_cnt_quorum_ack_latency").await >= 6);
    // One election each on a quiet start (a member that had to look again
    // counts each time, and samples election_time each time it ended).
    for (i, a) in ens.addrs.iter().enumerate() {
        let looked = mntr_value(*a, "zk_looking_count").await;
        assert!(looked >= 1, "member {i} looked {looked} times");
        assert_eq!(
            mntr_value(*a, "zk_cnt_election_time").await,
            looked,
            "member {i}"
        );
        assert!(mntr_value(*a, "zk_cnt_unavailable_time").await >= 1);
        let syncs = mntr_value(*a, "zk_cnt_follower_sync_time").await;
        if i == leader {
            assert_eq!(syncs, 0, "the leader synced with nobody");
        } else {
            assert!(syncs >= 1, "follower {i} synced");
        }
    }
    assert!(
        mntr_value(ens.addrs[leader], "zk_diff_count").await
            + mntr_value(ens.addrs[leader], "zk_snap_count").await
            >= 2,
        "one sync per follower"
    );
}

/// Every member holds the ensemble's config in `/zookeeper/config`, as a
/// Java 3.8.0 member does (`initConfigInZKDatabase`, checked with zkCli's
/// `get -s /zookeeper/config` on a Java follower): `QuorumMaj.toString()`,
/// dataVersion -1, mZxid the config version 0, the read-only ACL's
/// aversion -1. A standalone server leaves it empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_member_holds_the_quorum_config_in_zookeeper_config() {
    let ens = Ensemble::start(3).await;
    let mut want = String::new();
    for (i, (_, q, e)) in ens.ports.iter().enumerate() {
        want.push_str(&format!("server.{}=127.0.0.1:{q}:{e}:participant\n", i + 1));
    }
    want.push_str("version=0");
    for a in &ens.addrs {
        let mut c = session_on(*a, Duration::from_secs(30)).await;
        let got = c
            .get_data("/zookeeper/config", false)
            .await
            .expect("/zookeeper/config");
        assert_eq!(
            String::from_utf8_lossy(got.data.as_deref().unwrap_or_default()),
            want,
            "{a}"
        );
        let st = &got.stat;
        assert_eq!(
            (st.czxid, st.mzxid, st.version, st.aversion),
            (0, 0, -1, -1),
            "{a}: {st:?}"
        );
        assert!(st.mtime > 0, "{a}: written when the member started");
    }
}

/// The member whose `srvr` says leader.
async fn find_leader(ens: &Ensemble) -> usize {
    for (i, a) in ens.addrs.iter().enumerate() {
        if ens.servers[i].is_none() {
            continue;
        }
        let srvr = common::four_letter(*a, "srvr").await;
        if srvr.contains("Mode: leader") {
            return i;
        }
    }
    panic!("no member says Mode: leader");
}

/// A follower that missed more txns than the committed window holds
/// (`commitLogCount`: 20 asked for, raised to 500 as Java 3.8's ZKDatabase
/// raises it) catches up by DIFF from the leader's on-disk txn log — the
/// log from its zxid is one file, which `getProposalsFromTxnLog` does not
/// count against snapshotSizeFactor × snapshot size — and holds every write.
/// Writes go on meanwhile. With `snapshotSizeFactor=-1` (the log sync off)
/// the same gap is a SNAP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_behind_the_committed_window_catches_up_from_the_leader_s_log() {
    for (factor, want_diff) in [("", true), ("snapshotSizeFactor=-1\n", false)] {
        let extra = format!("commitLogCount=20\n{factor}");
        let mut ens = Ensemble::start_with(3, &extra).await;
        let limit = Duration::from_secs(30);
        for a in &ens.addrs {
            drop(session_on(*a, limit).await);
        }
        let leader = find_leader(&ens).await;
        let follower = (leader + 1) % 3;
        if let Some(srv) = ens.servers[follower].take() {
            srv.shutdown().await.expect("follower stops");
        }
        let mut c = session_on(ens.addrs[leader], limit).await;
        let n = 600;
        for i in 0..n {
            let path = format!("/missed-{i}");
            assert_eq!(
                c.create(&path, b"x", CreateMode::Persistent).await,
                Ok(path.clone())
            );
        }
        let diffs = mntr_value(ens.addrs[leader], "zk_diff_count").await;
        let snaps = mntr_value(ens.addrs[leader], "zk_snap_count").await;
        // Writes go on while the follower rejoins: the window moves while
        // the leader reads its log for it.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writer = {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut k = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && k < 5000 {
                    let path = format!("/during-{k}");
                    assert_eq!(
                        c.create(&path, b"y", CreateMode::Persistent).await,
                        Ok(path.clone())
                    );
                    k += 1;
                }
                k
            })
        };
        let s = member_settings_with(ens._dir.path(), follower + 1, &ens.ports, &extra);
        let srv = server::start(s).await.expect("follower restarts");
        ens.addrs[follower] = srv.local_addr;
        ens.servers[follower] = Some(srv);
        let mut d = session_on(ens.addrs[follower], limit).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let during = writer.await.expect("writer");
        assert!(during > 0, "no write while the follower rejoined");
        sync(&mut d, "/").await;
        let paths = (0..n)
            .map(|i| format!("/missed-{i}"))
            .chain((0..during).map(|k| format!("/during-{k}")));
        for path in paths {
            assert!(
                d.exists(&path, false).await.is_ok(),
                "{path} on the follower"
            );
        }
        let diffs = mntr_value(ens.addrs[leader], "zk_diff_count").await - diffs;
        let snaps = mntr_value(ens.addrs[leader], "zk_snap_count").await - snaps;
        let want = if want_diff { (1, 0) } else { (0, 1) };
        assert_eq!((diffs, snaps), want, "(DIFF, SNAP) with {factor:?}");
    }
}
