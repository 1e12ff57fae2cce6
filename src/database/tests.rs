//! The database's operations against a database that applied the same txns
//! in memory: load, truncate, SNAP streams, the committed window, clear.

use std::path::Path;

use jute::data::{Id, ACL};
use jute::txn::{
    CloseSessionTxn, CreateSessionTxn, CreateTxn, DeleteTxn, SetDataTxn, TxnDigest, TxnHeader,
};

use super::*;
use crate::persist::snapshot::{write_snap_sync, write_snapshot_from, SnapshotCompression};
use crate::persist::txnlog::format::marshal_txn;
use crate::persist::{FileTxnLog, FileTxnLogOptions};
use crate::txn::{LoggedTxn, TxnBody};

const A: i64 = 0x0100_0000_0000_0001;
const B: i64 = 0x0100_0000_0000_0002;

fn open_acl() -> Vec<ACL> {
    vec![ACL {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn create(path: &str, data: &[u8], ephemeral: bool) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: open_acl(),
        ephemeral,
        parent_c_version: 0,
    })
}

/// Sessions opened and closed, nodes created, changed and deleted,
/// ephemerals removed by a close: every kind of change the database keeps.
/// The digest each txn carries is the one a database applying them in
/// order computes (as prep would log it).
fn workload() -> Vec<LoggedTxn> {
    let mut bodies = vec![
        (
            A,
            TxnBody::CreateSession(CreateSessionTxn { time_out: 30_000 }),
        ),
        (
            B,
            TxnBody::CreateSession(CreateSessionTxn { time_out: 12_000 }),
        ),
        (A, create("/app", b"root", false)),
    ];
    for i in 0..12 {
        bodies.push((A, create(&format!("/app/n{i}"), &[i as u8; 3], false)));
    }
    bodies.push((B, create("/app/eph", b"b's", true)));
    for i in 0..6 {
        bodies.push((
            A,
            TxnBody::SetData(SetDataTxn {
                path: format!("/app/n{i}"),
                data: Some(vec![b'x'; i + 1]),
                version: 0,
            }),
        ));
    }
    bodies.push((
        A,
        TxnBody::Delete(DeleteTxn {
            path: "/app/n11".into(),
        }),
    ));
    bodies.push((
        B,
        TxnBody::CloseSession(CloseSessionTxn {
            paths2_delete: vec!["/app/eph".into()],
        }),
    ));
    bodies.push((A, create("/late", b"after the close", false)));

    let mut db = ZkDatabase::new(TreeConfig::default(), 500);
    let mut events = Vec::new();
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, (session, body))| {
            let zxid = 0x1_0000_0000 + i as i64 + 1;
            let header = TxnHeader {
                client_id: session,
                cxid: i as i32,
                zxid,
                time: 1_700_000_000_000 + i as i64,
                type_: body.op_code() as i32,
            };
            let mut applied = body.clone();
            db.apply(&header, &mut applied, &mut events, &mut NoObserver);
            LoggedTxn {
                header,
                body,
                digest: Some(TxnDigest {
                    version: crate::tree::DIGEST_VERSION,
                    tree_digest: db.digest(),
                }),
            }
        })
        .collect()
}

/// A database that applied `txns` in memory, without any disk.
fn applied(txns: &[LoggedTxn]) -> ZkDatabase {
    let mut db = ZkDatabase::new(TreeConfig::default(), 500);
    let mut events = Vec::new();
    for t in txns {
        let mut body = t.body.clone();
        db.apply(&t.header, &mut body, &mut events, &mut NoObserver);
        assert!(!db.compare_digest(&t.header, t.digest.as_ref()));
    }
    db
}

/// A data dir with the empty database's snapshot and `txns` logged after it.
fn on_disk(root: &Path, txns: &[LoggedTxn]) -> LoadOptions {
    let from = LoadOptions {
        snap_dir: root.join("data/version-2"),
        log_dir: root.join("log/version-2"),
        trust_empty_snapshot: false,
        truncate_corrupt_log: false,
    };
    std::fs::create_dir_all(&from.snap_dir).unwrap();
    let empty = ZkDatabase::new(TreeConfig::default(), 500);
    write_snapshot_from(
        &from.snap_dir,
        0,
        SnapshotCompression::None,
        empty.tree(),
        empty.acls(),
        empty.sessions(),
    )
    .unwrap();
    let mut log = FileTxnLog::open(&from.log_dir, 0, FileTxnLogOptions::default()).unwrap();
    for t in txns {
        log.append(t).unwrap();
    }
    log.commit().unwrap();
    from
}

