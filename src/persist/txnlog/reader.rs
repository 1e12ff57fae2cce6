//! Reading ZooKeeper transaction logs: [`TxnLogIterator`].
//!
//! Which files: `FileTxnLog.getLogFiles` — the newest file named after a
//! zxid ≤ the first wanted zxid, and every later one, in zxid order.
//!
//! Where a file ends (as ZooKeeper's `FileTxnIterator` / `Util.readTxnBytes`):
//! at its physical end, or at an entry whose checksum and length are both
//! zero — the preallocated padding. Everything else that does not read as a
//! whole, checksummed entry is classified:
//!
//! - **torn tail**: the entry is in the newest file, no whole checksummed
//!   entry starts anywhere after it, and it shows an interrupted write — the
//!   file ends inside it, its length or end-of-record byte is missing or
//!   wrong, or (for a checksum mismatch) it contains a whole 512-byte sector
//!   of zeros that was never written. No commit can have covered such an
//!   entry (commit fsyncs everything before it returns, so an acknowledged
//!   entry after it would be whole), so nothing acknowledged is lost by
//!   cutting the file there. [`RecoveryMode::Strict`] reports it as an
//!   error; [`RecoveryMode::TruncateTornTail`] cuts the file there.
//! - **superseded torn tail**: the same in an older file when the next file
//!   starts right after the last whole txn before the tear — what a crash
//!   and restart leaves (ZooKeeper reads the tear as the end of that file
//!   and its restart logs on in a new file; the later files were built on
//!   the state without the torn txn). Skipped as ZooKeeper skips it, but
//!   logged and listed ([`TxnLogIterator::superseded_tails`]); not cut.
//! - **corruption**: anything else — a bad entry with a whole entry after
//!   it, a bad entry in an older file that is not superseded, a checksum mismatch in a fully
//!   written entry, an undecodable txn behind a good checksum. Always an
//!   error naming the file and offset; nothing is ever skipped.
//!
//! A partial checksum-and-length prefix of only zeros at the end of a file
//! reads as padding (ZooKeeper's checksum long always starts with 4 zero
//! bytes, so nothing of the entry was written).
//!
//! ZooKeeper itself treats every short read and every missing end-of-record
//! byte as the end of that file and silently continues with the next one;
//! where that could hide lost or damaged txns, FerroKeeper stops instead.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use jute::persistence::FileHeader;
use jute::txn::{TxnDigest, TxnHeader};
use jute::Record;

use super::format::{
    checksum, decode_txn, zxid_from_log_name, END_OF_RECORD, ENTRY_PREFIX_LEN, FILE_HEADER_LEN,
    TXNLOG_MAGIC,
};
use super::writer::sync_dir;
use crate::txn::TxnBody;

/// Sector size assumed when looking for never-written parts of an entry.
const SECTOR: u64 = 512;

/// What to do with a torn tail (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryMode {
    /// Report it as an error ([`TxnLogErrorKind::TornTail`]); change nothing.
    Strict,
    /// Cut the file at the torn entry (deleting the file if its header is
    /// torn) and end the iteration there.
    TruncateTornTail,
    /// End the iteration at the torn entry and change nothing (it stays
    /// visible through [`TxnLogIterator::torn_tail`]). For reading a log that
    /// is still being appended to — a leader reading its own log for a DIFF —
    /// where a partly written last entry is the end of what exists so far,
    /// as ZooKeeper's reader takes it.
    EndAtTornTail,
}

/// A log file and the zxid it is named after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    pub start_zxid: i64,
}

/// Every file in `log_dir` whose name ZooKeeper reads as a log file
/// (`log.<hex zxid>`), sorted by that zxid (then by name). A missing
/// directory has none, as in ZooKeeper.
pub fn list_log_files(log_dir: &Path) -> io::Result<Vec<LogFile>> {
    let entries = match std::fs::read_dir(log_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!("txn log: listing {}: {e}", log_dir.display()),
            ))
        }
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("txn log: listing {}: {e}", log_dir.display()),
            )
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(start_zxid) = zxid_from_log_name(name) {
            files.push(LogFile {
                path: entry.path(),
                start_zxid,
            });
        }
    }
    files.sort_by(|a, b| {
        a.start_zxid
            .cmp(&b.start_zxid)
            .then_with(|| a.path.cmp(&b.path))
    });
    Ok(files)
}

