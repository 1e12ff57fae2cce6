//! `ferrokeeper check`: verifies a data directory without changing it.
//!
//! - every snapshot (`snapshot.<zxid>[.gz|.snappy]`): ZooKeeper's quick
//!   validity check, then a full read — both seals (Adler-32), the zxid
//!   digest, the tree it builds (every parent before its children, every ACL
//!   reference in the ACL cache) — and the newest one that loads, which is
//!   the one recovery starts from;
//! - every txn log file: header, each entry's framing and checksum, txn
//!   decoding, zxids increasing, read as recovery reads them
//!   ([`RecoveryMode::Strict`]: a torn tail is reported, never cut);
//! - zxid continuity from the newest valid snapshot through the end of the
//!   logs: each txn after the snapshot must follow the one before it (the
//!   next counter in the same epoch, or the first txn of a later epoch), and
//!   the logs must reach the zxid of a fuzzy snapshot's digest.
//!
//! Problems fail the check; warnings (a digest that does not match a fuzzy
//! snapshot's tree, a torn tail a later file supersedes, unfinished snapshot
//! temp files) are things ZooKeeper itself accepts.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::java_hex;
use super::snap::tools_tree_config;
use crate::acl::AclCache;
use crate::persist::files::VERSION_DIR;
use crate::persist::snapshot::{self, load_into, DigestCheck, LoadedSnapshot};
use crate::persist::txnlog::{list_log_files, LogFile, RecoveryMode, TxnLogIterator};
use crate::tree::{AclRef, DataTree};

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Note,
    Warning,
    Problem,
}

impl Level {
    fn tag(self) -> &'static str {
        match self {
            Level::Ok => "ok     ",
            Level::Note => "note   ",
            Level::Warning => "WARNING",
            Level::Problem => "PROBLEM",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub level: Level,
    pub text: String,
}

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub findings: Vec<Finding>,
    /// The snapshot recovery would start from, and its zxid.
    pub newest_valid: Option<(PathBuf, i64)>,
    /// The last zxid recovery would reach (snapshot plus logs).
    pub last_zxid: Option<i64>,
}

impl CheckReport {
    fn push(&mut self, level: Level, text: impl Into<String>) {
        self.findings.push(Finding {
            level,
            text: text.into(),
        });
    }

    /// How many problems were found; the check passes at 0.
    pub fn problems(&self) -> usize {
        self.count(Level::Problem)
    }

    pub fn warnings(&self) -> usize {
        self.count(Level::Warning)
    }

    fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// The report, one finding a line, and a last line saying whether the
    /// check passed.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        for f in &self.findings {
            writeln!(out, "{} {}", f.level.tag(), f.text)?;
        }
        let problems = self.problems();
        let warnings = self.warnings();
        if problems == 0 {
            writeln!(out, "check passed ({warnings} warning(s))")
        } else {
            writeln!(
                out,
                "check FAILED: {problems} problem(s), {warnings} warning(s)"
            )
        }
    }
}

/// The `version-2` directory of a dataDir / dataLogDir given on the command
/// line (or the `version-2` directory itself).
fn locate(dir: &Path) -> Result<PathBuf, String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let sub = dir.join(VERSION_DIR);
    if sub.is_dir() {
        return Ok(sub);
    }
    if dir.file_name().and_then(|n| n.to_str()) == Some(VERSION_DIR) {
        return Ok(dir.to_path_buf());
    }
    Err(format!(
        "{}: no {VERSION_DIR} directory in it; not a ZooKeeper data directory (or one never used)",
        dir.display()
    ))
}

/// Whether `next` may directly follow `prev` in the log: the next counter of
/// the same epoch, or the first txn of a later epoch (a new leader starts
/// its epoch at counter 1).
pub fn follows(prev: i64, next: i64) -> bool {
    prev.checked_add(1) == Some(next) || ((next >> 32) > (prev >> 32) && next & 0xffff_ffff == 1)
}

