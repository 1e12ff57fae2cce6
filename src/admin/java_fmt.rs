//! Values printed the way the JVM prints them, for admin output that scripts
//! parse and log lines people grep: `Double.toString`, `Date.toString`,
//! `InetSocketAddress.toString`, `String.hashCode` and the iteration order of a `ConcurrentHashMap` (the
//! order `mntr` lists keys that only exist at run time).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

/// `Double.toString(d)`: decimal with at least one fractional digit for
/// 10^-3 <= |d| < 10^7, otherwise computerized scientific notation
/// (`1.0E7`, `1.2345E-4`). Digits are the shortest that round-trip, as Rust
/// prints them (Java 19+ does the same; earlier JDKs occasionally print one
/// digit more).
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".into();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = d.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let mut s = format!("{d}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        return s;
    }
    let s = format!("{d:e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let mut out = mantissa.to_string();
    if !out.contains('.') {
        out.push_str(".0");
    }
    let _ = write!(out, "E{exp}");
    out
}

/// `new BigDecimal(x).setScale(4, RoundingMode.HALF_UP).doubleValue()` for
/// x >= 0: how ZooKeeper rounds averages. Computed on the exact binary value
/// of `x`, as `BigDecimal(double)` does.
pub fn round4_half_up(x: f64) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        return if x.is_finite() { 0.0 } else { x };
    }
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    // x = mant * 2^exp exactly
    let (mant, exp) = if exp_bits == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), exp_bits - 1075)
    };
    let scaled = u128::from(mant) * 10_000;
    let q = if exp >= 0 {
        // >= 2^52: no fractional part at all
        return x;
    } else if -exp >= 100 {
        0 // x * 10^4 < 2^67 / 2^100 < 0.5
    } else {
        let shift = (-exp) as u32;
        let q = scaled >> shift;
        let rem = scaled & ((1u128 << shift) - 1);
        if rem << 1 >= 1u128 << shift {
            q + 1
        } else {
            q
        }
    };
    q as f64 / 10_000.0
}

/// `java.util.Date.toString()` in UTC: `Sat Nov 21 16:11:06 UTC 2026`.
/// (The JVM prints its default time zone; FerroKeeper always uses UTC.)
pub fn java_date_utc(wall_ms: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = wall_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let weekday = (days + 4).rem_euclid(7) as usize; // 1970-01-01 was a Thursday
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[weekday],
        MONTHS[(m - 1) as usize],
        d,
        sod / 3600,
        sod / 60 % 60,
        sod % 60,
        y
    )
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31); Howard Hinnant's
/// `civil_from_days`.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `InetAddress.getHostAddress()` on Java 17: IPv6 as eight uncompressed
/// hex groups (`0:0:0:0:0:0:0:1`), an IPv4-mapped address as the IPv4
/// address (Java turns those into `Inet4Address` when it accepts them).
fn java_host_address(ip: IpAddr) -> (String, bool) {
    match ip {
        IpAddr::V4(v4) => (v4.to_string(), false),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (v4.to_string(), false),
            None => {
                let segs: Vec<String> = v6.segments().iter().map(|s| format!("{s:x}")).collect();
                (segs.join(":"), true)
            }
        },
    }
}

/// `InetAddress.toString()` of an address with no host name, as Java
/// 3.8.0 logs a refused client (`Too many connections from /127.0.0.1`,
/// `/0:0:0:0:0:0:0:1` for IPv6: no brackets, unlike a socket address).
pub fn java_inet_addr(ip: IpAddr) -> String {
    format!("/{}", java_host_address(ip).0)
}

/// A client's address as Java ZooKeeper prints it everywhere — `cons`,
/// `stat` and every log line that names a client (`Established session …
/// for client /127.0.0.1:35632`): `InetSocketAddress.toString()` on Java 17,
/// IPv6 in brackets (`/[0:0:0:0:0:0:0:1]:2181`). Checked against Debian's
/// Java 3.8.0 by compat-tests/listeners (`cons`) and tests/lifecycle.rs
/// (log lines). A `Display` wrapper so log fields format it lazily.
#[derive(Clone, Copy, Debug)]
pub struct JavaSocketAddr(pub SocketAddr);

impl std::fmt::Display for JavaSocketAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match java_host_address(self.0.ip()) {
            (host, true) => write!(f, "/[{host}]:{}", self.0.port()),
            (host, false) => write!(f, "/{host}:{}", self.0.port()),
        }
    }
}

/// [`JavaSocketAddr`] as a string.
pub fn java_socket_addr(addr: &SocketAddr) -> String {
    JavaSocketAddr(*addr).to_string()
}

