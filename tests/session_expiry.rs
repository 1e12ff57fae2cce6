//! Session expiry over real TCP, on a server with a 100 ms tick (sessions of
//! 200 ms to 2 s): a silent session expires, its ephemerals go, other
//! sessions' watches fire; a pinging session does not expire.

mod common;

use std::time::{Duration, Instant};

use common::{bounded_by, new_session_request, Client, TestServer};
use jute::consts::{CreateMode, ErrorCode, EventType, KeeperState};
use jute::proto::WatcherEvent;

const TICK_MS: u64 = 100;
const MIN_TIMEOUT_MS: i32 = 200;
const MAX_TIMEOUT_MS: i32 = 2000;

async fn fast_tick_server() -> TestServer {
    TestServer::start_with(|s| {
        s.core.tick_ms = TICK_MS;
        s.core.min_session_timeout_ms = MIN_TIMEOUT_MS;
        s.core.max_session_timeout_ms = MAX_TIMEOUT_MS;
    })
    .await
}

#[tokio::test]
async fn silent_session_expires_and_its_ephemerals_go() {
    let srv = fast_tick_server().await;
    // The observer asks for the maximum so it outlives the test without
    // pinging; the doomed session gets the minimum.
    let mut observer = Client::connect(srv.addr, 60_000).await;
    assert_eq!(observer.timeout_ms, MAX_TIMEOUT_MS);
    let mut doomed = Client::connect(srv.addr, 1).await;
    assert_eq!(doomed.timeout_ms, MIN_TIMEOUT_MS);

    assert_eq!(
        doomed.create("/eph", b"", CreateMode::Ephemeral).await,
        Ok("/eph".into())
    );
    let seq = doomed
        .create("/eph-", b"", CreateMode::EphemeralSequential)
        .await
        .expect("sequential ephemeral");
    assert!(seq.starts_with("/eph-") && seq.len() == "/eph-".len() + 10);
    assert_eq!(
        doomed.create("/persist", b"", CreateMode::Persistent).await,
        Ok("/persist".into())
    );
    // The doomed session's last request; from here on it stays silent
    // with its TCP connection open.
    doomed.ping().await;
    let silent_since = Instant::now();

    let stat = observer.exists("/eph", true).await.expect("/eph exists");
    assert_eq!(stat.ephemeral_owner, doomed.session_id);
    assert!(observer.get_data(&seq, true).await.is_ok());

    // Expiry is due within timeout + one tick; allow generous slack on a
    // loaded machine but stay below the observer's own timeout.
    let limit = Duration::from_millis(1500);
    let first = bounded_by(limit, "NodeDeleted after expiry", observer.next_event()).await;
    let second = bounded_by(limit, "second NodeDeleted", observer.next_event()).await;
    let waited = silent_since.elapsed();
    let mut got = vec![first, second];
    got.sort_by(|a, b| a.path.cmp(&b.path));
    let deleted = |p: &str| WatcherEvent {
        type_: EventType::NodeDeleted.code(),
        state: KeeperState::SyncConnected.code(),
        path: p.into(),
    };
    assert_eq!(got, vec![deleted("/eph"), deleted(&seq)]);
    assert!(
        waited >= Duration::from_millis(MIN_TIMEOUT_MS as u64 - 20),
        "session expired after {waited:?}, before its {MIN_TIMEOUT_MS} ms timeout"
    );

    // The server closed the expired session's connection.
    doomed.expect_closed().await;

    // The ephemerals are gone, the persistent node stays.
    assert_eq!(
        observer.exists("/eph", false).await.err(),
        Some(ErrorCode::NoNode.code())
    );
    assert_eq!(
        observer.exists(&seq, false).await.err(),
        Some(ErrorCode::NoNode.code())
    );
    assert!(observer.exists("/persist", false).await.is_ok());

    // Reattaching the expired session is refused: timeout 0, session 0.
    let mut back = Client::open(srv.addr).await;
    let mut req = new_session_request(MIN_TIMEOUT_MS);
    req.session_id = doomed.session_id;
    req.passwd = Some(doomed.passwd.clone());
    let hs = back
        .handshake(&req, true)
        .await
        .expect("refusal is answered");
    assert_eq!((hs.response.time_out, hs.response.session_id), (0, 0));
    back.expect_closed().await;

    observer.assert_serving().await;
}

#[tokio::test]
async fn pinging_session_outlives_its_timeout() {
    let srv = fast_tick_server().await;
    let mut c = Client::connect(srv.addr, MIN_TIMEOUT_MS).await;
    assert_eq!(c.timeout_ms, MIN_TIMEOUT_MS);
    assert_eq!(
        c.create("/alive", b"", CreateMode::Ephemeral).await,
        Ok("/alive".into())
    );
    // A client pings at a fraction of its timeout; do so for three
    // timeouts. (The interval is client behaviour, not synchronisation.)
    let start = Instant::now();
    let mut every = tokio::time::interval(Duration::from_millis(40));
    while start.elapsed() < Duration::from_millis(3 * MIN_TIMEOUT_MS as u64) {
        every.tick().await;
        assert_eq!(c.ping().await.err, 0);
    }
    assert!(c.events.is_empty());
    let stat = c.exists("/alive", false).await.expect("still alive");
    assert_eq!(stat.ephemeral_owner, c.session_id);
    c.assert_serving().await;
}

#[tokio::test]
async fn closed_connection_keeps_session_until_timeout() {
    let srv = fast_tick_server().await;
    let mut observer = Client::connect(srv.addr, 60_000).await;
    let mut gone = Client::connect(srv.addr, MIN_TIMEOUT_MS).await;
    assert_eq!(
        gone.create("/left", b"", CreateMode::Ephemeral).await,
        Ok("/left".into())
    );
    let session = gone.session_id;
    let passwd = gone.passwd.clone();
    assert!(observer.exists("/left", true).await.is_ok());
    // Dropping the TCP connection does not end the session: a client may
    // reattach within the timeout, and the ephemeral is still there.
    drop(gone);
    let mut back = Client::open(srv.addr).await;
    let mut req = new_session_request(MIN_TIMEOUT_MS);
    req.session_id = session;
    req.passwd = Some(passwd);
    let hs = back.handshake(&req, true).await.expect("answered");
    assert_eq!(hs.response.session_id, session, "reattached");
    assert_eq!(
        back.exists("/left", false).await.map(|s| s.ephemeral_owner),
        Ok(session)
    );
    // Then silence: it expires and the observer hears of it.
    drop(back);
    let ev = bounded_by(
        Duration::from_millis(1500),
        "NodeDeleted after expiry",
        observer.next_event(),
    )
    .await;
    assert_eq!(
        (ev.type_, ev.path.as_str()),
        (EventType::NodeDeleted.code(), "/left")
    );
    observer.assert_serving().await;
}
