//! Looking at the files of a data directory without changing them: what the
//! offline tools (`ferrokeeper log-dump`, `snapshot-dump`, `check`) and the
//! example dumpers print.
//!
//! - [`log`]: txn log entries, one a line, as ZooKeeper's `TxnLogToolkit`
//!   prints them;
//! - [`snap`]: a snapshot, readable as `SnapshotFormatter` prints it, or as
//!   JSON lines for the interop tests;
//! - [`check`]: verifies a whole data directory (snapshots, logs, zxid
//!   continuity) and reports every problem with file and offset.
//!
//! Everything writes to an [`std::io::Write`]; a failing output (a closed
//! pipe) is reported as [`DumpError::Output`], never a panic.

pub mod check;
pub mod log;
pub mod snap;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a dump stopped.
#[derive(Debug)]
pub enum DumpError {
    /// Writing the output failed.
    Output(io::Error),
    /// The file could not be read or did not verify; the message names the
    /// file and, where known, the offset.
    Data(String),
}

impl From<io::Error> for DumpError {
    fn from(e: io::Error) -> Self {
        DumpError::Output(e)
    }
}

impl fmt::Display for DumpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DumpError::Output(e) => write!(f, "writing the output: {e}"),
            DumpError::Data(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for DumpError {}

/// `Long.toHexString`: lowercase hex of the two's complement, no padding.
pub fn java_hex(v: i64) -> String {
    format!("{:x}", v as u64)
}

/// `String.format("%#016x", v)`, as `SnapshotFormatter` prints zxids and
/// owners: `0x` and at least 14 digits.
pub fn hex016(v: i64) -> String {
    format!("{:#016x}", v as u64)
}

/// A zxid on the command line: `0x`-prefixed hex, or decimal.
pub fn parse_zxid(s: &str) -> Option<i64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok().map(|z| z as i64),
        None => s.parse().ok(),
    }
}

/// Milliseconds since the epoch as an RFC 3339 UTC time with milliseconds
/// (`2024-05-01T12:00:00.123Z`); any `i64` is accepted.
pub fn format_time_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = crate::admin::java_fmt::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

/// ACL permissions as zkCli prints them (`cdrwa`, in that order); bits
/// ZooKeeper does not define are appended in hex.
pub fn perms_string(perms: i32) -> String {
    let mut s: String = [(4, 'c'), (8, 'd'), (1, 'r'), (2, 'w'), (16, 'a')]
        .iter()
        .filter(|(bit, _)| perms & bit != 0)
        .map(|&(_, c)| c)
        .collect();
    let other = perms & !31;
    if other != 0 {
        s.push_str(&format!("+0x{:x}", other as u32));
    }
    if s.is_empty() {
        s.push('-');
    }
    s
}

/// The `version-2` directory for a path given on the command line: `dir`
/// itself when it holds no `version-2` subdirectory.
pub fn resolve_version2(dir: &Path) -> PathBuf {
    let sub = dir.join(crate::persist::files::VERSION_DIR);
    if sub.is_dir() {
        sub
    } else {
        dir.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_rfc3339() {
        assert_eq!(format_time_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_time_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            format_time_ms(1_714_564_800_123),
            "2024-05-01T12:00:00.123Z"
        );
        assert_eq!(format_time_ms(-1), "1969-12-31T23:59:59.999Z");
        // Extreme values do not overflow.
        assert!(format_time_ms(i64::MAX).ends_with('Z'));
        assert!(format_time_ms(i64::MIN).ends_with('Z'));
    }

    #[test]
    fn hex_forms() {
        assert_eq!(java_hex(-1), "ffffffffffffffff");
        assert_eq!(hex016(0x1_0000_0001), "0x00000100000001");
        assert_eq!(hex016(0), "0x00000000000000");
        assert_eq!(parse_zxid("0x1f"), Some(0x1f));
        assert_eq!(parse_zxid("31"), Some(31));
        assert_eq!(parse_zxid("zz"), None);
    }

    #[test]
    fn perms_like_zkcli() {
        assert_eq!(perms_string(31), "cdrwa");
        assert_eq!(perms_string(1), "r");
        assert_eq!(perms_string(0), "-");
        assert_eq!(perms_string(33), "r+0x20");
    }
}
