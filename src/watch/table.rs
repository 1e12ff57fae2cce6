//! One watch table: the equivalent of one ZooKeeper `WatchManager` instance.
//!
//! ZooKeeper's `DataTree` owns two of these (data watches and child watches);
//! [`super::WatchManager`] does the same. Everything version-specific lives in
//! the `match` arms on [`WatchSemantics`], so the 3.8 and 3.9 rules can be read
//! side by side.

// foldhash (hashbrown's default): much cheaper than SipHash on path keys,
// and still seeded per process against crafted collisions.
use hashbrown::{HashMap, HashSet};
use std::sync::Arc;

use super::{EventType, WatchSemantics, WatcherId};

/// Bit set of watch modes attached to one (path, watcher) pair.
///
/// Under 3.8 semantics exactly one bit is ever set (a later registration
/// replaces the earlier mode, like `WatcherModeManager.setWatcherMode`); under
/// 3.9 semantics the bits accumulate like `WatchStats`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub(crate) struct Modes(pub(crate) u8);

impl Modes {
    pub(crate) const NONE: Modes = Modes(0);
    /// One-shot watch (getData / exists / getChildren).
    pub(crate) const STANDARD: Modes = Modes(1);
    /// addWatch mode 0.
    pub(crate) const PERSISTENT: Modes = Modes(2);
    /// addWatch mode 1.
    pub(crate) const RECURSIVE: Modes = Modes(4);
    pub(crate) const ALL: Modes = Modes(7);

    pub(crate) fn has(self, other: Modes) -> bool {
        self.0 & other.0 != 0
    }

    pub(crate) fn is_none(self) -> bool {
        self.0 == 0
    }

    fn with(self, other: Modes) -> Modes {
        Modes(self.0 | other.0)
    }

    fn without(self, other: Modes) -> Modes {
        Modes(self.0 & !other.0)
    }
}

/// Forward index (path → watchers with their modes) plus reverse index
/// (watcher → paths) so that a disconnect costs O(watches of that watcher).
///
/// Bound: none per connection, as in ZooKeeper's WatchManager (a client may
/// watch any number of paths, existing or not, one request each); what a
/// connection set is freed when it closes ([`Table::remove_watcher`], test
/// `watch::tests::remove_watcher_on_disconnect`), and a one-shot watch when
/// it fires, so the table holds only live connections' watches.
///
/// Paths are `Arc<str>` so both indexes share one allocation per path; `Arc`
/// rather than `Rc` keeps the manager `Send` for the task that owns it.
#[derive(Default, Debug)]
pub(crate) struct Table {
    by_path: HashMap<Arc<str>, HashMap<WatcherId, Modes>>,
    /// ZooKeeper keeps a watcher's entry here (possibly with an empty set)
    /// after its last one-shot watch fired; the entry only goes on disconnect
    /// (and, under 3.9, when `removeWatches` empties it). Reports show such
    /// watchers, so we keep them too.
    by_watcher: HashMap<WatcherId, HashSet<Arc<str>>>,
    /// Number of (path, watcher) pairs carrying the recursive mode; while it
    /// is zero a trigger never walks up the ancestors.
    recursive: usize,
    /// Number of (path, watcher) pairs, i.e. ZooKeeper's `WatchManager.size()`.
    entries: usize,
}

impl Table {
    /// `WatchManager.addWatch(path, watcher, mode)`; returns what ZooKeeper
    /// returns (3.8: the path was new for this watcher; 3.9: the mode set
    /// changed).
    pub(crate) fn add(
        &mut self,
        sem: WatchSemantics,
        path: &str,
        watcher: WatcherId,
        mode: Modes,
    ) -> bool {
        let key: Arc<str> = match self.by_path.get_key_value(path) {
            Some((k, _)) => Arc::clone(k),
            None => Arc::from(path),
        };
        let watchers = self.by_path.entry(Arc::clone(&key)).or_default();
        let old = watchers.get(&watcher).copied().unwrap_or(Modes::NONE);
        let new = match sem {
            WatchSemantics::Zk38 => mode,
            WatchSemantics::Zk39 => old.with(mode),
        };
        watchers.insert(watcher, new);
        if old.is_none() {
            self.entries += 1;
        }
        self.adjust_recursive(old, new);
        let newly_listed = self.by_watcher.entry(watcher).or_default().insert(key);
        match sem {
            WatchSemantics::Zk38 => newly_listed,
            WatchSemantics::Zk39 => new != old,
        }
    }

