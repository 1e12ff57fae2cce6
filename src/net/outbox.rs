//! The reply side of one connection.
//!
//! The core task appends encoded frames (replies and watch events, in the
//! order the client must see them) to the connection's buffer and wakes its
//! writer; the writer takes everything queued so far and writes it with one
//! syscall. However many replies one pass of the core produced for a
//! connection, they leave in one write. The mutex is per connection and held
//! only to append or swap a buffer, so no lock is shared across connections.

use std::sync::Mutex;

use bytes::{BufMut, BytesMut};
use jute::proto::ReplyHeader;
use jute::Record;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Default)]
pub struct Outbox {
    buf: Mutex<BytesMut>,
    wake: Notify,
    /// Set when the server decided to end the connection: the writer flushes
    /// what is queued, then shuts the socket.
    closing: CancellationToken,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
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
        self.wake.notify_one();
        len
    }

    /// Appends a reply: header, then the body when there is one; returns
    /// its length as [`Self::push_frame`] does.
    pub fn push_reply(&self, header: &ReplyHeader, body: Option<&dyn ErasedRecord>) -> usize {
        self.push_frame(|buf| {
            header.serialize(buf);
            if let Some(b) = body {
                b.serialize_erased(buf);
            }
        })
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

    #[test]
    fn nothing_is_queued_after_close() {
        let o = Outbox::new();
        o.close();
        o.push_frame(|b| b.put_slice(b"x"));
        assert!(o.take().is_empty());
        assert!(o.is_closing());
    }
}
