//! A leader and learners in one process, on loopback.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::acl::{open_acl_unsafe, AclCache};
use crate::persist::snapshot::{load_snap_sync, write_snap_sync};
use crate::quorum::wire::encode_quorum_packet;
use crate::quorum::wire::packet::packet;
use crate::quorum::wire::payload::learner_info_bytes;
use crate::tree::{AclRef, DataTree, EphemeralTypes, TreeConfig};

const LEADER: u64 = 1;

struct Member {
    peers: Peers,
    events: mpsc::Receiver<PeerEvent>,
}

impl Member {
    async fn next(&mut self) -> PeerEvent {
        tokio::time::timeout(Duration::from_secs(10), self.events.recv())
            .await
            .expect("an event within 10 s")
            .expect("events channel open")
    }

    /// The next event about `sid` (events of other connections are skipped).
    async fn next_from(&mut self, sid: u64) -> PeerEvent {
        loop {
            let e = self.next().await;
            let about = match &e {
                PeerEvent::Packet { sid, .. }
                | PeerEvent::Snapshot { sid, .. }
                | PeerEvent::Connected { sid }
                | PeerEvent::Disconnected { sid } => *sid,
            };
            if about == sid {
                return e;
            }
        }
    }

    async fn packet_from(&mut self, sid: u64) -> QuorumPacket {
        match self.next_from(sid).await {
            PeerEvent::Packet { packet, .. } => packet,
            other => panic!("expected a packet from {sid}, got {other:?}"),
        }
    }
}

fn start(settings: PeerSettings) -> Member {
    let (tx, events) = mpsc::channel(64);
    let peers = Peers::start(settings, tx).unwrap();
    Member { peers, events }
}

/// A leader (sid 1) that accepts sids 2..=4.
fn leader() -> Member {
    let unused: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let voters = PeerAddresses::fixed((2..=4).map(|sid| (sid, unused)).collect());
    start(PeerSettings::new(
        LEADER,
        Some("127.0.0.1:0".parse().unwrap()),
        voters,
    ))
}

fn learner_settings(sid: u64, leader: &Member) -> PeerSettings {
    let addr = leader.peers.listening_addr().unwrap();
    PeerSettings::new(
        sid,
        None,
        PeerAddresses::fixed(BTreeMap::from([(LEADER, addr)])),
    )
}

fn follower_info(sid: u64) -> QuorumPacket {
    packet(
        PacketType::FollowerInfo,
        0,
        Some(learner_info_bytes(sid as i64, 0)),
    )
}

/// A learner that has dialed the leader and identified itself.
async fn join(leader: &mut Member, settings: PeerSettings) -> Member {
    let sid = settings.my_sid;
    let mut learner = start(settings);
    learner.peers.connect_leader(LEADER);
    // Queued before the dial completes: it waits for the connection.
    assert!(learner.peers.send(LEADER, follower_info(sid)));
    assert_eq!(learner.next().await, PeerEvent::Connected { sid: LEADER });
    assert_eq!(leader.packet_from(sid).await, follower_info(sid));
    learner
}

async fn join_sid(leader: &mut Member, sid: u64) -> Member {
    let settings = learner_settings(sid, leader);
    join(leader, settings).await
}

fn numbered(kind: PacketType, i: i64) -> QuorumPacket {
    packet(kind, 0x1_0000_0000 + i, Some(i.to_be_bytes().to_vec()))
}

