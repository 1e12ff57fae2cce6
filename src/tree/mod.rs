//! The in-memory data tree (ZooKeeper's `DataTree`).
//!
//! # Ownership and mutation
//! The tree is owned by one task: no locks, no `Arc`, no interior mutability. It changes
//! only through the *apply* methods ([`DataTree::create_node`], [`DataTree::delete_node`],
//! [`DataTree::set_data`], [`DataTree::set_acl`], [`DataTree::set_cversion_pzxid`],
//! [`DataTree::kill_session`], [`DataTree::add_config_node`] and the snapshot-load trio
//! [`DataTree::begin_snapshot_load`] / [`DataTree::load_node`] /
//! [`DataTree::finish_snapshot_load`]), which the final pipeline stage
//! calls in zxid order for live requests, log replay and learner sync alike. They are
//! deterministic and reproduce `DataTree.java` (3.8/3.9), including its quirks; each method
//! documents the rules it follows. Request validation (versions, ACLs,
//! NoChildrenForEphemerals, ...) belongs to prep; apply methods only report what DataTree
//! reports: NoNode and NodeExists (plus [`TreeError::NotEmpty`], see `delete_node`).
//!
//! # Layout
//! Nodes live in an arena (`Vec` of slots plus a free list) and are referred to by
//! [`NodeId`]. A node stores its own name once; its parent's child set is a
//! `hashbrown::HashTable<u32>` of child ids hashed by the name read from the child's slot,
//! so no path or name string is duplicated. See `node.rs` for the slot packing.
//!
//! A `NodeId` stays valid until the node is deleted; after that the slot may be reused by
//! a later create, so ids must not be kept across apply calls (watches key on paths).
//!
//! # What else the tree maintains, as DataTree does
//! * the session → ephemeral-paths index, and the container and TTL node sets;
//! * the tree digest (sum of per-node CRC-32s) when enabled;
//! * the approximate data size statistic (`approximate_data_size` in `mntr`);
//! * quota accounting: the `zookeeper_stats` nodes under `/zookeeper/quota`.

mod digest;
mod ephemeral;
mod node;
pub mod path;
mod quota;
mod stat;

#[cfg(test)]
mod tests;

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;

pub use digest::{node_digest, DigestPrefix, DIGEST_VERSION, ZOOKEEPER_NODE_SUBTREE};
pub use ephemeral::{
    validate_ttl, EphemeralType, EphemeralTypes, InvalidArgument, CONTAINER_EPHEMERAL_OWNER,
    MAX_EXTENDED_SERVER_ID, MAX_TTL,
};
pub use path::{sequential_path, validate_nullable_path, validate_path, validate_path_seq};
pub use quota::{limit_path, stat_path, StatsTrack, LIMIT_NODE, QUOTA_ZOOKEEPER, STAT_NODE};
pub use stat::{Stat, StatPersisted};

use node::{Kids, Node, MAX_NAME_LEN};
use quota::QuotaTrie;

/// `Quotas.procZookeeper`.
pub const PROC_ZOOKEEPER: &str = "/zookeeper";
/// `ZooDefs.CONFIG_NODE`.
pub const CONFIG_NODE: &str = "/zookeeper/config";

/// Index of a znode in the tree's arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

impl NodeId {
    /// The root ("/"), which always exists.
    pub const ROOT: NodeId = NodeId(0);
}

/// A reference into the ACL cache (ZooKeeper stores a `Long` per node and keeps the ACL
/// lists in `ReferenceCountedACLCache`). The tree only stores and returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AclRef(pub i64);

impl AclRef {
    /// The id ZooKeeper reserves for `OPEN_ACL_UNSAFE` (and for a null ACL list).
    /// The root, `/zookeeper` and `/zookeeper/quota` start with it.
    pub const OPEN_ACL_UNSAFE: AclRef = AclRef(-1);
    /// The id a fresh ZooKeeper's ACL cache gives `READ_ACL_UNSAFE` (world:anyone READ):
    /// the first list converted, when the constructor protects `/zookeeper/config`.
    pub const FRESH_READ_ACL_UNSAFE: AclRef = AclRef(1);
}

/// Errors of the apply methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TreeError {
    /// The node (or, for create, its parent) does not exist.
    NoNode,
    /// The node to create exists already.
    NodeExists,
    /// A delete targeted a node that still has children (see [`DataTree::delete_node`]).
    NotEmpty,
    /// The path cannot name a creatable/deletable node: an empty last component ("/a/"),
    /// a name over 2^31 bytes, or a delete of "/". Prep never lets such a txn through.
    /// (A path without any '/' is simply `NoNode`, as its parent cannot exist.)
    InvalidPath,
    /// The arena has 2^32 - 1 nodes.
    Full,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TreeError::NoNode => "no node",
            TreeError::NodeExists => "node exists",
            TreeError::NotEmpty => "node has children",
            TreeError::InvalidPath => "invalid path",
            TreeError::Full => "too many nodes",
        })
    }
}

impl std::error::Error for TreeError {}

/// Server settings the tree's behaviour depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeConfig {
    /// How `ephemeralOwner` values are classified (extended types / 3.5.3 emulation).
    pub ephemeral_types: EphemeralTypes,
    /// `zookeeper.digest.enabled` (default true): maintain the tree digest.
    pub digest_enabled: bool,
}

impl Default for TreeConfig {
    fn default() -> Self {
        TreeConfig {
            ephemeral_types: EphemeralTypes::default(),
            digest_enabled: true,
        }
    }
}

/// A node removed by [`DataTree::kill_session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub path: String,
    /// The removed node's ACL reference, for the ACL cache's reference counting.
    pub acl: AclRef,
}

/// The data tree. See the module documentation.
pub struct DataTree {
    /// Arena; `None` marks a free slot. Slot 0 is the root.
    nodes: Vec<Option<Node>>,
    /// Free slot indexes, reused last-in first-out.
    free: Vec<u32>,
    /// Number of live znodes (including the root).
    live: usize,
    /// One hasher for every child table (tables store no hasher of their own). Randomly
    /// keyed SipHash, because child names are chosen by clients.
    hasher: RandomState,
    /// Session id → its ephemeral nodes. As in ZooKeeper, a session's entry survives its
    /// nodes being deleted one by one and disappears only in `kill_session`.
    ephemerals: HashMap<i64, HashSet<u32>>,
    containers: HashSet<u32>,
    ttls: HashSet<u32>,
    quotas: QuotaTrie,
    /// Running tree digest (`NodeHashMapImpl.getDigest`), 0 when disabled.
    digest: i64,
    /// `DataTree.nodeDataSize`, maintained exactly where ZooKeeper maintains it.
    approx_data_size: i64,
    config: TreeConfig,
}

