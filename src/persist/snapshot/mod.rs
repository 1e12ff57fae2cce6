//! Snapshots in ZooKeeper's own on-disk format (`FileSnap`, `SnapStream`), so a dataDir
//! moves between Java ZooKeeper 3.8 and FerroKeeper in both directions.
//!
//! # Files
//! `<dataDir>/version-2/snapshot.<zxid in lowercase hex, no padding>[.gz|.snappy]`
//! (`Util.makeSnapshotName`). The suffix follows `zookeeper.snapshot.compression.method`
//! when writing; when reading, the compression is taken from the suffix alone
//! (`SnapStream.getStreamMode`: the text after the last '.', case-insensitive, anything
//! else meaning uncompressed). The zxid is the second '.'-separated part, parsed as hex
//! (`Util.getZxidFromName`); files whose name does not parse are not snapshots.
//!
//! # Stream (all Jute: big-endian ints/longs, length-prefixed strings and buffers)
//! ```text
//! FileHeader        int magic "ZKSN" (0x5a4b534e), int version 2, long dbid -1
//! sessions          int count, then count × (long id, int timeout)
//! ACL cache         int count, then count × (long id, int n, n × ACL(int perms,
//!                   ustring scheme, ustring id))
//! nodes, preorder   ustring path, buffer data (-1 = null), long acl,
//!                   StatPersisted(long czxid, long mzxid, long ctime, long mtime,
//!                   int version, int cversion, int aversion, long ephemeralOwner,
//!                   long pzxid)
//!                   — the root first, with path "" (not "/"), then "/zookeeper", ...
//! end marker        ustring "/"
//! seal 1            long Adler-32 of every byte above, ustring "/"
//! zxid digest       long zxid, int digestVersion (2), long digest   [digest enabled]
//! seal 2            long Adler-32 of every byte above, seal 1 included, ustring "/"
//! ```
//! The checksum is that of `CheckedOutputStream`, which wraps the compressor: it covers
//! the uncompressed bytes, from the first header byte up to (not including) the seal's
//! own `long`; the second seal's value continues the same running checksum. A snapshot
//! without the digest section (digest disabled, or written before 3.6) simply ends after
//! seal 1; readers detect that by end of stream. Digest versions below 2 store the digest
//! as a hex `ustring`. gzip is `GZIPOutputStream`'s; snappy is xerial snappy-java's own
//! stream format (see [`xsnappy`]).
//!
//! # Pieces
//! * [`SnapshotWriter`]: incremental writer for fuzzy snapshots (plain values in, so the
//!   core can feed it between request batches); temp file, fsync, rename, fsync dir.
//! * [`SnapshotReader`]: streaming reader; [`SnapshotReader::verify_checksum_and_digest`].
//! * [`find_valid_snapshots`] (`FileSnap.findNValidSnapshots` + `SnapStream.isValidSnapshot`),
//!   [`find_newest_valid`] (fully verified), [`load_into`] / [`load_newest_into`]
//!   (`FileSnap.deserialize` into a [`DataTree`](crate::tree::DataTree) and
//!   [`AclCache`](crate::acl::AclCache)), [`write_snapshot_from`] (whole tree at once).
//! * [`sync_stream`]: the same body as a leader streams it to a learner in a SNAP sync
//!   (no header, seals or compression; a `BenWasHere` signature), over any `Write` /
//!   `BufRead`: [`SnapSyncWriter`], [`write_snap_sync`], [`load_snap_sync`];
//!   [`write_snapshot_from_snap_stream`] turns such a stream into a snapshot file.

mod error;
mod load;
mod reader;
mod scan;
mod sink;
mod stream;
pub mod sync_stream;
mod writer;
pub mod xsnappy;

#[cfg(test)]
mod tests;

