//! [`FileTxnLog`]: appends txns to `version-2/log.<zxid>` files exactly as
//! ZooKeeper's `FileTxnLog` does, so either server can read the other's log.
//!
//! Durability rules (stricter than Java where Java can lose an acknowledged
//! write, never different on disk):
//! - `commit` writes what `append` buffered, then `fdatasync`s the file
//!   (unless `force_sync` is off, ZooKeeper's `forceSync=no`);
//! - a new file's directory entry is made durable (fsync of `version-2/`)
//!   before the first commit that covers a txn in it returns;
//! - `roll` makes the old file durable before any txn goes to the next one,
//!   so a torn tail can only ever be in the newest file;
//! - after any I/O error the log refuses all further work (a failed fsync
//!   may have dropped dirty pages: retrying it could report success for data
//!   that is gone). ZooKeeper's sync thread exits the server in that case.

use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jute::txn::TxnDigest;
use jute::Record;

use super::format::{
    file_header, frame_entry, log_file_name, marshal_txn, size_with_padding,
    DEFAULT_PRE_ALLOC_SIZE, FILE_HEADER_LEN,
};
use crate::persist::{TxnLog, TxnLogStats};
use crate::txn::LoggedTxn;
use crate::txn::TxnBody;
use jute::txn::TxnHeader;

/// Buffered entry bytes are written to the file once they exceed this, even
/// before a commit (Java's BufferedOutputStream does the same at 8 KiB).
const WRITE_THROUGH: usize = 256 * 1024;

/// How a [`FileTxnLog`] writes; the defaults are ZooKeeper's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTxnLogOptions {
    /// Preallocation block in bytes (`preAllocSize` is in KiB); 0 disables.
    pub pre_alloc_size: u64,
    /// fsync on commit (`forceSync`, on unless exactly `no`).
    pub force_sync: bool,
    /// The dbid written in each file header (ZooKeeper writes 0).
    pub dbid: i64,
    /// Roll to a new file at the first commit after the current one holds
    /// more than this many bytes (`txnLogSizeLimitInKb` × 1024); `None` = off.
    pub size_limit: Option<u64>,
    /// Log a warning when one fsync takes longer (`fsync.warningthresholdms`).
    pub fsync_warning_threshold: Duration,
}

impl Default for FileTxnLogOptions {
    fn default() -> Self {
        Self {
            pre_alloc_size: DEFAULT_PRE_ALLOC_SIZE,
            force_sync: true,
            dbid: 0,
            size_limit: None,
            fsync_warning_threshold: Duration::from_millis(1000),
        }
    }
}

/// The file being appended to.
#[derive(Debug)]
struct CurrentFile {
    file: File,
    path: PathBuf,
    /// Bytes written to the file so far (header included).
    written: u64,
    /// The file's size after preallocation (`FilePadding.currentSize`).
    padded: u64,
    /// Something was written since the last fsync.
    unsynced: bool,
}

/// ZooKeeper's on-disk transaction log, appending in `log_dir`
/// (`<dataLogDir>/version-2`).
#[derive(Debug)]
pub struct FileTxnLog {
    dir: PathBuf,
    opts: FileTxnLogOptions,
    current: Option<CurrentFile>,
    /// Framed entries not yet written to the file.
    pending: Vec<u8>,
    last_zxid: i64,
    /// A file was created whose directory entry is not yet durable.
    dir_unsynced: bool,
    /// Set by the first I/O failure; every later call fails with it.
    failed: Option<String>,
    stats: TxnLogStats,
}

