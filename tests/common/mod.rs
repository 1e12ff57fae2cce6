//! A small raw ZooKeeper client for integration tests: it speaks the wire
//! protocol frame by frame over a real TCP connection, so tests can send
//! exactly the bytes they mean (good or bad) and see exactly what comes back.
//!
//! Nothing here sleeps to synchronise: every wait is for bytes from the
//! server, bounded by [`BOUND`] only so a broken server fails the test
//! instead of hanging it.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::{Buf, BufMut, BytesMut};
use ferrokeeper::persist::snapshot::SnapshotCompression;
use ferrokeeper::persist::FileTxnLogOptions;
use ferrokeeper::pipeline::PersistSettings;
use ferrokeeper::server::{self, RunningServer, Settings};
use jute::consts::{CreateMode, OpCode, Perms, NOTIFICATION_XID, PING_XID};
use jute::data::{Id, Stat, ACL};
use jute::proto::{
    ConnectRequest, ConnectResponse, CreateRequest, DeleteRequest, ExistsRequest, ExistsResponse,
    GetDataRequest, GetDataResponse, ReplyHeader, RequestHeader, SetDataRequest, SetDataResponse,
    WatcherEvent,
};
use jute::Record;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Upper bound on any single wait for the server.
pub const BOUND: Duration = Duration::from_secs(5);

/// Awaits `f`, failing the test if it takes longer than [`BOUND`].
pub async fn bounded<F: Future>(what: &str, f: F) -> F::Output {
    bounded_by(BOUND, what, f).await
}

/// Awaits `f`, failing the test if it takes longer than `limit`.
pub async fn bounded_by<F: Future>(limit: Duration, what: &str, f: F) -> F::Output {
    match tokio::time::timeout(limit, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// `world:anyone` with every permission (`ZooDefs.Ids.OPEN_ACL_UNSAFE`).
pub fn open_acl() -> Vec<ACL> {
    vec![acl(Perms::ALL, "world", "anyone")]
}

pub fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
    ACL {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

/// A loopback TCP port that was free a moment ago (bound, then released for
/// a server binary that needs its port in zoo.cfg).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Persistence the way the disk tests want it unless they say otherwise:
/// snapshots in `data`, txn logs in `logs`, 64 KiB preallocation, no fsync
/// (speed; the data is thrown away), no compression, directories created.
pub fn persist_settings(data: &Path, logs: &Path) -> PersistSettings {
    PersistSettings {
        data_dir: data.to_path_buf(),
        data_log_dir: logs.to_path_buf(),
        log: FileTxnLogOptions {
            pre_alloc_size: 64 * 1024,
            force_sync: false,
            ..Default::default()
        },
        compression: SnapshotCompression::None,
        trust_empty_snapshot: false,
        autocreate: true,
        truncate_corrupt_log: false,
    }
}

/// An in-process server on 127.0.0.1:0.
pub struct TestServer {
    pub addr: SocketAddr,
    /// The AdminServer's and `/metrics`' addresses, when the settings enable them.
    pub admin_addr: Option<SocketAddr>,
    pub metrics_addr: Option<SocketAddr>,
    running: RunningServer,
}

impl TestServer {
    /// Every four-letter word enabled, everything else at the defaults.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Like [`TestServer::start`], after `tweak` has adjusted the settings.
    pub async fn start_with(tweak: impl FnOnce(&mut Settings)) -> TestServer {
        let mut s = Settings::standalone_default();
        s.client_addr = "127.0.0.1:0".parse().unwrap();
        s.info.four_letter_words = vec!["*".into()];
        // In memory: these tests are about the protocol, and must not
        // write into ./data. tests/restart.rs covers the disk.
        s.persist = None;
        tweak(&mut s);
        Self::start_settings(s).await
    }

    /// Starts exactly these settings (the port is forced to 127.0.0.1:0).
    pub async fn start_settings(mut s: Settings) -> TestServer {
        s.client_addr = "127.0.0.1:0".parse().unwrap();
        let running = server::start(s).await.expect("server starts");
        TestServer {
            addr: running.local_addr,
            admin_addr: running.admin_addr,
            metrics_addr: running.metrics_addr,
            running,
        }
    }

    /// Requests in process and what the connection limits did.
    pub fn load(&self) -> &ferrokeeper::net::ServerLoad {
        &self.running.load
    }

    /// A new session with a 30 s timeout.
    pub async fn client(&self) -> Client {
        Client::connect(self.addr, 30_000).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.running.stop_accepting();
    }
}

/// A `ConnectRequest` for a new session, as the Java client sends it.
pub fn new_session_request(timeout_ms: i32) -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: timeout_ms,
        session_id: 0,
        passwd: Some(vec![0; 16]),
        read_only: false,
    }
}

/// Length-prefixes `payload`.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len());
    out.put_i32(payload.len() as i32);
    out.put_slice(payload);
    out
}

