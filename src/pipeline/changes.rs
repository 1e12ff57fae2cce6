//! Outstanding changes: what prep must see of txns not yet applied.
//!
//! Prep runs ahead of final — a write is prepared, then waits for its fsync
//! while later requests are prepared. Those later requests must be validated
//! against the tree *as it will be*, so each prepared txn leaves a
//! [`ChangeRecord`] per path it touches (ZooKeeper's `outstandingChanges`).
//! Final drops the records once the txn that made them is applied.

use std::collections::VecDeque;

// foldhash (hashbrown's default): much cheaper than SipHash on path keys,
// and still seeded per process against crafted collisions.
use hashbrown::HashMap;

use jute::data::ACL;

use crate::tree::StatPersisted;

/// The state of one path as of a prepared but unapplied txn.
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub zxid: i64,
    pub path: String,
    /// `None` once the txn deletes the node.
    pub stat: Option<StatPersisted>,
    pub child_count: i32,
    pub acl: Vec<ACL>,
}

#[derive(Debug, Default)]
pub struct OutstandingChanges {
    /// Every record in prepare order; several may name one path.
    queue: VecDeque<(i64, String)>,
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

    pub fn add(&mut self, rec: ChangeRecord) {
        self.queue.push_back((rec.zxid, rec.path.clone()));
        self.queued_count += 1;
        self.by_path.insert(rec.path.clone(), rec);
    }

    /// Forgets every record made by txns up to `zxid`, now applied.
    pub fn applied_through(&mut self, zxid: i64) {
        while let Some((z, _)) = self.queue.front() {
            if *z > zxid {
                break;
            }
            if let Some((z, path)) = self.queue.pop_front() {
                self.removed_count += 1;
                if self.by_path.get(&path).is_some_and(|r| r.zxid == z) {
                    self.by_path.remove(&path);
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
        while let Some((z, _)) = self.queue.back() {
            if *z != zxid {
                break;
            }
            if let Some((_, path)) = self.queue.pop_back() {
                self.by_path.remove(&path);
            }
        }
        let Some(&(first, _)) = self.queue.front() else {
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
            .filter(move |(_, p)| seen.insert(p.as_str()))
            .filter_map(|(_, p)| self.by_path.get(p))
    }
}
