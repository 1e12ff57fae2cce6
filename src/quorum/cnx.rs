//! The election connection manager: `QuorumCnxManager`'s rules as a thin
//! tokio shell around [`wire`](super::wire)'s initial message and frames.
//!
//! - One connection per peer pair, and it is the one the larger sid dialed:
//!   a dialer to a larger sid sends its initial message and hangs up (the
//!   peer dials back); a receiver hangs up on a smaller sid and dials it.
//! - The initial message must arrive within the handshake timeout
//!   (`zookeeper.quorumCnxnTimeoutMs`, default tickTime × syncLimit); after
//!   that there is no read timeout. Frames of 1..512 KiB.
//! - Each peer has a one-slot send queue where the newest message wins, and
//!   a new connection resends the last message (Java's `lastMessageSent`),
//!   so a peer may see a message twice.
//! - A bad peer (garbage, an unknown sid, a timeout) closes only its own
//!   connection, with one log line saying why.
//!
//! What to send and what received votes mean is the election's business
//! (`src/zab/`); this module only moves frame payloads.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::peer_addresses::PeerAddresses;
use super::wire::{decode_election_frame, encode_election_frame, InitialMessage};

/// Settings of one member's election port.
#[derive(Debug, Clone)]
pub struct CnxSettings {
    pub my_sid: u64,
    /// The address announced in our initial message (our election address).
    pub my_address: SocketAddr,
    /// Election addresses of the other voters, looked up again before each
    /// dial; other sids are refused.
    pub peers: PeerAddresses,
    /// Dial timeout (`zookeeper.cnxTimeout`, 5 s).
    pub connect_timeout: Duration,
    /// Time for a dialer's initial message to arrive.
    pub handshake_timeout: Duration,
}

/// A frame payload from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub sid: u64,
    pub payload: Vec<u8>,
}

/// Who opened the live connection to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// We dialed (the peer has the smaller sid).
    Dialed,
    /// The peer dialed (it has the larger sid).
    Accepted,
}

struct PeerState {
    /// The one-slot, newest-wins send queue; `None` until the first send.
    outbox: watch::Sender<Option<Arc<Vec<u8>>>>,
    /// The live connection's tasks, if any.
    link: Option<Link>,
    /// Bumped per installed connection, so a dying one cannot remove its successor.
    generation: u64,
    /// A dial is under way (Java's `inprogressConnections`): no second one.
    dialing: bool,
}

struct Link {
    opened: Opened,
    tasks: [JoinHandle<()>; 2],
}

struct Inner {
    settings: CnxSettings,
    peers: Mutex<HashMap<u64, PeerState>>,
    inbox: mpsc::Sender<Received>,
}

