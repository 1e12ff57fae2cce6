//! Quorum-port packets: a jute `QuorumPacket` (int32 type, int64 zxid,
//! buffer data, vector<Id> authinfo) with no framing of its own, written
//! back to back on the leader–learner socket (`Learner.writePacket`,
//! `LearnerHandler`'s `BinaryInputArchive`).
//!
//! Because nothing frames a packet, a reader must parse it to find its end;
//! [`decode_quorum_packet`] does that over what has arrived so far, judging
//! every length before waiting for the bytes it announces.

use jute::data::Id;
pub use jute::quorum::QuorumPacket;

use super::cursor::{checked_len, Cursor};
use super::error::WireError;

/// `jute.maxbuffer`'s default (0xfffff).
pub const JUTE_MAX_BUFFER: usize = 0xfffff;

/// The largest buffer or string length `BinaryInputArchive.checkLength`
/// accepts: `jute.maxbuffer` + `zookeeper.jute.maxbuffer.extrasize` (which
/// defaults to jute.maxbuffer and is at least 1024).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketLimit(pub usize);

impl PacketLimit {
    /// From the two system properties as Java computes it.
    pub fn new(jute_max_buffer: usize, extra_size: Option<usize>) -> Self {
        let extra = extra_size.unwrap_or(jute_max_buffer).max(1024);
        PacketLimit(jute_max_buffer.saturating_add(extra))
    }
}

impl Default for PacketLimit {
    fn default() -> Self {
        PacketLimit::new(JUTE_MAX_BUFFER, None)
    }
}

/// Packet types (`Leader.java` constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    Request = 1,
    Proposal = 2,
    Ack = 3,
    Commit = 4,
    Ping = 5,
    Revalidate = 6,
    Sync = 7,
    Inform = 8,
    CommitAndActivate = 9,
    NewLeader = 10,
    FollowerInfo = 11,
    UpToDate = 12,
    Diff = 13,
    Trunc = 14,
    Snap = 15,
    ObserverInfo = 16,
    LeaderInfo = 17,
    AckEpoch = 18,
    InformAndActivate = 19,
}

impl PacketType {
    pub fn from_wire(v: i32) -> Option<Self> {
        use PacketType::*;
        Some(match v {
            1 => Request,
            2 => Proposal,
            3 => Ack,
            4 => Commit,
            5 => Ping,
            6 => Revalidate,
            7 => Sync,
            8 => Inform,
            9 => CommitAndActivate,
            10 => NewLeader,
            11 => FollowerInfo,
            12 => UpToDate,
            13 => Diff,
            14 => Trunc,
            15 => Snap,
            16 => ObserverInfo,
            17 => LeaderInfo,
            18 => AckEpoch,
            19 => InformAndActivate,
            _ => return None,
        })
    }

    /// Java's name for it (`LearnerHandler.packetToString`).
    pub fn name(self) -> &'static str {
        use PacketType::*;
        match self {
            Request => "REQUEST",
            Proposal => "PROPOSAL",
            Ack => "ACK",
            Commit => "COMMIT",
            Ping => "PING",
            Revalidate => "REVALIDATE",
            Sync => "SYNC",
            Inform => "INFORM",
            CommitAndActivate => "COMMITANDACTIVATE",
            NewLeader => "NEWLEADER",
            FollowerInfo => "FOLLOWERINFO",
            UpToDate => "UPTODATE",
            Diff => "DIFF",
            Trunc => "TRUNC",
            Snap => "SNAP",
            ObserverInfo => "OBSERVERINFO",
            LeaderInfo => "LEADERINFO",
            AckEpoch => "ACKEPOCH",
            InformAndActivate => "INFORMANDACTIVATE",
        }
    }
}

/// A packet with the given type, zxid and data and no authinfo.
pub fn packet(kind: PacketType, zxid: i64, data: Option<Vec<u8>>) -> QuorumPacket {
    QuorumPacket {
        type_: kind as i32,
        zxid,
        data,
        authinfo: Vec::new(),
    }
}