/// `FileTxnLog.getLogFiles(files, zxid)`: the newest file starting at or
/// before `zxid`, and all later files. When no file starts at or before it,
/// all files.
pub fn log_files_from(log_dir: &Path, zxid: i64) -> io::Result<Vec<LogFile>> {
    let files = list_log_files(log_dir)?;
    let log_zxid = files
        .iter()
        .map(|f| f.start_zxid)
        .filter(|&z| z <= zxid)
        .max()
        .unwrap_or(0);
    Ok(files
        .into_iter()
        .filter(|f| f.start_zxid >= log_zxid)
        .collect())
}

/// One txn read from the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEntry {
    pub header: TxnHeader,
    pub body: TxnBody,
    pub digest: Option<TxnDigest>,
    /// Offset of the entry (its checksum) in its file.
    pub offset: u64,
    /// The txn's bytes as logged (header, body, digest), shared: what the
    /// committed-proposal window keeps and a PROPOSAL carries.
    pub bytes: bytes::Bytes,
}

/// An interrupted write at the end of the newest log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    pub file: PathBuf,
    /// Where the torn entry starts: the file's length after truncation.
    /// Below the header length means the header itself is torn.
    pub offset: u64,
    /// The file's length when the tail was found.
    pub file_len: u64,
    /// What was wrong with the entry.
    pub reason: String,
}

impl TornTail {
    /// Cuts the file at [`TornTail::offset`] and fsyncs it — or deletes the
    /// file (and fsyncs its directory) when even the header is torn, since
    /// ZooKeeper cannot read a log file without one. Refuses if the file's
    /// length changed since the tail was found.
    pub fn truncate(&self) -> Result<(), TxnLogError> {
        let err = |offset, e| TxnLogError::io(&self.file, offset, e);
        let file = OpenOptions::new()
            .write(true)
            .open(&self.file)
            .map_err(|e| err(0, e))?;
        let len = file.metadata().map_err(|e| err(0, e))?.len();
        if len != self.file_len {
            return Err(TxnLogError::new(
                &self.file,
                self.offset,
                TxnLogErrorKind::Corrupt(format!(
                    "not truncating the torn tail: the file is now {len} bytes, it was {}",
                    self.file_len
                )),
            ));
        }
        if self.offset < FILE_HEADER_LEN {
            drop(file);
            std::fs::remove_file(&self.file).map_err(|e| err(0, e))?;
            if let Some(dir) = self.file.parent() {
                sync_dir(dir).map_err(|e| err(0, e))?;
            }
        } else {
            file.set_len(self.offset).map_err(|e| err(self.offset, e))?;
            file.sync_all().map_err(|e| err(self.offset, e))?;
        }
        Ok(())
    }
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "torn tail in txn log {} at offset {}: {}",
            self.file.display(),
            self.offset,
            self.reason
        )
    }
}

/// Why reading the log failed; always names the file and offset.
#[derive(Debug)]
pub struct TxnLogError {
    pub file: PathBuf,
    pub offset: u64,
    pub kind: TxnLogErrorKind,
}

#[derive(Debug)]
pub enum TxnLogErrorKind {
    Io(io::Error),
    /// Not a txn log file (wrong magic).
    BadHeader(String),
    /// Damaged data that is not a torn tail.
    Corrupt(String),
    /// A whole entry with a good checksum whose txn cannot be decoded.
    Undecodable(String),
    /// A torn tail in [`RecoveryMode::Strict`].
    TornTail(TornTail),
    /// Zxids must increase through the log.
    ZxidOrder {
        previous: i64,
        zxid: i64,
    },
    /// A truncation to a zxid the log does not reach (no log file, or the log
    /// ends before it). Nothing was changed.
    CannotTruncate(String),
}

impl TxnLogError {
    pub(super) fn new(file: &Path, offset: u64, kind: TxnLogErrorKind) -> Self {
        Self {
            file: file.to_path_buf(),
            offset,
            kind,
        }
    }

    pub(super) fn io(file: &Path, offset: u64, e: io::Error) -> Self {
        Self::new(file, offset, TxnLogErrorKind::Io(e))
    }

