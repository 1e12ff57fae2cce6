//! The quorum port's transport: the leader–learner connections, as a thin
//! tokio shell that moves [`QuorumPacket`]s (what they mean is the ZAB
//! machine's business, [`crate::zab`], through [`super::translate`]).
//!
//! - **Leader side.** The quorum port is bound at [`Peers::start`] when
//!   `quorum_listen` is set (Java binds it only while leading; binding at
//!   start means a member that may lead owns its port from the beginning;
//!   a FOLLOWERINFO reaching a member that does not lead is the member's to
//!   refuse with [`Peers::disconnect`]). A learner's first packet must be
//!   FOLLOWERINFO or OBSERVERINFO naming another member of our config (within
//!   `handshake_timeout`; whether that sid may follow or observe is the
//!   machine's to check); anything else is closed with one log line. A
//!   second connection from the same sid replaces the first, as a new
//!   `LearnerHandler` does: the events say `Disconnected` for the old one,
//!   then the new FOLLOWERINFO.
//! - **Learner side.** [`Peers::connect_leader`] dials with Java's retries
//!   (`Learner.connectToLeader`: 5 tries, 100 ms apart) and closes any
//!   previous leader connection. Packets sent meanwhile wait in the new
//!   connection's outbox, so FOLLOWERINFO can be sent right after the call.
//!   After a SNAP packet the reader walks the unframed database stream with
//!   [`SnapScanner`](super::wire::SnapScanner) and delivers it whole.
//! - **Every connection** has a writer task draining an outbox (a burst of
//!   packets queued between two of its turns goes out in one write) and a
//!   reader task decoding packets under the configured limit. EOF, an I/O
//!   error, a read timeout or bytes that do not decode close that one
//!   connection, with one log line and a `Disconnected` event.
//!   [`Peers::disconnect`] closes without an event (the caller knows).

mod link;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use link::LinkStats;
use link::{read_loop, write_loop, Outbox, ReadEnd, ReadRules};

use super::peer_addresses::PeerAddresses;
use super::wire::packet::PacketType;
use super::wire::payload::LearnerInfoFields;
use super::wire::{decode_quorum_packet, describe_packet, PacketLimit, QuorumPacket};

/// Settings of one member's quorum connections.
#[derive(Debug, Clone)]
pub struct PeerSettings {
    pub my_sid: u64,
    /// Where learners reach us; bound at start. `None` for a member that
    /// never leads.
    pub quorum_listen: Option<SocketAddr>,
    /// Quorum addresses of the other members (voters and observers). Learners with other sids are
    /// refused; `connect_leader` dials these, looking the name up again
    /// before each try.
    pub peers: PeerAddresses,
    /// Largest buffer a packet may announce (`jute.maxbuffer` + extra).
    pub limit: PacketLimit,
    /// Largest SNAP stream a learner accepts; a longer one closes the connection.
    pub max_snapshot: usize,
    /// Per dial attempt.
    pub connect_timeout: Duration,
    pub connect_tries: u32,
    pub connect_retry_delay: Duration,
    /// Time an accepted connection has to send FOLLOWERINFO.
    pub handshake_timeout: Duration,
    /// Close a connection that sends nothing for this long. `None`: the
    /// machine's own initLimit/syncLimit ticks decide (it then disconnects).
    pub read_timeout: Option<Duration>,
}

impl PeerSettings {
    /// Java's defaults: packets up to `jute.maxbuffer` + extra, dials of 5
    /// tries 100 ms apart, 5 s per try; snapshots up to 1 GiB.
    pub fn new(my_sid: u64, quorum_listen: Option<SocketAddr>, peers: PeerAddresses) -> Self {
        PeerSettings {
            my_sid,
            quorum_listen,
            peers,
            limit: PacketLimit::default(),
            max_snapshot: 1 << 30,
            connect_timeout: Duration::from_secs(5),
            connect_tries: 5,
            connect_retry_delay: Duration::from_millis(100),
            handshake_timeout: Duration::from_secs(20),
            read_timeout: None,
        }
    }
}

/// What the connections report, in order per connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A packet from `sid` (on the leader, FOLLOWERINFO is the first).
    Packet { sid: u64, packet: QuorumPacket },
    /// Learner side: a SNAP packet from the leader and the stream after it,
    /// whole — the snapshot body and its `BenWasHere` signature, as
    /// `persist::snapshot::load_snap_sync` reads it.
    Snapshot { sid: u64, zxid: i64, stream: Bytes },
    /// Learner side: the dial to the leader succeeded.
    Connected { sid: u64 },
    /// The connection to `sid` is gone (or, learner side, could not be made).
    Disconnected { sid: u64 },
}

