//! One client connection: framing in, the handshake, requests to the core,
//! and the writer that drains the connection's [`Outbox`].
//!
//! A frame is a 4-byte big-endian length and that many bytes. A length that
//! is negative or over jute.maxbuffer closes this connection only; so does a
//! frame too short for its header. Everything else about a bad request is
//! answered with an error code by the pipeline, as ZooKeeper answers it.
//! Replies are not checked against jute.maxbuffer: ZooKeeper 3.8.0 sends
//! them whole, and the client decides.
//!
//! Limits applied here: until its ConnectRequest is complete a connection
//! lives only while bytes keep arriving (`sessionless_timeout`); the
//! connection throttle is asked once per handshake; before each request is
//! read the connection waits for [`Outbox::may_read`]; each request passes
//! the request throttler ([`ServerLoad::admit`]), and one that waited there
//! past `throttled_op_wait_time` goes to the core as [`ClientOp::Throttled`];
//! a frame over `largeRequestThreshold` is checked against
//! `largeRequestMaxBytes` when its length is read and takes its bytes once
//! it is whole (a refusal closes the connection, as ZooKeeper's
//! IOException "Rejecting large request" does); and a closing connection
//! has `flush_grace` to flush before its socket is closed regardless.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use jute::consts::OpCode;
use jute::proto::ConnectRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::blue_throttle::{BlueThrottle, BlueThrottleConfig, Handshake};
use super::four_letter::{self, TELNET_CLOSE};
use super::load::{Admission, LargeRequestLimit, RequestThrottleConfig, ServerLoad};
use super::outbox::{Outbox, DEFAULT_OUTBOX_LIMIT};
use crate::admin::java_fmt::JavaSocketAddr;
use crate::pipeline::{AdminRequest, ClientOp, ConnectMsg, CoreMsg};

/// xid of notifications; a request carrying it is not counted in process,
/// since its reply (xid -1 too) cannot be told from a notification.
const NOTIFICATION_XID: i32 = -1;

/// Per-connection limits from the configuration.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// jute.maxbuffer: the largest frame accepted.
    pub max_frame: usize,
    /// maxClientCnxns: connections per client IP, 0 for no limit.
    pub max_client_cnxns: u32,
    /// `zookeeper.maxCnxns`: connections in all, 0 for no limit.
    pub max_cnxns: u32,
    /// `zookeeper.nio.sessionlessCnxnTimeout`: a connection that has not
    /// completed its ConnectRequest is closed after this long without
    /// receiving anything (ZooKeeper's connection expiry queue, touched on
    /// every read).
    pub sessionless_timeout: Duration,
    /// Reply bytes queued on one connection beyond which it stops reading.
    pub outbox_limit: usize,
    /// `globalOutstandingLimit`.
    pub global_outstanding_limit: i64,
    /// `zookeeper.request_throttle_*` and `zookeeper.throttled_op_wait_time`.
    pub request_throttle: RequestThrottleConfig,
    /// `zookeeper.largeRequestThreshold` / `zookeeper.largeRequestMaxBytes`.
    pub large_requests: LargeRequestLimit,
    /// `zookeeper.connection_throttle_*`.
    pub connection_throttle: BlueThrottleConfig,
    /// minSessionTimeout and maxSessionTimeout, ms: how a session's timeout
    /// is negotiated (for `request_stale_latency_check`).
    pub session_timeout_bounds: (i32, i32),
    /// How long a closing connection may take to flush what it has queued
    /// before its socket is closed regardless (a peer that stopped reading
    /// must not hold the socket and its buffers forever).
    pub flush_grace: Duration,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            max_frame: 0xfffff,
            max_client_cnxns: 60,
            max_cnxns: 0,
            sessionless_timeout: Duration::from_millis(10_000),
            outbox_limit: DEFAULT_OUTBOX_LIMIT,
            global_outstanding_limit: 1000,
            request_throttle: RequestThrottleConfig::default(),
            large_requests: LargeRequestLimit::default(),
            connection_throttle: BlueThrottleConfig::default(),
            session_timeout_bounds: (6000, 60000),
            flush_grace: Duration::from_secs(2),
        }
    }
}

/// What every connection of one listener shares.
pub struct ConnShared {
    pub limits: ConnLimits,
    pub load: Arc<ServerLoad>,
    /// Taken once per handshake, and only when the throttle is on.
    blue: Option<Mutex<BlueThrottle>>,
}