/// Owns the election connections of one member. Dropping it does not stop
/// its tasks; call [`CnxManager::shutdown`].
#[derive(Clone)]
pub struct CnxManager {
    inner: Arc<Inner>,
    acceptor: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl CnxManager {
    /// Starts accepting on `listener` (already bound to our election port).
    /// Received payloads arrive on the returned channel.
    pub fn start(
        settings: CnxSettings,
        listener: TcpListener,
    ) -> (CnxManager, mpsc::Receiver<Received>) {
        let (inbox, received) = mpsc::channel(1024);
        let inner = Arc::new(Inner {
            settings,
            peers: Mutex::new(HashMap::new()),
            inbox,
        });
        let acceptor = tokio::spawn(accept_loop(inner.clone(), listener));
        let manager = CnxManager {
            inner,
            acceptor: Arc::new(Mutex::new(Some(acceptor))),
        };
        (manager, received)
    }

    /// Queues `payload` for `sid`, replacing anything not yet sent, and
    /// dials if there is no connection.
    pub fn send(&self, sid: u64, payload: Vec<u8>) {
        let connected = {
            let mut peers = lock(&self.inner.peers);
            let peer = peer_entry(&mut peers, sid);
            peer.outbox.send_replace(Some(Arc::new(payload)));
            peer.link.is_some()
        };
        if !connected {
            tokio::spawn(connect_one(self.inner.clone(), sid));
        }
    }

    /// Who opened the live connection to each connected peer.
    pub fn connections(&self) -> BTreeMap<u64, Opened> {
        lock(&self.inner.peers)
            .iter()
            .filter_map(|(sid, p)| p.link.as_ref().map(|l| (*sid, l.opened)))
            .collect()
    }

    /// Stops accepting, closes every connection and waits until their tasks
    /// (and so the listener and sockets) are gone.
    pub async fn shutdown(&self) {
        let mut tasks: Vec<JoinHandle<()>> = lock(&self.acceptor).take().into_iter().collect();
        for peer in lock(&self.inner.peers).values_mut() {
            if let Some(link) = peer.link.take() {
                tasks.extend(link.tasks);
            }
        }
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking task cannot leave the map half-updated in a way that matters here.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn peer_entry(peers: &mut HashMap<u64, PeerState>, sid: u64) -> &mut PeerState {
    peers.entry(sid).or_insert_with(|| PeerState {
        outbox: watch::channel(None).0,
        link: None,
        generation: 0,
        dialing: false,
    })
}

async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, from)) => {
                tokio::spawn(handle_incoming(inner.clone(), stream, from));
            }
            Err(e) => {
                tracing::warn!("election port accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads the dialer's initial message under the handshake timeout; also
/// returns what followed it (a dialer's first frame may share its segment).
async fn read_initial(
    stream: &mut TcpStream,
    timeout: Duration,
) -> Result<(InitialMessage, Vec<u8>), String> {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 512];
        loop {
            if let Some((m, used)) = InitialMessage::decode(&buf).map_err(|e| e.to_string())? {
                buf.drain(..used);
                return Ok((m, buf));
            }
            match stream.read(&mut chunk).await {
                Ok(0) => return Err("closed during the handshake".to_string()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => return Err(e.to_string()),
            }
        }
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| format!("no initial message within {timeout:?}"))?
}

async fn handle_incoming(inner: Arc<Inner>, mut stream: TcpStream, from: SocketAddr) {
    let (msg, early) = match read_initial(&mut stream, inner.settings.handshake_timeout).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!("closing election connection from {from}: {e}");
            return;
        }
    };
    let Some(sid) = u64::try_from(msg.sid)
        .ok()
        .filter(|s| inner.settings.peers.contains(*s))
    else {
        tracing::warn!(
            "closing election connection from {from}: sid {} is not a voter in our config",
            msg.sid
        );
        return;
    };
    if sid < inner.settings.my_sid {
        // The larger sid's dial survives: hang up and dial back. The peer evidently
        // thinks our link is down, so a link we still hold is dropped first (Java
        // finishes its SendWorker there too).
        tracing::debug!("election connection from smaller sid {sid}: dialing back");
        drop(stream);
        if let Some(link) = lock(&inner.peers).get_mut(&sid).and_then(|p| p.link.take()) {
            link.tasks.iter().for_each(JoinHandle::abort);
        }
        connect_one(inner, sid).await;
        return;
    }
    install(&inner, sid, stream, Opened::Accepted, early);
}

async fn connect_one(inner: Arc<Inner>, sid: u64) {
    {
        let mut peers = lock(&inner.peers);
        let peer = peer_entry(&mut peers, sid);
        if peer.link.is_some() || peer.dialing {
            return;
        }
        peer.dialing = true;
    }
    let outcome = dial(&inner, sid).await;
    let mut peers = lock(&inner.peers);
    let peer = peer_entry(&mut peers, sid);
    peer.dialing = false;
    if let Some((stream, opened)) = outcome {
        drop(peers);
        install(&inner, sid, stream, opened, Vec::new());
    }
}

