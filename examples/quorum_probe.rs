//! A probe peer that speaks ZooKeeper 3.8's election and quorum protocols
//! with FerroKeeper's codecs (`ferrokeeper::quorum::wire`) over plain std
//! sockets, to prove them against a live Java ensemble
//! (`compat-tests/quorum-wire/run.sh` drives it).
//!
//! ```text
//! quorum_probe listen ZOO_CFG SECONDS   accept the other voters' election dials on our
//!                                       election port; decode each initial message
//! quorum_probe elect ZOO_CFG            dial every other voter's election port, send the
//!                                       initial message and a LOOKING vote, decode replies
//! quorum_probe cnx ZOO_CFG              the same through quorum::cnx::CnxManager (tokio):
//!                                       its dials must survive, the votes arrive
//! quorum_probe learn ZOO_CFG LEADER_SID [--last-zxid Z] [--accepted-epoch E]
//!                    [--current-epoch E] [--commits N] [--timeout S] [--forward]
//!                                       be a follower: FOLLOWERINFO … UPTODATE, then ACK
//!                                       proposals, answer PINGs until N commits were seen;
//!                                       --forward: first run a session of our own through
//!                                       the leader (REQUEST, REVALIDATE, sync, PING touches)
//! quorum_probe peers ZOO_CFG LEADER_SID  a fresh learner through quorum::peers::Peers and
//!                                       quorum::translate: sync (SNAP loaded with
//!                                       load_snap_sync), a forwarded session, PINGs
//! ```
//!
//! ZOO_CFG is this probe's own zoo.cfg (its `server.N` lines and a dataDir
//! with `myid`), loaded by FerroKeeper's config loader. Output is one fact
//! per line; `CHECK ok …` / `CHECK FAIL …` lines are the probe's own
//! verdicts, the rest is evidence the driver checks across runs.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ferrokeeper::acl::AclCache;
use ferrokeeper::config::{LearnerType, ServerConfig};
use ferrokeeper::persist::snapshot::load_snap_sync;
use ferrokeeper::persist::snapshot::{SnapshotReader, SNAP_MAGIC};
use ferrokeeper::persist::txnlog::format::decode_txn;
use ferrokeeper::quorum::cnx::{CnxManager, CnxSettings, Opened};
use ferrokeeper::quorum::peers::{PeerEvent, PeerSettings, Peers};
use ferrokeeper::quorum::translate::{
    packet_from_wire_at_learner, packet_to_wire, ping_to_wire, request_to_wire, Inbound, WireCtx,
};
use ferrokeeper::quorum::wire::config_text::render_server;
use ferrokeeper::quorum::wire::packet::packet;
use ferrokeeper::quorum::wire::payload::{
    decode_int_payload, decode_revalidate_reply, encode_ping_touches, encode_revalidate_request,
    int_payload, learner_info_bytes, ForwardedRequest, ZAB_PROTOCOL_VERSION,
};
use ferrokeeper::quorum::wire::{
    decode_election_frame, decode_quorum_packet, describe_packet, encode_election_frame,
    encode_quorum_packet, parse_config_text, render_config_text, InitialMessage, Notification,
    PacketLimit, PacketType, PeerState, QuorumPacket, SnapScanner,
};
use ferrokeeper::tree::{AclRef, DataTree, TreeConfig};
use ferrokeeper::txn::TxnBody;
use ferrokeeper::zab::{QuorumPacket as ZabPacket, Zxid};
use jute::consts::OpCode;
use jute::data::{Id, ACL};
use jute::proto::{CreateRequest, SyncRequest};
use tokio::sync::mpsc;

type Res<T> = Result<T, String>;

struct Checks {
    failed: usize,
}

impl Checks {
    fn check(&mut self, ok: bool, what: &str, detail: impl std::fmt::Display) {
        if ok {
            println!("CHECK ok {what}");
        } else {
            self.failed += 1;
            println!("CHECK FAIL {what}: {detail}");
        }
    }
}

/// A blocking reader that keeps what arrived beyond the item it decoded.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    deadline: Instant,
    /// The bytes of the last packet decoded, as Java wrote them.
    last_raw: Vec<u8>,
    /// Packets whose re-encoding differs from Java's bytes.
    reencode_mismatches: Vec<String>,
    packets: usize,
}

impl Conn {
    fn new(stream: TcpStream, deadline: Instant) -> Self {
        Conn {
            stream,
            buf: Vec::new(),
            deadline,
            last_raw: Vec::new(),
            reencode_mismatches: Vec::new(),
            packets: 0,
        }
    }

    /// Reads more bytes; an error at EOF or past the deadline.
    fn fill(&mut self, what: &str) -> Res<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("timed out waiting for {what}"));
        }
        self.stream
            .set_read_timeout(Some(left))
            .map_err(|e| format!("set_read_timeout: {e}"))?;
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(format!(
                "peer closed the connection while we waited for {what}"
            )),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) => Err(format!("reading {what}: {e}")),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> Res<()> {
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("write: {e}"))
    }

    fn election_frame(&mut self) -> Res<Vec<u8>> {
        loop {
            if let Some((payload, used)) =
                decode_election_frame(&self.buf).map_err(|e| e.to_string())?
            {
                let payload = payload.to_vec();
                self.buf.drain(..used);
                return Ok(payload);
            }
            self.fill("an election frame")?;
        }
    }

    fn packet(&mut self, limit: PacketLimit) -> Res<QuorumPacket> {
        loop {
            if let Some((p, used)) =
                decode_quorum_packet(&self.buf, limit).map_err(|e| e.to_string())?
            {
                self.last_raw = self.buf.drain(..used).collect();
                self.packets += 1;
                if encode_quorum_packet(&p) != self.last_raw {
                    self.reencode_mismatches.push(format!(
                        "{} as {}",
                        describe_packet(&p),
                        hex(&self.last_raw)
                    ));
                }
                return Ok(p);
            }
            self.fill("a quorum packet")?;
        }
    }

    fn write_packet(&mut self, p: &QuorumPacket) -> Res<()> {
        self.send(&encode_quorum_packet(p))
    }
}

