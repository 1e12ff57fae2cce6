//! File names in `version-2/`: `log.<zxid hex>` and `snapshot.<zxid hex>`
//! (snapshots may carry a compression suffix such as `.gz`), as ZooKeeper's
//! `Util` names and parses them.

use std::path::{Path, PathBuf};

/// The subdirectory ZooKeeper keeps its files in.
pub const VERSION_DIR: &str = "version-2";
pub const LOG_PREFIX: &str = "log";
pub const SNAPSHOT_PREFIX: &str = "snapshot";

/// `Util.getZxidFromName`: the zxid in `prefix.<hex>[.suffix]`, if the name
/// has that shape.
pub fn zxid_from_name(name: &str, prefix: &str) -> Option<i64> {
    let mut parts = name.split('.');
    if parts.next()? != prefix {
        return None;
    }
    u64::from_str_radix(parts.next()?, 16)
        .ok()
        .map(|z| z as i64)
}

/// Files named `prefix.<hex>…` in `dir`, sorted by zxid (oldest first).
pub fn list(dir: &Path, prefix: &str) -> std::io::Result<Vec<(i64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", dir.display()),
            ))
        }
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(z) = zxid_from_name(name, prefix) {
            out.push((z, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// `FileTxnLog.getLogFiles`: the log files that may hold txns after
/// `zxid` — the newest one starting at or before it, and every later one.
pub fn logs_from(logs: &[(i64, PathBuf)], zxid: i64) -> Vec<(i64, PathBuf)> {
    let start = logs.iter().rposition(|(z, _)| *z <= zxid).unwrap_or(0);
    logs[start..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_like_zookeeper() {
        assert_eq!(zxid_from_name("log.1a", "log"), Some(0x1a));
        assert_eq!(
            zxid_from_name("snapshot.100000000.gz", "snapshot"),
            Some(0x1_0000_0000)
        );
        assert_eq!(zxid_from_name("snapshot.zz", "snapshot"), None);
        assert_eq!(zxid_from_name("logx.1", "log"), None);
        assert_eq!(zxid_from_name("log", "log"), None);
    }

    #[test]
    fn logs_from_keeps_the_file_holding_the_zxid() {
        let logs: Vec<(i64, PathBuf)> = [1, 10, 20]
            .iter()
            .map(|&z| (z, PathBuf::from(format!("log.{z:x}"))))
            .collect();
        let zs = |v: Vec<(i64, PathBuf)>| v.into_iter().map(|(z, _)| z).collect::<Vec<_>>();
        assert_eq!(zs(logs_from(&logs, 15)), vec![10, 20]);
        assert_eq!(zs(logs_from(&logs, 10)), vec![10, 20]);
        assert_eq!(zs(logs_from(&logs, 0)), vec![1, 10, 20]);
        assert_eq!(zs(logs_from(&logs, 99)), vec![20]);
    }
}
