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
    DigestPrefix::of(path, data).with_stat(stat)
}

/// A node's digest with the stat still to come: the CRC-32 state after the
/// path and the data.
///
/// The digest hashes path, then data, then stat. Most txns change a node's
/// stat and not its data (a parent's pzxid and cversion on every create and
/// delete), so prep keeps this state per outstanding change and finishes it
/// with the new stat, instead of hashing the data again or keeping a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestPrefix {
    /// `None` for nodes left out of the digest (under `/zookeeper/`).
    crc: Option<u32>,
}

impl DigestPrefix {
    pub fn of(path: &str, data: Option<&[u8]>) -> DigestPrefix {
        if path.starts_with(ZOOKEEPER_NODE_SUBTREE) {
            return DigestPrefix { crc: None };
        }
        let path = if path == "/" { "" } else { path };
        let mut crc = crc32fast::Hasher::new();
        crc.update(path.as_bytes());
        if let Some(d) = data {
            crc.update(d);
        }
        DigestPrefix {
            crc: Some(crc.finalize()),
        }
    }

    /// The node's digest with this stat.
    pub fn with_stat(&self, stat: &StatPersisted) -> i64 {
        let Some(prefix) = self.crc else {
            return 0;
        };
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
        // A finalized CRC-32 is also the running state: hashing continues from it.
        let mut crc = crc32fast::Hasher::new_with_initial(prefix);
        crc.update(&fixed);
        // CRC32.getValue() is an unsigned 32-bit value widened to a Java long.
        i64::from(crc.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat() -> StatPersisted {
        StatPersisted {
            czxid: 0x1_0000_0005,
            mzxid: 0x1_0000_0007,
            ctime: 1_700_000_000_123,
            mtime: 1_700_000_000_456,
            version: 3,
            cversion: -2,
            aversion: 1,
            ephemeral_owner: 0x0100_0000_0000_0001,
            pzxid: 0x1_0000_0009,
        }
    }

    /// The prefix resumed with a stat hashes exactly what one pass over path,
    /// data and stat hashes.
    #[test]
    fn prefix_then_stat_equals_one_pass() {
        let s = stat();
        let mut one = crc32fast::Hasher::new();
        one.update(b"/app/node");
        one.update(b"some data");
        for f in [
            &s.czxid.to_be_bytes()[..],
            &s.mzxid.to_be_bytes(),
            &s.pzxid.to_be_bytes(),
            &s.ctime.to_be_bytes(),
            &s.mtime.to_be_bytes(),
            &s.version.to_be_bytes(),
            &s.cversion.to_be_bytes(),
            &s.aversion.to_be_bytes(),
            &s.ephemeral_owner.to_be_bytes(),
        ] {
            one.update(f);
        }
        let prefix = DigestPrefix::of("/app/node", Some(b"some data"));
        assert_eq!(prefix.with_stat(&s), i64::from(one.finalize()));
        assert_eq!(
            node_digest("/app/node", Some(b"some data"), &s),
            prefix.with_stat(&s)
        );
    }

    #[test]
    fn root_hashes_as_empty_path_and_zookeeper_subtree_is_excluded() {
        let s = stat();
        assert_eq!(node_digest("/", None, &s), node_digest("", None, &s));
        assert_eq!(node_digest("/zookeeper/quota", Some(b"x"), &s), 0);
        assert_ne!(node_digest("/zookeeper", None, &s), 0);
        assert_eq!(
            node_digest("/a", None, &s),
            node_digest("/a", Some(b""), &s)
        );
    }
}
