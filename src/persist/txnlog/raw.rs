//! The log as a leader sends it in a DIFF: txns as the bytes they were logged
//! as, bodies left undecoded.
//!
//! A DIFF is PROPOSAL(zxid, data) + COMMIT(zxid) for each txn the learner
//! lacks, where `data` is `Util.marshallTxnEntry`'s bytes — TxnHeader, body,
//! then the TxnDigest — which is exactly what a log entry holds between its
//! length and its end-of-record byte. So [`RawTxnIterator`] hands out those
//! bytes unchanged (checksummed, header decoded for the zxid), through the same
//! reader ([`TxnLogIterator`]) recovery uses. Java's `TxnLogProposalIterator`
//! decodes each txn and marshals it again; for everything a 3.x server logs
//! that gives the same bytes.
//!
//! How far back the log goes decides between DIFF, TRUNC and SNAP
//! (`LearnerHandler.syncFollower` / `queueCommittedProposals`), so the
//! iterator also tells what precedes the first txn it yields:
//! [`RawTxnIterator::preceding_zxid`]. [`txnlog_sync_size`] and
//! [`txnlog_sync_size_limit`] are the two numbers Java compares before it
//! syncs from the log at all (`ZKDatabase.getProposalsFromTxnLog`,
//! `calculateTxnLogSizeLimit`).

use std::path::Path;

use bytes::Bytes;

use super::reader::{
    list_log_files, log_files_from, RecoveryMode, TornTail, TxnLogError, TxnLogIterator,
};

/// One logged txn as its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTxn {
    pub zxid: i64,
    /// `Util.marshallTxnEntry`'s bytes: TxnHeader, body, optional TxnDigest.
    /// Shared, so the PROPOSAL packet and the committed window can hold the
    /// same allocation.
    pub bytes: Bytes,
}

/// Txns with zxid > a given zxid, as [`RawTxn`]s, oldest first.
///
/// Reads a log that may still be appended to: a partly written last entry in
/// the newest file ends the iteration ([`RecoveryMode::EndAtTornTail`]);
/// damage anywhere else is an error, yielded once, as in [`TxnLogIterator`].
pub struct RawTxnIterator {
    inner: TxnLogIterator,
    preceding: Option<i64>,
}

impl RawTxnIterator {
    /// Txns after `after_zxid` in `log_dir` (`<dataLogDir>/version-2`),
    /// reading from the newest file that starts at or before `after_zxid`, so
    /// that the txn `after_zxid` itself, if logged, is seen
    /// ([`Self::preceding_zxid`]).
    pub fn open(log_dir: &Path, after_zxid: i64) -> Result<Self, TxnLogError> {
        let files =
            log_files_from(log_dir, after_zxid).map_err(|e| TxnLogError::io(log_dir, 0, e))?;
        Ok(RawTxnIterator {
            inner: TxnLogIterator::over_files(files, after_zxid, RecoveryMode::EndAtTornTail),
            preceding: None,
        })
    }

    /// The zxid of the last txn read at or below `after_zxid`, once the first
    /// txn after it was yielded (or the log ended): `Some(after_zxid)` when
    /// that txn is logged (a DIFF can start there), `Some(z)` with a smaller
    /// `z` when the log skips it (ZooKeeper then sends TRUNC(z) within an
    /// epoch), `None` when the log starts after it (too short to sync from;
    /// ZooKeeper: "Unable to find proposals from txnlog").
    pub fn preceding_zxid(&self) -> Option<i64> {
        self.preceding
    }

    /// The torn last entry that ended the iteration, if one did.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.inner.torn_tail()
    }
}

impl Iterator for RawTxnIterator {
    type Item = Result<RawTxn, TxnLogError>;

    fn next(&mut self) -> Option<Self::Item> {
        let after = self.inner.after_zxid();
        loop {
            match self.inner.next_record_once()? {
                Err(e) => return Some(Err(e)),
                Ok(record) if record.header.zxid <= after => {
                    self.preceding = Some(record.header.zxid);
                }
                Ok(record) => {
                    return Some(Ok(RawTxn {
                        zxid: record.header.zxid,
                        bytes: Bytes::from(record.bytes),
                    }))
                }
            }
        }
    }
}

/// The on-disk size `ZKDatabase.getProposalsFromTxnLog` compares with its
/// limit before a leader syncs a learner whose last zxid is `start_zxid` from
/// the log: the summed lengths (preallocated padding included) of the log
/// files its `FileTxnIterator` has still to open after the first one —
/// `getStorageSize()` right after the iterator opened that first file, the
/// newest starting *below* `start_zxid` (or the oldest file when none does).
///
/// The file being read first is left out, as in Java; FerroKeeper follows
/// Java here so that a mixed ensemble's leaders choose DIFF or SNAP alike.
pub fn txnlog_sync_size(log_dir: &Path, start_zxid: i64) -> std::io::Result<u64> {
    let files = list_log_files(log_dir)?;
    // FileTxnIterator.init: every file starting at or after the zxid, plus the
    // newest one starting before it; goToNextLog then opens the oldest.
    let first = files
        .iter()
        .rposition(|f| f.start_zxid < start_zxid)
        .unwrap_or(0);
    let mut size = 0u64;
    for f in files.iter().skip(first + 1) {
        size = size.saturating_add(
            std::fs::metadata(&f.path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", f.path.display())))?
                .len(),
        );
    }
    Ok(size)
}

/// `ZKDatabase.calculateTxnLogSizeLimit`: `snapshotSizeFactor` × the length
/// of the newest valid snapshot file in `snap_dir` (0 without one), cut to a
/// long as Java's `(long)` cast does. 0 means no limit; a negative factor
/// turns syncing from the log off (`isTxnLogSyncEnabled`), checked by the
/// caller with [`txnlog_sync_allowed`].
pub fn txnlog_sync_size_limit(snap_dir: &Path, snapshot_size_factor: f64) -> i64 {
    let size = match crate::persist::valid_snapshots_newest_first(snap_dir) {
        Ok(found) => found
            .first()
            .and_then(|(_, path)| std::fs::metadata(path).ok())
            .map_or(0, |m| m.len()),
        Err(e) => {
            // As Java: "Unable to get size of most recent snapshot", then 0.
            tracing::error!("Unable to get size of most recent snapshot: {e}");
            0
        }
    };
    // `as` saturates and maps NaN to 0, like Java's (long) cast.
    (size as f64 * snapshot_size_factor) as i64
}

/// Whether Java would sync from a log of `size` bytes under `limit`
/// (`getProposalsFromTxnLog`): a negative factor disables it, a limit of 0 is
/// no limit, otherwise the size must not exceed the limit.
pub fn txnlog_sync_allowed(snapshot_size_factor: f64, size: u64, limit: i64) -> bool {
    if snapshot_size_factor.is_nan() || snapshot_size_factor < 0.0 || limit < 0 {
        return false;
    }
    limit == 0 || size <= limit as u64
}
