//! A fuzzy snapshot, written while the server keeps serving.
//!
//! The core owns the tree, so it walks the tree itself, a chunk of nodes per
//! pass of its loop, and hands each chunk to a writer thread that does the
//! I/O through a [`SnapshotSink`]. Requests keep being applied between
//! chunks, so the file mixes states — as ZooKeeper's snapshots do; it is
//! named after the zxid applied when the walk began, and recovery replays
//! the log from there, which brings every node up to date.
//!
//! The walk keeps *paths*, not node ids, on its stack: ids are reused after
//! deletes, and a path that vanished meanwhile is simply skipped.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};

use tokio::sync::mpsc;
use tracing::{error, info};

use super::core::{Core, CoreMsg};
use crate::persist::{SnapNode, SnapshotSink};
use crate::tree::NodeId;

/// Nodes per chunk: small enough that a pass stays short, large enough
/// that channel traffic is negligible.
const NODES_PER_CHUNK: usize = 2048;
/// Chunks in flight to the writer before the walk pauses.
const CHUNKS_IN_FLIGHT: usize = 8;

enum Chunk {
    Nodes(Vec<SnapNode>),
    Finish(Option<(i64, i64)>),
}

/// A snapshot being written.
pub(super) struct SnapshotJob {
    stack: Vec<String>,
    /// A chunk the writer had no room for yet.
    held: Option<Chunk>,
    tx: SyncSender<Chunk>,
    finished: bool,
}

/// Makes the sink for a snapshot at a zxid; `None` in a server without a
/// data directory.
pub type SinkFactory = Box<dyn Fn(i64) -> std::io::Result<Box<dyn SnapshotSink>> + Send>;

fn child_path(parent: &str, name: &str) -> String {
    let mut p = String::with_capacity(parent.len() + 1 + name.len());
    p.push_str(parent);
    p.push('/');
    p.push_str(name);
    p
}

fn run_writer(
    mut sink: Box<dyn SnapshotSink>,
    rx: Receiver<Chunk>,
    core: mpsc::Sender<CoreMsg>,
    zxid: i64,
) {
    let result = (|| -> std::io::Result<std::path::PathBuf> {
        loop {
            match rx.recv() {
                Ok(Chunk::Nodes(nodes)) => {
                    for n in &nodes {
                        sink.node(n)?;
                    }
                }
                Ok(Chunk::Finish(digest)) => return sink.finish(digest),
                Err(_) => {
                    return Err(std::io::Error::other(
                        "snapshot abandoned before it was finished",
                    ));
                }
            }
        }
    })();
    let msg = CoreMsg::SnapshotDone {
        zxid,
        result: result.map_err(|e| e.to_string()),
    };
    let _ = core.blocking_send(msg);
}

impl Core {
    /// Starts a snapshot unless one is already being written (ZooKeeper
    /// skips the new one then, too).
    pub(super) fn start_snapshot(&mut self) {
        if self.snapshot.is_some() {
            info!("previous snapshot still being written; skipping this one");
            return;
        }
        let (Some(factory), Some(core_tx)) = (self.snapshot_sink.as_ref(), self.self_tx.clone())
        else {
            return;
        };
        let zxid = self.last_applied_zxid;
        let mut sink = match factory(zxid) {
            Ok(s) => s,
            Err(e) => {
                error!(error = %e, zxid = format_args!("0x{zxid:x}"), "cannot start snapshot");
                return;
            }
        };
        let mut sessions: Vec<(i64, i32)> = self.sessions.sessions().collect();
        sessions.sort_unstable();
        let acls: Vec<(i64, Vec<jute::data::ACL>)> = self
            .acls
            .iter()
            .map(|(id, list)| (id, list.to_vec()))
            .collect();
        if let Err(e) = sink
            .sessions(&sessions)
            .and_then(|()| sink.acl_cache(&acls))
        {
            error!(error = %e, "cannot write snapshot header");
            return;
        }
        let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
        std::thread::spawn(move || run_writer(sink, rx, core_tx, zxid));
        info!(zxid = format_args!("0x{zxid:x}"), "snapshot started");
        self.snapshot_started = Some(std::time::Instant::now());
        self.snapshot = Some(SnapshotJob {
            stack: vec![String::new()],
            held: None,
            tx,
            finished: false,
        });
    }

    /// Writes the next chunk of the snapshot being taken, if any.
    pub(super) fn advance_snapshot(&mut self) {
        let digest = self
            .digest_enabled()
            .then(|| (self.last_applied_zxid, self.tree.digest()));
        let Some(job) = self.snapshot.as_mut() else {
            return;
        };
        if job.finished {
            return;
        }
        if let Some(chunk) = job.held.take() {
            let is_finish = matches!(chunk, Chunk::Finish(_));
            match job.tx.try_send(chunk) {
                Ok(()) if is_finish => {
                    job.finished = true;
                    return;
                }
                Ok(()) => {}
                Err(TrySendError::Full(c)) => {
                    job.held = Some(c);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    job.finished = true;
                    return;
                }
            }
        }
        let chunk = if job.stack.is_empty() {
            Chunk::Finish(digest)
        } else {
            let mut nodes = Vec::with_capacity(NODES_PER_CHUNK);
            while nodes.len() < NODES_PER_CHUNK {
                let Some(path) = job.stack.pop() else { break };
                let id = if path.is_empty() {
                    Some(NodeId::ROOT)
                } else {
                    self.tree.lookup(&path)
                };
                let Some(id) = id else { continue };
                for name in self.tree.child_names(id) {
                    job.stack.push(child_path(&path, name));
                }
                let s = self.tree.node_stat_persisted(id);
                nodes.push(SnapNode {
                    data: self.tree.node_data(id).map(<[u8]>::to_vec),
                    acl: self.tree.node_acl(id).0,
                    stat: jute::data::StatPersisted {
                        czxid: s.czxid,
                        mzxid: s.mzxid,
                        ctime: s.ctime,
                        mtime: s.mtime,
                        version: s.version,
                        cversion: s.cversion,
                        aversion: s.aversion,
                        ephemeral_owner: s.ephemeral_owner,
                        pzxid: s.pzxid,
                    },
                    path,
                });
            }
            Chunk::Nodes(nodes)
        };
        let is_finish = matches!(chunk, Chunk::Finish(_));
        match job.tx.try_send(chunk) {
            Ok(()) => job.finished = is_finish,
            Err(TrySendError::Full(c)) => job.held = Some(c),
            Err(TrySendError::Disconnected(_)) => job.finished = true,
        }
    }

    /// The writer reported back.
    pub(super) fn on_snapshot_done(
        &mut self,
        zxid: i64,
        result: Result<std::path::PathBuf, String>,
    ) {
        self.snapshot = None;
        if let (Some(t), Ok(_)) = (self.snapshot_started.take(), &result) {
            self.metrics
                .snapshottime
                .add(t.elapsed().as_millis() as u64);
        }
        match result {
            Ok(path) => {
                info!(zxid = format_args!("0x{zxid:x}"), file = %path.display(), "snapshot written");
                self.last_snapshot = Some((zxid, path));
            }
            Err(e) => error!(zxid = format_args!("0x{zxid:x}"), error = %e, "snapshot failed"),
        }
    }

    /// Whether a snapshot walk still has work for the loop.
    pub(super) fn snapshot_pending(&self) -> bool {
        self.snapshot.as_ref().is_some_and(|j| !j.finished)
    }
}
