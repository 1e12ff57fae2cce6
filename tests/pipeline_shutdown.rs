//! The pipeline's side of a shutdown, with txn logs the test controls:
//! `CoreMsg::Shutdown` answers only after the txns already handed to sync
//! are durable and answered, refuses new sessions meanwhile, and leaves
//! sessions open; a failing txn log ends the core with `CoreExit::LogFailed`
//! and nothing acknowledged.

use std::net::SocketAddr;
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use ferrokeeper::net::Outbox;
use ferrokeeper::persist::TxnLog;
use ferrokeeper::pipeline::{ConnectMsg, CoreConfig, CoreExit, CoreMsg, Pipeline, ServerInfo};
use ferrokeeper::txn::LoggedTxn;
use jute::proto::ConnectRequest;
use tokio::sync::oneshot;

const BOUND: Duration = Duration::from_secs(5);

async fn bounded<F: std::future::Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(BOUND, f)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

fn connect(conn: u64) -> (CoreMsg, Arc<Outbox>, oneshot::Receiver<bool>) {
    let out = Arc::new(Outbox::new());
    let (tx, rx) = oneshot::channel();
    let addr: SocketAddr = ([127, 0, 0, 1], 40000 + conn as u16).into();
    let msg = ConnectMsg {
        conn,
        out: out.clone(),
        addr,
        req: ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: 30_000,
            session_id: 0,
            passwd: Some(vec![0; 16]),
            read_only: false,
        },
        sent_read_only: true,
        size: 48,
        received: Instant::now(),
        established: tx,
    };
    (CoreMsg::Connect(Box::new(msg)), out, rx)
}

/// A log whose commit waits for the test's go-ahead, and tells the test
/// when a commit has begun.
struct GatedLog {
    last: i64,
    began: std_mpsc::Sender<()>,
    go: Arc<Mutex<std_mpsc::Receiver<()>>>,
}

impl TxnLog for GatedLog {
    fn append(&mut self, txn: &LoggedTxn) -> std::io::Result<()> {
        self.last = txn.header.zxid;
        Ok(())
    }
    fn commit(&mut self) -> std::io::Result<()> {
        let _ = self.began.send(());
        let go = self
            .go
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?;
        go.recv_timeout(BOUND)
            .map_err(|_| std::io::Error::other("test never released the commit"))
    }
    fn last_zxid(&self) -> i64 {
        self.last
    }
}

struct FailingLog;

impl TxnLog for FailingLog {
    fn append(&mut self, _: &LoggedTxn) -> std::io::Result<()> {
        Ok(())
    }
    fn commit(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::other("disk on fire"))
    }
    fn last_zxid(&self) -> i64 {
        0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_waits_for_txns_in_flight_and_keeps_sessions() {
    let (began_tx, began_rx) = std_mpsc::channel();
    let (go_tx, go_rx) = std_mpsc::channel();
    let log = GatedLog {
        last: 0,
        began: began_tx,
        go: Arc::new(Mutex::new(go_rx)),
    };
    let tasks = Pipeline::new(CoreConfig::default(), ServerInfo::default())
        .start(Box::new(log), 0, None)
        .expect("start pipeline");
    let core = tasks.core_tx.clone();

    // A new session: its createSession txn reaches sync, whose commit waits.
    let (msg, out, mut established) = connect(1);
    core.send(msg).await.expect("core alive");
    tokio::task::spawn_blocking(move || began_rx.recv_timeout(BOUND))
        .await
        .expect("join")
        .expect("the createSession txn reached the log");

    // Shut down while that txn is in flight.
    let (done_tx, done_rx) = oneshot::channel();
    core.send(CoreMsg::Shutdown(done_tx))
        .await
        .expect("core alive");
    // A session asked for after the shutdown began is refused.
    let (late, late_out, late_established) = connect(2);
    core.send(late).await.expect("core alive");
    assert_eq!(
        bounded("late connect answered", late_established).await,
        Ok(false)
    );
    assert!(late_out.is_closing());
    assert!(
        established.try_recv().is_err(),
        "nothing is answered before the commit"
    );

    go_tx.send(()).expect("log waiting");
    let drained = bounded("drained", done_rx).await.expect("drained reply");
    // The in-flight txn was committed, applied and answered first.
    assert_eq!(established.try_recv(), Ok(true));
    assert_eq!(drained.last_zxid, 1);
    assert_eq!(drained.sessions, 1, "sessions stay open for the restart");
    assert_eq!(drained.outboxes.len(), 1);
    assert!(out.is_closing(), "client connections are closed");
    assert!(
        out.queued_bytes() > 0,
        "the ConnectResponse is queued for the writer to flush"
    );
    drop(core);
    let exit = bounded("core ends", tasks.core).await.expect("join core");
    assert_eq!(exit, CoreExit::Shutdown);
    bounded("sync ends", tasks.sync.join())
        .await
        .expect("join sync");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_txn_log_stops_the_core_with_nothing_acknowledged() {
    let tasks = Pipeline::new(CoreConfig::default(), ServerInfo::default())
        .start(Box::new(FailingLog), 0, None)
        .expect("start pipeline");
    let (msg, out, established) = connect(1);
    tasks.core_tx.send(msg).await.expect("core alive");
    let exit = bounded("core ends", tasks.core).await.expect("join core");
    assert!(
        matches!(&exit, CoreExit::LogFailed(e) if e.contains("disk on fire")),
        "{exit:?}"
    );
    assert!(
        bounded("connect resolved", established).await != Ok(true),
        "the session was not acknowledged"
    );
    assert_eq!(out.queued_bytes(), 0, "no reply was queued");
}