/// A member's quorum connections. Cloning gives another handle to the same
/// connections. Dropping the handles does not stop the tasks; call
/// [`Peers::shutdown`].
#[derive(Clone)]
pub struct Peers {
    inner: Arc<Inner>,
}

struct Inner {
    settings: PeerSettings,
    events: mpsc::Sender<PeerEvent>,
    listening: Option<SocketAddr>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    links: HashMap<u64, Link>,
    /// Bumped per connection, so a dying one cannot remove its successor.
    generation: u64,
    /// The leader we dial or are connected to.
    leader: Option<u64>,
    dial: Option<JoinHandle<()>>,
    acceptor: Option<JoinHandle<()>>,
    /// Set by `shutdown`: a handshake still under way must not install a link.
    stopped: bool,
}

struct Link {
    generation: u64,
    outbox: Arc<Outbox>,
    /// Reader, writer; empty while the dial is under way.
    tasks: Vec<JoinHandle<()>>,
}

impl Link {
    fn abort(&self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

const READER: usize = 0;
const WRITER: usize = 1;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves the map consistent; a panic elsewhere cannot matter.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Peers {
    /// Binds the quorum port (if `quorum_listen` is set) and starts
    /// accepting learners. Must run inside a tokio runtime.
    pub fn start(settings: PeerSettings, events: mpsc::Sender<PeerEvent>) -> io::Result<Peers> {
        let listener = match settings.quorum_listen {
            Some(addr) => {
                let l = std::net::TcpListener::bind(addr).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot bind the quorum port {addr}: {e}"))
                })?;
                l.set_nonblocking(true)?;
                Some(TcpListener::from_std(l)?)
            }
            None => None,
        };
        let listening = listener.as_ref().map(TcpListener::local_addr).transpose()?;
        let inner = Arc::new(Inner {
            settings,
            events,
            listening,
            state: Mutex::new(State::default()),
        });
        if let Some(l) = listener {
            let acceptor = tokio::spawn(accept_loop(inner.clone(), l));
            lock(&inner.state).acceptor = Some(acceptor);
        }
        Ok(Peers { inner })
    }

    /// The bound quorum port (with the real port when 0 was asked for).
    pub fn listening_addr(&self) -> Option<SocketAddr> {
        self.inner.listening
    }

    /// Learner side: dials `leader`'s quorum address in the background,
    /// closing any previous leader connection. `Connected` follows on
    /// success, `Disconnected` once every try failed. Packets sent to
    /// `leader` from now on are queued and go out once connected.
    pub fn connect_leader(&self, leader: u64) {
        let mut st = lock(&self.inner.state);
        if st.stopped {
            return;
        }
        if let Some(dial) = st.dial.take() {
            dial.abort();
        }
        if let Some(old) = st.leader.take() {
            if let Some(link) = st.links.remove(&old) {
                link.abort();
            }
        }
        if let Some(link) = st.links.remove(&leader) {
            link.abort();
        }
        st.generation += 1;
        let generation = st.generation;
        st.links.insert(
            leader,
            Link {
                generation,
                outbox: Arc::default(),
                tasks: Vec::new(),
            },
        );
        st.leader = Some(leader);
        st.dial = Some(tokio::spawn(dial_leader(
            self.inner.clone(),
            leader,
            generation,
        )));
    }

    /// Queues `packet` for `to`; false if there is no connection to it (the
    /// packet is dropped, as Java's are with their connection).
    pub fn send(&self, to: u64, packet: QuorumPacket) -> bool {
        match lock(&self.inner.state).links.get(&to) {
            Some(link) => {
                link.outbox.push(&packet);
                true
            }
            None => {
                tracing::debug!(
                    "no quorum connection to sid {to}; dropped {}",
                    describe_packet(&packet)
                );
                false
            }
        }
    }

    /// Queues a SNAP packet and, with nothing between, the serialized
    /// database (`persist::snapshot::write_snap_sync`'s output).
    pub fn send_snapshot(&self, to: u64, snap_packet: QuorumPacket, stream: Bytes) -> bool {
        match lock(&self.inner.state).links.get(&to) {
            Some(link) => {
                link.outbox.push_with_stream(&snap_packet, stream);
                true
            }
            None => {
                tracing::debug!("no quorum connection to sid {to}; dropped a SNAP");
                false
            }
        }
    }