    /// The torn tail, when that is what this error reports.
    pub fn torn_tail(&self) -> Option<&TornTail> {
        match &self.kind {
            TxnLogErrorKind::TornTail(t) => Some(t),
            _ => None,
        }
    }
}

impl fmt::Display for TxnLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "txn log {} at offset {}: ",
            self.file.display(),
            self.offset
        )?;
        match &self.kind {
            TxnLogErrorKind::Io(e) => write!(f, "I/O error: {e}"),
            TxnLogErrorKind::BadHeader(s) => write!(f, "bad file header: {s}"),
            TxnLogErrorKind::Corrupt(s) => write!(f, "corrupt: {s}"),
            TxnLogErrorKind::Undecodable(s) => write!(f, "undecodable txn: {s}"),
            TxnLogErrorKind::TornTail(t) => write!(
                f,
                "torn tail (an interrupted write; recover with truncation): {}",
                t.reason
            ),
            TxnLogErrorKind::ZxidOrder { previous, zxid } => write!(
                f,
                "zxid 0x{zxid:x} does not follow 0x{previous:x}: zxids must increase"
            ),
            TxnLogErrorKind::CannotTruncate(s) => write!(f, "{s}"),
        }
    }
}

impl std::error::Error for TxnLogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            TxnLogErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<TxnLogError> for io::Error {
    fn from(e: TxnLogError) -> Self {
        let kind = match &e.kind {
            TxnLogErrorKind::Io(inner) => inner.kind(),
            TxnLogErrorKind::CannotTruncate(_) => io::ErrorKind::InvalidInput,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e.to_string())
    }
}

/// Reads `buf.len()` bytes unless the input ends first; returns how many.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The offset of the first nonzero byte read from `r`, whose first byte is
/// at offset `start`; `None` if it holds only zeros.
pub(super) fn first_nonzero(r: &mut impl Read, start: u64) -> io::Result<Option<u64>> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = start;
    loop {
        let n = read_full(r, &mut buf)?;
        if let Some(i) = buf[..n].iter().position(|&b| b != 0) {
            return Ok(Some(offset + i as u64));
        }
        if n < buf.len() {
            return Ok(None);
        }
        offset += n as u64;
    }
}

/// An entry (or header) that did not read whole, before classification.
struct BadEntry {
    offset: u64,
    reason: String,
    /// Whether the evidence alone shows an interrupted write. A checksum
    /// mismatch in an entry that is otherwise whole does so only if it holds
    /// a never-written (all-zero) sector.
    looks_interrupted: bool,
}

/// The file being read.
struct Cursor {
    path: PathBuf,
    reader: BufReader<File>,
    pos: u64,
    len: u64,
    /// The newest file: the only one that may have a torn tail.
    is_last: bool,
}

/// One whole entry whose checksum matched, before its body is decoded.
pub(super) struct RawRecord {
    pub header: TxnHeader,
    /// The txn bytes exactly as logged: header, body, optional digest (what
    /// the checksum covers, without the framing).
    pub bytes: Vec<u8>,
    /// Where the entry (its checksum) starts in its file.
    pub offset: u64,
    /// Just past its end-of-record byte: where the next entry starts.
    pub end: u64,
}

enum Step {
    /// Nothing to report yet: read on.
    Continue,
    Entry(RawRecord),
    EndOfFile,
    Bad(BadEntry),
}

/// Iterates over the txns after a given zxid, across log files, in order.
///
/// Yields `Err` at most once, then ends. See the module docs for what ends a
/// file, what is a torn tail and what is corruption.
pub struct TxnLogIterator {
    files: std::vec::IntoIter<LogFile>,
    remaining_files: usize,
    cursor: Option<Cursor>,
    after_zxid: i64,
    mode: RecoveryMode,
    previous_zxid: Option<i64>,
    /// Entries skipped because their zxid did not increase (see
    /// [`Self::next_record`]), for the tools to report.
    regressions: Vec<TxnLogError>,
    torn: Option<TornTail>,
    superseded: Vec<TornTail>,
    truncated: bool,
    done: bool,
}

