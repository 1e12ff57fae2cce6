//! The connection state machine over real TCP: framing, four-letter-word
//! detection, the handshake and then requests, fed arbitrary bytes.
//!
//! One in-process server (in memory, every four-letter word enabled, TTL
//! nodes allowed, short session timeouts so fuzzed sessions expire quickly)
//! runs for the life of the fuzzing process. Each input is sent on a fresh
//! connection, written in pieces at fuzz-chosen points while the replies are
//! drained, then the write side is closed. Invariants:
//!
//! - the server closes that connection within [`BOUND`] once the client has
//!   stopped sending (nothing hangs on half a frame or a pending handshake);
//! - bad input costs nothing else: afterwards a fresh client still completes
//!   a handshake and gets answers to a ping and an exists;
//! - no panic anywhere in the server (libfuzzer-sys aborts on any panic, in
//!   any task).
//!
//! Input layout: byte 0's low 7 bits set the write chunk size (0 = all at
//! once, else that many bytes per write, yielding in between); its high bit
//! puts a valid handshake frame in front of the rest, so mutations can spend
//! themselves on requests instead of on the ConnectRequest. The rest is sent
//! as is.
//! Every [`CLEANUP_EVERY`] inputs a super-user session deletes what fuzzed
//! requests created, so the tree (and memory) does not grow without bound.

#![no_main]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use bytes::BufMut;
use ferrokeeper::server::{self, RunningServer, Settings};
use jute::consts::{OpCode, PING_XID};
use jute::proto::{
    AuthPacket, ConnectRequest, ConnectResponse, DeleteRequest, ExistsRequest, GetChildrenRequest,
    GetChildrenResponse, ReplyHeader, RequestHeader,
};
use jute::Record;
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::Runtime;

/// Upper bound for the server to close a connection, and for any reply.
const BOUND: Duration = Duration::from_secs(10);
/// Inputs between clean-ups of the tree.
const CLEANUP_EVERY: u64 = 500;
/// The super user's credentials (`user:password`).
const SUPER_AUTH: &str = "super:fuzz";

struct Fixture {
    rt: Runtime,
    addr: SocketAddr,
    _server: RunningServer,
    inputs: AtomicU64,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut s = Settings::standalone_default();
        s.client_addr = SocketAddr::from(([127, 0, 0, 1], 0));
        s.persist = None;
        s.info.four_letter_words = vec!["*".into()];
        s.limits.max_client_cnxns = 0;
        s.core.tick_ms = 100;
        s.core.min_session_timeout_ms = 200;
        s.core.max_session_timeout_ms = 1000;
        s.core.extended_types_enabled = true;
        s.core.container_check_interval_ms = 200;
        s.core.auth.super_digest = Some(ferrokeeper::acl::generate_digest(SUPER_AUTH));
        let server = rt.block_on(server::start(s)).expect("fuzz server starts");
        Fixture {
            addr: server.local_addr,
            rt,
            _server: server,
            inputs: AtomicU64::new(0),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(control & 0x7f);
    let mut payload = Vec::with_capacity(rest.len() + 64);
    if control & 0x80 != 0 {
        let handshake = jute::to_bytes(&connect_request());
        payload.put_i32(handshake.len() as i32);
        payload.put_slice(&handshake);
    }
    payload.extend_from_slice(rest);
    let fx = fixture();
    let n = fx.inputs.fetch_add(1, Ordering::Relaxed);
    fx.rt.block_on(async {
        send_hostile(fx.addr, chunk, &payload).await;
        assert_serving(fx.addr).await;
        if n % CLEANUP_EVERY == CLEANUP_EVERY - 1 {
            cleanup(fx.addr).await;
        }
    });
});

/// Sends `payload` on a new connection and waits for the server to close it.
async fn send_hostile(addr: SocketAddr, chunk: usize, payload: &[u8]) {
    let stream = match TcpStream::connect(addr).await {
        Ok(s) => s,
        Err(e) => panic!("cannot connect to the fuzz server: {e}"),
    };
    let _ = stream.set_nodelay(true);
    let (mut rd, mut wr) = stream.into_split();
    // Drain replies while writing, so a large reply can never block the
    // server's writer (and, through it, the reads of our writes).
    let drain = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    let step = if chunk == 0 {
        payload.len().max(1)
    } else {
        chunk
    };
    for piece in payload.chunks(step) {
        // The server may close early (bad frame): then writes fail, fine.
        if wr.write_all(piece).await.is_err() {
            break;
        }
        tokio::task::yield_now().await;
    }
    let _ = wr.shutdown().await;
    match tokio::time::timeout(BOUND, drain).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("reply drain task failed: {e}"),
        Err(_) => panic!("server kept the connection open {BOUND:?} after the client's EOF"),
    }
    drop(wr);
}

/// What a Java client sends to open a new session (1 s timeout).
fn connect_request() -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 1000,
        session_id: 0,
        passwd: Some(vec![0; 16]),
        read_only: false,
    }
}

