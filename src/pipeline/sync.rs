//! Sync: the stage between prep and final that makes txns durable.
//!
//! It runs on its own OS thread, fed by a channel of [`SyncCmd`]s: appends
//! and fsyncs block that thread only, never a tokio worker, so a slow disk
//! stalls neither the core nor the connections' tasks scheduled beside it.
//! Batches that arrive while a commit is in progress are appended together
//! and covered by one commit: that is the group commit. Final only sees a txn
//! after the commit that covers it has returned.

use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::core::CoreMsg;
use super::metrics::SyncReport;
use crate::persist::TxnLog;
use crate::txn::LoggedTxn;

/// Most batches one commit may cover before it is forced, bounding latency.
const MAX_BATCHES_PER_COMMIT: usize = 256;

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
    /// TEMPORARY (replaced by the storage branch): an ensemble command.
    Zab { id: u64, op: StorageOp },
}

/// TEMPORARY (replaced by the storage branch).
pub enum StorageOp {
    Append { zxid: i64, bytes: bytes::Bytes },
    Truncate { zxid: i64 },
    AcceptedEpoch(i64),
    CurrentEpoch(i64),
    Snapshot { zxid: i64, stream: bytes::Bytes },
}

/// The sync stage's thread. It ends (closing the txn log) once the core
/// has dropped its [`Sender`] and every command before that is done.
pub struct SyncStage {
    done: oneshot::Receiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl SyncStage {
    /// Starts the stage on a thread of its own.
    pub fn spawn(
        log: Box<dyn TxnLog>,
        cmds: Receiver<SyncCmd>,
        core: mpsc::Sender<CoreMsg>,
        snap_count: u64,
    ) -> std::io::Result<SyncStage> {
        let (done_tx, done) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("sync".into())
            .spawn(move || {
                run_sync_stage(log, cmds, core, snap_count);
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

/// Runs until the core drops its sender. Each batch comes with the instant
/// the core handed it over; the report sent back with the durable txns says
/// how long batches waited and how long the commit took (`mntr`).
fn run_sync_stage(
    mut log: Box<dyn TxnLog>,
    cmds: Receiver<SyncCmd>,
    core: mpsc::Sender<CoreMsg>,
    snap_count: u64,
) {
    let mut schedule = SnapSchedule::new(snap_count);
    loop {
        // TEMPORARY (replaced by the storage branch): ensemble commands are
        // reported durable without being written.
        let (sent, first) = match cmds.recv() {
            Ok(SyncCmd::Append { sent, txns }) => (sent, txns),
            Ok(SyncCmd::Zab { id, .. }) => {
                let _ = core.blocking_send(CoreMsg::Persisted {
                    through: id,
                    report: SyncReport::default(),
                });
                continue;
            }
            Err(_) => break,
        };
        let taken = Instant::now();
        let mut report = SyncReport::default();
        report.queued.push((ms_between(sent, taken), first.len()));
        let mut done = first;
        let mut n = 1;
        while n < MAX_BATCHES_PER_COMMIT {
            match cmds.try_recv() {
                Ok(SyncCmd::Append { sent, txns: more }) => {
                    report.queued.push((ms_between(sent, taken), more.len()));
                    done.extend(more);
                    n += 1;
                }
                _ => break, // TEMPORARY

            }
        }
        let mut snapshot_due = false;
        let mut result = Ok(());
        for t in &done {
            if let Err(e) = log.append(t) {
                result = Err(e);
                break;
            }
            if schedule.logged_one() {
                // Roll right after this txn; the core snapshots from
                // whatever it has applied, and replay covers the rest.
                if let Err(e) = log.roll() {
                    result = Err(e);
                    break;
                }
                snapshot_due = true;
            }
        }
        let before = log.stats();
        let result = result.and_then(|()| log.commit());
        let after = log.stats();
        if after.fsyncs > before.fsyncs {
            report.fsync_ms = Some((after.fsync_nanos - before.fsync_nanos) / 1_000_000);
        }
        report.flush_ms = ms_between(taken, Instant::now());
        let msg = match result {
            Ok(()) => CoreMsg::Durable(done, report),
            Err(e) => CoreMsg::LogFailed(e.to_string()),
        };
        if core.blocking_send(msg).is_err() {
            return;
        }
        if snapshot_due && core.blocking_send(CoreMsg::TakeSnapshot).is_err() {
            return;
        }
    }
}

/// The core's end of the channel to the sync stage.
pub type SyncSender = Sender<SyncCmd>;