/// Name of a child slot, for the hash table's hash/eq closures (which cannot borrow the
/// whole tree while a table is detached for mutation).
fn slot_name(nodes: &[Option<Node>], id: u32) -> &[u8] {
    match nodes.get(id as usize) {
        Some(Some(n)) => n.name_bytes(),
        _ => &[],
    }
}

impl Default for DataTree {
    fn default() -> Self {
        DataTree::new(TreeConfig::default(), AclRef::FRESH_READ_ACL_UNSAFE)
    }
}

impl DataTree {
    /// A fresh tree, exactly as ZooKeeper's `DataTree` constructor builds it:
    ///
    /// | path | data | acl | stat |
    /// |---|---|---|---|
    /// | `/` | empty | -1 (open) | all zero |
    /// | `/zookeeper` | empty | -1 | all zero |
    /// | `/zookeeper/quota` | empty | -1 | all zero |
    /// | `/zookeeper/config` | empty | `config_node_acl` | all zero except aversion = -1 |
    ///
    /// The children are attached without touching any stat, so even `/` and `/zookeeper`
    /// have cversion 0 and pzxid 0. `/zookeeper/config` gets READ_ACL_UNSAFE through
    /// `setACL(path, acl, -1)`, which is why its aversion is -1; `config_node_acl` is the
    /// ACL cache's id for that list ([`AclRef::FRESH_READ_ACL_UNSAFE`] in a fresh cache).
    pub fn new(config: TreeConfig, config_node_acl: AclRef) -> DataTree {
        let mut tree = DataTree::empty(config);
        tree.add_initial_nodes(config_node_acl);
        tree
    }

    /// A tree holding only a zeroed root.
    fn empty(config: TreeConfig) -> DataTree {
        let root = Node::new(
            "",
            Some(Vec::new()),
            AclRef::OPEN_ACL_UNSAFE,
            &StatPersisted::default(),
            0,
        );
        let mut tree = DataTree {
            nodes: vec![Some(root)],
            free: Vec::new(),
            live: 1,
            hasher: RandomState::new(),
            ephemerals: HashMap::new(),
            containers: HashSet::new(),
            ttls: HashSet::new(),
            quotas: QuotaTrie::default(),
            digest: 0,
            approx_data_size: 0,
            config,
        };
        tree.digest = tree.compute_digest();
        tree
    }

    fn add_initial_nodes(&mut self, config_node_acl: AclRef) {
        let zero = StatPersisted::default();
        let open = AclRef::OPEN_ACL_UNSAFE;
        // Only fails on a full arena, which a three-node tree cannot be.
        let _ = self.attach_raw(0, "zookeeper", Some(Vec::new()), open, &zero);
        if let Some(proc) = self.lookup(PROC_ZOOKEEPER) {
            let _ = self.attach_raw(proc.0, "quota", Some(Vec::new()), open, &zero);
        }
        self.add_config_node(config_node_acl);
        self.digest = self.compute_digest();
        self.approx_data_size = self.compute_approximate_data_size();
    }

    /// `DataTree.addConfigNode`: (re)creates `/zookeeper/config` with empty data and a zero
    /// stat, then applies `setACL(config, READ_ACL_UNSAFE, -1)`. ZooKeeper calls this when
    /// a loaded snapshot predates the config node. Does nothing without `/zookeeper`.
    pub fn add_config_node(&mut self, read_acl_unsafe: AclRef) {
        let Some(proc) = self.lookup(PROC_ZOOKEEPER) else {
            return;
        };
        let zero = StatPersisted::default();
        let id = match self.find_child(proc.0, b"config") {
            Some(existing) => {
                // nodes.put replaces the DataNode; digest and size follow the new content.
                self.digest_sub(CONFIG_NODE, existing);
                let n = self.slot_mut(existing);
                n.replace_data(Some(Vec::new()));
                n.acl = AclRef::OPEN_ACL_UNSAFE;
                n.set_stat_persisted(&zero);
                self.digest_add(CONFIG_NODE, existing);
                existing
            }
            None => match self.attach_raw(
                proc.0,
                "config",
                Some(Vec::new()),
                AclRef::OPEN_ACL_UNSAFE,
                &zero,
            ) {
                Ok(id) => {
                    self.digest_add(CONFIG_NODE, id);
                    id
                }
                Err(_) => return,
            },
        };
        self.digest_sub(CONFIG_NODE, id);
        let n = self.slot_mut(id);
        n.acl = read_acl_unsafe;
        n.aversion = -1;
        self.digest_add(CONFIG_NODE, id);
    }

    /// The configuration this tree was built with.
    pub fn config(&self) -> TreeConfig {
        self.config
    }

    // ------------------------------------------------------------------------------------
    // Arena helpers
    // ------------------------------------------------------------------------------------

    fn slot(&self, id: u32) -> &Node {
        match self.nodes.get(id as usize) {
            Some(Some(n)) => n,
            _ => panic!("stale or invalid NodeId({id})"),
        }
    }

    fn slot_mut(&mut self, id: u32) -> &mut Node {
        match self.nodes.get_mut(id as usize) {
            Some(Some(n)) => n,
            _ => panic!("stale or invalid NodeId({id})"),
        }
    }

    fn hash_name(&self, name: &[u8]) -> u64 {
        self.hasher.hash_one(name)
    }

    fn find_child(&self, parent: u32, name: &[u8]) -> Option<u32> {
        let kids = self.slot(parent).kids.as_ref()?;
        if kids.table.is_empty() {
            return None;
        }
        let h = self.hash_name(name);
        kids.table
            .find(h, |&c| slot_name(&self.nodes, c) == name)
            .copied()
    }

