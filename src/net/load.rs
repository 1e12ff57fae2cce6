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
//!   closed. Applied in [`ServerLoad::admit`]. With
//!   `zookeeper.throttled_op_wait_time` (ms, off by default), a throttlable
//!   request that waited there longer than that is marked throttled
//!   ([`ServerLoad::should_throttle_op`]): the core answers it THROTTLEDOP
//!   without preparing, logging or applying it.
//! - `zookeeper.largeRequestThreshold` / `largeRequestMaxBytes`
//!   (`ZooKeeperServer.checkRequestSize*`, off by default): a request frame
//!   longer than the threshold counts its length in one more atomic until
//!   its reply is queued; a frame that would take that total over the max
//!   closes its connection ([`ServerLoad::check_large`],
//!   [`ServerLoad::take_large`], released per connection by the outbox).

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
    /// `zookeeper.throttled_op_wait_time`, ms: a throttlable request that
    /// waited here longer than this is answered THROTTLEDOP; 0 = off (default).
    pub throttled_op_wait_ms: u64,
}

impl Default for RequestThrottleConfig {
    fn default() -> Self {
        RequestThrottleConfig {
            max_requests: 0,
            stall: Duration::from_millis(100),
            drop_stale: true,
            stale_connection_check: true,
            stale_latency_check: false,
            throttled_op_wait_ms: 0,
        }
    }
}

/// `zookeeper.largeRequestThreshold` and `zookeeper.largeRequestMaxBytes`,
/// already validated as `ZooKeeperServer`'s setters do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LargeRequestLimit {
    /// Frames longer than this are large; -1 = off (default).
    pub threshold: i32,
    /// Most bytes of large requests in process at once (default 100 MiB).
    pub max_bytes: i32,
}

impl Default for LargeRequestLimit {
    fn default() -> Self {
        LargeRequestLimit {
            threshold: -1,
            max_bytes: 100 * 1024 * 1024,
        }
    }
}

impl LargeRequestLimit {
    /// The limit ZooKeeper keeps for these property values:
    /// `setLargeRequestThreshold` turns 0 and anything below -1 into -1, and
    /// `setLargeRequestMaxBytes` ignores a value <= 0; both with a warning.
    pub fn validated(threshold: i32, max_bytes: i32) -> LargeRequestLimit {
        let mut limit = LargeRequestLimit::default();
        if threshold == 0 || threshold < -1 {
            tracing::warn!(
                "Invalid large request threshold {threshold}. It should be -1 or positive. Setting to -1"
            );
        } else {
            limit.threshold = threshold;
        }
        if max_bytes <= 0 {
            tracing::warn!(
                "Invalid max bytes for all large requests {max_bytes}. It should be a positive number. The max bytes stay at {}",
                limit.max_bytes
            );
        } else {
            limit.max_bytes = max_bytes;
        }
        limit
    }
}

