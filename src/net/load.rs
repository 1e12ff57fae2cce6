//! Server-wide request accounting: how many requests are in process, and
//! the two limits ZooKeeper 3.8 puts on that number.
//!
//! A request is *in process* from the moment its connection hands it to the
//! core until its reply is queued on the connection's [`super::Outbox`]
//! (ZooKeeper: `requestsInProcess`, incremented when a request enters the
//! processor chain, decremented in `FinalRequestProcessor`). The count is
//! one atomic: each request costs one increment and one decrement, and no
//! lock is taken unless a limit is actually biting.
//!
//! - `globalOutstandingLimit` (`ZooKeeperServer.shouldThrottle`): while more
//!   requests than the limit are in process, a connection that has requests
//!   of its own outstanding stops reading (NIO `disableRecv`) and resumes
//!   when one of its replies goes out and the total is back under the
//!   limit, or when it has nothing outstanding. Applied in
//!   [`super::Outbox::may_read`].
//! - `zookeeper.request_throttle_max_requests` (`RequestThrottler`, off by
//!   default): a request waits before entering the core until fewer than
//!   that many are in process, re-checking every `request_throttle_stall_time`
//!   ms or as soon as one finishes; with `request_throttle_drop_stale`, a
//!   request that became stale while waiting is dropped and its connection
//!   closed. Applied in [`ServerLoad::admit`].

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// `RequestThrottler`'s settings (system properties `zookeeper.request_throttle_*`
/// and `zookeeper.request_stale_*`).
#[derive(Debug, Clone)]
pub struct RequestThrottleConfig {
    /// `request_throttle_max_requests`: most requests in process; 0 = off (default).
    pub max_requests: u32,
    /// `request_throttle_stall_time`: how long a waiting request sleeps
    /// between checks, unless woken earlier (default 100 ms).
    pub stall: Duration,
    /// `request_throttle_drop_stale` (default true).
    pub drop_stale: bool,
    /// `request_stale_connection_check` (default true): a request of a
    /// closed connection is stale.
    pub stale_connection_check: bool,
    /// `request_stale_latency_check` (default false): a request older than
    /// its session timeout is stale.
    pub stale_latency_check: bool,
}

impl Default for RequestThrottleConfig {
    fn default() -> Self {
        RequestThrottleConfig {
            max_requests: 0,
            stall: Duration::from_millis(100),
            drop_stale: true,
            stale_connection_check: true,
            stale_latency_check: false,
        }
    }
}

/// What became of a request at the throttler.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Counted as in process; hand it to the core.
    Admitted,
    /// Stale and dropped (`request_throttle_drop_stale`): the connection must close.
    DroppedStale,
}

/// The server-wide counters; one per server, shared by every connection.
#[derive(Debug)]
pub struct ServerLoad {
    /// `globalOutstandingLimit` (may be 0 or negative, as in Java).
    global_limit: i64,
    throttle: RequestThrottleConfig,
    in_process: AtomicI64,
    /// Requests held at the request throttler (`RequestThrottler.getInflight`).
    waiting: AtomicI64,
    /// Wakes requests held at the request throttler when one finishes.
    finished: Notify,
    // ----- observations (for tests and operators) -----
    peak_in_process: AtomicI64,
    global_pauses: AtomicU64,
    outbox_pauses: AtomicU64,
    outbox_peak: AtomicUsize,
    stale_dropped: AtomicU64,
    accept_errors: AtomicU64,
    rejected: AtomicU64,
    sessionless_expired: AtomicU64,
    throttle_waits: AtomicU64,
    /// The connection throttle's drop chance, as f64 bits.
    drop_chance: AtomicU64,
}

impl Default for ServerLoad {
    fn default() -> Self {
        ServerLoad::new(1000, RequestThrottleConfig::default())
    }
}

impl ServerLoad {
    pub fn new(global_limit: i64, throttle: RequestThrottleConfig) -> ServerLoad {
        ServerLoad {
            global_limit,
            throttle,
            in_process: AtomicI64::new(0),
            waiting: AtomicI64::new(0),
            finished: Notify::new(),
            peak_in_process: AtomicI64::new(0),
            global_pauses: AtomicU64::new(0),
            outbox_pauses: AtomicU64::new(0),
            outbox_peak: AtomicUsize::new(0),
            stale_dropped: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            sessionless_expired: AtomicU64::new(0),
            throttle_waits: AtomicU64::new(0),
            drop_chance: AtomicU64::new(0),
        }
    }

