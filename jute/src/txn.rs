//! `module org.apache.zookeeper.txn`: the transaction records written to the
//! transaction log and proposed between servers. Same order as the IDL.
//!
//! A logged transaction is a [`TxnHeader`] whose `type_` (an op code)
//! selects the body record, optionally followed by a [`TxnDigest`].

use crate::codec::jute_record;
use crate::data::ACL;

jute_record! {
    /// Digest of the data tree after a transaction, for consistency checks.
    TxnDigest {
        version: i32,
        tree_digest: i64,
    }
}

jute_record! {
    /// Prefix of every transaction.
    TxnHeader {
        /// The session that issued the request.
        client_id: i64,
        /// The request's xid.
        cxid: i32,
        zxid: i64,
        /// Leader's wall-clock time, milliseconds since the epoch.
        time: i64,
        /// Op code of the body.
        type_: i32,
    }
}

jute_record! {
    /// Create transaction of very old logs (before parentCVersion existed).
    CreateTxnV0 {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<ACL>,
        ephemeral: bool,
    }
}

jute_record! {
    /// Creates a persistent or ephemeral znode.
    CreateTxn {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<ACL>,
        ephemeral: bool,
        /// The parent's cversion after this create.
        parent_c_version: i32,
    }
}

jute_record! {
    /// Creates a TTL znode.
    CreateTTLTxn {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<ACL>,
        parent_c_version: i32,
        ttl: i64,
    }
}

jute_record! {
    /// Creates a container znode.
    CreateContainerTxn {
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<ACL>,
        parent_c_version: i32,
    }
}

jute_record! {
    /// Deletes a znode (also used for deleteContainer).
    DeleteTxn {
        path: String,
    }
}

jute_record! {
    /// Sets a znode's data; `version` is the new data version.
    SetDataTxn {
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    }
}

jute_record! {
    /// A version check inside a multi transaction.
    CheckVersionTxn {
        path: String,
        version: i32,
    }
}

jute_record! {
    /// Sets a znode's ACL; `version` is the new ACL version.
    SetACLTxn {
        path: String,
        acl: Vec<ACL>,
        version: i32,
    }
}

jute_record! {
    /// Legacy quota transaction; no longer produced.
    SetMaxChildrenTxn {
        path: String,
        max: i32,
    }
}

jute_record! {
    /// Opens a session with the negotiated timeout.
    CreateSessionTxn {
        time_out: i32,
    }
}

jute_record! {
    /// Closes a session, listing the ephemerals to delete with it.
    CloseSessionTxn {
        paths2_delete: Vec<String>,
    }
}

jute_record! {
    /// A failed op (body of an error transaction, also inside multis).
    ErrorTxn {
        err: i32,
    }
}

jute_record! {
    /// One op of a [`MultiTxn`]: an op code and that op's encoded txn.
    Txn {
        type_: i32,
        data: Option<Vec<u8>>,
    }
}

jute_record! {
    /// A multi transaction: all its ops, applied atomically.
    MultiTxn {
        txns: Vec<Txn>,
    }
}
