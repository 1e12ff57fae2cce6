//! The SNAP stream's framing. After a SNAP packet the leader writes, on the
//! same socket and with no length prefix, the body of a snapshot
//! (`SerializeUtils.serializeSnapshot`: int32 session count, (int64 id,
//! int32 timeout) per session, then `DataTree.serialize`: the ACL cache and
//! the nodes up to the closing path "/"), then the jute string
//! `BenWasHere` (`LearnerHandler.syncFollower`); packets follow.
//!
//! A learner has to walk the body to find where packets resume.
//! [`SnapScanner`] does that incrementally over the bytes received so far,
//! one bounded item at a time (a session, an ACL entry, a node), never
//! allocating and never trusting a count: a count only says how many items
//! to expect, each of which must arrive before it is counted. The body it
//! delimits is a snapshot file's body (no file header, seals or digest), so
//! the snapshot reader can load it.

use super::cursor::{checked_len, Cursor};
use super::error::WireError;
use super::packet::PacketLimit;

/// The string that ends the stream.
pub const SNAP_SIGNATURE: &str = "BenWasHere";

/// Bytes of a node's `StatPersisted` (4 longs, 3 ints, 2 longs).
const STAT_PERSISTED_LEN: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    SessionCount,
    Sessions { left: i64 },
    AclMapCount,
    AclMapEntry { left: i64 },
    AclList { entries_left: i64, acls_left: i64 },
    Node,
    Signature,
    Done,
}

/// Where the body and the whole stream end, once the signature is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapEnd {
    /// Bytes of the snapshot body (sessions, ACL cache, nodes, closing "/").
    pub body_len: usize,
    /// Body plus signature: where the next packet starts.
    pub stream_len: usize,
}

/// Incremental walker of a SNAP stream; see the module docs.
#[derive(Debug, Clone)]
pub struct SnapScanner {
    phase: Phase,
    /// Offset of the next unread item.
    pos: usize,
    limit: PacketLimit,
    body_len: usize,
    sessions: u64,
    acl_entries: u64,
    nodes: u64,
}

/// A length-prefixed item whose length is checked against `limit`;
/// `Ok(None)` while incomplete, `Some(None)` for null (-1).
fn try_bytes<'a>(
    c: &mut Cursor<'a>,
    limit: PacketLimit,
    reading: &'static str,
) -> Result<Option<Option<&'a [u8]>>, WireError> {
    let Some(len) = c.try_i32() else {
        return Ok(None);
    };
    if len == -1 {
        return Ok(Some(None));
    }
    let len = checked_len(len, limit.0, reading)?;
    Ok(c.try_take(len).map(Some))
}

impl SnapScanner {
    pub fn new(limit: PacketLimit) -> Self {
        SnapScanner {
            phase: Phase::SessionCount,
            pos: 0,
            limit,
            body_len: 0,
            sessions: 0,
            acl_entries: 0,
            nodes: 0,
        }
    }

    /// Sessions, ACL cache entries and nodes walked so far.
    pub fn counts(&self) -> (u64, u64, u64) {
        (self.sessions, self.acl_entries, self.nodes)
    }

    /// Continues over `stream`, every byte received after the SNAP packet so
    /// far (the same prefix, grown, on each call). `Ok(None)` until the
    /// signature has been read.
    pub fn advance(&mut self, stream: &[u8]) -> Result<Option<SnapEnd>, WireError> {
        // Bounded: each turn consumes at least 4 bytes or changes phase.
        loop {
            if self.phase == Phase::Done {
                return Ok(Some(SnapEnd {
                    body_len: self.body_len,
                    stream_len: self.pos,
                }));
            }
            let Some(rest) = stream.get(self.pos..) else {
                return Ok(None);
            };
            let mut c = Cursor::new(rest);
            let Some(next) = self.step(&mut c)? else {
                return Ok(None);
            };
            self.pos += c.pos();
            self.phase = next;
        }
    }

