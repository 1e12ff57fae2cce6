//! The first message on an election connection (`QuorumCnxManager`
//! `startConnection` writes it, `handleConnection` / `InitialMessage.parse`
//! read it).
//!
//! The dialer sends int64 protocol version, int64 sid, int32 length and the
//! election address text: `host:port` (V1, what 3.8 sends unless
//! `multiAddress.enabled`) or `h1:p1|h2:p2` (V2). A receiver also accepts a
//! bare non-negative int64, the sid alone, as servers before 3.5 sent it.

use super::cursor::{checked_len, Cursor};
use super::error::WireError;
use crate::config::address::{host_and_port_parts, java_split, parse_port};

/// `QuorumCnxManager.PROTOCOL_VERSION_V1`: one `host:port`.
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// `QuorumCnxManager.PROTOCOL_VERSION_V2`: `|`-separated addresses.
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// `QuorumCnxManager.maxBuffer`: the longest address text a receiver reads.
pub const MAX_ADDRESS_TEXT: usize = 2048;
/// `QuorumPeer.OBSERVER_ID`: the sid an observer without one sends (Java
/// replaces it with a decreasing negative counter).
pub const OBSERVER_ID: i64 = i64::MAX;

/// One election address a peer announced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionAddress {
    /// Host text as sent (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

/// What the dialer of an election connection said first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialMessage {
    /// `None` for the legacy form (a bare sid).
    pub protocol_version: Option<i64>,
    pub sid: i64,
    /// The dialer's election addresses, wildcard hosts removed as Java
    /// removes them (empty for the legacy form: Java then dials the address
    /// in its own config).
    pub addresses: Vec<ElectionAddress>,
}

impl InitialMessage {
    /// The V1 message 3.8 sends by default.
    pub fn v1(sid: i64, host: &str, port: u16) -> Self {
        InitialMessage {
            protocol_version: Some(PROTOCOL_VERSION_V1),
            sid,
            addresses: vec![ElectionAddress {
                host: host.to_owned(),
                port,
            }],
        }
    }

    /// The bytes a dialer writes. Addresses are formatted as
    /// `NetUtils.formatInetAddr` does (IPv6 in brackets).
    pub fn encode(&self) -> Vec<u8> {
        let Some(version) = self.protocol_version else {
            return self.sid.to_be_bytes().to_vec();
        };
        let text = self
            .addresses
            .iter()
            .map(|a| {
                if a.host.contains(':') {
                    format!("[{}]:{}", a.host, a.port)
                } else {
                    format!("{}:{}", a.host, a.port)
                }
            })
            .collect::<Vec<_>>()
            .join("|");
        let mut out = Vec::with_capacity(20 + text.len());
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&self.sid.to_be_bytes());
        let len = i32::try_from(text.len()).unwrap_or(i32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(text.as_bytes());
        out
    }

    /// Decodes from the front of what has arrived so far: `Ok(None)` while
    /// the message is incomplete, else the message and its length in bytes.
    /// A length outside 1..=2048 fails before the address bytes are awaited.
    pub fn decode(buf: &[u8]) -> Result<Option<(InitialMessage, usize)>, WireError> {
        let mut c = Cursor::new(buf);
        let Some(first) = c.try_i64() else {
            return Ok(None);
        };
        if first >= 0 {
            let legacy = InitialMessage {
                protocol_version: None,
                sid: first,
                addresses: Vec::new(),
            };
            return Ok(Some((legacy, c.pos())));
        }
        if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
            return Err(WireError::UnknownProtocolVersion(first));
        }
        let Some(sid) = c.try_i64() else {
            return Ok(None);
        };
        let Some(len) = c.try_i32() else {
            return Ok(None);
        };
        if len <= 0 {
            return Err(WireError::BadLength {
                reading: "initial message address",
                len: i64::from(len),
                max: MAX_ADDRESS_TEXT,
            });
        }
        let len = checked_len(len, MAX_ADDRESS_TEXT, "initial message address")?;
        let Some(text) = c.try_take(len) else {
            return Ok(None);
        };
        let text =
            std::str::from_utf8(text).map_err(|_| WireError::InvalidUtf8("election address"))?;
        let addresses = parse_addresses(text)?;
        let message = InitialMessage {
            protocol_version: Some(first),
            sid,
            addresses,
        };
        Ok(Some((message, c.pos())))
    }
}