pub use crate::config::SnapshotCompression;
pub use error::{Result, SnapshotError, SnapshotErrorKind};
pub use load::{load_into, load_newest_into, write_snapshot_from, DigestCheck, LoadedSnapshot};
pub use reader::{NodeIter, SnapshotNode, SnapshotReader, SnapshotTrailer};
pub use scan::{
    compression_from_name, find_newest_valid, find_valid_snapshots, quick_check,
    remove_stale_temp_files, zxid_from_name, NewestValid, Rejected, SnapshotFile, SnapshotScan,
};
pub use sink::sink_factory;
pub use sync_stream::{
    load_snap_sync, write_snap_sync, write_snapshot_from_snap_stream, SnapSyncLoaded,
    SnapSyncWriter,
};
pub use writer::SnapshotWriter;

use std::path::{Path, PathBuf};

/// `FileSnap.SNAP_MAGIC`: "ZKSN" as a big-endian int.
pub const SNAP_MAGIC: i32 = i32::from_be_bytes(*b"ZKSN");
/// `FileSnap.VERSION`.
pub const SNAP_VERSION: i32 = 2;
/// The dbid every snapshot header carries (`FileSnap.dbId`).
pub const SNAP_DBID: i64 = -1;
/// `FileSnap.SNAPSHOT_FILE_PREFIX`.
pub const SNAPSHOT_FILE_PREFIX: &str = "snapshot";
/// `FileTxnSnapLog.version` + `VERSION`: the subdirectory of dataDir holding the files.
pub const VERSION_DIR: &str = "version-2";

/// `<data_dir>/version-2`, where ZooKeeper keeps snapshots (and, without a separate
/// dataLogDir, the txn logs).
pub fn snapshot_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(VERSION_DIR)
}

/// File extension `SnapStream.StreamMode.getFileExtension` gives a compression.
pub fn file_extension(compression: SnapshotCompression) -> &'static str {
    match compression {
        SnapshotCompression::None => "",
        SnapshotCompression::Gzip => ".gz",
        SnapshotCompression::Snappy => ".snappy",
    }
}

/// `Util.makeSnapshotName`: `snapshot.<Long.toHexString(zxid)><extension>`.
pub fn snapshot_file_name(zxid: i64, compression: SnapshotCompression) -> String {
    // `{:x}` on an i64 prints the two's complement, as Long.toHexString does.
    format!(
        "{SNAPSHOT_FILE_PREFIX}.{zxid:x}{}",
        file_extension(compression)
    )
}

/// The zxid digest a snapshot carries after its tree (`DataTree.ZxidDigest`): the tree
/// digest as of `zxid`, so that replaying the log up to `zxid` can be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotDigest {
    /// Last processed zxid the digest belongs to; 0 when the server had processed nothing
    /// yet (ZooKeeper then writes an all-zero digest rather than none).
    pub zxid: i64,
    /// `DigestCalculator.DIGEST_VERSION` of the writer (2 since 3.6).
    pub digest_version: i32,
    pub digest: i64,
}

impl SnapshotDigest {
    /// A digest of the current version ([`crate::tree::DIGEST_VERSION`]).
    pub fn new(zxid: i64, digest: i64) -> Self {
        SnapshotDigest {
            zxid,
            digest_version: crate::tree::DIGEST_VERSION,
            digest,
        }
    }

    /// What ZooKeeper writes when digests are enabled but no txn was processed yet.
    pub fn empty() -> Self {
        SnapshotDigest::new(0, 0)
    }

    /// True for the all-zero digest (ZooKeeper ignores it when loading).
    pub fn is_empty(&self) -> bool {
        self.zxid <= 0
    }
}

/// Hands every node of `tree` to `write` in the pre-order a snapshot
/// stores them (parents before children, from the root), stopping at the
/// first error: the one walk behind the snapshot file and the SNAP stream.
pub(crate) fn write_tree_nodes<E>(
    tree: &crate::tree::DataTree,
    mut write: impl FnMut(
        &str,
        Option<&[u8]>,
        i64,
        &crate::tree::StatPersisted,
    ) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut result = Ok(());
    tree.for_each_preorder(|path, id| {
        if result.is_ok() {
            result = write(
                path,
                tree.node_data(id),
                tree.node_acl(id).0,
                &tree.node_stat_persisted(id),
            );
        }
    });
    result
}
