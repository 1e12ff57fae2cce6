//! Sync: the stage between prep and final that makes txns durable.
//!
//! It runs as its own task so that disk latency never stalls the core.
//! Batches that arrive while a commit is in progress are appended together
//! and covered by one commit: that is the group commit. Final only sees a txn
//! after the commit that covers it has returned.

use std::time::Instant;

use tokio::sync::mpsc;

use super::core::CoreMsg;
use super::metrics::SyncReport;
use super::txn::LoggedTxn;
use crate::persist::TxnLog;

/// Most batches one commit may cover before it is forced, bounding latency.
const MAX_BATCHES_PER_COMMIT: usize = 256;

fn ms_between(from: Instant, to: Instant) -> u64 {
    to.saturating_duration_since(from).as_millis() as u64
}

/// Runs until the core drops its sender. Each batch comes with the instant
/// the core handed it over; the report sent back with the durable txns says
/// how long batches waited and how long the commit took (`mntr`).
pub async fn run_sync_stage(
    mut log: Box<dyn TxnLog>,
    mut batches: mpsc::UnboundedReceiver<(Instant, Vec<LoggedTxn>)>,
    core: mpsc::Sender<CoreMsg>,
) {
    while let Some((sent, first)) = batches.recv().await {
        let taken = Instant::now();
        let mut report = SyncReport::default();
        report.queued.push((ms_between(sent, taken), first.len()));
        let mut done = first;
        let mut n = 1;
        while n < MAX_BATCHES_PER_COMMIT {
            match batches.try_recv() {
                Ok((sent, more)) => {
                    report.queued.push((ms_between(sent, taken), more.len()));
                    done.extend(more);
                    n += 1;
                }
                Err(_) => break,
            }
        }
        let result = done
            .iter()
            .try_for_each(|t| log.append(t))
            .and_then(|()| log.commit());
        report.flush_ms = ms_between(taken, Instant::now());
        let msg = match result {
            Ok(()) => CoreMsg::Durable(done, report),
            Err(e) => CoreMsg::LogFailed(e.to_string()),
        };
        if core.send(msg).await.is_err() {
            return;
        }
    }
}
