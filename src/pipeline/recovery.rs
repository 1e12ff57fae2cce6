//! Starting from disk: how the core restores itself from a dataDir, as
//! ZooKeeper's `FileTxnSnapLog.restore` and `ZooKeeperServer.loadData` do.
//!
//! 1. the newest valid snapshot (older ones when newer fail, each reason
//!    logged);
//! 2. every logged txn after it, in zxid order, through the same apply path
//!    live requests take; a torn last entry (a crash mid-write) is cut off
//!    and logged, damage anywhere else stops the start with file and offset;
//! 3. ephemerals of sessions that no longer exist are removed;
//! 4. a clean snapshot of the result is written before serving (Java does
//!    this at every start; it is also what lets Java start on our files).

use std::path::{Path, PathBuf};

use tracing::{info, warn};

use super::core::Core;
use crate::persist::snapshot::{self, DigestCheck, SnapshotCompression};
use crate::persist::txnlog::{self, FileTxnLog, FileTxnLogOptions, RecoveryMode, TxnLogIterator};
use crate::txn::LoggedTxn;

/// Where and how the server keeps its data.
#[derive(Debug, Clone)]
pub struct PersistSettings {
    /// dataDir: snapshots go to `<data_dir>/version-2`.
    pub data_dir: PathBuf,
    /// dataLogDir: txn logs go to `<data_log_dir>/version-2`.
    pub data_log_dir: PathBuf,
    pub log: FileTxnLogOptions,
    pub compression: SnapshotCompression,
    /// `zookeeper.snapshot.trust.empty`: start from logs without a snapshot.
    pub trust_empty_snapshot: bool,
    /// `zookeeper.datadir.autocreate` (on unless disabled).
    pub autocreate: bool,
    /// The operator's override (`ferrokeeper --truncate-corrupt-log`): on
    /// damage in the middle of the log, keep what precedes it instead of
    /// refusing to start. Everything after the damage is set aside, not
    /// deleted, and the loss is logged.
    pub truncate_corrupt_log: bool,
}

/// What recovery found, for the start-up log.
#[derive(Debug, Default)]
pub struct Recovered {
    pub snapshot: Option<PathBuf>,
    pub replayed: u64,
    pub last_zxid: i64,
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn ensure_dir(dir: &Path, autocreate: bool) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if !autocreate {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "missing data directory {}, automatic data directory creation is disabled \
                 (zookeeper.datadir.autocreate is false)",
                dir.display()
            ),
        ));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display())))
}

