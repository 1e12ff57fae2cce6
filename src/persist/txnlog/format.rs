//! The bytes of a ZooKeeper transaction log file (`version-2/log.<zxid>`).
//!
//! ```text
//! FileHeader   magic "ZKLG" (int), version 2 (int), dbid (long)        16 bytes
//! entry*       checksum (long)  Adler-32 of the txn bytes, as Java's Adler32.getValue()
//!              length (int)     of the txn bytes
//!              txn bytes        TxnHeader, body record, optional TxnDigest
//!              0x42 ('B')       end of record
//! padding      zeros: the file is preallocated in blocks of preAllocSize
//! ```
//!
//! All integers are big-endian (Jute's binary archive). A zero length (with a
//! zero checksum) is where the written part of a preallocated file ends.
//!
//! Facts from ZooKeeper 3.8: `FileTxnLog.append`, `Util.marshallTxnEntry`,
//! `Util.writeTxnBytes`, `FilePadding.calculateFileSizeWithPadding`,
//! `SerializeUtils.deserializeTxn`.

use jute::consts::OpCode;
use jute::persistence::FileHeader;
use jute::txn::{CreateTxn, CreateTxnV0, TxnDigest, TxnHeader};
use jute::Record;

use crate::txn::TxnBody;
use crate::txn::TxnDecodeError;

/// "ZKLG" read as a big-endian int (`FileTxnLog.TXNLOG_MAGIC`).
pub const TXNLOG_MAGIC: i32 = 0x5a4b_4c47;
/// `FileTxnLog.VERSION`.
pub const TXNLOG_VERSION: i32 = 2;
/// Encoded size of the [`FileHeader`].
pub const FILE_HEADER_LEN: u64 = 16;
/// Checksum (long) + length (int) in front of each entry's txn bytes.
pub const ENTRY_PREFIX_LEN: u64 = 12;
/// The end-of-record byte after each entry (`Util.writeTxnBytes`).
pub const END_OF_RECORD: u8 = 0x42;
/// ZooKeeper's default `preAllocSize`: 64 MiB.
pub const DEFAULT_PRE_ALLOC_SIZE: u64 = 64 * 1024 * 1024;
/// Padding is extended once the write position is this close to the end
/// (`FilePadding`).
pub const PAD_THRESHOLD: u64 = 4096;
/// `Util.makeLogName`'s prefix.
pub const LOG_FILE_PREFIX: &str = "log";
/// The subdirectory of dataDir / dataLogDir that holds the files
/// (`FileTxnSnapLog.version + VERSION`).
pub const VERSION_DIR: &str = "version-2";

/// The header every log file starts with.
pub fn file_header(dbid: i64) -> FileHeader {
    FileHeader {
        magic: TXNLOG_MAGIC,
        version: TXNLOG_VERSION,
        dbid,
    }
}

/// `java.util.zip.Adler32` over `bytes`, widened as `getValue()` widens it.
pub fn checksum(bytes: &[u8]) -> i64 {
    i64::from(adler2::adler32_slice(bytes))
}

/// The txn bytes of one entry: header, body, then the digest if any
/// (`Util.marshallTxnEntry`). This is what the checksum covers.
pub fn marshal_txn(header: &TxnHeader, body: &TxnBody, digest: Option<&TxnDigest>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    header.serialize(&mut out);
    out.extend_from_slice(&body.to_bytes());
    if let Some(d) = digest {
        d.serialize(&mut out);
    }
    out
}

/// Appends one framed entry (checksum, length, txn bytes, 'B') to `out`.
///
/// Fails only if the txn is 2 GiB or larger, which Jute cannot frame.
pub fn frame_entry(txn_bytes: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let len = i32::try_from(txn_bytes.len())
        .map_err(|_| format!("txn of {} bytes is too large to log", txn_bytes.len()))?;
    out.reserve(txn_bytes.len() + ENTRY_PREFIX_LEN as usize + 1);
    out.extend_from_slice(&checksum(txn_bytes).to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(txn_bytes);
    out.push(END_OF_RECORD);
    Ok(())
}

/// `FilePadding.calculateFileSizeWithPadding`: the file size to extend to
/// before writing at `position`, or `file_size` when no padding is due.
pub fn size_with_padding(position: u64, file_size: u64, pre_alloc_size: u64) -> u64 {
    if pre_alloc_size > 0 && position.saturating_add(PAD_THRESHOLD) >= file_size {
        if position > file_size {
            let size = position.saturating_add(pre_alloc_size);
            size - size % pre_alloc_size
        } else {
            file_size.saturating_add(pre_alloc_size)
        }
    } else {
        file_size
    }
}

/// `Util.makeLogName`: `log.` + the zxid in lowercase hex without padding
/// (`Long.toHexString`, so a negative zxid prints as 16 hex digits).
pub fn log_file_name(zxid: i64) -> String {
    format!("{LOG_FILE_PREFIX}.{:x}", zxid as u64)
}

/// `Util.getZxidFromName(name, "log")`: the zxid a log file is named after,
/// or `None` where ZooKeeper would get -1 (not a log file).
///
/// Like Java, the name is split on '.', the first part must be `log` and the
/// second is parsed as a signed hex long; further parts are ignored (Java
/// reads `log.1a.bak` as a log starting at 0x1a, and so do we).
pub fn zxid_from_log_name(name: &str) -> Option<i64> {
    let mut parts = name.split('.');
    if parts.next() != Some(LOG_FILE_PREFIX) {
        return None;
    }
    let hex = parts.next()?;
    let zxid = parse_java_hex_long(hex)?;
    (zxid >= 0).then_some(zxid)
}

/// `Long.parseLong(s, 16)`: optional sign, at least one hex digit, in range.
fn parse_java_hex_long(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, 16).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// One decoded log entry's txn: `SerializeUtils.deserializeTxn`.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedTxn {
    pub header: TxnHeader,
    pub body: TxnBody,
    pub digest: Option<TxnDigest>,
}

