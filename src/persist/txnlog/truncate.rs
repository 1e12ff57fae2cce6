//! Cutting the txn log back to a zxid: what a learner does on TRUNC.
//!
//! ZooKeeper's `FileTxnLog.truncate(zxid)` (called by `ZKDatabase.truncateLog`
//! when the leader sends TRUNC) fast-forwards a reader to the first entry at or
//! after `zxid`, cuts that entry's file just after it and deletes every later
//! log file. It fails ("No log files found to truncate!") when there is no log
//! file or when the log ends before `zxid`; the learner then exits.
//!
//! [`truncate_log`] keeps exactly the entries ≤ `zxid` and fails in the same
//! two cases. Where they differ, Java is unsafe:
//! - when `zxid` itself is not in the log, Java keeps the first entry *after*
//!   it (its reader stops there), and the learner then reports `zxid` as its
//!   last one while its log holds a txn the leader never had. Here the cut is
//!   right before that entry, so recovery ends at or before `zxid`
//!   ([`Truncation::found`] says whether `zxid` itself was there);
//! - Java cuts the file first and deletes the later files after; a crash in
//!   between leaves a log that jumps from `zxid` to a later file. Here later
//!   files go first (newest first, then the directory is fsynced), so a crash
//!   part-way leaves a longer prefix of the same log, never a hole, and the
//!   leader's next TRUNC finishes the job;
//! - the cut file is fsynced; a file left without entries is deleted rather
//!   than kept as a bare header (FerroKeeper's writer refuses to start behind
//!   a log file named after a later zxid).
//!
//! Snapshots are not touched, as in ZooKeeper.

use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};

use super::format::FILE_HEADER_LEN;
use super::reader::{
    list_log_files, LogFile, RecoveryMode, TxnLogError, TxnLogErrorKind, TxnLogIterator,
};
use super::writer::sync_dir;

/// What [`truncate_log`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    /// The zxid asked for.
    pub zxid: i64,
    /// Whether an entry with exactly that zxid is in the log (it is kept).
    pub found: bool,
    /// The file that was cut and its new length, if one was cut (none when
    /// the cut fell at the very end of the log, or at the start of a file,
    /// which is then among `deleted`).
    pub cut: Option<(PathBuf, u64)>,
    /// Log files removed, newest first.
    pub deleted: Vec<PathBuf>,
}

/// Where the log must end: in `file`, at byte `at`.
struct CutPoint {
    file: PathBuf,
    at: u64,
    found: bool,
}

fn error(dir: &Path, message: String) -> TxnLogError {
    TxnLogError::new(dir, 0, TxnLogErrorKind::CannotTruncate(message))
}

/// Finds the end of the last entry ≤ `zxid`, reading from the file that may
/// hold `zxid`. Stops at the first entry ≥ `zxid`, so a torn tail after it is
/// never reached (it is cut off with the rest).
fn find_cut(dir: &Path, files: Vec<LogFile>, zxid: i64) -> Result<CutPoint, TxnLogError> {
    let mut it = TxnLogIterator::over_files(files, i64::MIN, RecoveryMode::Strict);
    while let Some(record) = it.next_record_once() {
        let record = record?;
        let file = it.current_file().map(Path::to_path_buf).ok_or_else(|| {
            TxnLogError::io(dir, 0, std::io::Error::other("the reader lost its file"))
        })?;
        if record.header.zxid == zxid {
            return Ok(CutPoint {
                file,
                at: record.end,
                found: true,
            });
        }
        if record.header.zxid > zxid {
            return Ok(CutPoint {
                file,
                at: record.offset,
                found: false,
            });
        }
    }
    Err(error(
        dir,
        match it.last_zxid_read() {
            Some(last) => format!(
                "cannot truncate the txn log to zxid 0x{zxid:x}: it ends at 0x{last:x}, \
                 before that zxid"
            ),
            None => format!(
                "cannot truncate the txn log to zxid 0x{zxid:x}: no txn found to truncate \
                 (snapshots from an old setup, log files deleted, or dataLogDir changed?)"
            ),
        },
    ))
}

/// `FileTxnLog.truncate`: keeps every entry of the log in `log_dir`
/// (`<dataLogDir>/version-2`) with a zxid ≤ `zxid` and removes the rest (see
/// the module docs for how and why this differs from Java where Java is
/// unsafe). Fails, changing nothing, when the log has no file or ends before
/// `zxid`, or when it is damaged before the cut point.
///
/// Must not run while a [`super::FileTxnLog`] is appending to the directory;
/// [`super::FileTxnLog::truncate`] closes its file first.
pub fn truncate_log(log_dir: &Path, zxid: i64) -> Result<Truncation, TxnLogError> {
    let all = list_log_files(log_dir).map_err(|e| TxnLogError::io(log_dir, 0, e))?;
    if all.is_empty() {
        return Err(error(
            log_dir,
            format!(
                "cannot truncate the txn log to zxid 0x{zxid:x}: no log files found \
                 (snapshots from an old setup, log files deleted, or dataLogDir changed?)"
            ),
        ));
    }
    // FileTxnLog.getLogFiles: the newest file starting at or before zxid on.
    let start = all.iter().rposition(|f| f.start_zxid <= zxid).unwrap_or(0);
    let cut = find_cut(log_dir, all[start..].to_vec(), zxid)?;

    let keeps_entries = cut.at > FILE_HEADER_LEN;
    let cut_index = all.iter().position(|f| f.path == cut.file).ok_or_else(|| {
        TxnLogError::io(
            &cut.file,
            0,
            std::io::Error::other("the file to cut is not among the log files"),
        )
    })?;
    let first_deleted = if keeps_entries {
        cut_index + 1
    } else {
        cut_index
    };
    let mut deleted = Vec::new();
    for f in all[first_deleted..].iter().rev() {
        fs::remove_file(&f.path).map_err(|e| TxnLogError::io(&f.path, 0, e))?;
        tracing::info!(
            "Truncating the txn log to 0x{zxid:x}: deleted {}",
            f.path.display()
        );
        deleted.push(f.path.clone());
    }
    if !deleted.is_empty() {
        sync_dir(log_dir).map_err(|e| TxnLogError::io(log_dir, 0, e))?;
    }
    let mut cut_file = None;
    if keeps_entries {
        let file = OpenOptions::new()
            .write(true)
            .open(&cut.file)
            .map_err(|e| TxnLogError::io(&cut.file, 0, e))?;
        let len = file
            .metadata()
            .map_err(|e| TxnLogError::io(&cut.file, 0, e))?
            .len();
        // Also drops the preallocated zeros, as Java's setLength does.
        if len != cut.at {
            file.set_len(cut.at)
                .map_err(|e| TxnLogError::io(&cut.file, cut.at, e))?;
            file.sync_all()
                .map_err(|e| TxnLogError::io(&cut.file, cut.at, e))?;
            tracing::info!(
                "Truncating the txn log to 0x{zxid:x}: cut {} at offset {}",
                cut.file.display(),
                cut.at
            );
            cut_file = Some((cut.file, cut.at));
        }
    }
    Ok(Truncation {
        zxid,
        found: cut.found,
        cut: cut_file,
        deleted,
    })
}