/// A whole request frame: length, `RequestHeader`, body.
pub fn request_frame<R: Record>(xid: i32, op: i32, body: &R) -> Vec<u8> {
    let mut payload = Vec::new();
    RequestHeader { xid, type_: op }.serialize(&mut payload);
    body.serialize(&mut payload);
    frame(&payload)
}

/// A request frame with no body (ping, whoAmI, closeSession).
pub fn header_only_frame(xid: i32, op: i32) -> Vec<u8> {
    let mut payload = Vec::new();
    RequestHeader { xid, type_: op }.serialize(&mut payload);
    frame(&payload)
}

/// A reply as it came off the wire.
#[derive(Debug, Clone)]
pub struct Reply {
    pub header: ReplyHeader,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn err(&self) -> i32 {
        self.header.err
    }

    /// Decodes the body, which must be exactly one `T`.
    pub fn decode<T: Record>(&self) -> T {
        jute::from_bytes_exact(&self.body)
            .unwrap_or_else(|e| panic!("reply body does not decode: {e} ({:?})", self.body))
    }

    /// `Ok(body)` for err 0, else `Err(code)` (and then there must be no body).
    pub fn result<T: Record>(&self) -> Result<T, i32> {
        if self.header.err == 0 {
            Ok(self.decode())
        } else {
            assert!(
                self.body.is_empty(),
                "error reply {} carries a body {:?}",
                self.header.err,
                self.body
            );
            Err(self.header.err)
        }
    }

    /// Like [`Reply::result`] for replies that have no body.
    pub fn unit(&self) -> Result<(), i32> {
        assert!(
            self.body.is_empty(),
            "reply carries an unexpected body {:?}",
            self.body
        );
        if self.header.err == 0 {
            Ok(())
        } else {
            Err(self.header.err)
        }
    }
}

/// One client connection.
pub struct Client {
    stream: TcpStream,
    rbuf: BytesMut,
    next_xid: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub timeout_ms: i32,
    /// Notifications (xid -1) read while waiting for a reply.
    pub events: VecDeque<WatcherEvent>,
    /// Counter for [`Client::assert_serving`].
    probes: u32,
}

/// What the server answered to a `ConnectRequest`.
#[derive(Debug, Clone)]
pub struct Handshake {
    pub response: ConnectResponse,
    /// Length of the response frame's payload.
    pub payload_len: usize,
    /// Whether the trailing readOnly byte was present.
    pub has_read_only: bool,
}

impl Client {
    /// A TCP connection with nothing sent yet.
    pub async fn open(addr: SocketAddr) -> Client {
        let stream = bounded("connecting", TcpStream::connect(addr))
            .await
            .expect("TCP connect");
        stream.set_nodelay(true).unwrap();
        Client::from_stream(stream)
    }