#[tokio::test]
async fn learners_identify_themselves_and_packets_flow_both_ways_in_order() {
    let mut leader = leader();
    let mut two = join_sid(&mut leader, 2).await;
    let mut three = join_sid(&mut leader, 3).await;
    assert_eq!(leader.peers.connected(), vec![2, 3]);
    for i in 0..20 {
        assert!(leader.peers.send(2, numbered(PacketType::Proposal, i)));
        assert!(leader.peers.send(3, numbered(PacketType::Commit, i)));
        assert!(two.peers.send(LEADER, numbered(PacketType::Ack, i)));
        assert!(three.peers.send(LEADER, numbered(PacketType::Ack, 100 + i)));
    }
    for i in 0..20 {
        assert_eq!(
            two.packet_from(LEADER).await,
            numbered(PacketType::Proposal, i)
        );
        assert_eq!(
            three.packet_from(LEADER).await,
            numbered(PacketType::Commit, i)
        );
    }
    // The leader's events interleave the two learners; each one's are in order.
    let (mut from2, mut from3) = (Vec::new(), Vec::new());
    while from2.len() + from3.len() < 40 {
        match leader.next().await {
            PeerEvent::Packet { sid: 2, packet } => from2.push(packet),
            PeerEvent::Packet { sid: 3, packet } => from3.push(packet),
            other => panic!("unexpected {other:?}"),
        }
    }
    let want = |base: i64| -> Vec<_> {
        (0..20)
            .map(|i| numbered(PacketType::Ack, base + i))
            .collect()
    };
    assert_eq!(from2, want(0));
    assert_eq!(from3, want(100));
    for m in [&leader, &two, &three] {
        m.peers.shutdown().await;
    }
}

#[tokio::test]
async fn a_burst_of_packets_goes_out_in_one_write() {
    let mut leader = leader();
    let mut two = join_sid(&mut leader, 2).await;
    let before = leader.peers.stats(2).unwrap();
    // Queued in one go: on this single-threaded runtime the writer cannot run
    // until the test awaits, so it finds all 1,000 in its outbox at once.
    for i in 0..1000 {
        assert!(leader.peers.send(2, numbered(PacketType::Proposal, i)));
    }
    for i in 0..1000 {
        assert_eq!(
            two.packet_from(LEADER).await,
            numbered(PacketType::Proposal, i)
        );
    }
    let after = leader.peers.stats(2).unwrap();
    assert_eq!(after.packets_queued - before.packets_queued, 1000);
    assert_eq!(after.writes - before.writes, 1, "{before:?} {after:?}");
    let one = encode_quorum_packet(&numbered(PacketType::Proposal, 0)).len() as u64;
    assert_eq!(after.bytes_written - before.bytes_written, 1000 * one);
    leader.peers.shutdown().await;
    two.peers.shutdown().await;
}

/// A small database and its SNAP-sync stream, as the leader would send it.
fn snapshot_stream() -> Vec<u8> {
    let config = TreeConfig {
        ephemeral_types: EphemeralTypes {
            extended_types_enabled: true,
            emulate_353_ttl: false,
        },
        digest_enabled: true,
    };
    let mut acls = AclCache::new();
    let open = AclRef(acls.convert_acls(&open_acl_unsafe()));
    let mut tree = DataTree::new(config, open);
    for (i, path) in ["/app", "/app/a", "/app/b", "/other"].iter().enumerate() {
        let zxid = 0x1_0000_0001 + i as i64;
        let data = vec![b'x'; 100 * (i + 1)];
        tree.create_node(path, Some(data), open, 0, -1, zxid, 1_700_000_000_000)
            .unwrap();
    }
    let sessions = [
        (0x0100_0000_0000_0001, 30_000),
        (0x0100_0000_0000_0002, 4000),
    ];
    write_snap_sync(Vec::new(), &tree, &acls, sessions)
        .unwrap()
        .0
}

