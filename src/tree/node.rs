//! Arena slot layout of one znode.
//!
//! Memory per znode is the tree's main cost, so the slot is packed by hand:
//! * the name and the data share ONE heap allocation (`blob` = data bytes then name
//!   bytes), saving an allocator header and a pointer per node, and letting `set_data`
//!   reuse the incoming `Vec`'s allocation;
//! * the full path is never stored — it is rebuilt from parent links when needed;
//! * `pzxid` and `cversion` live with the children table (`Kids`), because a node that
//!   never had a child change has `pzxid == czxid` and `cversion == 0`; leaves therefore
//!   pay one `None` pointer for all child bookkeeping.
//!
//! The slot is 88 bytes (`Option<Node>` too, thanks to the `Box` niche).

use hashbrown::HashTable;

use super::stat::StatPersisted;
use super::AclRef;

/// Bit of `name_len` that records "data is null" (ZooKeeper distinguishes null data from
/// empty data, e.g. in snapshots and the data length it reports is 0 for both).
const NULL_DATA: u32 = 1 << 31;
/// Longest name a slot can record; far beyond any path ZooKeeper's 1 MB jute buffer allows.
pub(super) const MAX_NAME_LEN: usize = (NULL_DATA - 1) as usize;

/// Child bookkeeping, allocated on a node's first child change.
pub(super) struct Kids {
    pub pzxid: i64,
    pub cversion: i32,
    /// Child node ids, hashed and compared by the name stored in each child's slot.
    pub table: HashTable<u32>,
}

pub(super) struct Node {
    pub czxid: i64,
    pub mzxid: i64,
    pub ctime: i64,
    pub mtime: i64,
    pub ephemeral_owner: i64,
    pub acl: AclRef,
    pub version: i32,
    pub aversion: i32,
    /// Parent's slot index; the root points at itself.
    pub parent: u32,
    /// Name length in bytes, with `NULL_DATA` as the top bit.
    name_len: u32,
    /// Data bytes followed by name bytes.
    blob: Box<[u8]>,
    pub kids: Option<Box<Kids>>,
}

impl Node {
    /// Builds a slot. `name.len()` must be at most `MAX_NAME_LEN` (checked by the caller).
    pub fn new(
        name: &str,
        data: Option<Vec<u8>>,
        acl: AclRef,
        stat: &StatPersisted,
        parent: u32,
    ) -> Node {
        let (name_len, blob) = pack(name.as_bytes(), data);
        let mut node = Node {
            czxid: stat.czxid,
            mzxid: stat.mzxid,
            ctime: stat.ctime,
            mtime: stat.mtime,
            ephemeral_owner: stat.ephemeral_owner,
            acl,
            version: stat.version,
            aversion: stat.aversion,
            parent,
            name_len,
            blob,
            kids: None,
        };
        node.set_cversion_pzxid_raw(stat.cversion, stat.pzxid);
        node
    }

    fn name_bytes_len(&self) -> usize {
        (self.name_len & !NULL_DATA) as usize
    }

    fn data_len(&self) -> usize {
        self.blob.len() - self.name_bytes_len()
    }

    pub fn name_bytes(&self) -> &[u8] {
        &self.blob[self.data_len()..]
    }

    /// The name as text. Names are only ever copied from `&str`, so the check never fails;
    /// it is kept (instead of an unchecked conversion) because names are short.
    pub fn name(&self) -> &str {
        std::str::from_utf8(self.name_bytes()).unwrap_or("\u{fffd}")
    }

    pub fn data(&self) -> Option<&[u8]> {
        if self.name_len & NULL_DATA != 0 {
            None
        } else {
            Some(&self.blob[..self.data_len()])
        }
    }

    /// Data length as ZooKeeper reports it (0 for null).
    pub fn data_length(&self) -> usize {
        self.data_len()
    }

    /// Replaces the data, keeping the name.
    pub fn replace_data(&mut self, data: Option<Vec<u8>>) {
        let name_len = self.name_bytes_len();
        let start = self.blob.len() - name_len;
        let (len_field, blob) = pack(&self.blob[start..], data);
        self.name_len = len_field;
        self.blob = blob;
    }

    pub fn pzxid(&self) -> i64 {
        self.kids.as_ref().map_or(self.czxid, |k| k.pzxid)
    }

    pub fn cversion(&self) -> i32 {
        self.kids.as_ref().map_or(0, |k| k.cversion)
    }

    pub fn num_children(&self) -> usize {
        self.kids.as_ref().map_or(0, |k| k.table.len())
    }

    /// Sets cversion and pzxid, allocating `Kids` only when they leave their defaults.
    pub fn set_cversion_pzxid_raw(&mut self, cversion: i32, pzxid: i64) {
        match &mut self.kids {
            Some(k) => {
                k.cversion = cversion;
                k.pzxid = pzxid;
            }
            None => {
                if cversion != 0 || pzxid != self.czxid {
                    self.kids = Some(Box::new(Kids {
                        pzxid,
                        cversion,
                        table: HashTable::new(),
                    }));
                }
            }
        }
    }

    pub fn stat_persisted(&self) -> StatPersisted {
        StatPersisted {
            czxid: self.czxid,
            mzxid: self.mzxid,
            ctime: self.ctime,
            mtime: self.mtime,
            version: self.version,
            cversion: self.cversion(),
            aversion: self.aversion,
            ephemeral_owner: self.ephemeral_owner,
            pzxid: self.pzxid(),
        }
    }

    /// Overwrites every persisted stat field (snapshot loading).
    pub fn set_stat_persisted(&mut self, stat: &StatPersisted) {
        self.czxid = stat.czxid;
        self.mzxid = stat.mzxid;
        self.ctime = stat.ctime;
        self.mtime = stat.mtime;
        self.version = stat.version;
        self.aversion = stat.aversion;
        self.ephemeral_owner = stat.ephemeral_owner;
        self.set_cversion_pzxid_raw(stat.cversion, stat.pzxid);
    }
}

/// Packs data and name into one boxed slice, reusing the data `Vec`'s allocation.
fn pack(name: &[u8], data: Option<Vec<u8>>) -> (u32, Box<[u8]>) {
    let is_null = data.is_none();
    let mut buf = data.unwrap_or_default();
    buf.reserve_exact(name.len());
    buf.extend_from_slice(name);
    // MAX_NAME_LEN is enforced by the tree before a node is built; clamp defensively.
    let len = u32::try_from(name.len()).unwrap_or(u32::MAX) & !NULL_DATA;
    let field = if is_null { len | NULL_DATA } else { len };
    (field, buf.into_boxed_slice())
}
