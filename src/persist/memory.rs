//! A `TxnLog` that keeps nothing: standalone without durability.

use super::{TxnLog, TxnLogStats};
use crate::txn::LoggedTxn;
use jute::txn::TxnHeader;
use jute::Record;

/// Counts what it is given and forgets it. Used until the on-disk log exists,
/// and by tests that do not care about durability.
#[derive(Debug, Default)]
pub struct MemTxnLog {
    last_zxid: i64,
    appended: u64,
    commits: u64,
}

impl MemTxnLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// (txns appended, commits) — what the group-commit ratio is made of.
    pub fn counters(&self) -> (u64, u64) {
        (self.appended, self.commits)
    }
}

impl MemTxnLog {
    fn take(&mut self, zxid: i64) -> std::io::Result<()> {
        if zxid <= self.last_zxid {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "txn log append out of order: zxid 0x{zxid:x} after 0x{:x}",
                    self.last_zxid
                ),
            ));
        }
        self.last_zxid = zxid;
        self.appended += 1;
        Ok(())
    }
}

impl TxnLog for MemTxnLog {
    fn append(&mut self, txn: &LoggedTxn) -> std::io::Result<()> {
        self.take(txn.zxid())
    }

    fn append_marshalled(&mut self, txn_bytes: &[u8]) -> std::io::Result<()> {
        let header = TxnHeader::deserialize(&mut &txn_bytes[..]).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("marshalled txn without a readable TxnHeader: {e}"),
            )
        })?;
        self.take(header.zxid)
    }

    fn commit(&mut self) -> std::io::Result<()> {
        self.commits += 1;
        Ok(())
    }

    /// Keeps nothing to cut, so only the position moves back; a zxid past
    /// the last appended one fails as ZooKeeper's truncation past the end of
    /// its log does.
    fn truncate(&mut self, zxid: i64) -> std::io::Result<()> {
        if zxid > self.last_zxid {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "cannot truncate the txn log to zxid 0x{zxid:x}: it ends at 0x{:x}, \
                     before that zxid",
                    self.last_zxid
                ),
            ));
        }
        self.last_zxid = zxid;
        Ok(())
    }

    fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    fn stats(&self) -> TxnLogStats {
        TxnLogStats {
            appends: self.appended,
            commits: self.commits,
            ..TxnLogStats::default()
        }
    }
}
