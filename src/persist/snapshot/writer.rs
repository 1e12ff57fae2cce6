//! [`SnapshotWriter`]: writes one snapshot incrementally.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use jute::codec::{write_buffer, write_int, write_long, write_ustring};
use jute::data::ACL;
use jute::Record;

use super::error::{Result, SnapshotError};
use super::stream::CheckedOutput;
use super::{
    snapshot_file_name, SnapshotCompression, SnapshotDigest, SNAP_DBID, SNAP_MAGIC, SNAP_VERSION,
};
use crate::tree::StatPersisted;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Sessions,
    AclCache,
    Root,
    Nodes,
}

/// Writes a snapshot piece by piece, in the order the format has them:
/// [`write_sessions`](Self::write_sessions) once, [`write_acl_cache`](Self::write_acl_cache)
/// once, [`write_node`](Self::write_node) for every node in preorder starting with the
/// root (path `""`), then [`finish`](Self::finish). Calls out of order are errors.
///
/// Everything goes to a temporary file, `.snapshot.<zxid>[.ext].tmp` in the same
/// directory — a name ZooKeeper's `Util.getZxidFromName` does not parse, so neither
/// ZooKeeper nor FerroKeeper ever takes a half-written file for a snapshot. `finish`
/// fsyncs it, renames it to `snapshot.<zxid>[.ext]` and fsyncs the directory. Dropping the
/// writer unfinished (or [`abort`](Self::abort)) deletes the temporary file.
///
/// The writer holds plain values only and borrows nothing between calls, so the task
/// that owns the tree can feed it in chunks between request batches (a fuzzy snapshot, as
/// ZooKeeper takes them). Each call does blocking file I/O through a 64 KiB buffer.
pub struct SnapshotWriter {
    out: Option<CheckedOutput>,
    temp_path: PathBuf,
    final_path: PathBuf,
    dir: PathBuf,
    stage: Stage,
    nodes: u64,
    scratch: Vec<u8>,
}