#[tokio::test]
async fn a_snap_stream_arrives_whole_between_packets() {
    let mut leader = leader();
    let mut two = join_sid(&mut leader, 2).await;
    let stream = Bytes::from(snapshot_stream());
    let zxid = 0x1_0000_0004;
    assert!(leader.peers.send(2, packet(PacketType::Ack, 1, None)));
    assert!(leader
        .peers
        .send_snapshot(2, packet(PacketType::Snap, zxid, None), stream.clone()));
    let new_leader = packet(PacketType::NewLeader, 0x1_0000_0000, Some(b"cfg".to_vec()));
    let up_to_date = packet(PacketType::UpToDate, -1, None);
    assert!(leader.peers.send(2, new_leader.clone()));
    assert!(leader.peers.send(2, up_to_date.clone()));

    assert_eq!(
        two.packet_from(LEADER).await,
        packet(PacketType::Ack, 1, None)
    );
    let PeerEvent::Snapshot {
        sid,
        zxid: got_zxid,
        stream: got,
    } = two.next().await
    else {
        panic!("expected the snapshot");
    };
    assert_eq!((sid, got_zxid), (LEADER, zxid));
    assert_eq!(got, stream);
    assert_eq!(two.packet_from(LEADER).await, new_leader);
    assert_eq!(two.packet_from(LEADER).await, up_to_date);
    // What arrived is a loadable database, signature included.
    let mut tree = DataTree::new(
        TreeConfig {
            ephemeral_types: EphemeralTypes {
                extended_types_enabled: true,
                emulate_353_ttl: false,
            },
            digest_enabled: true,
        },
        AclRef(-1),
    );
    let mut sessions = Vec::new();
    let (loaded, rest) = load_snap_sync(
        &got[..],
        Path::new("SNAP from sid 1"),
        None,
        &mut tree,
        &mut AclCache::new(),
        &mut sessions,
    )
    .unwrap();
    assert!(rest.is_empty());
    assert_eq!(loaded.bytes, got.len() as u64);
    assert_eq!(sessions.len(), 2);
    assert!(tree.lookup("/app/b").is_some());
    leader.peers.shutdown().await;
    two.peers.shutdown().await;
}

#[tokio::test]
async fn an_oversized_snap_stream_closes_only_that_connection() {
    let mut leader = leader();
    let mut small = learner_settings(2, &leader);
    let stream = Bytes::from(snapshot_stream());
    small.max_snapshot = stream.len() - 1;
    let mut two = join(&mut leader, small).await;
    let mut three = join_sid(&mut leader, 3).await;
    for sid in [2, 3] {
        assert!(leader
            .peers
            .send_snapshot(sid, packet(PacketType::Snap, 7, None), stream.clone()));
    }
    assert_eq!(two.next().await, PeerEvent::Disconnected { sid: LEADER });
    assert!(matches!(
        three.next().await,
        PeerEvent::Snapshot { zxid: 7, .. }
    ));
    assert_eq!(
        leader.next_from(2).await,
        PeerEvent::Disconnected { sid: 2 }
    );
    assert!(leader.peers.send(3, packet(PacketType::Ping, 9, None)));
    assert_eq!(
        three.packet_from(LEADER).await,
        packet(PacketType::Ping, 9, None)
    );
    for m in [&leader, &two, &three] {
        m.peers.shutdown().await;
    }
}

/// Writes `bytes` on a fresh connection to the leader and waits for its EOF.
async fn refused(leader: &Member, bytes: &[u8]) {
    let mut s = TcpStream::connect(leader.peers.listening_addr().unwrap())
        .await
        .unwrap();
    s.write_all(bytes).await.unwrap();
    let mut b = [0u8; 1];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut b))
        .await
        .expect("closed within 10 s")
        .unwrap_or(0);
    assert_eq!(n, 0, "the leader hangs up without a word");
}

