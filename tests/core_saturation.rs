//! Deadlines of the core under a saturated inbox, in process: a feeder
//! thread keeps the core's inbox full (of listings that take the core about
//! a second per inbox-full to answer) for the whole test, so the inbox never
//! empties, and a session that stopped talking must still expire within its
//! timeout, its ephemeral go and the watcher of that ephemeral hear of it.
//!
//! Before the core checked its deadlines after every pass, its timer only
//! ran when the inbox happened to be empty, and this test timed out.
//!
//! The core runs on the runtime's one worker; the test itself (block_on's
//! thread) and the feeder each have a thread of their own, so neither waits
//! for the core to yield.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrokeeper::net::Outbox;
use ferrokeeper::persist::MemTxnLog;
use ferrokeeper::pipeline::{ClientOp, ConnectMsg, CoreConfig, CoreMsg, Pipeline, ServerInfo};
use jute::consts::{ErrorCode, EventType, OpCode};
use jute::proto::{ConnectRequest, CreateRequest, ExistsRequest, GetChildrenRequest};
use tokio::sync::{mpsc, oneshot};

const TICK_MS: u64 = 50;
const SHORT_TIMEOUT_MS: i32 = 200;
/// Children of the node the flood lists: each listing costs the core tens
/// of microseconds, so a full inbox holds about a second of work.
const CHILDREN: usize = 500;

async fn bounded<F: std::future::Future>(limit: Duration, what: &str, f: F) -> F::Output {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("timed out after {limit:?}: {what}"))
}

/// One connection as the core sees it, with the frames queued for it read
/// back from its outbox.
struct Peer {
    conn: u64,
    out: Arc<Outbox>,
    buf: Vec<u8>,
    next_xid: i32,
}

impl Peer {
    async fn connect(core: &mpsc::Sender<CoreMsg>, conn: u64, timeout_ms: i32) -> Peer {
        let out = Arc::new(Outbox::new());
        let (established, answer) = oneshot::channel();
        let addr: SocketAddr = ([127, 0, 0, 1], 30000 + conn as u16).into();
        let msg = ConnectMsg {
            conn,
            out: out.clone(),
            addr,
            req: ConnectRequest {
                protocol_version: 0,
                last_zxid_seen: 0,
                time_out: timeout_ms,
                session_id: 0,
                passwd: Some(vec![0; 16]),
                read_only: false,
            },
            sent_read_only: true,
            size: 48,
            received: Instant::now(),
            established,
        };
        core.send(CoreMsg::Connect(Box::new(msg)))
            .await
            .expect("core alive");
        let ok = bounded(Duration::from_secs(5), "session established", answer).await;
        assert_eq!(ok, Ok(true));
        let mut peer = Peer {
            conn,
            out,
            buf: Vec::new(),
            next_xid: 1,
        };
        let _connect_response = peer.next_frame().await;
        peer
    }

    fn request(&mut self, op: ClientOp) -> CoreMsg {
        let xid = self.next_xid;
        self.next_xid += 1;
        request(self.conn, xid, op)
    }

    /// The next frame queued for this connection, without its length.
    async fn next_frame(&mut self) -> Vec<u8> {
        loop {
            if self.buf.len() >= 4 {
                let len = i32::from_be_bytes([self.buf[0], self.buf[1], self.buf[2], self.buf[3]])
                    as usize;
                if self.buf.len() >= 4 + len {
                    let frame = self.buf[4..4 + len].to_vec();
                    self.buf.drain(..4 + len);
                    return frame;
                }
            }
            let got = self.out.take();
            if got.is_empty() {
                self.out.wait().await;
            } else {
                self.out.written(got.len());
                self.buf.extend_from_slice(&got);
            }
        }
    }

    /// (xid, err) of the next frame.
    async fn next_header(&mut self) -> (i32, i32) {
        let f = self.next_frame().await;
        let xid = i32::from_be_bytes([f[0], f[1], f[2], f[3]]);
        let err = i32::from_be_bytes([f[12], f[13], f[14], f[15]]);
        (xid, err)
    }
}

/// Stops the feeder however the test ends, so a failure ends it quickly.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn request(conn: u64, xid: i32, op: ClientOp) -> CoreMsg {
    CoreMsg::Request {
        conn,
        xid,
        op,
        size: 64,
        received: Instant::now(),
    }
}

fn create(path: &str, mode: i32) -> ClientOp {
    ClientOp::Create {
        op: OpCode::Create,
        req: CreateRequest {
            path: path.into(),
            data: Some(Vec::new()),
            acl: vec![jute::data::ACL {
                perms: 31,
                id: jute::data::Id {
                    scheme: "world".into(),
                    id: "anyone".into(),
                },
            }],
            flags: mode,
        },
    }
}