impl SnapshotWriter {
    /// Starts `snapshot.<zxid>` (plus the compression's extension) in `dir`, the
    /// `version-2` directory (created if missing), and writes the file header.
    pub fn create(dir: &Path, zxid: i64, compression: SnapshotCompression) -> Result<Self> {
        fs::create_dir_all(dir)
            .map_err(|e| SnapshotError::io(dir, "creating the snapshot directory", e))?;
        let name = snapshot_file_name(zxid, compression);
        let final_path = dir.join(&name);
        let temp_path = dir.join(format!(".{name}.tmp"));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp_path)
            .map_err(|e| SnapshotError::io(&temp_path, "creating", e))?;
        let out = CheckedOutput::new(file, &temp_path, compression)?;
        let mut w = SnapshotWriter {
            out: Some(out),
            temp_path,
            final_path,
            dir: dir.to_path_buf(),
            stage: Stage::Sessions,
            nodes: 0,
            scratch: Vec::with_capacity(4096),
        };
        // FileHeader
        write_int(&mut w.scratch, SNAP_MAGIC);
        write_int(&mut w.scratch, SNAP_VERSION);
        write_long(&mut w.scratch, SNAP_DBID);
        w.flush_scratch()?;
        Ok(w)
    }

    /// Where the snapshot will be once finished.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    /// Uncompressed bytes written so far (for pacing a fuzzy snapshot).
    pub fn bytes_written(&self) -> u64 {
        self.out.as_ref().map_or(0, CheckedOutput::offset)
    }

    /// Nodes written so far, the root included.
    pub fn nodes_written(&self) -> u64 {
        self.nodes
    }

    fn expect(&self, stage: Stage, call: &str) -> Result<()> {
        if self.stage == stage {
            Ok(())
        } else {
            Err(SnapshotError::usage(
                &self.temp_path,
                format!(
                    "{call} called while expecting {:?} (order: sessions, ACL cache, root, \
                     nodes, finish)",
                    self.stage
                ),
            ))
        }
    }

    fn flush_scratch(&mut self) -> Result<()> {
        let Some(out) = self.out.as_mut() else {
            return Err(SnapshotError::usage(
                &self.temp_path,
                "writer already finished",
            ));
        };
        let r = out.put(&self.scratch);
        self.scratch.clear();
        r
    }

    fn count(&self, n: usize, what: &str) -> Result<i32> {
        i32::try_from(n).map_err(|_| {
            SnapshotError::usage(
                &self.temp_path,
                format!("{n} {what}: more than an int holds"),
            )
        })
    }

    /// The session table: `(session id, timeout ms)` pairs, in any order
    /// (`SerializeUtils.serializeSnapshot`).
    pub fn write_sessions(&mut self, sessions: impl IntoIterator<Item = (i64, i32)>) -> Result<()> {
        self.expect(Stage::Sessions, "write_sessions")?;
        let mut body = Vec::new();
        let mut n = 0usize;
        for (id, timeout) in sessions {
            write_long(&mut body, id);
            write_int(&mut body, timeout);
            n += 1;
        }
        let count = self.count(n, "sessions")?;
        write_int(&mut self.scratch, count);
        self.scratch.extend_from_slice(&body);
        self.flush_scratch()?;
        self.stage = Stage::AclCache;
        Ok(())
    }

    /// The ACL cache: `(id, list)` entries (`ReferenceCountedACLCache.serialize`). Id -1
    /// (OPEN_ACL_UNSAFE) is implicit and is normally not among them.
    pub fn write_acl_cache<'a>(
        &mut self,
        entries: impl IntoIterator<Item = (i64, &'a [ACL])>,
    ) -> Result<()> {
        self.expect(Stage::AclCache, "write_acl_cache")?;
        let mut body = Vec::new();
        let mut n = 0usize;
        for (id, acls) in entries {
            write_long(&mut body, id);
            let len = self.count(acls.len(), "ACLs in one list")?;
            write_int(&mut body, len);
            for acl in acls {
                acl.serialize(&mut body);
            }
            n += 1;
        }
        let count = self.count(n, "ACL lists")?;
        write_int(&mut self.scratch, count);
        self.scratch.extend_from_slice(&body);
        self.flush_scratch()?;
        self.stage = Stage::Root;
        Ok(())
    }

    /// One node (`DataTree.serializeNodeData`). The first call must be the root, with
    /// path `""`; every later path starts with '/' and is not "/" itself (that is the
    /// end marker). Parents must come before their children; the writer does not check
    /// that (it keeps no paths), the reader and ZooKeeper do.
    pub fn write_node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<()> {
        match self.stage {
            Stage::Root => {
                if !path.is_empty() {
                    return Err(SnapshotError::usage(
                        &self.temp_path,
                        format!("the first node must be the root, written as \"\", not {path:?}"),
                    ));
                }
            }
            Stage::Nodes => {
                if !path.starts_with('/') || path == "/" {
                    return Err(SnapshotError::usage(
                        &self.temp_path,
                        format!("node path {path:?} must start with '/' and not be \"/\""),
                    ));
                }
            }
            _ => self.expect(Stage::Root, "write_node")?,
        }
        self.count(path.len(), "bytes of path")?;
        if let Some(d) = data {
            self.count(d.len(), "bytes of data")?;
        }
        write_ustring(&mut self.scratch, path);
        write_buffer(&mut self.scratch, data);
        write_long(&mut self.scratch, acl);
        write_stat(&mut self.scratch, stat);
        self.flush_scratch()?;
        self.stage = Stage::Nodes;
        self.nodes += 1;
        Ok(())
    }

    /// Sessions, ACL cache and `nodes` nodes at once, already encoded as a snapshot holds
    /// them (a SNAP stream up to, not including, its end marker: see
    /// [`super::sync_stream::write_snapshot_from_snap_stream`], which checks them first).
    /// Only [`finish`](Self::finish) may follow.
    pub(super) fn write_encoded_body(&mut self, body: &[u8], nodes: u64) -> Result<()> {
        self.expect(Stage::Sessions, "write_encoded_body")?;
        self.scratch.extend_from_slice(body);
        self.flush_scratch()?;
        self.stage = Stage::Nodes;
        self.nodes = nodes;
        Ok(())
    }

    /// `SnapStream.sealStream`: the running Adler-32 as a long, then "/".
    fn seal(&mut self) -> Result<()> {
        let checksum = self.out.as_ref().map_or(0, CheckedOutput::checksum);
        write_long(&mut self.scratch, i64::from(checksum));
        write_ustring(&mut self.scratch, "/");
        self.flush_scratch()
    }

    /// Ends the snapshot: end-of-nodes marker "/", seal, and — when `digest` is given,
    /// i.e. `zookeeper.digest.enabled` (pass [`SnapshotDigest::empty`] if no txn was
    /// processed yet, as ZooKeeper does) — the zxid digest and a second seal. Then
    /// fsync, rename to the final name, fsync the directory. Returns the final path.
    pub fn finish(mut self, digest: Option<SnapshotDigest>) -> Result<PathBuf> {
        self.expect(Stage::Nodes, "finish")?;
        write_ustring(&mut self.scratch, "/");
        self.flush_scratch()?;
        self.seal()?;
        if let Some(d) = digest {
            if d.digest_version < 2 {
                return Err(SnapshotError::usage(
                    &self.temp_path,
                    format!(
                        "digest version {} predates the long digest",
                        d.digest_version
                    ),
                ));
            }
            write_long(&mut self.scratch, d.zxid);
            write_int(&mut self.scratch, d.digest_version);
            write_long(&mut self.scratch, d.digest);
            self.flush_scratch()?;
            self.seal()?;
        }
        let Some(out) = self.out.take() else {
            return Err(SnapshotError::usage(
                &self.temp_path,
                "writer already finished",
            ));
        };
        let done = out.finish().and_then(|file| {
            file.sync_all()
                .map_err(|e| SnapshotError::io(&self.temp_path, "fsync", e))?;
            drop(file);
            fs::rename(&self.temp_path, &self.final_path).map_err(|e| {
                SnapshotError::io(&self.final_path, "renaming the finished temporary file", e)
            })
        });
        if let Err(e) = done {
            let _ = fs::remove_file(&self.temp_path);
            return Err(e);
        }
        sync_dir(&self.dir)?;
        Ok(self.final_path.clone())
    }

    /// Abandons the snapshot, deleting the temporary file.
    pub fn abort(mut self) -> Result<()> {
        self.out = None;
        fs::remove_file(&self.temp_path)
            .map_err(|e| SnapshotError::io(&self.temp_path, "deleting", e))
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        if self.out.take().is_some() {
            // Unfinished: the temporary file is useless. Best effort; a leftover is
            // harmless (no snapshot reader considers it) and remove_stale_temp_files
            // clears it.
            let _ = fs::remove_file(&self.temp_path);
        }
    }
}

/// `StatPersisted.serialize`.
pub(crate) fn write_stat(out: &mut Vec<u8>, s: &StatPersisted) {
    write_long(out, s.czxid);
    write_long(out, s.mzxid);
    write_long(out, s.ctime);
    write_long(out, s.mtime);
    write_int(out, s.version);
    write_int(out, s.cversion);
    write_int(out, s.aversion);
    write_long(out, s.ephemeral_owner);
    write_long(out, s.pzxid);
}

/// fsync a directory, so a rename in it is durable.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| SnapshotError::io(dir, "fsync of the directory", e))
}