/// Checks the data directory `data_dir` (snapshots) and `data_log_dir` (txn
/// logs; `data_dir` when `None`). Either may be the `version-2` directory
/// itself. Nothing is written.
pub fn check(data_dir: &Path, data_log_dir: Option<&Path>) -> CheckReport {
    let mut rep = CheckReport::default();
    let snap_dir = match locate(data_dir) {
        Ok(d) => d,
        Err(e) => {
            rep.push(Level::Problem, e);
            return rep;
        }
    };
    let log_dir = match data_log_dir.map(locate) {
        None => snap_dir.clone(),
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            rep.push(Level::Problem, e);
            return rep;
        }
    };
    rep.push(Level::Note, format!("snapshots in {}", snap_dir.display()));
    rep.push(Level::Note, format!("txn logs in {}", log_dir.display()));

    let snaps = check_snapshots(&snap_dir, &mut rep);
    let logs = match list_log_files(&log_dir) {
        Ok(files) => files,
        Err(e) => {
            rep.push(Level::Problem, e.to_string());
            return rep;
        }
    };

    let base = match &snaps.newest {
        Some(l) => {
            rep.push(
                Level::Ok,
                format!(
                    "newest valid snapshot: {} (zxid 0x{}); recovery starts from it",
                    l.path.display(),
                    java_hex(l.zxid)
                ),
            );
            rep.newest_valid = Some((l.path.clone(), l.zxid));
            l.zxid
        }
        None => {
            if snaps.files > 0 {
                rep.push(
                    Level::Problem,
                    "no valid snapshot: the server cannot recover this directory",
                );
            } else if !logs.is_empty() {
                rep.push(
                    Level::Problem,
                    "txn logs but no snapshot: ZooKeeper and FerroKeeper refuse to start from \
                     the logs alone (unless zookeeper.snapshot.trust.empty=true)",
                );
            } else {
                rep.push(
                    Level::Note,
                    "no snapshots and no txn logs: an empty data directory",
                );
            }
            0
        }
    };

    let last = check_logs(&logs, base, snaps.newest.is_some(), &mut rep);
    rep.last_zxid = Some(last);
    if let Some(DigestCheck::Pending(d)) = snaps.newest.as_ref().map(|l| l.digest_check) {
        if last < d.zxid {
            rep.push(
                Level::Problem,
                format!(
                    "the newest valid snapshot's digest is for zxid 0x{} but the logs end at \
                     0x{}: txns the snapshot depends on are missing",
                    java_hex(d.zxid),
                    java_hex(last)
                ),
            );
        } else {
            rep.push(
                Level::Ok,
                format!(
                    "the logs reach zxid 0x{} of the fuzzy snapshot's digest",
                    java_hex(d.zxid)
                ),
            );
        }
    }
    rep
}

struct SnapshotsChecked {
    /// Snapshot-named files seen.
    files: usize,
    /// The newest one that loads (what recovery would use).
    newest: Option<LoadedSnapshot>,
}

fn check_snapshots(dir: &Path, rep: &mut CheckReport) -> SnapshotsChecked {
    let mut checked = SnapshotsChecked {
        files: 0,
        newest: None,
    };
    stale_temp_files(dir, rep);
    let scan = match snapshot::find_valid_snapshots(dir, usize::MAX) {
        Ok(s) => s,
        Err(e) => {
            rep.push(Level::Problem, e.to_string());
            return checked;
        }
    };
    // Newest first, the quick-check failures among them.
    let mut all: Vec<(i64, PathBuf, Option<String>)> = scan
        .candidates
        .into_iter()
        .map(|f| (f.zxid, f.path, None))
        .chain(scan.rejected.into_iter().map(|r| {
            let zxid = r
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(snapshot::zxid_from_name)
                .unwrap_or(i64::MIN);
            (zxid, r.path, Some(r.reason))
        }))
        .collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    checked.files = all.len();
    if all.is_empty() {
        rep.push(Level::Note, "no snapshot files");
    }
    for (_, path, quick_fail) in all {
        if let Some(reason) = quick_fail {
            rep.push(
                Level::Problem,
                format!(
                    "snapshot {}: not a valid snapshot: {reason}",
                    path.display()
                ),
            );
            continue;
        }
        if let Some(loaded) = check_one_snapshot(&path, rep) {
            if checked.newest.is_none() {
                checked.newest = Some(loaded);
            }
        }
    }
    checked
}