impl TxnLogIterator {
    /// Reads the txns with zxid > `after_zxid` from `log_dir`
    /// (`<dataLogDir>/version-2`). A missing directory has no txns.
    pub fn open(log_dir: &Path, after_zxid: i64, mode: RecoveryMode) -> Result<Self, TxnLogError> {
        let target = after_zxid.saturating_add(1);
        let files = log_files_from(log_dir, target).map_err(|e| TxnLogError::io(log_dir, 0, e))?;
        Ok(Self::over_files(files, after_zxid, mode))
    }

    /// Reads the txns with zxid > `after_zxid` from exactly these files, in
    /// this order; the last one is taken to be the newest.
    pub fn over_files(files: Vec<LogFile>, after_zxid: i64, mode: RecoveryMode) -> Self {
        Self {
            remaining_files: files.len(),
            files: files.into_iter(),
            cursor: None,
            after_zxid,
            mode,
            previous_zxid: None,
            regressions: Vec::new(),
            torn: None,
            superseded: Vec::new(),
            truncated: false,
            done: false,
        }
    }

    /// The torn tail found, if the iteration reached one (in either mode).
    pub fn torn_tail(&self) -> Option<&TornTail> {
        self.torn.as_ref()
    }

    /// Torn tails in older files that a later file supersedes (it starts
    /// right after the last whole txn before the tear): what a crash and
    /// restart of ZooKeeper leaves. Skipped, as ZooKeeper skips them, logged,
    /// and listed here; never truncated.
    pub fn superseded_tails(&self) -> &[TornTail] {
        &self.superseded
    }

    /// Whether [`RecoveryMode::TruncateTornTail`] cut a torn tail.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Cuts the torn tail found by a [`RecoveryMode::Strict`] iteration (a
    /// no-op if none was found or it was already cut).
    pub fn truncate_torn_tail(&mut self) -> Result<(), TxnLogError> {
        if self.truncated {
            return Ok(());
        }
        if let Some(t) = &self.torn {
            self.cursor = None;
            t.truncate()?;
            tracing::warn!("{t}: truncated");
            self.truncated = true;
        }
        Ok(())
    }

    /// The zxid of the last entry read (yielded or skipped).
    pub fn last_zxid_read(&self) -> Option<i64> {
        self.previous_zxid
    }

    /// The file being read: right after [`Iterator::next`] yields an entry,
    /// the file that entry is in. `None` between files and once ended.
    pub fn current_file(&self) -> Option<&Path> {
        self.cursor.as_ref().map(|c| c.path.as_path())
    }

    /// Opens the next file and checks its header: `None` when there are no
    /// more files, else the step the header amounts to (a bad header, or
    /// `Continue` to read entries).
    fn open_next_file(&mut self) -> Result<Option<Step>, TxnLogError> {
        let Some(file) = self.files.next() else {
            return Ok(None);
        };
        self.remaining_files -= 1;
        let path = file.path;
        let f = File::open(&path).map_err(|e| TxnLogError::io(&path, 0, e))?;
        let len = f
            .metadata()
            .map_err(|e| TxnLogError::io(&path, 0, e))?
            .len();
        let mut cursor = Cursor {
            path,
            reader: BufReader::with_capacity(64 * 1024, f),
            pos: 0,
            len,
            is_last: self.remaining_files == 0,
        };
        let mut buf = [0u8; FILE_HEADER_LEN as usize];
        let n = read_full(&mut cursor.reader, &mut buf)
            .map_err(|e| TxnLogError::io(&cursor.path, 0, e))?;
        cursor.pos = n as u64;
        let magic = TXNLOG_MAGIC.to_be_bytes();
        let bad = if n < buf.len() {
            if buf[..n].iter().any(|&b| b != 0) && !magic.starts_with(&buf[..n.min(4)]) {
                return Err(TxnLogError::new(
                    &cursor.path,
                    0,
                    TxnLogErrorKind::BadHeader(format!(
                        "{n} bytes that do not start with \"ZKLG\""
                    )),
                ));
            }
            Some(BadEntry {
                offset: 0,
                reason: format!("file ends inside the file header ({n} of 16 bytes)"),
                looks_interrupted: true,
            })
        } else if buf.iter().all(|&b| b == 0) {
            Some(BadEntry {
                offset: 0,
                reason: "file header never written (zeros)".to_string(),
                looks_interrupted: true,
            })
        } else {
            let header = jute::from_bytes::<FileHeader>(&buf)
                .map_err(|e| TxnLogError::io(&cursor.path, 0, io::Error::other(e)))?;
            if header.magic != TXNLOG_MAGIC {
                return Err(TxnLogError::new(
                    &cursor.path,
                    0,
                    TxnLogErrorKind::BadHeader(format!(
                        "magic 0x{:08x} is not \"ZKLG\" (0x{TXNLOG_MAGIC:08x})",
                        header.magic
                    )),
                ));
            }
            None
        };
        self.cursor = Some(cursor);
        Ok(Some(bad.map_or(Step::Continue, Step::Bad)))
    }

