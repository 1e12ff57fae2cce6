//! Sync: the stage between prep and final that makes txns durable.
//!
//! It runs on its own OS thread, fed by a channel of [`SyncCmd`]s: appends
//! and fsyncs block that thread only, never a tokio worker, so a slow disk
//! stalls neither the core nor the connections' tasks scheduled beside it.
//! Commands that arrive while a commit is in progress are taken together as
//! one run; consecutive appends in it are covered by one commit: that is the
//! group commit. Final only sees a txn after the commit that covers it has
//! returned.
//!
//! Two kinds of command share the one ordered channel:
//! - standalone, [`SyncCmd::Append`]: txns prep made, reported back as
//!   [`CoreMsg::Durable`] with the txns themselves;
//! - ensemble, [`SyncCmd::Zab`]: the numbered persistence commands of the
//!   ZAB machine (`zab::Action::Persist`), executed strictly in order and
//!   reported as [`CoreMsg::Persisted`] `{ through }` — every command up to
//!   that id is durable, which is what `zab::Node::persisted` takes (and, on
//!   a leader, its own ACK).
//!
//! Reports go to the core through [`SyncReports`], not its inbox, so they
//! never wait behind client requests. After any failure the stage reports
//! [`CoreMsg::LogFailed`] once, executes nothing more and ends: nothing after
//! a failed write may be reported durable.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use jute::txn::TxnHeader;
use jute::Record;
use tokio::sync::oneshot;

use super::metrics::SyncReport;
use super::sync_reports::SyncReports;
#[cfg(doc)]
use super::CoreMsg;
use crate::persist::epoch::{write_long_file, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
use crate::persist::snapshot::{self, SnapshotCompression};
use crate::persist::TxnLog;
use crate::txn::LoggedTxn;

/// Most commands one run may take before its commit is forced, bounding
/// latency.
const MAX_CMDS_PER_RUN: usize = 256;

/// When to snapshot: after more than snapCount/2 + a random share of
/// snapCount/2 txns, as ZooKeeper's `SyncRequestProcessor` does, so that the
/// servers of an ensemble do not all snapshot at once.
struct SnapSchedule {
    snap_count: u64,
    logged: u64,
    roll_at: u64,
    rng: u64,
}

impl SnapSchedule {
    fn new(snap_count: u64) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9e37_79b9_7f4a_7c15)
            | 1;
        let mut s = SnapSchedule {
            snap_count,
            logged: 0,
            roll_at: 0,
            rng: seed,
        };
        s.reroll();
        s
    }

    fn reroll(&mut self) {
        // xorshift64: the spread only needs to differ between servers.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = (self.snap_count / 2).max(1);
        self.roll_at = half + self.rng % half;
    }

    /// Counts one logged txn; true when a snapshot is due.
    fn logged_one(&mut self) -> bool {
        if self.snap_count == 0 {
            return false;
        }
        self.logged += 1;
        if self.logged > self.roll_at {
            self.logged = 0;
            self.reroll();
            return true;
        }
        false
    }
}

fn ms_between(from: Instant, to: Instant) -> u64 {
    to.saturating_duration_since(from).as_millis() as u64
}

/// What the core asks of the sync stage, in order.
pub enum SyncCmd {
    /// Log these txns, handed over at `sent`, and report them durable.
    Append { sent: Instant, txns: Vec<LoggedTxn> },
    /// An ensemble member's persistence command number `id` (zab's
    /// `PersistId`; ids increase by one per command). Once it and every
    /// command before it is done, the stage reports
    /// [`CoreMsg::Persisted`] with `through` ≥ `id`.
    Zab { id: u64, op: StorageOp },
}

/// A durable-state change of an ensemble member (zab's `PersistOp`, with
/// the bytes the host has for it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageOp {
    /// Log one txn: `bytes` are `Util.marshallTxnEntry`'s (header, body,
    /// digest), exactly what a PROPOSAL carries; `zxid` must be the header's
    /// and above every zxid logged before (since the last truncation).
    ///
    /// ZooKeeper 3.8's `FileTxnLog.append` only warns ("Current zxid … is <=
    /// … for …") and writes such an entry anyway, leaving a log whose zxids
    /// go backwards; here it is refused and the stage fails, as a machine
    /// that issues it has lost track of its log.
    Append { zxid: i64, bytes: Bytes },
    /// Drop every log entry after `zxid` (TRUNC); appends continue after it,
    /// in a new log file named after the next zxid, as after ZooKeeper's
    /// `FileTxnSnapLog.truncateLog` (which reopens its log).
    Truncate { zxid: i64 },
    /// Write the `acceptedEpoch` file (temp file, fsync, rename, fsync dir).
    AcceptedEpoch(i64),
    /// Write the `currentEpoch` file, likewise.
    CurrentEpoch(i64),
    /// Write `stream` — the SNAP-stream form of the database at `zxid`
    /// ([`snapshot::write_snap_sync`]'s output, signature optional) — as
    /// the snapshot file `snapshot.<zxid hex>` in the snap dir, in
    /// ZooKeeper's file format (no zxid digest section: the stream has
    /// none). The log then rolls, as it does at every snapshot.
    Snapshot { zxid: i64, stream: Bytes },
}

