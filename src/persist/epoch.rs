//! The `acceptedEpoch` and `currentEpoch` files of an ensemble member.
//!
//! ZAB needs two numbers to survive a restart: the epoch a member has promised
//! to follow (`acceptedEpoch`, written when it acknowledges a LEADERINFO) and
//! the epoch whose history it has fully taken on (`currentEpoch`, written once
//! a sync with the leader is complete). ZooKeeper keeps them as decimal text,
//! with no line end, in the snapshot directory (`<dataDir>/version-2`, its
//! `FileTxnSnapLog.getSnapDir()`), so the same files are read and written by
//! Java ZooKeeper 3.8 and FerroKeeper on one dataDir.
//!
//! - Writing (`QuorumPeer.writeLongToFile` through `AtomicFileWritingIdiom` /
//!   `AtomicFileOutputStream`): the value goes to `<name>.tmp`, which is
//!   fsynced, then renamed over `<name>`. FerroKeeper also fsyncs the directory
//!   after the rename (Java does not), so a crash right after cannot bring the
//!   old value back.
//! - Reading (`QuorumPeer.readLongFromFile`): the first line, parsed with
//!   `Long.parseLong` (decimal, optional sign, nothing else).
//! - Start-up ([`EpochFiles::load`], `QuorumPeer.loadDataBase`): a missing file
//!   is created with the epoch of the last zxid; a `currentEpoch` older than
//!   that epoch is an error unless `currentEpoch.tmp` exists — a write that
//!   crashed before its rename, whose value is then taken and written properly;
//!   an `acceptedEpoch` below `currentEpoch` is an error.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// `QuorumPeer.CURRENT_EPOCH_FILENAME`.
pub const CURRENT_EPOCH_FILE: &str = "currentEpoch";
/// `QuorumPeer.ACCEPTED_EPOCH_FILENAME`.
pub const ACCEPTED_EPOCH_FILE: &str = "acceptedEpoch";
/// `AtomicFileOutputStream.TMP_EXTENSION`.
pub const TMP_EXTENSION: &str = ".tmp";

/// `ZxidUtils.getEpochFromZxid`: the high 32 bits (an arithmetic shift, as
/// Java's `>>`).
pub fn epoch_of_zxid(zxid: i64) -> i64 {
    zxid >> 32
}

/// Why an epoch file could not be used. Every variant names the file.
#[derive(Debug)]
pub enum EpochError {
    /// Reading, writing, renaming or syncing failed.
    Io {
        file: PathBuf,
        doing: &'static str,
        source: io::Error,
    },
    /// The first line is not a decimal long (ZooKeeper: "Found <line> in <file>").
    Unparseable { file: PathBuf, line: Option<String> },
    /// `currentEpoch` is older than the epoch of the last zxid on disk and no
    /// `currentEpoch.tmp` explains it: the history is newer than the epoch
    /// this member says it has taken on.
    CurrentBehindLastZxid {
        file: PathBuf,
        current_epoch: i64,
        last_zxid: i64,
    },
    /// `acceptedEpoch` is below `currentEpoch`: the member would have taken
    /// on an epoch it never accepted.
    AcceptedBehindCurrent {
        file: PathBuf,
        accepted_epoch: i64,
        current_epoch: i64,
    },
}

impl EpochError {
    fn io(file: &Path, doing: &'static str, source: io::Error) -> Self {
        EpochError::Io {
            file: file.to_path_buf(),
            doing,
            source,
        }
    }

    /// The file the error is about.
    pub fn file(&self) -> &Path {
        match self {
            EpochError::Io { file, .. }
            | EpochError::Unparseable { file, .. }
            | EpochError::CurrentBehindLastZxid { file, .. }
            | EpochError::AcceptedBehindCurrent { file, .. } => file,
        }
    }
}

