//! The reply side of one connection.
//!
//! The core task appends encoded frames (replies and watch events, in the
//! order the client must see them) to the connection's buffer and wakes its
//! writer; the writer takes everything queued so far and writes it with one
//! syscall. However many replies one pass of the core produced for a
//! connection, they leave in one write. The mutex is per connection and held
//! only to append or swap a buffer, so no lock is shared across connections.
//!
//! The outbox also carries the connection's flow control (see
//! [`Outbox::may_read`]): the bytes queued and not yet written, and the
//! requests read and not yet answered. ZooKeeper 3.8 queues replies without
//! bound (a client that never reads grows the server's heap until its
//! session expires); here the connection's reader stops reading while its
//! outbox holds more than a bound, so memory per connection stays near
//! that bound, and the session then expires as in ZooKeeper since nothing
//! more is read from it.
//!
//! Watch events are not asked for, so pausing the reader does not stop
//! them: a watcher that stops reading would hold every event until its
//! session expires. An event that finds the outbox holding more than
//! [`EVENT_HEADROOM`] times its bound closes the connection instead
//! ([`Outbox::push_event`]); the client reconnects and re-registers its
//! watches, as after any disconnection.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{BufMut, BytesMut};
use jute::proto::ReplyHeader;
use jute::Record;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::load::ServerLoad;

/// Default bound on a connection's queued reply bytes.
pub const DEFAULT_OUTBOX_LIMIT: usize = 1 << 20;

/// Replies a fresh connection may have outstanding before any reply has
/// shown how large its replies are.
const INITIAL_REPLIES_GUESS: usize = 16;

/// xid of watch notifications: pushed by the server, not answers.
const NOTIFICATION_XID: i32 = -1;

/// How many bounds' worth of bytes a connection's outbox may hold when a
/// watch event is added to it: one bound for replies (the paused reader
/// keeps those near it), the rest for a burst of events that the writer
/// has not yet caught up with. Beyond that the client is not reading.
pub const EVENT_HEADROOM: usize = 2;

/// A watch event found the outbox over its bound: the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflowed {
    /// Bytes queued and not yet written when the event came.
    pub pending: usize,
    /// This event closed the connection; later ones find it closing (only
    /// the first is worth a log line).
    pub closed_now: bool,
}

#[derive(Debug)]
pub struct Outbox {
    buf: Mutex<BytesMut>,
    wake: Notify,
    /// Set when the server decided to end the connection: the writer flushes
    /// what is queued, then shuts the socket.
    closing: CancellationToken,
    flow: Flow,
}

/// One connection's flow control, shared by its reader, the core and its
/// writer; all atomics, touched by those three only.
#[derive(Debug)]
struct Flow {
    load: Arc<ServerLoad>,
    /// Bytes queued beyond which the reader stops.
    limit: usize,
    /// Bytes pushed and not yet written to the socket.
    pending: AtomicUsize,
    /// Requests handed to the core and not yet answered.
    outstanding: AtomicUsize,
    /// A decaying maximum of recent reply sizes: how many more replies the
    /// outbox can take is estimated from it.
    reply_hint: AtomicUsize,
    reader_paused: AtomicBool,
    reader_wake: Notify,
    large: LargeFifo,
}

/// The large requests (`zookeeper.largeRequestThreshold`) a connection has
/// outstanding, so each one's bytes leave the server's budget when its
/// reply is queued (`ZooKeeperServer.requestFinished`). Replies come back
/// in request order, so requests are numbered as they are sent and
/// answered, and a large one is released when its number is answered. The
/// queue's lock is this connection's and is taken only while it holds
/// something: a connection without large requests costs two increments.
#[derive(Debug, Default)]
struct LargeFifo {
    /// Requests sent so far (the last one's number).
    sent: AtomicU64,
    /// Requests answered so far.
    answered: AtomicU64,
    /// Entries in `sizes`.
    queued: AtomicUsize,
    /// (request number, frame length), oldest first.
    sizes: Mutex<VecDeque<(u64, usize)>>,
}