/// The bytes of one packet on the quorum socket, as Java writes it: an
/// empty authinfo goes out as a null vector (-1), because every packet Java
/// builds itself carries `null` there (seen on the wire from 3.8.0:
/// `LEADERINFO … 00010000 ffffffff`). A REQUEST always carries a list (its
/// client's auth ids, which in Java include the `ip` id): a 3.8.0 leader
/// given a null list turns a forwarded create into an error txn, so an empty
/// one is written as count 0. Readers treat -1 and 0 alike.
pub fn encode_quorum_packet(p: &QuorumPacket) -> Vec<u8> {
    if !p.authinfo.is_empty() || p.type_ == PacketType::Request as i32 {
        return jute::to_bytes(p);
    }
    let data_len = p.data.as_ref().map_or(0, Vec::len);
    let mut out = Vec::with_capacity(20 + data_len);
    out.extend_from_slice(&p.type_.to_be_bytes());
    out.extend_from_slice(&p.zxid.to_be_bytes());
    match &p.data {
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
        Some(d) => {
            let len = i32::try_from(d.len()).unwrap_or(i32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(d);
        }
    }
    out.extend_from_slice(&(-1i32).to_be_bytes());
    out
}

/// A length-prefixed jute item (`buffer` / `ustring`): `Ok(None)` while its
/// bytes have not all arrived; -1 is null.
fn try_buffer<'a>(
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

/// Decodes one packet from the front of what has arrived: `Ok(None)` while
/// incomplete, else the packet and the bytes it used. Lengths above `limit`
/// or below -1 fail at once ("Unreasonable length" in Java). A negative
/// authinfo count reads as empty and a null string as empty, as
/// `BinaryInputArchive` has them; strings are decoded as Java's
/// `new String(bytes, UTF_8)` does, invalid sequences replaced.
pub fn decode_quorum_packet(
    buf: &[u8],
    limit: PacketLimit,
) -> Result<Option<(QuorumPacket, usize)>, WireError> {
    let mut c = Cursor::new(buf);
    let (Some(type_), Some(zxid)) = (c.try_i32(), c.try_i64()) else {
        return Ok(None);
    };
    let Some(data) = try_buffer(&mut c, limit, "QuorumPacket.data")? else {
        return Ok(None);
    };
    let Some(count) = c.try_i32() else {
        return Ok(None);
    };
    let mut authinfo = Vec::new();
    for _ in 0..count.max(0) {
        let Some(scheme) = try_buffer(&mut c, limit, "QuorumPacket.authinfo.scheme")? else {
            return Ok(None);
        };
        let Some(id) = try_buffer(&mut c, limit, "QuorumPacket.authinfo.id")? else {
            return Ok(None);
        };
        let text = |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
        authinfo.push(Id {
            scheme: text(scheme),
            id: text(id),
        });
    }
    let packet = QuorumPacket {
        type_,
        zxid,
        data: data.map(<[u8]>::to_vec),
        authinfo,
    };
    Ok(Some((packet, c.pos())))
}

/// One line for logs, in the spirit of `LearnerHandler.packetToString`.
pub fn describe_packet(p: &QuorumPacket) -> String {
    let name = PacketType::from_wire(p.type_).map_or("UNKNOWN", PacketType::name);
    let len = p.data.as_ref().map_or(-1, |d| d.len() as i64);
    format!("{name}({}) zxid 0x{:x} data {len} bytes", p.type_, p.zxid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_match_the_jute_layout() {
        let mut p = packet(PacketType::Ack, 0x1_0000_0002, None);
        let b = encode_quorum_packet(&p);
        assert_eq!(
            b,
            [0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            decode_quorum_packet(&b, PacketLimit::default()).unwrap(),
            Some((p.clone(), 20))
        );
        p.data = Some(vec![9]);
        p.authinfo.push(Id {
            scheme: "ip".into(),
            id: "127.0.0.1".into(),
        });
        let b = encode_quorum_packet(&p);
        let mut want = vec![
            0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 9, 0, 0, 0, 1,
        ];
        want.extend_from_slice(&[0, 0, 0, 2, b'i', b'p', 0, 0, 0, 9]);
        want.extend_from_slice(b"127.0.0.1");
        assert_eq!(b, want);
        for n in 0..b.len() {
            assert_eq!(
                decode_quorum_packet(&b[..n], PacketLimit::default()).unwrap(),
                None
            );
        }
        let mut two = b.clone();
        two.extend_from_slice(&b);
        assert_eq!(
            decode_quorum_packet(&two, PacketLimit::default()).unwrap(),
            Some((p, b.len()))
        );
    }

    /// Bytes Java 3.8.0's leader sent (compat-tests/quorum-wire): LEADERINFO and PING.
    #[test]
    fn same_bytes_as_java() {
        let leader_info = packet(
            PacketType::LeaderInfo,
            0x1_0000_0000,
            Some(vec![0, 1, 0, 0]),
        );
        let java = [
            0, 0, 0, 0x11, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(encode_quorum_packet(&leader_info), java);
        let ping = packet(PacketType::Ping, 0x1_0000_0007, None);
        let java = [
            0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(encode_quorum_packet(&ping), java);
        // A REQUEST's list is never null.
        let request = packet(PacketType::Request, -1, Some(vec![]));
        assert!(encode_quorum_packet(&request).ends_with(&[0, 0, 0, 0, 0, 0, 0, 0]));
        // A zero count reads the same as Java's null.
        let mut zero = java.to_vec();
        zero[16..].copy_from_slice(&[0, 0, 0, 0]);
        assert_eq!(
            decode_quorum_packet(&zero, PacketLimit::default()).unwrap(),
            Some((ping, 20))
        );
    }

    #[test]
    fn limits_are_javas() {
        assert_eq!(PacketLimit::default(), PacketLimit(0x1ffffe));
        assert_eq!(PacketLimit::new(100, Some(5)), PacketLimit(1124));
        let head = |len: i32| {
            let mut b = vec![0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1];
            b.extend_from_slice(&len.to_be_bytes());
            b
        };
        let limit = PacketLimit(10);
        assert_eq!(decode_quorum_packet(&head(10), limit).unwrap(), None);
        for len in [11, -2, i32::MIN, i32::MAX] {
            assert!(matches!(
                decode_quorum_packet(&head(len), limit),
                Err(WireError::BadLength { .. })
            ));
        }
        // A huge authinfo count only waits for bytes; nothing is reserved for it.
        let mut b = head(-1);
        b.extend_from_slice(&i32::MAX.to_be_bytes());
        assert_eq!(decode_quorum_packet(&b, limit).unwrap(), None);
        // Negative counts read as empty.
        let mut b = head(-1);
        b.extend_from_slice(&(-5i32).to_be_bytes());
        let (p, _) = decode_quorum_packet(&b, limit).unwrap().unwrap();
        assert!(p.authinfo.is_empty());
    }

    #[test]
    fn names() {
        for v in 1..=19 {
            let t = PacketType::from_wire(v).unwrap();
            assert_eq!(t as i32, v);
        }
        assert_eq!(PacketType::from_wire(20), None);
        assert_eq!(PacketType::Snap.name(), "SNAP");
        assert_eq!(
            describe_packet(&packet(PacketType::Ping, 0x10, Some(vec![]))),
            "PING(5) zxid 0x10 data 0 bytes"
        );
    }
}
