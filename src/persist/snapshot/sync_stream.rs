//! The snapshot a leader streams to a learner in a SNAP sync.
//!
//! After the SNAP packet, `LearnerHandler.run` writes, on the same Jute
//! archive over the socket:
//!
//! ```text
//! SerializeUtils.serializeSnapshot   int count, count × (long id, int timeout)
//!   DataTree.serialize               ACL cache, nodes in preorder from the root
//!                                    (path ""), end marker ustring "/"
//! signature                          ustring "BenWasHere"
//! ```
//!
//! That is a snapshot file's body without the file header, the checksum seals
//! and the zxid digest, and without compression — the same encoding, so the
//! file reader parses it ([`SnapshotReader::snap_sync`]) and
//! [`load_snap_sync`] loads it the way `ZKDatabase.deserializeSnapshot` does
//! (the database is replaced, not merged). The learner then reads the
//! signature and takes the SNAP packet's zxid as its last processed one.
//! Nothing is allocated ahead of the bytes that arrive: a hostile length costs
//! at most what the peer sends (and `max_len`, `jute.maxbuffer`, stops it).

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use jute::codec::{write_buffer, write_int, write_long, write_ustring};
use jute::data::ACL;
use jute::Record;

use super::error::{Result, SnapshotError, SnapshotErrorKind};
use super::load::load_body;
use super::reader::SnapshotReader;
use super::writer::{write_stat, SnapshotWriter};
use super::{SnapshotCompression, SnapshotDigest};
use crate::acl::AclCache;
use crate::tree::{DataTree, StatPersisted};

/// What `LearnerHandler` writes after the snapshot and `Learner` checks.
pub const SIGNATURE: &str = "BenWasHere";

/// Flushed to the stream once this much is buffered.
const CHUNK: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Sessions,
    AclCache,
    Root,
    Nodes,
}

/// Writes the SNAP-sync form piece by piece, in the format's order:
/// [`write_sessions`](Self::write_sessions), [`write_acl_cache`](Self::write_acl_cache),
/// [`write_node`](Self::write_node) for every node in preorder starting with the
/// root (path `""`), then [`finish`](Self::finish). Holds no borrow between
/// calls, so the task owning the tree can feed it in chunks (a fuzzy snapshot,
/// as Java's leader serializes its live tree; the learner repairs it with the
/// commits queued after it).
pub struct SnapSyncWriter<W: Write> {
    out: W,
    buf: Vec<u8>,
    stage: Stage,
    written: u64,
    nodes: u64,
}

fn usage(what: String) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("SNAP sync stream: {what}"),
    )
}

fn count(n: usize, what: &str) -> io::Result<i32> {
    i32::try_from(n).map_err(|_| usage(format!("{n} {what}: more than an int holds")))
}

impl<W: Write> SnapSyncWriter<W> {
    pub fn new(out: W) -> Self {
        SnapSyncWriter {
            out,
            buf: Vec::with_capacity(CHUNK + 4096),
            stage: Stage::Sessions,
            written: 0,
            nodes: 0,
        }
    }

    fn expect(&self, stage: Stage, call: &str) -> io::Result<()> {
        if self.stage == stage {
            Ok(())
        } else {
            Err(usage(format!(
                "{call} called while expecting {:?} (order: sessions, ACL cache, root, nodes, \
                 finish)",
                self.stage
            )))
        }
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.out.write_all(&self.buf)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// The session table (`(id, timeout ms)`, any order), as
    /// `SerializeUtils.serializeSnapshot` writes it.
    pub fn write_sessions(
        &mut self,
        sessions: impl IntoIterator<Item = (i64, i32)>,
    ) -> io::Result<()> {
        self.expect(Stage::Sessions, "write_sessions")?;
        let mut body = Vec::new();
        let mut n = 0usize;
        for (id, timeout) in sessions {
            write_long(&mut body, id);
            write_int(&mut body, timeout);
            n += 1;
        }
        write_int(&mut self.buf, count(n, "sessions")?);
        self.buf.extend_from_slice(&body);
        self.stage = Stage::AclCache;
        self.flush_if_full()
    }

    /// The ACL cache (`ReferenceCountedACLCache.serialize`).
    pub fn write_acl_cache<'a>(
        &mut self,
        entries: impl IntoIterator<Item = (i64, &'a [ACL])>,
    ) -> io::Result<()> {
        self.expect(Stage::AclCache, "write_acl_cache")?;
        let mut body = Vec::new();
        let mut n = 0usize;
        for (id, acls) in entries {
            write_long(&mut body, id);
            write_int(&mut body, count(acls.len(), "ACLs in one list")?);
            for acl in acls {
                acl.serialize(&mut body);
            }
            n += 1;
        }
        write_int(&mut self.buf, count(n, "ACL lists")?);
        self.buf.extend_from_slice(&body);
        self.stage = Stage::Root;
        self.flush_if_full()
    }

    /// One node (`DataTree.serializeNodeData`): the root first, as `""`, then
    /// every other path (starting with '/', not "/" itself), parents first.
    pub fn write_node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> io::Result<()> {
        match self.stage {
            Stage::Root if !path.is_empty() => {
                return Err(usage(format!(
                    "the first node must be the root, written as \"\", not {path:?}"
                )))
            }
            Stage::Nodes if !path.starts_with('/') || path == "/" => {
                return Err(usage(format!(
                    "node path {path:?} must start with '/' and not be \"/\""
                )))
            }
            Stage::Root | Stage::Nodes => {}
            _ => self.expect(Stage::Root, "write_node")?,
        }
        count(path.len(), "bytes of path")?;
        if let Some(d) = data {
            count(d.len(), "bytes of data")?;
        }
        write_ustring(&mut self.buf, path);
        write_buffer(&mut self.buf, data);
        write_long(&mut self.buf, acl);
        write_stat(&mut self.buf, stat);
        self.stage = Stage::Nodes;
        self.nodes += 1;
        self.flush_if_full()
    }

    /// Nodes written so far, the root included.
    pub fn nodes_written(&self) -> u64 {
        self.nodes
    }

    /// Writes the end marker "/" and the signature, flushes, and hands the
    /// stream back with the number of bytes written.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        self.expect(Stage::Nodes, "finish")?;
        write_ustring(&mut self.buf, "/");
        write_ustring(&mut self.buf, SIGNATURE);
        self.out.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        self.out.flush()?;
        Ok((self.out, self.written))
    }
}

