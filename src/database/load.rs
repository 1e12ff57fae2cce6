//! Loading the database from disk, as ZooKeeper's `ZKDatabase.loadDataBase`
//! (`FileTxnSnapLog.restore`) does:
//!
//! 1. the newest valid snapshot (older ones when newer fail, each reason
//!    logged);
//! 2. every logged txn after it, in zxid order, through
//!    [`ZkDatabase::apply`]; each also goes into the committed-proposal
//!    window (the playback listener). A torn last entry (a crash mid-write)
//!    is cut off and logged; damage anywhere else stops the load with file
//!    and offset, unless the operator asked to keep what precedes it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::{ApplyObserver, ZkDatabase};
use crate::persist::snapshot::{self, DigestCheck};
use crate::persist::txnlog::{self, RecoveryMode, TxnLogIterator};

/// Where the database lives on disk and how to treat what is found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// `<dataDir>/version-2`: the snapshots.
    pub snap_dir: PathBuf,
    /// `<dataLogDir>/version-2`: the txn logs.
    pub log_dir: PathBuf,
    /// `zookeeper.snapshot.trust.empty`: start from logs without a snapshot.
    pub trust_empty_snapshot: bool,
    /// `ferrokeeper --truncate-corrupt-log`: on damage in the middle of the
    /// log, keep what precedes it. Everything after the damage is set
    /// aside, not deleted, and the loss is logged.
    pub truncate_corrupt_log: bool,
}

/// What a load found.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    pub snapshot: Option<PathBuf>,
    /// The snapshot's zxid (0 without one): replay started after it.
    pub snapshot_zxid: i64,
    pub replayed: u64,
    /// Whether the logs were replayed at all: after a snapshot, or from the
    /// logs alone when trusted; an empty data directory does neither.
    pub replays: bool,
    /// Time to load the snapshot, and to replay the logs.
    pub snapshot_time: Duration,
    pub replay_time: Duration,
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl ZkDatabase {
    /// Replaces the database with what `from` holds on disk (see the module
    /// docs). Every change is reported to `obs`, the snapshot's sessions
    /// first. Remembers `from` for [`ZkDatabase::truncate`].
    pub fn load(
        &mut self,
        from: &LoadOptions,
        obs: &mut dyn ApplyObserver,
    ) -> std::io::Result<LoadReport> {
        self.load_through_zxid(from, None, obs)
    }

    /// A learner's TRUNC (`ZKDatabase.truncateLog`'s reload): the database
    /// as of `zxid`, from the newest snapshot and the log entries up to it,
    /// read from where the last [`ZkDatabase::load`] read. The log itself is
    /// cut by the sync stage. Fails when nothing was loaded from disk yet or
    /// when the newest snapshot is past `zxid`.
    pub fn reload_through(
        &mut self,
        zxid: i64,
        obs: &mut dyn ApplyObserver,
    ) -> std::io::Result<LoadReport> {
        let Some(from) = self.loaded_from.clone() else {
            return Err(std::io::Error::other(format!(
                "cannot roll the database back to zxid 0x{zxid:x}: it was not loaded from disk"
            )));
        };
        let report = self.load_through_zxid(&from, Some(zxid), obs)?;
        if report.snapshot_zxid > zxid {
            return Err(std::io::Error::other(format!(
                "cannot roll the database back to zxid 0x{zxid:x}: the newest snapshot is at 0x{:x}",
                report.snapshot_zxid
            )));
        }
        Ok(report)
    }

    fn load_through_zxid(
        &mut self,
        from: &LoadOptions,
        stop_after: Option<i64>,
        obs: &mut dyn ApplyObserver,
    ) -> std::io::Result<LoadReport> {
        self.clear();
        self.loaded_from = Some(from.clone());
        let (snap_dir, log_dir) = (&from.snap_dir, &from.log_dir);
        let t_start = Instant::now();
        let mut found = LoadReport {
            replays: true,
            ..LoadReport::default()
        };
        let mut sessions: Vec<(i64, i32)> = Vec::new();
        let (loaded, rejected) =
            snapshot::load_newest_into(snap_dir, &mut self.tree, &mut self.acls, &mut sessions)
                .map_err(io_err)?;
        for r in &rejected {
            warn!(file = %r.path.display(), reason = %r.reason, "snapshot passed over");
        }
        let mut pending_digest = None;
        let snap_zxid = match &loaded {
            Some(l) => {
                info!(file = %l.path.display(), nodes = l.nodes, sessions = l.sessions, "snapshot loaded");
                match l.digest_check {
                    DigestCheck::Mismatch { snapshot, tree } => {
                        obs.digest_mismatch();
                        warn!(
                            "digest in {} does not match the loaded tree (0x{snapshot:x} vs \
                             0x{tree:x}); ZooKeeper's own fuzzy snapshots can do this, continuing",
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
                let logs = !txnlog::list_log_files(log_dir).map_err(io_err)?.is_empty();
                found.replays = logs;
                if logs && !from.trust_empty_snapshot {
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
        found.snapshot_zxid = snap_zxid;
        if self.tree.lookup(crate::tree::CONFIG_NODE).is_none() {
            let acl = self.acls.convert_acls(&crate::acl::read_acl_unsafe());
            self.tree.add_config_node(crate::tree::AclRef(acl));
        }
        self.install_sessions(&sessions, obs);
        self.last_processed_zxid = snap_zxid;
        found.snapshot_time = t_start.elapsed();

        let t_logs = Instant::now();
        let mut it = TxnLogIterator::open(log_dir, snap_zxid, RecoveryMode::TruncateTornTail)
            .map_err(io_err)?;
        let mut corrupt = None;
        let mut events = Vec::new();
        for entry in it.by_ref() {
            let entry = match entry {
                Ok(e) => e,
                Err(e)
                    if from.truncate_corrupt_log
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
            if stop_after.is_some_and(|z| entry.header.zxid > z) {
                break;
            }
            self.committed.add_replayed(&entry);
            let zxid = entry.header.zxid;
            let mut body = entry.body;
            events.clear();
            let _ = self.apply(&entry.header, &mut body, &mut events, obs);
            // While replay has not yet passed the zxid of the snapshot's
            // digest, the tree is a fuzzy snapshot plus part of the log and
            // matches no logged digest (ZooKeeper skips the comparison then).
            if pending_digest.is_none() && self.compare_digest(&entry.header, entry.digest.as_ref())
            {
                obs.digest_mismatch();
            }
            found.replayed += 1;
            if let Some(d) = pending_digest {
                if d.zxid == zxid {
                    pending_digest = None;
                    if d.digest != self.tree.digest() {
                        obs.digest_mismatch();
                        warn!(
                            zxid = format_args!("0x{zxid:x}"),
                            "tree digest after replay differs from the snapshot's"
                        );
                    }
                }
            }
        }
        drop_after_corruption(log_dir, corrupt, self.last_processed_zxid)?;
        for t in it.superseded_tails() {
            warn!("{t} (a later log file continues after it; skipped as ZooKeeper does)");
        }
        // A rollback reads a log the sync stage may be appending to: what
        // looks torn there is being written, not damage.
        if let (None, Some(t)) = (stop_after, it.torn_tail().cloned()) {
            warn!("{t}: torn last entry (crash mid-write); truncating");
            it.truncate_torn_tail().map_err(io_err)?;
        }
        found.replay_time = t_logs.elapsed();
        Ok(found)
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
