//! Server-side watch bookkeeping, reproducing ZooKeeper's `DataTree` +
//! `WatchManager` pair.
//!
//! The [`WatchManager`] is owned by one task and takes no locks. Watchers are
//! opaque [`WatcherId`]s; the caller maps them to connections (and to session
//! ids for the reports).
//!
//! Like ZooKeeper it keeps two tables: *data* watches (getData, exists, and
//! addWatch) and *child* watches (getChildren, and addWatch). Which events
//! reach which table is fixed by [`WatchManager::trigger`]; the caller calls
//! it exactly where `DataTree` calls `triggerWatch`:
//!
//! | tree operation | calls |
//! |---|---|
//! | create `p` | `trigger(p, NodeCreated)`, then `trigger(parent(p), NodeChildrenChanged)` |
//! | delete `p` | `trigger(p, NodeDeleted)`, then `trigger(parent(p), NodeChildrenChanged)` |
//! | setData `p` | `trigger(p, NodeDataChanged)` |
//!
//! Delivery is the caller's job, and ZooKeeper filters it: each notification
//! is sent only if the session passes a READ check against the ACL of the node
//! the event names (for NodeChildrenChanged the parent, for NodeDeleted the
//! deleted node's ACL as it was). A filtered one-shot watch is still consumed.
//! Events produced by [`WatchManager::set_watches`] are never ACL-filtered
//! (ZooKeeper calls `process(event)` with a null ACL there). In the reply
//! header of a notification, 3.8 puts zxid -1; 3.9 puts the zxid of the
//! transaction that fired it (and -1 for setWatches events).
//!
//! Registration preconditions are the caller's too, as in `DataTree`:
//! getData and getChildren register only when the node exists, exists always
//! registers (before answering NoNode), addWatch registers whether or not the
//! node exists.
//!
//! ZooKeeper 3.9 changed several rules (ZOOKEEPER-4466: several modes on one
//! path no longer overwrite each other; recursive watches only in the data
//! table; new removeWatches types; checkWatches fixed). [`WatchSemantics`]
//! selects which release to mimic; the default is 3.8.

mod report;
mod table;
#[cfg(test)]
mod tests;

pub use report::{WatchesByPath, WatchesByWatcher, WatchesSummary};

use table::{Modes, Table};

/// Opaque identity of a watcher (one client connection).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WatcherId(pub u64);

/// Which ZooKeeper release's watch rules to reproduce.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum WatchSemantics {
    /// ZooKeeper 3.8: one mode per (path, watcher, table); a later
    /// registration replaces it (so a getData watch turns a persistent watch
    /// on the same path into a one-shot one in the data table).
    #[default]
    Zk38,
    /// ZooKeeper 3.9: modes accumulate per (path, watcher, table).
    Zk39,
}

/// Watch event types the server produces (`Watcher.Event.EventType`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum EventType {
    NodeCreated = 1,
    NodeDeleted = 2,
    NodeDataChanged = 3,
    NodeChildrenChanged = 4,
}

impl EventType {
    /// Wire value for `WatcherEvent.type`.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

impl From<EventType> for jute::consts::EventType {
    fn from(e: EventType) -> Self {
        match e {
            EventType::NodeCreated => jute::consts::EventType::NodeCreated,
            EventType::NodeDeleted => jute::consts::EventType::NodeDeleted,
            EventType::NodeDataChanged => jute::consts::EventType::NodeDataChanged,
            EventType::NodeChildrenChanged => jute::consts::EventType::NodeChildrenChanged,
        }
    }
}

/// `addWatch` modes (`ZooDefs.AddWatchModes`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AddWatchMode {
    Persistent = 0,
    PersistentRecursive = 1,
}

impl AddWatchMode {
    /// `None` for any other value: ZooKeeper throws IllegalArgumentException
    /// from `WatcherMode.fromZooDef`, which the server answers with
    /// MARSHALLINGERROR, registering nothing.
    pub fn from_i32(mode: i32) -> Option<Self> {
        match mode {
            0 => Some(AddWatchMode::Persistent),
            1 => Some(AddWatchMode::PersistentRecursive),
            _ => None,
        }
    }

