//! Removing old snapshots and logs, exactly as ZooKeeper's `PurgeTxnLog`:
//! keep the newest `retain` valid snapshots, the logs that may hold txns
//! after the oldest of them, and nothing older. Used by autopurge and by
//! `ferrokeeper purge` (zkCleanup.sh).

use std::path::{Path, PathBuf};

use super::files::{self, LOG_PREFIX, SNAPSHOT_PREFIX};

/// ZooKeeper refuses to keep fewer than three snapshots.
pub const MIN_RETAIN: usize = 3;

/// What a purge removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub snapshots: Vec<PathBuf>,
    pub logs: Vec<PathBuf>,
}

/// Purges `log_dir` and `snap_dir` (both the `version-2` directories).
/// `valid_snapshots` are the snapshots that passed validation, newest
/// first, as `findNValidSnapshots` returns them; only the first `retain`
/// are looked at.
pub fn purge(
    log_dir: &Path,
    snap_dir: &Path,
    valid_snapshots: &[(i64, PathBuf)],
    retain: usize,
) -> std::io::Result<Purged> {
    if retain < MIN_RETAIN {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "count should be greater than or equal to 3",
        ));
    }
    let kept = &valid_snapshots[..valid_snapshots.len().min(retain)];
    let Some((least_zxid, _)) = kept.last() else {
        return Ok(Purged::default());
    };
    let least_zxid = *least_zxid;
    let logs = files::list(log_dir, LOG_PREFIX)?;
    let retained_logs: Vec<PathBuf> = files::logs_from(&logs, least_zxid)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let mut purged = Purged::default();
    for (z, path) in logs {
        if z < least_zxid && !retained_logs.contains(&path) {
            remove(&path)?;
            purged.logs.push(path);
        }
    }
    for (z, path) in files::list(snap_dir, SNAPSHOT_PREFIX)? {
        if z < least_zxid {
            remove(&path)?;
            purged.snapshots.push(path);
        }
    }
    Ok(purged)
}

fn remove(path: &Path) -> std::io::Result<()> {
    tracing::info!(file = %path.display(), "purging");
    std::fs::remove_file(path).map_err(|e| {
        std::io::Error::new(e.kind(), format!("cannot delete {}: {e}", path.display()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, b"x").unwrap();
        p
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn keeps_newest_snapshots_and_the_logs_they_need() {
        let dir = std::env::temp_dir().join(format!("fk-purge-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for n in ["log.1", "log.10", "log.20", "log.30", "log.40", "foo.txt"] {
            touch(&dir, n);
        }
        let snaps: Vec<(i64, PathBuf)> = [0x45, 0x35, 0x25, 0x15]
            .iter()
            .map(|&z| (z, touch(&dir, &format!("snapshot.{z:x}"))))
            .collect();
        let purged = purge(&dir, &dir, &snaps, 3).unwrap();
        assert_eq!(purged.snapshots.len(), 1);
        // The oldest kept snapshot is 0x25, inside log.20: log.20 stays.
        assert_eq!(
            names(&dir),
            [
                "foo.txt",
                "log.20",
                "log.30",
                "log.40",
                "snapshot.25",
                "snapshot.35",
                "snapshot.45"
            ]
        );
        assert!(purge(&dir, &dir, &snaps, 2).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn nothing_is_purged_without_snapshots() {
        let dir = std::env::temp_dir().join(format!("fk-purge-empty-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        touch(&dir, "log.1");
        assert_eq!(purge(&dir, &dir, &[], 3).unwrap(), Purged::default());
        assert_eq!(names(&dir), ["log.1"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
