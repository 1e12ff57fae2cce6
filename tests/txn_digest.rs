//! The tree digest FerroKeeper logs after each txn (ZooKeeper 3.6+'s
//! `TxnDigest`): prep precalculates it from its outstanding changes, final
//! checks it after applying, recovery checks it on replay.
//!
//! The workload pipelines writes so that many are prepared on top of
//! outstanding, unapplied changes — the case where a wrong precalculation
//! would show — and covers every txn type a client or the server itself can
//! cause: create (sequential, ephemeral, container, TTL), setData, setACL,
//! delete, multi (succeeding and failing), error txns, createSession,
//! closeSession with ephemerals, and the reaper's deleteContainer.

mod common;

use std::path::Path;
use std::time::Duration;

use ferrokeeper::persist::txnlog::{version2_dir, RecoveryMode, TxnLogIterator};
use ferrokeeper::persist::{FileTxnLog, FileTxnLogOptions};
use ferrokeeper::pipeline::{PersistSettings, Pipeline};
use ferrokeeper::server::Settings;
use ferrokeeper::txn::TxnBody;
use jute::consts::{CreateMode, OpCode};
use jute::multi::{MultiOp, MultiRequest};
use jute::proto::{CreateRequest, CreateTTLRequest, DeleteRequest, SetACLRequest, SetDataRequest};
use jute::txn::TxnDigest;

fn persist(data: &Path, logs: &Path) -> PersistSettings {
    PersistSettings {
        trust_empty_snapshot: true,
        ..common::persist_settings(data, logs)
    }
}

fn create(path: &str, data: &[u8], mode: CreateMode) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: common::open_acl(),
        flags: mode.flag(),
    }
}

fn mntr_value(mntr: &str, key: &str) -> Option<i64> {
    mntr.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t')?.trim().parse().ok())
}

/// Runs the workload against a server persisting into `data`; returns the
/// server's `digest_mismatches_count` at the end.
fn run_workload(data: &Path) -> i64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = common::TestServer::start_with(|s: &mut Settings| {
            s.persist = Some(persist(data, data));
            s.snap_count = 1_000_000;
            s.core.extended_types_enabled = true;
            s.core.container_check_interval_ms = 50;
        })
        .await;
        let mut a = server.client().await;
        let mut b = server.client().await;

        // Pipelined: every request below is sent before any reply is read,
        // so each is prepared against the outstanding changes of the others.
        let mut sent = Vec::new();
        let c = OpCode::Create.code();
        sent.push(
            a.send(c, &create("/d", b"root data", CreateMode::Persistent))
                .await,
        );
        for i in 0..5 {
            let r = create(
                "/d/seq-",
                format!("s{i}").as_bytes(),
                CreateMode::PersistentSequential,
            );
            sent.push(a.send(c, &r).await);
        }
        sent.push(
            a.send(c, &create("/d/e1", b"mine", CreateMode::Ephemeral))
                .await,
        );
        sent.push(
            a.send(c, &create("/d/e2", b"", CreateMode::Ephemeral))
                .await,
        );
        let set = SetDataRequest {
            path: "/d".into(),
            data: Some(b"new root data, longer".to_vec()),
            version: -1,
        };
        sent.push(a.send(OpCode::SetData.code(), &set).await);
        // An error txn: the node exists.
        sent.push(
            a.send(c, &create("/d", b"again", CreateMode::Persistent))
                .await,
        );
        let ok_multi = MultiRequest {
            ops: vec![
                MultiOp::Create(create("/d/m", b"multi", CreateMode::Persistent)),
                MultiOp::SetData(SetDataRequest {
                    path: "/d/m".into(),
                    data: Some(b"multi 2".to_vec()),
                    version: 0,
                }),
                MultiOp::Create(create("/d/m/child", b"c", CreateMode::Persistent)),
                MultiOp::Delete(DeleteRequest {
                    path: "/d/m/child".into(),
                    version: -1,
                }),
            ],
        };
        sent.push(a.send(OpCode::Multi.code(), &ok_multi).await);
        // A failing multi: its first op's changes are rolled back.
        let bad_multi = MultiRequest {
            ops: vec![
                MultiOp::Create(create("/d/never", b"x", CreateMode::Persistent)),
                MultiOp::Delete(DeleteRequest {
                    path: "/nonexistent".into(),
                    version: -1,
                }),
            ],
        };
        sent.push(a.send(OpCode::Multi.code(), &bad_multi).await);
        let set_acl = SetACLRequest {
            path: "/d/m".into(),
            acl: vec![common::acl(31, "world", "anyone")],
            version: 0,
        };
        sent.push(a.send(OpCode::SetACL.code(), &set_acl).await);
        sent.push(
            a.send(
                OpCode::Delete.code(),
                &DeleteRequest {
                    path: "/d/seq-0000000000".into(),
                    version: 0,
                },
            )
            .await,
        );
        // Containers and TTL nodes, reaped by the server's own deleteContainer.
        sent.push(
            a.send(
                OpCode::CreateContainer.code(),
                &create("/box", b"", CreateMode::Container),
            )
            .await,
        );
        sent.push(
            a.send(c, &create("/box/item", b"i", CreateMode::Persistent))
                .await,
        );
        sent.push(
            a.send(
                OpCode::Delete.code(),
                &DeleteRequest {
                    path: "/box/item".into(),
                    version: -1,
                },
            )
            .await,
        );
        let ttl = CreateTTLRequest {
            path: "/ttl".into(),
            data: Some(b"short-lived".to_vec()),
            acl: common::open_acl(),
            flags: CreateMode::PersistentWithTTL.flag(),
            ttl: 1,
        };
        sent.push(a.send(OpCode::CreateTTL.code(), &ttl).await);
        // Another session writes into the same parent meanwhile.
        let b_sent = b
            .send(c, &create("/d/from-b", b"b", CreateMode::Persistent))
            .await;

        for xid in sent {
            let r = a.read_reply().await;
            assert_eq!(r.header.xid, xid, "replies in order");
        }
        assert_eq!(b.read_reply().await.header.xid, b_sent);

        // closeSession with ephemerals under a parent, then the reaper.
        let xid = a.take_xid();
        a.send_raw(&common::header_only_frame(xid, OpCode::CloseSession.code()))
            .await;
        assert_eq!(a.read_reply().await.header.xid, xid);
        common::bounded_by(
            Duration::from_secs(20),
            "container and TTL node reaped",
            async {
                while b.exists("/box", false).await.is_ok() || b.exists("/ttl", false).await.is_ok()
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        )
        .await;
        assert!(
            b.exists("/d/e1", false).await.is_err(),
            "ephemeral gone with its session"
        );

        let mntr = common::four_letter(server.addr, "mntr").await;
        mntr_value(&mntr, "zk_digest_mismatches_count").expect("mntr has digest_mismatches_count")
    })
}

