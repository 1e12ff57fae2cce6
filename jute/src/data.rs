//! `module org.apache.zookeeper.data`: the records shared by client and
//! server that describe znodes and identities. Same order as the IDL.

use crate::codec::jute_record;

jute_record! {
    /// An identity under an authentication scheme, e.g. `world:anyone` or
    /// `digest:user:hash`; the subject of an [`ACL`] entry.
    Id {
        scheme: String,
        id: String,
    }
}

jute_record! {
    /// One access-control entry of a znode: what `id` may do.
    ACL {
        /// Bit set of `crate::consts::Perms`.
        perms: i32,
        id: Id,
    }
}

jute_record! {
    /// Znode metadata as clients see it (68 bytes on the wire).
    Stat {
        /// Zxid of the change that created the znode.
        czxid: i64,
        /// Zxid of the change that last modified the data.
        mzxid: i64,
        /// Creation time, milliseconds since the epoch.
        ctime: i64,
        /// Last data modification time, milliseconds since the epoch.
        mtime: i64,
        /// Data version.
        version: i32,
        /// Child list version.
        cversion: i32,
        /// ACL version.
        aversion: i32,
        /// Owning session if the znode is ephemeral, else 0.
        ephemeral_owner: i64,
        /// Length of the data in bytes.
        data_length: i32,
        /// Number of children.
        num_children: i32,
        /// Zxid of the last change to the children.
        pzxid: i64,
    }
}

jute_record! {
    /// Znode metadata as the server stores it in snapshots: [`Stat`] minus
    /// the two fields derivable from the node itself (dataLength,
    /// numChildren).
    StatPersisted {
        czxid: i64,
        mzxid: i64,
        ctime: i64,
        mtime: i64,
        version: i32,
        cversion: i32,
        aversion: i32,
        ephemeral_owner: i64,
        pzxid: i64,
    }
}

jute_record! {
    /// One authenticated identity of a session, as returned by `whoAmI`.
    ClientInfo {
        /// Authentication scheme, e.g. "ip", "digest", "sasl".
        auth_scheme: String,
        /// User name or other id (for example the client's IP).
        user: String,
    }
}
