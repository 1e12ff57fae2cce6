//! The leader's host side of syncing a learner from the on-disk txn log: the
//! machine asks ([`crate::zab::Action::ReadSyncLog`]) for the log after the
//! learner's zxid, and gets it only where Java 3.8's
//! `ZKDatabase.getProposalsFromTxnLog` would use it: syncing from the log is
//! on (`snapshotSizeFactor` ≥ 0) and the log files past the first one read
//! are no larger than `snapshotSizeFactor` × the newest snapshot file (0:
//! no limit). The machine then chooses DIFF, TRUNC or SNAP as
//! `syncFollower` does (`crate::zab::sync`).
//!
//! The read runs on a thread of its own and its answer comes back through
//! the core's inbox ([`super::MemberEvent::SyncLog`]), so a long first log
//! file does not hold the core up; the machine decides on the window as it
//! is when the answer arrives. The read goes to the end of the log, not
//! only to the window's first entry at the time of asking: commits made
//! meanwhile move the window on, and the log must still reach it.

use std::path::PathBuf;

use tracing::{error, info, warn};

use crate::persist::txnlog::{
    txnlog_sync_allowed, txnlog_sync_size, txnlog_sync_size_limit, RawTxnIterator,
};
use tokio::sync::mpsc;

use super::MemberEvent;
use crate::pipeline::core::CoreMsg;
use crate::zab::{LogHistory, Sid, Txn, Zxid};

/// Where a leader's log and snapshots are, and how much log it may sync from.
#[derive(Debug, Clone)]
pub struct TxnLogSync {
    /// `<dataLogDir>/version-2`.
    pub log_dir: PathBuf,
    /// `<dataDir>/version-2`.
    pub snap_dir: PathBuf,
    pub snapshot_size_factor: f64,
}

impl TxnLogSync {
    /// [`Self::read`] on a thread of its own, to the end of the log; the
    /// answer goes to the core as [`MemberEvent::SyncLog`]. If the thread
    /// cannot be started, it is read here.
    pub fn read_off_core(&self, to_core: &mpsc::Sender<CoreMsg>, learner: Sid, after: Zxid) {
        let this = self.clone();
        let tx = to_core.clone();
        let job = move || {
            let history = this.read(learner, after, Zxid(i64::MAX));
            // A core that is gone has no learner to sync.
            let _ = tx.blocking_send(CoreMsg::Member(MemberEvent::SyncLog {
                learner,
                after,
                history,
            }));
        };
        let spawned = std::thread::Builder::new()
            .name(format!("txnlog-sync-{learner}"))
            .spawn(job);
        if let Err(e) = spawned {
            error!(learner, error = %e, "no thread to read the txnlog on; reading it on the core");
            let history = self.read(learner, after, Zxid(i64::MAX));
            if to_core
                .try_send(CoreMsg::Member(MemberEvent::SyncLog {
                    learner,
                    after,
                    history,
                }))
                .is_err()
            {
                error!(
                    learner,
                    "the core's inbox is full: the learner will time out and retry"
                );
            }
        }
    }

    /// The logged txns after `after` through at least `through`, or `None`
    /// where Java would not sync `learner` from the log.
    pub fn read(&self, learner: Sid, after: Zxid, through: Zxid) -> Option<LogHistory> {
        let factor = self.snapshot_size_factor;
        if factor.is_nan() || factor < 0.0 {
            info!(learner, "On disk txn sync disabled");
            return None;
        }
        let limit = txnlog_sync_size_limit(&self.snap_dir, factor);
        let size = match txnlog_sync_size(&self.log_dir, after.0) {
            Ok(size) => size,
            Err(e) => {
                error!(learner, error = %e, "Unable to read txnlog from disk");
                return None;
            }
        };
        if !txnlog_sync_allowed(factor, size, limit) {
            info!(learner, "Txnlog size: {size} exceeds sizeLimit: {limit}");
            return None;
        }
        let mut it = match RawTxnIterator::open(&self.log_dir, after.0) {
            Ok(it) => it,
            Err(e) => {
                error!(learner, error = %e, "Unable to read txnlog from disk");
                return None;
            }
        };
        let mut txns = Vec::new();
        for r in &mut it {
            match r {
                Ok(t) => {
                    let past = t.zxid > through.0;
                    txns.push(Txn {
                        zxid: Zxid(t.zxid),
                        data: t.bytes,
                    });
                    if past {
                        break;
                    }
                }
                Err(e) => {
                    error!(learner, error = %e, "Unable to read txnlog from disk");
                    return None;
                }
            }
        }
        let preceding = it.preceding_zxid().map(Zxid);
        // Java's words for the same two outcomes (ZKDatabase, LearnerHandler).
        match preceding {
            Some(_) => info!(
                txns = txns.len(),
                "Use txnlog and committedLog for peer sid: {learner}"
            ),
            None => warn!(
                "Unable to find proposals from txnlog for zxid: 0x{:x}",
                after.0
            ),
        }
        Some(LogHistory { preceding, txns })
    }
}