/// A fresh core on an empty data dir: the state a server starts from.
fn fresh_core(dir: &Path) -> ferrokeeper::pipeline::Core {
    let s = Settings::standalone_default();
    let mut core = Pipeline::new(s.core, s.info).core;
    core.recover(&persist(dir, dir))
        .expect("recover an empty dir");
    core
}

fn logged(data: &Path) -> Vec<ferrokeeper::persist::txnlog::reader::LogEntry> {
    TxnLogIterator::open(&version2_dir(data), 0, RecoveryMode::Strict)
        .expect("open log")
        .collect::<Result<Vec<_>, _>>()
        .expect("read log")
}

#[test]
fn every_txn_is_logged_with_the_digest_its_replay_reaches() {
    let data = tempfile::tempdir().expect("tempdir");
    let live_mismatches = run_workload(data.path());
    assert_eq!(live_mismatches, 0, "final found prep's digests wrong");

    let entries = logged(data.path());
    assert!(entries.len() >= 24, "only {} txns logged", entries.len());
    let mut kinds = std::collections::BTreeSet::new();
    let empty = tempfile::tempdir().expect("tempdir");
    let mut core = fresh_core(empty.path());
    for e in entries {
        kinds.insert(e.body.op_code() as i32);
        let digest = e.digest;
        let is_error = matches!(e.body, TxnBody::Error(_));
        let zxid = e.header.zxid;
        core.replay(
            ferrokeeper::txn::LoggedTxn {
                header: e.header,
                body: e.body,
                digest: None,
            },
            true,
        );
        match digest {
            // As in ZooKeeper, an error txn carries no digest.
            None => assert!(is_error, "txn 0x{zxid:x} logged without a digest"),
            Some(TxnDigest {
                version,
                tree_digest,
            }) => {
                assert!(!is_error, "error txn 0x{zxid:x} logged with a digest");
                assert_eq!(version, 2, "digest version of txn 0x{zxid:x}");
                assert_eq!(
                    tree_digest,
                    core.tree_digest(),
                    "txn 0x{zxid:x}: logged digest differs from the tree after replaying it"
                );
            }
        }
    }
    for op in [
        OpCode::CreateSession,
        OpCode::Create,
        OpCode::SetData,
        OpCode::SetACL,
        OpCode::Delete,
        OpCode::Multi,
        OpCode::Error,
        OpCode::CreateContainer,
        OpCode::CreateTTL,
        OpCode::DeleteContainer,
        OpCode::CloseSession,
    ] {
        assert!(kinds.contains(&op.code()), "workload logged no {op:?} txn");
    }

    // Recovery compares them too, and finds nothing to report.
    let s = Settings::standalone_default();
    let mut core = Pipeline::new(s.core, s.info).core;
    let (_, recovered) = core
        .recover(&persist(data.path(), data.path()))
        .expect("recover");
    assert!(recovered.replayed >= 24);
    assert_eq!(core.digest_mismatches(), 0);
}

/// The comparison is real: one wrong digest in an otherwise correct log is
/// counted at recovery, exactly once.
#[test]
fn a_wrong_logged_digest_is_counted_at_recovery() {
    let data = tempfile::tempdir().expect("tempdir");
    assert_eq!(run_workload(data.path()), 0);
    let entries = logged(data.path());
    let victim = entries
        .iter()
        .rposition(|e| matches!(e.body, TxnBody::SetData(_)))
        .expect("a setData txn");

    let copy = tempfile::tempdir().expect("tempdir");
    {
        let mut log = FileTxnLog::open(version2_dir(copy.path()), 0, FileTxnLogOptions::default())
            .expect("new log");
        for (i, e) in entries.iter().enumerate() {
            let mut digest = e.digest.clone();
            if i == victim {
                if let Some(d) = digest.as_mut() {
                    d.tree_digest = d.tree_digest.wrapping_add(1);
                }
            }
            log.append_with_digest(&e.header, &e.body, digest.as_ref())
                .expect("append");
        }
        ferrokeeper::persist::TxnLog::commit(&mut log).expect("commit");
    }
    let s = Settings::standalone_default();
    let mut core = Pipeline::new(s.core, s.info).core;
    core.recover(&persist(copy.path(), copy.path()))
        .expect("recover");
    assert_eq!(core.digest_mismatches(), 1);
}