    /// Closes the connection to `sid` (or stops dialing it). Queued packets
    /// are dropped; no `Disconnected` event follows.
    pub fn disconnect(&self, sid: u64) {
        let mut st = lock(&self.inner.state);
        if let Some(link) = st.links.remove(&sid) {
            link.abort();
        }
        if st.leader == Some(sid) {
            st.leader = None;
            if let Some(dial) = st.dial.take() {
                dial.abort();
            }
        }
    }

    /// Counters of the connection to `sid`, if there is one.
    pub fn stats(&self, sid: u64) -> Option<LinkStats> {
        lock(&self.inner.state)
            .links
            .get(&sid)
            .map(|l| l.outbox.stats())
    }

    /// Sids with a connection (or, for the leader we dial, one being made).
    pub fn connected(&self) -> Vec<u64> {
        let mut sids: Vec<u64> = lock(&self.inner.state).links.keys().copied().collect();
        sids.sort_unstable();
        sids
    }

    /// Stops accepting and dialing, closes every connection and waits until
    /// their tasks (and so the listener and sockets) are gone.
    pub async fn shutdown(&self) {
        let tasks: Vec<JoinHandle<()>> = {
            let mut st = lock(&self.inner.state);
            st.stopped = true;
            let mut tasks: Vec<_> = st.acceptor.take().into_iter().collect();
            tasks.extend(st.dial.take());
            st.leader = None;
            for (_, link) in st.links.drain() {
                tasks.extend(link.tasks);
            }
            tasks
        };
        for t in &tasks {
            t.abort();
        }
        for t in tasks {
            let _ = t.await;
        }
    }
}

async fn dial_leader(inner: Arc<Inner>, leader: u64, generation: u64) {
    let outcome = dial(&inner.settings, leader).await;
    match outcome {
        Ok(stream) => {
            let mut st = lock(&inner.state);
            let Some(link) = st
                .links
                .get_mut(&leader)
                .filter(|l| l.generation == generation)
            else {
                return; // disconnected or superseded meanwhile
            };
            link.tasks = start_tasks(
                &inner,
                leader,
                generation,
                link.outbox.clone(),
                stream,
                BytesMut::new(),
                true,
                vec![PeerEvent::Connected { sid: leader }],
            );
        }
        Err(why) => {
            if forget(&inner, leader, generation, None) {
                tracing::warn!("cannot connect to the leader, sid {leader}: {why}");
                let _ = inner
                    .events
                    .send(PeerEvent::Disconnected { sid: leader })
                    .await;
            }
        }
    }
}

/// `Learner.connectToLeader`'s loop: `connect_tries` attempts,
/// `connect_retry_delay` apart, each bounded by `connect_timeout`. The
/// leader's name is looked up again before each try (Java's
/// `Learner.findLeader` does it once before the loop; a try after a failed
/// one is as good a moment, and a leader whose container moved is found).
async fn dial(s: &PeerSettings, leader: u64) -> Result<TcpStream, String> {
    let tries = s.connect_tries.max(1);
    let mut last = String::new();
    for attempt in 1..=tries {
        let addr = s
            .peers
            .refresh(leader)
            .await
            .ok_or_else(|| format!("sid {leader} has no quorum address in our config"))?;
        match tokio::time::timeout(s.connect_timeout, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => last = format!("{addr}: no answer within {:?}", s.connect_timeout),
        }
        tracing::debug!("quorum dial {attempt}/{tries} failed: {last}");
        if attempt < tries {
            tokio::time::sleep(s.connect_retry_delay).await;
        }
    }
    Err(format!("{tries} tries failed, the last: {last}"))
}

/// Removes the connection of `generation` to `sid` if it is still the
/// current one, aborting its task `other` (never the caller's own). True if
/// it was current: the caller reports it.
fn forget(inner: &Inner, sid: u64, generation: u64, other: Option<usize>) -> bool {
    let mut st = lock(&inner.state);
    match st.links.get(&sid) {
        Some(link) if link.generation == generation => {}
        _ => return false,
    }
    if let Some(link) = st.links.remove(&sid) {
        if let Some(task) = other.and_then(|i| link.tasks.get(i)) {
            task.abort();
        }
    }
    if st.leader == Some(sid) {
        st.leader = None;
    }
    true
}

/// A connection ended (`who` noticed): forget it and report it once.
async fn closed(inner: &Inner, sid: u64, generation: u64, why: &str, who: usize) {
    let other = if who == READER { WRITER } else { READER };
    if forget(inner, sid, generation, Some(other)) {
        tracing::info!("closing quorum connection to sid {sid}: {why}");
        let _ = inner.events.send(PeerEvent::Disconnected { sid }).await;
    } else {
        tracing::debug!("an old quorum connection to sid {sid} ended: {why}");
    }
}