impl FileTxnLog {
    /// Opens `log_dir` (creating it if needed) for appending txns with zxids
    /// above `last_zxid` — the last zxid recovered from snapshot + log, 0 for
    /// an empty database. Nothing is written until the first append, which
    /// starts a new file named after its zxid (ZooKeeper never appends to a
    /// file written by an earlier run).
    ///
    /// Fails if a log file starts after `last_zxid` (other than an empty one
    /// at `last_zxid + 1`, left by a crash before its first commit): the log
    /// was not recovered to its end.
    pub fn open(
        log_dir: impl Into<PathBuf>,
        last_zxid: i64,
        opts: FileTxnLogOptions,
    ) -> io::Result<Self> {
        let dir = log_dir.into();
        ensure_dir(&dir)?;
        // A file named after a later zxid would break the file selection of
        // every later read (it would hide the file we are about to write).
        // Only the file the next append reuses may exist, and only empty.
        for f in super::reader::list_log_files(&dir)? {
            let next = last_zxid.saturating_add(1);
            if f.start_zxid > next || (f.start_zxid == next && holds_data(&f.path)?) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "txn log {}: starts at zxid 0x{:x}, after the last recovered zxid \
                         0x{last_zxid:x}; refusing to append before it",
                        f.path.display(),
                        f.start_zxid
                    ),
                ));
            }
        }
        Ok(Self {
            dir,
            opts,
            current: None,
            pending: Vec::new(),
            last_zxid,
            dir_unsynced: false,
            failed: None,
            stats: TxnLogStats::default(),
        })
    }

    /// The directory the files are in.
    pub fn log_dir(&self) -> &Path {
        &self.dir
    }

    pub fn options(&self) -> &FileTxnLogOptions {
        &self.opts
    }

    /// The file the next append goes to, if one is open.
    pub fn current_file(&self) -> Option<&Path> {
        self.current.as_ref().map(|c| c.path.as_path())
    }

    /// Bytes of txns in the current file (header included, padding not).
    pub fn current_size(&self) -> u64 {
        self.current
            .as_ref()
            .map_or(0, |c| c.written + self.pending.len() as u64)
    }

    /// Appends one txn with an optional digest (ZooKeeper 3.8 logs the tree
    /// digest after each txn when `digest.enabled`). Buffered until
    /// [`TxnLog::commit`].
    pub fn append_with_digest(
        &mut self,
        header: &TxnHeader,
        body: &TxnBody,
        digest: Option<&TxnDigest>,
    ) -> io::Result<()> {
        self.check_usable()?;
        self.check_order(header.zxid)?;
        if body.op_code() as i32 != header.type_ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "txn 0x{:x}: header type {} but body is {:?}",
                    header.zxid,
                    header.type_,
                    body.op_code()
                ),
            ));
        }
        let txn_bytes = marshal_txn(header, body, digest);
        self.append_txn_bytes(header.zxid, &txn_bytes)
    }

    /// Appends a txn already encoded as `Util.marshallTxnEntry` encodes it
    /// (header, body, optional digest) — the one encoding a leader also puts
    /// in the PROPOSAL and the committed-proposal window — without encoding
    /// it again. The zxid is taken from the bytes' header. Buffered until
    /// [`TxnLog::commit`].
    pub fn append_marshalled(&mut self, txn_bytes: &[u8]) -> io::Result<()> {
        self.check_usable()?;
        let header = TxnHeader::deserialize(&mut &txn_bytes[..]).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("marshalled txn without a readable TxnHeader: {e}"),
            )
        })?;
        self.check_order(header.zxid)?;
        self.append_txn_bytes(header.zxid, txn_bytes)
    }

    /// Zxids must strictly increase in the log.
    fn check_order(&self, zxid: i64) -> io::Result<()> {
        if zxid <= self.last_zxid {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "txn log append out of order: zxid 0x{zxid:x} after 0x{:x}",
                    self.last_zxid
                ),
            ));
        }
        Ok(())
    }

    /// Frames one marshalled txn (checksum, length, 'B') and buffers it:
    /// the one place both appends reach the file.
    fn append_txn_bytes(&mut self, zxid: i64, txn_bytes: &[u8]) -> io::Result<()> {
        let mut framed = Vec::with_capacity(txn_bytes.len() + 13);
        frame_entry(txn_bytes, &mut framed).map_err(|msg| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("txn 0x{zxid:x}: {msg}"),
            )
        })?;
        let result = self.append_framed(zxid, &framed);
        self.poison_on_error(result)?;
        self.last_zxid = zxid;
        self.stats.appends += 1;
        self.stats.bytes += framed.len() as u64;
        Ok(())
    }

    /// Ends the current file: its data is written and (with `force_sync`)
    /// made durable now, and the next append starts `log.<its zxid>`.
    /// ZooKeeper rolls after starting each snapshot. A no-op when no file is
    /// open.
    pub fn roll(&mut self) -> io::Result<()> {
        self.check_usable()?;
        if self.current.is_none() {
            return Ok(());
        }
        let result = self.write_pending().and_then(|()| self.sync_all_pending());
        self.poison_on_error(result)?;
        self.current = None;
        Ok(())
    }

    /// Cuts the log back to `zxid` for a TRUNC from the leader
    /// ([`super::truncate::truncate_log`], ZooKeeper's `FileTxnLog.truncate`):
    /// what is buffered is written first (Java closes its stream, which flushes
    /// it), the current file is closed, and the next append starts a new file
    /// named after its zxid. A truncation that fails before changing anything
    /// (the log does not reach `zxid`) leaves the log usable; any other
    /// failure makes it refuse further work, as after an I/O error.
    pub fn truncate(&mut self, zxid: i64) -> io::Result<super::truncate::Truncation> {
        self.check_usable()?;
        let result = self.write_pending().and_then(|()| self.sync_all_pending());
        self.poison_on_error(result)?;
        self.current = None;
        match super::truncate::truncate_log(&self.dir, zxid) {
            Ok(done) => {
                self.last_zxid = zxid;
                Ok(done)
            }
            Err(e) if matches!(e.kind, super::reader::TxnLogErrorKind::CannotTruncate(_)) => {
                Err(e.into())
            }
            Err(e) => self.poison_on_error(Err(e.into())),
        }
    }

    /// Commits what is buffered and closes the file.
    pub fn close(mut self) -> io::Result<()> {
        self.commit()
    }

    fn check_usable(&self) -> io::Result<()> {
        match &self.failed {
            None => Ok(()),
            Some(why) => Err(io::Error::other(format!(
                "txn log {} is unusable after an earlier failure: {why}",
                self.dir.display()
            ))),
        }
    }

    fn poison_on_error<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if self.failed.is_none() {
                self.failed = Some(e.to_string());
            }
        }
        result
    }

    fn append_framed(&mut self, zxid: i64, framed: &[u8]) -> io::Result<()> {
        if self.current.is_none() {
            self.current = Some(self.create_file(zxid)?);
        }
        let pending = self.pending.len() as u64;
        let pre_alloc = self.opts.pre_alloc_size;
        if let Some(cur) = self.current.as_mut() {
            let position = cur.written + pending;
            let new_size = size_with_padding(position, cur.padded, pre_alloc);
            if new_size != cur.padded {
                cur.file.set_len(new_size).map_err(|e| {
                    context(
                        e,
                        &cur.path,
                        position,
                        &format!("preallocating to {new_size} bytes"),
                    )
                })?;
                cur.padded = new_size;
                cur.unsynced = true;
            }
        }
        self.pending.extend_from_slice(framed);
        if self.pending.len() >= WRITE_THROUGH {
            self.write_pending()?;
        }
        Ok(())
    }

    /// Creates `log.<zxid>` and writes its header.
    fn create_file(&mut self, zxid: i64) -> io::Result<CurrentFile> {
        let path = self.dir.join(log_file_name(zxid));
        if path.exists() && holds_data(&path)? {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "txn log {}: file for zxid 0x{zxid:x} already exists and holds txns; \
                     refusing to overwrite it (was the log recovered before appending?)",
                    path.display()
                ),
            ));
        }
        // Absent, or at most a header: a leftover of a crash before its first
        // commit, which held no txn, as ZooKeeper would also overwrite it.
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| context(e, &path, 0, "creating"))?;
        let mut header = Vec::with_capacity(FILE_HEADER_LEN as usize);
        file_header(self.opts.dbid).serialize(&mut header);
        file.write_all(&header)
            .map_err(|e| context(e, &path, 0, "writing the file header"))?;
        tracing::info!("Creating new log file: {}", path.display());
        self.dir_unsynced = true;
        self.stats.files += 1;
        Ok(CurrentFile {
            file,
            path,
            written: FILE_HEADER_LEN,
            padded: FILE_HEADER_LEN,
            unsynced: true,
        })
    }

    fn write_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(cur) = self.current.as_mut() else {
            return Err(io::Error::other(format!(
                "txn log {}: {} buffered bytes but no open file",
                self.dir.display(),
                self.pending.len()
            )));
        };
        cur.file.write_all(&self.pending).map_err(|e| {
            context(
                e,
                &cur.path,
                cur.written,
                &format!("writing {} bytes", self.pending.len()),
            )
        })?;
        cur.written += self.pending.len() as u64;
        cur.unsynced = true;
        self.pending.clear();
        Ok(())
    }

    /// fsyncs the current file and the directory if anything is unsynced
    /// (no-op without `force_sync`).
    fn sync_all_pending(&mut self) -> io::Result<()> {
        if !self.opts.force_sync {
            return Ok(());
        }
        if let Some(cur) = self.current.as_mut() {
            if cur.unsynced {
                let start = Instant::now();
                cur.file
                    .sync_data()
                    .map_err(|e| context(e, &cur.path, cur.written, "fsync"))?;
                let took = start.elapsed();
                cur.unsynced = false;
                self.stats.fsyncs += 1;
                self.stats.fsync_nanos += u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
                if took > self.opts.fsync_warning_threshold {
                    self.stats.slow_fsyncs += 1;
                    tracing::warn!(
                        "fsync-ing the write ahead log {} took {}ms which will adversely effect \
                         operation latency. File size is {} bytes.",
                        cur.path.display(),
                        took.as_millis(),
                        cur.padded
                    );
                }
            }
        }
        if self.dir_unsynced {
            sync_dir(&self.dir)?;
            self.dir_unsynced = false;
            self.stats.dir_fsyncs += 1;
        }
        Ok(())
    }
}