    /// From the decoded request constant.
    pub fn from_jute(mode: jute::consts::AddWatchMode) -> Self {
        match mode {
            jute::consts::AddWatchMode::Persistent => AddWatchMode::Persistent,
            jute::consts::AddWatchMode::PersistentRecursive => AddWatchMode::PersistentRecursive,
        }
    }

    fn modes(self) -> Modes {
        match self {
            AddWatchMode::Persistent => Modes::PERSISTENT,
            AddWatchMode::PersistentRecursive => Modes::RECURSIVE,
        }
    }
}

/// The `type` of checkWatches / removeWatches (`Watcher.WatcherType`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum WatcherType {
    Children = 1,
    Data = 2,
    Any = 3,
    /// 3.9 only.
    Persistent = 4,
    /// 3.9 only.
    PersistentRecursive = 5,
}

impl WatcherType {
    /// `None` where ZooKeeper's `WatcherType.fromInt` throws; the server
    /// answers that with MARSHALLINGERROR. 3.8 knows only 1..=3.
    pub fn from_i32(value: i32, sem: WatchSemantics) -> Option<Self> {
        match (value, sem) {
            (1, _) => Some(WatcherType::Children),
            (2, _) => Some(WatcherType::Data),
            (3, _) => Some(WatcherType::Any),
            (4, WatchSemantics::Zk39) => Some(WatcherType::Persistent),
            (5, WatchSemantics::Zk39) => Some(WatcherType::PersistentRecursive),
            _ => None,
        }
    }

    /// Name used in the NoWatcher message: `"{path} (type: {name})"`.
    pub fn name(self) -> &'static str {
        match self {
            WatcherType::Children => "Children",
            WatcherType::Data => "Data",
            WatcherType::Any => "Any",
            WatcherType::Persistent => "Persistent",
            WatcherType::PersistentRecursive => "PersistentRecursive",
        }
    }
}

/// The zxids of a node that setWatches compares against.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct NodeZxids {
    pub czxid: i64,
    pub mzxid: i64,
    pub pzxid: i64,
}

/// Read-only view of the tree for [`WatchManager::set_watches`], so this
/// module does not depend on the tree's types.
pub trait WatchTreeView {
    /// `None` when no node exists at `path`.
    fn zxids(&self, path: &str) -> Option<NodeZxids>;
}

impl<F> WatchTreeView for F
where
    F: Fn(&str) -> Option<NodeZxids>,
{
    fn zxids(&self, path: &str) -> Option<NodeZxids> {
        self(path)
    }
}

/// The lists of a SetWatches / SetWatches2 request (SetWatches has no
/// persistent lists: pass empty slices).
#[derive(Copy, Clone, Debug, Default)]
pub struct SetWatchesLists<'a> {
    pub data: &'a [String],
    pub exist: &'a [String],
    pub child: &'a [String],
    pub persistent: &'a [String],
    pub persistent_recursive: &'a [String],
}

/// All watches of the server: ZooKeeper's `dataWatches` and `childWatches`.
#[derive(Debug, Default)]
pub struct WatchManager {
    sem: WatchSemantics,
    data: Table,
    child: Table,
}

impl WatchManager {
    pub fn new(sem: WatchSemantics) -> Self {
        WatchManager {
            sem,
            data: Table::default(),
            child: Table::default(),
        }
    }

    pub fn semantics(&self) -> WatchSemantics {
        self.sem
    }

    /// One-shot data watch, registered by getData (node exists) and by exists
    /// (always). Returns ZooKeeper's `addWatch` result, which no caller uses.
    pub fn add_data_watch(&mut self, path: &str, watcher: WatcherId) -> bool {
        self.data.add(self.sem, path, watcher, Modes::STANDARD)
    }

    /// One-shot child watch, registered by getChildren / getChildren2.
    pub fn add_child_watch(&mut self, path: &str, watcher: WatcherId) -> bool {
        self.child.add(self.sem, path, watcher, Modes::STANDARD)
    }

    /// addWatch: a persistent watch goes into both tables; a recursive one
    /// into both under 3.8 but only the data table under 3.9.
    pub fn add_watch(&mut self, path: &str, watcher: WatcherId, mode: AddWatchMode) {
        let modes = mode.modes();
        self.data.add(self.sem, path, watcher, modes);
        if self.sem == WatchSemantics::Zk38 || mode == AddWatchMode::Persistent {
            self.child.add(self.sem, path, watcher, modes);
        }
    }