/// Loads one snapshot into a scratch tree; `Some` if it loads (seals good).
fn check_one_snapshot(path: &Path, rep: &mut CheckReport) -> Option<LoadedSnapshot> {
    let mut tree = DataTree::new(tools_tree_config(), AclRef::FRESH_READ_ACL_UNSAFE);
    let mut acls = AclCache::new();
    let mut sessions: Vec<(i64, i32)> = Vec::new();
    let loaded = match load_into(path, &mut tree, &mut acls, &mut sessions) {
        Ok(l) => l,
        Err(e) => {
            rep.push(Level::Problem, e.to_string());
            return None;
        }
    };
    let mut fine = true;
    if let Err(e) = tree.check_invariants() {
        rep.push(
            Level::Problem,
            format!(
                "snapshot {}: the tree it holds is inconsistent: {e}",
                path.display()
            ),
        );
        fine = false;
    }
    let mut unknown: Vec<(String, i64)> = Vec::new();
    tree.for_each_preorder(|p, id| {
        let acl = tree.node_acl(id).0;
        if acls.convert_long(acl).is_none() {
            unknown.push((if p.is_empty() { "/" } else { p }.to_string(), acl));
        }
    });
    if let Some((first, acl)) = unknown.first() {
        rep.push(
            Level::Problem,
            format!(
                "snapshot {}: {} node(s) refer to ACLs missing from its ACL cache (first: {first} \
                 with ACL id {acl}); ZooKeeper fails on any access to them",
                path.display(),
                unknown.len()
            ),
        );
        fine = false;
    }
    let digest = match loaded.digest_check {
        DigestCheck::Matched => "digest matches the tree".to_string(),
        DigestCheck::Mismatch { snapshot, tree } => {
            rep.push(
                Level::Warning,
                format!(
                    "snapshot {}: its digest 0x{} does not match the tree it holds (0x{}); \
                     ZooKeeper's fuzzy snapshots can do this and it carries on",
                    path.display(),
                    java_hex(snapshot),
                    java_hex(tree)
                ),
            );
            "digest differs from the tree".to_string()
        }
        DigestCheck::Pending(d) => format!(
            "fuzzy: digest is for zxid 0x{}, checked once the log reaches it",
            java_hex(d.zxid)
        ),
        DigestCheck::Absent => "no digest".to_string(),
        DigestCheck::Empty => "empty digest".to_string(),
        DigestCheck::Stale => "digest older than the snapshot (ignored)".to_string(),
        DigestCheck::Disabled => "digest not checked".to_string(),
        DigestCheck::OtherVersion(v) => format!("digest version {v} (not comparable)"),
    };
    if fine {
        rep.push(
            Level::Ok,
            format!(
                "snapshot {}: zxid 0x{}, {} nodes, {} sessions, checksums verified, {digest}",
                path.display(),
                java_hex(loaded.zxid),
                loaded.nodes,
                loaded.sessions
            ),
        );
    }
    Some(loaded)
}

/// `.snapshot.*.tmp` files an interrupted snapshot left.
fn stale_temp_files(dir: &Path, rep: &mut CheckReport) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".snapshot.") && name.ends_with(".tmp") {
            rep.push(
                Level::Warning,
                format!(
                    "{}: left by an interrupted snapshot; the server deletes it when it starts",
                    entry.path().display()
                ),
            );
        }
    }
}

#[derive(Default)]
struct FileSummary {
    txns: u64,
    first: Option<i64>,
    last: Option<i64>,
    damaged: bool,
}