#[tokio::test]
async fn bad_learners_lose_only_their_own_connection() {
    let mut leader = leader();
    let mut two = join_sid(&mut leader, 2).await;

    // Garbage: a packet announcing 0x7f000000 bytes of data.
    let mut garbage = vec![0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
    garbage.extend_from_slice(&0x7f00_0000i32.to_be_bytes());
    refused(&leader, &garbage).await;
    // A sid not in our config, our own sid, a missing one.
    refused(&leader, &encode_quorum_packet(&follower_info(77))).await;
    refused(&leader, &encode_quorum_packet(&follower_info(LEADER))).await;
    refused(
        &leader,
        &encode_quorum_packet(&packet(PacketType::FollowerInfo, 0, None)),
    )
    .await;
    // An observer not in our config, and a first packet that is not FOLLOWERINFO or
    // OBSERVERINFO. (A listed sid's OBSERVERINFO goes through: the machine checks
    // that the sid is an observer.)
    let observer = packet(PacketType::ObserverInfo, 0, Some(learner_info_bytes(77, 0)));
    refused(&leader, &encode_quorum_packet(&observer)).await;
    refused(
        &leader,
        &encode_quorum_packet(&packet(PacketType::Ack, 0, None)),
    )
    .await;

    // A voter that identifies itself, then sends a truncated packet and hangs up.
    let mut raw = TcpStream::connect(leader.peers.listening_addr().unwrap())
        .await
        .unwrap();
    let mut bytes = encode_quorum_packet(&follower_info(3));
    let ack = encode_quorum_packet(&packet(PacketType::Ack, 5, None));
    bytes.extend_from_slice(&ack[..ack.len() - 3]);
    raw.write_all(&bytes).await.unwrap();
    assert_eq!(leader.packet_from(3).await, follower_info(3));
    drop(raw);
    assert_eq!(
        leader.next_from(3).await,
        PeerEvent::Disconnected { sid: 3 }
    );
    // One that sends garbage after a good FOLLOWERINFO.
    let mut raw = TcpStream::connect(leader.peers.listening_addr().unwrap())
        .await
        .unwrap();
    let mut bytes = encode_quorum_packet(&follower_info(4));
    bytes.extend_from_slice(&garbage);
    raw.write_all(&bytes).await.unwrap();
    assert_eq!(leader.packet_from(4).await, follower_info(4));
    assert_eq!(
        leader.next_from(4).await,
        PeerEvent::Disconnected { sid: 4 }
    );
    let mut b = [0u8; 1];
    assert_eq!(raw.read(&mut b).await.unwrap_or(0), 0);

    // Learner 2 never noticed.
    assert_eq!(leader.peers.connected(), vec![2]);
    assert!(leader.peers.send(2, packet(PacketType::Ping, 1, None)));
    assert_eq!(
        two.packet_from(LEADER).await,
        packet(PacketType::Ping, 1, None)
    );
    assert!(two
        .peers
        .send(LEADER, packet(PacketType::Ping, 1, Some(vec![]))));
    assert_eq!(
        leader.packet_from(2).await,
        packet(PacketType::Ping, 1, Some(vec![]))
    );
    leader.peers.shutdown().await;
    two.peers.shutdown().await;
}

#[tokio::test]
async fn disconnect_closes_and_the_other_end_sees_eof() {
    let mut leader = leader();
    let mut two = join_sid(&mut leader, 2).await;
    let three = join_sid(&mut leader, 3).await;
    // The leader drops learner 2: no event for itself, EOF for the learner.
    leader.peers.disconnect(2);
    assert!(!leader.peers.send(2, packet(PacketType::Ping, 1, None)));
    assert_eq!(two.next().await, PeerEvent::Disconnected { sid: LEADER });
    assert!(!two.peers.send(LEADER, packet(PacketType::Ack, 1, None)));
    // Learner 3 drops the leader.
    three.peers.disconnect(LEADER);
    assert_eq!(
        leader.next_from(3).await,
        PeerEvent::Disconnected { sid: 3 }
    );
    assert!(leader.peers.connected().is_empty());
    assert!(leader.events.try_recv().is_err(), "nothing about sid 2");
    for m in [&leader, &two, &three] {
        m.peers.shutdown().await;
    }
}

#[tokio::test]
async fn a_second_connection_from_a_sid_replaces_the_first() {
    let mut leader = leader();
    let mut first = join_sid(&mut leader, 2).await;
    let mut second = start(learner_settings(2, &leader));
    second.peers.connect_leader(LEADER);
    assert!(second.peers.send(LEADER, follower_info(2)));
    assert_eq!(second.next().await, PeerEvent::Connected { sid: LEADER });
    assert_eq!(leader.next().await, PeerEvent::Disconnected { sid: 2 });
    assert_eq!(leader.packet_from(2).await, follower_info(2));
    assert_eq!(first.next().await, PeerEvent::Disconnected { sid: LEADER });
    assert!(leader.peers.send(2, packet(PacketType::Ping, 3, None)));
    assert_eq!(
        second.packet_from(LEADER).await,
        packet(PacketType::Ping, 3, None)
    );
    for m in [&leader, &first, &second] {
        m.peers.shutdown().await;
    }
}

#[tokio::test]
async fn each_try_looks_the_leaders_name_up_again() {
    use crate::quorum::peer_addresses::test_resolver::Table;
    let mut leader = leader();
    let at = leader.peers.listening_addr().unwrap();
    // Configured as "leader.test", which resolved to 127.0.0.2 (nothing listens
    // there) and now, from the second lookup on, to the leader's 127.0.0.1.
    let names = Arc::new(Table::default());
    names.script("leader.test", &[Some(&["127.0.0.2"]), Some(&["127.0.0.1"])]);
    let was = SocketAddr::new("127.0.0.2".parse().unwrap(), at.port());
    let mut settings = PeerSettings::new(
        2,
        None,
        PeerAddresses::resolving(
            "quorum",
            [(LEADER, "leader.test".to_owned(), was)],
            names.resolver(),
            Duration::from_secs(2),
        ),
    );
    settings.connect_tries = 3;
    settings.connect_retry_delay = Duration::from_millis(50);
    join(&mut leader, settings).await;
    assert_eq!(names.lookups.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn connect_leader_tries_then_gives_up_and_replaces_the_old_leader() {
    let mut leader = leader();
    // A port nobody listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut settings = learner_settings(2, &leader);
    let to_leader = leader.peers.listening_addr().unwrap();
    settings.peers = PeerAddresses::fixed(BTreeMap::from([(LEADER, to_leader), (5, dead)]));
    settings.connect_tries = 3;
    settings.connect_retry_delay = Duration::from_millis(50);
    let mut two = join(&mut leader, settings).await;

    // Following sid 5 instead closes the connection to sid 1 …
    let began = Instant::now();
    two.peers.connect_leader(5);
    assert_eq!(
        leader.next_from(2).await,
        PeerEvent::Disconnected { sid: 2 }
    );
    // … and after three refused dials, 50 ms apart, the learner hears it failed.
    assert_eq!(two.next().await, PeerEvent::Disconnected { sid: 5 });
    assert!(began.elapsed() >= Duration::from_millis(100));
    assert!(two.peers.connected().is_empty());
    assert!(!two.peers.send(5, follower_info(2)));
    // A sid without an address fails at once.
    two.peers.connect_leader(9);
    assert_eq!(two.next().await, PeerEvent::Disconnected { sid: 9 });
    leader.peers.shutdown().await;
    two.peers.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_every_connection_and_the_port() {
    let mut leader = leader();
    let mut two = join_sid(&mut leader, 2).await;
    let mut three = join_sid(&mut leader, 3).await;
    leader.peers.shutdown().await;
    assert!(leader.peers.connected().is_empty());
    assert_eq!(two.next().await, PeerEvent::Disconnected { sid: LEADER });
    assert_eq!(three.next().await, PeerEvent::Disconnected { sid: LEADER });
    // Nobody listens any more: a new dial fails after its tries.
    two.peers.connect_leader(LEADER);
    assert_eq!(two.next().await, PeerEvent::Disconnected { sid: LEADER });
    two.peers.shutdown().await;
    three.peers.shutdown().await;
}

/// A measurement, not a check (run with `-- --ignored --nocapture`):
/// 200,000 PROPOSALs of 100 bytes leader → learner on two worker threads,
/// in order; prints packets/s and how many writes carried them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn throughput_of_a_long_burst() {
    let mut leader = leader();
    let mut two = join_sid(&mut leader, 2).await;
    let n = 200_000i64;
    let began = Instant::now();
    let sender = leader.peers.clone();
    let feed = tokio::spawn(async move {
        for chunk in 0..n / 1000 {
            for i in 0..1000 {
                let p = packet(PacketType::Proposal, chunk * 1000 + i, Some(vec![7; 100]));
                sender.send(2, p);
            }
            tokio::task::yield_now().await;
        }
    });
    for i in 0..n {
        let p = two.packet_from(LEADER).await;
        assert_eq!(p.zxid, i);
    }
    feed.await.unwrap();
    let el = began.elapsed();
    let st = leader.peers.stats(2).unwrap();
    println!(
        "{n} packets in {el:?}: {:.0}/s, {} writes",
        n as f64 / el.as_secs_f64(),
        st.writes
    );
}

/// A learner of a hand-driven "leader" socket: returns it once the
/// learner's FOLLOWERINFO has arrived.
async fn learner_of_raw_leader(
    tweak: impl FnOnce(&mut PeerSettings),
) -> (Member, tokio::net::TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = PeerSettings::new(
        2,
        None,
        PeerAddresses::fixed(BTreeMap::from([(LEADER, addr)])),
    );
    tweak(&mut settings);
    let mut learner = start(settings);
    learner.peers.connect_leader(LEADER);
    assert!(learner.peers.send(LEADER, follower_info(2)));
    let (mut raw, _) = listener.accept().await.unwrap();
    let want = encode_quorum_packet(&follower_info(2));
    let mut got = vec![0u8; want.len()];
    raw.read_exact(&mut got).await.unwrap();
    assert_eq!(got, want);
    assert_eq!(learner.next().await, PeerEvent::Connected { sid: LEADER });
    (learner, raw)
}

#[tokio::test]
async fn a_snap_stream_cut_short_or_garbled_is_not_delivered() {
    let stream = snapshot_stream();
    let mut snap = encode_quorum_packet(&packet(PacketType::Snap, 7, None));
    // Cut: half the stream, then EOF.
    let (mut learner, mut raw) = learner_of_raw_leader(|_| {}).await;
    let mut bytes = snap.clone();
    bytes.extend_from_slice(&stream[..stream.len() / 2]);
    raw.write_all(&bytes).await.unwrap();
    drop(raw);
    assert_eq!(
        learner.next().await,
        PeerEvent::Disconnected { sid: LEADER }
    );
    learner.peers.shutdown().await;
    // Garbled: a wrong signature.
    let (mut learner, mut raw) = learner_of_raw_leader(|_| {}).await;
    let mut garbled = stream.clone();
    let n = garbled.len();
    garbled[n - 1] ^= 0x20;
    snap.extend_from_slice(&garbled);
    raw.write_all(&snap).await.unwrap();
    assert_eq!(
        learner.next().await,
        PeerEvent::Disconnected { sid: LEADER }
    );
    let mut b = [0u8; 1];
    assert_eq!(
        raw.read(&mut b).await.unwrap_or(0),
        0,
        "the learner hung up"
    );
    learner.peers.shutdown().await;
}

#[tokio::test]
async fn a_silent_leader_is_dropped_after_the_read_timeout() {
    let (mut learner, mut raw) = learner_of_raw_leader(|s| {
        s.read_timeout = Some(Duration::from_millis(500));
    })
    .await;
    // Packets 200 ms apart keep it alive for longer than the timeout …
    for i in 0..5 {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        raw.write_all(&encode_quorum_packet(&packet(PacketType::Ping, i, None)))
            .await
            .unwrap();
        assert_eq!(
            learner.packet_from(LEADER).await,
            packet(PacketType::Ping, i, None)
        );
    }
    // … 500 ms of silence does not.
    let began = Instant::now();
    assert_eq!(
        learner.next().await,
        PeerEvent::Disconnected { sid: LEADER }
    );
    assert!(began.elapsed() >= Duration::from_millis(400));
    learner.peers.shutdown().await;
}
