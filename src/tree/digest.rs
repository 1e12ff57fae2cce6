//! ZooKeeper's tree digest (`DigestCalculator`, `AdHash`).
//!
//! Since 3.6 every server keeps a running digest of its tree — the wrapping sum of one
//! CRC-32 per znode — and logs it with transactions so replicas can detect divergence.
//! FerroKeeper computes the identical value so its logs and snapshots carry digests a real
//! ZooKeeper would accept, and so prep can precompute the digest a txn will produce.

use super::stat::StatPersisted;

/// `DigestCalculator.DIGEST_VERSION`.
pub const DIGEST_VERSION: i32 = 2;

/// Prefix of the subtree excluded from the digest (`ZooDefs.ZOOKEEPER_NODE_SUBTREE`);
/// quota stat nodes there are updated locally on each server, so they are left out.
pub const ZOOKEEPER_NODE_SUBTREE: &str = "/zookeeper/";

/// Digest of one znode (`DigestCalculator.calculateDigest`).
///
/// `path` is the node's full path; "/" and "" both denote the root and hash as "".
/// Nodes under `/zookeeper/` contribute 0 (`/zookeeper` itself does count).
/// Null and empty data hash the same.
pub fn node_digest(path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    if path.starts_with(ZOOKEEPER_NODE_SUBTREE) {
        return 0;
    }
    let path = if path == "/" { "" } else { path };
    let mut fixed = [0u8; 60];
    let fields: [&[u8]; 9] = [
        &stat.czxid.to_be_bytes(),
        &stat.mzxid.to_be_bytes(),
        &stat.pzxid.to_be_bytes(),
        &stat.ctime.to_be_bytes(),
        &stat.mtime.to_be_bytes(),
        &stat.version.to_be_bytes(),
        &stat.cversion.to_be_bytes(),
        &stat.aversion.to_be_bytes(),
        &stat.ephemeral_owner.to_be_bytes(),
    ];
    let mut off = 0;
    for f in fields {
        fixed[off..off + f.len()].copy_from_slice(f);
        off += f.len();
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(path.as_bytes());
    if let Some(d) = data {
        crc.update(d);
    }
    crc.update(&fixed);
    // CRC32.getValue() is an unsigned 32-bit value widened to a Java long.
    i64::from(crc.finalize())
}