/// Opens a connection to `sid` and sends our initial message; returns it
/// if it is to be kept (the peer has the smaller sid).
async fn dial(inner: &Inner, sid: u64) -> Option<(TcpStream, Opened)> {
    // Java's connectOne(sid) re-resolves the peer's name before each attempt:
    // a restarted container may be back on another IP.
    let addr = inner.settings.peers.refresh(sid).await.or_else(|| {
        tracing::warn!("no election address for sid {sid}");
        None
    })?;
    let connect = TcpStream::connect(addr);
    let mut stream = match tokio::time::timeout(inner.settings.connect_timeout, connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!("cannot open election connection to sid {sid} at {addr}: {e}");
            return None;
        }
        Err(_) => {
            tracing::debug!("election connection to sid {sid} at {addr} timed out");
            return None;
        }
    };
    let _ = stream.set_nodelay(true);
    let me = &inner.settings;
    let hello = InitialMessage::v1(
        i64::try_from(me.my_sid).unwrap_or(i64::MAX),
        &me.my_address.ip().to_string(),
        me.my_address.port(),
    );
    if let Err(e) = stream.write_all(&hello.encode()).await {
        tracing::debug!("election handshake to sid {sid} failed: {e}");
        return None;
    }
    // A dial to a larger sid does not survive: it hangs up on us and dials back.
    (sid < me.my_sid).then_some((stream, Opened::Dialed))
}

/// Makes `stream` the one connection to `sid`, replacing any other, and
/// starts its sender (resending the last message) and receiver (starting
/// with `early`, bytes that arrived with the initial message).
fn install(inner: &Arc<Inner>, sid: u64, stream: TcpStream, opened: Opened, early: Vec<u8>) {
    let (reader, writer) = stream.into_split();
    let mut peers = lock(&inner.peers);
    let peer = peer_entry(&mut peers, sid);
    if let Some(old) = peer.link.take() {
        old.tasks.iter().for_each(JoinHandle::abort);
    }
    peer.generation += 1;
    let generation = peer.generation;
    let mut outbox = peer.outbox.subscribe();
    // A new connection sends the last message again, even if it went out before.
    outbox.mark_changed();
    let sender = tokio::spawn(send_loop(inner.clone(), sid, generation, writer, outbox));
    let receiver = tokio::spawn(recv_loop(inner.clone(), sid, generation, reader, early));
    peer.link = Some(Link {
        opened,
        tasks: [sender, receiver],
    });
}

/// Forgets the connection of `generation` (if still current) after it failed.
fn drop_link(inner: &Inner, sid: u64, generation: u64) {
    let mut peers = lock(&inner.peers);
    if let Some(peer) = peers.get_mut(&sid) {
        if peer.generation == generation {
            if let Some(link) = peer.link.take() {
                link.tasks.iter().for_each(JoinHandle::abort);
            }
        }
    }
}

async fn send_loop(
    inner: Arc<Inner>,
    sid: u64,
    generation: u64,
    mut writer: tokio::net::tcp::OwnedWriteHalf,
    mut outbox: watch::Receiver<Option<Arc<Vec<u8>>>>,
) {
    while outbox.changed().await.is_ok() {
        let Some(payload) = outbox.borrow_and_update().clone() else {
            continue;
        };
        if let Err(e) = writer.write_all(&encode_election_frame(&payload)).await {
            tracing::info!("election connection to sid {sid} lost while sending: {e}");
            break;
        }
    }
    drop_link(&inner, sid, generation);
}

