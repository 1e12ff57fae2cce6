//! [`SnapshotReader`]: streams one snapshot file.

use std::io::BufRead;
use std::path::Path;

use jute::data::{Id, ACL};

use super::error::{Result, SnapshotErrorKind};
use super::scan::{compression_from_name, zxid_from_name};
use super::stream::CheckedInput;
use super::{SnapshotCompression, SnapshotDigest, SNAP_MAGIC};
use crate::tree::StatPersisted;

/// One node record of a snapshot. The root's path is `""`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotNode {
    pub path: String,
    /// `None` for null data (distinct from empty, as in ZooKeeper).
    pub data: Option<Vec<u8>>,
    /// Id in the snapshot's ACL cache (-1 = OPEN_ACL_UNSAFE).
    pub acl: i64,
    pub stat: StatPersisted,
}

/// What follows the nodes, once verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotTrailer {
    /// The Adler-32 stored in (and matching) the first seal.
    pub checksum: u32,
    /// The zxid digest, if the snapshot has one (3.6+ with digests enabled).
    pub digest: Option<SnapshotDigest>,
    /// The digest section was cut short. ZooKeeper treats that like a snapshot without a
    /// digest (an `EOFException` while reading it means "older snapshot") and so do we;
    /// `digest` is then `None`.
    pub digest_truncated: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Sessions,
    AclCache,
    Nodes,
    Trailer,
    Done,
}

/// Reads a snapshot in file order: [`sessions`](Self::sessions),
/// [`acl_cache`](Self::acl_cache), [`next_node`](Self::next_node) / [`nodes`](Self::nodes)
/// until the end marker, then [`verify_checksum_and_digest`](Self::verify_checksum_and_digest).
/// Calling a method out of order is an error, except that `verify_checksum_and_digest`
/// reads (and discards) whatever has not been read yet, so
/// `SnapshotReader::open(p)?.verify_checksum_and_digest()` validates a whole file.
///
/// Nothing is trusted before the seal is checked: a caller loading a tree must treat it
/// as garbage if verification fails (ZooKeeper also loads first and checks after).
pub struct SnapshotReader<R = Box<dyn BufRead + Send>> {
    input: CheckedInput<R>,
    compression: SnapshotCompression,
    zxid: Option<i64>,
    version: i32,
    dbid: i64,
    stage: Stage,
}

impl SnapshotReader {
    /// Opens a snapshot, choosing the decompression from the file name as ZooKeeper does,
    /// and reads the file header (magic must be "ZKSN"; version and dbid are not checked,
    /// as in `FileSnap.deserialize`).
    pub fn open(path: &Path) -> Result<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let compression = compression_from_name(&name);
        let mut input = CheckedInput::open(path, compression)?;
        let magic = input.read_int("fileheader.magic")?;
        if magic != SNAP_MAGIC {
            return Err(super::SnapshotError::new(
                path,
                Some(0),
                SnapshotErrorKind::BadMagic(magic),
            ));
        }
        let version = input.read_int("fileheader.version")?;
        let dbid = input.read_long("fileheader.dbid")?;
        Ok(SnapshotReader {
            input,
            compression,
            zxid: zxid_from_name(&name),
            version,
            dbid,
            stage: Stage::Sessions,
        })
    }
}

impl<R: BufRead> SnapshotReader<R> {
    /// Reads the snapshot a leader streams after a SNAP packet
    /// (`SerializeUtils.serializeSnapshot` then the `BenWasHere` signature,
    /// see [`super::sync_stream`]): no file header, no compression, no seals.
    /// `label` names the stream in errors; `max_len` bounds each data or
    /// string field (pass `jute.maxbuffer`, as Java's learner archive has it).
    /// End with [`Self::finish_snap_sync`].
    pub fn snap_sync(src: R, label: &Path, max_len: Option<usize>) -> Self {
        SnapshotReader {
            input: CheckedInput::over(src, label, max_len),
            compression: SnapshotCompression::None,
            zxid: None,
            version: 0,
            dbid: 0,
            stage: Stage::Sessions,
        }
    }