/// Reads every log file; returns the last zxid recovery would reach.
fn check_logs(files: &[LogFile], base: i64, has_snapshot: bool, rep: &mut CheckReport) -> i64 {
    if files.is_empty() {
        rep.push(Level::Note, "no txn log files");
        return base;
    }
    let index: HashMap<&Path, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.path.as_path(), i))
        .collect();
    let mut summary: Vec<FileSummary> = files.iter().map(|_| FileSummary::default()).collect();
    // Per file: problems and warnings, reported after its summary line.
    let mut notes: Vec<Vec<Finding>> = files.iter().map(|_| Vec::new()).collect();
    let mut continuity: Vec<Finding> = Vec::new();

    let mut prev = base;
    let mut after_damage = false;
    let mut replayed = 0u64;
    let mut first_replayed: Option<i64> = None;
    let mut start = 0;
    while start < files.len() {
        let mut it =
            TxnLogIterator::over_files(files[start..].to_vec(), i64::MIN, RecoveryMode::Strict);
        let mut failed_at = None;
        while let Some(item) = it.next() {
            match item {
                Ok(entry) => {
                    let i = it
                        .current_file()
                        .and_then(|p| index.get(p).copied())
                        .unwrap_or(start);
                    let z = entry.header.zxid;
                    let s = &mut summary[i];
                    s.txns += 1;
                    s.first.get_or_insert(z);
                    s.last = Some(z);
                    if z <= base {
                        continue;
                    }
                    if !after_damage && !follows(prev, z) {
                        let what = match (replayed, has_snapshot) {
                            (0, true) => "the snapshot's zxid",
                            (0, false) => "an empty database",
                            _ => "the txn before it",
                        };
                        let missing = if (z >> 32) == (prev >> 32) && z > prev {
                            format!(
                                "; zxids 0x{}..0x{} are missing",
                                java_hex(prev + 1),
                                java_hex(z - 1)
                            )
                        } else {
                            String::new()
                        };
                        continuity.push(Finding {
                            level: Level::Problem,
                            text: format!(
                                "gap: zxid 0x{} ({} at offset {}) does not follow 0x{} ({what}){missing}",
                                java_hex(z),
                                files[i].path.display(),
                                entry.offset,
                                java_hex(prev)
                            ),
                        });
                    }
                    after_damage = false;
                    prev = z;
                    replayed += 1;
                    first_replayed.get_or_insert(z);
                }
                Err(e) => {
                    let i = index.get(e.file.as_path()).copied().unwrap_or(start);
                    summary[i].damaged = true;
                    let mut text = e.to_string();
                    if e.torn_tail().is_some() {
                        text.push_str(
                            " (nothing was changed; the server cuts a torn last entry off when it \
                             starts: the txn was never acknowledged)",
                        );
                    }
                    notes[i].push(Finding {
                        level: Level::Problem,
                        text,
                    });
                    failed_at = Some(i);
                }
            }
        }
        for t in it.superseded_tails() {
            if let Some(&i) = index.get(t.file.as_path()) {
                notes[i].push(Finding {
                    level: Level::Warning,
                    text: format!(
                        "{t}: a later log file resumes right after the last whole txn (a crash \
                         and restart leaves this); skipped, as ZooKeeper skips it"
                    ),
                });
            }
        }
        match failed_at {
            // Read on after the damaged file; the txns lost in it are
            // reported there, not once more as a gap.
            Some(i) => {
                start = i + 1;
                after_damage = true;
            }
            None => break,
        }
    }

    for (i, f) in files.iter().enumerate() {
        let s = &summary[i];
        let range = match (s.first, s.last) {
            (Some(a), Some(b)) => format!("zxids 0x{}..0x{}", java_hex(a), java_hex(b)),
            _ => "no txns".to_string(),
        };
        // The damage itself is the problem reported right after.
        let level = if s.damaged { Level::Note } else { Level::Ok };
        let state = if s.damaged { "damaged, " } else { "" };
        rep.push(
            level,
            format!(
                "log {}: {state}{} whole txns read, {range}",
                f.path.display(),
                s.txns
            ),
        );
        if let Some(first) = s.first {
            if first != f.start_zxid {
                rep.push(
                    Level::Warning,
                    format!(
                        "log {}: named after zxid 0x{} but its first txn is 0x{}; ZooKeeper \
                         chooses the files to read by their names",
                        f.path.display(),
                        java_hex(f.start_zxid),
                        java_hex(first)
                    ),
                );
            }
        }
        rep.findings.append(&mut notes[i]);
    }
    rep.findings.append(&mut continuity);
    match first_replayed {
        Some(first) => rep.push(
            Level::Ok,
            format!(
                "{replayed} txns after zxid 0x{} to replay: 0x{}..0x{}",
                java_hex(base),
                java_hex(first),
                java_hex(prev)
            ),
        ),
        None => rep.push(
            Level::Ok,
            format!("no txns after zxid 0x{} in the logs", java_hex(base)),
        ),
    }
    prev
}

#[cfg(test)]
mod tests {
    use super::follows;

    #[test]
    fn continuity_within_and_across_epochs() {
        assert!(follows(0, 1));
        assert!(follows(0x1_0000_0005, 0x1_0000_0006));
        assert!(follows(0x1_0000_0005, 0x2_0000_0001));
        assert!(follows(0, 0x1_0000_0001));
        assert!(follows(0x1_0000_0000, 0x1_0000_0001));
        assert!(!follows(0x1_0000_0005, 0x1_0000_0007));
        assert!(!follows(0x1_0000_0005, 0x2_0000_0002));
        assert!(!follows(0x2_0000_0005, 0x1_0000_0006));
        assert!(!follows(i64::MAX, i64::MIN));
    }
}