impl Core {
    /// Restores the core from `p` and returns the log to append to.
    pub fn recover(&mut self, p: &PersistSettings) -> std::io::Result<(FileTxnLog, Recovered)> {
        let snap_dir = snapshot::snapshot_dir(&p.data_dir);
        let log_dir = txnlog::version2_dir(&p.data_log_dir);
        ensure_dir(&snap_dir, p.autocreate)?;
        ensure_dir(&log_dir, p.autocreate)?;
        if let Ok(n) = snapshot::remove_stale_temp_files(&snap_dir) {
            if n > 0 {
                info!(dir = %snap_dir.display(), removed = n, "removed unfinished snapshot files");
            }
        }

        let t_start = std::time::Instant::now();
        let mut found = Recovered::default();
        let mut sessions: Vec<(i64, i32)> = Vec::new();
        let (loaded, rejected) =
            snapshot::load_newest_into(&snap_dir, &mut self.tree, &mut self.acls, &mut sessions)
                .map_err(io_err)?;
        for r in &rejected {
            warn!(file = %r.path.display(), reason = %r.reason, "snapshot passed over");
        }
        let mut pending_digest = None;
        let mut replays = true;
        let snap_zxid = match &loaded {
            Some(l) => {
                info!(file = %l.path.display(), nodes = l.nodes, sessions = l.sessions, "snapshot loaded");
                match l.digest_check {
                    DigestCheck::Mismatch { snapshot, tree } => {
                        self.metrics.digest_mismatches_count += 1;
                        warn!(
                        "digest in {} does not match the loaded tree (0x{snapshot:x} vs 0x{tree:x}); \
                         ZooKeeper's own fuzzy snapshots can do this, continuing",
                        l.path.display()
                    )
                    }
                    DigestCheck::Pending(d) => pending_digest = Some(d),
                    _ => {}
                }
                found.snapshot = Some(l.path.clone());
                l.zxid
            }
            None => {
                let logs = !txnlog::list_log_files(&log_dir).map_err(io_err)?.is_empty();
                // ZooKeeper's FileTxnSnapLog.restore replays (and so records
                // startup_txns_*) only after a snapshot, or from the logs
                // alone when trusted; an empty data directory records neither.
                replays = logs;
                if logs && !p.trust_empty_snapshot {
                    return Err(std::io::Error::other(format!(
                        "no snapshot found in {}, but there are log entries in {}; \
                         set zookeeper.snapshot.trust.empty=true to start from the logs alone",
                        snap_dir.display(),
                        log_dir.display()
                    )));
                }
                0
            }
        };
        if self.tree.lookup(crate::tree::CONFIG_NODE).is_none() {
            let acl = self.acls.convert_acls(&crate::acl::read_acl_unsafe());
            self.tree.add_config_node(crate::tree::AclRef(acl));
        }
        self.install_recovered_sessions(&sessions, snap_zxid);

        self.metrics
            .startup_snap_load_time
            .add(t_start.elapsed().as_millis() as u64);
        let t_logs = std::time::Instant::now();
        let mut it = TxnLogIterator::open(&log_dir, snap_zxid, RecoveryMode::TruncateTornTail)
            .map_err(io_err)?;
        let mut corrupt = None;
        for entry in it.by_ref() {
            let entry = match entry {
                Ok(e) => e,
                Err(e)
                    if p.truncate_corrupt_log
                        && !matches!(e.kind, txnlog::TxnLogErrorKind::Io(_)) =>
                {
                    corrupt = Some(e);
                    break;
                }
                Err(e) => {
                    return Err(std::io::Error::other(format!(
                        "{e}; the start is stopped so that nothing after this point is lost \
                         silently (`ferrokeeper check` shows the damage; \
                         `ferrokeeper --truncate-corrupt-log` keeps what precedes it)"
                    )))
                }
            };
            let zxid = entry.header.zxid;
            self.replay(
                LoggedTxn {
                    header: entry.header,
                    body: entry.body,
                    digest: entry.digest,
                },
                pending_digest.is_some(),
            );
            found.replayed += 1;
            if let Some(d) = pending_digest {
                if d.zxid == zxid {
                    pending_digest = None;
                    if d.digest != self.tree.digest() {
                        self.metrics.digest_mismatches_count += 1;
                        warn!(
                            zxid = format_args!("0x{zxid:x}"),
                            "tree digest after replay differs from the snapshot's"
                        );
                    }
                }
            }
        }
        drop_after_corruption(&log_dir, corrupt, self.last_zxid())?;
        for t in it.superseded_tails() {
            warn!("{t} (a later log file continues after it; skipped as ZooKeeper does)");
        }
        if let Some(t) = it.torn_tail().cloned() {
            warn!("{t}: torn last entry (crash mid-write); truncating");
            it.truncate_torn_tail().map_err(io_err)?;
        }
        let last_zxid = self.last_zxid();
        found.last_zxid = last_zxid;
        if replays {
            self.metrics
                .startup_txns_load_time
                .add(t_logs.elapsed().as_millis() as u64);
            self.metrics.startup_txns_loaded.add(found.replayed);
        }

        // ZooKeeper's loadData: ephemerals whose session is gone are removed
        // without a txn.
        let live: std::collections::HashSet<i64> =
            self.sessions.sessions().map(|(id, _)| id).collect();
        for sid in self.tree.ephemeral_sessions() {
            if !live.contains(&sid) {
                for r in self.tree.kill_session(sid, last_zxid, None) {
                    self.acls.remove_usage(r.acl.0);
                }
                info!(
                    session = format_args!("0x{sid:x}"),
                    "removed ephemerals of a dead session"
                );
            }
        }

        // ZKDatabase.loadDataBase's time; the start-up snapshot that follows
        // (ZooKeeperServer.loadData's takeSnapshot) is a `snapshottime` sample.
        self.metrics
            .dbinittime
            .add(t_start.elapsed().as_millis() as u64);
        let t_snap = std::time::Instant::now();
        let mut all_sessions: Vec<(i64, i32)> = self.sessions.sessions().collect();
        all_sessions.sort_unstable();
        let path = snapshot::write_snapshot_from(
            &snap_dir,
            last_zxid,
            p.compression,
            &self.tree,
            &self.acls,
            all_sessions,
        )
        .map_err(io_err)?;
        self.metrics
            .snapshottime
            .add(t_snap.elapsed().as_millis() as u64);
        info!(file = %path.display(), "start-up snapshot written");
        self.last_snapshot = Some((last_zxid, path.clone()));

        let log = FileTxnLog::open(&log_dir, last_zxid, p.log.clone())?;
        self.set_snapshot_sink(snapshot::sink_factory(snap_dir, p.compression));
        Ok((log, found))
    }
}

/// The operator asked to start despite damage at `e`: the damaged file is
/// cut at the damage, later log files are renamed `corrupt-log.*` (kept for
/// forensics, invisible to ZooKeeper's and our readers), and the loss is
/// logged as an error.
fn drop_after_corruption(
    log_dir: &Path,
    e: Option<txnlog::TxnLogError>,
    last_zxid: i64,
) -> std::io::Result<()> {
    let Some(e) = e else { return Ok(()) };
    tracing::error!(
        "{e}: truncating the log there on the operator's request; txns after zxid \
         0x{last_zxid:x} are discarded"
    );
    let file = std::fs::OpenOptions::new().write(true).open(&e.file)?;
    file.set_len(e.offset)?;
    file.sync_all()?;
    let damaged_start = txnlog::zxid_from_log_name(
        e.file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default(),
    );
    for f in txnlog::list_log_files(log_dir).map_err(io_err)? {
        if damaged_start.is_some_and(|d| f.start_zxid > d) {
            // A new prefix, not a suffix: ZooKeeper (and we) read any
            // `log.<hex>.*` as a log file.
            let name = f
                .path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let aside = f.path.with_file_name(format!("corrupt-{name}"));
            tracing::error!(file = %f.path.display(), to = %aside.display(), "log file after the damage set aside");
            std::fs::rename(&f.path, &aside)?;
        }
    }
    Ok(())
}
