//! The sync stage's ensemble commands against a real `FileTxnLog` in a
//! temporary dataDir: order, group commit, truncation, epoch files,
//! snapshots from a SNAP stream, failure; and the core taking the stage's
//! reports ahead of a full inbox.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use jute::consts::OpCode;
use jute::data::{Id, ACL};
use jute::txn::{CreateTxn, TxnHeader};

use super::*;
use crate::database::{NoObserver, ZkDatabase};
use crate::persist::epoch::{read_long_file, EpochFiles};
use crate::persist::txnlog::format::marshal_txn;
use crate::persist::txnlog::{self, list_log_files, RecoveryMode, TxnLogIterator};
use crate::persist::{FileTxnLog, FileTxnLogOptions, TxnLogStats};
use crate::pipeline::core::CoreMsg;
use crate::tree::{AclRef, DataTree, TreeConfig};
use crate::txn::TxnBody;

const BOUND: Duration = Duration::from_secs(10);
/// Zxids of epoch 1 and 2.
const E1: i64 = 1 << 32;
const E2: i64 = 2 << 32;

fn create(zxid: i64, path: &str) -> LoggedTxn {
    let body = TxnBody::Create(CreateTxn {
        path: path.into(),
        data: Some(path.as_bytes().to_vec()),
        acl: vec![ACL {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }],
        ephemeral: false,
        parent_c_version: 1,
    });
    LoggedTxn {
        header: TxnHeader {
            client_id: 0x1234,
            cxid: 1,
            zxid,
            time: 1_700_000_000_000,
            type_: OpCode::Create as i32,
        },
        body,
        digest: None,
    }
}

fn bytes_of(t: &LoggedTxn) -> Bytes {
    Bytes::from(marshal_txn(&t.header, &t.body, t.digest.as_ref()))
}

fn append(id: u64, zxid: i64, path: &str) -> SyncCmd {
    SyncCmd::Zab {
        id,
        op: StorageOp::Append {
            zxid,
            bytes: bytes_of(&create(zxid, path)),
        },
    }
}

/// A `FileTxnLog` whose counters the test can read while the stage owns it.
struct Probed {
    inner: FileTxnLog,
    seen: Arc<Mutex<TxnLogStats>>,
}

impl Probed {
    fn note<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        *self.seen.lock().unwrap() = self.inner.stats();
        r
    }
}

impl TxnLog for Probed {
    fn append(&mut self, txn: &LoggedTxn) -> std::io::Result<()> {
        let r = TxnLog::append(&mut self.inner, txn);
        self.note(r)
    }
    fn append_marshalled(&mut self, b: &[u8]) -> std::io::Result<()> {
        let r = self.inner.append_marshalled(b);
        self.note(r)
    }
    fn commit(&mut self) -> std::io::Result<()> {
        let r = self.inner.commit();
        self.note(r)
    }
    fn last_zxid(&self) -> i64 {
        TxnLog::last_zxid(&self.inner)
    }
    fn truncate(&mut self, zxid: i64) -> std::io::Result<()> {
        let r = TxnLog::truncate(&mut self.inner, zxid);
        self.note(r)
    }
    fn roll(&mut self) -> std::io::Result<()> {
        let r = TxnLog::roll(&mut self.inner);
        self.note(r)
    }
    fn stats(&self) -> TxnLogStats {
        self.inner.stats()
    }
}

/// What a report said, without its measurements.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    Durable(usize),
    Persisted(u64),
    Failed(String),
    Snapshot,
}

struct Harness {
    data_dir: tempfile::TempDir,
    tx: Option<SyncSender>,
    rx: Option<std::sync::mpsc::Receiver<SyncCmd>>,
    reports: Arc<SyncReports>,
    stats: Arc<Mutex<TxnLogStats>>,
    stage: Option<SyncStage>,
}