    /// `ZooKeeperServer.shouldThrottle` for a connection with requests
    /// outstanding: more requests in process (or held at the request
    /// throttler) than `globalOutstandingLimit`.
    pub fn over_global_limit(&self) -> bool {
        self.global_limit < self.in_process.load(Ordering::SeqCst)
            || self.global_limit < self.waiting.load(Ordering::Relaxed)
    }

    /// Lets one request into the core, waiting at the request throttler when
    /// it is on. `received`: when the request was read; `session_timeout`:
    /// its session's negotiated timeout; `closed`: whether its connection
    /// is closing (both for the staleness checks).
    pub async fn admit(
        &self,
        received: Instant,
        session_timeout: Duration,
        closed: impl Fn() -> bool,
    ) -> Admission {
        let max = i64::from(self.throttle.max_requests);
        if max == 0 {
            let now = self.in_process.fetch_add(1, Ordering::SeqCst) + 1;
            if now > self.global_limit {
                self.peak_in_process.fetch_max(now, Ordering::Relaxed);
            }
            return Admission::Admitted;
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let _held = Held(&self.waiting);
        loop {
            let stale = (self.throttle.stale_connection_check && closed())
                || (self.throttle.stale_latency_check && received.elapsed() > session_timeout);
            if self.throttle.drop_stale && stale {
                self.stale_dropped.fetch_add(1, Ordering::Relaxed);
                return Admission::DroppedStale;
            }
            // Registered before the check, so a finish between the check
            // and the wait is not missed.
            let woken = self.finished.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let took = self
                .in_process
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < max).then_some(n + 1)
                });
            if let Ok(before) = took {
                self.peak_in_process
                    .fetch_max(before + 1, Ordering::Relaxed);
                return Admission::Admitted;
            }
            self.throttle_waits.fetch_add(1, Ordering::Relaxed);
            let _ = tokio::time::timeout(self.throttle.stall, woken).await;
        }
    }

    /// `n` requests finished (their replies are queued, or their connection
    /// is gone).
    pub fn finished(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.in_process.fetch_sub(n as i64, Ordering::SeqCst);
        if self.waiting.load(Ordering::Relaxed) > 0 {
            self.finished.notify_waiters();
        }
    }

    /// Requests in process right now.
    pub fn in_process(&self) -> i64 {
        self.in_process.load(Ordering::SeqCst)
    }

    /// The most requests ever in process at once, as far as it was above
    /// `globalOutstandingLimit` or the request throttler was on (0 otherwise:
    /// the common path does not track it).
    pub fn peak_in_process(&self) -> i64 {
        self.peak_in_process.load(Ordering::Relaxed)
    }

    /// Times a connection stopped reading for `globalOutstandingLimit`.
    pub fn global_pauses(&self) -> u64 {
        self.global_pauses.load(Ordering::Relaxed)
    }

    /// Times a connection stopped reading because its outbox was full.
    pub fn outbox_pauses(&self) -> u64 {
        self.outbox_pauses.load(Ordering::Relaxed)
    }

    /// The most bytes any one connection had queued, as far as that was
    /// over its outbox bound (0 if no outbox ever went over).
    pub fn outbox_peak(&self) -> usize {
        self.outbox_peak.load(Ordering::Relaxed)
    }

    /// Requests dropped as stale by the request throttler.
    pub fn stale_dropped(&self) -> u64 {
        self.stale_dropped.load(Ordering::Relaxed)
    }

    /// Failed `accept` calls (EMFILE and the like).
    pub fn accept_errors(&self) -> u64 {
        self.accept_errors.load(Ordering::Relaxed)
    }

    /// Connections refused: maxClientCnxns, maxCnxns, connection throttle
    /// (ZooKeeper's `connection_rejected`).
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// Connections closed for not completing their handshake in time
    /// (`sessionless_connections_expired`).
    pub fn sessionless_expired(&self) -> u64 {
        self.sessionless_expired.load(Ordering::Relaxed)
    }

    /// Waits at the request throttler (`request_throttle_wait_count`).
    pub fn throttle_waits(&self) -> u64 {
        self.throttle_waits.load(Ordering::Relaxed)
    }

    /// The connection throttle's current random-drop chance
    /// (`connection_drop_probability`).
    pub fn connection_drop_chance(&self) -> f64 {
        f64::from_bits(self.drop_chance.load(Ordering::Relaxed))
    }

    pub(super) fn note_drop_chance(&self, chance: f64) {
        self.drop_chance.store(chance.to_bits(), Ordering::Relaxed);
    }

    pub(super) fn note_global_pause(&self) {
        self.global_pauses.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn note_outbox_pause(&self) {
        self.outbox_pauses.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn note_outbox_bytes(&self, bytes: usize) {
        self.outbox_peak.fetch_max(bytes, Ordering::Relaxed);
    }

    pub(super) fn note_accept_error(&self) {
        self.accept_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn note_rejected(&self) {
        self.rejected.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn note_sessionless_expired(&self) {
        self.sessionless_expired.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts a request as held at the throttler for as long as it lives.
struct Held<'a>(&'a AtomicI64);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn throttled(max: u32, latency_check: bool) -> ServerLoad {
        ServerLoad::new(
            1000,
            RequestThrottleConfig {
                max_requests: max,
                stall: Duration::from_millis(20),
                drop_stale: true,
                stale_connection_check: true,
                stale_latency_check: latency_check,
            },
        )
    }

    #[tokio::test]
    async fn unthrottled_admits_at_once_and_counts() {
        let load = ServerLoad::new(2, RequestThrottleConfig::default());
        for _ in 0..3 {
            let a = load.admit(Instant::now(), Duration::from_secs(1), || false);
            assert_eq!(a.await, Admission::Admitted);
        }
        assert_eq!(load.in_process(), 3);
        assert!(load.over_global_limit());
        assert_eq!(load.peak_in_process(), 3);
        load.finished(1);
        assert!(!load.over_global_limit());
    }

    #[tokio::test]
    async fn max_requests_holds_until_one_finishes() {
        let load = Arc::new(throttled(1, false));
        let first = load.admit(Instant::now(), Duration::from_secs(10), || false);
        assert_eq!(first.await, Admission::Admitted);
        let l2 = load.clone();
        let second = tokio::spawn(async move {
            l2.admit(Instant::now(), Duration::from_secs(10), || false)
                .await
        });
        // Held: the stall time passes several times and it is still waiting.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!second.is_finished());
        assert_eq!(load.in_process(), 1);
        load.finished(1);
        let got = tokio::time::timeout(Duration::from_secs(5), second).await;
        assert_eq!(got.ok().and_then(|r| r.ok()), Some(Admission::Admitted));
        assert_eq!(load.in_process(), 1);
        assert_eq!(load.peak_in_process(), 1);
    }

    #[tokio::test]
    async fn stale_requests_are_dropped_while_held() {
        // Closed connection.
        let load = throttled(1, false);
        assert_eq!(
            load.admit(Instant::now(), Duration::from_secs(10), || false)
                .await,
            Admission::Admitted
        );
        let dropped = load.admit(Instant::now(), Duration::from_secs(10), || true);
        assert_eq!(dropped.await, Admission::DroppedStale);
        assert_eq!(load.stale_dropped(), 1);
        // Older than the session timeout, with the latency check on.
        let load = throttled(1, true);
        let _ = load
            .admit(Instant::now(), Duration::from_secs(10), || false)
            .await;
        let old = Instant::now();
        let waited = load.admit(old, Duration::from_millis(50), || false);
        let got = tokio::time::timeout(Duration::from_secs(5), waited).await;
        assert_eq!(got.ok(), Some(Admission::DroppedStale));
        // Staleness is checked before room, as in RequestThrottler.run;
        // with the throttler off nothing is ever dropped.
        let load = throttled(5, true);
        let late = Instant::now() - Duration::from_secs(1);
        let got = load.admit(late, Duration::from_millis(1), || false);
        assert_eq!(got.await, Admission::DroppedStale);
        let off = ServerLoad::new(1000, RequestThrottleConfig::default());
        let got = off.admit(late, Duration::from_millis(1), || true);
        assert_eq!(got.await, Admission::Admitted);
    }
}