/// Starts the reader (emitting `preamble` first) and writer of a connection.
#[allow(clippy::too_many_arguments)]
fn start_tasks(
    inner: &Arc<Inner>,
    sid: u64,
    generation: u64,
    outbox: Arc<Outbox>,
    stream: TcpStream,
    early: BytesMut,
    snapshots: bool,
    preamble: Vec<PeerEvent>,
) -> Vec<JoinHandle<()>> {
    let (reader, writer) = stream.into_split();
    let s = &inner.settings;
    let rules = ReadRules {
        limit: s.limit,
        snapshots,
        max_snapshot: s.max_snapshot,
        read_timeout: s.read_timeout,
    };
    let reading = {
        let inner = inner.clone();
        async move {
            let events = inner.events.clone();
            match read_loop(sid, reader, early, rules, preamble, events).await {
                ReadEnd::Closed(why) => closed(&inner, sid, generation, &why, READER).await,
                ReadEnd::Unheard => {
                    forget(&inner, sid, generation, Some(WRITER));
                }
            }
        }
    };
    let writing = {
        let inner = inner.clone();
        async move {
            let why = write_loop(outbox, writer).await;
            closed(&inner, sid, generation, &why, WRITER).await;
        }
    };
    // Index order: READER, WRITER.
    vec![tokio::spawn(reading), tokio::spawn(writing)]
}

async fn accept_loop(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, from)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(admit_learner(inner.clone(), stream, from));
            }
            Err(e) => {
                tracing::warn!("quorum port accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads the first packet of an accepted connection.
async fn read_first(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    limit: PacketLimit,
) -> Result<QuorumPacket, String> {
    loop {
        match decode_quorum_packet(buf, limit) {
            Ok(Some((p, used))) => {
                let _ = buf.split_to(used);
                return Ok(p);
            }
            Ok(None) => {}
            Err(e) => return Err(format!("bad first packet: {e}")),
        }
        buf.reserve(4096);
        match stream.read_buf(buf).await {
            Ok(0) => return Err("closed before FOLLOWERINFO".into()),
            Ok(_) => {}
            Err(e) => return Err(format!("read failed: {e}")),
        }
    }
}

/// A learner's connection: FOLLOWERINFO from a voter, or closed.
async fn admit_learner(inner: Arc<Inner>, mut stream: TcpStream, from: SocketAddr) {
    let s = &inner.settings;
    let mut buf = BytesMut::new();
    let first = tokio::time::timeout(
        s.handshake_timeout,
        read_first(&mut stream, &mut buf, s.limit),
    )
    .await
    .unwrap_or_else(|_| Err(format!("no FOLLOWERINFO within {:?}", s.handshake_timeout)));
    let first = match first {
        Ok(p) => p,
        Err(why) => {
            tracing::warn!("closing quorum connection from {from}: {why}");
            return;
        }
    };
    match PacketType::from_wire(first.type_) {
        Some(PacketType::FollowerInfo | PacketType::ObserverInfo) => {}
        _ => {
            tracing::warn!(
                "closing quorum connection from {from}: the first packet is {}, not FOLLOWERINFO or OBSERVERINFO",
                describe_packet(&first)
            );
            return;
        }
    }
    let named = LearnerInfoFields::decode(first.data.as_deref()).sid;
    let Some(sid) = named
        .and_then(|sid| u64::try_from(sid).ok())
        .filter(|sid| s.peers.contains(*sid) && *sid != s.my_sid)
    else {
        tracing::warn!(
            "closing quorum connection from {from}: {} names sid {}, not another member of our config",
            describe_packet(&first),
            named.map_or_else(|| "(none)".to_owned(), |sid| sid.to_string())
        );
        return;
    };
    let mut st = lock(&inner.state);
    if st.stopped {
        return;
    }
    let mut preamble = Vec::new();
    if let Some(old) = st.links.remove(&sid) {
        old.abort();
        if st.leader == Some(sid) {
            st.leader = None;
            if let Some(dial) = st.dial.take() {
                dial.abort();
            }
        }
        tracing::info!(
            "sid {sid} connected again from {from}: its older quorum connection is closed"
        );
        preamble.push(PeerEvent::Disconnected { sid });
    }
    preamble.push(PeerEvent::Packet { sid, packet: first });
    st.generation += 1;
    let generation = st.generation;
    let outbox: Arc<Outbox> = Arc::default();
    let tasks = start_tasks(
        &inner,
        sid,
        generation,
        outbox.clone(),
        stream,
        buf,
        false,
        preamble,
    );
    st.links.insert(
        sid,
        Link {
            generation,
            outbox,
            tasks,
        },
    );
}