    /// Ends a SNAP-sync stream: reads any nodes not yet read, then the
    /// signature, which must be `BenWasHere` (`Learner.syncWithLeader`:
    /// "Missing signature"). Returns the stream, positioned at the next packet.
    pub fn finish_snap_sync(mut self) -> Result<R> {
        while self.stage == Stage::Nodes {
            self.next_node()?;
        }
        self.expect(Stage::Trailer, "finish_snap_sync()")?;
        let signature = self.input.read_string("signature")?;
        if signature.as_deref() != Some(super::sync_stream::SIGNATURE) {
            return Err(self.input.malformed(
                "signature",
                format!("missing signature: got {signature:?}, expected \"BenWasHere\""),
            ));
        }
        self.stage = Stage::Done;
        Ok(self.input.into_inner())
    }

    /// Uncompressed bytes parsed so far.
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    pub fn path(&self) -> &Path {
        self.input.path()
    }

    /// The zxid in the file name (`None` if the name is not `snapshot.<hex>...`).
    pub fn zxid(&self) -> Option<i64> {
        self.zxid
    }

    pub fn compression(&self) -> SnapshotCompression {
        self.compression
    }

    /// The header's version (2 for every snapshot ZooKeeper 3.x writes) and dbid (-1).
    pub fn header(&self) -> (i32, i64) {
        (self.version, self.dbid)
    }

    fn expect(&self, stage: Stage, call: &str) -> Result<()> {
        if self.stage == stage {
            Ok(())
        } else {
            Err(super::SnapshotError::usage(
                self.path(),
                format!("{call} called while at {:?}", self.stage),
            ))
        }
    }

