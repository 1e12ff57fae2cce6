//! The `ip` scheme (`IPAuthenticationProvider`).
//!
//! An ACL id is an address, optionally followed by `/bits`; it matches a
//! session's `ip` id (the client's address) when both agree on the first
//! `bits` bits. Parsing follows ZooKeeper's own hand-written parser rather
//! than `std::net`, because the set of accepted strings is observable
//! (setACL answers InvalidACL for the rest): e.g. `+1.2.3.4`, `010.0.0.1`
//! and the IPv6 segment `-1` are accepted, `1.2.3.4/` and `::ffff:1.2.3.4`
//! are not.
//!
//! IPv6 follows ZooKeeper 3.9 (3.8's parser was IPv4-only, so every IPv6
//! ACL was invalid there and no IPv6 client matched). An IPv4 ACL never
//! matches an IPv6 client and vice versa.

use std::net::IpAddr;

use super::java::parse_int;

/// `ip` ACL id validity (`isValid`).
pub fn is_valid(id: &str) -> bool {
    let mut parts = id.splitn(2, '/');
    let Some(addr) = parts.next().and_then(addr_bytes) else {
        return false;
    };
    match parts.next() {
        None => true,
        Some(bits) => prefix_len(bits, addr.len()).is_some(),
    }
}

/// Whether a session's `ip` id `id` matches the ACL id `acl_expr`.
pub fn matches(id: &str, acl_expr: &str) -> bool {
    let mut parts = acl_expr.splitn(2, '/');
    let Some(mut acl_addr) = parts.next().and_then(addr_bytes) else {
        return false;
    };
    let bits = match parts.next() {
        None => acl_addr.len() * 8,
        Some(bits) => match prefix_len(bits, acl_addr.len()) {
            Some(b) => b,
            None => return false,
        },
    };
    mask(&mut acl_addr, bits);
    let Some(mut remote) = addr_bytes(id) else {
        return false;
    };
    mask(&mut remote, bits);
    remote == acl_addr
}

/// The client's address as Java's `InetAddress.getHostAddress()` prints it,
/// which is the id of the `ip` entry every connection starts with.
///
/// IPv4-mapped IPv6 addresses become IPv4 (Java hands them out as
/// `Inet4Address`); other IPv6 addresses print as eight uncompressed
/// lower-case hex groups (`0:0:0:0:0:0:0:1`). Java would append `%scope` for
/// scoped addresses; we have no scope here.
pub fn host_address(addr: IpAddr) -> String {
    match addr.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:x}")).collect();
            groups.join(":")
        }
    }
}

/// `/bits` suffix: a Java int within 0..=8*len.
fn prefix_len(bits: &str, addr_len: usize) -> Option<usize> {
    let b = parse_int(bits, 10)?;
    let b = usize::try_from(b).ok()?;
    (b <= addr_len * 8).then_some(b)
}

/// `addr2Bytes`: a ':' makes it IPv6, else a '.' makes it IPv4.
fn addr_bytes(addr: &str) -> Option<Vec<u8>> {
    if addr.contains(':') {
        v6_bytes(addr).map(Vec::from)
    } else if addr.contains('.') {
        v4_bytes(addr).map(Vec::from)
    } else {
        None
    }
}

