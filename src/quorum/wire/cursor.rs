//! A read position over a byte slice, for the hand-framed formats.
//!
//! The `try_*` methods return `None` when the bytes are not there yet (an
//! incremental decoder then asks for more input); the named methods turn that
//! into [`WireError::Truncated`] for payloads that must be complete.

use super::error::WireError;

pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    pub(crate) fn try_take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.remaining() < n {
            return None;
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Some(out)
    }

    pub(crate) fn try_i32(&mut self) -> Option<i32> {
        let b = self.try_take(4)?;
        Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn try_i64(&mut self) -> Option<i64> {
        let b = self.try_take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(i64::from_be_bytes(a))
    }

    pub(crate) fn try_u8(&mut self) -> Option<u8> {
        self.try_take(1).map(|b| b[0])
    }

    fn short(&self, reading: &'static str, needed: usize) -> WireError {
        WireError::truncated(reading, needed, self.remaining())
    }

    pub(crate) fn take(&mut self, n: usize, reading: &'static str) -> Result<&'a [u8], WireError> {
        let short = self.short(reading, n);
        self.try_take(n).ok_or(short)
    }

    pub(crate) fn i32(&mut self, reading: &'static str) -> Result<i32, WireError> {
        let short = self.short(reading, 4);
        self.try_i32().ok_or(short)
    }

    pub(crate) fn i64(&mut self, reading: &'static str) -> Result<i64, WireError> {
        let short = self.short(reading, 8);
        self.try_i64().ok_or(short)
    }

    pub(crate) fn u8(&mut self, reading: &'static str) -> Result<u8, WireError> {
        let short = self.short(reading, 1);
        self.try_u8().ok_or(short)
    }
}

/// Checks a length prefix read from the wire against `0..=max` (Java's
/// "Unreasonable length" checks) before anything is allocated for it.
pub(crate) fn checked_len(len: i32, max: usize, reading: &'static str) -> Result<usize, WireError> {
    match usize::try_from(len) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(WireError::BadLength {
            reading,
            len: i64::from(len),
            max,
        }),
    }
}