/// `String.hashCode()`: over UTF-16 code units, wrapping.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The order a `ConcurrentHashMap` created with the default capacity
/// iterates `keys` in, given the order they were inserted in: Java's table
/// (16 bins, doubled when the count reaches 3/4 of it) is replayed, list
/// appends and resize splits included (a split keeps the bin's last run of
/// nodes and prepends the others, which reverses them). Bins never grow long
/// enough here to become trees.
pub fn concurrent_hash_map_order<S: AsRef<str>>(keys: &mut Vec<S>) {
    let spread = |k: &str| {
        let h = java_string_hash(k);
        (h ^ ((h as u32) >> 16) as i32) & 0x7fff_ffff
    };
    let mut table: Vec<Vec<(i32, usize)>> = vec![Vec::new(); 16];
    for (i, k) in keys.iter().enumerate() {
        let h = spread(k.as_ref());
        let n = table.len();
        table[h as usize & (n - 1)].push((h, i));
        if i + 1 >= n - (n >> 2) {
            table = split_bins(&table);
        }
    }
    let order: Vec<usize> = table.iter().flatten().map(|&(_, i)| i).collect();
    let mut taken: Vec<Option<S>> = keys.drain(..).map(Some).collect();
    keys.extend(order.into_iter().filter_map(|i| taken[i].take()));
}

/// `ConcurrentHashMap.transfer` for list bins: each bin of `table` (size n)
/// goes to bin i (hash & n == 0) or i + n of a table twice the size.
fn split_bins(table: &[Vec<(i32, usize)>]) -> Vec<Vec<(i32, usize)>> {
    let n = table.len();
    let mut next = vec![Vec::new(); 2 * n];
    for (i, bin) in table.iter().enumerate() {
        let Some(first) = bin.first() else {
            continue;
        };
        let bit = |h: i32| h as usize & n;
        // lastRun: where the final run of nodes with the same bit starts
        let mut run_bit = bit(first.0);
        let mut last_run = 0;
        for (j, node) in bin.iter().enumerate().skip(1) {
            if bit(node.0) != run_bit {
                run_bit = bit(node.0);
                last_run = j;
            }
        }
        let (mut lo, mut hi) = (Vec::new(), Vec::new());
        if run_bit == 0 {
            lo.extend_from_slice(&bin[last_run..]);
        } else {
            hi.extend_from_slice(&bin[last_run..]);
        }
        for node in &bin[..last_run] {
            let list = if bit(node.0) == 0 { &mut lo } else { &mut hi };
            list.insert(0, *node);
        }
        next[i] = lo;
        next[i + n] = hi;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_as_java_does() {
        assert_eq!(java_double(0.0), "0.0");
        assert_eq!(java_double(2.5263), "2.5263");
        assert_eq!(java_double(3.0), "3.0");
        assert_eq!(java_double(85.6667), "85.6667");
        assert_eq!(java_double(0.0909), "0.0909");
        assert_eq!(java_double(1.0e-4), "1.0E-4");
        assert_eq!(java_double(0.001), "0.001");
        assert_eq!(java_double(1.0e7), "1.0E7");
        assert_eq!(java_double(1.2345e8), "1.2345E8");
        assert_eq!(java_double(9_999_999.5), "9999999.5");
    }

    #[test]
    fn averages_round_half_up_on_the_exact_value() {
        assert_eq!(round4_half_up(48.0 / 19.0), 2.5263);
        assert_eq!(round4_half_up(514.0 / 6.0), 85.6667);
        assert_eq!(round4_half_up(3.0 / 33.0), 0.0909);
        assert_eq!(round4_half_up(0.00005), 0.0001); // 5.00000000000000023960868e-5
        assert_eq!(round4_half_up(1.00005), 1.0001); // 1.00005000000000010551...
                                                     // 0.000349999999999999996443...: below the half, though x * 10^4
                                                     // rounds to exactly 3.5 in floating point
        assert_eq!(round4_half_up(0.00035), 0.0003);
        assert_eq!((0.00035_f64 * 10_000.0 + 0.5).floor(), 4.0);
        assert_eq!(round4_half_up(0.0), 0.0);
        assert_eq!(round4_half_up(7.0), 7.0);
        assert_eq!(round4_half_up(1e-300), 0.0);
    }

    #[test]
    fn dates_print_as_java_date_to_string_in_utc() {
        assert_eq!(java_date_utc(0), "Thu Jan 01 00:00:00 UTC 1970");
        // est=1795277455122 from a capture; the session bucket 10 s later
        assert_eq!(
            java_date_utc(1_795_277_466_000),
            "Sat Nov 21 16:11:06 UTC 2026"
        );
        assert_eq!(
            java_date_utc(951_782_400_000),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
    }

    #[test]
    fn socket_addresses_print_as_java_does() {
        let v4: SocketAddr = "127.0.0.1:35632".parse().unwrap();
        assert_eq!(java_socket_addr(&v4), "/127.0.0.1:35632");
        let v6: SocketAddr = "[::1]:2181".parse().unwrap();
        assert_eq!(java_socket_addr(&v6), "/[0:0:0:0:0:0:0:1]:2181");
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:5".parse().unwrap();
        assert_eq!(java_socket_addr(&mapped), "/10.0.0.1:5");
        let link_local: SocketAddr = "[fe80::1:2]:7".parse().unwrap();
        assert_eq!(java_socket_addr(&link_local), "/[fe80:0:0:0:0:0:1:2]:7");
        assert_eq!(java_inet_addr(v4.ip()), "/127.0.0.1");
        assert_eq!(java_inet_addr(v6.ip()), "/0:0:0:0:0:0:0:1");
        assert_eq!(java_inet_addr(mapped.ip()), "/10.0.0.1");
    }

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }
}