    fn alloc(&mut self, node: Node) -> Result<u32, TreeError> {
        self.live += 1;
        if let Some(id) = self.free.pop() {
            if let Some(slot) = self.nodes.get_mut(id as usize) {
                *slot = Some(node);
                return Ok(id);
            }
        }
        let id = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&i| i != u32::MAX);
        match id {
            Some(id) => {
                self.nodes.push(Some(node));
                Ok(id)
            }
            None => {
                self.live -= 1;
                Err(TreeError::Full)
            }
        }
    }

    /// Creates a slot for `name` under `parent` and links it into the parent's child
    /// table, touching no stat, index, digest or statistic.
    fn attach_raw(
        &mut self,
        parent: u32,
        name: &str,
        data: Option<Vec<u8>>,
        acl: AclRef,
        stat: &StatPersisted,
    ) -> Result<u32, TreeError> {
        if name.len() > MAX_NAME_LEN {
            return Err(TreeError::InvalidPath);
        }
        let id = self.alloc(Node::new(name, data, acl, stat, parent))?;
        let h = self.hash_name(name.as_bytes());
        let p = self.slot_mut(parent);
        let mut kids = p.kids.take().unwrap_or_else(|| {
            Box::new(Kids {
                pzxid: p.czxid,
                cversion: 0,
                table: HashTable::new(),
            })
        });
        let (nodes, hasher) = (&self.nodes, &self.hasher);
        kids.table
            .insert_unique(h, id, |&c| hasher.hash_one(slot_name(nodes, c)));
        self.slot_mut(parent).kids = Some(kids);
        Ok(id)
    }

    /// Unlinks child `id` from `parent` and frees its slot, returning the node.
    fn detach_raw(&mut self, parent: u32, id: u32) -> Option<Node> {
        let h = self.hash_name(self.slot(id).name_bytes());
        let mut kids = self.slot_mut(parent).kids.take()?;
        if let Ok(entry) = kids.table.find_entry(h, |&c| c == id) {
            entry.remove();
        }
        // hashbrown never shrinks by itself; give memory back when a big fan-out drains,
        // halving at a quarter full so the cost stays amortised O(1).
        let (len, cap) = (kids.table.len(), kids.table.capacity());
        if len == 0 || (cap > 64 && len < cap / 4) {
            let (nodes, hasher) = (&self.nodes, &self.hasher);
            kids.table
                .shrink_to(len * 2, |&c| hasher.hash_one(slot_name(nodes, c)));
        }
        self.slot_mut(parent).kids = Some(kids);
        let node = self.nodes.get_mut(id as usize)?.take()?;
        self.free.push(id);
        self.live -= 1;
        Some(node)
    }

    fn digest_node(&self, path: &str, id: u32) -> i64 {
        let n = self.slot(id);
        node_digest(path, n.data(), &n.stat_persisted())
    }

    /// `nodes.preChange`: take a node's contribution out of the digest.
    fn digest_sub(&mut self, path: &str, id: u32) {
        if self.config.digest_enabled {
            self.digest = self.digest.wrapping_sub(self.digest_node(path, id));
        }
    }

    /// `nodes.postChange`: put a node's (new) contribution into the digest.
    fn digest_add(&mut self, path: &str, id: u32) {
        if self.config.digest_enabled {
            self.digest = self.digest.wrapping_add(self.digest_node(path, id));
        }
    }

    fn ephemeral_type(&self, owner: i64) -> EphemeralType {
        EphemeralType::of(owner, self.config.ephemeral_types)
    }

    /// Adds a node to the ephemeral / container / TTL index its owner calls for.
    fn index_owner(&mut self, id: u32, owner: i64) {
        match self.ephemeral_type(owner) {
            EphemeralType::Container => {
                self.containers.insert(id);
            }
            EphemeralType::Ttl => {
                self.ttls.insert(id);
            }
            EphemeralType::Normal => {
                self.ephemerals.entry(owner).or_default().insert(id);
            }
            EphemeralType::Void => {}
        }
    }

    fn unindex_owner(&mut self, id: u32, owner: i64) {
        match self.ephemeral_type(owner) {
            EphemeralType::Container => {
                self.containers.remove(&id);
            }
            EphemeralType::Ttl => {
                self.ttls.remove(&id);
            }
            EphemeralType::Normal => {
                if let Some(set) = self.ephemerals.get_mut(&owner) {
                    set.remove(&id);
                }
            }
            EphemeralType::Void => {}
        }
    }

    // ------------------------------------------------------------------------------------
    // Reads
    // ------------------------------------------------------------------------------------

    /// Finds a node by path, walking components from the root.
    ///
    /// Matches ZooKeeper's path-keyed map: "/" and "" (the root's alias) both give the
    /// root; anything else must be '/' followed by non-empty components, so "/a/" or "a"
    /// is simply not found.
    pub fn lookup(&self, path: &str) -> Option<NodeId> {
        if path.is_empty() || path == "/" {
            return Some(NodeId::ROOT);
        }
        let rest = path.strip_prefix('/')?;
        let mut cur = 0u32;
        for comp in rest.split('/') {
            if comp.is_empty() {
                return None;
            }
            cur = self.find_child(cur, comp.as_bytes())?;
        }
        Some(NodeId(cur))
    }

    /// Whether `id` names a live node.
    pub fn contains(&self, id: NodeId) -> bool {
        matches!(self.nodes.get(id.0 as usize), Some(Some(_)))
    }

    /// Client-visible stat (`DataNode.copyStat`).
    ///
    /// # Panics
    /// If `id` is not live (holding an id across a delete is a caller bug).
    pub fn node_stat(&self, id: NodeId) -> Stat {
        let n = self.slot(id.0);
        let owner = EphemeralType::client_owner(n.ephemeral_owner, self.config.ephemeral_types);
        let data_len = i32::try_from(n.data_length()).unwrap_or(i32::MAX);
        let kids = i32::try_from(n.num_children()).unwrap_or(i32::MAX);
        n.stat_persisted().to_stat(owner, data_len, kids)
    }

    /// Persisted stat, as snapshots store it and prep's change records use it.
    pub fn node_stat_persisted(&self, id: NodeId) -> StatPersisted {
        self.slot(id.0).stat_persisted()
    }

    /// Node data; `None` is ZooKeeper's null data (distinct from empty).
    pub fn node_data(&self, id: NodeId) -> Option<&[u8]> {
        self.slot(id.0).data()
    }

    /// The node's ACL cache reference.
    pub fn node_acl(&self, id: NodeId) -> AclRef {
        self.slot(id.0).acl
    }

    /// The node's own name ("" for the root).
    pub fn node_name(&self, id: NodeId) -> &str {
        self.slot(id.0).name()
    }

    /// The parent (`None` for the root).
    pub fn parent_of(&self, id: NodeId) -> Option<NodeId> {
        if id == NodeId::ROOT {
            None
        } else {
            Some(NodeId(self.slot(id.0).parent))
        }
    }

    /// Number of direct children.
    pub fn num_children(&self, id: NodeId) -> usize {
        self.slot(id.0).num_children()
    }

    /// Names of the direct children, in unspecified (hash) order — ZooKeeper's
    /// `getChildren` order is a `HashSet`'s too; clients sort if they care.
    pub fn child_names(&self, id: NodeId) -> impl Iterator<Item = &str> + '_ {
        self.child_ids(id).map(move |c| self.slot(c.0).name())
    }

    /// Ids of the direct children, in unspecified order.
    pub fn child_ids(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.slot(id.0)
            .kids
            .iter()
            .flat_map(|k| k.table.iter().map(|&c| NodeId(c)))
    }

    /// Full path of a node ("/" for the root).
    pub fn path_of(&self, id: NodeId) -> String {
        if id == NodeId::ROOT {
            return "/".to_owned();
        }
        let mut names: Vec<&str> = Vec::new();
        let mut cur = id.0;
        let mut len = 0;
        while cur != 0 {
            let n = self.slot(cur);
            names.push(n.name());
            len += n.name().len() + 1;
            cur = n.parent;
        }
        let mut s = String::with_capacity(len);
        for name in names.iter().rev() {
            s.push('/');
            s.push_str(name);
        }
        s
    }

    /// Number of znodes, counting the root once.
    pub fn znode_count(&self) -> usize {
        self.live
    }

    /// ZooKeeper's `getNodeCount()` (`zk_znode_count` in `mntr`): the size of its
    /// path→node map, which holds the root under both "" and "/", i.e. one more than the
    /// number of znodes. A fresh server reports 5.
    pub fn node_count(&self) -> usize {
        self.live + 1
    }

    /// `DataTree.getAllChildrenNumber`: the number of descendants (children, grandchildren,
    /// ...). For "/" ZooKeeper answers `map size - 2`, i.e. every znode but the root; for
    /// "" (whose "children" are every key starting with "/") the znode count; for a path
    /// that does not exist, 0.
    pub fn get_all_children_number(&self, path: &str) -> i32 {
        let n = if path == "/" {
            self.live - 1
        } else if path.is_empty() {
            self.live
        } else {
            match self.lookup(path) {
                Some(id) => self.subtree_size(id.0) - 1,
                None => 0,
            }
        };
        i32::try_from(n).unwrap_or(i32::MAX)
    }

    fn subtree_size(&self, id: u32) -> usize {
        let mut count = 0;
        let mut stack = vec![id];
        while let Some(cur) = stack.pop() {
            count += 1;
            if let Some(k) = &self.slot(cur).kids {
                stack.extend(k.table.iter().copied());
            }
        }
        count
    }

    /// `cachedApproximateDataSize()` (`approximate_data_size` in `mntr`): the sum of path
    /// lengths (Java chars) and data lengths, maintained incrementally exactly where
    /// ZooKeeper maintains it — so it also reproduces its blind spots (the root counted
    /// under both "" and "/" at construction/load; quota stat rewrites not counted).
    pub fn approximate_data_size(&self) -> i64 {
        self.approx_data_size
    }

    /// `DataTree.approximateDataSize()`: the same statistic recomputed from scratch over
    /// ZooKeeper's map, which has the root under "" (length 0) and "/" (length 1).
    pub fn compute_approximate_data_size(&self) -> i64 {
        let root_data = self.slot(0).data_length() as i64;
        let mut total = 1 + 2 * root_data;
        self.for_each_preorder(|path, id| {
            if id != NodeId::ROOT {
                total += path::java_length(path) as i64 + self.slot(id.0).data_length() as i64;
            }
        });
        total
    }

    /// The tree digest (`DataTree.getTreeDigest`); 0 when digests are disabled.
    pub fn digest(&self) -> i64 {
        self.digest
    }

    /// The digest recomputed from every node, for verification.
    pub fn compute_digest(&self) -> i64 {
        if !self.config.digest_enabled {
            return 0;
        }
        let mut d = 0i64;
        self.for_each_preorder(|path, id| {
            d = d.wrapping_add(self.digest_node(path, id.0));
        });
        d
    }

    /// Paths of a session's ephemeral nodes, sorted (`getEphemerals(sessionId)`).
    pub fn ephemerals(&self, session_id: i64) -> Vec<String> {
        self.paths_sorted(self.ephemerals.get(&session_id).into_iter().flatten())
    }

    /// Sessions with an entry in the ephemeral index, sorted (`getSessions()`). Like
    /// ZooKeeper this includes sessions whose ephemerals were all deleted individually;
    /// an entry goes away only when the session is killed.
    pub fn ephemeral_sessions(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.ephemerals.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Every session's ephemeral paths, sessions and paths sorted (`getEphemerals()`,
    /// used by the `dump` command and the admin API).
    pub fn all_ephemerals(&self) -> Vec<(i64, Vec<String>)> {
        self.ephemeral_sessions()
            .into_iter()
            .map(|s| (s, self.ephemerals(s)))
            .collect()
    }

    /// Total number of ephemeral nodes (`getEphemeralsCount`, `zk_ephemerals_count`).
    pub fn ephemerals_count(&self) -> usize {
        self.ephemerals.values().map(HashSet::len).sum()
    }

    /// The ephemerals section of the `dump` four-letter command
    /// (`DataTree.dumpEphemerals`), with sessions and paths sorted.
    pub fn dump_ephemerals(&self) -> String {
        let all = self.all_ephemerals();
        let mut s = format!("Sessions with Ephemerals ({}):\n", all.len());
        for (session, paths) in all {
            s.push_str(&format!("0x{session:x}:\n"));
            for p in paths {
                s.push('\t');
                s.push_str(&p);
                s.push('\n');
            }
        }
        s
    }

    /// Paths of all container nodes, sorted (`getContainers`).
    pub fn containers(&self) -> Vec<String> {
        self.paths_sorted(self.containers.iter())
    }

    /// Paths of all TTL nodes, sorted (`getTtls`).
    pub fn ttls(&self) -> Vec<String> {
        self.paths_sorted(self.ttls.iter())
    }

    fn paths_sorted<'a>(&self, ids: impl Iterator<Item = &'a u32>) -> Vec<String> {
        let mut v: Vec<String> = ids.map(|&id| self.path_of(NodeId(id))).collect();
        v.sort_unstable();
        v
    }

    /// Nodes due for automatic deletion (`ContainerManager.getCandidates`), sorted.
    ///
    /// * a container with no children whose persisted cversion is > 0 (it has had a
    ///   child), or — if `max_never_used_interval_ms` is not 0 — one that never had a child
    ///   and whose `now - mtime` exceeds that interval;
    /// * a TTL node with no children whose `now - mtime` exceeds its TTL (strictly).
    ///
    /// `now_ms` is the wall clock (`Time.currentWallTime()`), compared with mtime, which
    /// was stamped with the leader's wall clock. The caller turns containers into
    /// `deleteContainer` requests and TTL nodes likewise (ZooKeeper uses deleteContainer
    /// for both).
    pub fn expiry_candidates(&self, now_ms: i64, max_never_used_interval_ms: i64) -> Vec<String> {
        let mut out = Vec::new();
        for &id in &self.containers {
            let n = self.slot(id);
            if n.num_children() != 0 {
                continue;
            }
            let elapsed = now_ms.wrapping_sub(n.mtime);
            if n.cversion() > 0
                || (max_never_used_interval_ms != 0 && elapsed > max_never_used_interval_ms)
            {
                out.push(self.path_of(NodeId(id)));
            }
        }
        for &id in &self.ttls {
            let n = self.slot(id);
            if n.num_children() != 0 || self.ephemeral_type(n.ephemeral_owner) != EphemeralType::Ttl
            {
                continue;
            }
            let ttl = EphemeralType::ttl_of(n.ephemeral_owner);
            if ttl != 0 && now_ms.wrapping_sub(n.mtime) > ttl {
                out.push(self.path_of(NodeId(id)));
            }
        }
        out.sort_unstable();
        out
    }

    /// `DataTree.isSpecialPath`: paths prep refuses to delete.
    pub fn is_special_path(path: &str) -> bool {
        matches!(path, "/" | PROC_ZOOKEEPER | QUOTA_ZOOKEEPER | CONFIG_NODE)
    }

    /// `getMaxPrefixWithQuota`: the deepest quota root above (or at) `path`, for prep's
    /// quota checks. The limits live at [`limit_path`] and usage at [`stat_path`].
    pub fn quota_prefix(&self, path: &str) -> Option<String> {
        self.quotas.max_prefix(path)
    }

    /// All quota roots currently tracked, sorted.
    pub fn quota_roots(&self) -> Vec<String> {
        self.quotas.roots()
    }

    /// Visits every node in pre-order (parent before children, siblings in unspecified
    /// order) with its path, as `DataTree.serializeNode` does for snapshots. The root is
    /// visited first with path "" — the key ZooKeeper writes for it in snapshots.
    /// Iterative, so arbitrarily deep trees are fine.
    pub fn for_each_preorder(&self, mut f: impl FnMut(&str, NodeId)) {
        let mut path = String::new();
        // (node, length of the parent's path in `path`)
        let mut stack: Vec<(u32, usize)> = vec![(0, 0)];
        while let Some((id, parent_len)) = stack.pop() {
            path.truncate(parent_len);
            let n = self.slot(id);
            if id != 0 {
                path.push('/');
                path.push_str(n.name());
            }
            f(&path, NodeId(id));
            if let Some(k) = &n.kids {
                let len = path.len();
                stack.extend(k.table.iter().map(|&c| (c, len)));
            }
        }
    }

    // ------------------------------------------------------------------------------------
    // Apply
    // ------------------------------------------------------------------------------------

    /// `DataTree.createNode`.
    ///
    /// * The parent is the text before the last '/' ("" meaning the root); missing →
    ///   `NoNode` (checked first).
    /// * If the node exists → `NodeExists`, but — exactly like ZooKeeper — the existing
    ///   node's ACL is first overwritten with `acl`. (Creating "/" hits this with the root.)
    /// * `parent_cversion == -1` means "parent's cversion + 1". The parent's cversion and
    ///   pzxid are set (to `parent_cversion` and `zxid`) only if `parent_cversion` is
    ///   greater than the current cversion, so replaying a create over a newer snapshot
    ///   cannot move them backwards.
    /// * The new node gets `StatPersisted::new_for_create(zxid, time, ephemeral_owner)`.
    /// * It is indexed as container / TTL / session ephemeral according to its owner.
    /// * Quota: creating `.../zookeeper_limits` under `/zookeeper/quota<P>` starts tracking
    ///   `P`; creating `.../zookeeper_stats` there recomputes `P`'s usage; and a node under
    ///   a tracked root adds 1 node and its data length to that root's stats.
    ///
    /// After a plain `create` txn (opcode 1 only) fails with `NodeExists`, ZooKeeper's
    /// `processTxn` additionally calls [`DataTree::set_cversion_pzxid`] on the parent;
    /// that is the caller's job.
    #[allow(clippy::too_many_arguments)]
    pub fn create_node(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: AclRef,
        ephemeral_owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
    ) -> Result<NodeId, TreeError> {
        let (parent_path, child_name) = path::split_parent(path).ok_or(TreeError::NoNode)?;
        let parent = self.lookup(parent_path).ok_or(TreeError::NoNode)?.0;
        if path == "/" {
            // nodes.get("/") is the root itself.
            self.slot_mut(0).acl = acl;
            return Err(TreeError::NodeExists);
        }
        if child_name.is_empty() || child_name.len() > MAX_NAME_LEN {
            return Err(TreeError::InvalidPath);
        }
        if let Some(existing) = self.find_child(parent, child_name.as_bytes()) {
            self.slot_mut(existing).acl = acl;
            return Err(TreeError::NodeExists);
        }

        let mut new_cversion = parent_cversion;
        let cur_cversion = self.slot(parent).cversion();
        if new_cversion == -1 {
            new_cversion = cur_cversion.wrapping_add(1);
        }
        if new_cversion > cur_cversion {
            self.digest_sub(parent_path, parent);
            self.slot_mut(parent)
                .set_cversion_pzxid_raw(new_cversion, zxid);
            self.digest_add(parent_path, parent);
        }

        let data_len = data.as_ref().map_or(0, Vec::len) as i64;
        let stat = StatPersisted::new_for_create(zxid, time, ephemeral_owner);
        let id = self.attach_raw(parent, child_name, data, acl, &stat)?;
        self.approx_data_size += path::java_length(path) as i64 + data_len;
        self.digest_add(path, id);
        self.index_owner(id, ephemeral_owner);

        if let Some(quota_parent) = parent_path.strip_prefix(QUOTA_ZOOKEEPER) {
            if child_name == LIMIT_NODE {
                self.quotas.add_path(quota_parent);
            }
            if child_name == STAT_NODE {
                self.update_quota_for_path(quota_parent);
            }
        }
        if let Some(prefix) = self.quotas.max_prefix(path) {
            self.update_quota_stat(&prefix, data_len, 1);
        }
        self.debug_check_local(parent);
        Ok(NodeId(id))
    }

    /// `DataTree.deleteNode`. Returns the removed node's ACL reference so the caller can
    /// release it in the ACL cache.
    ///
    /// * Missing parent → `NoNode`.
    /// * The parent's pzxid becomes `zxid` if `zxid` is larger — even when the child turns
    ///   out not to exist (then `NoNode`), as ZooKeeper updates the parent first.
    /// * The parent's persisted cversion is NOT changed: ZooKeeper derives the visible
    ///   cversion as `2 * cversion - numChildren`, so the delete still shows as +1.
    /// * The node leaves the ephemeral / container / TTL index (a session keeps its, maybe
    ///   now empty, entry), and quota usage is reduced; deleting a `zookeeper_limits` node
    ///   under `/zookeeper` stops tracking that quota root.
    ///
    /// Deliberate divergence: ZooKeeper would drop a node that still has children and leave
    /// them orphaned in its path map (possible only when replaying over a fuzzy snapshot).
    /// Here that case returns `NotEmpty` after the parent's pzxid update and removes
    /// nothing, which keeps the tree consistent; prep guarantees it never happens live.
    /// Deleting "/" returns `InvalidPath` and changes nothing.
    pub fn delete_node(&mut self, path: &str, zxid: i64) -> Result<AclRef, TreeError> {
        let (parent_path, child_name) = path::split_parent(path).ok_or(TreeError::NoNode)?;
        if path == "/" {
            return Err(TreeError::InvalidPath);
        }
        let parent = self.lookup(parent_path).ok_or(TreeError::NoNode)?.0;
        if zxid > self.slot(parent).pzxid() {
            self.digest_sub(parent_path, parent);
            let cv = self.slot(parent).cversion();
            self.slot_mut(parent).set_cversion_pzxid_raw(cv, zxid);
            self.digest_add(parent_path, parent);
        }
        let id = self
            .find_child(parent, child_name.as_bytes())
            .ok_or(TreeError::NoNode)?;
        if self.slot(id).num_children() > 0 {
            return Err(TreeError::NotEmpty);
        }
        self.digest_sub(path, id);
        let node = self.detach_raw(parent, id).ok_or(TreeError::NoNode)?;
        let data_len = node.data_length() as i64;
        self.approx_data_size -= path::java_length(path) as i64 + data_len;
        self.unindex_owner(id, node.ephemeral_owner);

        if parent_path.starts_with(PROC_ZOOKEEPER) && child_name == LIMIT_NODE {
            // Quotas.trimQuotaPath: drop the first 16 (Java) chars of the parent path.
            if let Some(trimmed) = skip_java_chars(parent_path, QUOTA_ZOOKEEPER.len()) {
                self.quotas.delete_path(trimmed);
            }
        }
        if let Some(prefix) = self.quotas.max_prefix(path) {
            self.update_quota_stat(&prefix, -data_len, -1);
        }
        self.debug_check_local(parent);
        Ok(node.acl)
    }

    /// `DataTree.setData`: replaces the data and sets mtime = `time`, mzxid = `zxid` and
    /// version = `version` (prep has already computed the incremented version). Returns
    /// the client-visible stat after the change. Quota usage under a tracked root changes
    /// by the data length difference.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        version: i32,
        zxid: i64,
        time: i64,
    ) -> Result<Stat, TreeError> {
        let id = self.lookup(path).ok_or(TreeError::NoNode)?.0;
        let new_len = data.as_ref().map_or(0, Vec::len) as i64;
        self.digest_sub(path, id);
        let n = self.slot_mut(id);
        let old_len = n.data_length() as i64;
        n.replace_data(data);
        n.mtime = time;
        n.mzxid = zxid;
        n.version = version;
        self.digest_add(path, id);
        let stat = self.node_stat(NodeId(id));
        if let Some(prefix) = self.quotas.max_prefix(path) {
            self.update_quota_stat(&prefix, new_len - old_len, 0);
        }
        self.approx_data_size += new_len - old_len;
        Ok(stat)
    }

    /// `DataTree.setACL`: stores the new ACL reference and sets aversion = `aversion`
    /// (already computed by prep). Returns the stat and the previous ACL reference (which
    /// ZooKeeper releases in its ACL cache).
    pub fn set_acl(
        &mut self,
        path: &str,
        acl: AclRef,
        aversion: i32,
    ) -> Result<(Stat, AclRef), TreeError> {
        let id = self.lookup(path).ok_or(TreeError::NoNode)?.0;
        self.digest_sub(path, id);
        let n = self.slot_mut(id);
        let old = n.acl;
        n.acl = acl;
        n.aversion = aversion;
        self.digest_add(path, id);
        Ok((self.node_stat(NodeId(id)), old))
    }

    /// `DataTree.setCversionPzxid`: one trailing '/' is ignored; `-1` means "cversion + 1";
    /// cversion and pzxid change only if the new cversion is larger.
    pub fn set_cversion_pzxid(
        &mut self,
        path: &str,
        new_cversion: i32,
        zxid: i64,
    ) -> Result<(), TreeError> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let id = self.lookup(path).ok_or(TreeError::NoNode)?.0;
        let cur = self.slot(id).cversion();
        let new_cversion = if new_cversion == -1 {
            cur.wrapping_add(1)
        } else {
            new_cversion
        };
        if new_cversion > cur {
            self.digest_sub(path, id);
            self.slot_mut(id).set_cversion_pzxid_raw(new_cversion, zxid);
            self.digest_add(path, id);
        }
        Ok(())
    }

    /// `DataTree.killSession` for a `closeSession` txn: deletes the session's ephemerals
    /// with [`DataTree::delete_node`] at `zxid` and returns what was deleted, in order.
    ///
    /// The session's index entry is removed first. If the txn carries its own path list
    /// (`CloseSessionTxn.paths2Delete`, 3.6+), those paths are deleted first, in txn order
    /// (whoever owns them), then any paths the index still had that the txn did not list.
    /// Index paths are taken in reverse lexicographic order, which deletes descendants
    /// before ancestors (ZooKeeper uses HashSet order). Paths that no longer exist are
    /// skipped, as ZooKeeper logs and ignores `NoNode`.
    ///
    /// An ephemeral that still has children (impossible through prep) is kept by
    /// `delete_node`'s `NotEmpty` rule; it is then put back in the session's index so the
    /// index never lies.
    pub fn kill_session(
        &mut self,
        session_id: i64,
        zxid: i64,
        paths_in_txn: Option<&[String]>,
    ) -> Vec<Removed> {
        let mut local: Vec<String> = match self.ephemerals.remove(&session_id) {
            Some(ids) => self.paths_sorted(ids.iter()),
            None => Vec::new(),
        };
        local.reverse();
        let mut removed = Vec::new();
        let mut delete = |tree: &mut DataTree, p: &str| match tree.delete_node(p, zxid) {
            Ok(acl) => removed.push(Removed {
                path: p.to_owned(),
                acl,
            }),
            Err(e) => tracing::warn!(
                path = p,
                session = session_id,
                "ignoring {e} while removing an ephemeral of a dead session"
            ),
        };
        match paths_in_txn {
            Some(txn) => {
                for p in txn {
                    delete(self, p);
                }
                let listed: HashSet<&str> = txn.iter().map(String::as_str).collect();
                let extra: Vec<&String> = local
                    .iter()
                    .filter(|p| !listed.contains(p.as_str()))
                    .collect();
                if !extra.is_empty() {
                    tracing::warn!(
                        session = session_id,
                        zxid,
                        "extra ephemerals not listed in the closeSession txn: {extra:?}"
                    );
                }
                for p in extra {
                    delete(self, p);
                }
            }
            None => {
                for p in &local {
                    delete(self, p);
                }
            }
        }
        for p in &local {
            if let Some(id) = self.lookup(p) {
                if self.slot(id.0).ephemeral_owner == session_id {
                    self.index_owner(id.0, session_id);
                }
            }
        }
        removed
    }

    // ------------------------------------------------------------------------------------
    // Quota accounting
    // ------------------------------------------------------------------------------------

    /// `DataTree.updateQuotaStat`: adjusts `count`/`bytes` in the stats node of quota root
    /// `prefix` in place. Like ZooKeeper this changes only the data (no stat change, no
    /// approximate-size change; the node is outside the digest).
    fn update_quota_stat(&mut self, prefix: &str, bytes_diff: i64, count_diff: i64) {
        let sp = stat_path(prefix);
        let Some(id) = self.lookup(&sp) else {
            tracing::error!("missing node for quota stat {sp}");
            return;
        };
        let mut track = match StatsTrack::parse(self.slot(id.0).data().unwrap_or_default()) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!("cannot update quota stat {sp}: {e}");
                return;
            }
        };
        track.set_count(track.count().wrapping_add(count_diff));
        track.set_bytes(track.bytes().wrapping_add(bytes_diff));
        self.slot_mut(id.0)
            .replace_data(Some(track.to_text().into_bytes()));
    }

    /// `DataTree.updateQuotaForPath`: recounts the subtree at `path` (nodes including
    /// itself, data bytes) and overwrites its stats node with `count=N,bytes=M`.
    fn update_quota_for_path(&mut self, path: &str) {
        let (mut count, mut bytes) = (0i64, 0i64);
        if let Some(id) = self.lookup(path) {
            let mut stack = vec![id.0];
            while let Some(cur) = stack.pop() {
                let n = self.slot(cur);
                count += 1;
                bytes += n.data_length() as i64;
                if let Some(k) = &n.kids {
                    stack.extend(k.table.iter().copied());
                }
            }
        }
        let sp = stat_path(path);
        let Some(id) = self.lookup(&sp) else {
            tracing::warn!("missing quota stat node {sp}");
            return;
        };
        let mut track = StatsTrack::default();
        track.set_bytes(bytes);
        track.set_count(count);
        self.slot_mut(id.0)
            .replace_data(Some(track.to_text().into_bytes()));
    }

    /// `DataTree.setupQuota` (after a snapshot load): every leaf under `/zookeeper/quota`
    /// whose path ends in `/zookeeper_limits` makes the path between the quota prefix and
    /// the first `/zookeeper_limits` a tracked root, with its usage recounted.
    fn setup_quota(&mut self) {
        let Some(qroot) = self.lookup(QUOTA_ZOOKEEPER) else {
            return;
        };
        let mut leaves = Vec::new();
        let mut stack: Vec<(u32, String)> = vec![(qroot.0, QUOTA_ZOOKEEPER.to_owned())];
        while let Some((id, p)) = stack.pop() {
            let n = self.slot(id);
            if n.num_children() == 0 {
                leaves.push(p);
                continue;
            }
            if let Some(k) = &n.kids {
                for &c in k.table.iter() {
                    stack.push((c, format!("{p}/{}", self.slot(c).name())));
                }
            }
        }
        leaves.sort_unstable();
        let end = format!("/{LIMIT_NODE}");
        for leaf in leaves {
            if !leaf.ends_with(&end) {
                continue;
            }
            let Some(at) = leaf.find(&end) else { continue };
            let real = &leaf[QUOTA_ZOOKEEPER.len()..at.max(QUOTA_ZOOKEEPER.len())];
            self.update_quota_for_path(real);
            self.quotas.add_path(real);
        }
    }

    // ------------------------------------------------------------------------------------
    // Snapshot loading
    // ------------------------------------------------------------------------------------

    /// Starts loading a snapshot (`DataTree.deserialize`): drops every node, index, quota
    /// root and statistic. The tree then holds only a zeroed root until [`Self::load_node`]
    /// supplies the snapshot's root record (path "").
    pub fn begin_snapshot_load(&mut self) {
        *self = DataTree::empty(self.config);
    }

    /// Adds one snapshot record. Records come parent-first, as ZooKeeper writes them; the
    /// root's path is "". A record for an existing path replaces that node's data, ACL and
    /// stat (ZooKeeper's map `put`); its children stay. Missing parent → `NoNode`
    /// (ZooKeeper: "Invalid Datatree, unable to find parent").
    pub fn load_node(
        &mut self,
        path: &str,
        data: Option<Vec<u8>>,
        acl: AclRef,
        stat: &StatPersisted,
    ) -> Result<NodeId, TreeError> {
        if path.is_empty() || path == "/" {
            let root = self.slot_mut(0);
            root.replace_data(data);
            root.acl = acl;
            root.set_stat_persisted(stat);
            return Ok(NodeId::ROOT);
        }
        let (parent_path, name) = path::split_parent(path).ok_or(TreeError::InvalidPath)?;
        if name.is_empty() {
            return Err(TreeError::InvalidPath);
        }
        let parent = self.lookup(parent_path).ok_or(TreeError::NoNode)?.0;
        if let Some(existing) = self.find_child(parent, name.as_bytes()) {
            let old_owner = self.slot(existing).ephemeral_owner;
            self.unindex_owner(existing, old_owner);
            let n = self.slot_mut(existing);
            n.replace_data(data);
            n.acl = acl;
            n.set_stat_persisted(stat);
            self.index_owner(existing, stat.ephemeral_owner);
            return Ok(NodeId(existing));
        }
        let id = self.attach_raw(parent, name, data, acl, stat)?;
        self.index_owner(id, stat.ephemeral_owner);
        Ok(NodeId(id))
    }

    /// Finishes a snapshot load: recomputes the approximate data size and the digest, then
    /// rebuilds quota tracking (`setupQuota`), in ZooKeeper's order.
    pub fn finish_snapshot_load(&mut self) {
        self.approx_data_size = self.compute_approximate_data_size();
        self.setup_quota();
        self.digest = self.compute_digest();
    }

    // ------------------------------------------------------------------------------------
    // Invariants
    // ------------------------------------------------------------------------------------

    /// Cheap checks around one parent after each apply in debug builds.
    fn debug_check_local(&self, parent: u32) {
        if cfg!(debug_assertions) {
            let p = self.slot(parent);
            if let Some(k) = &p.kids {
                debug_assert!(k.table.len() <= self.live);
            }
            debug_assert_eq!(self.nodes.len(), self.live + self.free.len());
        }
    }

    /// Verifies the tree's structural invariants; `Err` describes the first violation.
    /// O(n): for tests and debugging, not for the hot path.
    ///
    /// Checked: arena/free-list accounting; every live node reachable from the root
    /// exactly once with a correct parent link; child names non-empty, '/'-free, unique
    /// and findable through the hash table; the ephemeral, container and TTL indexes match
    /// the owners; the running digest equals a recomputation.
    pub fn check_invariants(&self) -> Result<(), String> {
        let live_slots = self.nodes.iter().filter(|n| n.is_some()).count();
        if live_slots != self.live {
            return Err(format!(
                "live count {} but {} live slots",
                self.live, live_slots
            ));
        }
        let mut free_seen = HashSet::new();
        for &f in &self.free {
            if !matches!(self.nodes.get(f as usize), Some(None)) || !free_seen.insert(f) {
                return Err(format!(
                    "free list entry {f} is live, out of range or repeated"
                ));
            }
        }
        if free_seen.len() + self.live != self.nodes.len() {
            return Err("free slots not all on the free list".into());
        }
        let root = match self.nodes.first() {
            Some(Some(r)) => r,
            _ => return Err("no root".into()),
        };
        if root.parent != 0 || !root.name_bytes().is_empty() {
            return Err("root must be nameless and its own parent".into());
        }
        let mut reached = 0usize;
        let mut seen = HashSet::new();
        let mut stack = vec![0u32];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                return Err(format!("node {id} reachable twice"));
            }
            reached += 1;
            let n = self.slot(id);
            let Some(k) = &n.kids else { continue };
            let mut names = HashSet::new();
            for &c in k.table.iter() {
                let Some(Some(child)) = self.nodes.get(c as usize) else {
                    return Err(format!("node {id} lists dead child {c}"));
                };
                if child.parent != id {
                    return Err(format!("child {c} of {id} has parent {}", child.parent));
                }
                let name = child.name_bytes();
                if name.is_empty() || name.contains(&b'/') {
                    return Err(format!("child {c} has bad name {:?}", child.name()));
                }
                if !names.insert(name) {
                    return Err(format!(
                        "duplicate child name {:?} under {id}",
                        child.name()
                    ));
                }
                if self.find_child(id, name) != Some(c) {
                    return Err(format!(
                        "child {:?} of {id} not findable by name",
                        child.name()
                    ));
                }
                stack.push(c);
            }
        }
        if reached != self.live {
            return Err(format!("{reached} nodes reachable, {} live", self.live));
        }
        for (idx, slot) in self.nodes.iter().enumerate() {
            let Some(n) = slot else { continue };
            let id = idx as u32;
            if id == 0 {
                continue;
            }
            let owner = n.ephemeral_owner;
            let ok = match self.ephemeral_type(owner) {
                EphemeralType::Container => self.containers.contains(&id),
                EphemeralType::Ttl => self.ttls.contains(&id),
                EphemeralType::Normal => {
                    self.ephemerals.get(&owner).is_some_and(|s| s.contains(&id))
                }
                EphemeralType::Void => true,
            };
            if !ok {
                return Err(format!(
                    "node {} missing from its owner index",
                    self.path_of(NodeId(id))
                ));
            }
        }
        let check_index =
            |set: &HashSet<u32>, want: EphemeralType, what: &str| -> Result<(), String> {
                for &id in set {
                    match self.nodes.get(id as usize) {
                        Some(Some(n)) if self.ephemeral_type(n.ephemeral_owner) == want => {}
                        _ => return Err(format!("{what} index holds stale id {id}")),
                    }
                }
                Ok(())
            };
        check_index(&self.containers, EphemeralType::Container, "container")?;
        check_index(&self.ttls, EphemeralType::Ttl, "ttl")?;
        for (&session, ids) in &self.ephemerals {
            for &id in ids {
                match self.nodes.get(id as usize) {
                    Some(Some(n)) if n.ephemeral_owner == session => {}
                    _ => {
                        return Err(format!(
                            "ephemeral index of 0x{session:x} holds stale id {id}"
                        ))
                    }
                }
            }
        }
        let d = self.compute_digest();
        if d != self.digest {
            return Err(format!("digest {:x} but recomputed {:x}", self.digest, d));
        }
        Ok(())
    }

    /// Invariants that hold for trees built by ZooKeeper-generated txns in zxid order
    /// (not necessarily for arbitrary snapshots): pzxid ≥ czxid and mzxid ≥ czxid for
    /// every node, a parent's pzxid ≥ each child's czxid, and persisted cversion ≥ the
    /// number of children created by txns (each creation counted once).
    pub fn check_zxid_invariants(&self) -> Result<(), String> {
        for (idx, slot) in self.nodes.iter().enumerate() {
            let Some(n) = slot else { continue };
            let path = self.path_of(NodeId(idx as u32));
            if n.mzxid < n.czxid || n.pzxid() < n.czxid {
                return Err(format!("{path}: mzxid/pzxid below czxid"));
            }
            // The built-in nodes (czxid 0) were attached without counting.
            let counted = n
                .kids
                .iter()
                .flat_map(|k| k.table.iter())
                .filter(|&&c| self.slot(c).czxid != 0)
                .count();
            if (n.cversion() as i64) < counted as i64 {
                return Err(format!(
                    "{path}: cversion {} < {counted} children",
                    n.cversion()
                ));
            }
            if let Some(k) = &n.kids {
                for &c in k.table.iter() {
                    if self.slot(c).czxid > k.pzxid {
                        return Err(format!("{path}: pzxid {} below a child's czxid", k.pzxid));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Java's `s.substring(n)` for an ASCII-prefix-sized `n`: skips `n` UTF-16 units, or
/// `None` when `s` is shorter (where Java would throw) or `n` splits a character.
fn skip_java_chars(s: &str, n: usize) -> Option<&str> {
    let mut units = 0;
    for (i, c) in s.char_indices() {
        if units == n {
            return Some(&s[i..]);
        }
        units += c.len_utf16();
        if units > n {
            return None;
        }
    }
    (units == n).then_some("")
}