    /// Fires the watches an event on `path` reaches, consuming one-shot ones,
    /// and returns each receiving watcher once, sorted by id. The event's path
    /// is `path` for every watcher, including recursive watches set on an
    /// ancestor.
    ///
    /// - NodeCreated, NodeDataChanged: the data table.
    /// - NodeChildrenChanged: the child table.
    /// - NodeDeleted: the data table, then the child table with the data
    ///   table's receivers suppressed (one event per watcher, but their
    ///   one-shot child watches are consumed too).
    ///
    /// With no recursive watch in a table, a table costs one hash lookup.
    pub fn trigger(&mut self, path: &str, event: EventType) -> Vec<(WatcherId, EventType)> {
        let mut fired = Vec::new();
        match event {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                self.data.trigger(self.sem, path, event, &mut fired);
                sort_dedup(&mut fired);
            }
            EventType::NodeChildrenChanged => {
                self.child.trigger(self.sem, path, event, &mut fired);
                sort_dedup(&mut fired);
            }
            EventType::NodeDeleted => {
                self.data.trigger(self.sem, path, event, &mut fired);
                sort_dedup(&mut fired);
                let mut from_child = Vec::new();
                self.child.trigger(self.sem, path, event, &mut from_child);
                if !from_child.is_empty() {
                    from_child.retain(|w| fired.binary_search(w).is_err());
                    fired.extend(from_child);
                    sort_dedup(&mut fired);
                }
            }
        }
        fired.into_iter().map(|w| (w, event)).collect()
    }

    /// Drops every watch of a watcher (connection closed).
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        self.data.remove_watcher(watcher);
        self.child.remove_watcher(watcher);
    }

    /// removeWatches. `false` means the server answers NOWATCHER (-121) with
    /// message `"{path} (type: {type.name()})"`.
    ///
    /// 3.8: Children / Data drop that table's entry whatever its mode (so
    /// Data removes the data half of a persistent watch and leaves the child
    /// half), Any drops both; Persistent / PersistentRecursive do not exist
    /// (see [`WatcherType::from_i32`]) and remove nothing here.
    ///
    /// 3.9: Children / Data drop only the one-shot mode of that table;
    /// Persistent drops the persistent mode in both tables;
    /// PersistentRecursive the recursive mode; Any everything in both.
    pub fn remove_watch(&mut self, path: &str, kind: WatcherType, watcher: WatcherId) -> bool {
        let sem = self.sem;
        match (sem, kind) {
            (WatchSemantics::Zk38, WatcherType::Children) => {
                self.child.remove(sem, path, watcher, None)
            }
            (WatchSemantics::Zk38, WatcherType::Data) => self.data.remove(sem, path, watcher, None),
            (_, WatcherType::Any) => {
                let c = self.child.remove(sem, path, watcher, None);
                let d = self.data.remove(sem, path, watcher, None);
                c || d
            }
            (WatchSemantics::Zk38, _) => false,
            (WatchSemantics::Zk39, WatcherType::Children) => {
                self.child.remove(sem, path, watcher, Some(Modes::STANDARD))
            }
            (WatchSemantics::Zk39, WatcherType::Data) => {
                self.data.remove(sem, path, watcher, Some(Modes::STANDARD))
            }
            (WatchSemantics::Zk39, WatcherType::Persistent) => {
                let c = self
                    .child
                    .remove(sem, path, watcher, Some(Modes::PERSISTENT));
                let d = self
                    .data
                    .remove(sem, path, watcher, Some(Modes::PERSISTENT));
                c || d
            }
            (WatchSemantics::Zk39, WatcherType::PersistentRecursive) => {
                self.data.remove(sem, path, watcher, Some(Modes::RECURSIVE))
            }
        }
    }

    /// checkWatches. `false` means NOWATCHER, as for
    /// [`remove_watch`](Self::remove_watch).
    ///
    /// 3.8 answers `true` when *any* watcher has a watch on `path` in the
    /// table(s) asked about — a ZooKeeper 3.8 quirk reproduced on purpose.
    /// 3.9 looks at the caller's own watches: Children / Data only count
    /// one-shot ones, Persistent and PersistentRecursive look at the data
    /// table, Any at any mode in either table.
    pub fn contains_watch(&self, path: &str, kind: WatcherType, watcher: WatcherId) -> bool {
        let sem = self.sem;
        match (sem, kind) {
            (WatchSemantics::Zk38, WatcherType::Children) => {
                self.child.contains(sem, path, watcher, None)
            }
            (WatchSemantics::Zk38, WatcherType::Data) => {
                self.data.contains(sem, path, watcher, None)
            }
            (_, WatcherType::Any) => {
                self.child.contains(sem, path, watcher, None)
                    || self.data.contains(sem, path, watcher, None)
            }
            (WatchSemantics::Zk38, _) => false,
            (WatchSemantics::Zk39, WatcherType::Children) => {
                self.child
                    .contains(sem, path, watcher, Some(Modes::STANDARD))
            }
            (WatchSemantics::Zk39, WatcherType::Data) => {
                self.data
                    .contains(sem, path, watcher, Some(Modes::STANDARD))
            }
            (WatchSemantics::Zk39, WatcherType::Persistent) => {
                self.data
                    .contains(sem, path, watcher, Some(Modes::PERSISTENT))
            }
            (WatchSemantics::Zk39, WatcherType::PersistentRecursive) => {
                self.data
                    .contains(sem, path, watcher, Some(Modes::RECURSIVE))
            }
        }
    }

    /// SetWatches / SetWatches2 after a reconnect, as `DataTree.setWatches`:
    /// returns the events to send to `watcher` right away (in request order:
    /// data, exist, child lists) and registers the watches that did not fire.
    ///
    /// - data watch: node gone → NodeDeleted; `mzxid > relative_zxid` →
    ///   NodeDataChanged; otherwise re-registered.
    /// - exist watch: node present → NodeCreated; otherwise re-registered.
    /// - child watch: node gone → NodeDeleted; `pzxid > relative_zxid` →
    ///   NodeChildrenChanged; otherwise re-registered.
    /// - persistent and persistent-recursive watches are re-registered
    ///   unconditionally and produce no event (changes made while the client
    ///   was away are not reported to them).
    pub fn set_watches(
        &mut self,
        relative_zxid: i64,
        lists: &SetWatchesLists<'_>,
        watcher: WatcherId,
        tree: &impl WatchTreeView,
    ) -> Vec<(String, EventType)> {
        let sem = self.sem;
        let mut events = Vec::new();
        for path in lists.data {
            match tree.zxids(path) {
                None => events.push((path.clone(), EventType::NodeDeleted)),
                Some(z) if z.mzxid > relative_zxid => {
                    events.push((path.clone(), EventType::NodeDataChanged))
                }
                Some(_) => {
                    self.data.add(sem, path, watcher, Modes::STANDARD);
                }
            }
        }
        for path in lists.exist {
            match tree.zxids(path) {
                Some(_) => events.push((path.clone(), EventType::NodeCreated)),
                None => {
                    self.data.add(sem, path, watcher, Modes::STANDARD);
                }
            }
        }
        for path in lists.child {
            match tree.zxids(path) {
                None => events.push((path.clone(), EventType::NodeDeleted)),
                Some(z) if z.pzxid > relative_zxid => {
                    events.push((path.clone(), EventType::NodeChildrenChanged))
                }
                Some(_) => {
                    self.child.add(sem, path, watcher, Modes::STANDARD);
                }
            }
        }
        for path in lists.persistent {
            self.add_watch(path, watcher, AddWatchMode::Persistent);
        }
        for path in lists.persistent_recursive {
            self.add_watch(path, watcher, AddWatchMode::PersistentRecursive);
        }
        events
    }

    /// mntr's `zk_watch_count`: entries of both tables (`DataTree.getWatchCount`).
    pub fn watch_count(&self) -> usize {
        self.data.entries() + self.child.entries()
    }

    /// Number of recursive entries (data table, child table); a trigger walks
    /// ancestors in a table only while its count is non-zero.
    pub fn recursive_watch_counts(&self) -> (usize, usize) {
        (self.data.recursive_count(), self.child.recursive_count())
    }
}

fn sort_dedup(v: &mut Vec<WatcherId>) {
    v.sort_unstable();
    v.dedup();
}

/// Parent path as `DataTree` computes it for the NodeChildrenChanged
/// trigger: "/" for top-level nodes (and for "/" itself).
pub fn parent_path(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}