impl ConnShared {
    pub fn new(limits: ConnLimits, load: Arc<ServerLoad>) -> ConnShared {
        let blue = BlueThrottle::new(&limits.connection_throttle);
        ConnShared {
            blue: blue.enabled().then(|| Mutex::new(blue)),
            limits,
            load,
        }
    }

    /// `connThrottle.checkLimit` for one handshake.
    fn admit_handshake(&self, kind: Handshake) -> bool {
        let Some(blue) = &self.blue else {
            return true;
        };
        let mut blue = match blue.lock() {
            Ok(b) => b,
            Err(p) => p.into_inner(),
        };
        let ok = blue.check(kind);
        self.load.note_drop_chance(blue.drop_chance());
        ok
    }
}

/// Why reading stopped.
#[derive(Debug)]
enum ReadEnd {
    Eof,
    Closed,
    Io(std::io::Error),
    Protocol(String),
    /// No ConnectRequest within the sessionless timeout.
    Expired,
    /// Refused by the connection throttle.
    Throttled,
    /// A large request over `largeRequestMaxBytes`.
    LargeRejected(usize),
}

/// Serves one connection to its end.
pub async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    conn: u64,
    core: mpsc::Sender<CoreMsg>,
    shared: Arc<ConnShared>,
) {
    let limits = &shared.limits;
    let (rd, wr) = stream.into_split();
    let out = Arc::new(Outbox::with_flow(shared.load.clone(), limits.outbox_limit));
    let mut writer = tokio::spawn(write_loop(wr, out.clone()));
    let mut reader = FrameReader::new(rd, limits.max_frame, shared.load.clone());
    let end = tokio::select! {
        end = read_loop(&mut reader, addr, conn, &core, &out, &shared) => end,
        _ = wait_closing(&out) => ReadEnd::Closed,
    };
    match &end {
        ReadEnd::Eof | ReadEnd::Closed => {
            debug!(client = %JavaSocketAddr(addr), "connection ended")
        }
        ReadEnd::Io(e) => {
            debug!(client = %JavaSocketAddr(addr), error = %e, "connection read failed")
        }
        ReadEnd::Protocol(why) => {
            warn!(client = %JavaSocketAddr(addr), "closing connection: {why}")
        }
        ReadEnd::Expired => {
            shared.load.note_sessionless_expired();
            info!(
                client = %JavaSocketAddr(addr),
                "closing connection: no ConnectRequest within the sessionless timeout of {} ms",
                limits.sessionless_timeout.as_millis()
            );
        }
        ReadEnd::LargeRejected(len) => warn!(
            client = %JavaSocketAddr(addr),
            len,
            "closing connection: Rejecting large request (largeRequestMaxBytes)"
        ),
        ReadEnd::Throttled => {
            shared.load.note_rejected();
            warn!(client = %JavaSocketAddr(addr), "closing connection: connection throttle (connection_throttle_tokens) exhausted");
        }
    }
    let dropped = matches!(end, ReadEnd::Eof | ReadEnd::Io(_));
    let _ = core.send(CoreMsg::Closed { conn, dropped }).await;
    out.close();
    if tokio::time::timeout(limits.flush_grace, &mut writer)
        .await
        .is_err()
    {
        writer.abort();
        info!(client = %JavaSocketAddr(addr), queued = out.pending_bytes(), "closed a connection that was not reading its replies");
    }
    out.settle();
}

async fn wait_closing(out: &Outbox) {
    while !out.is_closing() {
        out.wait_closed().await;
    }
}

