//! One quorum connection: an outbox drained by a writer task, and a reader
//! task that turns the socket's bytes into [`PeerEvent`]s.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::Notify;

use super::{lock, PeerEvent};
use crate::quorum::wire::packet::PacketType;
use crate::quorum::wire::{
    decode_quorum_packet, encode_quorum_packet, PacketLimit, QuorumPacket, SnapScanner,
};

/// Bytes asked of the socket per read.
const READ_CHUNK: usize = 64 * 1024;

/// What a connection has sent so far (for tests and diagnostics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Packets queued on the connection (a SNAP and its stream count once).
    pub packets_queued: u64,
    /// `write_all` calls the writer made: everything queued between two
    /// turns of the writer goes out in one (a SNAP stream is a write of its own).
    pub writes: u64,
    pub bytes_written: u64,
}

#[derive(Default)]
struct Counters {
    packets_queued: AtomicU64,
    writes: AtomicU64,
    bytes_written: AtomicU64,
}

#[derive(Default)]
struct Queue {
    /// Whole buffers ready to go, in order (packets, then a SNAP stream).
    ready: VecDeque<Bytes>,
    /// Packets queued since the last buffer was closed.
    tail: BytesMut,
}

/// Packets waiting for the writer. Senders append encoded bytes and wake
/// the writer; the writer takes everything at once, so a burst of packets
/// costs one write.
#[derive(Default)]
pub(super) struct Outbox {
    queue: Mutex<Queue>,
    wake: Notify,
    counters: Counters,
}

impl Outbox {
    pub(super) fn push(&self, p: &QuorumPacket) {
        let bytes = encode_quorum_packet(p);
        lock(&self.queue).tail.extend_from_slice(&bytes);
        self.counters.packets_queued.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
    }

    /// The SNAP packet and, right behind it, the raw stream.
    pub(super) fn push_with_stream(&self, p: &QuorumPacket, stream: Bytes) {
        let bytes = encode_quorum_packet(p);
        {
            let mut q = lock(&self.queue);
            q.tail.extend_from_slice(&bytes);
            let packets = q.tail.split().freeze();
            q.ready.push_back(packets);
            q.ready.push_back(stream);
        }
        self.counters.packets_queued.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
    }

    fn take(&self) -> Vec<Bytes> {
        let mut q = lock(&self.queue);
        let mut out: Vec<Bytes> = q.ready.drain(..).collect();
        if !q.tail.is_empty() {
            out.push(q.tail.split().freeze());
        }
        out
    }

    pub(super) fn stats(&self) -> LinkStats {
        let c = &self.counters;
        LinkStats {
            packets_queued: c.packets_queued.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            bytes_written: c.bytes_written.load(Ordering::Relaxed),
        }
    }
}

/// Writes whatever the outbox holds until the socket fails; returns why.
pub(super) async fn write_loop(outbox: Arc<Outbox>, mut writer: OwnedWriteHalf) -> String {
    loop {
        let batch = outbox.take();
        if batch.is_empty() {
            // A push between take() and here leaves a permit: no lost wake-up.
            outbox.wake.notified().await;
            continue;
        }
        for buf in batch {
            if let Err(e) = writer.write_all(&buf).await {
                return format!("write failed: {e}");
            }
            let c = &outbox.counters;
            c.writes.fetch_add(1, Ordering::Relaxed);
            c.bytes_written
                .fetch_add(buf.len() as u64, Ordering::Relaxed);
        }
    }
}

/// How the reader treats what it reads.
pub(super) struct ReadRules {
    pub limit: PacketLimit,
    /// Set on a learner's connection to its leader: after SNAP, the
    /// serialized database follows and is delivered whole.
    pub snapshots: bool,
    /// The largest SNAP stream accepted.
    pub max_snapshot: usize,
    pub read_timeout: Option<Duration>,
}

enum Mode {
    Packets,
    Snapshot { zxid: i64, scanner: SnapScanner },
}

/// Why the reader stopped.
pub(super) enum ReadEnd {
    /// The connection failed or the peer misbehaved.
    Closed(String),
    /// Nobody listens to events any more.
    Unheard,
}

async fn emit(events: &tokio::sync::mpsc::Sender<PeerEvent>, e: PeerEvent) -> Result<(), ReadEnd> {
    events.send(e).await.map_err(|_| ReadEnd::Unheard)
}

/// Emits `preamble`, then every packet (and SNAP stream) `sid` sends, until
/// EOF, an I/O error, a timeout or bytes that do not decode. `buf` holds
/// bytes already read from the socket.
pub(super) async fn read_loop(
    sid: u64,
    mut reader: OwnedReadHalf,
    mut buf: BytesMut,
    rules: ReadRules,
    preamble: Vec<PeerEvent>,
    events: tokio::sync::mpsc::Sender<PeerEvent>,
) -> ReadEnd {
    for e in preamble {
        if let Err(end) = emit(&events, e).await {
            return end;
        }
    }
    let mut mode = Mode::Packets;
    loop {
        // Everything complete in the buffer first.
        loop {
            match &mut mode {
                Mode::Packets => match decode_quorum_packet(&buf, rules.limit) {
                    Ok(Some((packet, used))) => {
                        buf.advance(used);
                        if rules.snapshots && packet.type_ == PacketType::Snap as i32 {
                            mode = Mode::Snapshot {
                                zxid: packet.zxid,
                                scanner: SnapScanner::new(rules.limit),
                            };
                            continue;
                        }
                        if let Err(end) = emit(&events, PeerEvent::Packet { sid, packet }).await {
                            return end;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => return ReadEnd::Closed(format!("bad packet: {e}")),
                },
                Mode::Snapshot { zxid, scanner } => match scanner.advance(&buf) {
                    Ok(Some(end)) => {
                        if end.stream_len > rules.max_snapshot {
                            return ReadEnd::Closed(too_big(end.stream_len, rules.max_snapshot));
                        }
                        let stream = buf.split_to(end.stream_len).freeze();
                        let zxid = *zxid;
                        mode = Mode::Packets;
                        let e = PeerEvent::Snapshot { sid, zxid, stream };
                        if let Err(end) = emit(&events, e).await {
                            return end;
                        }
                    }
                    Ok(None) if buf.len() > rules.max_snapshot => {
                        return ReadEnd::Closed(too_big(buf.len(), rules.max_snapshot));
                    }
                    Ok(None) => break,
                    Err(e) => return ReadEnd::Closed(format!("bad SNAP stream: {e}")),
                },
            }
        }
        buf.reserve(READ_CHUNK);
        let read = reader.read_buf(&mut buf);
        let n = match rules.read_timeout {
            Some(t) => match tokio::time::timeout(t, read).await {
                Ok(r) => r,
                Err(_) => return ReadEnd::Closed(format!("nothing read for {t:?}")),
            },
            None => read.await,
        };
        match n {
            Ok(0) if buf.is_empty() && matches!(mode, Mode::Packets) => {
                return ReadEnd::Closed("closed by the peer".into())
            }
            Ok(0) => {
                let what = match &mode {
                    Mode::Packets => "inside a packet",
                    Mode::Snapshot { .. } => "inside a SNAP stream",
                };
                return ReadEnd::Closed(format!(
                    "closed by the peer {what} ({} bytes unread)",
                    buf.len()
                ));
            }
            Ok(_) => {}
            Err(e) => return ReadEnd::Closed(format!("read failed: {e}")),
        }
    }
}

fn too_big(len: usize, max: usize) -> String {
    format!("SNAP stream of more than {max} bytes refused ({len} so far)")
}
