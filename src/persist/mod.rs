//! Durability: where the sync stage writes prepared txns before final applies them.
//!
//! The sync stage only sees the [`TxnLog`] trait, so the in-memory log used
//! today and the on-disk log in ZooKeeper's `version-2/log.*` format slot in
//! the same way.

mod memory;

pub use memory::MemTxnLog;

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
}