    fn adjust_recursive(&mut self, old: Modes, new: Modes) {
        adjust_recursive(&mut self.recursive, old, new);
    }

    /// `WatchManager.triggerWatch`: appends every watcher that fires to `out`
    /// (possibly with duplicates when ancestors are walked; the caller dedups,
    /// as ZooKeeper's per-call `HashSet` does) and consumes one-shot watches.
    pub(crate) fn trigger(
        &mut self,
        sem: WatchSemantics,
        path: &str,
        event: EventType,
        out: &mut Vec<WatcherId>,
    ) {
        let Table {
            by_path,
            by_watcher,
            recursive,
            entries,
        } = self;
        if let Some(watchers) = by_path.get_mut(path) {
            watchers.retain(|w, modes| {
                let keep = match sem {
                    WatchSemantics::Zk38 => {
                        if modes.has(Modes::RECURSIVE) {
                            // 3.8 never reports NodeChildrenChanged to a
                            // recursive watch, even on its own path.
                            if event != EventType::NodeChildrenChanged {
                                out.push(*w);
                            }
                            true
                        } else {
                            out.push(*w);
                            modes.has(Modes::PERSISTENT)
                        }
                    }
                    WatchSemantics::Zk39 => {
                        out.push(*w);
                        let left = modes.without(Modes::STANDARD);
                        *modes = left;
                        !left.is_none()
                    }
                };
                // Only one-shot-only entries are dropped here, so the
                // recursive counter never changes in a trigger.
                if !keep {
                    *entries -= 1;
                    if let Some(paths) = by_watcher.get_mut(w) {
                        paths.remove(path);
                    }
                }
                keep
            });
            if watchers.is_empty() {
                by_path.remove(path);
            }
        }
        if *recursive == 0 {
            return;
        }
        // Recursive watches exist somewhere: look at every ancestor too.
        for ancestor in Ancestors::of(path) {
            let Some(watchers) = by_path.get(ancestor) else {
                continue;
            };
            for (w, modes) in watchers {
                let fires = modes.has(Modes::RECURSIVE)
                    && (sem == WatchSemantics::Zk39 || event != EventType::NodeChildrenChanged);
                if fires {
                    out.push(*w);
                }
            }
        }
    }

    /// `WatchManager.removeWatcher(watcher)`: connection closed.
    pub(crate) fn remove_watcher(&mut self, watcher: WatcherId) {
        let Some(paths) = self.by_watcher.remove(&watcher) else {
            return;
        };
        for path in paths {
            let Some(watchers) = self.by_path.get_mut(&*path) else {
                continue;
            };
            if let Some(modes) = watchers.remove(&watcher) {
                self.entries -= 1;
                adjust_recursive(&mut self.recursive, modes, Modes::NONE);
            }
            if watchers.is_empty() {
                self.by_path.remove(&*path);
            }
        }
    }

    /// `WatchManager.removeWatcher(path, watcher[, mode])` for removeWatches.
    ///
    /// `mask` is the set of modes to drop (3.9's `WatcherMode` argument, or
    /// `None` for "all"); 3.8 ignores it and always drops the whole entry.
    pub(crate) fn remove(
        &mut self,
        sem: WatchSemantics,
        path: &str,
        watcher: WatcherId,
        mask: Option<Modes>,
    ) -> bool {
        match sem {
            WatchSemantics::Zk38 => {
                // 3.8 leaves the watcher's (possibly empty) path set behind.
                let listed = self
                    .by_watcher
                    .get_mut(&watcher)
                    .is_some_and(|paths| paths.remove(path));
                if !listed {
                    return false;
                }
                self.drop_from_path(path, watcher).is_some()
            }
            WatchSemantics::Zk39 => {
                let old = match (self.by_watcher.get(&watcher), self.by_path.get(path)) {
                    (Some(_), Some(watchers)) => {
                        watchers.get(&watcher).copied().unwrap_or(Modes::NONE)
                    }
                    _ => return false,
                };
                let new = old.without(mask.unwrap_or(Modes::ALL));
                if new == old {
                    return false;
                }
                if new.is_none() {
                    self.unwatch(path, watcher);
                } else {
                    if let Some(modes) = self
                        .by_path
                        .get_mut(path)
                        .and_then(|watchers| watchers.get_mut(&watcher))
                    {
                        *modes = new;
                    }
                    self.adjust_recursive(old, new);
                }
                true
            }
        }
    }

