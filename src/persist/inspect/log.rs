//! Txn log entries as text.
//!
//! One txn a line, with the fields `TxnLogToolkit` prints and in its form
//! (`Long.toHexString` for session, cxid and zxid, `Request.op2String` for
//! the type):
//!
//! ```text
//! session 0x<session> cxid 0x<cxid> zxid 0x<zxid> <op> <txn> [digest <version>:0x<digest>]
//! ```
//!
//! [`dump_lines`] prints exactly that (the `dump_txnlog` example, parsed by
//! the interop tests); [`dump_readable`] (`ferrokeeper log-dump`) puts the
//! txn time in front, a line naming each file and its header, and a count
//! at the end, as the toolkit does.

use std::io::{self, Read, Write};
use std::path::Path;

use jute::data::ACL;
use jute::persistence::FileHeader;

use super::{format_time_ms, java_hex, resolve_version2};
use crate::persist::txnlog::{
    list_log_files, zxid_from_log_name, LogEntry, LogFile, RecoveryMode, TxnLogErrorKind,
    TxnLogIterator,
};
use crate::txn::TxnBody;

/// How a log dump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogDumpStatus {
    /// Everything read.
    Clean,
    /// Corruption or an I/O error (reported on the error output).
    Failed,
    /// A torn tail, in [`RecoveryMode::Strict`].
    TornTail,
}

impl LogDumpStatus {
    /// The exit status the tools use: 0, 1, 3.
    pub fn exit_code(self) -> u8 {
        match self {
            LogDumpStatus::Clean => 0,
            LogDumpStatus::Failed => 1,
            LogDumpStatus::TornTail => 3,
        }
    }
}

/// `Request.op2String` for the txn types.
pub fn op_name(b: &TxnBody) -> &'static str {
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