    /// Reads the entry at the cursor.
    fn read_entry(cursor: &mut Cursor) -> Result<Step, TxnLogError> {
        let offset = cursor.pos;
        let io_err = |e| TxnLogError::io(&cursor.path, offset, e);
        let mut prefix = [0u8; ENTRY_PREFIX_LEN as usize];
        let n = read_full(&mut cursor.reader, &mut prefix).map_err(io_err)?;
        cursor.pos += n as u64;
        if n == 0 {
            return Ok(Step::EndOfFile);
        }
        if n < prefix.len() {
            if prefix[..n].iter().all(|&b| b == 0) {
                return Ok(Step::EndOfFile);
            }
            return Ok(Step::Bad(BadEntry {
                offset,
                reason: format!(
                    "file ends inside the entry's checksum and length ({n} of 12 bytes)"
                ),
                looks_interrupted: true,
            }));
        }
        let stored = i64::from_be_bytes([
            prefix[0], prefix[1], prefix[2], prefix[3], prefix[4], prefix[5], prefix[6], prefix[7],
        ]);
        let len = i32::from_be_bytes([prefix[8], prefix[9], prefix[10], prefix[11]]);
        let body_start = offset + ENTRY_PREFIX_LEN;
        if len == 0 {
            if stored == 0 {
                // Preallocated padding: the end of what was written.
                return Ok(Step::EndOfFile);
            }
            return Ok(Step::Bad(BadEntry {
                offset,
                reason: format!("length 0 with checksum 0x{stored:x}"),
                looks_interrupted: true,
            }));
        }
        if len < 0 {
            return Ok(Step::Bad(BadEntry {
                offset,
                reason: format!("negative length {len}"),
                looks_interrupted: true,
            }));
        }
        let len = len as u64; // checked non-negative
        let entry_end = body_start + len + 1;
        if entry_end > cursor.len {
            return Ok(Step::Bad(BadEntry {
                offset,
                reason: format!(
                    "length {len} runs past the end of the file ({} bytes)",
                    cursor.len
                ),
                looks_interrupted: true,
            }));
        }
        let mut bytes = vec![0u8; len as usize + 1];
        let n = read_full(&mut cursor.reader, &mut bytes).map_err(io_err)?;
        cursor.pos += n as u64;
        if n < bytes.len() {
            return Ok(Step::Bad(BadEntry {
                offset,
                reason: format!("file ends inside the entry ({n} of {} bytes)", len + 1),
                looks_interrupted: true,
            }));
        }
        let eor = bytes.pop().unwrap_or(0);
        if eor != END_OF_RECORD {
            return Ok(Step::Bad(BadEntry {
                offset,
                reason: format!("end-of-record byte 0x{eor:02x} instead of 0x42 (length {len})"),
                looks_interrupted: true,
            }));
        }
        let computed = checksum(&bytes);
        if computed != stored {
            let zero_sector = has_zero_sector(offset, &prefix, &bytes);
            return Ok(Step::Bad(BadEntry {
                offset,
                reason: format!(
                    "checksum mismatch: stored 0x{stored:x}, computed 0x{computed:x} (length {len}){}",
                    if zero_sector {
                        "; part of the entry was never written"
                    } else {
                        "; the entry is fully written"
                    }
                ),
                looks_interrupted: zero_sector,
            }));
        }
        let header = TxnHeader::deserialize(&mut bytes.as_slice()).map_err(|e| {
            TxnLogError::new(
                &cursor.path,
                offset,
                TxnLogErrorKind::Undecodable(format!("txn header: {e}")),
            )
        })?;
        Ok(Step::Entry(RawRecord {
            header,
            bytes,
            offset,
            end: entry_end,
        }))
    }

