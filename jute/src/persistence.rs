//! `module org.apache.zookeeper.server.persistence`: on-disk file headers.

use crate::codec::jute_record;

jute_record! {
    /// Header at the start of every snapshot and transaction log file.
    FileHeader {
        /// "ZKSN" (snapshot) or "ZKLG" (log) as a big-endian int.
        magic: i32,
        /// File format version (2).
        version: i32,
        /// Database id; unused (snapshots carry -1, logs 0).
        dbid: i64,
    }
}