/// Exactly four '.'-separated Java ints, each 0..=255.
fn v4_bytes(addr: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = addr.split('.');
    for slot in out.iter_mut() {
        let v = parse_int(parts.next()?, 10)?;
        *slot = u8::try_from(v).ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(out)
}

/// ZooKeeper 3.9's `parseV6addr`: at most one "::", every segment 1..=4
/// characters parsed as a Java hex int (so a sign is allowed, and its two
/// low bytes are stored), no embedded IPv4, no zone.
fn v6_bytes(addr: &str) -> Option<[u8; 16]> {
    let halves: Vec<&str> = addr.split("::").collect();
    let (head, tail): (Vec<&str>, Vec<&str>) = match halves.as_slice() {
        [all] => {
            let segs: Vec<&str> = all.split(':').collect();
            if segs.len() != 8 {
                return None;
            }
            (segs, Vec::new())
        }
        [h, t] => {
            let head = if h.is_empty() {
                Vec::new()
            } else {
                h.split(':').collect()
            };
            let tail = if t.is_empty() {
                Vec::new()
            } else {
                t.split(':').collect()
            };
            if head.len() + tail.len() >= 8 {
                return None;
            }
            (head, tail)
        }
        _ => return None,
    };
    let mut out = [0u8; 16];
    fill_v6(&mut out[..head.len() * 2], &head)?;
    fill_v6(&mut out[16 - tail.len() * 2..], &tail)?;
    Some(out)
}

fn fill_v6(out: &mut [u8], segments: &[&str]) -> Option<()> {
    for (pair, seg) in out.chunks_exact_mut(2).zip(segments) {
        // Java counts UTF-16 units; for anything parseInt accepts that is
        // the number of chars.
        if seg.is_empty() || seg.chars().count() > 4 {
            return None;
        }
        let v = parse_int(seg, 16)?;
        pair[0] = ((v >> 8) & 0xff) as u8;
        pair[1] = (v & 0xff) as u8;
    }
    Some(())
}

/// Clears every bit after the first `bits`.
fn mask(addr: &mut [u8], bits: usize) {
    let start = bits / 8;
    let rem = bits % 8;
    if start >= addr.len() {
        return;
    }
    addr[start] &= (0xffu16 << (8 - rem)) as u8;
    for b in &mut addr[start + 1..] {
        *b = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn validity_table() {
        let valid = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.0/8",
            "10.0.0.0/0",
            "10.0.0.0/32",
            "010.001.0.1",
            "+1.2.3.4",
            "-0.0.0.0",
            "1.2.3.4/+8",
            "1.2.3.4/-0",
            "::1",
            "::",
            "1::",
            "fe80::1/64",
            "0:0:0:0:0:0:0:1",
            "2001:DB8::/32",
            "::/0",
            "::/128",
            "1:2:3:4:5:6:7::",
            "-1::",
            "+f::",
        ];
        for id in valid {
            assert!(is_valid(id), "{id} should be valid");
        }
        let invalid = [
            "",
            "localhost",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4.",
            "1..2.3",
            "256.0.0.1",
            "1.2.3.-1",
            "1.2.3.4/33",
            "1.2.3.4/-1",
            "1.2.3.4/",
            "1.2.3.4/8/8",
            "1.2.3.4/x",
            " 1.2.3.4",
            "1.2.3.4 ",
            "::/129",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1:2:3:4::5:6:7:8",
            "1::2::3",
            ":::",
            "12345::",
            "::ffff:1.2.3.4",
            "fe80::1%eth0",
            "g::",
            "1:2:3:4:5:6:7:",
            ":1:2:3:4:5:6:7",
            "/8",
        ];
        for id in invalid {
            assert!(!is_valid(id), "{id} should be invalid");
        }
    }

    #[test]
    fn cidr_match_table() {
        let table: &[(&str, &str, bool)] = &[
            ("1.2.3.4", "1.2.3.4", true),
            ("1.2.3.5", "1.2.3.4", false),
            ("10.1.2.3", "10.0.0.0/8", true),
            ("11.1.2.3", "10.0.0.0/8", false),
            ("192.168.1.77", "192.168.1.64/26", true),
            ("192.168.1.128", "192.168.1.64/26", false),
            ("192.168.1.63", "192.168.1.64/26", false),
            ("172.16.5.4", "172.16.0.0/12", true),
            ("172.32.0.1", "172.16.0.0/12", false),
            ("8.8.8.8", "0.0.0.0/0", true),
            // Host bits in the ACL are masked too.
            ("10.200.0.1", "10.1.2.3/8", true),
            ("10.0.0.1", "10.0.0.1/32", true),
            ("10.0.0.2", "10.0.0.1/31", false),
            ("10.0.0.0", "10.0.0.1/31", true),
            // Bad ACL expressions or ids never match.
            ("1.2.3.4", "1.2.3.4/33", false),
            ("1.2.3.4", "1.2.3.4/", false),
            ("1.2.3.4", "bogus", false),
            ("bogus", "0.0.0.0/0", false),
            // IPv6.
            ("0:0:0:0:0:0:0:1", "::1", true),
            ("0:0:0:0:0:0:0:2", "::1", false),
            ("2001:db8:0:0:0:0:0:1", "2001:db8::/32", true),
            ("2001:db9:0:0:0:0:0:1", "2001:db8::/32", false),
            ("fe80:0:0:0:0:0:0:1", "fe80::/10", true),
            ("febf:0:0:0:0:0:0:1", "fe80::/10", true),
            ("fec0:0:0:0:0:0:0:1", "fe80::/10", false),
            ("1:2:3:4:5:6:7:8", "::/0", true),
            // Families never cross, even with a zero-length prefix.
            ("1.2.3.4", "::/0", false),
            ("0:0:0:0:0:0:0:1", "0.0.0.0/0", false),
        ];
        for &(id, acl, expected) in table {
            assert_eq!(matches(id, acl), expected, "{id} vs {acl}");
        }
    }

    #[test]
    fn v6_segments_like_java() {
        assert_eq!(
            v6_bytes("-1::"),
            Some([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        );
        let expected: [u8; 16] = "1:2:3:4:5:6:7:8"
            .parse::<Ipv6Addr>()
            .map(|a| a.octets())
            .unwrap_or_default();
        assert_eq!(v6_bytes("1:2:3:4:5:6:7:8"), Some(expected));
        let expected: [u8; 16] = "1::8".parse::<Ipv6Addr>().unwrap().octets();
        assert_eq!(v6_bytes("1::8"), Some(expected));
        let expected: [u8; 16] = "1:2::7:8".parse::<Ipv6Addr>().unwrap().octets();
        assert_eq!(v6_bytes("1:2::7:8"), Some(expected));
    }

    #[test]
    fn host_address_like_java() {
        assert_eq!(
            host_address(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7))),
            "10.0.0.7"
        );
        assert_eq!(
            host_address(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            "0:0:0:0:0:0:0:1"
        );
        assert_eq!(
            host_address("2001:db8::abcd:1".parse().unwrap()),
            "2001:db8:0:0:0:0:abcd:1"
        );
        assert_eq!(host_address("::ffff:1.2.3.4".parse().unwrap()), "1.2.3.4");
        // The id a client gets matches ACLs written for its address.
        let id = host_address("::ffff:192.168.0.9".parse().unwrap());
        assert!(matches(&id, "192.168.0.0/16"));
        let id = host_address(IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert!(matches(&id, "::1/128"));
    }

    #[test]
    fn mask_bits() {
        let mut a = [0xff, 0xff, 0xff, 0xff];
        mask(&mut a, 12);
        assert_eq!(a, [0xff, 0xf0, 0, 0]);
        let mut a = [0xff, 0xff, 0xff, 0xff];
        mask(&mut a, 0);
        assert_eq!(a, [0, 0, 0, 0]);
        let mut a = [0xff, 0xff, 0xff, 0xff];
        mask(&mut a, 32);
        assert_eq!(a, [0xff; 4]);
        let mut a = [0xff, 0xff, 0xff, 0xff];
        mask(&mut a, 1);
        assert_eq!(a, [0x80, 0, 0, 0]);
    }
}