    /// 3.9's `unwatch`: drops the entry from both indexes, including the
    /// watcher's reverse entry once it is empty.
    fn unwatch(&mut self, path: &str, watcher: WatcherId) {
        if let Some(paths) = self.by_watcher.get_mut(&watcher) {
            paths.remove(path);
            if paths.is_empty() {
                self.by_watcher.remove(&watcher);
            }
        }
        self.drop_from_path(path, watcher);
    }

    /// Removes `watcher` from the forward index of `path`, keeping the
    /// counters right; returns the modes it had.
    fn drop_from_path(&mut self, path: &str, watcher: WatcherId) -> Option<Modes> {
        let watchers = self.by_path.get_mut(path)?;
        let modes = watchers.remove(&watcher)?;
        if watchers.is_empty() {
            self.by_path.remove(path);
        }
        self.entries -= 1;
        self.adjust_recursive(modes, Modes::NONE);
        Some(modes)
    }

    /// `WatchManager.containsWatcher`.
    ///
    /// 3.8 answers whether *any* watcher watches `path` in this table (its
    /// loop never looks the caller up in the path's watcher set); 3.9 checks
    /// the caller's own entry, restricted to `mask` when given.
    pub(crate) fn contains(
        &self,
        sem: WatchSemantics,
        path: &str,
        watcher: WatcherId,
        mask: Option<Modes>,
    ) -> bool {
        match sem {
            WatchSemantics::Zk38 => self.by_path.contains_key(path),
            WatchSemantics::Zk39 => self
                .by_path
                .get(path)
                .and_then(|watchers| watchers.get(&watcher))
                .is_some_and(|modes| match mask {
                    Some(m) => modes.has(m),
                    None => true,
                }),
        }
    }

    pub(crate) fn entries(&self) -> usize {
        self.entries
    }

    pub(crate) fn recursive_count(&self) -> usize {
        self.recursive
    }

    pub(crate) fn by_path(&self) -> &HashMap<Arc<str>, HashMap<WatcherId, Modes>> {
        &self.by_path
    }

    pub(crate) fn by_watcher(&self) -> &HashMap<WatcherId, HashSet<Arc<str>>> {
        &self.by_watcher
    }

    /// Modes of one entry, for tests.
    #[cfg(test)]
    pub(crate) fn modes(&self, path: &str, watcher: WatcherId) -> Modes {
        self.by_path
            .get(path)
            .and_then(|w| w.get(&watcher))
            .copied()
            .unwrap_or(Modes::NONE)
    }

    /// Checks that both indexes and both counters agree.
    #[cfg(test)]
    pub(crate) fn assert_consistent(&self) {
        let mut entries = 0;
        let mut recursive = 0;
        for (path, watchers) in &self.by_path {
            assert!(!watchers.is_empty(), "empty watcher set kept for {path}");
            for (w, modes) in watchers {
                assert!(!modes.is_none());
                entries += 1;
                if modes.has(Modes::RECURSIVE) {
                    recursive += 1;
                }
                assert!(
                    self.by_watcher.get(w).is_some_and(|p| p.contains(path)),
                    "reverse index misses {w:?} {path}"
                );
            }
        }
        let reverse: usize = self.by_watcher.values().map(HashSet::len).sum();
        assert_eq!(entries, reverse, "forward and reverse sizes differ");
        assert_eq!(entries, self.entries, "entry counter drifted");
        assert_eq!(recursive, self.recursive, "recursive counter drifted");
    }
}

/// Keeps the recursive-entry counter in step with a mode change.
fn adjust_recursive(count: &mut usize, old: Modes, new: Modes) {
    match (old.has(Modes::RECURSIVE), new.has(Modes::RECURSIVE)) {
        (false, true) => *count += 1,
        (true, false) => *count = count.saturating_sub(1),
        _ => {}
    }
}

/// Proper ancestors of a validated absolute path, nearest first, ending with
/// "/" (like `PathParentIterator` minus its first element). Borrowed slices,
/// so the walk allocates nothing.
pub(crate) struct Ancestors<'a> {
    rest: &'a str,
}

impl<'a> Ancestors<'a> {
    pub(crate) fn of(path: &'a str) -> Self {
        Ancestors { rest: path }
    }
}

impl<'a> Iterator for Ancestors<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() || self.rest == "/" {
            return None;
        }
        // A path without '/' is not valid; ZooKeeper validates first, we
        // just stop instead of panicking.
        let parent = match self.rest.rfind('/') {
            Some(0) => "/",
            Some(i) => &self.rest[..i],
            None => "",
        };
        self.rest = parent;
        if parent.is_empty() {
            None
        } else {
            Some(parent)
        }
    }
}