    /// Decides torn tail versus corruption for a bad entry: `Ok(true)` to
    /// read on in the next file, `Ok(false)` to end the iteration.
    fn classify(&mut self, bad: BadEntry) -> Result<bool, TxnLogError> {
        let Some(cursor) = self.cursor.take() else {
            return Ok(false);
        };
        let path = cursor.path;
        let corrupt = |why: String| {
            TxnLogError::new(
                &path,
                bad.offset,
                TxnLogErrorKind::Corrupt(format!("{}; {why}", bad.reason)),
            )
        };
        if !bad.looks_interrupted {
            return Err(corrupt("not an interrupted write".to_string()));
        }
        // A torn write is the last write in its file: no whole entry follows.
        if let Some(at) = find_entry_after(&path, bad.offset, cursor.len)? {
            return Err(corrupt(format!(
                "a whole entry follows at offset {at}, so it is no torn tail"
            )));
        }
        let torn = TornTail {
            file: path.clone(),
            offset: bad.offset,
            file_len: cursor.len,
            reason: bad.reason.clone(),
        };
        if !cursor.is_last {
            // ZooKeeper reads a torn tail as the end of its file and, after a
            // crash, restarts in a new file right after the last whole txn.
            // Only then was the torn write superseded; anything else is a hole.
            let next = self.files.as_slice().first().map(|f| f.start_zxid);
            return match (self.previous_zxid, next) {
                (Some(prev), Some(next))
                    if bad.offset >= FILE_HEADER_LEN && Some(next) == prev.checked_add(1) =>
                {
                    tracing::warn!(
                        "{torn}: superseded (the next log file resumes at zxid 0x{next:x}); \
                         skipping it as ZooKeeper does"
                    );
                    self.superseded.push(torn);
                    Ok(true)
                }
                _ => Err(corrupt(format!(
                    "this is not the newest log file, and the next one does not resume right \
                     after the last whole txn{}",
                    self.previous_zxid
                        .map(|z| format!(" (0x{z:x})"))
                        .unwrap_or_default()
                ))),
            };
        }
        self.torn = Some(torn.clone());
        match self.mode {
            RecoveryMode::Strict => Err(TxnLogError::new(
                &path,
                torn.offset,
                TxnLogErrorKind::TornTail(torn),
            )),
            RecoveryMode::TruncateTornTail => self.truncate_torn_tail().map(|()| false),
            RecoveryMode::EndAtTornTail => Ok(false),
        }
    }

    /// The next whole entry of any zxid, in file order, with zxids checked to
    /// increase; `None` at the end of the log.
    pub(super) fn next_record(&mut self) -> Result<Option<RawRecord>, TxnLogError> {
        loop {
            let step = match self.cursor.as_mut() {
                None => match self.open_next_file()? {
                    None => return Ok(None),
                    Some(step) => step,
                },
                Some(cursor) => Self::read_entry(cursor)?,
            };
            match step {
                Step::Continue => {}
                Step::EndOfFile => self.cursor = None,
                Step::Bad(bad) => {
                    if !self.classify(bad)? {
                        return Ok(None);
                    }
                }
                Step::Entry(entry) => {
                    let zxid = entry.header.zxid;
                    if let Some(previous) = self.previous_zxid {
                        if zxid <= previous {
                            // Java 3.8's FileTxnLog.append writes a txn at or
                            // below the last one with only a warning (a learner
                            // that re-receives proposals it logged before a
                            // role change), and its replay logs an error and
                            // goes on. Such an entry repeats history already
                            // read: it is skipped, and said so.
                            let path = self
                                .cursor
                                .as_ref()
                                .map(|c| c.path.clone())
                                .unwrap_or_default();
                            let e = TxnLogError::new(
                                &path,
                                entry.offset,
                                TxnLogErrorKind::ZxidOrder { previous, zxid },
                            );
                            tracing::warn!("{e}; skipped: it repeats a txn already read (Java writes such entries)");
                            self.regressions.push(e);
                            continue;
                        }
                    }
                    self.previous_zxid = Some(zxid);
                    return Ok(Some(entry));
                }
            }
        }
    }