impl LargeFifo {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, usize)>> {
        match self.sizes.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::with_flow(Arc::new(ServerLoad::default()), DEFAULT_OUTBOX_LIMIT)
    }
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// An outbox counting its requests in `load`, whose reader stops while
    /// more than `limit` bytes are queued.
    pub fn with_flow(load: Arc<ServerLoad>, limit: usize) -> Self {
        Outbox {
            buf: Mutex::new(BytesMut::new()),
            wake: Notify::new(),
            closing: CancellationToken::new(),
            flow: Flow {
                load,
                limit: limit.max(1),
                pending: AtomicUsize::new(0),
                outstanding: AtomicUsize::new(0),
                // Until replies show their size, assume the outbox takes 16.
                reply_hint: AtomicUsize::new(limit.max(1) / INITIAL_REPLIES_GUESS),
                reader_paused: AtomicBool::new(false),
                reader_wake: Notify::new(),
                large: LargeFifo::default(),
            },
        }
    }

    /// Appends one length-prefixed frame built by `fill`; returns the
    /// frame's length without its prefix (0 once the connection is closing).
    pub fn push_frame(&self, fill: impl FnOnce(&mut BytesMut)) -> usize {
        if self.closing.is_cancelled() {
            return 0;
        }
        let len = {
            let mut buf = match self.buf.lock() {
                Ok(b) => b,
                Err(poisoned) => poisoned.into_inner(),
            };
            let start = buf.len();
            buf.put_i32(0);
            fill(&mut buf);
            let len = buf.len() - start - 4;
            buf[start..start + 4].copy_from_slice(&(len as i32).to_be_bytes());
            len
        };
        self.queued(len + 4);
        self.wake.notify_one();
        len
    }

    /// Appends a reply: header, then the body when there is one; returns
    /// its length as [`Self::push_frame`] does.
    ///
    /// A reply to a request (any xid but the notifications' -1) ends that
    /// request's time in process, as `ServerCnxn.sendResponse` does.
    pub fn push_reply(&self, header: &ReplyHeader, body: Option<&dyn ErasedRecord>) -> usize {
        let is_answer = header.xid != NOTIFICATION_XID;
        // Counted as finished before the reply can reach the client, so a
        // client that has its answer never sees it still in process.
        if is_answer {
            self.answered();
        }
        let len = self.push_frame(|buf| {
            header.serialize(buf);
            if let Some(b) = body {
                b.serialize_erased(buf);
            }
        });
        if is_answer {
            self.note_reply_size(len + 4);
        }
        len
    }

    /// Appends a watch notification (xid -1) and returns its length as
    /// [`Self::push_frame`] does, unless the outbox already holds more than
    /// [`EVENT_HEADROOM`] times its bound: then the connection is closed
    /// (counted in the server's load) and nothing is added.
    pub fn push_event(
        &self,
        header: &ReplyHeader,
        body: &dyn ErasedRecord,
    ) -> Result<usize, Overflowed> {
        let pending = self.flow.pending.load(Ordering::SeqCst);
        if pending > self.flow.limit.saturating_mul(EVENT_HEADROOM) {
            let closed_now = !self.is_closing();
            if closed_now {
                self.flow.load.note_outbox_overflow();
                self.close();
            }
            return Err(Overflowed {
                pending,
                closed_now,
            });
        }
        Ok(self.push_reply(header, Some(body)))
    }

    /// Appends bytes as they are (four-letter-word answers have no framing).
    pub fn push_raw(&self, bytes: &[u8]) {
        if self.closing.is_cancelled() {
            return;
        }
        match self.buf.lock() {
            Ok(mut b) => b.extend_from_slice(bytes),
            Err(p) => p.into_inner().extend_from_slice(bytes),
        }
        self.queued(bytes.len());
        self.wake.notify_one();
    }

    /// Takes everything queued, leaving an empty buffer.
    pub fn take(&self) -> BytesMut {
        let mut buf = match self.buf.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        buf.split()
    }

    /// Bytes queued and not yet written: what the writer holds plus what
    /// it has not taken yet.
    pub fn pending_bytes(&self) -> usize {
        self.flow.pending.load(Ordering::SeqCst)
    }

    /// Requests read from this connection and not answered yet.
    pub fn outstanding(&self) -> usize {
        self.flow.outstanding.load(Ordering::SeqCst)
    }

    fn queued(&self, bytes: usize) {
        let f = &self.flow;
        let now = f.pending.fetch_add(bytes, Ordering::SeqCst) + bytes;
        if now > f.limit {
            f.load.note_outbox_bytes(now);
        }
    }

    /// The writer wrote `bytes` to the socket.
    pub fn written(&self, bytes: usize) {
        let f = &self.flow;
        let _ = f
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |p| {
                Some(p.saturating_sub(bytes))
            });
        self.wake_reader();
    }

    /// The reader handed a request (any xid but -1) to the core; it must
    /// already be counted in the server's load ([`ServerLoad::admit`]).
    pub fn request_sent(&self) {
        self.flow.large.sent.fetch_add(1, Ordering::SeqCst);
        self.flow.outstanding.fetch_add(1, Ordering::SeqCst);
    }

    /// [`Self::request_sent`] for a large request whose `len` bytes were
    /// taken by [`ServerLoad::take_large`]: they are released when its reply
    /// is queued, or when the connection settles.
    pub fn large_request_sent(&self, len: usize) {
        let large = &self.flow.large;
        let number = large.sent.load(Ordering::SeqCst) + 1;
        large.lock().push_back((number, len));
        large.queued.fetch_add(1, Ordering::SeqCst);
        self.request_sent();
    }

    /// One request answered.
    fn answered(&self) {
        let f = &self.flow;
        // Never below zero: requests already settled by `settle` are not
        // counted twice.
        let took = f
            .outstanding
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if took.is_ok() {
            let number = f.large.answered.fetch_add(1, Ordering::SeqCst) + 1;
            if f.large.queued.load(Ordering::SeqCst) > 0 {
                self.release_large(|n| n <= number);
            }
            f.load.finished(1);
        }
    }

    /// Releases the queued large requests whose number passes `done`.
    fn release_large(&self, done: impl Fn(u64) -> bool) {
        let f = &self.flow;
        let mut sizes = f.large.lock();
        while let Some(&(number, len)) = sizes.front() {
            if !done(number) {
                break;
            }
            sizes.pop_front();
            f.large.queued.fetch_sub(1, Ordering::SeqCst);
            f.load.release_large(len);
        }
    }

    /// A reply of `bytes` was queued: the size estimate follows it, and a
    /// paused reader re-checks.
    fn note_reply_size(&self, bytes: usize) {
        let f = &self.flow;
        let hint = f.reply_hint.load(Ordering::Relaxed);
        f.reply_hint
            .store(bytes.max(hint - hint / 8), Ordering::Relaxed);
        self.wake_reader();
    }

    /// The connection is gone: requests it still had outstanding leave the
    /// server's count (their replies, if any come, have nowhere to go).
    pub fn settle(&self) {
        let n = self.flow.outstanding.swap(0, Ordering::SeqCst);
        self.flow.load.finished(n);
        self.release_large(|_| true);
    }

    fn wake_reader(&self) {
        if self.flow.reader_paused.load(Ordering::SeqCst) {
            self.flow.reader_wake.notify_one();
        }
    }

    /// Whether the reader may read another request now:
    /// - not while more than the bound is queued;
    /// - with requests outstanding, not while their replies, estimated from
    ///   recent reply sizes, would take the outbox over the bound;
    /// - with requests outstanding, not while the server is over
    ///   `globalOutstandingLimit` (`ServerCnxn.incrOutstandingAndCheckThrottle`).
    ///
    /// A connection with nothing outstanding and room in its outbox always
    /// reads, so it can make progress whatever the others do.
    pub fn may_read(&self) -> Result<(), Paused> {
        let f = &self.flow;
        let pending = f.pending.load(Ordering::SeqCst);
        if pending > f.limit {
            return Err(Paused::Outbox);
        }
        let own = f.outstanding.load(Ordering::SeqCst);
        if own == 0 {
            return Ok(());
        }
        let hint = f.reply_hint.load(Ordering::Relaxed);
        if pending.saturating_add(own.saturating_mul(hint)) > f.limit {
            return Err(Paused::Outbox);
        }
        if f.load.over_global_limit() {
            return Err(Paused::Global);
        }
        Ok(())
    }

    /// Waits until [`Self::may_read`] allows reading. Woken by the writer
    /// draining and by replies being queued, never by polling.
    pub async fn wait_may_read(&self) {
        let f = &self.flow;
        let Err(why) = self.may_read() else {
            return;
        };
        match why {
            Paused::Outbox => f.load.note_outbox_pause(),
            Paused::Global => f.load.note_global_pause(),
        }
        loop {
            f.reader_paused.store(true, Ordering::SeqCst);
            // Checked again after announcing the pause: a wake-up sent in
            // between leaves a permit for the wait below.
            if self.may_read().is_ok() {
                break;
            }
            f.reader_wake.notified().await;
        }
        f.reader_paused.store(false, Ordering::SeqCst);
    }

    /// Bytes queued and not yet taken by the writer.
    pub fn queued_bytes(&self) -> usize {
        match self.buf.lock() {
            Ok(b) => b.len(),
            Err(poisoned) => poisoned.into_inner().len(),
        }
    }

    /// Waits until something is queued or the connection is closing.
    pub async fn wait(&self) {
        self.wake.notified().await
    }

    /// Asks the writer to flush and close.
    pub fn close(&self) {
        self.closing.cancel();
        self.wake.notify_one();
    }

    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Resolves once [`Self::close`] has been called.
    pub async fn wait_closed(&self) {
        self.closing.cancelled().await
    }
}