/// Decodes the txn bytes of an entry as ZooKeeper 3.8 does:
///
/// - the header's type selects the body record (`reconfig` and `check`
///   are not accepted at the top level: FerroKeeper has no reconfig, and a
///   bare check — which ZooKeeper 3.8 logs for a lone check request — is
///   refused by ZooKeeper's reader as well; FerroKeeper logs an `ErrorTxn`
///   with code 0 for it instead, see `prep_write`);
/// - a create whose body is too short for `CreateTxn` is read as the
///   pre-3.3 `CreateTxnV0` with parentCVersion -1, as ZooKeeper does;
/// - a `TxnDigest` follows when at least 12 bytes remain; fewer remaining
///   bytes mean no digest (Java catches the EOFException), and bytes after
///   the digest are ignored, as in Java.
///
/// A `closeSession` without a `CloseSessionTxn` body (logs written before
/// ZooKeeper 3.6) is refused: FerroKeeper's close needs the ephemeral list.
pub fn decode_txn(bytes: &[u8]) -> Result<DecodedTxn, String> {
    let mut input = bytes;
    let header = TxnHeader::deserialize(&mut input).map_err(|e| format!("txn header: {e}"))?;
    let op = header.type_;
    if op == OpCode::Reconfig as i32 {
        return Err("reconfig txn (type 16) is not supported".to_string());
    }
    if op == OpCode::Check as i32 {
        return Err(format!("unsupported txn type {op} (check) at top level"));
    }
    if op == OpCode::CloseSession as i32 && input.is_empty() {
        return Err(
            "closeSession txn without a CloseSessionTxn body (pre-3.6 log) is not supported"
                .to_string(),
        );
    }
    let body_start = input;
    let body = match TxnBody::decode(op, &mut input) {
        Ok(body) => body,
        Err(TxnDecodeError::Jute(e)) if e.is_truncated() && op == OpCode::Create as i32 => {
            input = body_start;
            let v0 = CreateTxnV0::deserialize(&mut input)
                .map_err(|e| format!("txn body of type {op} (also as CreateTxnV0): {e}"))?;
            TxnBody::Create(CreateTxn {
                path: v0.path,
                data: v0.data,
                acl: v0.acl,
                ephemeral: v0.ephemeral,
                parent_c_version: -1,
            })
        }
        Err(e) => return Err(format!("txn body of type {op}: {e}")),
    };
    let digest = if input.len() >= 12 {
        Some(TxnDigest::deserialize(&mut input).map_err(|e| format!("txn digest: {e}"))?)
    } else {
        None
    };
    Ok(DecodedTxn {
        header,
        body,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_is_zklg() {
        assert_eq!(TXNLOG_MAGIC.to_be_bytes(), *b"ZKLG");
    }

    #[test]
    fn adler32_matches_java() {
        // java.util.zip.Adler32 over "Wikipedia" = 0x11E60398; empty = 1.
        assert_eq!(checksum(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(checksum(b""), 1);
    }

    #[test]
    fn log_names_follow_java() {
        assert_eq!(log_file_name(0x1_0000_0001), "log.100000001");
        assert_eq!(log_file_name(1), "log.1");
        assert_eq!(zxid_from_log_name("log.100000001"), Some(0x1_0000_0001));
        assert_eq!(zxid_from_log_name("log.1A"), Some(0x1a));
        assert_eq!(zxid_from_log_name("log.1a.bak"), Some(0x1a));
        assert_eq!(zxid_from_log_name("log.+1a"), Some(0x1a));
        assert_eq!(zxid_from_log_name("log.-1"), None);
        assert_eq!(zxid_from_log_name("log."), None);
        assert_eq!(zxid_from_log_name("log"), None);
        assert_eq!(zxid_from_log_name("log.xyz"), None);
        assert_eq!(zxid_from_log_name("snapshot.1"), None);
        assert_eq!(zxid_from_log_name("logs.1"), None);
        assert_eq!(zxid_from_log_name("log.ffffffffffffffff"), None);
        assert_eq!(zxid_from_log_name("log.7fffffffffffffff"), Some(i64::MAX));
    }

    #[test]
    fn padding_matches_file_padding() {
        const M: u64 = 64 * 1024 * 1024;
        // Java's FilePaddingTest cases.
        assert_eq!(size_with_padding(16, 0, M), M);
        assert_eq!(size_with_padding(M - 4096, M, M), 2 * M);
        assert_eq!(size_with_padding(M - 4097, M, M), M);
        assert_eq!(size_with_padding(M + 10, M, M), 2 * M);
        assert_eq!(size_with_padding(3 * M + 1, M, M), 4 * M);
        assert_eq!(size_with_padding(100, 0, 0), 0);
        assert_eq!(size_with_padding(5000, 4096, 1000), 6000);
    }
}
