//! Outstanding changes: what prep must see of txns not yet applied.
//!
//! Prep runs ahead of final — a write is prepared, then waits for its fsync
//! while later requests are prepared. Those later requests must be validated
//! against the tree *as it will be*, so each prepared txn leaves a
//! [`ChangeRecord`] per path it touches (ZooKeeper's `outstandingChanges`).
//! Final drops the records once the txn that made them is applied.
//!
//! Each record also carries the node's digest as of that change, and the
//! queue the tree digest after it: ZooKeeper's `PrecalculatedDigest`. That is
//! how prep knows the digest the tree will have once a txn is applied, which
//! the log writes after the txn (`TxnDigest`) and final checks on apply.

use std::collections::VecDeque;

// foldhash (hashbrown's default): much cheaper than SipHash on path keys,
// and still seeded per process against crafted collisions.
use hashbrown::HashMap;

use jute::data::ACL;

use crate::tree::{DigestPrefix, StatPersisted};

/// A node's digest as of a change record, and what is needed to recompute
/// it when only the stat changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeDigest {
    pub prefix: DigestPrefix,
    /// `DigestCalculator.calculateDigest` of the node; 0 once deleted.
    pub value: i64,
}

/// The state of one path as of a prepared but unapplied txn.
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub zxid: i64,
    pub path: String,
    /// `None` once the txn deletes the node.
    pub stat: Option<StatPersisted>,
    pub child_count: i32,
    pub acl: Vec<ACL>,
    /// Set on every record prep adds while digests are enabled; `None` on a
    /// record read from the tree (its digest is computed when needed).
    pub digest: Option<NodeDigest>,
}

/// One queued record: its txn's zxid, its path, and the tree digest once
/// everything queued up to and including it is applied.
#[derive(Debug)]
struct Queued {
    zxid: i64,
    path: String,
    tree_digest: i64,
}

/// Bound: one record per txn prepared and not yet applied, so it is bounded
/// by the txns in flight between prep and apply, which
/// `globalOutstandingLimit` and the outbox bound hold back; a record is
/// dropped once its txn is applied (`outstanding_changes_removed`).
#[derive(Debug, Default)]
pub struct OutstandingChanges {
    /// Every record in prepare order; several may name one path.
    queue: VecDeque<Queued>,
    /// The newest record per path.
    by_path: HashMap<String, ChangeRecord>,
    /// Records queued and removed since the last `srst`
    /// (`outstanding_changes_queued` / `_removed` in `mntr`).
    pub queued_count: u64,
    pub removed_count: u64,
}

/// Records saved before a multi so a failed multi can be undone.
pub type SavedRecords = HashMap<String, ChangeRecord>;

impl OutstandingChanges {
    pub fn get(&self, path: &str) -> Option<&ChangeRecord> {
        self.by_path.get(path)
    }

    /// Queues `rec`, after which the tree's digest will be `tree_digest`.
    pub fn add(&mut self, rec: ChangeRecord, tree_digest: i64) {
        self.queue.push_back(Queued {
            zxid: rec.zxid,
            path: rec.path.clone(),
            tree_digest,
        });
        self.queued_count += 1;
        self.by_path.insert(rec.path.clone(), rec);
    }

    /// The tree digest once every queued record is applied; `None` when
    /// nothing is outstanding (the tree's own digest is then current).
    pub fn pending_tree_digest(&self) -> Option<i64> {
        self.queue.back().map(|q| q.tree_digest)
    }

    /// Forgets every record made by txns up to `zxid`, now applied.
    pub fn applied_through(&mut self, zxid: i64) {
        while self.queue.front().is_some_and(|q| q.zxid <= zxid) {
            if let Some(q) = self.queue.pop_front() {
                self.removed_count += 1;
                if self.by_path.get(&q.path).is_some_and(|r| r.zxid == q.zxid) {
                    self.by_path.remove(&q.path);
                }
            }
        }
    }

    /// Copies the current records of `paths` (and their parents) so that
    /// [`Self::rollback`] can restore them — ZooKeeper's `getPendingChanges`.
    pub fn save<'a>(&self, paths: impl Iterator<Item = &'a str>) -> SavedRecords {
        let mut saved = SavedRecords::new();
        for path in paths {
            if let Some(r) = self.by_path.get(path) {
                saved.insert(path.to_string(), r.clone());
            }
            if let Some(slash) = path.rfind('/') {
                if !path.contains('\0') {
                    let parent = &path[..slash];
                    if let Some(r) = self.by_path.get(parent) {
                        saved.insert(parent.to_string(), r.clone());
                    }
                }
            }
        }
        saved
    }

    /// Undoes the records of a failed multi at `zxid`, restoring earlier
    /// records that are still outstanding.
    pub fn rollback(&mut self, zxid: i64, saved: SavedRecords) {
        while self.queue.back().is_some_and(|q| q.zxid == zxid) {
            if let Some(q) = self.queue.pop_back() {
                self.by_path.remove(&q.path);
            }
        }
        let Some(first) = self.queue.front().map(|q| q.zxid) else {
            return;
        };
        for (path, rec) in saved {
            if rec.zxid >= first {
                self.by_path.insert(path, rec);
            }
        }
    }

    /// Records in prepare order (closeSession scans them for ephemerals).
    pub fn records(&self) -> impl Iterator<Item = &ChangeRecord> {
        // The queue may name a path whose newest record is a later one; the
        // per-path map is what prep reasons with, so yield each path once in
        // first-seen order.
        let mut seen = std::collections::HashSet::new();
        self.queue
            .iter()
            .filter(move |q| seen.insert(q.path.as_str()))
            .filter_map(|q| self.by_path.get(&q.path))
    }
}