#[cfg(test)]
mod tests {
    use jute::txn::{ErrorTxn, TxnHeader};

    use super::*;
    use crate::persist::txnlog::{FileTxnLog, FileTxnLogOptions};
    use crate::persist::TxnLog;
    use crate::txn::{LoggedTxn, TxnBody};

    /// A log with zxids 1..=10 in one file, 11..=12 in a second (64 KiB
    /// preallocated each), and a snapshot file of `snap_len` bytes.
    fn setup(snap_len: usize) -> (tempfile::TempDir, TxnLogSync) {
        let tmp = tempfile::tempdir().unwrap();
        let log_dir = tmp.path().join("log");
        let snap_dir = tmp.path().join("snap");
        std::fs::create_dir_all(&snap_dir).unwrap();
        let opts = FileTxnLogOptions {
            pre_alloc_size: 64 * 1024,
            ..FileTxnLogOptions::default()
        };
        let mut log = FileTxnLog::open(&log_dir, 0, opts).unwrap();
        for z in 1..=12i64 {
            let t = LoggedTxn {
                header: TxnHeader {
                    client_id: 1,
                    cxid: z as i32,
                    zxid: z,
                    time: 1_700_000_000_000,
                    type_: TxnBody::Error(ErrorTxn { err: -101 }).op_code() as i32,
                },
                body: TxnBody::Error(ErrorTxn { err: -101 }),
                digest: None,
            };
            log.append(&t).unwrap();
            log.commit().unwrap();
            if z == 10 {
                log.roll().unwrap();
            }
        }
        drop(log);
        // All the size limit looks at is a file that passes the quick
        // validity check (`SnapStream.isValidSnapshot`): its length.
        let mut snap = vec![0u8; snap_len - 5];
        snap.extend_from_slice(&[0, 0, 0, 1, b'/']);
        std::fs::write(snap_dir.join("snapshot.c"), snap).unwrap();
        let sync = TxnLogSync {
            log_dir,
            snap_dir,
            snapshot_size_factor: 0.33,
        };
        (tmp, sync)
    }

    #[test]
    fn reads_the_log_after_the_peer_through_the_zxid_asked_for() {
        let (_tmp, sync) = setup(1000);
        // From zxid 3 the first file is read and not counted (Java's
        // getStorageSize), the second (64 KiB) is: over 0.33 × 1000.
        assert_eq!(sync.read(1, Zxid(3), Zxid(6)), None);
        // A snapshot 200 KiB long lets it through.
        let (_tmp, mut sync) = setup(200 * 1024);
        let h = sync.read(1, Zxid(3), Zxid(6)).unwrap();
        assert_eq!(h.preceding, Some(Zxid(3)));
        let zs: Vec<i64> = h.txns.iter().map(|t| t.zxid.0).collect();
        // Through 6, plus the one after that ended the read.
        assert_eq!(zs, vec![4, 5, 6, 7]);
        // A learner in the second file: nothing after the first counts.
        let h = sync.read(1, Zxid(11), Zxid(12)).unwrap();
        assert_eq!(h.preceding, Some(Zxid(11)));
        assert_eq!(h.txns.len(), 1);
        // Factor 0: no limit. Negative: syncing from the log is off.
        sync.snapshot_size_factor = 0.0;
        assert!(sync.read(1, Zxid(3), Zxid(6)).is_some());
        sync.snapshot_size_factor = -1.0;
        assert_eq!(sync.read(1, Zxid(3), Zxid(6)), None);
    }

    #[test]
    fn a_log_starting_after_the_peer_has_no_preceding_zxid() {
        let (_tmp, mut sync) = setup(1000);
        sync.snapshot_size_factor = 0.0;
        let h = sync.read(1, Zxid(0), Zxid(2)).unwrap();
        assert_eq!(h.preceding, None);
    }
}