/// A minimal well-behaved client.
struct Client {
    stream: TcpStream,
    next_xid: i32,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        let mut stream = match TcpStream::connect(addr).await {
            Ok(s) => s,
            Err(e) => panic!("server refuses new connections after bad input: {e}"),
        };
        let _ = stream.set_nodelay(true);
        write_frame(&mut stream, &jute::to_bytes(&connect_request())).await;
        let frame = read_frame(&mut stream, "ConnectResponse").await;
        let resp: ConnectResponse = match jute::from_bytes(&frame) {
            Ok(r) => r,
            Err(e) => panic!("bad ConnectResponse after bad input: {e}"),
        };
        assert!(
            resp.session_id != 0 && resp.time_out > 0,
            "server refused a fresh session after bad input: {resp:?}"
        );
        Client {
            stream,
            next_xid: 1,
        }
    }

    /// Sends one request and returns (err, body) of its reply.
    async fn call(&mut self, op: OpCode, body: &[u8]) -> (i32, Vec<u8>) {
        // Pings go out with xid -2, as every ZooKeeper client sends them.
        let xid = if op == OpCode::Ping {
            PING_XID
        } else {
            self.next_xid += 1;
            self.next_xid - 1
        };
        let mut payload = jute::to_bytes(&RequestHeader {
            xid,
            type_: op as i32,
        });
        payload.extend_from_slice(body);
        write_frame(&mut self.stream, &payload).await;
        loop {
            let frame = read_frame(&mut self.stream, "reply").await;
            let mut input = &frame[..];
            let header = match ReplyHeader::deserialize(&mut input) {
                Ok(h) => h,
                Err(e) => panic!("bad reply header: {e}"),
            };
            // Notifications (xid -1) may arrive first.
            if header.xid == -1 {
                continue;
            }
            assert_eq!(header.xid, xid, "reply out of order");
            return (header.err, input.to_vec());
        }
    }

    async fn close(mut self) {
        let _ = self.call(OpCode::CloseSession, &[]).await;
    }
}

async fn write_frame(stream: &mut TcpStream, payload: &[u8]) {
    let mut out = Vec::with_capacity(payload.len() + 4);
    out.put_i32(payload.len() as i32);
    out.put_slice(payload);
    if let Err(e) = stream.write_all(&out).await {
        panic!("server stopped reading a well-behaved client: {e}");
    }
}

async fn read_frame(stream: &mut TcpStream, what: &str) -> Vec<u8> {
    let read = async {
        let mut len = [0u8; 4];
        stream.read_exact(&mut len).await?;
        let len = usize::try_from(i32::from_be_bytes(len)).map_err(std::io::Error::other)?;
        let mut frame = vec![0u8; len];
        stream.read_exact(&mut frame).await?;
        Ok::<_, std::io::Error>(frame)
    };
    match tokio::time::timeout(BOUND, read).await {
        Ok(Ok(frame)) => frame,
        Ok(Err(e)) => panic!("no {what} from the server after bad input: {e}"),
        Err(_) => panic!("no {what} from the server within {BOUND:?} after bad input"),
    }
}

/// The server still serves a brand-new, well-formed client.
async fn assert_serving(addr: SocketAddr) {
    let mut c = Client::connect(addr).await;
    let (err, _) = c.call(OpCode::Ping, &[]).await;
    assert_eq!(err, 0, "ping failed after bad input");
    let exists = ExistsRequest {
        path: "/zookeeper".into(),
        watch: false,
    };
    let (err, _) = c.call(OpCode::Exists, &jute::to_bytes(&exists)).await;
    assert_eq!(err, 0, "exists /zookeeper failed after bad input");
    c.close().await;
}

/// Deletes every znode outside /zookeeper, as the super user (so no ACL a
/// fuzzed request set can stop it). Best effort: a node re-created meanwhile
/// by an expiring session's lag is simply left for next time.
async fn cleanup(addr: SocketAddr) {
    let mut c = Client::connect(addr).await;
    let auth = AuthPacket {
        type_: 0,
        scheme: "digest".into(),
        auth: Some(SUPER_AUTH.as_bytes().to_vec()),
    };
    let (err, _) = c.call(OpCode::Auth, &jute::to_bytes(&auth)).await;
    assert_eq!(err, 0, "super auth failed");
    let mut stack = vec![("/".to_string(), false)];
    while let Some((path, expanded)) = stack.pop() {
        if expanded {
            if path != "/" {
                let del = DeleteRequest {
                    path: path.clone(),
                    version: -1,
                };
                let _ = c.call(OpCode::Delete, &jute::to_bytes(&del)).await;
            }
            continue;
        }
        stack.push((path.clone(), true));
        let req = GetChildrenRequest {
            path: path.clone(),
            watch: false,
        };
        let (err, body) = c.call(OpCode::GetChildren, &jute::to_bytes(&req)).await;
        if err != 0 {
            continue;
        }
        let Ok(children) = jute::from_bytes::<GetChildrenResponse>(&body) else {
            continue;
        };
        for child in children.children {
            let full = if path == "/" {
                format!("/{child}")
            } else {
                format!("{path}/{child}")
            };
            if full != "/zookeeper" {
                stack.push((full, false));
            }
        }
    }
    c.close().await;
}