/// `InitialMessage.parse`'s address loop: split on `|`, each
/// `ConfigUtils.getHostAndPort` with exactly two parts, an integer port;
/// wildcard hosts dropped.
fn parse_addresses(text: &str) -> Result<Vec<ElectionAddress>, WireError> {
    let mut out = Vec::new();
    for item in java_split(text, '|') {
        let bad = || WireError::BadAddress(item.to_owned());
        let parts = host_and_port_parts(item).map_err(|_| bad())?;
        let [host, port] = parts.as_slice() else {
            return Err(bad());
        };
        let port = parse_port(port).ok_or_else(bad)?;
        if is_wildcard(host) {
            continue;
        }
        out.push(ElectionAddress {
            host: host.clone(),
            port,
        });
    }
    Ok(out)
}

/// `QuorumCnxManager.isWildcardAddress`: an IP literal that is the any-local address.
fn is_wildcard(host: &str) -> bool {
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_bytes_match_java_layout() {
        let m = InitialMessage::v1(3, "127.0.0.1", 3888);
        let mut want = Vec::new();
        want.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]); // -65536
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
        want.extend_from_slice(&[0, 0, 0, 14]);
        want.extend_from_slice(b"127.0.0.1:3888");
        assert_eq!(m.encode(), want);
        assert_eq!(
            InitialMessage::decode(&want).unwrap(),
            Some((m, want.len()))
        );
    }

    #[test]
    fn every_prefix_is_incomplete_not_an_error() {
        let bytes = InitialMessage::v1(7, "::1", 1).encode();
        for n in 0..bytes.len() {
            assert_eq!(
                InitialMessage::decode(&bytes[..n]).unwrap(),
                None,
                "prefix {n}"
            );
        }
        let (m, used) = InitialMessage::decode(&bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(m.addresses[0].host, "::1");
        assert!(bytes.ends_with(b"[::1]:1"));
    }

    #[test]
    fn legacy_bare_sid() {
        let (m, used) = InitialMessage::decode(&5i64.to_be_bytes())
            .unwrap()
            .unwrap();
        assert_eq!(used, 8);
        assert_eq!(m.protocol_version, None);
        assert_eq!(m.sid, 5);
        assert_eq!(m.encode(), 5i64.to_be_bytes());
    }

    #[test]
    fn v2_several_addresses_and_wildcards_dropped() {
        let text = b"a:1|0.0.0.0:2|[fe80::1]:3";
        let mut b = PROTOCOL_VERSION_V2.to_be_bytes().to_vec();
        b.extend_from_slice(&9i64.to_be_bytes());
        b.extend_from_slice(&(text.len() as i32).to_be_bytes());
        b.extend_from_slice(text);
        let (m, _) = InitialMessage::decode(&b).unwrap().unwrap();
        assert_eq!(m.sid, 9);
        let hosts: Vec<_> = m.addresses.iter().map(|a| a.host.as_str()).collect();
        assert_eq!(hosts, ["a", "fe80::1"]);
    }

    fn with_len_and_text(len: i32, text: &[u8]) -> Vec<u8> {
        let mut b = PROTOCOL_VERSION_V1.to_be_bytes().to_vec();
        b.extend_from_slice(&1i64.to_be_bytes());
        b.extend_from_slice(&len.to_be_bytes());
        b.extend_from_slice(text);
        b
    }

    #[test]
    fn refusals() {
        let mut b = (-3i64).to_be_bytes().to_vec();
        b.extend_from_slice(&[0; 16]);
        assert_eq!(
            InitialMessage::decode(&b),
            Err(WireError::UnknownProtocolVersion(-3))
        );
        // Lengths are judged before the text arrives: no waiting for 2 GiB.
        for len in [0, -1, 2049, i32::MAX] {
            assert!(matches!(
                InitialMessage::decode(&with_len_and_text(len, b"")),
                Err(WireError::BadLength { .. })
            ));
        }
        for text in [&b"nohost"[..], b"h:1:2", b"h:x", b"h:70000", b"[::1"] {
            let b = with_len_and_text(text.len() as i32, text);
            assert!(
                matches!(InitialMessage::decode(&b), Err(WireError::BadAddress(_))),
                "{text:?}"
            );
        }
        let b = with_len_and_text(3, &[0xff, b':', b'1']);
        assert_eq!(
            InitialMessage::decode(&b),
            Err(WireError::InvalidUtf8("election address"))
        );
        // 2048 bytes is still accepted.
        let long = format!("{}:1", "h".repeat(2046));
        let b = with_len_and_text(2048, long.as_bytes());
        assert!(InitialMessage::decode(&b).unwrap().is_some());
    }
}