async fn read_loop(
    reader: &mut FrameReader,
    addr: SocketAddr,
    conn: u64,
    core: &mpsc::Sender<CoreMsg>,
    out: &Arc<Outbox>,
    shared: &ConnShared,
) -> ReadEnd {
    let limits = &shared.limits;
    // Until the session is set up, the connection lives only as long as
    // bytes keep coming.
    reader.idle_limit = Some(limits.sessionless_timeout);
    // First four bytes: a frame length, or a four-letter word.
    let first4 = match reader.peek4().await {
        Ok(Some(b)) => b,
        Ok(None) => return ReadEnd::Eof,
        Err(e) => return ReadEnd::from_io(e),
    };
    if first4 == TELNET_CLOSE {
        return ReadEnd::Closed;
    }
    if let Some(cmd) = four_letter::detect(&first4) {
        info!(client = %JavaSocketAddr(addr), cmd, "four-letter word");
        // stmk is followed by the mask, a long. ZooKeeper reads it with one
        // non-blocking read: bytes not there yet mean no mask (and no reply).
        let trace_mask = if cmd == "stmk" {
            reader.take_long_after_word()
        } else {
            None
        };
        let (tx, rx) = oneshot::channel();
        let req = AdminRequest {
            cmd,
            peer: addr,
            trace_mask,
            reply: tx,
        };
        if core.send(CoreMsg::Admin(req)).await.is_ok() {
            if let Ok(text) = rx.await {
                out.push_raw(text.as_bytes());
            }
        }
        out.close();
        return ReadEnd::Closed;
    }

    let frame = match reader.next_frame().await {
        Ok(Some(f)) => f,
        Ok(None) => return ReadEnd::Eof,
        Err(ReadEnd::Io(e)) => return ReadEnd::from_io(e),
        Err(e) => return e,
    };
    let received = Instant::now();
    let mut body: &[u8] = &frame;
    // Newer clients append a readOnly flag; older ones stop before it, and
    // the reply must then omit it too.
    let (req, sent_read_only) = match ConnectRequest::deserialize_compat(&mut body) {
        Ok(r) => r,
        Err(e) => return ReadEnd::Protocol(format!("bad ConnectRequest: {e}")),
    };
    let kind = if req.session_id == 0 {
        Handshake::NewSession
    } else {
        Handshake::Reconnect
    };
    if !shared.admit_handshake(kind) {
        return ReadEnd::Throttled;
    }
    let (min_timeout, max_timeout) = limits.session_timeout_bounds;
    let session_timeout = req.time_out.max(min_timeout).min(max_timeout);
    let session_timeout = Duration::from_millis(session_timeout.max(0) as u64);
    let (tx, rx) = oneshot::channel();
    let msg = ConnectMsg {
        conn,
        out: out.clone(),
        addr,
        req,
        sent_read_only,
        established: tx,
        size: frame.len() + 4,
        received,
    };
    if core.send(CoreMsg::Connect(Box::new(msg))).await.is_err() {
        return ReadEnd::Closed;
    }
    // Like ZooKeeper, read nothing more until the session is set up.
    match rx.await {
        Ok(true) => {}
        _ => return ReadEnd::Closed,
    }
    // From here the session's expiry ends a silent connection.
    reader.idle_limit = None;

    loop {
        // Backpressure: a full outbox, or too much in process server-wide.
        out.wait_may_read().await;
        let frame = match reader.next_frame().await {
            Ok(Some(f)) => f,
            Ok(None) => return ReadEnd::Eof,
            Err(e) => return e,
        };
        let received = Instant::now();
        if frame.len() < 8 {
            return ReadEnd::Protocol(format!("request of {} bytes has no header", frame.len()));
        }
        let mut hdr: &[u8] = &frame;
        let xid = hdr.get_i32();
        let op_code = hdr.get_i32();
        let mut op = ClientOp::decode(op_code, hdr);
        let size = frame.len() + 4;
        if xid != NOTIFICATION_XID {
            // ZooKeeperServer.processPacket takes a large request's bytes
            // before it reaches the throttler; auth and sasl never do. (A
            // request with xid -1 is not counted: its reply cannot be told
            // from a notification, so nothing would release it.)
            let large = if op_code == OpCode::Auth as i32 || op_code == OpCode::Sasl as i32 {
                false
            } else {
                match shared.load.take_large(frame.len()) {
                    Ok(taken) => taken,
                    Err(_) => return ReadEnd::LargeRejected(frame.len()),
                }
            };
            let closed = || out.is_closing();
            match shared.load.admit(received, session_timeout, closed).await {
                Admission::Admitted if large => out.large_request_sent(frame.len()),
                Admission::Admitted => out.request_sent(),
                Admission::DroppedStale => {
                    if large {
                        shared.load.release_large(frame.len());
                    }
                    // RequestThrottler.dropRequest: the connection is
                    // invalid from here; it is closed after what is queued.
                    info!(client = %JavaSocketAddr(addr), xid, "dropping a stale request and closing its connection");
                    out.close();
                    return ReadEnd::Closed;
                }
            }
            // RequestThrottler.shouldThrottleOp, on leaving the throttler.
            let throttlable = ClientOp::is_throttlable(op_code);
            if shared
                .load
                .should_throttle_op(throttlable, received.elapsed())
            {
                op = ClientOp::Throttled(op_code);
            }
        }
        let msg = CoreMsg::Request {
            conn,
            xid,
            op,
            size,
            received,
        };
        if core.send(msg).await.is_err() {
            return ReadEnd::Closed;
        }
    }
}

