//! The window of recently committed proposals a leader syncs learners from
//! (ZooKeeper's `ZKDatabase.committedLog`).
//!
//! A learner whose last zxid is inside the window gets a DIFF straight from
//! memory: PROPOSAL(zxid, bytes) + COMMIT(zxid) for each later txn
//! (`LearnerHandler.syncFollower`, `queueCommittedProposals`). The bytes are
//! the txn's single encoding (`Util.marshallTxnEntry`: header, body, digest),
//! held as [`Bytes`] so the log writer, the PROPOSAL packet and this window
//! share one allocation.
//!
//! The bounds follow `ZKDatabase.addCommittedProposal` exactly, since
//! `minCommittedLog` / `maxCommittedLog` decide between DIFF, TRUNC and SNAP:
//! an add first drops the oldest entry when more than `commitLogCount` are
//! held — so the window holds up to `commitLogCount + 1` — and
//! `minCommittedLog` only moves when an entry is dropped or the window was
//! empty. At start the window is filled with every txn replayed from the log
//! after the snapshot (`ZKDatabase.loadDataBase`'s playback listener), so a
//! restarted leader can still DIFF. `zookeeper.commitLogCount` (default and
//! minimum 500, `Integer.parseInt`) is read by the config
//! (`ServerConfig::commit_log_count`).

use std::collections::VecDeque;

use bytes::Bytes;

use crate::persist::txnlog::LogEntry;

/// One committed txn: its zxid and its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedProposal {
    pub zxid: i64,
    /// `Util.marshallTxnEntry`'s bytes, as logged and as sent in a PROPOSAL.
    pub bytes: Bytes,
}

/// `ZKDatabase.committedLog` with its `minCommittedLog` / `maxCommittedLog`.
#[derive(Debug, Clone)]
pub struct CommittedLog {
    commit_log_count: usize,
    entries: VecDeque<CommittedProposal>,
    min: i64,
    max: i64,
}

impl CommittedLog {
    /// An empty window keeping about `commit_log_count` proposals (the
    /// configured `commitLogCount`; Java never goes below 500, and the config
    /// already raises smaller values).
    pub fn new(commit_log_count: usize) -> Self {
        CommittedLog {
            commit_log_count,
            entries: VecDeque::with_capacity(commit_log_count.saturating_add(1).min(4096)),
            min: 0,
            max: 0,
        }
    }

    /// `ZKDatabase.addCommittedProposal`, in its order: drop the oldest if
    /// more than `commitLogCount` are held, then add.
    pub fn add(&mut self, zxid: i64, bytes: Bytes) {
        if self.entries.len() > self.commit_log_count {
            self.entries.pop_front();
            if let Some(front) = self.entries.front() {
                self.min = front.zxid;
            }
        }
        if self.entries.is_empty() {
            self.min = zxid;
            self.max = zxid;
        }
        self.entries.push_back(CommittedProposal { zxid, bytes });
        self.max = zxid;
    }

    /// Adds a txn replayed from the log at start (the playback listener of
    /// `ZKDatabase.loadDataBase`), sharing the bytes the reader read.
    pub fn add_replayed(&mut self, entry: &LogEntry) {
        self.add(entry.header.zxid, entry.bytes.clone());
    }

    /// `getminCommittedLog`: the oldest zxid held (0 before anything was added).
    pub fn min_committed(&self) -> i64 {
        self.min
    }

    /// `getmaxCommittedLog`: the newest zxid held (0 before anything was added).
    pub fn max_committed(&self) -> i64 {
        self.max
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The proposals, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &CommittedProposal> {
        self.entries.iter()
    }

    /// The proposals with zxid > `zxid`, oldest first (what a DIFF from the
    /// window sends after the learner's last zxid).
    pub fn after(&self, zxid: i64) -> impl Iterator<Item = &CommittedProposal> {
        let start = self.entries.partition_point(|p| p.zxid <= zxid);
        self.entries.range(start..)
    }

    /// `ZKDatabase.clear`: empty, bounds back to 0 (before a TRUNC or SNAP
    /// reload).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.min = 0;
        self.max = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(zxid: i64) -> Bytes {
        Bytes::from(zxid.to_be_bytes().to_vec())
    }

    #[test]
    fn bounds_follow_add_committed_proposal() {
        let mut w = CommittedLog::new(3);
        assert_eq!((w.min_committed(), w.max_committed(), w.len()), (0, 0, 0));
        w.add(10, bytes(10));
        assert_eq!((w.min_committed(), w.max_committed()), (10, 10));
        for z in 11..=13 {
            w.add(z, bytes(z));
        }
        // Java's check comes before the add: count + 1 entries are held.
        assert_eq!(w.len(), 4);
        assert_eq!((w.min_committed(), w.max_committed()), (10, 13));
        w.add(14, bytes(14));
        assert_eq!(w.len(), 4);
        assert_eq!((w.min_committed(), w.max_committed()), (11, 14));
        let zs: Vec<i64> = w.iter().map(|p| p.zxid).collect();
        assert_eq!(zs, [11, 12, 13, 14]);
        assert_eq!(w.iter().next().map(|p| p.bytes.clone()), Some(bytes(11)));
    }

    #[test]
    fn after_selects_what_a_diff_sends() {
        let mut w = CommittedLog::new(500);
        for z in [5, 6, 7, 9] {
            w.add(z, bytes(z));
        }
        let after = |z: i64| w.after(z).map(|p| p.zxid).collect::<Vec<_>>();
        assert_eq!(after(0), [5, 6, 7, 9]);
        assert_eq!(after(6), [7, 9]);
        assert_eq!(after(8), [9]);
        assert_eq!(after(9), Vec::<i64>::new());
    }

    #[test]
    fn clear_resets_the_bounds() {
        let mut w = CommittedLog::new(500);
        w.add(3, bytes(3));
        w.clear();
        assert!(w.is_empty());
        assert_eq!((w.min_committed(), w.max_committed()), (0, 0));
        w.add(8, bytes(8));
        assert_eq!((w.min_committed(), w.max_committed()), (8, 8));
    }

    #[test]
    fn the_window_shares_the_bytes_it_is_given() {
        let shared = bytes(42);
        let mut w = CommittedLog::new(500);
        w.add(42, shared.clone());
        let held = &w.iter().next().map(|p| p.bytes.clone()).unwrap_or_default();
        assert_eq!(held.as_ptr(), shared.as_ptr(), "one allocation, not a copy");
    }
}