/// Writes the whole SNAP-sync form of `tree`, `acl_cache` and `sessions` to
/// `out` at once (nothing changes meanwhile). Returns the stream and the
/// bytes written.
pub fn write_snap_sync<W: Write>(
    out: W,
    tree: &DataTree,
    acl_cache: &AclCache,
    sessions: impl IntoIterator<Item = (i64, i32)>,
) -> io::Result<(W, u64)> {
    let mut w = SnapSyncWriter::new(out);
    w.write_sessions(sessions)?;
    w.write_acl_cache(acl_cache.iter())?;
    super::write_tree_nodes(tree, |path, data, acl, stat| {
        w.write_node(path, data, acl, stat)
    })?;
    w.finish()
}

/// What [`load_snap_sync`] loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapSyncLoaded {
    pub nodes: u64,
    pub sessions: usize,
    /// Bytes consumed from the stream, signature included.
    pub bytes: u64,
}

/// `ZKDatabase.deserializeSnapshot` + the signature check of
/// `Learner.syncWithLeader`: replaces `tree` and `acl_cache` with the streamed
/// snapshot and extends `sessions` (which the caller clears first, as
/// `ZKDatabase.clear` does) once everything, signature included, has read
/// well. Returns the stream positioned at the packet after the signature.
///
/// On error the tree and ACL cache hold partial contents and must be
/// discarded (the learner drops the connection and syncs again).
pub fn load_snap_sync<R: BufRead>(
    src: R,
    label: &Path,
    max_len: Option<usize>,
    tree: &mut DataTree,
    acl_cache: &mut AclCache,
    sessions: &mut impl Extend<(i64, i32)>,
) -> Result<(SnapSyncLoaded, R)> {
    let mut reader = SnapshotReader::snap_sync(src, label, max_len);
    let (table, nodes) = load_body(&mut reader, label, tree, acl_cache)?;
    let bytes_before_signature = reader.offset();
    let rest = reader.finish_snap_sync()?;
    let signature_len = 4 + SIGNATURE.len() as u64;
    let count = table.len();
    sessions.extend(table);
    Ok((
        SnapSyncLoaded {
            nodes,
            sessions: count,
            bytes: bytes_before_signature + signature_len,
        },
        rest,
    ))
}

/// Bytes of the end-of-nodes marker, ustring "/".
const END_MARKER_LEN: usize = 4 + 1;

/// Writes a SNAP stream (as [`write_snap_sync`] makes it, or as a leader sends it; the
/// `BenWasHere` signature may be there or not) as the snapshot file
/// `snapshot.<zxid hex>[.ext]` in `dir`, in ZooKeeper's file format: file header, the
/// stream's sessions, ACL cache and nodes, end marker, seal, and `digest` with the second
/// seal when given. Temporary file, fsync, rename, fsync of the directory, as every
/// snapshot ([`SnapshotWriter`]).
///
/// The stream is parsed to its end first: the seals vouch for whatever bytes they
/// cover, so garbage must not get that far. It must hold the root (path `""`) first.
pub fn write_snapshot_from_snap_stream(
    dir: &Path,
    zxid: i64,
    compression: SnapshotCompression,
    stream: &[u8],
    digest: Option<SnapshotDigest>,
) -> Result<PathBuf> {
    let label = dir.join(format!("<SNAP stream for snapshot 0x{zxid:x}>"));
    let malformed = |offset: u64, reading: &'static str, detail: String| {
        SnapshotError::new(
            &label,
            Some(offset),
            SnapshotErrorKind::Malformed { reading, detail },
        )
    };
    let mut reader = SnapshotReader::snap_sync(stream, &label, None);
    reader.sessions()?;
    reader.acl_cache()?;
    let mut nodes = 0u64;
    loop {
        let at = reader.offset();
        let Some(node) = reader.next_node()? else {
            break;
        };
        if nodes == 0 && !node.path.is_empty() {
            return Err(malformed(
                at,
                "path",
                format!("the first node must be the root, \"\", not {:?}", node.path),
            ));
        }
        nodes += 1;
    }
    if nodes == 0 {
        return Err(malformed(reader.offset(), "path", "no root node".into()));
    }
    let end = usize::try_from(reader.offset()).unwrap_or(usize::MAX);
    if end < END_MARKER_LEN || end > stream.len() {
        return Err(malformed(
            reader.offset(),
            "path",
            "end marker out of place".into(),
        ));
    }
    if end < stream.len() {
        let rest = reader.finish_snap_sync()?;
        if !rest.is_empty() {
            return Err(malformed(
                (stream.len() - rest.len()) as u64,
                "signature",
                format!("{} bytes after the signature", rest.len()),
            ));
        }
    }
    let mut writer = SnapshotWriter::create(dir, zxid, compression)?;
    writer.write_encoded_body(&stream[..end - END_MARKER_LEN], nodes)?;
    writer.finish(digest)
}