/// A large request that would take the large bytes in process over
/// `largeRequestMaxBytes`: its connection is closed.
#[derive(Debug, PartialEq, Eq)]
pub struct LargeRejected;

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
    outbox_overflows: AtomicU64,
    stale_dropped: AtomicU64,
    accept_errors: AtomicU64,
    rejected: AtomicU64,
    sessionless_expired: AtomicU64,
    throttle_waits: AtomicU64,
    /// The connection throttle's drop chance, as f64 bits.
    drop_chance: AtomicU64,
    large: LargeRequestLimit,
    /// Bytes of large requests in process (`currentLargeRequestBytes`).
    large_bytes: AtomicI64,
    large_rejected: AtomicU64,
    throttled_ops: AtomicU64,
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
            outbox_overflows: AtomicU64::new(0),
            stale_dropped: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            sessionless_expired: AtomicU64::new(0),
            throttle_waits: AtomicU64::new(0),
            drop_chance: AtomicU64::new(0),
            large: LargeRequestLimit::default(),
            large_bytes: AtomicI64::new(0),
            large_rejected: AtomicU64::new(0),
            throttled_ops: AtomicU64::new(0),
        }
    }

    /// The same, with the large-request limit `large`.
    pub fn with_large_requests(mut self, large: LargeRequestLimit) -> ServerLoad {
        self.large = large;
        self
    }

    /// `isLargeRequest`: whether a request frame of `len` bytes (without
    /// its length prefix) counts against `largeRequestMaxBytes`.
    pub fn is_large(&self, len: usize) -> bool {
        self.large.threshold != -1 && len > self.large.threshold as usize
    }

    /// `checkRequestSizeWhenReceivingMessage`, when a frame's length has
    /// been read: a large frame that would not fit now is rejected (and
    /// counted in `large_requests_rejected`); nothing is taken yet.
    pub fn check_large(&self, len: usize) -> Result<(), LargeRejected> {
        if !self.is_large(len) {
            return Ok(());
        }
        if self.large_bytes.load(Ordering::SeqCst) + len as i64 <= i64::from(self.large.max_bytes) {
            Ok(())
        } else {
            self.large_rejected.fetch_add(1, Ordering::Relaxed);
            Err(LargeRejected)
        }
    }

    /// `checkRequestSizeWhenMessageReceived`, once the whole frame is read:
    /// a large request takes its length from the budget, or is rejected
    /// (and counted) if that would go over it. Ok(true) when taken: the
    /// caller must [`Self::release_large`] it when the request finishes.
    pub fn take_large(&self, len: usize) -> Result<bool, LargeRejected> {
        if !self.is_large(len) {
            return Ok(false);
        }
        let len = len as i64;
        let now = self.large_bytes.fetch_add(len, Ordering::SeqCst) + len;
        if now > i64::from(self.large.max_bytes) {
            self.large_bytes.fetch_sub(len, Ordering::SeqCst);
            self.large_rejected.fetch_add(1, Ordering::Relaxed);
            return Err(LargeRejected);
        }
        Ok(true)
    }

    /// `requestFinished`: a large request taken by [`Self::take_large`] is
    /// answered (or its connection is gone).
    pub fn release_large(&self, len: usize) {
        self.large_bytes.fetch_sub(len as i64, Ordering::SeqCst);
    }

    /// Bytes of large requests in process now (`getLargeRequestBytes`).
    pub fn large_bytes(&self) -> i64 {
        self.large_bytes.load(Ordering::SeqCst)
    }

    /// Large requests whose connection was closed (`large_requests_rejected`).
    pub fn large_rejected(&self) -> u64 {
        self.large_rejected.load(Ordering::Relaxed)
    }

    /// `RequestThrottler.shouldThrottleOp`, once a request leaves the
    /// throttler after `waited` there: a throttlable request (`isThrottlable`:
    /// not ping, createSession or closeSession) that waited longer than
    /// `throttled_op_wait_time` ms is throttled, and counted in `throttled_ops`.
    pub fn should_throttle_op(&self, throttlable: bool, waited: Duration) -> bool {
        let limit = self.throttle.throttled_op_wait_ms;
        let throttle = throttlable && limit > 0 && waited.as_millis() > u128::from(limit);
        if throttle {
            self.throttled_ops.fetch_add(1, Ordering::Relaxed);
        }
        throttle
    }

    /// Requests answered THROTTLEDOP (`throttled_ops`).
    pub fn throttled_ops(&self) -> u64 {
        self.throttled_ops.load(Ordering::Relaxed)
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

    pub(super) fn note_outbox_overflow(&self) {
        self.outbox_overflows.fetch_add(1, Ordering::Relaxed);
    }

    /// Connections closed because a watch event found their outbox over
    /// its bound ([`super::Outbox::push_event`]).
    pub fn outbox_overflows(&self) -> u64 {
        self.outbox_overflows.load(Ordering::Relaxed)
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
                throttled_op_wait_ms: 0,
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

    #[test]
    fn large_requests_take_and_release_their_bytes() {
        let off = ServerLoad::default();
        assert!(!off.is_large(usize::MAX >> 1));
        assert_eq!(off.take_large(1 << 30), Ok(false));
        let load = ServerLoad::default().with_large_requests(LargeRequestLimit {
            threshold: 100,
            max_bytes: 250,
        });
        // At the threshold is not large; above it is.
        assert_eq!(load.take_large(100), Ok(false));
        assert_eq!(load.check_large(101), Ok(()));
        assert_eq!(load.take_large(101), Ok(true));
        assert_eq!(load.take_large(149), Ok(true));
        assert_eq!(load.large_bytes(), 250);
        // Full: the length check and the take both refuse, and count it.
        assert_eq!(load.check_large(101), Err(LargeRejected));
        assert_eq!(load.take_large(101), Err(LargeRejected));
        assert_eq!(load.large_bytes(), 250);
        assert_eq!(load.large_rejected(), 2);
        // Small requests are never refused.
        assert_eq!(load.check_large(100), Ok(()));
        load.release_large(149);
        assert_eq!(load.take_large(149), Ok(true));
        load.release_large(149);
        load.release_large(101);
        assert_eq!(load.large_bytes(), 0);
    }

    #[test]
    fn large_request_settings_are_validated_as_in_zookeeper() {
        let d = LargeRequestLimit::default();
        assert_eq!(d.threshold, -1);
        assert_eq!(d.max_bytes, 100 * 1024 * 1024);
        assert_eq!(LargeRequestLimit::validated(0, 0), d);
        assert_eq!(LargeRequestLimit::validated(-2, -5), d);
        assert_eq!(LargeRequestLimit::validated(-1, 10).threshold, -1);
        assert_eq!(
            LargeRequestLimit::validated(4096, 10_000),
            LargeRequestLimit {
                threshold: 4096,
                max_bytes: 10_000
            }
        );
    }

    #[test]
    fn ops_are_throttled_only_past_the_wait_time() {
        let off = ServerLoad::default();
        assert!(!off.should_throttle_op(true, Duration::from_secs(60)));
        let cfg = RequestThrottleConfig {
            throttled_op_wait_ms: 5,
            ..Default::default()
        };
        let load = ServerLoad::new(1000, cfg);
        // elapsedTime > throttledOpWaitTime, in whole ms.
        assert!(!load.should_throttle_op(true, Duration::from_millis(5)));
        assert!(!load.should_throttle_op(true, Duration::from_micros(5_900)));
        assert!(!load.should_throttle_op(false, Duration::from_secs(1)));
        assert!(load.should_throttle_op(true, Duration::from_millis(6)));
        assert_eq!(load.throttled_ops(), 1);
    }
}