    /// A TCP connection from `local` (any 127.x address reaches a server
    /// on 127.0.0.1 on Linux), with nothing sent yet.
    pub async fn open_from(addr: SocketAddr, local: std::net::IpAddr) -> Client {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(local, 0))
            .expect("bind the client address");
        let stream = bounded("connecting", socket.connect(addr))
            .await
            .expect("TCP connect");
        stream.set_nodelay(true).unwrap();
        Client::from_stream(stream)
    }

    /// The client's end of the connection, as the server sees it.
    pub fn local_addr(&self) -> SocketAddr {
        self.stream
            .local_addr()
            .expect("local address of a connected socket")
    }

    fn from_stream(stream: TcpStream) -> Client {
        Client {
            stream,
            rbuf: BytesMut::with_capacity(8192),
            next_xid: 1,
            session_id: 0,
            passwd: Vec::new(),
            timeout_ms: 0,
            events: VecDeque::new(),
            probes: 0,
        }
    }

    /// A new session from `local`, handshake done and checked.
    pub async fn connect_from(
        addr: SocketAddr,
        local: std::net::IpAddr,
        timeout_ms: i32,
    ) -> Client {
        let mut c = Client::open_from(addr, local).await;
        let hs = c
            .handshake(&new_session_request(timeout_ms), true)
            .await
            .expect("server answered the handshake");
        assert_ne!(hs.response.session_id, 0, "new session refused: {hs:?}");
        c
    }

    /// Takes the TCP stream, e.g. to write without ever reading.
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }

    /// A new session, handshake done and checked.
    pub async fn connect(addr: SocketAddr, timeout_ms: i32) -> Client {
        let mut c = Client::open(addr).await;
        let hs = c
            .handshake(&new_session_request(timeout_ms), true)
            .await
            .expect("server answered the handshake");
        assert_ne!(hs.response.session_id, 0, "new session refused: {hs:?}");
        c
    }

    /// Sends a `ConnectRequest` (with or without the trailing readOnly byte)
    /// and reads the response; `None` if the server closed instead. On
    /// success the session fields are filled in.
    pub async fn handshake(
        &mut self,
        req: &ConnectRequest,
        with_read_only: bool,
    ) -> Option<Handshake> {
        let mut payload = Vec::new();
        req.serialize_compat(&mut payload, with_read_only);
        self.send_raw(&frame(&payload)).await;
        let payload = self.read_frame().await?;
        let mut input = &payload[..];
        let (response, has_read_only) = ConnectResponse::deserialize_compat(&mut input)
            .unwrap_or_else(|e| panic!("bad ConnectResponse {payload:?}: {e}"));
        assert!(input.is_empty(), "trailing bytes after ConnectResponse");
        self.session_id = response.session_id;
        self.passwd = response.passwd.clone().unwrap_or_default();
        self.timeout_ms = response.time_out;
        Some(Handshake {
            response,
            payload_len: payload.len(),
            has_read_only,
        })
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        bounded("writing", self.stream.write_all(bytes))
            .await
            .expect("write to server");
    }

    /// Closes our sending side (the server sees EOF).
    pub async fn shutdown_write(&mut self) {
        bounded("shutting down", self.stream.shutdown())
            .await
            .expect("shutdown");
    }

    /// The next frame's payload, or `None` when the server closed the
    /// connection (EOF or reset) between frames.
    pub async fn read_frame(&mut self) -> Option<Vec<u8>> {
        bounded(
            "reading a frame from the server",
            self.read_frame_unbounded(),
        )
        .await
    }

    async fn read_frame_unbounded(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.rbuf.len() >= 4 {
                let len =
                    i32::from_be_bytes([self.rbuf[0], self.rbuf[1], self.rbuf[2], self.rbuf[3]]);
                assert!(len >= 0, "server sent a negative frame length {len}");
                let len = len as usize;
                if self.rbuf.len() >= 4 + len {
                    self.rbuf.advance(4);
                    return Some(self.rbuf.split_to(len).to_vec());
                }
            }
            match self.stream.read_buf(&mut self.rbuf).await {
                Ok(0) | Err(_) => {
                    assert!(
                        self.rbuf.is_empty(),
                        "connection ended inside a frame ({} bytes buffered)",
                        self.rbuf.len()
                    );
                    return None;
                }
                Ok(_) => {}
            }
        }
    }

    /// Everything the server sends until it closes (for four-letter words).
    pub async fn read_to_end(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.rbuf).to_vec();
        let _ = bounded("reading to EOF", self.stream.read_to_end(&mut out)).await;
        out
    }

    /// Asserts the server closes the connection without sending anything more.
    pub async fn expect_closed(&mut self) {
        if let Some(f) = self.read_frame().await {
            panic!("expected the connection to be closed, got a frame {f:?}");
        }
    }

    /// The next frame as a reply header and body, notifications included.
    pub async fn next_frame(&mut self) -> Reply {
        let payload = self
            .read_frame()
            .await
            .expect("server closed the connection");
        let mut input = &payload[..];
        let header = ReplyHeader::deserialize(&mut input).expect("reply header decodes");
        Reply {
            header,
            body: input.to_vec(),
        }
    }

    /// The next reply that is not a notification; notifications read on the
    /// way are queued in [`Client::events`].
    pub async fn read_reply(&mut self) -> Reply {
        loop {
            let r = self.next_frame().await;
            if r.header.xid == NOTIFICATION_XID {
                self.events.push_back(r.decode());
            } else {
                return r;
            }
        }
    }

    /// The next notification (queued or read).
    pub async fn next_event(&mut self) -> WatcherEvent {
        if let Some(e) = self.events.pop_front() {
            return e;
        }
        let r = self.next_frame().await;
        assert_eq!(
            r.header.xid, NOTIFICATION_XID,
            "expected a notification, got reply {:?}",
            r.header
        );
        assert_eq!(r.header.zxid, -1, "notifications carry zxid -1");
        assert_eq!(r.header.err, 0);
        r.decode()
    }

    pub fn take_xid(&mut self) -> i32 {
        let x = self.next_xid;
        self.next_xid += 1;
        x
    }

    /// Sends one request and returns its xid.
    pub async fn send<R: Record>(&mut self, op: i32, body: &R) -> i32 {
        let xid = self.take_xid();
        self.send_raw(&request_frame(xid, op, body)).await;
        xid
    }

    /// Sends one request and reads its reply, checking the xid.
    pub async fn call<R: Record>(&mut self, op: OpCode, body: &R) -> Reply {
        let xid = self.send(op.code(), body).await;
        let r = self.read_reply().await;
        assert_eq!(r.header.xid, xid, "reply out of order");
        r
    }

    pub async fn create(
        &mut self,
        path: &str,
        data: &[u8],
        mode: CreateMode,
    ) -> Result<String, i32> {
        self.create_acl(path, data, open_acl(), mode.flag()).await
    }

    pub async fn create_acl(
        &mut self,
        path: &str,
        data: &[u8],
        acl: Vec<ACL>,
        flags: i32,
    ) -> Result<String, i32> {
        let req = CreateRequest {
            path: path.into(),
            data: Some(data.to_vec()),
            acl,
            flags,
        };
        self.call(OpCode::Create, &req)
            .await
            .result::<jute::proto::CreateResponse>()
            .map(|r| r.path)
    }

    pub async fn get_data(&mut self, path: &str, watch: bool) -> Result<GetDataResponse, i32> {
        let req = GetDataRequest {
            path: path.into(),
            watch,
        };
        self.call(OpCode::GetData, &req).await.result()
    }

    pub async fn exists(&mut self, path: &str, watch: bool) -> Result<Stat, i32> {
        let req = ExistsRequest {
            path: path.into(),
            watch,
        };
        self.call(OpCode::Exists, &req)
            .await
            .result::<ExistsResponse>()
            .map(|r| r.stat)
    }

    pub async fn set_data(&mut self, path: &str, data: &[u8], version: i32) -> Result<Stat, i32> {
        let req = SetDataRequest {
            path: path.into(),
            data: Some(data.to_vec()),
            version,
        };
        self.call(OpCode::SetData, &req)
            .await
            .result::<SetDataResponse>()
            .map(|r| r.stat)
    }

    pub async fn delete(&mut self, path: &str, version: i32) -> Result<(), i32> {
        let req = DeleteRequest {
            path: path.into(),
            version,
        };
        self.call(OpCode::Delete, &req).await.unit()
    }

    /// Sends a ping and returns its reply header (xid -2).
    pub async fn ping(&mut self) -> ReplyHeader {
        self.send_raw(&header_only_frame(PING_XID, OpCode::Ping.code()))
            .await;
        let r = self.read_reply().await;
        assert_eq!(r.header.xid, PING_XID, "ping answered with {:?}", r.header);
        assert!(r.body.is_empty(), "ping reply has a body");
        r.header
    }

    /// Proves the connection is served: a write and a read of it, with the
    /// right results.
    pub async fn assert_serving(&mut self) {
        self.probes += 1;
        let path = format!("/probe-{:x}-{}", self.session_id, self.probes);
        let data = format!("probe {}", self.probes).into_bytes();
        assert_eq!(
            self.create(&path, &data, CreateMode::Ephemeral).await,
            Ok(path.clone())
        );
        let got = self.get_data(&path, false).await.expect("probe node reads");
        assert_eq!(got.data.as_deref(), Some(&data[..]));
        assert_eq!(got.stat.ephemeral_owner, self.session_id);
    }
}

/// Sends a four-letter word on a fresh connection and returns the answer.
pub async fn four_letter(addr: SocketAddr, cmd: &str) -> String {
    let mut c = Client::open(addr).await;
    c.send_raw(cmd.as_bytes()).await;
    String::from_utf8(c.read_to_end().await).expect("four-letter answer is UTF-8")
}
