//! Starting from disk: how the core restores itself from a dataDir, as
//! ZooKeeper's `FileTxnSnapLog.restore` and `ZooKeeperServer.loadData` do.
//!
//! 1. the database is loaded ([`crate::database::ZkDatabase::load`]): the
//!    newest valid snapshot, then every logged txn after it through the same
//!    apply path live requests take;
//! 3. ephemerals of sessions that no longer exist are removed;
//! 4. a clean snapshot of the result is written before serving (Java does
//!    this at every start; it is also what lets Java start on our files).

use std::path::{Path, PathBuf};

use tracing::info;

use super::core::{Core, CoreObserver};
use crate::database::LoadOptions;
use crate::persist::snapshot::{self, SnapshotCompression};
use crate::persist::txnlog::{self, FileTxnLog, FileTxnLogOptions};

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
        self.recover_with(p, true)
    }

    /// [`Core::recover`] for an ensemble member: no start-up snapshot. A
    /// member's log may hold txns a new leader will TRUNC away; a snapshot
    /// taken now would make them permanent (ZooKeeper's QuorumPeer also
    /// loads without one; its leader snapshots once synced).
    pub fn recover_as_member(
        &mut self,
        p: &PersistSettings,
    ) -> std::io::Result<(FileTxnLog, Recovered)> {
        self.recover_with(p, false)
    }

    fn recover_with(
        &mut self,
        p: &PersistSettings,
        startup_snapshot: bool,
    ) -> std::io::Result<(FileTxnLog, Recovered)> {
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
        let from = LoadOptions {
            snap_dir: snap_dir.clone(),
            log_dir: log_dir.clone(),
            trust_empty_snapshot: p.trust_empty_snapshot,
            truncate_corrupt_log: p.truncate_corrupt_log,
        };
        let mut obs = CoreObserver {
            metrics: &mut self.metrics,
            sessions: &mut self.sessions,
            now_ms: self.clock.mono_ms,
            watching: false,
        };
        let loaded = self.db.load(&from, &mut obs)?;
        self.metrics
            .startup_snap_load_time
            .add(loaded.snapshot_time.as_millis() as u64);
        let last_zxid = self.last_zxid();
        self.last_assigned_zxid = last_zxid;
        let found = Recovered {
            snapshot: loaded.snapshot,
            replayed: loaded.replayed,
            last_zxid,
        };
        if loaded.replays {
            self.metrics
                .startup_txns_load_time
                .add(loaded.replay_time.as_millis() as u64);
            self.metrics.startup_txns_loaded.add(found.replayed);
        }

        // ZooKeeper's loadData: ephemerals whose session is gone are removed
        // without a txn.
        // A member leaves that to the leader's closeSession txns: removing
        // them here, without a txn, would make its tree differ from the others'.
        let live: std::collections::HashSet<i64> = if !startup_snapshot {
            self.db.tree.ephemeral_sessions().into_iter().collect()
        } else {
            self.sessions.sessions().map(|(id, _)| id).collect()
        };
        for sid in self.db.tree.ephemeral_sessions() {
            if !live.contains(&sid) {
                for r in self.db.tree.kill_session(sid, last_zxid, None) {
                    self.db.acls.remove_usage(r.acl.0);
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
        // A member writes a snapshot only on a fresh start (no snapshot, no
        // log), as FileTxnSnapLog.restore does, so a later restart with
        // logs finds the snapshot they follow.
        let fresh = found.snapshot.is_none() && found.replayed == 0;
        if !startup_snapshot && !fresh {
            let log = FileTxnLog::open(&log_dir, last_zxid, p.log.clone())?;
            self.set_snapshot_sink(snapshot::sink_factory(snap_dir, p.compression));
            return Ok((log, found));
        }
        let t_snap = std::time::Instant::now();
        let mut all_sessions: Vec<(i64, i32)> = self.sessions.sessions().collect();
        all_sessions.sort_unstable();
        let path = snapshot::write_snapshot_from(
            &snap_dir,
            last_zxid,
            p.compression,
            &self.db.tree,
            &self.db.acls,
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
