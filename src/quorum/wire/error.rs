//! [`WireError`]: why bytes from a peer were refused.
//!
//! Every decoder of this module takes untrusted input; each refusal names what
//! was being read so a connection manager can log one clear line and close only
//! that peer's connection.

use std::fmt;

/// Why a peer's bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The input ended inside `reading`. For a whole payload (a notification,
    /// a packet's data) this is final; incremental decoders return `Ok(None)`
    /// instead while more bytes may still arrive.
    Truncated {
        reading: &'static str,
        needed: usize,
        available: usize,
    },
    /// A length prefix outside what Java accepts (`len` is the value read,
    /// `max` the largest allowed).
    BadLength {
        reading: &'static str,
        len: i64,
        max: usize,
    },
    /// The election connection's first long is a negative number other than
    /// the two protocol versions Java knows.
    UnknownProtocolVersion(i64),
    /// An address in the initial message that is not `host:port`.
    BadAddress(String),
    /// A notification state other than LOOKING/FOLLOWING/LEADING/OBSERVING
    /// (Java drops such a notification).
    UnknownState(i32),
    /// A notification of a length no ZooKeeper version sends (not 28, not 40,
    /// and shorter than 44).
    BadNotificationLength(usize),
    /// Bytes that are not valid UTF-8 where text is required.
    InvalidUtf8(&'static str),
    /// Config text that `QuorumPeer.configFromString` would refuse.
    BadConfig(String),
    /// A payload that does not fill whole entries (e.g. PING touches not a
    /// multiple of 12 bytes), or bytes left where the format ends.
    TrailingBytes { reading: &'static str, left: usize },
    /// Jute decoding of a record failed.
    Jute(jute::JuteError),
    /// The SNAP stream's trailer is not the string `BenWasHere`.
    BadSnapSignature(String),
    /// A server id that no member can have (negative, or absent where the
    /// packet must name its sender).
    BadSid { reading: &'static str, value: i64 },
}

impl WireError {
    pub(crate) fn truncated(reading: &'static str, needed: usize, available: usize) -> Self {
        WireError::Truncated {
            reading,
            needed,
            available,
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated {
                reading,
                needed,
                available,
            } => write!(
                f,
                "truncated {reading}: needed {needed} bytes, {available} available"
            ),
            WireError::BadLength { reading, len, max } => {
                write!(
                    f,
                    "unreasonable length {len} for {reading} (allowed 0..={max})"
                )
            }
            WireError::UnknownProtocolVersion(v) => {
                write!(f, "unrecognized election protocol version {v}")
            }
            WireError::BadAddress(a) => write!(f, "badly formed election address {a:?}"),
            WireError::UnknownState(s) => write!(f, "unknown notification state {s}"),
            WireError::BadNotificationLength(n) => {
                write!(
                    f,
                    "notification of {n} bytes (expected 28, 40 or at least 44)"
                )
            }
            WireError::InvalidUtf8(what) => write!(f, "{what} is not valid UTF-8"),
            WireError::BadConfig(why) => write!(f, "bad quorum config text: {why}"),
            WireError::TrailingBytes { reading, left } => {
                write!(f, "{left} bytes left over in {reading}")
            }
            WireError::Jute(e) => write!(f, "{e}"),
            WireError::BadSnapSignature(s) => {
                write!(f, "SNAP stream ends with {s:?} instead of \"BenWasHere\"")
            }
            WireError::BadSid { reading, value } => write!(f, "bad server id {value} in {reading}"),
        }
    }
}

impl std::error::Error for WireError {}

impl From<jute::JuteError> for WireError {
    fn from(e: jute::JuteError) -> Self {
        WireError::Jute(e)
    }
}