impl fmt::Display for EpochError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EpochError::Io {
                file,
                doing,
                source,
            } => write!(f, "epoch file {}: {doing}: {source}", file.display()),
            EpochError::Unparseable { file, line } => match line {
                Some(line) => write!(
                    f,
                    "epoch file {}: first line {line:?} is not a decimal number",
                    file.display()
                ),
                None => write!(f, "epoch file {}: empty, expected a number", file.display()),
            },
            EpochError::CurrentBehindLastZxid {
                file,
                current_epoch,
                last_zxid,
            } => write!(
                f,
                "epoch file {}: the current epoch, 0x{current_epoch:x}, is older than the last \
                 zxid, 0x{last_zxid:x} (epoch 0x{:x}), and there is no {}{TMP_EXTENSION} from an \
                 interrupted update",
                file.display(),
                epoch_of_zxid(*last_zxid),
                CURRENT_EPOCH_FILE,
            ),
            EpochError::AcceptedBehindCurrent {
                file,
                accepted_epoch,
                current_epoch,
            } => write!(
                f,
                "epoch file {}: the accepted epoch, 0x{accepted_epoch:x}, is less than the \
                 current epoch, 0x{current_epoch:x}",
                file.display()
            ),
        }
    }
}

impl std::error::Error for EpochError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EpochError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<EpochError> for io::Error {
    fn from(e: EpochError) -> Self {
        let kind = match &e {
            EpochError::Io { source, .. } => source.kind(),
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, e.to_string())
    }
}

/// `Long.parseLong`: optional sign, one or more ASCII digits, in range.
fn parse_java_long(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.strip_prefix('+').unwrap_or(s).parse().ok()
}

/// The first line as `BufferedReader.readLine` gives it: up to `\n`, `\r` or
/// `\r\n`; `None` for an empty file.
fn first_line(text: &str) -> Option<&str> {
    if text.is_empty() {
        return None;
    }
    let end = text.find(['\n', '\r']).unwrap_or(text.len());
    Some(&text[..end])
}

/// `QuorumPeer.readLongFromFile`: the number in `dir/name`, `Ok(None)` if the
/// file does not exist.
pub fn read_long_file(dir: &Path, name: &str) -> Result<Option<i64>, EpochError> {
    let path = dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EpochError::io(&path, "reading", e)),
    };
    let text = String::from_utf8_lossy(&bytes);
    let line = first_line(&text);
    match line.and_then(parse_java_long) {
        Some(v) => Ok(Some(v)),
        None => Err(EpochError::Unparseable {
            line: line.map(str::to_owned),
            file: path,
        }),
    }
}

/// `QuorumPeer.writeLongToFile`: `value` in decimal, no line end, into
/// `dir/name` atomically — written to `name.tmp`, fsynced, renamed over `name`,
/// then the directory fsynced. On failure the temporary file is removed (as
/// `AtomicFileOutputStream` does) and `name` keeps its old value.
pub fn write_long_file(dir: &Path, name: &str, value: i64) -> Result<(), EpochError> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}{TMP_EXTENSION}"));
    let written = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(|e| EpochError::io(&tmp, "creating", e))?;
        f.write_all(value.to_string().as_bytes())
            .map_err(|e| EpochError::io(&tmp, "writing", e))?;
        f.sync_all().map_err(|e| EpochError::io(&tmp, "fsync", e))
    })();
    if let Err(e) = written {
        // Best effort: the error being reported is the write's.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, &path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        EpochError::io(&path, "renaming the .tmp file over it", e)
    })?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| EpochError::io(dir, "fsync of the directory", e))
}

/// What [`EpochFiles::load`] had to do besides reading, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EpochRepair {
    /// The file was missing and was created with the epoch of the last zxid
    /// (ZooKeeper: "This should only happen when you are upgrading").
    Created { file: &'static str, epoch: i64 },
    /// `currentEpoch` lagged the last zxid and `currentEpoch.tmp` held the
    /// value of an update interrupted before its rename; that value was taken.
    TookTmp { epoch: i64 },
}

/// The two epochs of a member, backed by their files in the snapshot
/// directory. Setting one writes its file before the new value is visible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpochFiles {
    dir: PathBuf,
    current: i64,
    accepted: i64,
}