fn assert_same(got: &ZkDatabase, want: &ZkDatabase) {
    assert_eq!(got.digest(), want.digest(), "tree digest");
    assert_eq!(got.tree().node_count(), want.tree().node_count(), "nodes");
    assert_eq!(got.sessions(), want.sessions(), "sessions");
    assert_eq!(got.last_processed_zxid(), want.last_processed_zxid());
    assert_eq!(got.tree().ephemerals(A), want.tree().ephemerals(A));
    assert_eq!(got.tree().ephemerals(B), want.tree().ephemerals(B));
}

/// Counts what an observer hears, to show load reports every change.
#[derive(Default)]
struct Heard {
    writes: usize,
    created: Vec<i64>,
    closed: Vec<i64>,
    mismatches: usize,
}

impl ApplyObserver for Heard {
    fn wrote(&mut self, _path: &str, _bytes: usize) {
        self.writes += 1;
    }
    fn session_created(&mut self, id: i64, _timeout_ms: i32) {
        self.created.push(id);
    }
    fn session_closed(&mut self, id: i64) {
        self.closed.push(id);
    }
    fn digest_mismatch(&mut self) {
        self.mismatches += 1;
    }
}

#[test]
fn load_gives_the_state_the_txns_make() {
    let txns = workload();
    let tmp = tempfile::tempdir().unwrap();
    let from = on_disk(tmp.path(), &txns);
    let mut db = ZkDatabase::new(TreeConfig::default(), 500);
    let mut heard = Heard::default();
    let report = db.load(&from, &mut heard).unwrap();
    assert_eq!(report.replayed, txns.len() as u64);
    assert_eq!(report.snapshot_zxid, 0);
    assert_same(&db, &applied(&txns));
    assert_eq!(db.sessions(), [(A, 30_000)], "B was closed");
    assert_eq!((heard.created, heard.closed), (vec![A, B], vec![B]));
    assert_eq!(heard.mismatches, 0, "every logged digest matched on replay");
    // 12 + 1 creates and the ephemeral, 6 sets, the delete, the close's
    // removal of /app/eph, /late.
    assert_eq!(heard.writes, 1 + 12 + 1 + 6 + 1 + 1 + 1);
}

#[test]
fn a_load_replaces_what_was_there() {
    let txns = workload();
    let tmp = tempfile::tempdir().unwrap();
    let from = on_disk(tmp.path(), &txns);
    let mut db = applied(&txns[..5]);
    db.load(&from, &mut NoObserver).unwrap();
    assert_same(&db, &applied(&txns));
}

#[test]
fn the_committed_window_holds_the_last_replayed_txns() {
    let txns = workload();
    let tmp = tempfile::tempdir().unwrap();
    let from = on_disk(tmp.path(), &txns);
    let count = 5;
    let mut db = ZkDatabase::new(TreeConfig::default(), count);
    db.load(&from, &mut NoObserver).unwrap();
    let window: Vec<_> = db.committed().iter().cloned().collect();
    // ZKDatabase.addCommittedProposal keeps commitLogCount + 1.
    let expected = &txns[txns.len() - (count + 1)..];
    assert_eq!(window.len(), expected.len());
    for (p, t) in window.iter().zip(expected) {
        assert_eq!(p.zxid, t.zxid());
        let encoded = marshal_txn(&t.header, &t.body, t.digest.as_ref());
        assert_eq!(p.bytes.as_ref(), encoded.as_slice(), "zxid 0x{:x}", p.zxid);
    }
    assert_eq!(db.committed().min_committed(), expected[0].zxid());
    assert_eq!(db.committed().max_committed(), db.last_processed_zxid());
}

#[test]
fn truncate_gives_the_state_as_of_the_zxid() {
    let txns = workload();
    let tmp = tempfile::tempdir().unwrap();
    let from = on_disk(tmp.path(), &txns);
    let mut db = ZkDatabase::new(TreeConfig::default(), 500);
    db.load(&from, &mut NoObserver).unwrap();
    // Before the close of B: B and its ephemeral are back.
    let keep = txns.len() - 3;
    let zxid = txns[keep - 1].zxid();
    let mut log = FileTxnLog::open(
        &from.log_dir,
        db.last_processed_zxid(),
        FileTxnLogOptions::default(),
    )
    .unwrap();
    let report = db.truncate(&mut log, zxid, &mut NoObserver).unwrap();
    assert_eq!(report.replayed, keep as u64);
    let want = applied(&txns[..keep]);
    assert_same(&db, &want);
    assert_eq!(db.sessions(), [(A, 30_000), (B, 12_000)]);
    assert_eq!(db.tree().ephemerals(B), ["/app/eph"]);
    assert_eq!(db.committed().max_committed(), zxid);
    // The log continues after the cut, and a fresh load agrees.
    let next = &txns[keep + 1];
    let mut moved = next.clone();
    moved.header.zxid = zxid + 1;
    log.append(&moved).unwrap();
    log.commit().unwrap();
    let mut reloaded = ZkDatabase::new(TreeConfig::default(), 500);
    reloaded.load(&from, &mut NoObserver).unwrap();
    assert_eq!(reloaded.last_processed_zxid(), zxid + 1);
}