impl Harness {
    /// A dataDir with an empty log; commands may be queued before
    /// [`Self::start`].
    fn new() -> Harness {
        let data_dir = tempfile::tempdir().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        Harness {
            data_dir,
            tx: Some(tx),
            rx: Some(rx),
            reports: Arc::new(SyncReports::new()),
            stats: Arc::default(),
            stage: None,
        }
    }

    fn log_dir(&self) -> std::path::PathBuf {
        txnlog::version2_dir(self.data_dir.path())
    }

    fn snap_dir(&self) -> std::path::PathBuf {
        snapshot::snapshot_dir(self.data_dir.path())
    }

    fn start_with(&mut self, log: Box<dyn TxnLog>) {
        let paths = SyncPaths::for_data_dir(self.data_dir.path(), SnapshotCompression::None);
        let rx = self.rx.take().unwrap();
        self.stage = Some(SyncStage::spawn(log, rx, self.reports.clone(), 0, Some(paths)).unwrap());
    }

    fn start(&mut self) {
        let inner = FileTxnLog::open(self.log_dir(), 0, FileTxnLogOptions::default()).unwrap();
        let log = Probed {
            inner,
            seen: self.stats.clone(),
        };
        self.start_with(Box::new(log));
    }

    fn send(&self, cmd: SyncCmd) {
        // After a failure the stage is gone; what is sent then is dropped.
        let _ = self.tx.as_ref().unwrap().send(cmd);
    }

    /// Reports until one says `through` ≥ `id` or a failure.
    async fn until(&self, id: u64) -> Vec<Said> {
        let mut said = Vec::new();
        loop {
            for msg in self.reports.take() {
                said.push(match msg {
                    CoreMsg::Durable(t, _) => Said::Durable(t.len()),
                    CoreMsg::Persisted { through, .. } => Said::Persisted(through),
                    CoreMsg::LogFailed(e) => Said::Failed(e),
                    CoreMsg::TakeSnapshot => Said::Snapshot,
                    _ => unreachable!("the stage reports nothing else"),
                });
            }
            let done = said.iter().any(|s| match s {
                Said::Persisted(t) => *t >= id,
                Said::Failed(_) => true,
                _ => false,
            });
            if done {
                return said;
            }
            tokio::time::timeout(BOUND, self.reports.wait())
                .await
                .unwrap_or_else(|_| panic!("no report through {id}; so far {said:?}"));
        }
    }

    /// Closes the channel and waits for the stage to end.
    async fn stop(&mut self) {
        self.tx = None;
        if let Some(stage) = self.stage.take() {
            tokio::time::timeout(BOUND, stage.join())
                .await
                .expect("stage ends")
                .expect("stage did not panic");
        }
    }

    fn logged(&self) -> Vec<(i64, String)> {
        TxnLogIterator::open(&self.log_dir(), 0, RecoveryMode::Strict)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let path = match e.body {
                    TxnBody::Create(c) => c.path,
                    other => panic!("unexpected {other:?}"),
                };
                (e.header.zxid, path)
            })
            .collect()
    }

    fn log_file_starts(&self) -> Vec<i64> {
        list_log_files(&self.log_dir())
            .unwrap()
            .into_iter()
            .map(|f| f.start_zxid)
            .collect()
    }
}

#[tokio::test]
async fn queued_appends_share_one_fsync_and_one_report() {
    let mut h = Harness::new();
    for i in 1..=50 {
        h.send(append(i, E1 + i as i64, &format!("/n{i}")));
    }
    h.start();
    assert_eq!(h.until(50).await, [Said::Persisted(50)]);
    let stats = *h.stats.lock().unwrap();
    assert_eq!((stats.appends, stats.commits, stats.fsyncs), (50, 1, 1));
    let expected: Vec<(i64, String)> = (1..=50).map(|i| (E1 + i, format!("/n{i}"))).collect();
    assert_eq!(h.logged(), expected);
    h.stop().await;
}