impl TxnLog for FileTxnLog {
    fn append(&mut self, txn: &LoggedTxn) -> io::Result<()> {
        self.append_with_digest(&txn.header, &txn.body, txn.digest.as_ref())
    }

    fn append_marshalled(&mut self, txn_bytes: &[u8]) -> io::Result<()> {
        FileTxnLog::append_marshalled(self, txn_bytes)
    }

    fn commit(&mut self) -> io::Result<()> {
        self.check_usable()?;
        let result = self.write_pending().and_then(|()| self.sync_all_pending());
        self.poison_on_error(result)?;
        self.stats.commits += 1;
        if let Some(limit) = self.opts.size_limit {
            if self.current_size() > limit {
                tracing::debug!("Log size limit reached: {}", self.current_size());
                self.roll()?;
            }
        }
        Ok(())
    }

    fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    fn roll(&mut self) -> io::Result<()> {
        FileTxnLog::roll(self)
    }

    fn truncate(&mut self, zxid: i64) -> io::Result<()> {
        FileTxnLog::truncate(self, zxid).map(|_| ())
    }

    fn stats(&self) -> TxnLogStats {
        self.stats
    }
}

/// Adds file and offset to an I/O error, keeping its kind.
pub(super) fn context(e: io::Error, path: &Path, offset: u64, what: &str) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("txn log {}: {what} at offset {offset}: {e}", path.display()),
    )
}

/// Whether any byte after the file header is nonzero: a file with none holds
/// no txn and may be replaced.
fn holds_data(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path).map_err(|e| context(e, path, 0, "opening"))?;
    let len = file
        .metadata()
        .map_err(|e| context(e, path, 0, "stat"))?
        .len();
    if len <= FILE_HEADER_LEN {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(FILE_HEADER_LEN))
        .map_err(|e| context(e, path, FILE_HEADER_LEN, "seeking"))?;
    Ok(super::reader::first_nonzero(&mut file, FILE_HEADER_LEN)
        .map_err(|e| context(e, path, FILE_HEADER_LEN, "reading"))?
        .is_some())
}

/// Creates `dir` if it is missing, making the new entries durable.
fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    // Create missing ancestors one by one so each new entry can be synced.
    let mut missing = Vec::new();
    let mut p = Some(dir);
    while let Some(d) = p {
        if d.as_os_str().is_empty() || d.is_dir() {
            break;
        }
        missing.push(d);
        p = d.parent();
    }
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("txn log: creating directory {}: {e}", d.display()),
                ))
            }
        }
        if let Some(parent) = d.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// fsyncs a directory so entries created in it survive a crash.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("txn log: fsync of directory {}: {e}", dir.display()),
        )
    })
}
