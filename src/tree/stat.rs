//! Znode metadata records.
//!
//! These mirror ZooKeeper's jute records `StatPersisted` (what a snapshot stores) and
//! `Stat` (what a client sees). They are defined here, rather than taken from the `jute`
//! crate, so that the tree has no dependency on the codec; the conversion is a plain
//! field-by-field copy done by whoever talks to the wire.

/// The per-znode metadata that ZooKeeper persists in snapshots (`StatPersisted`).
///
/// `cversion` here is ZooKeeper's *persisted* child version: it only counts child
/// creations. The client-visible value is derived in [`Stat`] (see
/// [`StatPersisted::to_stat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct StatPersisted {
    /// zxid of the transaction that created the node.
    pub czxid: i64,
    /// zxid of the transaction that last changed the node's data.
    pub mzxid: i64,
    /// Creation time, milliseconds since the epoch (leader's wall clock).
    pub ctime: i64,
    /// Last data modification time, milliseconds since the epoch.
    pub mtime: i64,
    /// Number of data changes.
    pub version: i32,
    /// Persisted child version (counts child creations only).
    pub cversion: i32,
    /// Number of ACL changes (as set by the setACL transaction).
    pub aversion: i32,
    /// Raw ephemeral owner: a session id, the container marker or a TTL encoding.
    pub ephemeral_owner: i64,
    /// zxid of the transaction that last changed the node's children.
    pub pzxid: i64,
}

/// The client-visible znode metadata (`Stat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Stat {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub version: i32,
    /// Client-visible child version: creations plus deletions of children.
    pub cversion: i32,
    pub aversion: i32,
    /// Session id for normal ephemerals; 0 for persistent, container and TTL nodes.
    pub ephemeral_owner: i64,
    /// Length of the data; 0 for both null and empty data.
    pub data_length: i32,
    pub num_children: i32,
    pub pzxid: i64,
}

impl StatPersisted {
    /// The stat ZooKeeper gives a node created by `zxid` at `time` (`DataTree.createStat`):
    /// every zxid is the creating zxid, both times are `time`, all versions are 0.
    pub fn new_for_create(zxid: i64, time: i64, ephemeral_owner: i64) -> Self {
        StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner,
            pzxid: zxid,
        }
    }

    /// Derives the client-visible stat exactly as `DataNode.copyStat` does.
    ///
    /// ZooKeeper only bumps the persisted cversion on child creation; a deletion is
    /// implied by a creation whose child is gone, so the visible cversion is
    /// `2 * cversion - numChildren` (Java int arithmetic, hence wrapping).
    /// `client_ephemeral_owner` is the already-filtered owner (0 unless the node is a
    /// normal ephemeral), because that filtering depends on server configuration.
    pub fn to_stat(
        &self,
        client_ephemeral_owner: i64,
        data_length: i32,
        num_children: i32,
    ) -> Stat {
        Stat {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: self.aversion,
            ephemeral_owner: client_ephemeral_owner,
            data_length,
            num_children,
            pzxid: self.pzxid,
        }
    }
}
