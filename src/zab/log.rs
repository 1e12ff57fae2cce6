//! The machine's own view of the txn log and the database position.
//!
//! Design choice (the storage contract): the machine does not read the host's
//! log. It keeps, in memory, the txns after a base zxid (the snapshot, or the
//! oldest entry trimmed away) and knows which of them the database has
//! applied. The host hands the durable tail over at restart
//! ([`super::Restored`]) and afterwards only executes the machine's commands,
//! so the view cannot drift. Committed entries older than
//! `commit_log_count` are trimmed: that is ZooKeeper's committedLog window.
//! A peer older than it is synced from the host's on-disk log, which the
//! host reads when asked ([`super::Action::ReadSyncLog`]), or by SNAP.

use std::collections::VecDeque;

use super::types::{Txn, Zxid};

#[derive(Clone, Debug, Default)]
pub struct Log {
    /// Everything up to and including `base` is in the database but no
    /// longer in `entries`.
    base: Zxid,
    entries: VecDeque<Txn>,
    /// The database's lastProcessedZxid: entries up to here are applied.
    applied: Zxid,
}

impl Log {
    /// A log restored from disk: `entries` (ascending, all > `base`) are
    /// replayed into the database at load, as ZooKeeper's `loadDataBase` does.
    pub fn restored(base: Zxid, entries: Vec<Txn>) -> Log {
        let applied = entries.last().map_or(base, |t| t.zxid);
        Log {
            base,
            entries: entries.into(),
            applied,
        }
    }

    pub fn last_zxid(&self) -> Zxid {
        self.entries.back().map_or(self.base, |t| t.zxid)
    }
    pub fn applied(&self) -> Zxid {
        self.applied
    }
    pub fn append(&mut self, txn: Txn) {
        self.entries.push_back(txn);
    }
    pub fn get(&self, zxid: Zxid) -> Option<&Txn> {
        let i = self.entries.binary_search_by_key(&zxid, |t| t.zxid).ok()?;
        self.entries.get(i)
    }
    /// The first logged entry the database has not applied yet.
    pub fn next_unapplied(&self) -> Option<&Txn> {
        self.entries.iter().find(|t| t.zxid > self.applied)
    }
    /// Marks `zxid` applied; it must be the next unapplied entry.
    pub fn mark_applied(&mut self, zxid: Zxid) -> bool {
        match self.next_unapplied() {
            Some(t) if t.zxid == zxid => {
                self.applied = zxid;
                true
            }
            _ => false,
        }
    }
    /// A txn applied in memory without being logged (SNAP/TRUNC sync
    /// commits before NEWLEADER; the NEWLEADER snapshot makes them durable).
    pub fn apply_unlogged(&mut self, txn: Txn) {
        self.applied = txn.zxid;
        self.entries.push_back(txn);
    }
    /// Entries logged but not applied: ZooKeeper's `fastForwardDataBase`
    /// applies them when a role ends, so the next vote carries them.
    pub fn fast_forward(&mut self) -> Vec<Txn> {
        let out: Vec<Txn> = self
            .entries
            .iter()
            .filter(|t| t.zxid > self.applied)
            .cloned()
            .collect();
        self.applied = self.last_zxid();
        out
    }
    /// Drops entries after `zxid`. Fails when `zxid` is older than the
    /// retained history (the learner cannot honour that TRUNC).
    pub fn truncate(&mut self, zxid: Zxid) -> bool {
        if zxid < self.base {
            return false;
        }
        while self.entries.back().is_some_and(|t| t.zxid > zxid) {
            self.entries.pop_back();
        }
        self.applied = self.applied.min(zxid);
        true
    }
    /// The database was replaced by a snapshot at `zxid`.
    pub fn reset_to(&mut self, zxid: Zxid) {
        self.base = zxid;
        self.entries.clear();
        self.applied = zxid;
    }
    /// The committed window: applied entries, oldest first.
    pub fn committed_window(&self) -> impl Iterator<Item = &Txn> {
        self.entries.iter().take_while(|t| t.zxid <= self.applied)
    }
    /// Entries after `zxid` that are not applied (outstanding proposals).
    pub fn unapplied_after(&self, zxid: Zxid) -> impl Iterator<Item = &Txn> {
        let applied = self.applied;
        self.entries
            .iter()
            .filter(move |t| t.zxid > zxid && t.zxid > applied)
    }
    /// Keeps at most `keep` applied entries (the committedLog bound).
    pub fn trim(&mut self, keep: usize) {
        let applied_count = self
            .entries
            .iter()
            .take_while(|t| t.zxid <= self.applied)
            .count();
        for _ in keep..applied_count {
            if let Some(t) = self.entries.pop_front() {
                self.base = t.zxid;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn txn(e: i64, c: u32) -> Txn {
        Txn {
            zxid: Zxid::new(e, c),
            data: Bytes::new(),
        }
    }

    #[test]
    fn truncate_rolls_back_applied_and_refuses_below_base() {
        let mut log = Log::restored(Zxid::new(1, 2), vec![txn(1, 3), txn(1, 4), txn(2, 1)]);
        assert_eq!(log.applied(), Zxid::new(2, 1));
        assert!(log.truncate(Zxid::new(1, 3)));
        assert_eq!(log.last_zxid(), Zxid::new(1, 3));
        assert_eq!(log.applied(), Zxid::new(1, 3));
        assert!(!log.truncate(Zxid::new(1, 1)));
    }

    #[test]
    fn trim_keeps_window_and_unapplied() {
        let mut log = Log::restored(Zxid::ZERO, vec![txn(1, 1), txn(1, 2), txn(1, 3)]);
        log.append(txn(1, 4));
        log.trim(1);
        let window: Vec<Zxid> = log.committed_window().map(|t| t.zxid).collect();
        assert_eq!(window, vec![Zxid::new(1, 3)]);
        assert_eq!(log.last_zxid(), Zxid::new(1, 4));
        assert!(!log.truncate(Zxid::new(1, 1)));
    }
}
