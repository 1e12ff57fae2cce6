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
use std::sync::Arc;

use tokio::sync::{mpsc, Notify};
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
    /// Signalled by the writer each time it takes a chunk, so a walk that
    /// found the channel full waits for room instead of retrying.
    taken: Arc<Notify>,
    finished: bool,
}

/// What the core's loop may wait on for the snapshot being written.
pub(super) enum SnapshotProgress {
    /// No snapshot, or its last chunk is handed over: nothing to wait on.
    Idle,
    /// The next chunk can be walked now.
    Ready,
    /// The writer's channel is full: wait until it takes a chunk.
    Blocked(Arc<Notify>),
}

impl SnapshotProgress {
    /// Resolves when the walk can make progress; never while idle.
    pub(super) async fn ready(self) {
        match self {
            SnapshotProgress::Idle => std::future::pending().await,
            SnapshotProgress::Ready => {}
            SnapshotProgress::Blocked(taken) => taken.notified().await,
        }
    }
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
    taken: Arc<Notify>,
    core: mpsc::Sender<CoreMsg>,
    zxid: i64,
) {
    let result = (|| -> std::io::Result<std::path::PathBuf> {
        loop {
            let chunk = rx.recv();
            taken.notify_one();
            match chunk {
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
        let zxid = self.db.last_processed_zxid;
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
            .db
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
        let taken = Arc::new(Notify::new());
        let writer_taken = taken.clone();
        let spawned = std::thread::Builder::new()
            .name("snapshot-writer".into())
            .spawn(move || run_writer(sink, rx, writer_taken, core_tx, zxid));
        if let Err(e) = spawned {
            error!(error = %e, "cannot start the snapshot writer thread");
            return;
        }
        info!(zxid = format_args!("0x{zxid:x}"), "snapshot started");
        self.snapshot_started = Some(std::time::Instant::now());
        self.snapshot = Some(SnapshotJob {
            stack: vec![String::new()],
            held: None,
            tx,
            taken,
            finished: false,
        });
    }

    /// Writes the next chunk of the snapshot being taken, if any.
    pub(super) fn advance_snapshot(&mut self) {
        let digest = self
            .digest_enabled()
            .then(|| (self.db.last_processed_zxid, self.db.tree.digest()));
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
                    self.db.tree.lookup(&path)
                };
                let Some(id) = id else { continue };
                for name in self.db.tree.child_names(id) {
                    job.stack.push(child_path(&path, name));
                }
                let s = self.db.tree.node_stat_persisted(id);
                nodes.push(SnapNode {
                    data: self.db.tree.node_data(id).map(<[u8]>::to_vec),
                    acl: self.db.tree.node_acl(id).0,
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

    /// What the loop waits on for the snapshot walk.
    pub(super) fn snapshot_progress(&self) -> SnapshotProgress {
        match self.snapshot.as_ref() {
            Some(j) if j.finished => SnapshotProgress::Idle,
            Some(j) if j.held.is_some() => SnapshotProgress::Blocked(j.taken.clone()),
            Some(_) => SnapshotProgress::Ready,
            None => SnapshotProgress::Idle,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{channel, Sender};
    use std::sync::Mutex;
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;
    use crate::pipeline::{CoreConfig, ServerInfo};

    /// A sink whose first node waits until the test lets it go, so the
    /// walk fills the channel and then has to wait.
    struct GatedSink {
        began: Sender<()>,
        gate: Receiver<()>,
        opened: bool,
    }

    impl SnapshotSink for GatedSink {
        fn sessions(&mut self, _: &[(i64, i32)]) -> std::io::Result<()> {
            Ok(())
        }
        fn acl_cache(&mut self, _: &[(i64, Vec<jute::data::ACL>)]) -> std::io::Result<()> {
            Ok(())
        }
        fn node(&mut self, _: &SnapNode) -> std::io::Result<()> {
            if !self.opened {
                self.opened = true;
                let _ = self.began.send(());
                let _ = self.gate.recv();
            }
            Ok(())
        }
        fn finish(self: Box<Self>, _: Option<(i64, i64)>) -> std::io::Result<std::path::PathBuf> {
            Ok("snapshot.test".into())
        }
    }

    /// utime + stime of one of this process's threads, in clock ticks.
    fn thread_cpu_ticks(tid: &str) -> u64 {
        let stat =
            std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).expect("thread stat");
        let after_comm = &stat[stat.rfind(')').expect("comm") + 1..];
        let fields: Vec<&str> = after_comm.split_whitespace().collect();
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
    }

    #[test]
    fn a_core_waiting_for_the_snapshot_writer_does_not_spin() {
        let (sync_tx, _sync_rx) = channel();
        let mut core = Core::new(CoreConfig::default(), ServerInfo::default(), sync_tx);
        let acl = core.db.tree.node_acl(NodeId::ROOT);
        let nodes = NODES_PER_CHUNK * (CHUNKS_IN_FLIGHT + 4);
        for i in 0..nodes {
            core.db
                .tree
                .create_node(&format!("/n{i}"), None, acl, 0, i as i32 + 1, 1, 0)
                .expect("create");
        }
        let (gate_tx, gate_rx) = channel();
        let (began_tx, began_rx) = channel();
        let parts = Mutex::new(Some((began_tx, gate_rx)));
        core.set_snapshot_sink(Box::new(move |_zxid| {
            let (began, gate) = parts
                .lock()
                .ok()
                .and_then(|mut p| p.take())
                .ok_or_else(|| std::io::Error::other("one snapshot only"))?;
            Ok(Box::new(GatedSink {
                began,
                gate,
                opened: false,
            }) as Box<dyn SnapshotSink>)
        }));

        let (tx, rx) = mpsc::channel(16);
        let (tid_tx, tid_rx) = channel();
        let self_tx = tx.clone();
        let runner = std::thread::spawn(move || {
            let tid = std::fs::read_link("/proc/thread-self")
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
            let _ = tid_tx.send(tid);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(core.run(rx, self_tx))
        });
        let tid = tid_rx.recv().expect("core thread").expect("thread id");
        tx.blocking_send(CoreMsg::TakeSnapshot).expect("core alive");
        began_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the writer took its first node");
        // The walk fills the writer's channel within milliseconds; from
        // then on the core has nothing to do until the writer moves.
        std::thread::sleep(Duration::from_millis(100));
        let before = thread_cpu_ticks(&tid);
        std::thread::sleep(Duration::from_millis(500));
        let burnt = thread_cpu_ticks(&tid) - before;

        drop(gate_tx);
        let (done_tx, done_rx) = oneshot::channel();
        tx.blocking_send(CoreMsg::Shutdown(done_tx))
            .expect("core alive");
        let drained = done_rx.blocking_recv().expect("drained");
        assert_eq!(drained.sessions, 0);
        assert_eq!(
            runner.join().expect("core thread"),
            super::super::CoreExit::Shutdown
        );
        // Clock ticks are 10 ms: a spinning core burns ~50 in 500 ms.
        assert!(
            burnt <= 5,
            "the core burnt {burnt} ticks in 500 ms waiting for the snapshot writer"
        );
    }
}