struct Probe {
    cfg: ServerConfig,
    sid: u64,
    limit: PacketLimit,
}

impl Probe {
    fn load(path: &str) -> Res<Probe> {
        let cfg = ServerConfig::from_file(path).map_err(|e| e.to_string())?;
        let sid = cfg
            .server_id
            .ok_or_else(|| format!("{path}: no myid in its dataDir"))?;
        let limit = PacketLimit::new(
            cfg.jute_max_buffer as usize,
            Some(cfg.jute_max_buffer_extra_size as usize),
        );
        Ok(Probe { cfg, sid, limit })
    }

    fn config_text(&self) -> Res<String> {
        render_config_text(&self.cfg.quorum).map_err(|e| e.to_string())
    }

    fn election_address(&self, sid: u64) -> Res<(String, u16, u16)> {
        let s = self
            .cfg
            .quorum
            .servers
            .get(&sid)
            .ok_or_else(|| format!("server.{sid} is not in the config"))?;
        let a = s
            .addresses
            .first()
            .ok_or_else(|| format!("server.{sid} has no address"))?;
        Ok((a.host.clone(), a.quorum_port, a.election_port))
    }

    /// The server lines of a config text, for comparing member lists (the
    /// version line may differ: Java may have bumped it).
    fn server_lines(text: &str) -> Vec<String> {
        let mut lines: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with("server."))
            .map(str::to_owned)
            .collect();
        lines.sort();
        lines
    }

    // ---- listen: Java dials us ----------------------------------------------------------

    fn listen(&self, seconds: u64, checks: &mut Checks) -> Res<()> {
        let (host, _, eport) = self.election_address(self.sid)?;
        let listener =
            TcpListener::bind((host.as_str(), eport)).map_err(|e| format!("bind {eport}: {e}"))?;
        listener
            .set_nonblocking(true)
            .map_err(|e| format!("nonblocking: {e}"))?;
        println!("LISTENING {host}:{eport}");
        let _ = std::io::stdout().flush();
        let voters: Vec<u64> = self
            .cfg
            .quorum
            .servers
            .values()
            .filter(|s| s.learner_type == LearnerType::Participant && s.id != self.sid)
            .map(|s| s.id)
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        let mut reencode_ok = true;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        while seen.len() < voters.len() && Instant::now() < deadline {
            let stream = match listener.accept() {
                Ok((s, _)) => s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // std has no accept timeout: poll the non-blocking listener.
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                Err(e) => return Err(format!("accept: {e}")),
            };
            stream
                .set_nonblocking(false)
                .map_err(|e| format!("blocking: {e}"))?;
            let mut conn = Conn::new(stream, Instant::now() + Duration::from_secs(5));
            let msg = loop {
                match InitialMessage::decode(&conn.buf) {
                    Ok(Some((m, used))) => {
                        let raw: Vec<u8> = conn.buf.drain(..used).collect();
                        if m.encode() != raw {
                            println!("INITIAL_REENCODE_DIFFERS {}", hex(&raw));
                            reencode_ok = false;
                        }
                        break m;
                    }
                    Ok(None) => conn.fill("the initial message")?,
                    Err(e) => return Err(format!("initial message: {e}")),
                }
            };
            let addrs: Vec<String> = msg
                .addresses
                .iter()
                .map(|a| format!("{}:{}", a.host, a.port))
                .collect();
            println!(
                "INITIAL from sid={} version={:?} addresses={}",
                msg.sid,
                msg.protocol_version,
                addrs.join("|")
            );
            let sid = u64::try_from(msg.sid).unwrap_or(u64::MAX);
            if seen.contains(&sid) {
                // Java retries while its election runs; one check per member.
                continue;
            }
            let want = self.election_address(sid).ok();
            checks.check(
                msg.protocol_version
                    == Some(ferrokeeper::quorum::wire::initial::PROTOCOL_VERSION_V1)
                    && want.as_ref().is_some_and(|(h, _, e)| {
                        addrs == [format!("{h}:{e}")]
                    }),
                &format!("initial message from sid {sid}: protocol V1 and its configured election address"),
                format!("{msg:?}"),
            );
            // Java (smaller sid) hangs up at once after its message: the larger sid dials.
            let closed = conn.fill("the dialer's close").is_err() && conn.buf.is_empty();
            checks.check(
                closed,
                &format!("sid {sid} closed its dial to a larger sid after the initial message"),
                format!("{} more bytes arrived", conn.buf.len()),
            );
            seen.insert(sid);
        }
        checks.check(
            seen.len() == voters.len(),
            "every other voter dialed our election port",
            format!("saw {seen:?} of {voters:?}"),
        );
        checks.check(
            reencode_ok,
            "every initial message from Java re-encodes to exactly Java's bytes",
            "see INITIAL_REENCODE_DIFFERS",
        );
        Ok(())
    }

    // ---- elect: we dial Java ------------------------------------------------------------

    fn elect(&self, checks: &mut Checks) -> Res<()> {
        let (my_host, _, my_eport) = self.election_address(self.sid)?;
        let config = self.config_text()?;
        println!("OUR_CONFIG {}", config.replace('\n', "\\n"));
        let vote = Notification::new(
            PeerState::Looking,
            self.sid as i64,
            0,
            1,
            0,
            config.clone().into_bytes(),
        );
        let mut replies = Vec::new();
        let mut notification_bytes_ok = true;
        for server in self.cfg.quorum.participants() {
            if server.id == self.sid {
                continue;
            }
            let (host, _, eport) = self.election_address(server.id)?;
            let stream = TcpStream::connect((host.as_str(), eport)).map_err(|e| {
                format!("connect to server.{} election port {eport}: {e}", server.id)
            })?;
            let mut conn = Conn::new(stream, Instant::now() + Duration::from_secs(10));
            let mut hello = InitialMessage::v1(self.sid as i64, &my_host, my_eport).encode();
            hello.extend_from_slice(&encode_election_frame(&vote.encode()));
            conn.send(&hello)?;
            // A new connection first carries whatever Java last queued for us (its LOOKING
            // vote from its own election, when it could not reach us): read on until the
            // answer to our vote, a non-LOOKING one.
            let mut frames = 0;
            let (payload, n) = loop {
                let payload = conn.election_frame()?;
                frames += 1;
                let n = Notification::decode(&payload)
                    .map_err(|e| format!("from server.{}: {e}", server.id))?;
                println!(
                    "NOTIFICATION from={} frame={frames} bytes={} state={:?} leader={} zxid=0x{:x} electionEpoch=0x{:x} peerEpoch=0x{:x} version={}",
                    server.id,
                    payload.len(),
                    n.state,
                    n.leader,
                    n.zxid,
                    n.election_epoch,
                    n.peer_epoch,
                    n.version
                );
                if n.encode() != payload {
                    println!("NOTIFICATION_REENCODE_DIFFERS {}", hex(&payload));
                    notification_bytes_ok = false;
                }
                if n.state != PeerState::Looking || frames >= 5 {
                    break (payload, n);
                }
            };
            let text = n
                .config
                .as_deref()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .unwrap_or_default();
            println!("CONFIG from={} {}", server.id, text.replace('\n', "\\n"));
            checks.check(
                matches!(n.state, PeerState::Following | PeerState::Leading),
                &format!(
                    "server.{} answers a LOOKING vote with its FOLLOWING/LEADING vote",
                    server.id
                ),
                format!("{:?}", n.state),
            );
            checks.check(
                n.version == 2 && payload.len() == 44 + text.len(),
                &format!(
                    "server.{} notification is the 44+n layout, version 2",
                    server.id
                ),
                format!("version {} length {}", n.version, payload.len()),
            );
            match parse_config_text(text.as_bytes()) {
                Ok(q) => {
                    let ours: Vec<String> = Self::server_lines(&config);
                    let theirs: Vec<String> = q
                        .servers
                        .values()
                        .map(|s| format!("server.{}={}", s.id, render_server(s)))
                        .collect();
                    let mut theirs_sorted = theirs.clone();
                    theirs_sorted.sort();
                    checks.check(
                        Self::server_lines(&text) == ours && theirs_sorted == ours,
                        &format!("server.{} config bytes parse to our server lines and render back byte for byte", server.id),
                        format!("theirs {theirs:?}, ours {ours:?}"),
                    );
                    let exact = text == render_config_text(&q).map_err(|e| e.to_string())?;
                    checks.check(
                        exact,
                        &format!("server.{} config text equals our rendering of it (order, version line)", server.id),
                        format!("{text:?}"),
                    );
                }
                Err(e) => checks.check(
                    false,
                    &format!("server.{} config bytes parse", server.id),
                    e,
                ),
            }
            replies.push(n);
        }
        if let [a, b, ..] = replies.as_slice() {
            checks.check(
                a.leader == b.leader && a.peer_epoch == b.peer_epoch,
                "both Java members report the same leader and peerEpoch",
                format!("{a:?} vs {b:?}"),
            );
            let leader_says_leading = replies
                .iter()
                .filter(|n| n.state == PeerState::Leading)
                .all(|n| n.leader == a.leader);
            checks.check(
                leader_says_leading
                    && replies
                        .iter()
                        .filter(|n| n.state == PeerState::Leading)
                        .count()
                        == 1,
                "exactly one member says LEADING, for the agreed leader",
                format!("{replies:?}"),
            );
            println!("LEADER {}", a.leader);
        }
        checks.check(
            notification_bytes_ok,
            "every notification from Java re-encodes to exactly Java's bytes",
            "see NOTIFICATION_REENCODE_DIFFERS",
        );
        Ok(())
    }

    // ---- cnx: the connection manager against Java ------------------------------------------

    async fn cnx(&self, checks: &mut Checks) -> Res<()> {
        let addr_of = |sid: u64| -> Res<std::net::SocketAddr> {
            let (host, _, eport) = self.election_address(sid)?;
            format!("{host}:{eport}")
                .parse()
                .map_err(|e| format!("server.{sid} election address: {e}"))
        };
        let my_address = addr_of(self.sid)?;
        let mut peers = std::collections::BTreeMap::new();
        for s in self.cfg.quorum.participants() {
            if s.id != self.sid {
                peers.insert(s.id, addr_of(s.id)?);
            }
        }
        let listener = tokio::net::TcpListener::bind(my_address)
            .await
            .map_err(|e| format!("bind {my_address}: {e}"))?;
        let settings = CnxSettings {
            my_sid: self.sid,
            my_address,
            peers: ferrokeeper::quorum::peer_addresses::PeerAddresses::fixed(peers.clone()),
            connect_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(5),
        };
        let (manager, mut inbox) = CnxManager::start(settings, listener);
        let config = self.config_text()?.into_bytes();
        let vote = Notification::new(PeerState::Looking, self.sid as i64, 0, 1, 0, config);
        for sid in peers.keys() {
            manager.send(*sid, vote.encode());
        }
        let mut answered = std::collections::BTreeMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while answered.len() < peers.len() {
            let Ok(Some(r)) = tokio::time::timeout_at(deadline, inbox.recv()).await else {
                break;
            };
            match Notification::decode(&r.payload) {
                Ok(n) => {
                    println!(
                        "CNX_NOTIFICATION from={} state={:?} leader={} peerEpoch=0x{:x}",
                        r.sid, n.state, n.leader, n.peer_epoch
                    );
                    if n.state != PeerState::Looking {
                        answered.insert(r.sid, n.leader);
                    }
                }
                Err(e) => checks.check(false, "a frame through CnxManager decodes", e),
            }
        }
        checks.check(
            answered.len() == peers.len()
                && answered
                    .values()
                    .all(|l| Some(l) == answered.values().next()),
            "through CnxManager every Java member answers our vote, naming the same leader",
            format!("{answered:?}"),
        );
        let links = manager.connections();
        println!("CNX_CONNECTIONS {links:?}");
        checks.check(
            peers
                .keys()
                .all(|sid| links.get(sid) == Some(&Opened::Dialed)),
            "CnxManager's own dials to the smaller sids are the surviving connections",
            format!("{links:?}"),
        );
        manager.shutdown().await;
        Ok(())
    }

    // ---- learn: follow the Java leader ---------------------------------------------------

    fn learn(&self, opts: &LearnOptions, checks: &mut Checks) -> Res<()> {
        let (host, qport, _) = self.election_address(opts.leader)?;
        let stream = TcpStream::connect((host.as_str(), qport))
            .map_err(|e| format!("connect to leader quorum port {qport}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(opts.timeout_s);
        let mut conn = Conn::new(stream, deadline);
        let mut seq: Vec<String> = Vec::new();

        conn.write_packet(&packet(
            PacketType::FollowerInfo,
            opts.accepted_epoch << 32,
            Some(learner_info_bytes(self.sid as i64, self.cfg.quorum.version)),
        ))?;
        let info = conn.packet(self.limit)?;
        self.show(&info, &mut seq);
        println!("RAW LEADERINFO {}", hex(&conn.last_raw));
        checks.check(
            info.type_ == PacketType::LeaderInfo as i32,
            "leader answers FOLLOWERINFO with LEADERINFO",
            describe_packet(&info),
        );
        let proto =
            decode_int_payload(info.data.as_deref(), "LEADERINFO").map_err(|e| e.to_string())?;
        checks.check(
            proto == ZAB_PROTOCOL_VERSION && info.zxid & 0xffff_ffff == 0,
            "LEADERINFO carries protocol 0x10000 and zxid newEpoch<<32",
            format!("protocol 0x{proto:x} zxid 0x{:x}", info.zxid),
        );
        let new_epoch = info.zxid >> 32;
        let ack_epoch = if new_epoch > opts.accepted_epoch {
            opts.current_epoch as i32
        } else {
            -1
        };
        conn.write_packet(&packet(
            PacketType::AckEpoch,
            opts.last_zxid,
            Some(int_payload(ack_epoch)),
        ))?;
        println!(
            "SENT ACKEPOCH zxid=0x{:x} epoch={ack_epoch}",
            opts.last_zxid
        );

        // Sync: DIFF / SNAP / TRUNC, then proposals and commits, NEWLEADER, UPTODATE.
        let first = conn.packet(self.limit)?;
        self.show(&first, &mut seq);
        let mode = PacketType::from_wire(first.type_);
        checks.check(
            matches!(
                mode,
                Some(PacketType::Diff | PacketType::Snap | PacketType::Trunc)
            ),
            "the first sync packet is DIFF, SNAP or TRUNC",
            describe_packet(&first),
        );
        println!(
            "SYNC_MODE {} zxid=0x{:x}",
            mode.map_or("?", PacketType::name),
            first.zxid
        );
        if mode == Some(PacketType::Snap) {
            self.read_snap(&mut conn, first.zxid, checks)?;
        }
        let mut proposals = 0;
        let mut sync_problems: Vec<String> = Vec::new();
        let mut new_leader_zxid = None;
        loop {
            let p = conn.packet(self.limit)?;
            self.show(&p, &mut seq);
            match PacketType::from_wire(p.type_) {
                Some(PacketType::Proposal) => {
                    proposals += 1;
                    sync_problems.extend(self.show_txn(&p).err());
                }
                Some(PacketType::Commit) => {}
                Some(PacketType::NewLeader) => {
                    let text =
                        String::from_utf8_lossy(p.data.as_deref().unwrap_or_default()).into_owned();
                    println!("NEWLEADER_CONFIG {}", text.replace('\n', "\\n"));
                    let ours = Self::server_lines(&self.config_text()?);
                    let parsed = parse_config_text(text.as_bytes()).map_err(|e| e.to_string())?;
                    checks.check(
                        Self::server_lines(&text) == ours
                            && render_config_text(&parsed).map_err(|e| e.to_string())? == text,
                        "NEWLEADER carries our members' config text, which round-trips",
                        &text,
                    );
                    checks.check(
                        p.zxid == new_epoch << 32,
                        "NEWLEADER zxid is newEpoch<<32",
                        format!("0x{:x}", p.zxid),
                    );
                    new_leader_zxid = Some(p.zxid);
                    conn.write_packet(&packet(PacketType::Ack, p.zxid, None))?;
                    println!("SENT ACK zxid=0x{:x} (NEWLEADER)", p.zxid);
                }
                Some(PacketType::UpToDate) => {
                    checks.check(
                        new_leader_zxid.is_some(),
                        "UPTODATE comes after NEWLEADER",
                        seq.join(","),
                    );
                    conn.write_packet(&packet(PacketType::Ack, new_epoch << 32, None))?;
                    println!("SENT ACK zxid=0x{:x} (UPTODATE)", new_epoch << 32);
                    break;
                }
                _ => checks.check(
                    false,
                    "only PROPOSAL/COMMIT/NEWLEADER/UPTODATE during sync",
                    describe_packet(&p),
                ),
            }
        }
        println!("SYNC_SEQUENCE {}", seq.join(","));
        println!("SYNC_PROPOSALS {proposals}");
        checks.check(
            sync_problems.is_empty(),
            "during sync, every PROPOSAL decodes with decode_txn (header zxid = packet zxid)",
            format!("{sync_problems:?}"),
        );
        println!("SYNCED");
        let _ = std::io::stdout().flush();
        if opts.forward {
            self.forward(&mut conn, checks)?;
        }

        // Broadcast: ACK proposals, see commits, answer pings.
        let mut seq: Vec<String> = Vec::new();
        let (mut commits, mut pings, mut proposals) = (0usize, 0usize, 0usize);
        let mut pending: Vec<i64> = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        while commits < opts.commits || pings == 0 {
            let p = conn.packet(self.limit)?;
            self.show(&p, &mut seq);
            match PacketType::from_wire(p.type_) {
                Some(PacketType::Proposal) => {
                    proposals += 1;
                    problems.extend(self.show_txn(&p).err());
                    pending.push(p.zxid);
                    conn.write_packet(&packet(PacketType::Ack, p.zxid, None))?;
                }
                Some(PacketType::Commit) => {
                    if pending.first() == Some(&p.zxid) {
                        pending.remove(0);
                    } else {
                        problems.push(format!(
                            "COMMIT 0x{:x} while the oldest pending is {:x?}",
                            p.zxid,
                            pending.first()
                        ));
                    }
                    commits += 1;
                }
                Some(PacketType::Ping) => {
                    if pings == 0 {
                        println!("RAW PING {}", hex(&conn.last_raw));
                    }
                    pings += 1;
                    // No client sessions here: an empty touch table, as Java sends it.
                    let reply = QuorumPacket {
                        type_: p.type_,
                        zxid: p.zxid,
                        data: Some(Vec::new()),
                        authinfo: p.authinfo.clone(),
                    };
                    conn.write_packet(&reply)?;
                }
                _ => checks.check(
                    false,
                    "only PROPOSAL/COMMIT/PING while following",
                    describe_packet(&p),
                ),
            }
        }
        checks.check(
            conn.reencode_mismatches.is_empty(),
            "every packet Java sent re-encodes to exactly Java's bytes",
            format!(
                "{} of {} differ: {:?}",
                conn.reencode_mismatches.len(),
                conn.packets,
                conn.reencode_mismatches
            ),
        );
        println!("BROADCAST_SEQUENCE {}", compress(&seq));
        println!("COMMITS {commits} PINGS {pings}");
        checks.check(
            problems.is_empty(),
            "while following, every PROPOSAL decodes with decode_txn (header zxid = packet zxid) \
             and every COMMIT names the oldest pending proposal",
            format!("{proposals} proposals: {problems:?}"),
        );
        Ok(())
    }

    /// Waits for a packet `wanted` accepts while following: PROPOSALs are
    /// decoded and ACKed, PINGs answered with `touches`. Returns the packet and
    /// the txn line of its proposal, if it was a COMMIT of one we saw.
    fn await_packet(
        &self,
        conn: &mut Conn,
        touches: &[(i64, i32)],
        seen: &mut Vec<String>,
        wanted: impl Fn(&QuorumPacket, Option<&str>) -> bool,
    ) -> Res<(QuorumPacket, Option<String>)> {
        let mut txns: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
        loop {
            let p = conn.packet(self.limit)?;
            self.show(&p, seen);
            let mut txn_line = None;
            match PacketType::from_wire(p.type_) {
                Some(PacketType::Proposal) => {
                    let line = describe_txn(p.data.as_deref().unwrap_or_default());
                    println!("TXN zxid=0x{:x} {line}", p.zxid);
                    txns.insert(p.zxid, line);
                    conn.write_packet(&packet(PacketType::Ack, p.zxid, None))?;
                }
                Some(PacketType::Commit) => txn_line = txns.get(&p.zxid).cloned(),
                Some(PacketType::Ping) => {
                    let reply = QuorumPacket {
                        type_: p.type_,
                        zxid: p.zxid,
                        data: Some(encode_ping_touches(touches)),
                        authinfo: p.authinfo.clone(),
                    };
                    conn.write_packet(&reply)?;
                }
                _ => {}
            }
            if wanted(&p, txn_line.as_deref()) {
                return Ok((p, txn_line));
            }
        }
    }

    /// A session of our own, run through the Java leader as a follower runs
    /// its clients' requests: createSession, REVALIDATE, create, sync, PING
    /// touches, closeSession.
    fn forward(&self, conn: &mut Conn, checks: &mut Checks) -> Res<()> {
        let session = ((self.sid as i64) << 56) | 0x00de_ad00_0001;
        let timeout = 30_000;
        let mut seen = Vec::new();
        let request = |cxid: i32, op: OpCode, body: Vec<u8>| {
            let r = ForwardedRequest {
                session_id: session,
                cxid,
                op: op as i32,
                body,
            };
            packet(PacketType::Request, -1, Some(r.encode()))
        };
        let committed = |what: &'static str| {
            move |p: &QuorumPacket, txn: Option<&str>| {
                p.type_ == PacketType::Commit as i32 && txn.is_some_and(|t| t.contains(what))
            }
        };

        conn.write_packet(&request(0, OpCode::CreateSession, int_payload(timeout)))?;
        self.await_packet(conn, &[], &mut seen, committed("op=CreateSession"))?;
        checks.check(
            true,
            "a forwarded createSession REQUEST is proposed and committed",
            "",
        );

        conn.write_packet(&packet(
            PacketType::Revalidate,
            -1,
            Some(encode_revalidate_request(session, timeout)),
        ))?;
        let (reply, _) = self.await_packet(conn, &[(session, timeout)], &mut seen, |p, _| {
            p.type_ == PacketType::Revalidate as i32
        })?;
        let answer = decode_revalidate_reply(reply.data.as_deref()).map_err(|e| e.to_string())?;
        println!(
            "REVALIDATE_REPLY session=0x{:x} valid={}",
            answer.0, answer.1
        );
        checks.check(
            answer == (session, true),
            "REVALIDATE of our committed session is answered (id, valid=true)",
            format!("{answer:x?}"),
        );

        let create = CreateRequest {
            path: "/qw-probe".into(),
            data: Some(b"from-probe".to_vec()),
            acl: vec![ACL {
                perms: 31,
                id: Id {
                    scheme: "world".into(),
                    id: "anyone".into(),
                },
            }],
            flags: 0,
        };
        conn.write_packet(&request(1, OpCode::Create, jute::to_bytes(&create)))?;
        self.await_packet(
            conn,
            &[(session, timeout)],
            &mut seen,
            committed("create path=/qw-probe data=from-probe"),
        )?;
        checks.check(
            true,
            "a forwarded create REQUEST is proposed and committed",
            "",
        );

        // The same create with a null authinfo (-1), which Java itself never sends in a
        // REQUEST: the 3.8.0 leader turns it into an error txn. This is why the encoder
        // writes an empty REQUEST list as count 0.
        let mut null_auth = create.clone();
        null_auth.path = "/qw-null-auth".into();
        let mut raw = encode_quorum_packet(&request(4, OpCode::Create, jute::to_bytes(&null_auth)));
        let n = raw.len();
        raw[n - 4..].copy_from_slice(&(-1i32).to_be_bytes());
        conn.send(&raw)?;
        let (_, txn) = self.await_packet(conn, &[(session, timeout)], &mut seen, |p, txn| {
            p.type_ == PacketType::Commit as i32 && txn.is_some_and(|t| t.contains("cxid=4 "))
        })?;
        println!(
            "NULL_AUTHINFO_CREATE {}",
            txn.as_deref().unwrap_or_default()
        );
        checks.check(
            txn.as_deref().is_some_and(|t| t.contains("op=Error")),
            "a REQUEST with null authinfo becomes an error txn on the Java leader (so ours send count 0)",
            txn.unwrap_or_default(),
        );

        let sync = SyncRequest { path: "/".into() };
        conn.write_packet(&request(2, OpCode::Sync, jute::to_bytes(&sync)))?;
        let (s, _) = self.await_packet(conn, &[(session, timeout)], &mut seen, |p, _| {
            p.type_ == PacketType::Sync as i32
        })?;
        checks.check(
            s.zxid == 0 && s.data.is_none(),
            "a forwarded sync is answered by SYNC (zxid 0, no data)",
            describe_packet(&s),
        );

        // Keep the session alive through one PING answered with its touch.
        self.await_packet(conn, &[(session, timeout)], &mut seen, |p, _| {
            p.type_ == PacketType::Ping as i32
        })?;
        conn.write_packet(&request(3, OpCode::CloseSession, Vec::new()))?;
        self.await_packet(conn, &[], &mut seen, committed("op=CloseSession"))?;
        checks.check(
            true,
            "a forwarded closeSession REQUEST is proposed and committed",
            "",
        );
        println!("FORWARD_SEQUENCE {}", compress(&seen));
        Ok(())
    }

    fn show(&self, p: &QuorumPacket, seq: &mut Vec<String>) {
        let name = PacketType::from_wire(p.type_).map_or("UNKNOWN", PacketType::name);
        seq.push(name.to_owned());
        println!("PACKET {}", describe_packet(p));
    }

    /// A PROPOSAL's data is the marshalled txn a log entry holds.
    fn show_txn(&self, p: &QuorumPacket) -> Result<(), String> {
        let data = p.data.as_deref().unwrap_or_default();
        match decode_txn(data) {
            Ok(t) => {
                let what = txn_summary(&t.body);
                println!(
                    "TXN zxid=0x{:x} session=0x{:x} cxid={} {what} digest={}",
                    t.header.zxid,
                    t.header.client_id,
                    t.header.cxid,
                    t.digest.is_some()
                );
                if t.header.zxid == p.zxid {
                    Ok(())
                } else {
                    Err(format!(
                        "PROPOSAL 0x{:x} holds a txn of zxid 0x{:x}",
                        p.zxid, t.header.zxid
                    ))
                }
            }
            Err(e) => Err(format!("PROPOSAL 0x{:x}: {e}", p.zxid)),
        }
    }

    /// Walks the SNAP stream to its end with [`SnapScanner`], then loads the
    /// body with FerroKeeper's snapshot reader (it reads files: the body goes
    /// behind a snapshot file header in a temp file).
    fn read_snap(&self, conn: &mut Conn, zxid: i64, checks: &mut Checks) -> Res<()> {
        let mut scanner = SnapScanner::new(self.limit);
        let end = loop {
            if let Some(end) = scanner.advance(&conn.buf).map_err(|e| e.to_string())? {
                break end;
            }
            conn.fill("the SNAP stream")?;
        };
        let body: Vec<u8> = conn.buf[..end.body_len].to_vec();
        conn.buf.drain(..end.stream_len);
        let (sessions, acls, nodes) = scanner.counts();
        println!(
            "SNAP_STREAM body={} bytes signature=BenWasHere sessions={sessions} acl_entries={acls} nodes={nodes}",
            end.body_len
        );
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join(format!("snapshot.{zxid:x}"));
        let mut file = Vec::with_capacity(16 + body.len());
        file.extend_from_slice(&SNAP_MAGIC.to_be_bytes());
        file.extend_from_slice(&2i32.to_be_bytes());
        file.extend_from_slice(&(-1i64).to_be_bytes());
        file.extend_from_slice(&body);
        std::fs::write(&path, &file).map_err(|e| e.to_string())?;
        let mut reader = SnapshotReader::open(&path).map_err(|e| e.to_string())?;
        let sess = reader.sessions().map_err(|e| e.to_string())?;
        let acl_cache = reader.acl_cache().map_err(|e| e.to_string())?;
        let mut paths = Vec::new();
        for node in reader.nodes() {
            let node = node.map_err(|e| e.to_string())?;
            paths.push(if node.path.is_empty() {
                "/".to_owned()
            } else {
                node.path
            });
        }
        println!("SNAP_PATHS {}", paths.join(","));
        checks.check(
            sess.len() as u64 == sessions
                && acl_cache.len() as u64 == acls
                && paths.len() as u64 == nodes,
            "the snapshot reader reads the SNAP body the scanner delimited, same counts",
            format!(
                "reader {} sessions {} acls {} nodes",
                sess.len(),
                acl_cache.len(),
                paths.len()
            ),
        );
        checks.check(
            paths.first().map(String::as_str) == Some("/")
                && paths.iter().any(|p| p == "/zookeeper"),
            "the SNAP body starts at the root and holds /zookeeper",
            paths.join(","),
        );
        Ok(())
    }
}