fn exists(path: &str, watch: bool) -> ClientOp {
    ClientOp::Exists(ExistsRequest {
        path: path.into(),
        watch,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn a_silent_session_expires_while_the_inbox_never_empties() {
    let cfg = CoreConfig {
        tick_ms: TICK_MS,
        min_session_timeout_ms: SHORT_TIMEOUT_MS,
        max_session_timeout_ms: 60_000,
        ..CoreConfig::default()
    };
    let tasks = Pipeline::new(cfg, ServerInfo::default())
        .start(Box::new(MemTxnLog::new()), 0, None)
        .expect("start pipeline");
    let core = tasks.core_tx.clone();

    // The node the flood lists.
    let mut flood = Peer::connect(&core, 1, 60_000).await;
    let msg = flood.request(create("/big", 0));
    core.send(msg).await.expect("core alive");
    for i in 0..CHILDREN {
        let msg = flood.request(create(&format!("/big/child-{i:05}"), 0));
        core.send(msg).await.expect("core alive");
    }
    for _ in 0..=CHILDREN {
        assert_eq!(flood.next_header().await.1, 0, "create answered OK");
    }

    let mut watcher = Peer::connect(&core, 2, 60_000).await;
    let mut doomed = Peer::connect(&core, 3, SHORT_TIMEOUT_MS).await;
    let msg = doomed.request(create("/eph", 1)); // ephemeral
    core.send(msg).await.expect("core alive");
    assert_eq!(doomed.next_header().await, (1, 0), "ephemeral created");
    let silent_since = Instant::now();
    let msg = watcher.request(exists("/eph", true));
    core.send(msg).await.expect("core alive");
    assert_eq!(watcher.next_header().await, (1, 0), "exists watch set");

    // From here on the inbox stays full: the feeder blocks until the core
    // takes a message and puts another in its place at once.
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_failure = StopOnDrop(stop.clone());
    let feeder = {
        let stop = stop.clone();
        let core = core.clone();
        let out = flood.out.clone();
        std::thread::spawn(move || {
            let mut xid = 1_000_000;
            while !stop.load(Ordering::SeqCst) {
                let op = ClientOp::GetChildren(GetChildrenRequest {
                    path: "/big".into(),
                    watch: false,
                });
                if core.blocking_send(request(1, xid, op)).is_err() {
                    return;
                }
                xid += 1;
                if xid % 64 == 0 {
                    let taken = out.take();
                    out.written(taken.len());
                }
            }
        })
    };
    // Wait until the feeder has filled the inbox before the session is due.
    bounded(
        Duration::from_secs(5),
        "the feeder fills the inbox",
        async {
            while core.capacity() > 0 {
                tokio::task::yield_now().await;
            }
        },
    )
    .await;

    let event = bounded(
        Duration::from_secs(10),
        "NodeDeleted of the expired session's ephemeral",
        watcher.next_frame(),
    )
    .await;
    let waited = silent_since.elapsed();
    let queued = core.max_capacity() - core.capacity();
    stop.store(true, Ordering::SeqCst);

    let xid = i32::from_be_bytes([event[0], event[1], event[2], event[3]]);
    let event_type = i32::from_be_bytes([event[16], event[17], event[18], event[19]]);
    assert_eq!(xid, -1, "a notification");
    assert_eq!(event_type, EventType::NodeDeleted.code());
    assert!(
        queued > 0,
        "the inbox was never empty while the session expired ({queued} queued)"
    );
    // timeout + one tick, plus slack for a loaded machine and for the pass
    // under way (at most 1024 listings).
    let limit = Duration::from_millis(SHORT_TIMEOUT_MS as u64 + TICK_MS + 1500);
    assert!(
        waited >= Duration::from_millis(SHORT_TIMEOUT_MS as u64 - 20) && waited <= limit,
        "expired after {waited:?} (timeout {SHORT_TIMEOUT_MS} ms, tick {TICK_MS} ms)"
    );
    eprintln!("expired after {waited:?} with {queued} messages still queued");

    tokio::task::spawn_blocking(move || feeder.join())
        .await
        .expect("join feeder")
        .expect("feeder ran");
    // The ephemeral is gone for everyone.
    let msg = watcher.request(exists("/eph", false));
    core.send(msg).await.expect("core alive");
    assert_eq!(
        bounded(Duration::from_secs(10), "exists answered", async {
            loop {
                let h = watcher.next_header().await;
                if h.0 == 2 {
                    return h;
                }
            }
        })
        .await,
        (2, ErrorCode::NoNode as i32)
    );
}
