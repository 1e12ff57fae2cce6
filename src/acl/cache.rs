//! `ReferenceCountedACLCache`: every distinct ACL list is stored once and
//! nodes refer to it by a `long`, which is also what snapshots persist (the
//! snapshot carries the id → list map, each node only its id).
//!
//! Ids are handed out sequentially (last id + 1), so the same sequence of
//! operations gives the same ids as ZooKeeper, and a snapshot written by one
//! can be read by the other. Id -1 is reserved: it stands for
//! OPEN_ACL_UNSAFE without an entry (ZooKeeper gives it to its built-in
//! nodes). A list that merely *equals* OPEN_ACL_UNSAFE gets a normal id, as
//! in ZooKeeper.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

use super::{open_acl_unsafe, ACL};

/// The id that means OPEN_ACL_UNSAFE and is never counted.
pub const OPEN_UNSAFE_ACL_ID: i64 = -1;

#[derive(Debug, Clone)]
struct Entry {
    acls: Vec<ACL>,
    refs: i64,
}

/// Reference-counted ACL list store. Not thread-safe by design: the tree
/// that owns it is owned by one task. Bound: one entry per distinct ACL
/// list some znode uses now; a list goes with the last node that refers to
/// it ([`AclCache::remove_usage`]), so distinct ACLs written and deleted
/// leave nothing behind.
#[derive(Debug, Clone)]
pub struct AclCache {
    /// `longKeyMap` and `referenceCounter`; ordered so snapshots list the
    /// entries deterministically.
    entries: BTreeMap<i64, Entry>,
    /// `aclKeyMap` (list → id), bucketed by a hash of the list because the
    /// ACL type has no `Hash`; lists in a bucket are compared in full.
    by_list: HashMap<u64, Vec<i64>>,
    /// `aclIndex`: the highest id handed out or loaded.
    last_id: i64,
    open_unsafe: Vec<ACL>,
}

impl Default for AclCache {
    fn default() -> Self {
        Self::new()
    }
}

fn list_hash(acls: &[ACL]) -> u64 {
    // SipHash with fixed keys: deterministic, and good enough for a table
    // whose keys come from a few distinct ACL lists.
    let mut h = DefaultHasher::new();
    acls.len().hash(&mut h);
    for acl in acls {
        acl.perms.hash(&mut h);
        acl.id.scheme.hash(&mut h);
        acl.id.id.hash(&mut h);
    }
    h.finish()
}

impl AclCache {
    pub fn new() -> Self {
        AclCache {
            entries: BTreeMap::new(),
            by_list: HashMap::new(),
            last_id: 0,
            open_unsafe: open_acl_unsafe(),
        }
    }

    /// The id `aclKeyMap` holds for this list, if any.
    fn lookup(&self, acls: &[ACL]) -> Option<i64> {
        let bucket = self.by_list.get(&list_hash(acls))?;
        bucket.iter().copied().find(|id| {
            self.entries
                .get(id)
                .is_some_and(|e| e.acls.as_slice() == acls)
        })
    }

    /// `aclKeyMap.remove(list)`: forgets whichever id the list maps to.
    fn forget_list(&mut self, acls: &[ACL]) {
        let Some(id) = self.lookup(acls) else {
            return;
        };
        let hash = list_hash(acls);
        if let Some(bucket) = self.by_list.get_mut(&hash) {
            bucket.retain(|&i| i != id);
            if bucket.is_empty() {
                self.by_list.remove(&hash);
            }
        }
    }

    /// `aclKeyMap.put(list, id)`.
    fn remember_list(&mut self, id: i64) {
        let Some(entry) = self.entries.get(&id) else {
            return;
        };
        let acls = entry.acls.clone();
        self.forget_list(&acls);
        self.by_list.entry(list_hash(&acls)).or_default().push(id);
    }

    /// `convertAcls`: the id for `acls` (new ones get last id + 1), with its
    /// reference count incremented.
    pub fn convert_acls(&mut self, acls: &[ACL]) -> i64 {
        let id = match self.lookup(acls) {
            Some(id) => id,
            None => {
                self.last_id += 1;
                let id = self.last_id;
                self.entries.insert(
                    id,
                    Entry {
                        acls: acls.to_vec(),
                        refs: 0,
                    },
                );
                self.remember_list(id);
                id
            }
        };
        self.add_usage(id);
        id
    }

    /// `convertLong`: the list behind an id. `None` for an unknown id, where
    /// ZooKeeper throws (a corrupt tree).
    pub fn convert_long(&self, id: i64) -> Option<&[ACL]> {
        if id == OPEN_UNSAFE_ACL_ID {
            return Some(&self.open_unsafe);
        }
        self.entries.get(&id).map(|e| e.acls.as_slice())
    }

    /// `addUsage`: one more node refers to `id`; ignored for -1 and unknown
    /// ids.
    pub fn add_usage(&mut self, id: i64) {
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.refs += 1;
        }
    }

    /// `removeUsage`: one node fewer; the entry goes when none is left.
    /// Ignored for -1 and unknown ids.
    pub fn remove_usage(&mut self, id: i64) {
        let Some(entry) = self.entries.get_mut(&id) else {
            return;
        };
        entry.refs -= 1;
        if entry.refs <= 0 {
            self.drop_entry(id);
        }
    }

    fn drop_entry(&mut self, id: i64) {
        let Some(acls) = self.entries.get(&id).map(|e| e.acls.clone()) else {
            return;
        };
        // ZooKeeper drops the list's key even when it maps to another id
        // holding an equal list (possible only after loading a snapshot with
        // duplicates); a later convert then makes a new id.
        self.forget_list(&acls);
        self.entries.remove(&id);
    }

    /// `purgeUnused`: drops entries no node refers to (after loading a
    /// snapshot, where every entry starts at zero).
    pub fn purge_unused(&mut self) {
        let unused: Vec<i64> = self
            .entries
            .iter()
            .filter(|(_, e)| e.refs <= 0)
            .map(|(id, _)| *id)
            .collect();
        for id in unused {
            self.drop_entry(id);
        }
    }

    /// `size()`: number of distinct lists that can be looked up.
    pub fn len(&self) -> usize {
        self.by_list.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reference count of an id (`None` if unknown).
    pub fn refs(&self, id: i64) -> Option<i64> {
        self.entries.get(&id).map(|e| e.refs)
    }

    /// Entries for a snapshot, ascending by id.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &[ACL])> {
        self.entries.iter().map(|(id, e)| (*id, e.acls.as_slice()))
    }

    /// `deserialize`: replaces the content with a snapshot's map, all counts
    /// at zero (the tree loader then calls [`add_usage`](Self::add_usage)
    /// per node and [`purge_unused`](Self::purge_unused)). As in ZooKeeper
    /// the id counter is not reset, only raised to the highest loaded id.
    pub fn load(&mut self, map: impl IntoIterator<Item = (i64, Vec<ACL>)>) {
        self.entries.clear();
        self.by_list.clear();
        for (id, acls) in map {
            self.last_id = self.last_id.max(id);
            // A repeated id replaces the earlier list and its key.
            if let Some(old) = self.entries.get(&id) {
                let hash = list_hash(&old.acls);
                if let Some(bucket) = self.by_list.get_mut(&hash) {
                    bucket.retain(|&i| i != id);
                    if bucket.is_empty() {
                        self.by_list.remove(&hash);
                    }
                }
            }
            self.entries.insert(id, Entry { acls, refs: 0 });
            self.remember_list(id);
        }
    }
}
