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
        Ensemble::start_first_with(n, n, "").await
    }

    /// `n` members with `extra` zoo.cfg lines each.
    async fn start_with(n: usize, extra: &str) -> Ensemble {
        Ensemble::start_first_with(n, n, extra).await
    }

    /// An ensemble of `n` voters of which only members 1..=`running` are
    /// started (a test plays the others).
    async fn start_first(n: usize, running: usize) -> Ensemble {
        Ensemble::start_first_with(n, running, "").await
    }

    async fn start_first_with(n: usize, running: usize, extra: &str) -> Ensemble {
        let dir = tempfile::tempdir().expect("tempdir");
        let ports: Vec<(u16, u16, u16)> = (0..n)
            .map(|_| (free_port(), free_port(), free_port()))
            .collect();
        let mut servers = Vec::new();
        let mut addrs = Vec::new();
        for id in 1..=running {
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

/// A learner forwards its clients' requests, a `sync` among them, and a Java 3.8.0 follower
/// matches every COMMIT and SYNC that comes back, in order, to the oldest of them still
/// waiting (`CommitProcessor`: one that comes out of turn is taken for another server's, and
/// the request it overtook, and every later one of its clients, waits for ever). So the
/// leader's SYNC for a forwarded sync must come right after the COMMIT of the last txn
/// proposed before it and before the COMMITs of the learner's requests after it
/// (`Leader.processSync`, `tryToCommit`), and every forwarded request is answered, also
/// one of a session closed meanwhile (an error txn; the sync its SYNC), as Java's leader
/// submits a learner's requests straight to `PrepRequestProcessor`. The test plays server.3
/// over a raw socket; with server.1 stopped, the leader commits only what it ACKs, so both
/// of its creates commit in one go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learners_sync_is_answered_between_the_commits_of_its_requests() {
    let mut ens = Ensemble::start_first(3, 2).await;
    let limit = Duration::from_secs(30);
    for a in &ens.addrs {
        drop(session_on(*a, limit).await);
    }
    let leader = find_leader(&ens).await;
    let quorum_port = ens.ports[leader].1;
    let (joined_tx, joined_rx) = tokio::sync::oneshot::channel();
    let (alone_tx, alone_rx) = std::sync::mpsc::channel::<()>();
    let script = std::thread::spawn(move || -> Result<Vec<String>, String> {
        let mut l = raw_learner::Learner::join(quorum_port, 3)?;
        let _ = joined_tx.send(());
        l.idle_until(|| alone_rx.try_recv().is_ok())?;
        l.forwarded_script()
    });
    joined_rx.await.expect("the raw learner joins the leader");
    if let Some(srv) = ens.servers[1 - leader].take() {
        srv.shutdown().await.expect("the other member stops");
    }
    alone_tx.send(()).expect("the raw learner waits");
    let seen = tokio::task::spawn_blocking(move || script.join())
        .await
        .expect("joined")
        .expect("the raw learner's thread")
        .unwrap_or_else(|e| panic!("raw learner: {e}"));
    assert_eq!(
        seen,
        [
            "COMMIT cxid 0 createSession",
            "COMMIT cxid 1 create",
            "SYNC",
            "COMMIT cxid 3 create",
            "COMMIT cxid 4 closeSession",
            "COMMIT cxid 5 error -112",
            "SYNC",
        ]
    );
}

/// Server.3 of the ensemble, played over a raw socket with `ferrokeeper::quorum::wire` as a
/// Java 3.8.0 follower speaks: FOLLOWERINFO … UPTODATE, then PINGs answered with its
/// session's touch, PROPOSALs ACKed (or held), its session's REQUESTs forwarded.
mod raw_learner {
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::{Duration, Instant};

    use ferrokeeper::persist::txnlog::format::decode_txn;
    use ferrokeeper::quorum::wire::packet::packet;
    use ferrokeeper::quorum::wire::payload::{
        encode_ping_touches, int_payload, learner_info_bytes, ForwardedRequest,
    };
    use ferrokeeper::quorum::wire::{
        decode_quorum_packet, encode_quorum_packet, PacketLimit, PacketType, QuorumPacket,
        SnapScanner,
    };
    use ferrokeeper::txn::TxnBody;
    use jute::consts::OpCode;
    use jute::data::{Id, ACL};
    use jute::proto::{CreateRequest, SyncRequest};

    type Res<T> = Result<T, String>;

    const SESSION_TIMEOUT_MS: i32 = 30_000;

    pub struct Learner {
        stream: TcpStream,
        buf: Vec<u8>,
        deadline: Instant,
        limit: PacketLimit,
        session: i64,
        /// What each PROPOSAL we saw was: (session, cxid, description).
        txns: HashMap<i64, (i64, i32, String)>,
        /// PROPOSALs not ACKed yet, while ACKs are held.
        held: Option<Vec<i64>>,
        /// Our session's COMMITs and every SYNC, in the order they came.
        seen: Vec<String>,
    }

    impl Learner {
        /// Connects to the leader's quorum port and syncs as a fresh follower.
        pub fn join(port: u16, sid: i64) -> Res<Learner> {
            let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            let mut l = Learner {
                stream,
                buf: Vec::new(),
                deadline: Instant::now() + Duration::from_secs(15),
                limit: PacketLimit::default(),
                session: (sid << 56) | 1,
                txns: HashMap::new(),
                held: None,
                seen: Vec::new(),
            };
            l.write(&[packet(
                PacketType::FollowerInfo,
                0,
                Some(learner_info_bytes(sid, 0)),
            )])?;
            let info = l.read()?;
            if info.type_ != PacketType::LeaderInfo as i32 {
                return Err(format!("LEADERINFO expected, got type {}", info.type_));
            }
            let newleader = info.zxid;
            l.write(&[packet(PacketType::AckEpoch, 0, Some(int_payload(0)))])?;
            loop {
                let p = l.read()?;
                match PacketType::from_wire(p.type_) {
                    Some(PacketType::Snap) => l.skip_snapshot()?,
                    Some(PacketType::NewLeader) => {
                        l.write(&[packet(PacketType::Ack, newleader, None)])?
                    }
                    Some(PacketType::UpToDate) => break,
                    _ => {}
                }
            }
            l.write(&[packet(PacketType::Ack, newleader, None)])
                .map(|_| l)
        }

        /// Follows (PINGs, ACKs) until `done` says so.
        pub fn idle_until(&mut self, mut done: impl FnMut() -> bool) -> Res<()> {
            while !done() {
                self.step(Duration::from_millis(50))?;
            }
            Ok(())
        }

        /// createSession; create /a, sync, create /b in one write with their ACKs held;
        /// closeSession; then a create and a sync of the closed session. Returns `seen`.
        pub fn forwarded_script(mut self) -> Res<Vec<String>> {
            self.forward(&[(0, OpCode::CreateSession, int_payload(SESSION_TIMEOUT_MS))])?;
            self.await_seen(1)?;
            self.held = Some(Vec::new());
            self.forward(&[
                (1, OpCode::Create, create_body("/a")),
                (2, OpCode::Sync, sync_body()),
                (3, OpCode::Create, create_body("/b")),
            ])?;
            // Both creates proposed, neither committed: nothing may come back yet.
            while !(self.proposed(1) && self.proposed(3)) {
                self.step(Duration::from_millis(50))?;
            }
            let held = self.held.take().unwrap_or_default();
            let acks: Vec<QuorumPacket> = held
                .iter()
                .map(|z| packet(PacketType::Ack, *z, None))
                .collect();
            self.write(&acks)?;
            self.await_seen(4)?;
            self.forward(&[(4, OpCode::CloseSession, Vec::new())])?;
            self.await_seen(5)?;
            self.forward(&[
                (5, OpCode::Create, create_body("/c")),
                (6, OpCode::Sync, sync_body()),
            ])?;
            self.await_seen(7)?;
            Ok(self.seen)
        }

        fn proposed(&self, cxid: i32) -> bool {
            self.txns
                .values()
                .any(|(s, c, _)| *s == self.session && *c == cxid)
        }

        fn await_seen(&mut self, n: usize) -> Res<()> {
            while self.seen.len() < n {
                self.step(Duration::from_millis(50))?;
            }
            Ok(())
        }

        /// REQUESTs of our session, in one write.
        fn forward(&mut self, requests: &[(i32, OpCode, Vec<u8>)]) -> Res<()> {
            let packets: Vec<QuorumPacket> = requests
                .iter()
                .map(|(cxid, op, body)| {
                    let r = ForwardedRequest {
                        session_id: self.session,
                        cxid: *cxid,
                        op: *op as i32,
                        body: body.clone(),
                    };
                    packet(PacketType::Request, -1, Some(r.encode()))
                })
                .collect();
            self.write(&packets)
        }

        /// Handles one packet, if one comes within `wait`.
        fn step(&mut self, wait: Duration) -> Res<()> {
            let Some(p) = self.read_within(wait)? else {
                return Ok(());
            };
            match PacketType::from_wire(p.type_) {
                Some(PacketType::Ping) => {
                    let touches = encode_ping_touches(&[(self.session, SESSION_TIMEOUT_MS)]);
                    self.write(&[packet(PacketType::Ping, p.zxid, Some(touches))])?;
                }
                Some(PacketType::Proposal) => {
                    let d = decode_txn(p.data.as_deref().unwrap_or_default())?;
                    let what = match &d.body {
                        TxnBody::Error(e) => format!("error {}", e.err),
                        other => format!("{:?}", other.op_code()),
                    };
                    let what = lower_first(&what);
                    self.txns
                        .insert(p.zxid, (d.header.client_id, d.header.cxid, what));
                    match self.held.as_mut() {
                        Some(held) => held.push(p.zxid),
                        None => self.write(&[packet(PacketType::Ack, p.zxid, None)])?,
                    }
                }
                Some(PacketType::Commit) => {
                    if let Some((s, cxid, what)) = self.txns.get(&p.zxid) {
                        if *s == self.session {
                            self.seen.push(format!("COMMIT cxid {cxid} {what}"));
                        }
                    }
                }
                Some(PacketType::Sync) => self.seen.push("SYNC".to_string()),
                _ => {
                    return Err(format!(
                        "unexpected packet type {} while following",
                        p.type_
                    ))
                }
            }
            Ok(())
        }

        fn skip_snapshot(&mut self) -> Res<()> {
            let mut scanner = SnapScanner::new(self.limit);
            loop {
                if let Some(end) = scanner.advance(&self.buf).map_err(|e| e.to_string())? {
                    self.buf.drain(..end.stream_len);
                    return Ok(());
                }
                self.fill(self.deadline)?;
            }
        }

        fn write(&mut self, packets: &[QuorumPacket]) -> Res<()> {
            let bytes: Vec<u8> = packets.iter().flat_map(encode_quorum_packet).collect();
            self.stream.write_all(&bytes).map_err(|e| e.to_string())
        }

        fn read(&mut self) -> Res<QuorumPacket> {
            let deadline = self.deadline;
            loop {
                if let Some(p) = self.decode()? {
                    return Ok(p);
                }
                self.fill(deadline)?;
            }
        }

        fn read_within(&mut self, wait: Duration) -> Res<Option<QuorumPacket>> {
            if let Some(p) = self.decode()? {
                return Ok(Some(p));
            }
            if Instant::now() >= self.deadline {
                return Err(format!("nothing more after {:?}", self.seen));
            }
            match self.fill(Instant::now() + wait) {
                Ok(()) => self.decode(),
                Err(e) if e == "timeout" => Ok(None),
                Err(e) => Err(e),
            }
        }

        fn decode(&mut self) -> Res<Option<QuorumPacket>> {
            match decode_quorum_packet(&self.buf, self.limit).map_err(|e| e.to_string())? {
                Some((p, used)) => {
                    self.buf.drain(..used);
                    Ok(Some(p))
                }
                None => Ok(None),
            }
        }

        /// More bytes by `until`: Err("timeout") if none came.
        fn fill(&mut self, until: Instant) -> Res<()> {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("timeout".to_string());
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) => Err("the leader closed the connection".to_string()),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    Ok(())
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    Err("timeout".to_string())
                }
                Err(e) => Err(e.to_string()),
            }
        }
    }

    fn lower_first(s: &str) -> String {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_lowercase().chain(c).collect())
            .unwrap_or_default()
    }

    fn create_body(path: &str) -> Vec<u8> {
        jute::to_bytes(&CreateRequest {
            path: path.into(),
            data: Some(b"x".to_vec()),
            acl: vec![ACL {
                perms: 31,
                id: Id {
                    scheme: "world".into(),
                    id: "anyone".into(),
                },
            }],
            flags: 0,
        })
    }

    fn sync_body() -> Vec<u8> {
        jute::to_bytes(&SyncRequest { path: "/".into() })
    }
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
