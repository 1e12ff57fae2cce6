//! Truncates a txn log to a zxid as a learner does on TRUNC, then optionally
//! appends fresh txns after it, for the interoperability tests with Java
//! ZooKeeper (compat-tests/txnlog-interop/).
//!
//! ```text
//! truncate_txnlog DATA_DIR ZXID [--append N]
//! ```
//!
//! Opens `DATA_DIR/version-2` with [`FileTxnLog`] at the end of its log,
//! truncates it to ZXID, then appends N `createSession` txns (zxids ZXID+1..,
//! sessions `0x2000_0000_0000 + i`, no digest) and commits them. Prints
//! `truncated to 0x<zxid> found=<bool> deleted=<n>` and `appended <n>`.
//! Exit status: 0 done; 1 failure (message on stderr); 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;

use ferrokeeper::persist::inspect::parse_zxid;
use ferrokeeper::persist::txnlog::{version2_dir, RecoveryMode, TxnLogIterator};
use ferrokeeper::persist::{FileTxnLog, FileTxnLogOptions, TxnLog};
use ferrokeeper::txn::{LoggedTxn, TxnBody};
use jute::txn::{CreateSessionTxn, TxnHeader};

fn usage() -> ExitCode {
    eprintln!("usage: truncate_txnlog DATA_DIR ZXID [--append N]");
    ExitCode::from(2)
}

fn run(dir: PathBuf, zxid: i64, append: i64) -> Result<(), String> {
    let log_dir = version2_dir(&dir);
    let mut last = 0;
    for entry in
        TxnLogIterator::open(&log_dir, 0, RecoveryMode::Strict).map_err(|e| e.to_string())?
    {
        last = entry.map_err(|e| e.to_string())?.header.zxid;
    }
    let mut log = FileTxnLog::open(&log_dir, last, FileTxnLogOptions::default())
        .map_err(|e| e.to_string())?;
    let done = log.truncate(zxid).map_err(|e| e.to_string())?;
    println!(
        "truncated to 0x{zxid:x} found={} deleted={}",
        done.found,
        done.deleted.len()
    );
    for i in 1..=append {
        let z = zxid + i;
        let body = TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 });
        let header = TxnHeader {
            client_id: 0x2000_0000_0000 + i,
            cxid: 0,
            zxid: z,
            time: 1_700_000_000_000 + i,
            type_: body.op_code() as i32,
        };
        log.append(&LoggedTxn {
            header,
            body,
            digest: None,
        })
        .map_err(|e| e.to_string())?;
    }
    log.commit().map_err(|e| e.to_string())?;
    println!("appended {append}");
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, zxid, append) = match args.as_slice() {
        [dir, zxid] => (dir, zxid, "0"),
        [dir, zxid, flag, n] if flag == "--append" => (dir, zxid, n.as_str()),
        _ => return usage(),
    };
    let (Some(zxid), Ok(append)) = (parse_zxid(zxid), append.parse::<i64>()) else {
        return usage();
    };
    match run(PathBuf::from(dir), zxid, append) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("truncate_txnlog: {e}");
            ExitCode::from(1)
        }
    }
}