/// A short summary of a txn's body: its fields in record order, data
/// quoted (or `<N bytes>` above 64 bytes), ACLs as `[scheme:id:perms,...]`.
pub fn format_body(b: &TxnBody) -> String {
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

/// One entry: `session 0x.. cxid 0x.. zxid 0x.. <op> <txn> [digest v:0x..]`.
pub fn format_entry(e: &LogEntry) -> String {
    let h = &e.header;
    let mut line = format!(
        "session 0x{} cxid 0x{} zxid 0x{} {} {}",
        java_hex(h.client_id),
        java_hex(i64::from(h.cxid)),
        java_hex(h.zxid),
        op_name(&e.body),
        format_body(&e.body)
    );
    if let Some(d) = &e.digest {
        line.push_str(&format!(
            " digest {}:0x{}",
            d.version,
            java_hex(d.tree_digest)
        ));
    }
    line
}

/// [`format_entry`] with the txn's time in front, as `TxnLogToolkit` prints it.
pub fn format_entry_with_time(e: &LogEntry) -> String {
    format!("{} {}", format_time_ms(e.header.time), format_entry(e))
}

/// The txns after `after` in `dir` (a `version-2` directory, or one holding
/// it), one [`format_entry`] line each on `out`, then `N txns`. Errors go to
/// `err`, prefixed with `prog: `, and end the dump: that is what the
/// `dump_txnlog` example prints.
pub fn dump_lines(
    prog: &str,
    dir: &Path,
    after: i64,
    mode: RecoveryMode,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<LogDumpStatus> {
    let dir = resolve_version2(dir);
    let mut it = match TxnLogIterator::open(&dir, after, mode) {
        Ok(it) => it,
        Err(e) => {
            writeln!(err, "{prog}: {e}")?;
            return Ok(LogDumpStatus::Failed);
        }
    };
    let mut count = 0u64;
    let mut status = LogDumpStatus::Clean;
    for item in it.by_ref() {
        match item {
            Ok(entry) => {
                writeln!(out, "{}", format_entry(&entry))?;
                count += 1;
            }
            Err(e) => {
                writeln!(err, "{prog}: {e}")?;
                status = match e.kind {
                    TxnLogErrorKind::TornTail(_) => LogDumpStatus::TornTail,
                    _ => LogDumpStatus::Failed,
                };
            }
        }
    }
    for t in it.superseded_tails() {
        writeln!(err, "{prog}: {t}: superseded by the next log file, skipped")?;
    }
    if it.truncated() {
        if let Some(t) = it.torn_tail() {
            writeln!(err, "{prog}: {t}: truncated")?;
        }
    }
    writeln!(out, "{count} txns")?;
    Ok(status)
}

/// The 16-byte header of a log file.
pub fn read_file_header(path: &Path) -> io::Result<FileHeader> {
    let mut buf = [0u8; 16];
    std::fs::File::open(path)?.read_exact(&mut buf)?;
    jute::from_bytes::<FileHeader>(&buf).map_err(|e| io::Error::other(e.to_string()))
}

/// `ferrokeeper log-dump`: the txns of one log file, or of every log file
/// in a directory (a `version-2` directory or one holding it), with zxid
/// above `after` (all when `None`; with a directory, the files are chosen as
/// ZooKeeper chooses them for that zxid).
///
/// Before the first txn of each file, a line
/// `<file>: ZooKeeper Transactional Log File with dbid D txnlog format version V`;
/// each txn as [`format_entry_with_time`]; at the end `EOF reached after N
/// txns.` (or `stopped after N txns` when something was wrong). A torn tail,
/// a bad checksum or any other damage is reported on `err` with its file and
/// offset, and nothing is changed on disk. A torn tail superseded by a later
/// file (what a crash and restart leaves) is reported as a warning only.
pub fn dump_readable(
    target: &Path,
    after: Option<i64>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> io::Result<LogDumpStatus> {
    let after_zxid = after.unwrap_or(i64::MIN);
    let meta = match std::fs::metadata(target) {
        Ok(m) => m,
        Err(e) => {
            writeln!(err, "ferrokeeper: {}: {e}", target.display())?;
            return Ok(LogDumpStatus::Failed);
        }
    };
    let mut it = if meta.is_dir() {
        let dir = resolve_version2(target);
        match list_log_files(&dir) {
            Ok(files) if files.is_empty() => {
                writeln!(
                    err,
                    "ferrokeeper: no txn log files (log.<zxid>) in {}",
                    dir.display()
                )?;
                return Ok(LogDumpStatus::Failed);
            }
            Ok(_) => {}
            Err(e) => {
                writeln!(err, "ferrokeeper: {e}")?;
                return Ok(LogDumpStatus::Failed);
            }
        }
        match TxnLogIterator::open(&dir, after_zxid, RecoveryMode::Strict) {
            Ok(it) => it,
            Err(e) => {
                writeln!(err, "ferrokeeper: {e}")?;
                return Ok(LogDumpStatus::Failed);
            }
        }
    } else {
        let start_zxid = target
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(zxid_from_log_name)
            .unwrap_or(0);
        TxnLogIterator::over_files(
            vec![LogFile {
                path: target.to_path_buf(),
                start_zxid,
            }],
            after_zxid,
            RecoveryMode::Strict,
        )
    };

    let mut count = 0u64;
    let mut status = LogDumpStatus::Clean;
    let mut current: Option<std::path::PathBuf> = None;
    while let Some(item) = it.next() {
        match item {
            Ok(entry) => {
                let file = it.current_file().map(Path::to_path_buf);
                if file.is_some() && file != current {
                    if let Some(f) = &file {
                        match read_file_header(f) {
                            Ok(h) => writeln!(
                                out,
                                "{}: ZooKeeper Transactional Log File with dbid {} txnlog format \
                                 version {}",
                                f.display(),
                                h.dbid,
                                h.version
                            )?,
                            Err(e) => writeln!(out, "{}: (header unreadable: {e})", f.display())?,
                        }
                    }
                    current = file;
                }
                writeln!(out, "{}", format_entry_with_time(&entry))?;
                count += 1;
            }
            Err(e) => {
                writeln!(err, "ferrokeeper: {e}")?;
                status = match e.kind {
                    TxnLogErrorKind::TornTail(_) => {
                        writeln!(
                            err,
                            "ferrokeeper: (nothing was changed; the server cuts a torn last \
                             entry off when it starts)"
                        )?;
                        LogDumpStatus::TornTail
                    }
                    _ => LogDumpStatus::Failed,
                };
            }
        }
    }
    for t in it.superseded_tails() {
        writeln!(
            err,
            "ferrokeeper: warning: {t}: superseded by the next log file (a crash and \
             restart leaves this); skipped, as ZooKeeper skips it"
        )?;
    }
    if status == LogDumpStatus::Clean {
        writeln!(out, "EOF reached after {count} txns.")?;
    } else {
        writeln!(out, "stopped after {count} txns")?;
    }
    Ok(status)
}