async fn recv_loop(
    inner: Arc<Inner>,
    sid: u64,
    generation: u64,
    mut reader: tokio::net::tcp::OwnedReadHalf,
    mut buf: Vec<u8>,
) {
    let mut chunk = vec![0u8; 64 * 1024];
    let why: String = 'conn: loop {
        loop {
            match decode_election_frame(&buf) {
                Ok(Some((payload, used))) => {
                    let received = Received {
                        sid,
                        payload: payload.to_vec(),
                    };
                    buf.drain(..used);
                    if inner.inbox.send(received).await.is_err() {
                        break 'conn "the election stopped listening".to_string();
                    }
                }
                Ok(None) => break,
                Err(e) => break 'conn format!("bad frame: {e}"),
            }
        }
        match reader.read(&mut chunk).await {
            Ok(0) => break "closed by the peer".to_string(),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => break e.to_string(),
        }
    };
    tracing::info!("closing election connection to sid {sid}: {why}");
    drop_link(&inner, sid, generation);
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn members(sids: &[u64]) -> Vec<(CnxManager, mpsc::Receiver<Received>)> {
        let mut listeners = Vec::new();
        let mut addrs = BTreeMap::new();
        for &sid in sids {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.insert(sid, l.local_addr().unwrap());
            listeners.push((sid, l));
        }
        listeners
            .into_iter()
            .map(|(sid, l)| {
                let settings = CnxSettings {
                    my_sid: sid,
                    my_address: addrs[&sid],
                    peers: PeerAddresses::fixed(
                        addrs
                            .iter()
                            .filter(|(s, _)| **s != sid)
                            .map(|(s, a)| (*s, *a))
                            .collect(),
                    ),
                    connect_timeout: Duration::from_secs(5),
                    handshake_timeout: Duration::from_secs(2),
                };
                CnxManager::start(settings, l)
            })
            .collect()
    }

    async fn next(rx: &mut mpsc::Receiver<Received>) -> Received {
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a message within 10 s")
            .expect("channel open")
    }

    #[tokio::test]
    async fn the_larger_sids_dial_survives_whoever_dials_first() {
        let mut m = members(&[1, 2]).await;
        let (m2, mut rx2) = m.pop().unwrap();
        let (m1, mut rx1) = m.pop().unwrap();
        // The smaller sid speaks first: its dial is dropped and 2 dials back.
        m1.send(2, b"from 1".to_vec());
        assert_eq!(
            next(&mut rx2).await,
            Received {
                sid: 1,
                payload: b"from 1".to_vec()
            }
        );
        m2.send(1, b"from 2".to_vec());
        assert_eq!(
            next(&mut rx1).await,
            Received {
                sid: 2,
                payload: b"from 2".to_vec()
            }
        );
        assert_eq!(m1.connections(), BTreeMap::from([(2, Opened::Accepted)]));
        assert_eq!(m2.connections(), BTreeMap::from([(1, Opened::Dialed)]));
        m1.shutdown().await;
        m2.shutdown().await;
    }

    #[tokio::test]
    async fn newest_message_wins_and_is_resent_on_a_new_connection() {
        let mut m = members(&[5, 9]).await;
        let (m9, mut rx9) = m.pop().unwrap();
        let (m5, _rx5) = m.pop().unwrap();
        // Three sends before any connection exists: only the last is delivered.
        for i in 0..3u8 {
            m5.send(9, vec![i]);
        }
        assert_eq!(next(&mut rx9).await.payload, vec![2]);
        // A replacement connection (9 dials again after losing its link) gets the last
        // message resent by 5: Java's lastMessageSent.
        m9.shutdown().await;
        let (m9b, mut rx9b) = {
            let l = TcpListener::bind(m9.inner.settings.my_address)
                .await
                .unwrap();
            CnxManager::start(m9.inner.settings.clone(), l)
        };
        m9b.send(5, b"hello again".to_vec());
        assert_eq!(
            next(&mut rx9b).await,
            Received {
                sid: 5,
                payload: vec![2]
            }
        );
        m5.shutdown().await;
        m9b.shutdown().await;
    }

    #[tokio::test]
    async fn a_peer_back_on_another_ip_is_dialed_there_after_its_name_is_looked_up_again() {
        use crate::quorum::peer_addresses::{test_resolver::Table, PeerAddresses};
        // sid 2 ("two.test") first on 127.0.0.2, later on 127.0.0.3 with the same port.
        let l1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let l2 = TcpListener::bind("127.0.0.2:0").await.unwrap();
        let (a1, a2) = (l1.local_addr().unwrap(), l2.local_addr().unwrap());
        let moved = SocketAddr::new("127.0.0.3".parse().unwrap(), a2.port());
        let names = Arc::new(Table::default());
        names.set("two.test", Some(&["127.0.0.2"]));
        let one = CnxSettings {
            my_sid: 1,
            my_address: a1,
            peers: PeerAddresses::resolving(
                "election",
                [(2, "two.test".to_owned(), a2)],
                names.resolver(),
                Duration::from_secs(2),
            ),
            connect_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(2),
        };
        let two = |my_address| CnxSettings {
            my_sid: 2,
            my_address,
            peers: PeerAddresses::fixed(BTreeMap::from([(1, a1)])),
            connect_timeout: Duration::from_secs(5),
            handshake_timeout: Duration::from_secs(2),
        };
        let (m1, _rx1) = CnxManager::start(one, l1);
        let (m2, mut rx2) = CnxManager::start(two(a2), l2);
        // 1 dials 2 (and 2 dials back, the larger sid's connection surviving).
        m1.send(2, b"first".to_vec());
        assert_eq!(next(&mut rx2).await.payload, b"first");
        m2.shutdown().await;
        let l2b = TcpListener::bind(moved).await.unwrap();
        names.set("two.test", Some(&["127.0.0.3"]));
        let (m2b, mut rx2b) = CnxManager::start(two(moved), l2b);
        // The restarted 2 says nothing first: only 1's dial can reach it, and only at
        // its new address (nothing listens on the old one).
        // 1 notices its old link closed (it has no event for that: poll, bounded).
        for _ in 0..500 {
            if m1.connections().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(m1.connections().is_empty(), "the old link is gone");
        let lookups = names.lookups.load(std::sync::atomic::Ordering::SeqCst);
        m1.send(2, b"again".to_vec());
        assert_eq!(
            next(&mut rx2b).await,
            Received {
                sid: 1,
                payload: b"again".to_vec()
            }
        );
        assert!(names.lookups.load(std::sync::atomic::Ordering::SeqCst) > lookups);
        m1.shutdown().await;
        m2b.shutdown().await;
    }

    #[tokio::test]
    async fn a_bad_peer_loses_only_its_own_connection() {
        let mut m = members(&[1, 2, 3]).await;
        let (m3, _rx3) = m.pop().unwrap();
        let (m2, mut rx2) = m.pop().unwrap();
        let (m1, _rx1) = m.pop().unwrap();
        m3.shutdown().await; // its sid is ours to impersonate below
        let addr2 = m2.inner.settings.my_address;
        // Garbage first message, an unknown sid, a silent peer, and a voter (sid 3)
        // whose first frame claims 600 KiB: each is closed, without a word.
        let mut garbage = TcpStream::connect(addr2).await.unwrap();
        garbage.write_all(&(-3i64).to_be_bytes()).await.unwrap();
        let mut stranger = TcpStream::connect(addr2).await.unwrap();
        stranger
            .write_all(&InitialMessage::v1(77, "127.0.0.1", 1).encode())
            .await
            .unwrap();
        let silent = TcpStream::connect(addr2).await.unwrap();
        let mut oversized = TcpStream::connect(addr2).await.unwrap();
        let mut hello = InitialMessage::v1(3, "127.0.0.1", 1).encode();
        hello.extend_from_slice(&(600 * 1024i32).to_be_bytes());
        oversized.write_all(&hello).await.unwrap();
        for mut s in [garbage, stranger, silent, oversized] {
            let mut b = [0u8; 1];
            let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut b))
                .await
                .expect("closed within the handshake timeout")
                .unwrap_or(0);
            assert_eq!(n, 0, "the server hangs up without a word");
        }
        // The good peer is unaffected.
        m1.send(2, b"fine".to_vec());
        assert_eq!(
            next(&mut rx2).await,
            Received {
                sid: 1,
                payload: b"fine".to_vec()
            }
        );
        m1.shutdown().await;
        m2.shutdown().await;
    }
}
