//! Writes a fixed scenario of txns with [`FileTxnLog`] into
//! `DATA_DIR/version-2`, for the interoperability tests with Java ZooKeeper
//! (compat-tests/persistence/).
//!
//! ```text
//! write_txnlog DATA_DIR
//! ```
//!
//! The scenario is a valid history for an empty ZooKeeper database: every
//! txn type (sessions, create/create2/container/TTL, setData, setACL,
//! delete/deleteContainer, error, successful and failed multi), zxids in
//! epoch 1, two log files (rolled once). For each txn it prints
//! `zxid 0x<zxid> <op>`; the last line is `N txns`.

use ferrokeeper::persist::inspect::log::op_name;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use ferrokeeper::persist::txnlog::version2_dir;
use ferrokeeper::persist::{FileTxnLog, FileTxnLogOptions, TxnLog};
use ferrokeeper::txn::{LoggedTxn, TxnBody};
use jute::data::{Id, ACL};
use jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
    CreateTxn, DeleteTxn, ErrorTxn, SetACLTxn, SetDataTxn, TxnHeader,
};

const S1: i64 = 0x1000_00aa_0001;
const S2: i64 = 0x1000_00aa_0002;
const EPOCH: i64 = 1 << 32;

fn world(perms: i32) -> Vec<ACL> {
    vec![ACL {
        perms,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn create(path: &str, data: &[u8], ephemeral: bool, pcv: i32) -> CreateTxn {
    CreateTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: world(31),
        ephemeral,
        parent_c_version: pcv,
    }
}

fn set_data(path: &str, data: &[u8], version: i32) -> TxnBody {
    TxnBody::SetData(SetDataTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        version,
    })
}

fn delete(path: &str) -> DeleteTxn {
    DeleteTxn { path: path.into() }
}

/// (session, body) in order; `None` marks a roll.
fn scenario() -> Vec<Option<(i64, TxnBody)>> {
    use TxnBody::*;
    vec![
        Some((S1, CreateSession(CreateSessionTxn { time_out: 30000 }))),
        Some((S1, Create(create("/fk", b"v0", false, 1)))),
        Some((S1, Create2(create("/fk/eph", b"e", true, 1)))),
        Some((S1, Create(create("/fk/seq-0000000001", b"", false, 2)))),
        Some((S1, set_data("/fk", b"v1", 1))),
        Some((
            S1,
            SetAcl(SetACLTxn {
                path: "/fk".into(),
                acl: world(15),
                version: 1,
            }),
        )),
        Some((
            S1,
            CreateContainer(CreateContainerTxn {
                path: "/fk-cont".into(),
                data: None,
                acl: world(31),
                parent_c_version: 2,
            }),
        )),
        Some((S1, Create(create("/fk-cont/child", b"c", false, 1)))),
        Some((
            S1,
            CreateTtl(CreateTTLTxn {
                path: "/fk-ttl".into(),
                data: Some(b"ttl".to_vec()),
                acl: world(31),
                parent_c_version: 3,
                ttl: 3_600_000,
            }),
        )),
        Some((
            S1,
            Multi(vec![
                Create(create("/fk/m1", b"m", false, 3)),
                set_data("/fk", b"v2", 2),
                Check(CheckVersionTxn {
                    path: "/fk".into(),
                    version: 2,
                }),
                Delete(delete("/fk/seq-0000000001")),
            ]),
        )),
        Some((
            S1,
            // A failed multi as ZooKeeper logs it: the ops before the failing one
            // keep their txns, the failing one is an error, the rest
            // RUNTIMEINCONSISTENCY; nothing of it is applied.
            Multi(vec![
                Create(create("/fk/never", b"", false, 4)),
                Error(ErrorTxn { err: -101 }),
                Error(ErrorTxn { err: -2 }),
            ]),
        )),
        Some((S1, Error(ErrorTxn { err: -110 }))),
        Some((S1, Delete(delete("/fk-cont/child")))),
        Some((S1, DeleteContainer(delete("/fk-cont")))),
        None,
        Some((S2, CreateSession(CreateSessionTxn { time_out: 20000 }))),
        Some((S2, Create(create("/fk/s2-eph", b"", true, 5)))),
        Some((
            S1,
            CloseSession(CloseSessionTxn {
                paths2_delete: vec!["/fk/eph".into()],
            }),
        )),
        Some((S2, set_data("/fk/m1", &[b'x'; 2000], 1))),
        Some((
            S2,
            CloseSession(CloseSessionTxn {
                paths2_delete: vec!["/fk/s2-eph".into()],
            }),
        )),
    ]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data_dir] = args.as_slice() else {
        eprintln!("usage: write_txnlog DATA_DIR");
        return ExitCode::from(2);
    };
    match run(&PathBuf::from(data_dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("write_txnlog: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(data_dir: &std::path::Path) -> std::io::Result<()> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let mut log = FileTxnLog::open(version2_dir(data_dir), EPOCH, FileTxnLogOptions::default())?;
    let mut zxid = EPOCH;
    let mut cxid = 0;
    let mut count = 0;
    for step in scenario() {
        let Some((session, body)) = step else {
            log.commit()?;
            log.roll()?;
            continue;
        };
        zxid += 1;
        cxid += 1;
        let txn = LoggedTxn {
            header: TxnHeader {
                client_id: session,
                cxid,
                zxid,
                time: now,
                type_: body.op_code() as i32,
            },
            body,
            digest: None,
        };
        log.append(&txn)?;
        println!("zxid 0x{zxid:x} {}", op_name(&txn.body));
        count += 1;
    }
    log.commit()?;
    println!("{count} txns");
    Ok(())
}