    /// Reads one item at the current phase; `None` if it has not all arrived.
    fn step(&mut self, c: &mut Cursor<'_>) -> Result<Option<Phase>, WireError> {
        let limit = self.limit;
        Ok(Some(match self.phase {
            Phase::SessionCount => {
                let Some(n) = c.try_i32() else {
                    return Ok(None);
                };
                Phase::Sessions { left: n.into() }
            }
            Phase::Sessions { left } if left <= 0 => Phase::AclMapCount,
            Phase::Sessions { left } => {
                if c.try_take(12).is_none() {
                    return Ok(None);
                }
                self.sessions += 1;
                Phase::Sessions { left: left - 1 }
            }
            Phase::AclMapCount => {
                let Some(n) = c.try_i32() else {
                    return Ok(None);
                };
                Phase::AclMapEntry { left: n.into() }
            }
            Phase::AclMapEntry { left } if left <= 0 => Phase::Node,
            Phase::AclMapEntry { left } => {
                let (Some(_id), Some(n)) = (c.try_i64(), c.try_i32()) else {
                    return Ok(None);
                };
                if n == -1 {
                    // ReferenceCountedACLCache.deserialize: "missing acls".
                    return Err(WireError::BadLength {
                        reading: "SNAP ACL list",
                        len: -1,
                        max: limit.0,
                    });
                }
                self.acl_entries += 1;
                Phase::AclList {
                    entries_left: left - 1,
                    acls_left: n.into(),
                }
            }
            Phase::AclList {
                entries_left,
                acls_left,
            } if acls_left <= 0 => Phase::AclMapEntry { left: entries_left },
            Phase::AclList {
                entries_left,
                acls_left,
            } => {
                if c.try_i32().is_none()
                    || try_bytes(c, limit, "SNAP ACL scheme")?.is_none()
                    || try_bytes(c, limit, "SNAP ACL id")?.is_none()
                {
                    return Ok(None);
                }
                Phase::AclList {
                    entries_left,
                    acls_left: acls_left - 1,
                }
            }
            Phase::Node => {
                let Some(path) = try_bytes(c, limit, "SNAP node path")? else {
                    return Ok(None);
                };
                let Some(path) = path else {
                    return Err(WireError::BadLength {
                        reading: "SNAP node path (null)",
                        len: -1,
                        max: limit.0,
                    });
                };
                if path == b"/" {
                    self.body_len = self.pos + c.pos();
                    Phase::Signature
                } else {
                    if try_bytes(c, limit, "SNAP node data")?.is_none()
                        || c.try_take(8 + STAT_PERSISTED_LEN).is_none()
                    {
                        return Ok(None);
                    }
                    self.nodes += 1;
                    Phase::Node
                }
            }
            Phase::Signature => {
                let Some(sig) = try_bytes(c, limit, "SNAP signature")? else {
                    return Ok(None);
                };
                let sig = sig.unwrap_or_default();
                if sig != SNAP_SIGNATURE.as_bytes() {
                    return Err(WireError::BadSnapSignature(
                        String::from_utf8_lossy(sig).into_owned(),
                    ));
                }
                Phase::Done
            }
            Phase::Done => Phase::Done,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ustring(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as i32).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
    }

    /// A body as `serializeSnapshot` writes it: one session, one ACL list
    /// (world:anyone, all perms), nodes "" (root) and "/a", then "/".
    fn body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&0x0100_0000_0000_0001i64.to_be_bytes());
        b.extend_from_slice(&30000i32.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&1i64.to_be_bytes());
        b.extend_from_slice(&1i32.to_be_bytes());
        b.extend_from_slice(&31i32.to_be_bytes());
        ustring(&mut b, "world");
        ustring(&mut b, "anyone");
        for (path, data) in [("", None), ("/a", Some(&b"xy"[..]))] {
            ustring(&mut b, path);
            match data {
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(d) => {
                    b.extend_from_slice(&(d.len() as i32).to_be_bytes());
                    b.extend_from_slice(d);
                }
            }
            b.extend_from_slice(&1i64.to_be_bytes());
            b.extend_from_slice(&[0u8; STAT_PERSISTED_LEN]);
        }
        ustring(&mut b, "/");
        b
    }

    #[test]
    fn finds_the_end_byte_by_byte_and_at_once() {
        let mut stream = body();
        let body_len = stream.len();
        ustring(&mut stream, SNAP_SIGNATURE);
        let stream_len = stream.len();
        stream.extend_from_slice(&[0, 0, 0, 12]); // the next packet begins
        let want = SnapEnd {
            body_len,
            stream_len,
        };

        let mut s = SnapScanner::new(PacketLimit::default());
        assert_eq!(s.advance(&stream).unwrap(), Some(want));
        assert_eq!(s.counts(), (1, 1, 2));

        let mut s = SnapScanner::new(PacketLimit::default());
        for n in 0..stream_len {
            assert_eq!(s.advance(&stream[..n]).unwrap(), None, "prefix {n}");
        }
        assert_eq!(s.advance(&stream[..stream_len]).unwrap(), Some(want));
    }

    #[test]
    fn refusals() {
        let mut bad_sig = body();
        ustring(&mut bad_sig, "BenWasHeer");
        let mut s = SnapScanner::new(PacketLimit::default());
        assert!(matches!(
            s.advance(&bad_sig),
            Err(WireError::BadSnapSignature(_))
        ));

        // A node data length over the limit fails before its bytes arrive.
        let mut huge = Vec::new();
        huge.extend_from_slice(&0i32.to_be_bytes());
        huge.extend_from_slice(&0i32.to_be_bytes());
        ustring(&mut huge, "/x");
        huge.extend_from_slice(&1000i32.to_be_bytes());
        let mut s = SnapScanner::new(PacketLimit(999));
        assert!(matches!(s.advance(&huge), Err(WireError::BadLength { .. })));

        // Huge counts only wait for bytes.
        let mut counts = Vec::new();
        counts.extend_from_slice(&i32::MAX.to_be_bytes());
        let mut s = SnapScanner::new(PacketLimit::default());
        assert_eq!(s.advance(&counts).unwrap(), None);
    }
}
