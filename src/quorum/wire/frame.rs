//! Election frames after the initial message: int32 length, then the
//! payload (a notification). `RecvWorker.run` drops the connection on a
//! length ≤ 0 or above [`MAX_ELECTION_FRAME`].

use super::cursor::Cursor;
use super::error::WireError;

/// `QuorumCnxManager.PACKETMAXSIZE`: 512 KiB.
pub const MAX_ELECTION_FRAME: usize = 512 * 1024;

/// The bytes of one frame. Payloads above the limit are the caller's bug
/// (notifications are at most 44 bytes plus the config text).
pub fn encode_election_frame(payload: &[u8]) -> Vec<u8> {
    debug_assert!(!payload.is_empty() && payload.len() <= MAX_ELECTION_FRAME);
    let mut out = Vec::with_capacity(4 + payload.len());
    let len = i32::try_from(payload.len()).unwrap_or(i32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Decodes one frame from the front of what has arrived: `Ok(None)` while
/// incomplete, else the payload and the bytes used. The length is judged
/// before its payload is awaited.
pub fn decode_election_frame(buf: &[u8]) -> Result<Option<(&[u8], usize)>, WireError> {
    let mut c = Cursor::new(buf);
    let Some(len) = c.try_i32() else {
        return Ok(None);
    };
    if len <= 0 || len as usize > MAX_ELECTION_FRAME {
        return Err(WireError::BadLength {
            reading: "election frame",
            len: i64::from(len),
            max: MAX_ELECTION_FRAME,
        });
    }
    let Some(payload) = c.try_take(len as usize) else {
        return Ok(None);
    };
    Ok(Some((payload, c.pos())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_prefixes() {
        let f = encode_election_frame(b"abc");
        assert_eq!(f, [0, 0, 0, 3, b'a', b'b', b'c']);
        for n in 0..f.len() {
            assert_eq!(decode_election_frame(&f[..n]).unwrap(), None);
        }
        let mut two = f.clone();
        two.extend_from_slice(&f);
        assert_eq!(decode_election_frame(&two).unwrap(), Some((&b"abc"[..], 7)));
    }

    #[test]
    fn java_limits() {
        for len in [0i32, -1, i32::MIN, (MAX_ELECTION_FRAME + 1) as i32] {
            assert!(matches!(
                decode_election_frame(&len.to_be_bytes()),
                Err(WireError::BadLength { .. })
            ));
        }
        // Exactly 512 KiB is allowed (and awaited).
        let max = (MAX_ELECTION_FRAME as i32).to_be_bytes();
        assert_eq!(decode_election_frame(&max).unwrap(), None);
    }
}