/// Why a connection's reader is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paused {
    Outbox,
    Global,
}

/// `Record` is generic over the buffer and so not object safe; replies of
/// many types pass through here as this.
pub trait ErasedRecord {
    fn serialize_erased(&self, out: &mut BytesMut);
}

impl<R: Record> ErasedRecord for R {
    fn serialize_erased(&self, out: &mut BytesMut) {
        self.serialize(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_length_prefixed_and_coalesced() {
        let o = Outbox::new();
        o.push_frame(|b| b.put_slice(b"abc"));
        o.push_frame(|b| b.put_slice(b"de"));
        let got = o.take();
        assert_eq!(&got[..], b"\0\0\0\x03abc\0\0\0\x02de");
        assert!(o.take().is_empty());
    }

    fn reply(o: &Outbox, xid: i32, body_len: usize) {
        let body = vec![7u8; body_len];
        o.push_frame(|b| b.put_slice(&body));
        if xid != NOTIFICATION_XID {
            o.answered();
            o.note_reply_size(body_len + 4);
        }
    }

    #[test]
    fn reader_pauses_while_the_outbox_is_over_its_bound() {
        let load = Arc::new(ServerLoad::new(1000, Default::default()));
        let o = Outbox::with_flow(load.clone(), 1000);
        assert_eq!(o.may_read(), Ok(()));
        reply(&o, 1, 600);
        assert_eq!(o.may_read(), Ok(()));
        reply(&o, 2, 600);
        assert_eq!(o.may_read(), Err(Paused::Outbox));
        let taken = o.take();
        assert_eq!(o.may_read(), Err(Paused::Outbox), "taken is not written");
        o.written(taken.len());
        assert_eq!(o.pending_bytes(), 0);
        assert_eq!(o.may_read(), Ok(()));
        assert!(load.outbox_peak() >= 1208);
    }

    #[test]
    fn outstanding_requests_count_against_the_bound_by_reply_size() {
        let load = Arc::new(ServerLoad::new(1000, Default::default()));
        let o = Outbox::with_flow(load.clone(), 1000);
        // Replies of ~300 bytes seen: three outstanding would fill the outbox.
        reply(&o, 1, 296);
        o.written(o.take().len());
        for _ in 0..3 {
            o.request_sent();
        }
        assert_eq!(o.may_read(), Ok(()));
        o.request_sent();
        assert_eq!(o.may_read(), Err(Paused::Outbox));
        o.settle();
        assert_eq!(o.outstanding(), 0);
        assert_eq!(o.may_read(), Ok(()));
    }

    #[test]
    fn before_any_reply_sixteen_may_be_outstanding() {
        let o = Outbox::with_flow(Arc::new(ServerLoad::default()), 1600);
        for _ in 0..16 {
            o.request_sent();
        }
        assert_eq!(o.may_read(), Ok(()));
        o.request_sent();
        assert_eq!(o.may_read(), Err(Paused::Outbox));
    }

    #[tokio::test]
    async fn global_limit_pauses_only_connections_with_requests_outstanding() {
        let load = Arc::new(ServerLoad::new(1, Default::default()));
        let busy = Arc::new(Outbox::with_flow(load.clone(), 1 << 20));
        let idle = Outbox::with_flow(load.clone(), 1 << 20);
        for _ in 0..2 {
            let admitted = load.admit(std::time::Instant::now(), std::time::Duration::MAX, || {
                false
            });
            assert_eq!(admitted.await, super::super::load::Admission::Admitted);
            busy.request_sent();
        }
        assert_eq!(busy.may_read(), Err(Paused::Global));
        assert_eq!(idle.may_read(), Ok(()));
        let waiter = tokio::spawn({
            let busy = busy.clone();
            async move { busy.wait_may_read().await }
        });
        // Let the waiter run until it has announced its pause.
        for _ in 0..1000 {
            if busy.flow.reader_paused.load(Ordering::SeqCst) {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(busy.flow.reader_paused.load(Ordering::SeqCst));
        // One reply: 1 in process, not over the limit of 1: reading resumes.
        reply(&busy, 1, 10);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("reader woken by the reply")
            .expect("waiter task");
        assert_eq!(load.global_pauses(), 1);
        // Notifications are not answers.
        reply(&busy, NOTIFICATION_XID, 10);
        assert_eq!(busy.outstanding(), 1);
        assert_eq!(load.in_process(), 1);
    }

    #[test]
    fn an_event_over_the_headroom_closes_the_connection() {
        let load = Arc::new(ServerLoad::default());
        let o = Outbox::with_flow(load.clone(), 1000);
        let event = |o: &Outbox| {
            o.push_event(
                &ReplyHeader {
                    xid: NOTIFICATION_XID,
                    zxid: -1,
                    err: 0,
                },
                &jute::proto::WatcherEvent {
                    type_: 3,
                    state: 3,
                    path: "x".repeat(480),
                },
            )
        };
        // 512-byte frames: events are added while the outbox holds up to
        // twice its bound...
        for _ in 0..4 {
            assert_eq!(event(&o), Ok(508));
        }
        assert_eq!(o.pending_bytes(), 2048);
        // ...and the one that finds it over closes it.
        assert_eq!(
            event(&o),
            Err(Overflowed {
                pending: 2048,
                closed_now: true
            })
        );
        assert!(o.is_closing());
        assert_eq!(load.outbox_overflows(), 1);
        assert_eq!(
            event(&o),
            Err(Overflowed {
                pending: 2048,
                closed_now: false
            }),
            "counted (and logged) once"
        );
        assert_eq!(load.outbox_overflows(), 1);
        // A writer that keeps up never gets there.
        let fresh = Outbox::with_flow(load.clone(), 1000);
        for _ in 0..100 {
            assert!(event(&fresh).is_ok());
            let taken = fresh.take();
            fresh.written(taken.len());
        }
        assert_eq!(load.outbox_overflows(), 1);
    }

    #[test]
    fn nothing_is_queued_after_close() {
        let o = Outbox::new();
        o.close();
        o.push_frame(|b| b.put_slice(b"x"));
        assert!(o.take().is_empty());
        assert!(o.is_closing());
    }

    #[test]
    fn large_requests_are_released_by_their_own_replies() {
        use super::super::load::LargeRequestLimit;
        let load = Arc::new(
            ServerLoad::default().with_large_requests(LargeRequestLimit {
                threshold: 10,
                max_bytes: 1000,
            }),
        );
        let o = Outbox::with_flow(load.clone(), DEFAULT_OUTBOX_LIMIT);
        // small, large 100, small, large 200
        o.request_sent();
        for (len, large) in [(100, true), (5, false), (200, true)] {
            if large {
                assert_eq!(load.take_large(len), Ok(true));
                o.large_request_sent(len);
            } else {
                o.request_sent();
            }
        }
        assert_eq!(load.large_bytes(), 300);
        reply(&o, 1, 1);
        assert_eq!(
            load.large_bytes(),
            300,
            "the first reply is the small one's"
        );
        reply(&o, 2, 1);
        assert_eq!(load.large_bytes(), 200);
        reply(&o, 3, 1);
        assert_eq!(load.large_bytes(), 200);
        // A notification is not an answer.
        reply(&o, NOTIFICATION_XID, 1);
        assert_eq!(load.large_bytes(), 200);
        reply(&o, 4, 1);
        assert_eq!(load.large_bytes(), 0);
        // What a closed connection still had outstanding is released too.
        assert_eq!(load.take_large(50), Ok(true));
        o.large_request_sent(50);
        o.settle();
        assert_eq!(load.large_bytes(), 0);
    }
}