impl EpochFiles {
    /// Reads both files from `snap_dir` (`<dataDir>/version-2`) after the
    /// database was loaded up to `last_zxid`, applying `QuorumPeer.loadDataBase`'s
    /// rules (see the module docs). Returns what it repaired, in order.
    pub fn load(snap_dir: &Path, last_zxid: i64) -> Result<(Self, Vec<EpochRepair>), EpochError> {
        let epoch_of_last = epoch_of_zxid(last_zxid);
        let mut repairs = Vec::new();
        let mut current = match read_long_file(snap_dir, CURRENT_EPOCH_FILE)? {
            Some(v) => v,
            None => {
                tracing::info!(
                    "{CURRENT_EPOCH_FILE} not found! Creating with a reasonable default of \
                     {epoch_of_last}. This should only happen when you are upgrading your \
                     installation"
                );
                write_long_file(snap_dir, CURRENT_EPOCH_FILE, epoch_of_last)?;
                repairs.push(EpochRepair::Created {
                    file: CURRENT_EPOCH_FILE,
                    epoch: epoch_of_last,
                });
                epoch_of_last
            }
        };
        if epoch_of_last > current {
            let tmp_name = format!("{CURRENT_EPOCH_FILE}{TMP_EXTENSION}");
            match read_long_file(snap_dir, &tmp_name)? {
                Some(from_tmp) => {
                    // As Java: the tmp value is taken as it is, and written
                    // properly (which also replaces the .tmp file).
                    tracing::info!(
                        "{} found. Setting current epoch to {from_tmp}.",
                        snap_dir.join(&tmp_name).display()
                    );
                    write_long_file(snap_dir, CURRENT_EPOCH_FILE, from_tmp)?;
                    repairs.push(EpochRepair::TookTmp { epoch: from_tmp });
                    current = from_tmp;
                }
                None => {
                    return Err(EpochError::CurrentBehindLastZxid {
                        file: snap_dir.join(CURRENT_EPOCH_FILE),
                        current_epoch: current,
                        last_zxid,
                    })
                }
            }
        }
        let accepted = match read_long_file(snap_dir, ACCEPTED_EPOCH_FILE)? {
            Some(v) => v,
            None => {
                tracing::info!(
                    "{ACCEPTED_EPOCH_FILE} not found! Creating with a reasonable default of \
                     {epoch_of_last}. This should only happen when you are upgrading your \
                     installation"
                );
                write_long_file(snap_dir, ACCEPTED_EPOCH_FILE, epoch_of_last)?;
                repairs.push(EpochRepair::Created {
                    file: ACCEPTED_EPOCH_FILE,
                    epoch: epoch_of_last,
                });
                epoch_of_last
            }
        };
        if accepted < current {
            return Err(EpochError::AcceptedBehindCurrent {
                file: snap_dir.join(ACCEPTED_EPOCH_FILE),
                accepted_epoch: accepted,
                current_epoch: current,
            });
        }
        let files = EpochFiles {
            dir: snap_dir.to_path_buf(),
            current,
            accepted,
        };
        Ok((files, repairs))
    }

    /// The directory the files are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The epoch whose history this member has taken on (`currentEpoch`).
    pub fn current(&self) -> i64 {
        self.current
    }

    /// The epoch this member has promised to follow (`acceptedEpoch`).
    pub fn accepted(&self) -> i64 {
        self.accepted
    }

    /// `QuorumPeer.setCurrentEpoch`: the file first, then the value.
    pub fn set_current(&mut self, epoch: i64) -> Result<(), EpochError> {
        write_long_file(&self.dir, CURRENT_EPOCH_FILE, epoch)?;
        self.current = epoch;
        Ok(())
    }