/// Each command's report comes after its effect is on disk, with `through`
/// its own id; epoch files read back with ZooKeeper's reader and rules.
#[tokio::test]
async fn reports_follow_the_commands_in_order() {
    let mut h = Harness::new();
    h.start();
    let snap = h.snap_dir();
    h.send(SyncCmd::Zab {
        id: 1,
        op: StorageOp::AcceptedEpoch(1),
    });
    assert_eq!(h.until(1).await, [Said::Persisted(1)]);
    assert_eq!(read_long_file(&snap, "acceptedEpoch").unwrap(), Some(1));

    h.send(append(2, E1 + 1, "/a"));
    assert_eq!(h.until(2).await, [Said::Persisted(2)]);
    assert_eq!(h.logged(), [(E1 + 1, "/a".to_string())]);

    h.send(SyncCmd::Zab {
        id: 3,
        op: StorageOp::CurrentEpoch(1),
    });
    assert_eq!(h.until(3).await, [Said::Persisted(3)]);
    assert_eq!(read_long_file(&snap, "currentEpoch").unwrap(), Some(1));

    // Several at once, mixed: whatever runs the stage makes of them, the
    // reports only grow and end at the last id, with everything done.
    h.send(append(4, E1 + 2, "/b"));
    h.send(SyncCmd::Zab {
        id: 5,
        op: StorageOp::AcceptedEpoch(2),
    });
    h.send(append(6, E1 + 3, "/c"));
    let said = h.until(6).await;
    let through: Vec<u64> = said
        .iter()
        .map(|s| match s {
            Said::Persisted(t) => *t,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(through.windows(2).all(|w| w[0] < w[1]), "{through:?}");
    assert_eq!(through.last(), Some(&6));
    assert_eq!(h.logged().len(), 3);
    let (epochs, repairs) = EpochFiles::load(&snap, E1 + 3).unwrap();
    assert_eq!((epochs.accepted(), epochs.current()), (2, 1));
    assert!(repairs.is_empty());
    h.stop().await;
}

/// TRUNC: the log keeps exactly the entries up to the zxid, and appends
/// continue after it — lower zxids than were logged before — in a new file
/// named after the first of them.
#[tokio::test]
async fn truncate_then_append_lower_zxids() {
    let mut h = Harness::new();
    for i in 1..=6 {
        h.send(append(i, E1 + i as i64, &format!("/old{i}")));
    }
    h.start();
    h.until(6).await;
    h.send(SyncCmd::Zab {
        id: 7,
        op: StorageOp::Truncate { zxid: E1 + 3 },
    });
    h.send(append(8, E1 + 4, "/new4"));
    h.send(append(9, E2 + 1, "/new-epoch"));
    assert_eq!(h.until(9).await.last(), Some(&Said::Persisted(9)));
    let expected = [
        (E1 + 1, "/old1"),
        (E1 + 2, "/old2"),
        (E1 + 3, "/old3"),
        (E1 + 4, "/new4"),
        (E2 + 1, "/new-epoch"),
    ]
    .map(|(z, p)| (z, p.to_string()));
    assert_eq!(h.logged(), expected);
    assert_eq!(h.log_file_starts(), [E1 + 1, E1 + 4]);
    h.stop().await;
}

/// A SNAP stream of a small database becomes `snapshot.<zxid>` that the
/// normal loader reads back as that database; the log rolls, and
/// `ferrokeeper check` finds the dataDir sound.
#[tokio::test]
async fn a_snapshot_from_a_snap_stream_loads_back() {
    let mut db = ZkDatabase::new(TreeConfig::default(), 0);
    for (i, path) in ["/app", "/app/x", "/b"].into_iter().enumerate() {
        let t = create(E1 + 1 + i as i64, path);
        let mut body = t.body.clone();
        db.apply(&t.header, &mut body, &mut Vec::new(), &mut NoObserver);
    }
    let zxid = db.last_processed_zxid();
    let (stream, _) = snapshot::write_snap_sync(Vec::new(), db.tree(), db.acls(), db.sessions())
        .expect("SNAP stream");

    let mut h = Harness::new();
    h.start();
    h.send(append(1, E1 + 1, "/app"));
    h.send(append(2, E1 + 2, "/app/x"));
    h.send(append(3, E1 + 3, "/b"));
    h.send(SyncCmd::Zab {
        id: 4,
        op: StorageOp::Snapshot {
            zxid,
            stream: Bytes::from(stream),
        },
    });
    h.send(append(5, E1 + 4, "/after"));
    assert_eq!(h.until(5).await.last(), Some(&Said::Persisted(5)));

    let path = h.snap_dir().join(format!("snapshot.{zxid:x}"));
    let mut tree = DataTree::new(TreeConfig::default(), AclRef(-1));
    let mut acls = crate::acl::AclCache::new();
    let mut sessions = Vec::new();
    let loaded = snapshot::load_into(&path, &mut tree, &mut acls, &mut sessions).unwrap();
    assert_eq!(loaded.zxid, zxid);
    assert_eq!(tree.node_count(), db.tree().node_count());
    for p in ["/app", "/app/x", "/b"] {
        let id = tree.lookup(p).unwrap_or_else(|| panic!("{p} missing"));
        assert_eq!(tree.node_data(id), Some(p.as_bytes()));
    }
    assert_eq!(tree.compute_digest(), db.tree().compute_digest());
    tree.check_invariants().unwrap();
    // The append after the snapshot went to a new file.
    assert_eq!(h.log_file_starts(), [E1 + 1, E1 + 4]);
    h.stop().await;
    let report = crate::persist::inspect::check::check(h.data_dir.path(), None);
    let mut text = Vec::new();
    report.write(&mut text).unwrap();
    assert_eq!(report.problems(), 0, "{}", String::from_utf8_lossy(&text));
}

/// A log whose second commit fails.
struct FailsSecondCommit {
    commits: u32,
    last: i64,
}

impl TxnLog for FailsSecondCommit {
    fn append(&mut self, t: &LoggedTxn) -> std::io::Result<()> {
        self.last = t.zxid();
        Ok(())
    }
    fn append_marshalled(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.last = TxnHeader::deserialize(&mut &b[..]).unwrap().zxid;
        Ok(())
    }
    fn commit(&mut self) -> std::io::Result<()> {
        self.commits += 1;
        if self.commits == 2 {
            return Err(std::io::Error::other("disk on fire"));
        }
        Ok(())
    }
    fn last_zxid(&self) -> i64 {
        self.last
    }
}

/// After a failed write the stage reports the failure once and nothing
/// more: no command after it is executed or reported durable.
#[tokio::test]
async fn a_failing_log_reports_the_failure_and_never_persisted_after_it() {
    let mut h = Harness::new();
    h.start_with(Box::new(FailsSecondCommit {
        commits: 0,
        last: 0,
    }));
    h.send(append(1, E1 + 1, "/a"));
    assert_eq!(h.until(1).await, [Said::Persisted(1)]);
    h.send(append(2, E1 + 2, "/b"));
    let said = h.until(2).await;
    assert!(
        matches!(said.as_slice(), [Said::Failed(e)] if e.contains("disk on fire")),
        "{said:?}"
    );
    h.send(append(3, E1 + 3, "/c"));
    h.send(SyncCmd::Zab {
        id: 4,
        op: StorageOp::AcceptedEpoch(9),
    });
    h.stop().await;
    assert!(h.reports.take().is_empty(), "nothing after the failure");
    assert_eq!(
        read_long_file(&h.snap_dir(), "acceptedEpoch").unwrap(),
        None,
        "the command after the failure was not executed"
    );
}

/// An append at or below the last logged zxid, or whose bytes carry another
/// zxid than the command names, fails the stage (see [`StorageOp::Append`]
/// for what Java 3.8 does instead).
#[tokio::test]
async fn appends_out_of_order_or_mislabelled_fail_the_stage() {
    let cases = [
        (
            vec![append(1, E1 + 2, "/a"), append(2, E1 + 1, "/b")],
            "out of order",
        ),
        (
            vec![append(1, E1 + 2, "/a"), append(2, E1 + 2, "/a")],
            "out of order",
        ),
        (
            vec![SyncCmd::Zab {
                id: 1,
                op: StorageOp::Append {
                    zxid: E1 + 5,
                    bytes: bytes_of(&create(E1 + 6, "/x")),
                },
            }],
            "in its header",
        ),
    ];
    for (cmds, why) in cases {
        let mut h = Harness::new();
        for c in cmds {
            h.send(c);
        }
        h.start();
        let said = h.until(u64::MAX).await;
        assert!(
            matches!(said.as_slice(), [Said::Failed(e)] if e.contains(why)),
            "{why}: {said:?}"
        );
        h.stop().await;
    }
}

/// The core takes the sync stage's reports before its inbox: with the inbox
/// full of requests and a failure reported, the core stops without
/// answering any of them (through the inbox, the report would have come
/// after all of them).
#[tokio::test]
async fn the_core_takes_sync_reports_ahead_of_a_full_inbox() {
    use crate::pipeline::{AdminRequest, CoreConfig, CoreExit, Pipeline, ServerInfo};
    let pipeline = Pipeline::new(CoreConfig::default(), ServerInfo::default());
    let reports = pipeline.core.sync_reports();
    // On this current-thread runtime the core runs only once the test awaits.
    let tasks = pipeline
        .start(Box::new(crate::persist::MemTxnLog::new()), 0, None)
        .unwrap();
    let mut replies = Vec::new();
    loop {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let msg = CoreMsg::Admin(AdminRequest {
            cmd: "ruok",
            peer: ([127, 0, 0, 1], 1).into(),
            trace_mask: None,
            reply,
        });
        if tasks.core_tx.try_send(msg).is_err() {
            break;
        }
        replies.push(rx);
    }
    assert_eq!(replies.len(), crate::pipeline::CORE_QUEUE);
    reports.failed("disk on fire".into());
    let exit = tokio::time::timeout(BOUND, tasks.core)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exit, CoreExit::LogFailed("disk on fire".into()));
    let answered = replies
        .into_iter()
        .filter_map(|mut rx| rx.try_recv().ok())
        .count();
    assert_eq!(answered, 0);
    drop(tasks.core_tx);
    tokio::time::timeout(BOUND, tasks.sync.join())
        .await
        .unwrap()
        .unwrap();
}

#[test]
fn sync_paths_are_the_snap_dir_as_zookeeper_has_it() {
    let p = SyncPaths::for_data_dir(Path::new("/data"), SnapshotCompression::Gzip);
    assert_eq!(p.snap_dir, Path::new("/data/version-2"));
}

/// A measurement, not run by default: `cargo test --release --lib
/// pipeline::sync::tests::measure -- --ignored --nocapture`. 20,000
/// appends sent one by one as fast as the test thread can, to a real
/// dataDir with fsync: how many commits cover them and how long it takes.
#[tokio::test]
#[ignore]
async fn measure_group_commit_of_ensemble_appends() {
    const N: u64 = 20_000;
    let mut h = Harness::new();
    h.start();
    let cmds: Vec<SyncCmd> = (1..=N)
        .map(|i| append(i, E1 + i as i64, &format!("/m{i:06}")))
        .collect();
    let started = std::time::Instant::now();
    for c in cmds {
        h.send(c);
    }
    let said = h.until(N).await;
    let took = started.elapsed();
    let stats = *h.stats.lock().unwrap();
    println!(
        "{N} appends: {} reports taken, {} commits, {} fsyncs ({} ms in fsync), {:?} total, \
         {:.0} appends/s",
        said.len(),
        stats.commits,
        stats.fsyncs,
        stats.fsync_nanos / 1_000_000,
        took,
        N as f64 / took.as_secs_f64()
    );
    assert_eq!(said.last(), Some(&Said::Persisted(N)));
    assert!(stats.commits < N, "appends shared commits");
    h.stop().await;
}