    /// The session table: `(id, timeout ms)` (`SerializeUtils.deserializeSnapshot`; a
    /// negative count means none, as its `while (count > 0)` loop has it).
    pub fn sessions(&mut self) -> Result<Vec<(i64, i32)>> {
        self.expect(Stage::Sessions, "sessions()")?;
        let count = self.input.read_int("count")?;
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1 << 16));
        for _ in 0..count.max(0) {
            let id = self.input.read_long("id")?;
            let timeout = self.input.read_int("timeout")?;
            out.push((id, timeout));
        }
        self.stage = Stage::AclCache;
        Ok(out)
    }

    /// The ACL cache, in file order (`ReferenceCountedACLCache.deserialize`; a later
    /// entry with the same id replaces an earlier one there).
    pub fn acl_cache(&mut self) -> Result<Vec<(i64, Vec<ACL>)>> {
        self.expect(Stage::AclCache, "acl_cache()")?;
        let count = self.input.read_int("map")?;
        let mut out = Vec::with_capacity(usize::try_from(count).unwrap_or(0).min(1 << 12));
        for _ in 0..count.max(0) {
            let id = self.input.read_long("long")?;
            let n = self.input.read_int("acls")?;
            if n == -1 {
                return Err(self.input.malformed(
                    "acls",
                    format!("null ACL list for id {id} (ZooKeeper: \"missing acls\")"),
                ));
            }
            let mut acls = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(64));
            for _ in 0..n.max(0) {
                let perms = self.input.read_int("acl.perms")?;
                let scheme = self.input.read_string("acl.id.scheme")?.unwrap_or_default();
                let id = self.input.read_string("acl.id.id")?.unwrap_or_default();
                acls.push(ACL {
                    perms,
                    id: Id { scheme, id },
                });
            }
            out.push((id, acls));
        }
        self.stage = Stage::Nodes;
        Ok(out)
    }

    /// The next node, or `None` at the end marker "/" (`DataTree.deserialize`).
    pub fn next_node(&mut self) -> Result<Option<SnapshotNode>> {
        self.expect(Stage::Nodes, "next_node()")?;
        let Some(path) = self.input.read_string("path")? else {
            return Err(self.input.malformed("path", "null node path"));
        };
        if path == "/" {
            self.stage = Stage::Trailer;
            return Ok(None);
        }
        let data = self.input.read_buffer("node.data")?;
        let acl = self.input.read_long("node.acl")?;
        let stat = StatPersisted {
            czxid: self.input.read_long("statpersisted.czxid")?,
            mzxid: self.input.read_long("statpersisted.mzxid")?,
            ctime: self.input.read_long("statpersisted.ctime")?,
            mtime: self.input.read_long("statpersisted.mtime")?,
            version: self.input.read_int("statpersisted.version")?,
            cversion: self.input.read_int("statpersisted.cversion")?,
            aversion: self.input.read_int("statpersisted.aversion")?,
            ephemeral_owner: self.input.read_long("statpersisted.ephemeralOwner")?,
            pzxid: self.input.read_long("statpersisted.pzxid")?,
        };
        Ok(Some(SnapshotNode {
            path,
            data,
            acl,
            stat,
        }))
    }

    /// The remaining nodes as an iterator; it ends at the end marker or after the first
    /// error.
    pub fn nodes(&mut self) -> NodeIter<'_, R> {
        NodeIter {
            reader: self,
            done: false,
        }
    }

    /// `SnapStream.checkSealIntegrity`: the stored long must equal the Adler-32 of
    /// everything before it; the "/" after it is read and ignored.
    fn check_seal(&mut self, seal: u8) -> Result<u32> {
        let computed = self.input.checksum();
        let at = self.input.offset();
        let stored = self.input.read_long("val")?;
        self.input.read_string("path")?;
        if stored != i64::from(computed) {
            return Err(super::SnapshotError::new(
                self.path(),
                Some(at),
                SnapshotErrorKind::ChecksumMismatch {
                    seal,
                    stored,
                    computed,
                },
            ));
        }
        Ok(computed)
    }

    /// `DataTree.ZxidDigest.deserialize`. `Ok(None)` at a clean end of stream.
    fn read_digest(&mut self) -> Result<Option<SnapshotDigest>> {
        let mut zxid = [0u8; 8];
        if !self.input.read_exact_or_eof(&mut zxid, "zxid")? {
            return Ok(None);
        }
        let zxid = i64::from_be_bytes(zxid);
        let digest_version = self.input.read_int("digestVersion")?;
        let digest = if digest_version < 2 {
            // "the old version is using hex string as the digest"
            match self.input.read_string("digest")? {
                None => 0,
                Some(hex) => i64::from_str_radix(&hex, 16).map_err(|_| {
                    self.input
                        .malformed("digest", format!("{hex:?} is not a hex long"))
                })?,
            }
        } else {
            self.input.read_long("digest")?
        };
        Ok(Some(SnapshotDigest {
            zxid,
            digest_version,
            digest,
        }))
    }

    /// Reads anything not yet read, checks the seal after the tree, reads the zxid digest
    /// if present and checks the seal after it — exactly what `FileSnap.deserialize` does.
    /// Bytes after the last seal are ignored, as ZooKeeper ignores them.
    pub fn verify_checksum_and_digest(mut self) -> Result<SnapshotTrailer> {
        if self.stage == Stage::Sessions {
            self.sessions()?;
        }
        if self.stage == Stage::AclCache {
            self.acl_cache()?;
        }
        while self.stage == Stage::Nodes {
            self.next_node()?;
        }
        self.expect(Stage::Trailer, "verify_checksum_and_digest()")?;
        let checksum = self.check_seal(1)?;
        let (digest, digest_truncated) = match self.read_digest() {
            Ok(None) => (None, false),
            Ok(Some(d)) => {
                self.check_seal(2)?;
                (Some(d), false)
            }
            Err(e) if e.is_truncated() => (None, true),
            Err(e) => return Err(e),
        };
        self.stage = Stage::Done;
        Ok(SnapshotTrailer {
            checksum,
            digest,
            digest_truncated,
        })
    }
}

/// Iterator over a snapshot's remaining nodes (see [`SnapshotReader::nodes`]).
pub struct NodeIter<'a, R = Box<dyn BufRead + Send>> {
    reader: &'a mut SnapshotReader<R>,
    done: bool,
}

impl<R: BufRead> Iterator for NodeIter<'_, R> {
    type Item = Result<SnapshotNode>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.next_node() {
            Ok(Some(n)) => Some(Ok(n)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
