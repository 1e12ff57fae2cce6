//! [`SnapshotWriter`] behind the core's [`SnapshotSink`] trait, and the factory the core
//! takes ([`Core::set_snapshot_sink`](crate::pipeline::Core::set_snapshot_sink)).

use std::io;
use std::path::PathBuf;

use jute::data::ACL;

use super::writer::SnapshotWriter;
use super::{SnapshotCompression, SnapshotDigest};
use crate::persist::{SnapNode, SnapshotSink};
use crate::pipeline::snapshot_job::SinkFactory;
use crate::tree::StatPersisted;

fn io_err(e: super::SnapshotError) -> io::Error {
    io::Error::other(e.to_string())
}

impl SnapshotSink for SnapshotWriter {
    fn sessions(&mut self, sessions: &[(i64, i32)]) -> io::Result<()> {
        self.write_sessions(sessions.iter().copied())
            .map_err(io_err)
    }

    fn acl_cache(&mut self, acls: &[(i64, Vec<ACL>)]) -> io::Result<()> {
        self.write_acl_cache(acls.iter().map(|(id, list)| (*id, list.as_slice())))
            .map_err(io_err)
    }

    fn node(&mut self, node: &SnapNode) -> io::Result<()> {
        let s = &node.stat;
        let stat = StatPersisted {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner,
            pzxid: s.pzxid,
        };
        self.write_node(&node.path, node.data.as_deref(), node.acl, &stat)
            .map_err(io_err)
    }

    /// `digest` is `(zxid, tree digest)`; pass `None` when `zookeeper.digest.enabled` is
    /// false (ZooKeeper then writes no digest section).
    fn finish(self: Box<Self>, digest: Option<(i64, i64)>) -> io::Result<PathBuf> {
        (*self)
            .finish(digest.map(|(zxid, d)| SnapshotDigest::new(zxid, d)))
            .map_err(io_err)
    }
}

/// A [`SinkFactory`] writing `snapshot.<zxid>[.gz|.snappy]` into `snap_dir` (the
/// `version-2` directory) with the configured compression.
pub fn sink_factory(snap_dir: PathBuf, compression: SnapshotCompression) -> SinkFactory {
    Box::new(move |zxid| {
        SnapshotWriter::create(&snap_dir, zxid, compression)
            .map(|w| Box::new(w) as Box<dyn SnapshotSink>)
            .map_err(io_err)
    })
}