impl ReadEnd {
    /// A read error; a timed-out read is the sessionless timeout.
    fn from_io(e: std::io::Error) -> ReadEnd {
        if e.kind() == std::io::ErrorKind::TimedOut {
            ReadEnd::Expired
        } else {
            ReadEnd::Io(e)
        }
    }
}

/// Reads length-prefixed frames into a reused buffer.
struct FrameReader {
    rd: OwnedReadHalf,
    buf: BytesMut,
    max_frame: usize,
    /// When set, a read that waits longer than this fails with `TimedOut`.
    idle_limit: Option<Duration>,
    /// For the large-request check on each frame's length.
    load: Arc<ServerLoad>,
    /// The buffered frame's length has passed its checks.
    length_checked: bool,
}

impl FrameReader {
    fn new(rd: OwnedReadHalf, max_frame: usize, load: Arc<ServerLoad>) -> Self {
        FrameReader {
            rd,
            buf: BytesMut::with_capacity(4096),
            max_frame,
            idle_limit: None,
            load,
            length_checked: false,
        }
    }

    /// Reads more bytes; Ok(false) on a clean EOF.
    async fn fill(&mut self) -> std::io::Result<bool> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(4096);
        }
        let n = match self.idle_limit {
            None => self.rd.read_buf(&mut self.buf).await?,
            Some(limit) => tokio::time::timeout(limit, self.rd.read_buf(&mut self.buf))
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "idle"))??,
        };
        Ok(n > 0)
    }

    async fn peek4(&mut self) -> std::io::Result<Option<[u8; 4]>> {
        while self.buf.len() < 4 {
            if !self.fill().await? {
                return Ok(None);
            }
        }
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.buf[..4]);
        Ok(Some(b))
    }

    /// The big-endian long after a four-letter word, from what is buffered
    /// plus one non-blocking read; None if fewer than 8 bytes are there.
    fn take_long_after_word(&mut self) -> Option<i64> {
        if self.buf.len() < 12 {
            let mut more = [0u8; 8];
            let want = 12 - self.buf.len();
            if let Ok(n) = self.rd.try_read(&mut more[..want]) {
                self.buf.extend_from_slice(&more[..n]);
            }
        }
        let bytes: [u8; 8] = self.buf.get(4..12)?.try_into().ok()?;
        Some(i64::from_be_bytes(bytes))
    }

    /// The next whole frame's payload; None on EOF between frames.
    async fn next_frame(&mut self) -> Result<Option<BytesMut>, ReadEnd> {
        loop {
            if self.buf.len() >= 4 {
                let len = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]]);
                if len < 0 || len as usize > self.max_frame {
                    return Err(ReadEnd::Protocol(format!(
                        "Len error {len} (length is greater than jute.maxbuffer={})",
                        self.max_frame
                    )));
                }
                let len = len as usize;
                // NIOServerCnxn.readLength: once per frame, before its body.
                if !self.length_checked {
                    if self.load.check_large(len).is_err() {
                        return Err(ReadEnd::LargeRejected(len));
                    }
                    self.length_checked = true;
                }
                if self.buf.len() >= 4 + len {
                    self.length_checked = false;
                    self.buf.advance(4);
                    return Ok(Some(self.buf.split_to(len)));
                }
                self.buf.reserve(4 + len - self.buf.len());
            }
            match self.fill().await {
                Ok(true) => {}
                Ok(false) if self.buf.is_empty() => return Ok(None),
                Ok(false) => return Err(ReadEnd::Protocol("connection closed mid-frame".into())),
                Err(e) => return Err(ReadEnd::Io(e)),
            }
        }
    }
}

/// Writes whatever the outbox holds, one write per wake-up, until closed.
async fn write_loop(mut wr: OwnedWriteHalf, out: Arc<Outbox>) {
    loop {
        let buf = out.take();
        if !buf.is_empty() {
            if wr.write_all(&buf).await.is_err() {
                out.close();
                break;
            }
            out.written(buf.len());
        }
        if out.is_closing() && out.queued_bytes() == 0 {
            break;
        }
        out.wait().await;
    }
    let _ = wr.shutdown().await;
}