#[test]
fn truncate_needs_a_database_loaded_from_disk() {
    let txns = workload();
    let tmp = tempfile::tempdir().unwrap();
    let from = on_disk(tmp.path(), &txns);
    let mut db = applied(&txns);
    let mut log = FileTxnLog::open(
        &from.log_dir,
        txns[txns.len() - 1].zxid(),
        FileTxnLogOptions::default(),
    )
    .unwrap();
    let err = db
        .truncate(&mut log, txns[3].zxid(), &mut NoObserver)
        .unwrap_err();
    assert!(err.to_string().contains("not loaded from disk"), "{err}");
    assert_same(&db, &applied(&txns));
}

#[test]
fn truncate_refuses_a_snapshot_past_the_zxid() {
    let txns = workload();
    let tmp = tempfile::tempdir().unwrap();
    let from = on_disk(tmp.path(), &txns);
    let mut db = ZkDatabase::new(TreeConfig::default(), 500);
    db.load(&from, &mut NoObserver).unwrap();
    let last = db.last_processed_zxid();
    write_snapshot_from(
        &from.snap_dir,
        last,
        SnapshotCompression::None,
        db.tree(),
        db.acls(),
        db.sessions(),
    )
    .unwrap();
    let mut log = FileTxnLog::open(&from.log_dir, last, FileTxnLogOptions::default()).unwrap();
    let err = db
        .truncate(&mut log, txns[3].zxid(), &mut NoObserver)
        .unwrap_err();
    assert!(err.to_string().contains("snapshot newer"), "{err}");
}

#[test]
fn a_snap_stream_replaces_the_database() {
    let txns = workload();
    let leader = applied(&txns);
    let (stream, written) =
        write_snap_sync(Vec::new(), leader.tree(), leader.acls(), leader.sessions()).unwrap();
    // What follows the snapshot on the wire stays for the caller.
    let mut wire = stream.clone();
    wire.extend_from_slice(b"next packet");

    let mut learner = applied(&txns[..4]);
    let mut heard = Heard::default();
    let zxid = leader.last_processed_zxid();
    let (loaded, rest) = learner
        .load_snapshot_from(std::io::Cursor::new(wire), zxid, &mut heard)
        .unwrap();
    assert_eq!(loaded.bytes, written);
    assert_eq!(
        &rest.get_ref()[rest.position() as usize..],
        b"next packet".as_slice()
    );
    assert_same(&learner, &leader);
    assert_eq!(heard.created, [A]);
    assert!(learner.committed().is_empty(), "a SNAP leaves no window");
}

#[test]
fn a_bad_snap_stream_leaves_an_empty_database() {
    let txns = workload();
    let leader = applied(&txns);
    let (mut stream, _) =
        write_snap_sync(Vec::new(), leader.tree(), leader.acls(), leader.sessions()).unwrap();
    stream.truncate(stream.len() - 4);
    let mut learner = applied(&txns);
    assert!(learner
        .load_snapshot_from(std::io::Cursor::new(stream), 1, &mut NoObserver)
        .is_err());
    assert_same(&learner, &ZkDatabase::new(TreeConfig::default(), 500));
}

#[test]
fn clear_gives_a_fresh_database() {
    let txns = workload();
    let tmp = tempfile::tempdir().unwrap();
    let from = on_disk(tmp.path(), &txns);
    let mut db = ZkDatabase::new(TreeConfig::default(), 500);
    db.load(&from, &mut NoObserver).unwrap();
    assert!(!db.committed().is_empty());
    db.clear();
    let fresh = ZkDatabase::new(TreeConfig::default(), 500);
    assert_same(&db, &fresh);
    assert!(db.committed().is_empty());
    assert_eq!(db.acls().iter().count(), fresh.acls().iter().count());
}
