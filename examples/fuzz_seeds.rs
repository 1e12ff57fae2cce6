//! Writes seed corpora for the cargo-fuzz targets in `fuzz/` (see
//! fuzz/run.sh), so the fuzzers start from valid frames and files rather
//! than from nothing:
//!
//! ```text
//! fuzz_seeds OUT_DIR     # writes OUT_DIR/{jute_decode,connection,quorum_decode}/*
//! ```
//!
//! - `jute_decode`: a request frame of every op code the server serves, a
//!   ConnectRequest with and without readOnly, write and read multis, the
//!   txn bytes of every txn type (with and without a digest), a small txn
//!   log file and Java 3.8.0's snapshots in all three compressions — each
//!   behind the selector byte the target expects.
//! - `connection`: a handshake followed by those requests (whole, and in
//!   small pieces), each request alone behind the target's own handshake,
//!   every four-letter word, and a handshake with a bad tail.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ferrokeeper::persist::txnlog::format::{file_header, frame_entry, marshal_txn};
use ferrokeeper::txn::TxnBody;
use jute::consts::{AddWatchMode, CreateMode, OpCode, Perms, WatcherType};
use jute::data::{Id, ACL};
use jute::multi::{MultiOp, MultiRequest};
use jute::proto::{
    AddWatchRequest, AuthPacket, CheckVersionRequest, CheckWatchesRequest, ConnectRequest,
    CreateRequest, CreateTTLRequest, DeleteRequest, ExistsRequest, GetACLRequest,
    GetAllChildrenNumberRequest, GetChildren2Request, GetChildrenRequest, GetDataRequest,
    GetEphemeralsRequest, RemoveWatchesRequest, RequestHeader, SetACLRequest, SetDataRequest,
    SetWatches, SetWatches2, SyncRequest,
};
use jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
    CreateTxn, DeleteTxn, ErrorTxn, SetACLTxn, SetDataTxn, TxnDigest, TxnHeader,
};

/// The jute_decode target's selector bytes (see its `Target`).
const SEL_CLIENT_FRAME: u8 = 0;
const SEL_CONNECT: u8 = 1;
const SEL_MULTI: u8 = 2;
const SEL_TXN_ENTRY: u8 = 3;
const SEL_SNAPSHOT_NONE: u8 = 4;
const SEL_SNAPSHOT_GZ: u8 = 10;
const SEL_SNAPSHOT_SNAPPY: u8 = 16;
const SEL_TXN_LOG: u8 = 5;

