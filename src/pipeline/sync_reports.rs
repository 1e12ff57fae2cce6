//! The sync stage's reports to the core, on a path of their own.
//!
//! Client requests reach the core through its bounded inbox
//! ([`super::CORE_QUEUE`] messages). Were "durable up to here" reports sent
//! through it too, each would wait behind every request queued before it —
//! up to the whole inbox — and the sync thread would block on a full inbox
//! instead of starting the next fsync. Yet those reports are what lets the
//! core answer (and, in an ensemble, ACK) and so drain the inbox.
//!
//! So the stage leaves its reports here and wakes the core, which takes
//! them at the start of every pass, ahead of the inbox. Memory stays
//! bounded without making the stage wait: an ensemble report only says
//! "persisted through id", so a later one replaces one not yet taken;
//! standalone batches of durable txns are kept in order, and they are txns
//! the core handed over itself and still tracks.

use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

use super::core::CoreMsg;
use super::metrics::SyncReport;
use crate::txn::LoggedTxn;

/// What the stage has reported and the core not yet taken.
#[derive(Default)]
struct Pending {
    durable: Vec<(Vec<LoggedTxn>, SyncReport)>,
    persisted: Option<(u64, SyncReport)>,
    failed: Option<String>,
    snapshot_due: bool,
}

/// The mailbox between the sync thread (which fills it) and the core task
/// (which waits on [`SyncReports::wait`] and empties it with
/// [`SyncReports::take`]).
#[derive(Default)]
pub struct SyncReports {
    pending: Mutex<Pending>,
    wake: Notify,
}

impl SyncReports {
    pub fn new() -> Self {
        Self::default()
    }

    /// A panic elsewhere while holding the lock leaves plain data behind,
    /// still consistent: every update below is a single assignment or push.
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, f: impl FnOnce(&mut Pending)) {
        f(&mut self.lock());
        self.wake.notify_one();
    }

    /// Standalone: these txns are durable, in zxid order.
    pub fn durable(&self, txns: Vec<LoggedTxn>, report: SyncReport) {
        self.update(|p| p.durable.push((txns, report)));
    }

    /// Ensemble: every persistence command through `through` is done.
    /// Replaces a report the core has not taken yet: the stage reports in
    /// command order, so the later one covers the earlier. The measurements
    /// are merged.
    pub fn persisted(&self, through: u64, report: SyncReport) {
        self.update(|p| {
            p.persisted = Some(match p.persisted.take() {
                Some((_, mut merged)) => {
                    merged.absorb(report);
                    (through, merged)
                }
                None => (through, report),
            })
        });
    }

    /// The log (or an epoch or snapshot write) failed: nothing after this
    /// is reported. The first failure is kept.
    pub fn failed(&self, why: String) {
        self.update(|p| {
            p.failed.get_or_insert(why);
        });
    }

    /// snapCount txns were logged and the log rolled.
    pub fn snapshot_due(&self) {
        self.update(|p| p.snapshot_due = true);
    }

    /// Resolves once something was reported since the last wait (at once if
    /// a report came while nobody waited).
    pub async fn wait(&self) {
        self.wake.notified().await
    }

    /// Everything reported so far, as the messages the core handles: durable
    /// batches in order, then the ensemble report, the failure, and the
    /// snapshot request.
    pub fn take(&self) -> Vec<CoreMsg> {
        let p = std::mem::take(&mut *self.lock());
        let mut out = Vec::new();
        out.extend(
            p.durable
                .into_iter()
                .map(|(txns, report)| CoreMsg::Durable(txns, report)),
        );
        if let Some((through, report)) = p.persisted {
            out.push(CoreMsg::Persisted { through, report });
        }
        if let Some(why) = p.failed {
            out.push(CoreMsg::LogFailed(why));
        }
        if p.snapshot_due {
            out.push(CoreMsg::TakeSnapshot);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(msgs: &[CoreMsg]) -> Vec<String> {
        msgs.iter()
            .map(|m| match m {
                CoreMsg::Durable(t, _) => format!("durable {}", t.len()),
                CoreMsg::Persisted { through, .. } => format!("persisted {through}"),
                CoreMsg::LogFailed(e) => format!("failed {e}"),
                CoreMsg::TakeSnapshot => "snapshot".into(),
                _ => "other".into(),
            })
            .collect()
    }

    #[test]
    fn persisted_reports_coalesce_to_the_latest_and_merge_their_measurements() {
        let r = SyncReports::new();
        for (through, fsync) in [(3, 2), (7, 9), (8, 1)] {
            let report = SyncReport {
                fsync_ms: Some(fsync),
                flush_ms: fsync,
                ..SyncReport::default()
            };
            r.persisted(through, report);
        }
        let msgs = r.take();
        assert_eq!(kinds(&msgs), ["persisted 8"]);
        match &msgs[0] {
            CoreMsg::Persisted { report, .. } => {
                assert_eq!(report.fsync_ms, Some(9), "the slowest fsync stands");
            }
            _ => unreachable!(),
        }
        assert!(r.take().is_empty(), "taken once");
    }

    #[test]
    fn take_orders_durable_batches_then_the_rest() {
        let r = SyncReports::new();
        r.snapshot_due();
        r.durable(Vec::new(), SyncReport::default());
        r.failed("disk gone".into());
        r.failed("later".into());
        r.persisted(1, SyncReport::default());
        r.durable(Vec::new(), SyncReport::default());
        assert_eq!(
            kinds(&r.take()),
            [
                "durable 0",
                "durable 0",
                "persisted 1",
                "failed disk gone",
                "snapshot"
            ]
        );
    }

    #[tokio::test]
    async fn a_report_made_before_anyone_waits_still_wakes_the_waiter() {
        let r = SyncReports::new();
        r.persisted(1, SyncReport::default());
        tokio::time::timeout(std::time::Duration::from_secs(5), r.wait())
            .await
            .expect("the stored wake-up resolves the wait");
    }
}
