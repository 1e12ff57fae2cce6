//! Watch reports for the `wchs`, `wchc` and `wchp` four-letter words and
//! their admin-server counterparts.
//!
//! ZooKeeper builds all three from the *data* watch table only (child-only
//! watches from getChildren never show up), while mntr's watch count adds
//! both tables; we do the same. ZooKeeper's ordering is hash order; ours is
//! sorted, which is a valid hash order and keeps tests and diffs stable.

use std::fmt::Write as _;
use std::sync::Arc;

use super::{WatchManager, WatcherId};

/// `wchs` / `watch_summary`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct WatchesSummary {
    /// Watchers with an entry in the data table's reverse index; like
    /// ZooKeeper this counts a watcher whose one-shot watches have all fired
    /// until it disconnects.
    pub num_connections: usize,
    /// Paths with at least one data watch.
    pub num_paths: usize,
    /// (path, watcher) pairs in the data table.
    pub total_watches: usize,
}

impl WatchesSummary {
    /// The `wchs` reply, byte for byte.
    pub fn format_4lw(&self) -> String {
        format!(
            "{} connections watching {} paths\nTotal watches:{}\n",
            self.num_connections, self.num_paths, self.total_watches
        )
    }
}

/// `wchc` / `watches`: watcher → watched paths, both sorted.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WatchesByWatcher(pub Vec<(WatcherId, Vec<String>)>);

impl WatchesByWatcher {
    /// The `wchc` reply; `session_of` maps a watcher to its session id.
    pub fn format_4lw(&self, session_of: impl Fn(WatcherId) -> i64) -> String {
        let mut out = String::new();
        for (watcher, paths) in &self.0 {
            // Long.toHexString prints the two's complement of negative ids.
            let _ = writeln!(out, "0x{:x}", session_of(*watcher) as u64);
            for path in paths {
                let _ = writeln!(out, "\t{path}");
            }
        }
        out.push('\n');
        out
    }
}

/// `wchp` / `watches_by_path`: path → watchers, both sorted.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WatchesByPath(pub Vec<(String, Vec<WatcherId>)>);

impl WatchesByPath {
    /// The `wchp` reply; `session_of` maps a watcher to its session id.
    pub fn format_4lw(&self, session_of: impl Fn(WatcherId) -> i64) -> String {
        let mut out = String::new();
        for (path, watchers) in &self.0 {
            let _ = writeln!(out, "{path}");
            for watcher in watchers {
                let _ = writeln!(out, "\t0x{:x}", session_of(*watcher) as u64);
            }
        }
        out.push('\n');
        out
    }
}

impl WatchManager {
    /// `wchs` data (data table only, see the module docs).
    pub fn summary(&self) -> WatchesSummary {
        let by_watcher = self.data.by_watcher();
        WatchesSummary {
            num_connections: by_watcher.len(),
            num_paths: self.data.by_path().len(),
            total_watches: by_watcher.values().map(|s| s.len()).sum(),
        }
    }

    /// `wchc` data (data table only).
    pub fn watches_by_watcher(&self) -> WatchesByWatcher {
        let mut rows: Vec<(WatcherId, Vec<String>)> = self
            .data
            .by_watcher()
            .iter()
            .map(|(w, paths)| {
                let mut paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
                paths.sort_unstable();
                (*w, paths)
            })
            .collect();
        rows.sort_unstable_by_key(|(w, _)| *w);
        WatchesByWatcher(rows)
    }

    /// `wchp` data (data table only).
    pub fn watches_by_path(&self) -> WatchesByPath {
        let mut rows: Vec<(String, Vec<WatcherId>)> = self
            .data
            .by_path()
            .iter()
            .map(|(path, watchers): (&Arc<str>, _)| {
                let mut ids: Vec<WatcherId> = watchers.keys().copied().collect();
                ids.sort_unstable();
                (path.to_string(), ids)
            })
            .collect();
        rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        WatchesByPath(rows)
    }
}
