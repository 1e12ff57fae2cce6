//! Finding snapshots in a directory: names, ZooKeeper's cheap validity check, and the
//! newest snapshot that fully verifies.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::error::{Result, SnapshotError};
use super::reader::{SnapshotReader, SnapshotTrailer};
use super::xsnappy;
use super::{SnapshotCompression, SNAPSHOT_FILE_PREFIX};

/// Java's `String.split("\\.")`: split on '.', trailing empty parts dropped.
fn java_split_dot(name: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = name.split('.').collect();
    while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].is_empty() {
        parts.clear();
    }
    parts
}

/// `Util.getZxidFromName(name, "snapshot")`: the second '.'-part as hex (`Long.parseLong`
/// accepts a sign), if the first part is exactly "snapshot".
pub fn zxid_from_name(name: &str) -> Option<i64> {
    let parts = java_split_dot(name);
    if parts.len() >= 2 && parts[0] == SNAPSHOT_FILE_PREFIX {
        i64::from_str_radix(parts[1], 16).ok()
    } else {
        None
    }
}

/// `SnapStream.getStreamMode(fileName)`: the last '.'-part, case-insensitively "gz" or
/// "snappy"; anything else (a hex zxid, "tmp", ...) means uncompressed.
pub fn compression_from_name(name: &str) -> SnapshotCompression {
    let parts = java_split_dot(name);
    match parts.last() {
        Some(ext) if parts.len() > 1 => {
            SnapshotCompression::parse(ext).unwrap_or(SnapshotCompression::None)
        }
        _ => SnapshotCompression::None,
    }
}

/// A file that looks like a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    pub path: PathBuf,
    pub zxid: i64,
    pub compression: SnapshotCompression,
}

/// A snapshot file passed over, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub path: PathBuf,
    pub reason: String,
}

/// Result of [`find_valid_snapshots`].
#[derive(Debug, Clone, Default)]
pub struct SnapshotScan {
    /// Files that passed the quick check, newest (highest zxid) first.
    pub candidates: Vec<SnapshotFile>,
    /// Snapshot-named files that failed it, in the order they were looked at.
    pub rejected: Vec<Rejected>,
}

/// `SnapStream.isValidSnapshot` for a file whose name parses: uncompressed files must be
/// at least 10 bytes and end with the serialized string "/" (int 1, '/'); gzip files must
/// start with the gzip magic; snappy files with snappy-java's magic. `Err` says why not.
/// This is only a quick plausibility check, as in ZooKeeper: the checksum is verified
/// when the file is read.
pub fn quick_check(path: &Path) -> std::result::Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if zxid_from_name(&name).is_none() {
        return Err("name is not snapshot.<hex zxid>".into());
    }
    let io = |e: io::Error| format!("cannot read it: {e}");
    let mut f = File::open(path).map_err(io)?;
    let prefix = |f: &mut File, n: usize| -> std::result::Result<Vec<u8>, String> {
        let mut buf = Vec::with_capacity(n);
        f.take(n as u64).read_to_end(&mut buf).map_err(io)?;
        Ok(buf)
    };
    match compression_from_name(&name) {
        SnapshotCompression::Gzip => {
            if prefix(&mut f, 2)? != [0x1f, 0x8b] {
                return Err("no gzip magic at the start".into());
            }
        }
        SnapshotCompression::Snappy => {
            if prefix(&mut f, xsnappy::MAGIC.len())? != xsnappy::MAGIC {
                return Err("no snappy-java magic at the start".into());
            }
        }
        SnapshotCompression::None => {
            let len = f.metadata().map_err(io)?.len();
            if len < 10 {
                return Err(format!("only {len} bytes long (at least 10 needed)"));
            }
            f.seek(SeekFrom::Start(len - 5)).map_err(io)?;
            let tail = prefix(&mut f, 5)?;
            if tail != [0, 0, 0, 1, b'/'] {
                return Err(format!(
                    "does not end with the \"/\" seal marker (last 5 bytes {tail:02x?}): \
                     incomplete"
                ));
            }
        }
    }
    Ok(())
}

/// Every file in `dir` whose name parses as a snapshot, newest first (ties: by name).
fn list_snapshots(dir: &Path) -> Result<Vec<SnapshotFile>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        // File.listFiles() of a missing directory is null, which ZooKeeper treats as empty.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SnapshotError::io(dir, "listing the snapshot directory", e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| SnapshotError::io(dir, "listing the snapshot directory", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(zxid) = zxid_from_name(&name) {
            files.push(SnapshotFile {
                path: entry.path(),
                zxid,
                compression: compression_from_name(&name),
            });
        }
    }
    files.sort_by(|a, b| b.zxid.cmp(&a.zxid).then_with(|| a.path.cmp(&b.path)));
    Ok(files)
}

/// `FileSnap.findNValidSnapshots(n)`: up to `n` snapshots that pass [`quick_check`],
/// newest first, plus the ones that did not (looked at before the n-th was found).
pub fn find_valid_snapshots(dir: &Path, n: usize) -> Result<SnapshotScan> {
    let mut scan = SnapshotScan::default();
    for file in list_snapshots(dir)? {
        if scan.candidates.len() >= n {
            break;
        }
        match quick_check(&file.path) {
            Ok(()) => scan.candidates.push(file),
            Err(reason) => scan.rejected.push(Rejected {
                path: file.path,
                reason,
            }),
        }
    }
    Ok(scan)
}

/// Result of [`find_newest_valid`].
#[derive(Debug, Clone)]
pub struct NewestValid {
    /// The newest snapshot that read completely with valid seals, and its trailer.
    pub snapshot: Option<(SnapshotFile, SnapshotTrailer)>,
    /// Every newer snapshot passed over, with the reason (quick check or full read).
    pub rejected: Vec<Rejected>,
}

/// The newest snapshot among the `n` newest plausible ones (see [`find_valid_snapshots`])
/// that reads completely with matching checksums — ZooKeeper's `FileSnap.deserialize`
/// loop without loading anything. Older ones are tried in turn when a newer one fails.
pub fn find_newest_valid(dir: &Path, n: usize) -> Result<NewestValid> {
    let scan = find_valid_snapshots(dir, n)?;
    let mut rejected = scan.rejected;
    for file in scan.candidates {
        match SnapshotReader::open(&file.path).and_then(SnapshotReader::verify_checksum_and_digest)
        {
            Ok(trailer) => {
                return Ok(NewestValid {
                    snapshot: Some((file, trailer)),
                    rejected,
                })
            }
            Err(e) => rejected.push(Rejected {
                path: file.path,
                reason: e.to_string(),
            }),
        }
    }
    Ok(NewestValid {
        snapshot: None,
        rejected,
    })
}

/// Deletes temporary files an interrupted [`SnapshotWriter`](super::SnapshotWriter) left
/// (`.snapshot.*.tmp`); returns how many. Call it only while no writer is running.
pub fn remove_stale_temp_files(dir: &Path) -> Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(SnapshotError::io(dir, "listing the snapshot directory", e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry =
            entry.map_err(|e| SnapshotError::io(dir, "listing the snapshot directory", e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".snapshot.") && name.ends_with(".tmp") {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| SnapshotError::io(&path, "deleting", e))?;
            removed += 1;
        }
    }
    Ok(removed)
}