    /// `QuorumPeer.setAcceptedEpoch`: the file first, then the value.
    pub fn set_accepted(&mut self, epoch: i64) -> Result<(), EpochError> {
        write_long_file(&self.dir, ACCEPTED_EPOCH_FILE, epoch)?;
        self.accepted = epoch;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    fn read(d: &Path, name: &str) -> String {
        fs::read_to_string(d.join(name)).expect("read")
    }

    const ZXID_EPOCH_3: i64 = (3 << 32) | 7;

    #[test]
    fn missing_files_are_created_from_the_last_zxid() {
        let d = dir();
        let (files, repairs) = EpochFiles::load(d.path(), ZXID_EPOCH_3).expect("load");
        assert_eq!((files.current(), files.accepted()), (3, 3));
        assert_eq!(
            repairs,
            vec![
                EpochRepair::Created {
                    file: CURRENT_EPOCH_FILE,
                    epoch: 3
                },
                EpochRepair::Created {
                    file: ACCEPTED_EPOCH_FILE,
                    epoch: 3
                },
            ]
        );
        // Java's format: decimal, no line end; no .tmp left behind.
        assert_eq!(read(d.path(), CURRENT_EPOCH_FILE), "3");
        assert_eq!(read(d.path(), ACCEPTED_EPOCH_FILE), "3");
        let names: Vec<_> = fs::read_dir(d.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn an_empty_database_starts_at_epoch_zero() {
        let d = dir();
        let (files, _) = EpochFiles::load(d.path(), 0).expect("load");
        assert_eq!((files.current(), files.accepted()), (0, 0));
    }

    #[test]
    fn existing_files_are_read_not_rewritten() {
        let d = dir();
        fs::write(d.path().join(CURRENT_EPOCH_FILE), "4\n").expect("write");
        fs::write(d.path().join(ACCEPTED_EPOCH_FILE), "5").expect("write");
        let (files, repairs) = EpochFiles::load(d.path(), ZXID_EPOCH_3).expect("load");
        assert_eq!((files.current(), files.accepted()), (4, 5));
        assert!(repairs.is_empty());
        assert_eq!(read(d.path(), CURRENT_EPOCH_FILE), "4\n");
    }

    #[test]
    fn current_epoch_behind_the_last_zxid_fails_naming_the_file() {
        let d = dir();
        fs::write(d.path().join(CURRENT_EPOCH_FILE), "2").expect("write");
        fs::write(d.path().join(ACCEPTED_EPOCH_FILE), "3").expect("write");
        let err = EpochFiles::load(d.path(), ZXID_EPOCH_3).expect_err("must fail");
        assert!(matches!(
            err,
            EpochError::CurrentBehindLastZxid {
                current_epoch: 2,
                last_zxid: ZXID_EPOCH_3,
                ..
            }
        ));
        assert_eq!(err.file(), d.path().join(CURRENT_EPOCH_FILE));
        assert!(err.to_string().contains("currentEpoch"), "{err}");
        // Nothing was changed.
        assert_eq!(read(d.path(), CURRENT_EPOCH_FILE), "2");
    }

    #[test]
    fn an_interrupted_update_in_current_epoch_tmp_is_taken() {
        let d = dir();
        fs::write(d.path().join(CURRENT_EPOCH_FILE), "2").expect("write");
        fs::write(d.path().join("currentEpoch.tmp"), "3").expect("write");
        fs::write(d.path().join(ACCEPTED_EPOCH_FILE), "3").expect("write");
        let (files, repairs) = EpochFiles::load(d.path(), ZXID_EPOCH_3).expect("load");
        assert_eq!(files.current(), 3);
        assert_eq!(repairs, vec![EpochRepair::TookTmp { epoch: 3 }]);
        assert_eq!(read(d.path(), CURRENT_EPOCH_FILE), "3");
        assert!(!d.path().join("currentEpoch.tmp").exists());
    }

    #[test]
    fn a_tmp_file_is_ignored_while_current_epoch_is_not_behind() {
        let d = dir();
        fs::write(d.path().join(CURRENT_EPOCH_FILE), "3").expect("write");
        fs::write(d.path().join("currentEpoch.tmp"), "9").expect("write");
        fs::write(d.path().join(ACCEPTED_EPOCH_FILE), "3").expect("write");
        let (files, repairs) = EpochFiles::load(d.path(), ZXID_EPOCH_3).expect("load");
        assert_eq!(files.current(), 3);
        assert!(repairs.is_empty());
    }

    #[test]
    fn accepted_epoch_below_current_fails_naming_the_file() {
        let d = dir();
        fs::write(d.path().join(CURRENT_EPOCH_FILE), "4").expect("write");
        fs::write(d.path().join(ACCEPTED_EPOCH_FILE), "3").expect("write");
        let err = EpochFiles::load(d.path(), ZXID_EPOCH_3).expect_err("must fail");
        assert!(matches!(
            err,
            EpochError::AcceptedBehindCurrent {
                accepted_epoch: 3,
                current_epoch: 4,
                ..
            }
        ));
        assert_eq!(err.file(), d.path().join(ACCEPTED_EPOCH_FILE));
    }

    #[test]
    fn a_missing_accepted_epoch_below_current_fails_after_creation() {
        // Java creates acceptedEpoch from the last zxid, then compares.
        let d = dir();
        fs::write(d.path().join(CURRENT_EPOCH_FILE), "5").expect("write");
        let err = EpochFiles::load(d.path(), ZXID_EPOCH_3).expect_err("must fail");
        assert!(matches!(err, EpochError::AcceptedBehindCurrent { .. }));
        assert_eq!(read(d.path(), ACCEPTED_EPOCH_FILE), "3");
    }

    #[test]
    fn unparseable_contents_fail_naming_the_file() {
        for bad in [
            "",
            " 3",
            "3 ",
            "0x3",
            "three",
            "\n3",
            "99999999999999999999",
        ] {
            let d = dir();
            fs::write(d.path().join(CURRENT_EPOCH_FILE), bad).expect("write");
            let err = EpochFiles::load(d.path(), 0).expect_err(bad);
            assert!(matches!(err, EpochError::Unparseable { .. }), "{bad:?}");
            assert_eq!(err.file(), d.path().join(CURRENT_EPOCH_FILE));
        }
    }

    #[test]
    fn read_accepts_what_long_parse_long_accepts_on_the_first_line() {
        let d = dir();
        for (text, want) in [
            ("7", 7),
            ("7\n", 7),
            ("7\r\nx", 7),
            ("+7", 7),
            ("-1", -1),
            ("9223372036854775807", i64::MAX),
        ] {
            fs::write(d.path().join("n"), text).expect("write");
            assert_eq!(
                read_long_file(d.path(), "n").expect(text),
                Some(want),
                "{text:?}"
            );
        }
        assert_eq!(read_long_file(d.path(), "absent").expect("absent"), None);
    }

    #[test]
    fn setters_write_the_file_before_the_value() {
        let d = dir();
        let (mut files, _) = EpochFiles::load(d.path(), 0).expect("load");
        files.set_accepted(6).expect("set");
        files.set_current(6).expect("set");
        assert_eq!(read(d.path(), ACCEPTED_EPOCH_FILE), "6");
        assert_eq!(read(d.path(), CURRENT_EPOCH_FILE), "6");
        let (again, repairs) = EpochFiles::load(d.path(), 6 << 32).expect("reload");
        assert_eq!((again.current(), again.accepted()), (6, 6));
        assert!(repairs.is_empty());
    }

    #[test]
    fn a_failed_write_keeps_the_old_value() {
        let d = dir();
        write_long_file(d.path(), CURRENT_EPOCH_FILE, 1).expect("write");
        // A directory where the temp file should go makes the write fail.
        fs::create_dir(d.path().join("currentEpoch.tmp")).expect("mkdir");
        let err = write_long_file(d.path(), CURRENT_EPOCH_FILE, 2).expect_err("must fail");
        assert!(err.to_string().contains("currentEpoch.tmp"), "{err}");
        assert_eq!(read(d.path(), CURRENT_EPOCH_FILE), "1");
    }
}