    /// Entries skipped because their zxid was not above the one before.
    pub fn zxid_regressions(&self) -> &[TxnLogError] {
        &self.regressions
    }

    /// The zxid entries must be above to be yielded.
    pub(super) fn after_zxid(&self) -> i64 {
        self.after_zxid
    }

    /// Ends the iteration after an error found outside [`Self::next_record`].
    pub(super) fn fail(&mut self, e: TxnLogError) -> TxnLogError {
        self.done = true;
        self.cursor = None;
        e
    }

    /// Like [`Self::next_record`], but ends the iteration for good at the end
    /// of the log or after an error.
    pub(super) fn next_record_once(&mut self) -> Option<Result<RawRecord, TxnLogError>> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => Some(Err(self.fail(e))),
        }
    }

    /// Every entry is decoded, also those skipped for being at or below
    /// `after_zxid`, as ZooKeeper's `FileTxnIterator` decodes each entry it
    /// fast-forwards over.
    fn advance(&mut self) -> Result<Option<LogEntry>, TxnLogError> {
        while let Some(record) = self.next_record()? {
            let txn = decode_txn(&record.bytes).map_err(|msg| {
                let path = self
                    .cursor
                    .as_ref()
                    .map(|c| c.path.clone())
                    .unwrap_or_default();
                TxnLogError::new(&path, record.offset, TxnLogErrorKind::Undecodable(msg))
            })?;
            if record.header.zxid > self.after_zxid {
                return Ok(Some(LogEntry {
                    header: txn.header,
                    body: txn.body,
                    digest: txn.digest,
                    offset: record.offset,
                    bytes: bytes::Bytes::from(record.bytes),
                }));
            }
        }
        Ok(None)
    }
}

/// The offset of the first whole, checksummed entry that starts after
/// `offset` in the file (of length `len`), searching every byte position.
fn find_entry_after(path: &Path, offset: u64, len: u64) -> Result<Option<u64>, TxnLogError> {
    let start = offset + 1;
    if start >= len {
        return Ok(None);
    }
    let io_err = |e| TxnLogError::io(path, start, e);
    let mut f = File::open(path).map_err(io_err)?;
    f.seek(io::SeekFrom::Start(start)).map_err(io_err)?;
    let mut buf = Vec::new();
    f.take(len - start).read_to_end(&mut buf).map_err(io_err)?;
    // Trailing zeros (padding) can hold no entry.
    let used = buf.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    buf.truncate(used);
    let prefix = ENTRY_PREFIX_LEN as usize;
    for i in 0..buf.len() {
        let Some(head) = buf.get(i..i + prefix) else {
            break;
        };
        // Adler-32 fits in 32 bits: the checksum long's high half is zero.
        if head[..4] != [0, 0, 0, 0] {
            continue;
        }
        let stored = i64::from(u32::from_be_bytes([head[4], head[5], head[6], head[7]]));
        let n = i32::from_be_bytes([head[8], head[9], head[10], head[11]]);
        let Ok(n) = usize::try_from(n) else { continue };
        if n == 0 {
            continue;
        }
        let body = i + prefix;
        if buf.get(body + n) != Some(&END_OF_RECORD) {
            continue;
        }
        if checksum(&buf[body..body + n]) == stored {
            return Ok(Some(start + i as u64));
        }
    }
    Ok(None)
}

/// Whether a whole 512-byte-aligned sector inside the entry is all zeros —
/// a part that was never written. `offset` is the entry's file offset.
fn has_zero_sector(offset: u64, prefix: &[u8], bytes: &[u8]) -> bool {
    let mut entry = Vec::with_capacity(prefix.len() + bytes.len());
    entry.extend_from_slice(prefix);
    entry.extend_from_slice(bytes);
    let first = offset.div_ceil(SECTOR) * SECTOR;
    let mut s = first;
    while s + SECTOR <= offset + entry.len() as u64 {
        let from = (s - offset) as usize;
        if entry[from..from + SECTOR as usize].iter().all(|&b| b == 0) {
            return true;
        }
        s += SECTOR;
    }
    false
}

impl Iterator for TxnLogIterator {
    type Item = Result<LogEntry, TxnLogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(entry)) => Some(Ok(entry)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                self.cursor = None;
                Some(Err(e))
            }
        }
    }
}