/// What a txn does, for the log: op, path and data.
fn txn_summary(body: &TxnBody) -> String {
    match body {
        TxnBody::Create(c) | TxnBody::Create2(c) => format!(
            "create path={} data={}",
            c.path,
            String::from_utf8_lossy(c.data.as_deref().unwrap_or_default())
        ),
        TxnBody::SetData(s) => format!(
            "setData path={} data={} version={}",
            s.path,
            String::from_utf8_lossy(s.data.as_deref().unwrap_or_default()),
            s.version
        ),
        TxnBody::Delete(d) => format!("delete path={}", d.path),
        TxnBody::Error(e) => format!("op=Error err={}", e.err),
        other => format!("op={:?}", other.op_code()),
    }
}

/// A PROPOSAL's data decoded with `decode_txn`, as one line.
fn describe_txn(data: &[u8]) -> String {
    match decode_txn(data) {
        Ok(t) => format!(
            "session=0x{:x} cxid={} {}",
            t.header.client_id,
            t.header.cxid,
            txn_summary(&t.body)
        ),
        Err(e) => format!("undecodable: {e}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `A,A,A,B` → `Ax3,B`, so long broadcast sequences stay readable.
fn compress(seq: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < seq.len() {
        let mut j = i;
        while j < seq.len() && seq[j] == seq[i] {
            j += 1;
        }
        out.push(if j - i > 1 {
            format!("{}x{}", seq[i], j - i)
        } else {
            seq[i].clone()
        });
        i = j;
    }
    out.join(",")
}

// ---- peers: follow the Java leader through quorum::peers and quorum::translate ----------

/// The next event from the transport, within 20 s.
async fn next_event(events: &mut mpsc::Receiver<PeerEvent>) -> Res<PeerEvent> {
    tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .map_err(|_| "no event from the leader within 20 s".to_owned())?
        .ok_or_else(|| "the transport's event channel closed".to_owned())
}

/// The next packet from the leader, decoded as a learner decodes it.
async fn next_inbound(events: &mut mpsc::Receiver<PeerEvent>) -> Res<Inbound> {
    match next_event(events).await? {
        PeerEvent::Packet { packet, .. } => {
            println!("PEERS_PACKET {}", describe_packet(&packet));
            packet_from_wire_at_learner(&packet).map_err(|e| e.to_string())
        }
        other => Err(format!("expected a packet, got {other:?}")),
    }
}

impl Probe {
    /// A fresh learner built from the member's pieces: `Peers` dials and
    /// frames, `translate` builds and reads every packet. Syncs (SNAP: the
    /// stream is loaded with `load_snap_sync`), runs a session of its own
    /// through the leader (REQUEST with an empty auth list), answers PINGs
    /// with the session's touch, closes the session.
    async fn peers(&self, leader: u64, checks: &mut Checks) -> Res<()> {
        let (host, qport, _) = self.election_address(leader)?;
        let leader_addr: std::net::SocketAddr = format!("{host}:{qport}")
            .parse()
            .map_err(|e| format!("server.{leader} quorum address: {e}"))?;
        let mut settings = PeerSettings::new(
            self.sid,
            None,
            ferrokeeper::quorum::peer_addresses::PeerAddresses::fixed(
                std::collections::BTreeMap::from([(leader, leader_addr)]),
            ),
        );
        settings.limit = self.limit;
        let (tx, mut events) = mpsc::channel(256);
        let peers = Peers::start(settings, tx).map_err(|e| e.to_string())?;
        let ctx = WireCtx {
            my_sid: self.sid,
            config_text: self.config_text()?,
            config_version: self.cfg.quorum.version,
        };
        let send = |p: ZabPacket| peers.send(leader, packet_to_wire(&p, &ctx));

        peers.connect_leader(leader);
        send(ZabPacket::FollowerInfo {
            zxid: Zxid::ZERO,
            sid: self.sid,
            protocol_version: ZAB_PROTOCOL_VERSION,
        });
        let connected = next_event(&mut events).await?;
        checks.check(
            connected == PeerEvent::Connected { sid: leader },
            "Peers dials the Java leader's quorum port",
            format!("{connected:?}"),
        );
        let info = next_inbound(&mut events).await?;
        let Inbound::Zab(ZabPacket::LeaderInfo {
            zxid: new_leader_zxid,
            protocol_version,
        }) = info
        else {
            return Err(format!("expected LEADERINFO, got {info:?}"));
        };
        checks.check(
            protocol_version == ZAB_PROTOCOL_VERSION,
            "translate reads Java's LEADERINFO (protocol 0x10000)",
            format!("0x{protocol_version:x}"),
        );
        send(ZabPacket::AckEpoch {
            zxid: Zxid::ZERO,
            current_epoch: 0,
        });
        let (snap_zxid, stream) = match next_event(&mut events).await? {
            PeerEvent::Snapshot { zxid, stream, .. } => (zxid, stream),
            other => {
                return Err(format!(
                    "expected a SNAP for a fresh learner, got {other:?}"
                ))
            }
        };
        let mut tree = DataTree::new(TreeConfig::default(), AclRef(-1));
        let mut sessions = Vec::new();
        let loaded = load_snap_sync(
            &stream[..],
            std::path::Path::new("SNAP stream from the Java leader"),
            Some(self.limit.0),
            &mut tree,
            &mut AclCache::new(),
            &mut sessions,
        );
        let (loaded, rest) = loaded.map_err(|e| e.to_string())?;
        println!(
            "PEERS_SNAPSHOT zxid=0x{snap_zxid:x} stream={} bytes nodes={} sessions={}",
            stream.len(),
            loaded.nodes,
            loaded.sessions
        );
        checks.check(
            rest.is_empty()
                && loaded.bytes == stream.len() as u64
                && tree.lookup("/zookeeper").is_some(),
            "Peers delivers Java's SNAP stream whole (signature included) and load_snap_sync loads it",
            format!("{} bytes, {} left", loaded.bytes, rest.len()),
        );
        let mut seen_new_leader = false;
        loop {
            match next_inbound(&mut events).await? {
                Inbound::Zab(ZabPacket::NewLeader { zxid }) => {
                    seen_new_leader = zxid == new_leader_zxid;
                    send(ZabPacket::Ack { zxid });
                }
                Inbound::Zab(ZabPacket::UpToDate) => break,
                Inbound::Zab(ZabPacket::Proposal { .. } | ZabPacket::Commit { .. }) => {}
                other => return Err(format!("unexpected during sync: {other:?}")),
            }
        }
        checks.check(
            seen_new_leader,
            "NEWLEADER (zxid newEpoch<<32) then UPTODATE through translate",
            format!("0x{:x}", new_leader_zxid.0),
        );
        send(ZabPacket::Ack {
            zxid: new_leader_zxid,
        });

        // A session of our own, forwarded as Java's learners forward it.
        let session = ((self.sid as i64) << 56) | 0x00be_ef00_0001;
        let timeout = 30_000;
        let request = |cxid: i32, op: OpCode, body: Vec<u8>| {
            let req = ForwardedRequest {
                session_id: session,
                cxid,
                op: op as i32,
                body,
            };
            peers.send(leader, request_to_wire(&req, &[]))
        };
        let mut pings = 0;
        let mut committed = Vec::new();
        let mut pending = Vec::new();
        request(0, OpCode::CreateSession, int_payload(timeout));
        let mut closing = false;
        let began = Instant::now();
        loop {
            match next_inbound(&mut events).await? {
                Inbound::Zab(ZabPacket::Proposal { txn }) => {
                    let line = describe_txn(&txn.data);
                    println!("PEERS_TXN zxid=0x{:x} {line}", txn.zxid.0);
                    pending.push((txn.zxid, line));
                    send(ZabPacket::Ack { zxid: txn.zxid });
                }
                Inbound::Zab(ZabPacket::Commit { zxid }) => {
                    if let Some(i) = pending.iter().position(|(z, _)| *z == zxid) {
                        committed.push(pending.remove(i).1);
                    }
                }
                Inbound::Zab(ZabPacket::Ping { zxid }) => {
                    pings += 1;
                    let touches: &[(i64, i32)] = if closing { &[] } else { &[(session, timeout)] };
                    peers.send(leader, ping_to_wire(zxid, touches));
                }
                other => return Err(format!("unexpected while broadcasting: {other:?}")),
            }
            let ours = |what: &str| {
                committed
                    .iter()
                    .any(|t| t.contains(&format!("session=0x{session:x}")) && t.contains(what))
            };
            if !closing && ours("op=CreateSession") && pings >= 2 {
                request(1, OpCode::CloseSession, Vec::new());
                closing = true;
            }
            if closing && ours("op=CloseSession") {
                break;
            }
            if began.elapsed() > Duration::from_secs(20) {
                return Err(format!("no closeSession commit within 20 s: {committed:?}"));
            }
        }
        checks.check(
            true,
            "a session forwarded through Peers (REQUEST, empty auth list) is created and closed, PINGs answered with its touch",
            format!("{pings} pings"),
        );
        let stats = peers.stats(leader).unwrap_or_default();
        println!(
            "PEERS_STATS packets={} writes={} bytes={}",
            stats.packets_queued, stats.writes, stats.bytes_written
        );
        peers.shutdown().await;
        Ok(())
    }
}

struct LearnOptions {
    leader: u64,
    /// After sync, act for a client of our own through the leader (REQUEST,
    /// REVALIDATE, sync, PING touches) before the broadcast phase.
    forward: bool,
    last_zxid: i64,
    accepted_epoch: i64,
    current_epoch: i64,
    commits: usize,
    timeout_s: u64,
}

fn parse_num(s: &str) -> Res<i64> {
    let r = match s.strip_prefix("0x") {
        Some(h) => i64::from_str_radix(h, 16),
        None => s.parse(),
    };
    r.map_err(|e| format!("bad number {s:?}: {e}"))
}

fn run(args: &[String]) -> Res<usize> {
    let usage =
        "usage: quorum_probe listen|elect|cnx|learn|peers ZOO_CFG ... (see the source's doc comment)";
    let (cmd, cfg) = match args {
        [cmd, cfg, ..] => (cmd.as_str(), cfg.as_str()),
        _ => return Err(usage.to_owned()),
    };
    let probe = Probe::load(cfg)?;
    let mut checks = Checks { failed: 0 };
    match cmd {
        "listen" => {
            let secs = args.get(2).map(|s| parse_num(s)).transpose()?.unwrap_or(60);
            probe.listen(secs.max(1) as u64, &mut checks)?;
        }
        "elect" => probe.elect(&mut checks)?,
        "peers" => {
            let leader = parse_num(args.get(2).ok_or(usage)?)? as u64;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("tokio runtime: {e}"))?;
            rt.block_on(probe.peers(leader, &mut checks))?;
        }
        "cnx" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("tokio runtime: {e}"))?;
            rt.block_on(probe.cnx(&mut checks))?;
        }
        "learn" => {
            let leader = parse_num(args.get(2).ok_or(usage)?)? as u64;
            let mut o = LearnOptions {
                leader,
                forward: false,
                last_zxid: 0,
                accepted_epoch: 0,
                current_epoch: 0,
                commits: 0,
                timeout_s: 60,
            };
            let mut rest = args[3..].iter();
            while let Some(flag) = rest.next() {
                if flag == "--forward" {
                    o.forward = true;
                    continue;
                }
                let v = parse_num(rest.next().ok_or_else(|| format!("{flag} needs a value"))?)?;
                match flag.as_str() {
                    "--last-zxid" => o.last_zxid = v,
                    "--accepted-epoch" => o.accepted_epoch = v,
                    "--current-epoch" => o.current_epoch = v,
                    "--commits" => o.commits = v.max(0) as usize,
                    "--timeout" => o.timeout_s = v.max(1) as u64,
                    _ => return Err(format!("unknown flag {flag}")),
                }
            }
            probe.learn(&o, &mut checks)?;
        }
        _ => return Err(usage.to_owned()),
    }
    Ok(checks.failed)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            println!("CHECK FAIL probe error: {e}");
            ExitCode::from(2)
        }
    }
}
