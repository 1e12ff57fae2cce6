//! The transaction log in ZooKeeper's own on-disk format, so FerroKeeper and
//! Java ZooKeeper 3.8 can take turns on the same `dataLogDir`.
//!
//! - [`format`](mod@format): the bytes — file header, entry framing, Adler-32, padding,
//!   file names, txn decoding as `SerializeUtils.deserializeTxn`;
//! - [`writer`]: [`FileTxnLog`], the [`crate::persist::TxnLog`] that appends,
//!   preallocates, group-commits with fsync and rolls;
//! - [`reader`]: [`TxnLogIterator`], which reads txns after a zxid across
//!   files and tells a torn tail (cut it with [`RecoveryMode::TruncateTornTail`])
//!   from corruption (always an error naming file and offset);
//! - [`truncate`](mod@truncate): cutting the log back to a zxid (a learner's TRUNC);
//! - [`raw`]: [`RawTxnIterator`], the logged bytes of txns after a zxid, as a
//!   leader sends them in a DIFF, and the size check that allows such a sync.
//!
//! All paths here are the log directory itself, `<dataLogDir>/version-2`
//! (see [`version2_dir`]), as in ZooKeeper's `FileTxnLog`.

pub mod format;
pub mod raw;
pub mod reader;
pub mod truncate;
pub mod writer;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use format::{log_file_name, zxid_from_log_name, DecodedTxn, DEFAULT_PRE_ALLOC_SIZE};
pub use raw::{
    txnlog_sync_allowed, txnlog_sync_size, txnlog_sync_size_limit, RawTxn, RawTxnIterator,
};
pub use reader::{
    list_log_files, log_files_from, LogEntry, LogFile, RecoveryMode, TornTail, TxnLogError,
    TxnLogErrorKind, TxnLogIterator,
};
pub use truncate::{truncate_log, Truncation};
pub use writer::{FileTxnLog, FileTxnLogOptions};

/// `<data_log_dir>/version-2`, where ZooKeeper keeps the log files.
pub fn version2_dir(data_log_dir: &Path) -> PathBuf {
    data_log_dir.join(format::VERSION_DIR)
}
