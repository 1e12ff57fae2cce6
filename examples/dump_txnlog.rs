//! Prints the txns of a ZooKeeper / FerroKeeper transaction log, one a line.
//!
//! ```text
//! dump_txnlog DIR [--after ZXID] [--truncate-torn-tail]
//! ```
//!
//! DIR is the `version-2` directory, or a dataLogDir that contains one.
//! Each line: `session 0x.. cxid 0x.. zxid 0x.. <op> <txn> [digest v:0x..]`,
//! with session/cxid/zxid printed as ZooKeeper's TxnLogToolkit prints them
//! (`Long.toHexString`). The last line on stdout is `N txns`.
//!
//! Exit status: 0 all read; 1 error (corruption, I/O: message on stderr,
//! naming file and offset); 2 usage; 3 a torn tail was found (strict mode;
//! with --truncate-torn-tail it is cut and the status is 0).

use std::path::PathBuf;
use std::process::ExitCode;

use ferrokeeper::persist::txnlog::{
    version2_dir, LogEntry, RecoveryMode, TxnLogErrorKind, TxnLogIterator,
};
use ferrokeeper::pipeline::TxnBody;
use jute::data::ACL;

fn usage() -> ExitCode {
    eprintln!("usage: dump_txnlog DIR [--after ZXID] [--truncate-torn-tail]");
    ExitCode::from(2)
}

fn parse_zxid(s: &str) -> Option<i64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut after = 0i64;
    let mut mode = RecoveryMode::Strict;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--after" => match args.next().as_deref().and_then(parse_zxid) {
                Some(z) => after = z,
                None => return usage(),
            },
            "--truncate-torn-tail" => mode = RecoveryMode::TruncateTornTail,
            _ if dir.is_none() && !a.starts_with("--") => dir = Some(PathBuf::from(a)),
            _ => return usage(),
        }
    }
    let Some(mut dir) = dir else { return usage() };
    if version2_dir(&dir).is_dir() {
        dir = version2_dir(&dir);
    }
    let mut it = match TxnLogIterator::open(&dir, after, mode) {
        Ok(it) => it,
        Err(e) => {
            eprintln!("dump_txnlog: {e}");
            return ExitCode::from(1);
        }
    };
    let mut count = 0u64;
    let mut status = ExitCode::SUCCESS;
    for item in it.by_ref() {
        match item {
            Ok(entry) => {
                println!("{}", format_entry(&entry));
                count += 1;
            }
            Err(e) => {
                eprintln!("dump_txnlog: {e}");
                status = match e.kind {
                    TxnLogErrorKind::TornTail(_) => ExitCode::from(3),
                    _ => ExitCode::from(1),
                };
            }
        }
    }
    for t in it.superseded_tails() {
        eprintln!("dump_txnlog: {t}: superseded by the next log file, skipped");
    }
    if it.truncated() {
        if let Some(t) = it.torn_tail() {
            eprintln!("dump_txnlog: {t}: truncated");
        }
    }
    println!("{count} txns");
    status
}

fn hex(v: i64) -> String {
    format!("{:x}", v as u64)
}

fn format_entry(e: &LogEntry) -> String {
    let h = &e.header;
    let mut line = format!(
        "session 0x{} cxid 0x{} zxid 0x{} {} {}",
        hex(h.client_id),
        hex(i64::from(h.cxid)),
        hex(h.zxid),
        op_name(&e.body),
        format_body(&e.body)
    );
    if let Some(d) = &e.digest {
        line.push_str(&format!(" digest {}:0x{}", d.version, hex(d.tree_digest)));
    }
    line
}

/// `Request.op2String` for the txn types.
fn op_name(b: &TxnBody) -> &'static str {
    match b {
        TxnBody::Create(_) => "create",
        TxnBody::Create2(_) => "create2",
        TxnBody::CreateContainer(_) => "createContainer",
        TxnBody::CreateTtl(_) => "createTtl",
        TxnBody::Delete(_) => "delete",
        TxnBody::DeleteContainer(_) => "deleteContainer",
        TxnBody::SetData(_) => "setData",
        TxnBody::SetAcl(_) => "setACL",
        TxnBody::Check(_) => "check",
        TxnBody::CreateSession(_) => "createSession",
        TxnBody::CloseSession(_) => "closeSession",
        TxnBody::Error(_) => "error",
        TxnBody::Multi(_) => "multi",
    }
}

fn data(d: &Option<Vec<u8>>) -> String {
    match d {
        None => "null".to_string(),
        Some(b) if b.len() > 64 => format!("<{} bytes>", b.len()),
        Some(b) => format!("{:?}", String::from_utf8_lossy(b)),
    }
}

fn acl(a: &[ACL]) -> String {
    let parts: Vec<String> = a
        .iter()
        .map(|e| format!("{}:{}:{}", e.id.scheme, e.id.id, e.perms))
        .collect();
    format!("[{}]", parts.join(","))
}

fn format_body(b: &TxnBody) -> String {
    match b {
        TxnBody::Create(t) | TxnBody::Create2(t) => format!(
            "{},{},{},{},{}",
            t.path,
            data(&t.data),
            acl(&t.acl),
            t.ephemeral,
            t.parent_c_version
        ),
        TxnBody::CreateContainer(t) => format!(
            "{},{},{},{}",
            t.path,
            data(&t.data),
            acl(&t.acl),
            t.parent_c_version
        ),
        TxnBody::CreateTtl(t) => format!(
            "{},{},{},{},{}",
            t.path,
            data(&t.data),
            acl(&t.acl),
            t.parent_c_version,
            t.ttl
        ),
        TxnBody::Delete(t) | TxnBody::DeleteContainer(t) => t.path.clone(),
        TxnBody::SetData(t) => format!("{},{},{}", t.path, data(&t.data), t.version),
        TxnBody::SetAcl(t) => format!("{},{},{}", t.path, acl(&t.acl), t.version),
        TxnBody::Check(t) => format!("{},{}", t.path, t.version),
        TxnBody::CreateSession(t) => format!("timeOut={}", t.time_out),
        TxnBody::CloseSession(t) => format!("paths2Delete=[{}]", t.paths2_delete.join(",")),
        TxnBody::Error(t) => format!("err={}", t.err),
        TxnBody::Multi(subs) => {
            let parts: Vec<String> = subs
                .iter()
                .map(|s| format!("{}:{}", op_name(s), format_body(s)))
                .collect();
            format!("[{}]", parts.join(";"))
        }
    }
}
