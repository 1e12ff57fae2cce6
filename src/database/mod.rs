//! The replicated state as one value: ZooKeeper's `ZKDatabase`.
//!
//! A [`ZkDatabase`] owns what a snapshot plus the txn log define — the
//! [`DataTree`], the [`AclCache`], the session table of (id, timeout), the
//! last processed zxid, the digest bookkeeping — and the window of recently
//! committed proposals a leader syncs learners from ([`CommittedLog`]). It
//! is one value so a member can replace it wholesale: reload it from disk
//! ([`ZkDatabase::load`]), cut it back on a leader's TRUNC
//! ([`ZkDatabase::truncate`]), take it from a leader's SNAP stream
//! ([`ZkDatabase::load_snapshot_from`]), or [`ZkDatabase::clear`] it.
//! [`ZkDatabase::apply`] is the one path by which it changes, for live
//! requests, log replay and learner sync alike.
//!
//! What is a server's concern stays with the server: the session tracker's
//! expiry buckets, watches, outstanding changes and metrics hear of applied
//! changes through an [`ApplyObserver`].

mod apply;
mod load;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, VecDeque};
use std::io::BufRead;

pub use apply::{to_wire_stat, ApplyObserver, ApplyOutcome, NoObserver, TreeEvent};
pub use load::{LoadOptions, LoadReport};

use crate::acl::AclCache;
use crate::persist::snapshot::{self, SnapSyncLoaded};
use crate::persist::{CommittedLog, TxnLog};
use crate::tree::{AclRef, DataTree, TreeConfig};

/// `ZKDatabase`: the tree and everything that travels with it.
pub struct ZkDatabase {
    pub(crate) tree: DataTree,
    pub(crate) acls: AclCache,
    /// Session id → timeout (ms), as snapshots and createSession txns
    /// define them (`ZKDatabase.sessionsWithTimeouts`).
    sessions: HashMap<i64, i32>,
    pub(crate) last_processed_zxid: i64,
    /// Tree digests of every 128th zxid, the last 1024 (`hash`).
    pub(crate) digest_log: VecDeque<(i64, i64)>,
    /// Whether a digest mismatch was reported in full already (later ones
    /// are one line each, as in ZooKeeper).
    digest_mismatch_seen: bool,
    committed: CommittedLog,
    tree_config: TreeConfig,
    /// Where the last [`ZkDatabase::load`] read from: a truncate reloads
    /// from there.
    loaded_from: Option<LoadOptions>,
}

impl ZkDatabase {
    /// An empty database, as a fresh ZooKeeper has it: the root, the
    /// `/zookeeper` system nodes and `/zookeeper/config`, whose
    /// READ_ACL_UNSAFE is the first ACL converted. `commit_log_count` is
    /// ZooKeeper's `zookeeper.commitLogCount`.
    pub fn new(tree_config: TreeConfig, commit_log_count: usize) -> Self {
        let (tree, acls) = fresh_tree(tree_config);
        ZkDatabase {
            tree,
            acls,
            sessions: HashMap::new(),
            last_processed_zxid: 0,
            digest_log: VecDeque::new(),
            digest_mismatch_seen: false,
            committed: CommittedLog::new(commit_log_count),
            tree_config,
            loaded_from: None,
        }
    }

    /// `ZKDatabase.clear`: back to an empty database (before a TRUNC or SNAP
    /// reload). The committed window empties too; its size stays.
    pub fn clear(&mut self) {
        let (tree, acls) = fresh_tree(self.tree_config);
        self.tree = tree;
        self.acls = acls;
        self.sessions.clear();
        self.last_processed_zxid = 0;
        self.digest_log.clear();
        self.digest_mismatch_seen = false;
        self.committed.clear();
    }

    pub fn tree(&self) -> &DataTree {
        &self.tree
    }

    pub fn acls(&self) -> &AclCache {
        &self.acls
    }

    /// The zxid of the last applied txn (`getDataTreeLastProcessedZxid`).
    pub fn last_processed_zxid(&self) -> i64 {
        self.last_processed_zxid
    }

    /// The tree's digest now (`DataTree.getTreeDigest`).
    pub fn digest(&self) -> i64 {
        self.tree.digest()
    }

    /// The session table a snapshot carries, by id.
    pub fn sessions(&self) -> Vec<(i64, i32)> {
        let mut all: Vec<(i64, i32)> = self.sessions.iter().map(|(&id, &t)| (id, t)).collect();
        all.sort_unstable();
        all
    }

    /// The window of recently committed proposals.
    pub fn committed(&self) -> &CommittedLog {
        &self.committed
    }

    /// `ZKDatabase.truncateLog`: cuts `log` back to `zxid` (ZooKeeper's
    /// `TxnLog.truncate`) and reloads the database from disk, from where
    /// the last [`ZkDatabase::load`] read. Fails when nothing was loaded
    /// yet, when the log cannot be cut there, or when the newest snapshot
    /// is past `zxid` (reloading could then not give the state as of `zxid`).
    pub fn truncate(
        &mut self,
        log: &mut dyn TxnLog,
        zxid: i64,
        obs: &mut dyn ApplyObserver,
    ) -> std::io::Result<LoadReport> {
        let Some(from) = self.loaded_from.clone() else {
            return Err(std::io::Error::other(format!(
                "cannot truncate the database to zxid 0x{zxid:x}: it was not loaded from disk"
            )));
        };
        log.truncate(zxid)?;
        let report = self.load(&from, obs)?;
        if self.last_processed_zxid > zxid {
            return Err(std::io::Error::other(format!(
                "truncated the txn log to zxid 0x{zxid:x}, but the reloaded database is at \
                 0x{:x} (a snapshot newer than the truncation point)",
                self.last_processed_zxid
            )));
        }
        Ok(report)
    }

    /// `ZKDatabase.deserializeSnapshot` for a learner's SNAP: the whole
    /// database is replaced by the snapshot streamed from `src` (see
    /// [`snapshot::load_snap_sync`]), as of the leader's `zxid`. Returns what
    /// was loaded and the stream positioned after the snapshot. On error the
    /// database is cleared (the learner drops the leader and syncs again).
    pub fn load_snapshot_from<R: BufRead>(
        &mut self,
        src: R,
        zxid: i64,
        obs: &mut dyn ApplyObserver,
    ) -> snapshot::Result<(SnapSyncLoaded, R)> {
        self.clear();
        let mut table: Vec<(i64, i32)> = Vec::new();
        let loaded = snapshot::load_snap_sync(
            src,
            std::path::Path::new("SNAP stream"),
            None,
            &mut self.tree,
            &mut self.acls,
            &mut table,
        );
        match loaded {
            Ok(done) => {
                self.install_sessions(&table, obs);
                self.last_processed_zxid = zxid;
                Ok(done)
            }
            Err(e) => {
                self.clear();
                Err(e)
            }
        }
    }

    /// Takes the sessions a snapshot carried, in its order.
    fn install_sessions(&mut self, table: &[(i64, i32)], obs: &mut dyn ApplyObserver) {
        for &(id, timeout) in table {
            self.sessions.insert(id, timeout);
            obs.session_created(id, timeout);
        }
    }
}

/// The tree and ACL cache of a fresh ZooKeeper: READ_ACL_UNSAFE converted
/// first, for `/zookeeper/config`.
fn fresh_tree(cfg: TreeConfig) -> (DataTree, AclCache) {
    let mut acls = AclCache::new();
    let config_acl = acls.convert_acls(&crate::acl::read_acl_unsafe());
    let tree = DataTree::new(cfg, AclRef(config_acl));
    (tree, acls)
}
