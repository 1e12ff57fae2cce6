//! A check request on its own (op 13 outside a multi), as a raw client can
//! send it. ZooKeeper 3.8.0 logs a passing one as a top-level check txn that
//! no log reader accepts: Java's next start fails ("Unsupported Txn with
//! type=13"), and so did ours, and on an ensemble every member stopped on the
//! committed proposal (found by compat-tests/acl-matrix run against a
//! follower). The answers stay what they were — OK without a body, or the
//! check's error — and the log must replay.

mod common;

use std::path::Path;

use ferrokeeper::persist::txnlog::{version2_dir, RecoveryMode, TxnLogIterator};
use ferrokeeper::pipeline::{PersistSettings, Pipeline};
use ferrokeeper::server::Settings;
use ferrokeeper::txn::TxnBody;
use jute::consts::{CreateMode, ErrorCode, OpCode};
use jute::multi::{MultiOp, MultiRequest};
use jute::proto::CheckVersionRequest;

fn persist(dir: &Path) -> PersistSettings {
    PersistSettings {
        trust_empty_snapshot: true,
        ..common::persist_settings(dir, dir)
    }
}

fn check(path: &str, version: i32) -> CheckVersionRequest {
    CheckVersionRequest {
        path: path.into(),
        version,
    }
}

/// Sends the lone checks (and one inside a multi) to a server persisting
/// into `dir`; returns each reply's (error, body length).
fn run_checks(dir: &Path) -> Vec<(i32, usize)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = common::TestServer::start_with(|s: &mut Settings| {
            s.persist = Some(persist(dir));
        })
        .await;
        let mut c = server.client().await;
        c.create("/a", b"x", CreateMode::Persistent)
            .await
            .expect("create /a");
        let mut out = Vec::new();
        for req in [
            check("/a", 0),
            check("/a", -1),
            check("/a", 5),
            check("/b", -1),
        ] {
            let r = c.call(OpCode::Check, &req).await;
            out.push((r.err(), r.body.len()));
        }
        let multi = MultiRequest {
            ops: vec![MultiOp::Check(check("/a", 0))],
        };
        let r = c.call(OpCode::Multi, &multi).await;
        out.push((r.err(), usize::from(!r.body.is_empty())));
        c.set_data("/a", b"after", 0)
            .await
            .expect("setData after the checks");
        out
    })
}

#[test]
fn a_lone_check_is_answered_and_leaves_a_log_that_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let replies = run_checks(dir.path());
    assert_eq!(
        replies,
        vec![
            (0, 0),
            (0, 0),
            (ErrorCode::BadVersion as i32, 0),
            (ErrorCode::NoNode as i32, 0),
            (0, 1),
        ],
        "(error, body) of check /a v0, v-1, v5, /b, and of a multi [check /a v0]"
    );

    let entries = TxnLogIterator::open(&version2_dir(dir.path()), 0, RecoveryMode::Strict)
        .expect("open log")
        .collect::<Result<Vec<_>, _>>()
        .expect("every logged txn decodes");
    // createSession, create, four checks (each a txn, as in ZooKeeper), the
    // multi, setData.
    assert_eq!(entries.len(), 8, "{entries:?}");
    for e in &entries[2..6] {
        assert!(
            matches!(e.body, TxnBody::Error(_)),
            "a lone check is logged as an ErrorTxn, not {:?}",
            e.body
        );
    }
    assert!(
        matches!(&entries[6].body, TxnBody::Multi(subs) if matches!(subs[..], [TxnBody::Check(_)])),
        "inside a multi a check stays a check: {:?}",
        entries[6].body
    );

    // A restart on the same directory replays all of it.
    let s = Settings::standalone_default();
    let mut core = Pipeline::new(s.core, s.info).core;
    let (_, recovered) = core.recover(&persist(dir.path())).expect("recover");
    assert_eq!(recovered.replayed, 8);
}
