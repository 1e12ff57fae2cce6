//! Sync: the stage between prep and final that makes txns durable.
//!
//! It runs as its own task so that disk latency never stalls the core.
//! Batches that arrive while a commit is in progress are appended together
//! and covered by one commit: that is the group commit. Final only sees a txn
//! after the commit that covers it has returned.

use tokio::sync::mpsc;

use super::core::CoreMsg;
use super::txn::LoggedTxn;
use crate::persist::TxnLog;

/// Most batches one commit may cover before it is forced, bounding latency.
const MAX_BATCHES_PER_COMMIT: usize = 256;

/// Runs until the core drops its sender.
pub async fn run_sync_stage(
    mut log: Box<dyn TxnLog>,
    mut batches: mpsc::UnboundedReceiver<Vec<LoggedTxn>>,
    core: mpsc::Sender<CoreMsg>,
) {
    while let Some(first) = batches.recv().await {
        let mut done = first;
        let mut n = 1;
        while n < MAX_BATCHES_PER_COMMIT {
            match batches.try_recv() {
                Ok(more) => {
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
        let msg = match result {
            Ok(()) => CoreMsg::Durable(done),
            Err(e) => CoreMsg::LogFailed(e.to_string()),
        };
        if core.send(msg).await.is_err() {
            return;
        }
    }
}