fn open_acl() -> Vec<ACL> {
    vec![ACL {
        perms: Perms::ALL,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn create(path: &str, mode: CreateMode) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(b"seed".to_vec()),
        acl: open_acl(),
        flags: mode.flag(),
    }
}

fn write_multi() -> MultiRequest {
    MultiRequest {
        ops: vec![
            MultiOp::Create(create("/m", CreateMode::Persistent)),
            MultiOp::SetData(SetDataRequest {
                path: "/m".into(),
                data: Some(b"x".to_vec()),
                version: -1,
            }),
            MultiOp::Check(CheckVersionRequest {
                path: "/m".into(),
                version: 1,
            }),
            MultiOp::Delete(DeleteRequest {
                path: "/m".into(),
                version: -1,
            }),
        ],
    }
}

fn read_multi() -> MultiRequest {
    MultiRequest {
        ops: vec![
            MultiOp::GetData(GetDataRequest {
                path: "/a".into(),
                watch: false,
            }),
            MultiOp::GetChildren(GetChildrenRequest {
                path: "/".into(),
                watch: false,
            }),
        ],
    }
}

/// (op code, body) of one request of every kind the server serves, in an
/// order that makes sense on one session.
fn requests() -> Vec<(OpCode, Vec<u8>)> {
    let paths = |p: &str| vec![p.to_string()];
    vec![
        (
            OpCode::Auth,
            jute::to_bytes(&AuthPacket {
                type_: 0,
                scheme: "digest".into(),
                auth: Some(b"user:pw".to_vec()),
            }),
        ),
        (
            OpCode::Create,
            jute::to_bytes(&create("/a", CreateMode::Persistent)),
        ),
        (
            OpCode::Create2,
            jute::to_bytes(&create("/a/e", CreateMode::EphemeralSequential)),
        ),
        (
            OpCode::CreateContainer,
            jute::to_bytes(&create("/c", CreateMode::Container)),
        ),
        (
            OpCode::CreateTTL,
            jute::to_bytes(&CreateTTLRequest {
                path: "/t".into(),
                data: None,
                acl: open_acl(),
                flags: CreateMode::PersistentWithTTL.flag(),
                ttl: 100,
            }),
        ),
        (
            OpCode::Exists,
            jute::to_bytes(&ExistsRequest {
                path: "/a".into(),
                watch: true,
            }),
        ),
        (
            OpCode::GetData,
            jute::to_bytes(&GetDataRequest {
                path: "/a".into(),
                watch: true,
            }),
        ),
        (
            OpCode::SetData,
            jute::to_bytes(&SetDataRequest {
                path: "/a".into(),
                data: Some(b"data".to_vec()),
                version: 0,
            }),
        ),
        (
            OpCode::GetChildren,
            jute::to_bytes(&GetChildrenRequest {
                path: "/".into(),
                watch: true,
            }),
        ),
        (
            OpCode::GetChildren2,
            jute::to_bytes(&GetChildren2Request {
                path: "/a".into(),
                watch: false,
            }),
        ),
        (
            OpCode::GetAllChildrenNumber,
            jute::to_bytes(&GetAllChildrenNumberRequest { path: "/".into() }),
        ),
        (
            OpCode::GetEphemerals,
            jute::to_bytes(&GetEphemeralsRequest {
                prefix_path: "/".into(),
            }),
        ),
        (
            OpCode::GetACL,
            jute::to_bytes(&GetACLRequest { path: "/a".into() }),
        ),
        (
            OpCode::SetACL,
            jute::to_bytes(&SetACLRequest {
                path: "/a".into(),
                acl: open_acl(),
                version: -1,
            }),
        ),
        (
            OpCode::Check,
            jute::to_bytes(&CheckVersionRequest {
                path: "/a".into(),
                version: 1,
            }),
        ),
        (OpCode::Multi, jute::to_bytes(&write_multi())),
        (OpCode::MultiRead, jute::to_bytes(&read_multi())),
        (
            OpCode::Sync,
            jute::to_bytes(&SyncRequest { path: "/".into() }),
        ),
        (OpCode::Ping, Vec::new()),
        (
            OpCode::SetWatches,
            jute::to_bytes(&SetWatches {
                relative_zxid: 0,
                data_watches: paths("/a"),
                exist_watches: paths("/x"),
                child_watches: paths("/"),
            }),
        ),
        (
            OpCode::SetWatches2,
            jute::to_bytes(&SetWatches2 {
                relative_zxid: 0,
                data_watches: paths("/a"),
                exist_watches: paths("/x"),
                child_watches: paths("/"),
                persistent_watches: paths("/a"),
                persistent_recursive_watches: paths("/"),
            }),
        ),
        (
            OpCode::AddWatch,
            jute::to_bytes(&AddWatchRequest {
                path: "/a".into(),
                mode: AddWatchMode::PersistentRecursive as i32,
            }),
        ),
        (
            OpCode::CheckWatches,
            jute::to_bytes(&CheckWatchesRequest {
                path: "/a".into(),
                type_: WatcherType::Any as i32,
            }),
        ),
        (
            OpCode::RemoveWatches,
            jute::to_bytes(&RemoveWatchesRequest {
                path: "/a".into(),
                type_: WatcherType::Any as i32,
            }),
        ),
        (OpCode::WhoAmI, Vec::new()),
        (
            OpCode::Delete,
            jute::to_bytes(&DeleteRequest {
                path: "/c".into(),
                version: -1,
            }),
        ),
        (OpCode::CloseSession, Vec::new()),
    ]
}

/// RequestHeader + body, without the length prefix.
fn request_payload(xid: i32, op: OpCode, body: &[u8]) -> Vec<u8> {
    let mut out = jute::to_bytes(&RequestHeader {
        xid,
        type_: op as i32,
    });
    out.extend_from_slice(body);
    out
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

fn connect_request() -> ConnectRequest {
    ConnectRequest {
        protocol_version: 0,
        last_zxid_seen: 0,
        time_out: 1000,
        session_id: 0,
        passwd: Some(vec![0; 16]),
        read_only: false,
    }
}

fn with_selector(selector: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![selector];
    out.extend_from_slice(bytes);
    out
}

/// The txn body of every kind, each under a fitting header.
fn txns() -> Vec<(TxnHeader, TxnBody)> {
    let header = |zxid: i64, op: OpCode| TxnHeader {
        client_id: 0x1000_0000_0001,
        cxid: zxid as i32,
        zxid,
        time: 1_700_000_000_000,
        type_: op as i32,
    };
    let create = CreateTxn {
        path: "/a".into(),
        data: Some(b"seed".to_vec()),
        acl: open_acl(),
        ephemeral: false,
        parent_c_version: 1,
    };
    let bodies = vec![
        TxnBody::CreateSession(CreateSessionTxn { time_out: 30_000 }),
        TxnBody::Create(create.clone()),
        TxnBody::Create2(create.clone()),
        TxnBody::CreateContainer(CreateContainerTxn {
            path: "/c".into(),
            data: None,
            acl: open_acl(),
            parent_c_version: 2,
        }),
        TxnBody::CreateTtl(CreateTTLTxn {
            path: "/t".into(),
            data: Some(Vec::new()),
            acl: open_acl(),
            parent_c_version: 3,
            ttl: 1000,
        }),
        TxnBody::SetData(SetDataTxn {
            path: "/a".into(),
            data: Some(b"x".to_vec()),
            version: 1,
        }),
        TxnBody::SetAcl(SetACLTxn {
            path: "/a".into(),
            acl: open_acl(),
            version: 1,
        }),
        TxnBody::Delete(DeleteTxn { path: "/t".into() }),
        TxnBody::DeleteContainer(DeleteTxn { path: "/c".into() }),
        TxnBody::Error(ErrorTxn { err: -101 }),
        TxnBody::Multi(vec![
            TxnBody::Create(create),
            TxnBody::Check(CheckVersionTxn {
                path: "/a".into(),
                version: 1,
            }),
            TxnBody::Delete(DeleteTxn { path: "/a".into() }),
        ]),
        TxnBody::CloseSession(CloseSessionTxn {
            paths2_delete: vec!["/e".into()],
        }),
    ];
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| (header(i as i64 + 1, body.op_code()), body))
        .collect()
}

struct Out {
    dir: PathBuf,
    count: usize,
}

impl Out {
    fn new(dir: PathBuf) -> std::io::Result<Out> {
        std::fs::create_dir_all(&dir)?;
        Ok(Out { dir, count: 0 })
    }

    fn put(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.count += 1;
        std::fs::write(
            self.dir.join(format!("seed-{:03}-{name}", self.count)),
            bytes,
        )
    }
}

fn jute_decode_seeds(out: &mut Out) -> std::io::Result<()> {
    for (i, (op, body)) in requests().iter().enumerate() {
        let payload = request_payload(i as i32 + 1, *op, body);
        out.put(
            &format!("frame-{op:?}"),
            &with_selector(SEL_CLIENT_FRAME, &payload),
        )?;
    }
    let connect = connect_request();
    out.put(
        "connect",
        &with_selector(SEL_CONNECT, &jute::to_bytes(&connect)),
    )?;
    let mut old = Vec::new();
    connect.serialize_compat(&mut old, false);
    out.put("connect-old-client", &with_selector(SEL_CONNECT, &old))?;
    out.put(
        "multi-write",
        &with_selector(SEL_MULTI, &jute::to_bytes(&write_multi())),
    )?;
    out.put(
        "multi-read",
        &with_selector(SEL_MULTI, &jute::to_bytes(&read_multi())),
    )?;
    let digest = TxnDigest {
        version: 2,
        tree_digest: 0x1234_5678,
    };
    let mut log = jute::to_bytes(&file_header(0));
    for (header, body) in txns() {
        let name = format!("{:?}", body.op_code());
        out.put(
            &format!("txn-{name}"),
            &with_selector(SEL_TXN_ENTRY, &marshal_txn(&header, &body, None)),
        )?;
        let with_digest = marshal_txn(&header, &body, Some(&digest));
        out.put(
            &format!("txn-{name}-digest"),
            &with_selector(SEL_TXN_ENTRY, &with_digest),
        )?;
        frame_entry(&with_digest, &mut log).map_err(std::io::Error::other)?;
    }
    out.put("txnlog", &with_selector(SEL_TXN_LOG, &log))?;
    let snapshots: [(u8, &str, &[u8]); 3] = [
        (
            SEL_SNAPSHOT_NONE,
            "snapshot-none",
            include_bytes!("../src/persist/snapshot/testdata/java-3.8.0-none/snapshot.b"),
        ),
        (
            SEL_SNAPSHOT_GZ,
            "snapshot-gz",
            include_bytes!("../src/persist/snapshot/testdata/java-3.8.0-gz/snapshot.b.gz"),
        ),
        (
            SEL_SNAPSHOT_SNAPPY,
            "snapshot-snappy",
            include_bytes!("../src/persist/snapshot/testdata/java-3.8.0-snappy/snapshot.b.snappy"),
        ),
    ];
    for (selector, name, bytes) in snapshots {
        out.put(name, &with_selector(selector, bytes))?;
    }
    Ok(())
}

fn connection_seeds(out: &mut Out) -> std::io::Result<()> {
    let handshake = framed(&jute::to_bytes(&connect_request()));
    let mut session = handshake.clone();
    for (i, (op, body)) in requests().iter().enumerate() {
        let xid = if *op == OpCode::Ping {
            -2
        } else {
            i as i32 + 1
        };
        session.extend_from_slice(&framed(&request_payload(xid, *op, body)));
        // One seed per request (handshake + it), so each op is near the top.
        let mut one = vec![0u8];
        one.extend_from_slice(&handshake);
        one.extend_from_slice(&framed(&request_payload(1, *op, body)));
        out.put(&format!("op-{op:?}"), &one)?;
        // The same request behind the target's own handshake (high bit).
        let mut behind = vec![0x80u8];
        behind.extend_from_slice(&framed(&request_payload(1, *op, body)));
        out.put(&format!("op-{op:?}-after-handshake"), &behind)?;
    }
    let mut whole = vec![0u8];
    whole.extend_from_slice(&session);
    out.put("session", &whole)?;
    let mut pieces = vec![7u8];
    pieces.extend_from_slice(&session);
    out.put("session-in-pieces", &pieces)?;
    for word in ferrokeeper::net::FOUR_LETTER_WORDS {
        let mut w = vec![0u8];
        w.extend_from_slice(word.as_bytes());
        if *word == "stmk" {
            w.extend_from_slice(&0x1f2i64.to_be_bytes());
        }
        out.put(&format!("4lw-{word}"), &w)?;
    }
    let mut bad_tail = vec![0u8];
    bad_tail.extend_from_slice(&handshake);
    bad_tail.extend_from_slice(&framed(&[0, 0, 0, 1, 0, 0, 0, 1, 0xff, 0xff]));
    bad_tail.extend_from_slice(&[0, 0, 0x10]);
    out.put("handshake-bad-tail", &bad_tail)?;
    Ok(())
}

fn run(root: &Path) -> std::io::Result<(usize, usize, usize)> {
    let mut jute_out = Out::new(root.join("jute_decode"))?;
    jute_decode_seeds(&mut jute_out)?;
    let mut conn_out = Out::new(root.join("connection"))?;
    connection_seeds(&mut conn_out)?;
    let mut quorum_out = Out::new(root.join("quorum_decode"))?;
    for seed in ferrokeeper::quorum::wire::fuzzing::seeds() {
        quorum_out.put(&format!("selector-{}", seed[0]), &seed)?;
    }
    Ok((jute_out.count, conn_out.count, quorum_out.count))
}

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: fuzz_seeds OUT_DIR");
        return ExitCode::from(2);
    };
    match run(Path::new(&dir)) {
        Ok((j, c, q)) => {
            println!("{j} jute_decode seeds, {c} connection seeds, {q} quorum_decode seeds");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("fuzz_seeds: {e}");
            ExitCode::FAILURE
        }
    }
}
