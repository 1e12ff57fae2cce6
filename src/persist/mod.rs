//! Durability: where the sync stage writes prepared txns before final applies them.
//!
//! The sync stage only sees the [`TxnLog`] trait, so the in-memory log
//! ([`MemTxnLog`]) and the on-disk log in ZooKeeper's `version-2/log.*`
//! format ([`FileTxnLog`], reader and recovery in [`txnlog`]) slot in the
//! same way.

pub mod committed_log;
pub mod epoch;
pub mod files;
pub mod inspect;
mod memory;
pub mod purge;
pub mod snapshot;
pub mod txnlog;

pub use committed_log::{CommittedLog, CommittedProposal};
pub use memory::MemTxnLog;
pub use txnlog::{FileTxnLog, FileTxnLogOptions};

use crate::txn::LoggedTxn;

/// An append-only log of txns in zxid order.
///
/// Contract: `append` may buffer; nothing appended counts as durable until
/// `commit` returns `Ok`. A reply to a client is sent only after the commit
/// that covers its txn.
pub trait TxnLog: Send + 'static {
    /// Appends one txn; zxids must be strictly increasing.
    fn append(&mut self, txn: &LoggedTxn) -> std::io::Result<()>;
    /// Appends one txn already encoded as `Util.marshallTxnEntry` encodes
    /// it (header, body, optional digest: the bytes a PROPOSAL carries),
    /// without decoding its body; its zxid is the header's and must be above
    /// [`Self::last_zxid`]. The default refuses, so a log that cannot take
    /// raw bytes never silently drops them.
    fn append_marshalled(&mut self, txn_bytes: &[u8]) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "this txn log cannot append marshalled txns ({} bytes)",
                txn_bytes.len()
            ),
        ))
    }
    /// Makes everything appended so far durable (fsync for a disk log).
    fn commit(&mut self) -> std::io::Result<()>;
    /// The zxid of the last appended txn, 0 when empty.
    fn last_zxid(&self) -> i64;
    /// Removes every txn after `zxid`, keeping those at or below it: a
    /// learner's TRUNC (ZooKeeper's `TxnLog.truncate`). Appending continues
    /// after `zxid`. Fails, changing nothing, if the log does not reach `zxid`
    /// (see [`txnlog::truncate`] for the exact rules). The default refuses:
    /// a log that cannot cut itself must not pretend it did.
    fn truncate(&mut self, zxid: i64) -> std::io::Result<()> {
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!("this txn log cannot truncate (to zxid 0x{zxid:x})"),
        ))
    }
    /// Ends the current log file: the next append starts a new one
    /// (ZooKeeper rolls after each snapshot). No-op for logs without files.
    fn roll(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// Counters for the group-commit measurement.
    fn stats(&self) -> TxnLogStats {
        TxnLogStats::default()
    }
}

/// What a [`TxnLog`] has done since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxnLogStats {
    /// Txns appended.
    pub appends: u64,
    /// `commit` calls that succeeded.
    pub commits: u64,
    /// fsyncs of log data (a commit with nothing new to sync does none).
    pub fsyncs: u64,
    /// fsyncs of the log directory (one per new file).
    pub dir_fsyncs: u64,
    /// Total time spent in data fsyncs, nanoseconds.
    pub fsync_nanos: u64,
    /// Data fsyncs slower than the warning threshold.
    pub slow_fsyncs: u64,
    /// Bytes of framed entries appended (checksum, length, txn, 'B').
    pub bytes: u64,
    /// Log files created.
    pub files: u64,
}

/// Snapshots in `snap_dir` (a version-2 directory) that pass ZooKeeper's quick validity
/// check (`SnapStream.isValidSnapshot`, see [`snapshot::quick_check`]), newest first — what
/// `FileSnap.findNValidSnapshots` gives `PurgeTxnLog`. Files that fail it are left out.
pub fn valid_snapshots_newest_first(
    snap_dir: &std::path::Path,
) -> std::io::Result<Vec<(i64, std::path::PathBuf)>> {
    let scan = snapshot::find_valid_snapshots(snap_dir, usize::MAX)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(scan
        .candidates
        .into_iter()
        .map(|f| (f.zxid, f.path))
        .collect())
}

/// Where a snapshot's contents go, in ZooKeeper's order: sessions, the ACL
/// cache, then every node in preorder (the root first, with path "").
///
/// The core feeds it in chunks between request batches — the tree keeps
/// changing meanwhile, which makes the snapshot fuzzy exactly as
/// ZooKeeper's are; replaying the log from the snapshot's zxid repairs it.
/// Implementations do the I/O on their own thread.
pub trait SnapshotSink: Send + 'static {
    fn sessions(&mut self, sessions: &[(i64, i32)]) -> std::io::Result<()>;
    fn acl_cache(&mut self, acls: &[(i64, Vec<jute::data::ACL>)]) -> std::io::Result<()>;
    fn node(&mut self, node: &SnapNode) -> std::io::Result<()>;
    /// Writes the trailer (checksum, digest), syncs, and makes the file
    /// visible under its final name.
    fn finish(self: Box<Self>, digest: Option<(i64, i64)>) -> std::io::Result<std::path::PathBuf>;
}

/// One node as a snapshot stores it.
#[derive(Debug, Clone)]
pub struct SnapNode {
    pub path: String,
    pub data: Option<Vec<u8>>,
    pub acl: i64,
    pub stat: jute::data::StatPersisted,
}
