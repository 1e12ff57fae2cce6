//! The data of the quorum packets whose payload is hand-framed with
//! `DataOutputStream` / `ByteBuffer` rather than a jute record.
//!
//! | packet | data | Java |
//! |---|---|---|
//! | FOLLOWERINFO / OBSERVERINFO | jute `LearnerInfo` (int64 sid, int32 protocol 0x10000, int64 config version) | `Learner.registerWithLeader`; the leader reads 8/12/20 bytes of it |
//! | LEADERINFO | int32 protocol version | `LearnerHandler.run` |
//! | ACKEPOCH | int32 current epoch, or -1 | `Learner.registerWithLeader` |
//! | REQUEST | int64 session, int32 cxid, int32 op, the request record | `Learner.request` |
//! | PING (learner → leader) | (int64 session, int32 timeout) per touched session | `Learner.ping` |
//! | REVALIDATE (learner → leader) | int64 session, int32 timeout | `Learner.validateSession` |
//! | REVALIDATE (leader → learner) | int64 session, boolean valid | `Leader.revalidateSession` |
//! | COMMITANDACTIVATE | int64 suggested leader | `Leader.tryToCommit` |

use jute::quorum::LearnerInfo;

use super::cursor::Cursor;
use super::error::WireError;

/// The ZAB protocol version 3.4+ announces in LearnerInfo and LEADERINFO.
pub const ZAB_PROTOCOL_VERSION: i32 = 0x10000;

/// FOLLOWERINFO's data as a 3.8 learner sends it.
pub fn learner_info_bytes(sid: i64, config_version: i64) -> Vec<u8> {
    jute::to_bytes(&LearnerInfo {
        serverid: sid,
        protocol_version: ZAB_PROTOCOL_VERSION,
        config_version,
    })
}

/// What a leader learns from FOLLOWERINFO/OBSERVERINFO data: each field only
/// if the data is long enough for it, exactly as `LearnerHandler.run` reads
/// it (null data: the leader invents a sid; a short field is absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LearnerInfoFields {
    pub sid: Option<i64>,
    pub protocol_version: Option<i32>,
    pub config_version: Option<i64>,
}

impl LearnerInfoFields {
    pub fn decode(data: Option<&[u8]>) -> Self {
        let mut c = Cursor::new(data.unwrap_or_default());
        let sid = c.try_i64();
        let protocol_version = sid.and(c.try_i32());
        let config_version = protocol_version.and(c.try_i64());
        LearnerInfoFields {
            sid,
            protocol_version,
            config_version,
        }
    }
}

/// An int32 payload (LEADERINFO's protocol version, ACKEPOCH's epoch).
pub fn int_payload(v: i32) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// Reads an int32 payload as `ByteBuffer.wrap(data).getInt()` does: the
/// first four bytes, anything after ignored.
pub fn decode_int_payload(data: Option<&[u8]>, reading: &'static str) -> Result<i32, WireError> {
    Cursor::new(data.unwrap_or_default()).i32(reading)
}

/// COMMITANDACTIVATE's int64 payload (the suggested leader).
pub fn decode_long_payload(data: Option<&[u8]>, reading: &'static str) -> Result<i64, WireError> {
    Cursor::new(data.unwrap_or_default()).i64(reading)
}

/// A client request a learner forwards to the leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedRequest {
    pub session_id: i64,
    pub cxid: i32,
    /// The client op code (`ZooDefs.OpCode`, e.g. 1 create, 9 sync, -10 createSession).
    pub op: i32,
    /// The request record exactly as the client sent it (may be empty).
    pub body: Vec<u8>,
}

impl ForwardedRequest {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.body.len());
        out.extend_from_slice(&self.session_id.to_be_bytes());
        out.extend_from_slice(&self.cxid.to_be_bytes());
        out.extend_from_slice(&self.op.to_be_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    pub fn decode(data: Option<&[u8]>) -> Result<Self, WireError> {
        let mut c = Cursor::new(data.unwrap_or_default());
        let session_id = c.i64("REQUEST session id")?;
        let cxid = c.i32("REQUEST cxid")?;
        let op = c.i32("REQUEST type")?;
        Ok(ForwardedRequest {
            session_id,
            cxid,
            op,
            body: c.rest().to_vec(),
        })
    }
}

