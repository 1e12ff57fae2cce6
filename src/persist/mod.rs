//! Durability: where the sync stage writes prepared txns before final applies them.
//!
//! The sync stage only sees the [`TxnLog`] trait, so the in-memory log
//! ([`MemTxnLog`]) and the on-disk log in ZooKeeper's `version-2/log.*`
//! format ([`FileTxnLog`], reader and recovery in [`txnlog`]) slot in the
//! same way.

mod memory;
pub mod txnlog;

pub use memory::MemTxnLog;
pub use txnlog::{FileTxnLog, FileTxnLogOptions};

use crate::pipeline::LoggedTxn;

/// An append-only log of txns in zxid order.
///
/// Contract: `append` may buffer; nothing appended counts as durable until
/// `commit` returns `Ok`. A reply to a client is sent only after the commit
/// that covers its txn.
pub trait TxnLog: Send + 'static {
    /// Appends one txn; zxids must be strictly increasing.
    fn append(&mut self, txn: &LoggedTxn) -> std::io::Result<()>;
    /// Makes everything appended so far durable (fsync for a disk log).
    fn commit(&mut self) -> std::io::Result<()>;
    /// The zxid of the last appended txn, 0 when empty.
    fn last_zxid(&self) -> i64;
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