/// Where an ensemble member's non-log state goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPaths {
    /// `<dataDir>/version-2`: snapshots, and the `acceptedEpoch` and
    /// `currentEpoch` files, which ZooKeeper keeps in its snap dir too
    /// (`QuorumPeer.writeLongToFile` uses `FileTxnSnapLog.getSnapDir()`).
    pub snap_dir: PathBuf,
    /// `zookeeper.snapshot.compression.method`, for snapshot files.
    pub compression: SnapshotCompression,
}

impl SyncPaths {
    /// The paths of a server whose dataDir is `data_dir`.
    pub fn for_data_dir(data_dir: &Path, compression: SnapshotCompression) -> Self {
        SyncPaths {
            snap_dir: snapshot::snapshot_dir(data_dir),
            compression,
        }
    }
}

/// The sync stage's thread. It ends (closing the txn log) once the core
/// has dropped its [`Sender`] and every command before that is done, or
/// after a failure.
pub struct SyncStage {
    done: oneshot::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl SyncStage {
    /// Starts the stage on a thread of its own. `snap_count` is ZooKeeper's
    /// snapCount (0: never ask for a snapshot); `paths` is where
    /// [`StorageOp`]s other than log appends and truncations write (without
    /// it they fail).
    pub fn spawn(
        log: Box<dyn TxnLog>,
        cmds: Receiver<SyncCmd>,
        reports: Arc<SyncReports>,
        snap_count: u64,
        paths: Option<SyncPaths>,
    ) -> std::io::Result<SyncStage> {
        let (done_tx, done) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("sync".into())
            .spawn(move || {
                let mut stage = Stage {
                    log,
                    schedule: SnapSchedule::new(snap_count),
                    paths,
                    reports,
                };
                stage.run(cmds);
                let _ = done_tx.send(());
            })?;
        Ok(SyncStage { done, thread })
    }

    /// Waits, without blocking the runtime, until the stage has ended.
    pub async fn join(self) -> Result<(), String> {
        // The sender is dropped unsent only if the stage panicked.
        let finished = self.done.await.is_ok();
        let joined = tokio::task::spawn_blocking(move || self.thread.join())
            .await
            .map_err(|e| format!("sync stage join: {e}"))?;
        match (finished, joined) {
            (true, Ok(())) => Ok(()),
            _ => Err("the sync stage panicked".into()),
        }
    }
}

/// The core's end of the channel to the sync stage.
pub type SyncSender = Sender<SyncCmd>;

/// The stage's state on its thread.
struct Stage {
    log: Box<dyn TxnLog>,
    schedule: SnapSchedule,
    paths: Option<SyncPaths>,
    reports: Arc<SyncReports>,
}

/// What one run has done so far.
#[derive(Default)]
struct Run {
    /// Standalone txns appended, reported once committed.
    durable: Vec<LoggedTxn>,
    /// The last ensemble command executed.
    through: Option<u64>,
    /// Appends not yet covered by a commit.
    uncommitted: bool,
    snapshot_due: bool,
}

impl Stage {
    /// Takes what is queued as one run, executes it, reports; until the core
    /// drops its sender or something fails.
    fn run(&mut self, cmds: Receiver<SyncCmd>) {
        while let Ok(first) = cmds.recv() {
            let taken = Instant::now();
            let mut batch = vec![first];
            while batch.len() < MAX_CMDS_PER_RUN {
                match cmds.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            if let Err(e) = self.execute(batch, taken) {
                self.reports.failed(e.to_string());
                return;
            }
        }
    }

    /// Executes `batch` in order, commits once at the end (and before any
    /// command that is not an append, so what precedes it is durable first),
    /// then reports what became durable.
    fn execute(&mut self, batch: Vec<SyncCmd>, taken: Instant) -> std::io::Result<()> {
        let mut run = Run::default();
        let mut report = SyncReport::default();
        let before = self.log.stats();
        for cmd in batch {
            match cmd {
                SyncCmd::Append { sent, txns } => {
                    report.queued.push((ms_between(sent, taken), txns.len()));
                    for t in &txns {
                        self.log.append(t)?;
                        self.logged_one(&mut run)?;
                    }
                    run.durable.extend(txns);
                }
                SyncCmd::Zab { id, op } => {
                    self.storage_op(op, &mut run)?;
                    run.through = Some(id);
                }
            }
        }
        self.commit(&mut run)?;
        let after = self.log.stats();
        if after.fsyncs > before.fsyncs {
            report.fsync_ms = Some((after.fsync_nanos - before.fsync_nanos) / 1_000_000);
        }
        report.flush_ms = ms_between(taken, Instant::now());
        // One report carries the measurements, so nothing is counted twice.
        match (run.durable.is_empty(), run.through) {
            (false, through) => {
                self.reports.durable(run.durable, report);
                if let Some(id) = through {
                    self.reports.persisted(id, SyncReport::default());
                }
            }
            (true, Some(id)) => self.reports.persisted(id, report),
            (true, None) => {}
        }
        if run.snapshot_due {
            self.reports.snapshot_due();
        }
        Ok(())
    }

    /// Counts one appended txn toward snapCount; when a snapshot is due,
    /// rolls right after it (the core snapshots from whatever it has
    /// applied, and replay covers the rest).
    fn logged_one(&mut self, run: &mut Run) -> std::io::Result<()> {
        run.uncommitted = true;
        if self.schedule.logged_one() {
            self.log.roll()?;
            run.snapshot_due = true;
        }
        Ok(())
    }

    fn commit(&mut self, run: &mut Run) -> std::io::Result<()> {
        if run.uncommitted {
            self.log.commit()?;
            run.uncommitted = false;
        }
        Ok(())
    }

    /// One ensemble command. An append joins the run's group commit; any
    /// other command first commits what the run appended, so that it never
    /// becomes durable ahead of them.
    fn storage_op(&mut self, op: StorageOp, run: &mut Run) -> std::io::Result<()> {
        if !matches!(op, StorageOp::Append { .. }) {
            self.commit(run)?;
        }
        match op {
            StorageOp::Append { zxid, bytes } => {
                check_header_zxid(zxid, &bytes)?;
                self.log.append_marshalled(&bytes)?;
                self.logged_one(run)
            }
            StorageOp::Truncate { zxid } => {
                self.log.truncate(zxid)?;
                tracing::info!("Truncated the txn log to zxid 0x{zxid:x}");
                Ok(())
            }
            StorageOp::AcceptedEpoch(epoch) => {
                let dir = self.snap_dir("acceptedEpoch")?;
                Ok(write_long_file(dir, ACCEPTED_EPOCH_FILE, epoch)?)
            }
            StorageOp::CurrentEpoch(epoch) => {
                let dir = self.snap_dir("currentEpoch")?;
                Ok(write_long_file(dir, CURRENT_EPOCH_FILE, epoch)?)
            }
            StorageOp::Snapshot { zxid, stream } => {
                let paths = self.paths.as_ref().ok_or_else(|| no_dir("a snapshot"))?;
                let written = snapshot::write_snapshot_from_snap_stream(
                    &paths.snap_dir,
                    zxid,
                    paths.compression,
                    &stream,
                    None,
                )
                .map_err(|e| std::io::Error::other(e.to_string()))?;
                tracing::info!(
                    "Snapshot taken from the SNAP stream at zxid 0x{zxid:x}: {}",
                    written.display()
                );
                self.log.roll()
            }
        }
    }

    fn snap_dir(&self, what: &str) -> std::io::Result<&Path> {
        self.paths
            .as_ref()
            .map(|p| p.snap_dir.as_path())
            .ok_or_else(|| no_dir(what))
    }
}

fn no_dir(what: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("cannot write {what}: this server has no data directory"),
    )
}

/// The zxid a command names must be the one its bytes' header carries:
/// the log files the entry by the header, the machine counts by the zxid.
fn check_header_zxid(zxid: i64, bytes: &[u8]) -> std::io::Result<()> {
    let header = TxnHeader::deserialize(&mut &bytes[..]).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("txn 0x{zxid:x} to log: no readable TxnHeader in its bytes: {e}"),
        )
    })?;
    if header.zxid != zxid {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "txn to log as zxid 0x{zxid:x} has zxid 0x{:x} in its header",
                header.zxid
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