/// The session touches a learner returns in its PING reply.
pub fn encode_ping_touches(touches: &[(i64, i32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(touches.len() * 12);
    for (session, timeout) in touches {
        out.extend_from_slice(&session.to_be_bytes());
        out.extend_from_slice(&timeout.to_be_bytes());
    }
    out
}

/// Reads PING touches; a partial entry at the end is an error (Java's
/// `readLong`/`readInt` hit EOF there and the handler closes the link).
pub fn decode_ping_touches(data: Option<&[u8]>) -> Result<Vec<(i64, i32)>, WireError> {
    let data = data.unwrap_or_default();
    if !data.len().is_multiple_of(12) {
        return Err(WireError::TrailingBytes {
            reading: "PING session touches",
            left: data.len() % 12,
        });
    }
    let mut c = Cursor::new(data);
    let mut out = Vec::with_capacity(data.len() / 12);
    while c.remaining() > 0 {
        out.push((c.i64("PING session")?, c.i32("PING timeout")?));
    }
    Ok(out)
}

/// REVALIDATE from a learner: the session to check and its timeout.
pub fn encode_revalidate_request(session_id: i64, timeout: i32) -> Vec<u8> {
    let mut out = session_id.to_be_bytes().to_vec();
    out.extend_from_slice(&timeout.to_be_bytes());
    out
}

pub fn decode_revalidate_request(data: Option<&[u8]>) -> Result<(i64, i32), WireError> {
    let mut c = Cursor::new(data.unwrap_or_default());
    Ok((
        c.i64("REVALIDATE session id")?,
        c.i32("REVALIDATE timeout")?,
    ))
}

/// REVALIDATE's answer from the leader.
pub fn encode_revalidate_reply(session_id: i64, valid: bool) -> Vec<u8> {
    let mut out = session_id.to_be_bytes().to_vec();
    out.push(u8::from(valid));
    out
}

/// `DataInputStream.readBoolean`: any nonzero byte is true.
pub fn decode_revalidate_reply(data: Option<&[u8]>) -> Result<(i64, bool), WireError> {
    let mut c = Cursor::new(data.unwrap_or_default());
    Ok((
        c.i64("REVALIDATE session id")?,
        c.u8("REVALIDATE valid")? != 0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learner_info() {
        let b = learner_info_bytes(3, 0x1_0000_0000);
        assert_eq!(
            b,
            [0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        );
        let full = LearnerInfoFields::decode(Some(&b));
        assert_eq!(
            full,
            LearnerInfoFields {
                sid: Some(3),
                protocol_version: Some(0x10000),
                config_version: Some(0x1_0000_0000)
            }
        );
        // 8 and 12 bytes: what pre-3.5 learners sent.
        assert_eq!(
            LearnerInfoFields::decode(Some(&b[..8])).protocol_version,
            None
        );
        assert_eq!(
            LearnerInfoFields::decode(Some(&b[..12])).config_version,
            None
        );
        assert_eq!(
            LearnerInfoFields::decode(Some(&b[..19])).config_version,
            None
        );
        assert_eq!(
            LearnerInfoFields::decode(None),
            LearnerInfoFields::default()
        );
    }

    #[test]
    fn int_payloads() {
        assert_eq!(int_payload(0x10000), [0, 1, 0, 0]);
        assert_eq!(decode_int_payload(Some(&[0, 1, 0, 0, 9]), "x"), Ok(0x10000));
        assert_eq!(decode_int_payload(Some(&int_payload(-1)), "x"), Ok(-1));
        assert!(decode_int_payload(Some(&[0, 1]), "x").is_err());
        assert!(decode_int_payload(None, "x").is_err());
        assert_eq!(decode_long_payload(Some(&2i64.to_be_bytes()), "x"), Ok(2));
        assert!(decode_long_payload(Some(&[1; 7]), "x").is_err());
    }

    #[test]
    fn forwarded_request() {
        let r = ForwardedRequest {
            session_id: 0x0300_0000_0000_0001,
            cxid: 4,
            op: 9,
            body: vec![0, 0, 0, 1, b'/'],
        };
        let b = r.encode();
        assert_eq!(&b[..16], &[3, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 9]);
        assert_eq!(ForwardedRequest::decode(Some(&b)), Ok(r));
        let empty = ForwardedRequest::decode(Some(&b[..16])).unwrap();
        assert!(empty.body.is_empty());
        for n in 0..16 {
            assert!(ForwardedRequest::decode(Some(&b[..n])).is_err());
        }
    }

    #[test]
    fn ping_touches() {
        let t = vec![(1, 4000), (-2, 30000)];
        let b = encode_ping_touches(&t);
        assert_eq!(&b[..12], &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x0f, 0xa0]);
        assert_eq!(decode_ping_touches(Some(&b)), Ok(t));
        assert_eq!(decode_ping_touches(None), Ok(vec![]));
        assert!(decode_ping_touches(Some(&b[..13])).is_err());
    }

    #[test]
    fn revalidate() {
        let b = encode_revalidate_request(7, 5000);
        assert_eq!(b.len(), 12);
        assert_eq!(decode_revalidate_request(Some(&b)), Ok((7, 5000)));
        let r = encode_revalidate_reply(7, true);
        assert_eq!(r, [0, 0, 0, 0, 0, 0, 0, 7, 1]);
        assert_eq!(decode_revalidate_reply(Some(&r)), Ok((7, true)));
        assert_eq!(
            decode_revalidate_reply(Some(&[0, 0, 0, 0, 0, 0, 0, 7, 2])),
            Ok((7, true))
        );
        assert!(decode_revalidate_reply(Some(&r[..8])).is_err());
        assert!(decode_revalidate_request(Some(&b[..11])).is_err());
    }
}
