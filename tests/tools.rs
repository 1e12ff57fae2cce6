//! The offline tools of the `ferrokeeper` binary (`check`, `log-dump`,
//! `snapshot-dump`, `purge`) on data directories written by the library's
//! own writers (FileTxnLog, write_snapshot_from) and by an in-process
//! server: output and exit status, clean and damaged.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ferrokeeper::acl::{open_acl_unsafe, read_acl_unsafe, AclCache};
use ferrokeeper::persist::snapshot::{write_snapshot_from, SnapshotCompression};
use ferrokeeper::persist::{FileTxnLog, FileTxnLogOptions, TxnLog};
use ferrokeeper::pipeline::PersistSettings;
use ferrokeeper::tree::{AclRef, DataTree, EphemeralTypes, TreeConfig};
use ferrokeeper::txn::{LoggedTxn, TxnBody};
use jute::txn::{CreateSessionTxn, CreateTxn, TxnHeader};

const SESSION: i64 = 0x1000_0000_0001;
/// 2023-11-14T22:13:20.000Z; txn z is stamped BASE_TIME + z.
const BASE_TIME: i64 = 1_700_000_000_000;
/// Txns written by [`build`]: zxids 1..=LAST.
const LAST: i64 = 0x28;
/// Where [`build`] rolls the log and writes a snapshot.
const SNAPS: [i64; 4] = [0xa, 0x14, 0x1e, 0x23];
/// What purging [`build`]'s directory down to 3 snapshots keeps: snapshot.14
/// is the oldest kept and log.b holds its zxid 0x14.
const KEPT_BY_PURGE_3: [&str; 7] = [
    "log.15",
    "log.1f",
    "log.24",
    "log.b",
    "snapshot.14",
    "snapshot.1e",
    "snapshot.23",
];

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    /// Asserts the exit status, showing everything the run printed if it differs.
    fn exits(&self, code: i32) {
        assert_eq!(self.code, code, "{}", self.all());
    }

    /// Asserts that stdout contains `text`, showing everything if not.
    fn stdout_has(&self, text: &str) {
        assert!(self.stdout.contains(text), "{text:?}\n{}", self.all());
    }

    /// Asserts that stderr contains `text`, showing everything if not.
    fn stderr_has(&self, text: &str) {
        assert!(self.stderr.contains(text), "{text:?}\n{}", self.all());
    }

    fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn ferrokeeper(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_ferrokeeper"))
        .args(args)
        .env_remove("FERROKEEPER_LOG")
        .output()
        .expect("run ferrokeeper");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// Txn `z` of the history [`build`] writes.
fn history_txn(z: i64) -> LoggedTxn {
    let body = match z {
        1 => TxnBody::CreateSession(CreateSessionTxn { time_out: 30_000 }),
        2 => TxnBody::Create(CreateTxn {
            path: "/t".into(),
            data: Some(b"top".to_vec()),
            acl: open_acl_unsafe(),
            ephemeral: false,
            parent_c_version: 2,
        }),
        _ => TxnBody::Create(CreateTxn {
            path: format!("/t/n{z}"),
            data: Some(format!("data-{z}").into_bytes()),
            acl: open_acl_unsafe(),
            ephemeral: false,
            parent_c_version: (z - 2) as i32,
        }),
    };
    LoggedTxn {
        header: TxnHeader {
            client_id: SESSION,
            cxid: z as i32,
            zxid: z,
            time: BASE_TIME + z,
            type_: body.op_code() as i32,
        },
        body,
        digest: None,
    }
}

fn log_options() -> FileTxnLogOptions {
    FileTxnLogOptions {
        pre_alloc_size: 16 * 1024,
        force_sync: false,
        ..Default::default()
    }
}

/// A data directory (dataDir = dataLogDir) holding the history
/// `createSession` (zxid 1), `create /t` (2), `create /t/n<z>` (3..=LAST),
/// with the log rolled and a snapshot of the tree written after each zxid in
/// [`SNAPS`], as ZooKeeper does: log.1, log.b, log.15, log.1f, log.24 and
/// snapshot.a, .14, .1e, .23.
fn build() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let v2 = tmp.path().join("version-2");
    let mut log = FileTxnLog::open(&v2, 0, log_options()).expect("open log");
    let config = TreeConfig {
        ephemeral_types: EphemeralTypes {
            extended_types_enabled: true,
            emulate_353_ttl: false,
        },
        digest_enabled: true,
    };
    let mut acls = AclCache::new();
    let read = acls.convert_acls(&read_acl_unsafe());
    let mut tree = DataTree::new(config, AclRef(read));
    for z in 1..=LAST {
        let txn = history_txn(z);
        if let TxnBody::Create(c) = &txn.body {
            let acl = AclRef(acls.convert_acls(&c.acl));
            tree.create_node(&c.path, c.data.clone(), acl, 0, -1, z, BASE_TIME + z)
                .expect("create");
        }
        log.append(&txn).expect("append");
        if SNAPS.contains(&z) {
            log.commit().expect("commit");
            log.roll().expect("roll");
            write_snapshot_from(
                &v2,
                z,
                SnapshotCompression::None,
                &tree,
                &acls,
                vec![(SESSION, 30_000)],
            )
            .expect("snapshot");
        }
    }
    log.commit().expect("commit");
    drop(log);
    tmp
}

fn v2(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("version-2")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Offsets of the entries of a log file (after the 16-byte header).
fn entry_offsets(content: &[u8]) -> Vec<usize> {
    let mut offsets = Vec::new();
    let mut pos = 16;
    while pos + 12 <= content.len() {
        let len = entry_len(content, pos);
        if len <= 0 {
            break;
        }
        offsets.push(pos);
        pos += 12 + len as usize + 1;
    }
    offsets
}

/// The txn length in the header (checksum 8 bytes, length 4) of the log
/// entry at `at`.
fn entry_len(content: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([
        content[at + 8],
        content[at + 9],
        content[at + 10],
        content[at + 11],
    ])
}

/// Flips a bit in the middle of the txn of entry `n` of a log file, as disk
/// damage would. Returns the entry's offset and the file's new contents.
fn damage_entry(log: &Path, n: usize) -> (usize, Vec<u8>) {
    let mut bytes = std::fs::read(log).expect("read");
    let at = entry_offsets(&bytes)[n];
    let len = entry_len(&bytes, at) as usize;
    bytes[at + 12 + len / 2] ^= 0x40;
    std::fs::write(log, &bytes).expect("write");
    (at, bytes)
}

fn txn_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.contains(" zxid 0x")).collect()
}

#[test]
fn check_passes_on_a_clean_dir() {
    let tmp = build();
    let out = ferrokeeper(&["check", s(tmp.path())]);
    out.exits(0);
    out.stdout_has("check passed (0 warning(s))");
    assert!(!out.stdout.contains("PROBLEM"), "{}", out.all());
    let dir = v2(&tmp);
    for z in SNAPS {
        let line = format!(
            "ok      snapshot {}/snapshot.{z:x}: zxid 0x{z:x}",
            dir.display()
        );
        out.stdout_has(&line);
    }
    out.stdout_has(&format!(
        "newest valid snapshot: {}/snapshot.23 (zxid 0x23)",
        dir.display()
    ));
    out.stdout_has(&format!(
        "ok      log {}/log.b: 10 whole txns read, zxids 0xb..0x14",
        dir.display()
    ));
    out.stdout_has("5 txns after zxid 0x23 to replay: 0x24..0x28");
    // The version-2 directory itself, and dataDir + dataLogDir, work as well.
    assert_eq!(ferrokeeper(&["check", s(&dir)]).code, 0);
    assert_eq!(
        ferrokeeper(&["check", s(tmp.path()), s(tmp.path())]).code,
        0
    );
}

#[test]
fn check_reports_a_flipped_byte_with_file_and_offset_and_changes_nothing() {
    let tmp = build();
    let log = v2(&tmp).join("log.24");
    assert_eq!(entry_offsets(&std::fs::read(&log).expect("read")).len(), 5);
    // A byte in the middle of the third entry's txn.
    let (at, bytes) = damage_entry(&log, 2);

    let out = ferrokeeper(&["check", s(tmp.path())]);
    out.exits(1);
    let want = format!(
        "PROBLEM txn log {} at offset {at}: corrupt: checksum mismatch",
        log.display()
    );
    out.stdout_has(&want);
    out.stdout_has("check FAILED: 1 problem(s)");
    // Only the txns before the damage can be replayed.
    out.stdout_has("2 txns after zxid 0x23 to replay: 0x24..0x25");
    assert_eq!(
        std::fs::read(&log).expect("read"),
        bytes,
        "check changed the file"
    );

    let out = ferrokeeper(&["log-dump", s(&log)]);
    out.exits(1);
    out.stderr_has(&format!("txn log {} at offset {at}", log.display()));
    assert_eq!(txn_lines(&out.stdout).len(), 2, "{}", out.all());
    out.stdout_has("stopped after 2 txns");
}

/// What a crash in the middle of writing a log file's last entry leaves:
/// its first 5 bytes, then the preallocated zeros. Returns the entry's
/// offset and the file's new contents.
fn tear_last_entry(log: &Path) -> (usize, Vec<u8>) {
    let mut bytes = std::fs::read(log).expect("read");
    let offsets = entry_offsets(&bytes);
    let start = *offsets.last().expect("entries");
    let len = entry_len(&bytes, start) as usize;
    for b in &mut bytes[start + 5..start + 12 + len + 1] {
        *b = 0;
    }
    std::fs::write(log, &bytes).expect("write");
    (start, bytes)
}

#[test]
fn a_torn_last_entry_is_reported_not_truncated() {
    let tmp = build();
    let log = v2(&tmp).join("log.24");
    let (start, bytes) = tear_last_entry(&log);

    let out = ferrokeeper(&["check", s(tmp.path())]);
    out.exits(1);
    let want = format!(
        "PROBLEM txn log {} at offset {start}: torn tail",
        log.display()
    );
    out.stdout_has(&want);
    out.stdout_has("nothing was changed");
    out.stdout_has("4 txns after zxid 0x23 to replay: 0x24..0x27");
    assert_eq!(
        std::fs::read(&log).expect("read"),
        bytes,
        "check changed the file"
    );

    // log-dump: the whole txns, then the tear; exit 3.
    let out = ferrokeeper(&["log-dump", s(tmp.path()), "--after", "0x23"]);
    out.exits(3);
    out.stderr_has("torn tail");
    out.stderr_has(&format!("{} at offset {start}", log.display()));
    assert_eq!(txn_lines(&out.stdout).len(), 4, "{}", out.all());
    assert_eq!(
        std::fs::read(&log).expect("read"),
        bytes,
        "log-dump changed the file"
    );
}

/// A torn tail in an older file that the next file supersedes (it resumes
/// right after the last whole txn, as a restart after a crash does) is
/// what ZooKeeper accepts: a warning, not a failure.
#[test]
fn a_superseded_torn_tail_is_a_warning() {
    let tmp = build();
    let dir = v2(&tmp);
    // log.1f holds 0x1f..=0x23; tear 0x23 and log it again in a new file,
    // as a restart would, with everything after it.
    std::fs::remove_file(dir.join("log.24")).expect("remove");
    let old = dir.join("log.1f");
    let (start, _) = tear_last_entry(&old);
    let mut log = FileTxnLog::open(&dir, 0x22, log_options()).expect("open log");
    for z in 0x23..=LAST {
        log.append(&history_txn(z)).expect("append");
    }
    log.commit().expect("commit");
    drop(log);
    assert!(dir.join("log.23").is_file());

    let out = ferrokeeper(&["check", s(tmp.path())]);
    out.exits(0);
    let want = format!(
        "WARNING torn tail in txn log {} at offset {start}:",
        old.display()
    );
    out.stdout_has(&want);
    out.stdout_has("check passed (1 warning(s))");
    out.stdout_has("5 txns after zxid 0x23 to replay: 0x24..0x28");

    let out = ferrokeeper(&["log-dump", s(tmp.path())]);
    out.exits(0);
    out.stderr_has("warning: torn tail");
    assert_eq!(txn_lines(&out.stdout).len(), LAST as usize);
}

#[test]
fn a_corrupt_newest_snapshot_is_reported_and_the_older_valid_one_named() {
    let tmp = build();
    let snap = v2(&tmp).join("snapshot.23");
    let mut bytes = std::fs::read(&snap).expect("read");
    let at = bytes
        .windows(7)
        .position(|w| w == b"data-35")
        .expect("node data in the snapshot");
    bytes[at + 5] ^= 0x01;
    std::fs::write(&snap, &bytes).expect("write");

    let out = ferrokeeper(&["check", s(tmp.path())]);
    out.exits(1);
    let want = format!(
        "PROBLEM snapshot {}: checksum mismatch in seal 1",
        snap.display()
    );
    out.stdout_has(&want);
    out.stdout_has(&format!(
        "newest valid snapshot: {}/snapshot.1e (zxid 0x1e)",
        v2(&tmp).display()
    ));
    out.stdout_has("10 txns after zxid 0x1e to replay: 0x1f..0x28");

    // snapshot-dump verifies the seal: the file and the offset in the error.
    let out = ferrokeeper(&["snapshot-dump", s(&snap)]);
    out.exits(1);
    out.stderr_has(&format!("snapshot {}: checksum mismatch", snap.display()));
    out.stderr_has("(at byte ");
    // Given the directory, it dumps the newest valid one and says what it passed over.
    let out = ferrokeeper(&["snapshot-dump", s(tmp.path())]);
    out.exits(0);
    out.stdout_has(&format!("passed over {}", snap.display()));
    out.stdout_has("Last zxid: 0x1e");
}

#[test]
fn a_gap_between_the_snapshot_and_the_logs_is_an_error() {
    let tmp = build();
    let dir = v2(&tmp);
    for f in ["snapshot.1e", "snapshot.23", "log.15"] {
        std::fs::remove_file(dir.join(f)).expect("remove");
    }
    let out = ferrokeeper(&["check", s(tmp.path())]);
    out.exits(1);
    let want = format!(
        "PROBLEM gap: zxid 0x1f ({}/log.1f at offset 16) does not follow 0x14 (the snapshot's \
         zxid); zxids 0x15..0x1e are missing",
        dir.display()
    );
    out.stdout_has(&want);
}

#[test]
fn logs_without_a_snapshot_fail_the_check_and_an_empty_dir_passes() {
    let tmp = build();
    let dir = v2(&tmp);
    for z in SNAPS {
        std::fs::remove_file(dir.join(format!("snapshot.{z:x}"))).expect("remove");
    }
    let out = ferrokeeper(&["check", s(tmp.path())]);
    out.exits(1);
    out.stdout_has("txn logs but no snapshot");

    let empty = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(empty.path().join("version-2")).expect("mkdir");
    let out = ferrokeeper(&["check", s(empty.path())]);
    out.exits(0);
    // Not a data directory at all.
    let out = ferrokeeper(&["check", s(&empty.path().join("nope"))]);
    out.exits(1);
}

#[test]
fn purge_keeps_the_newest_three_snapshots_and_the_logs_they_need() {
    let tmp = build();
    let dir = v2(&tmp);
    let out = ferrokeeper(&["purge", s(tmp.path()), "-n", "3"]);
    out.exits(0);
    out.stdout_has("removed 1 snapshot(s) and 1 log file(s)");
    // snapshot.14 is the oldest kept; log.b holds zxid 0x14, so it stays.
    assert_eq!(names(&dir), KEPT_BY_PURGE_3);
    assert_eq!(ferrokeeper(&["check", s(tmp.path())]).code, 0);
    // Fewer than 3 is refused.
    let out = ferrokeeper(&["purge", s(tmp.path()), "-n", "2"]);
    out.exits(1);
    out.stderr_has("greater than or equal to 3");
}

#[test]
fn log_dump_prints_every_txn_like_the_toolkit() {
    let tmp = build();
    let dir = v2(&tmp);
    let out = ferrokeeper(&["log-dump", s(tmp.path())]);
    out.exits(0);
    assert_eq!(out.stderr, "");
    let lines = txn_lines(&out.stdout);
    assert_eq!(lines.len(), LAST as usize);
    assert_eq!(
        lines[0],
        "2023-11-14T22:13:20.001Z session 0x100000000001 cxid 0x1 zxid 0x1 createSession \
         timeOut=30000"
    );
    assert_eq!(
        lines[4],
        "2023-11-14T22:13:20.005Z session 0x100000000001 cxid 0x5 zxid 0x5 create \
         /t/n5,\"data-5\",[world:anyone:31],false,3"
    );
    for f in ["log.1", "log.b", "log.15", "log.1f", "log.24"] {
        let header = format!(
            "{}/{f}: ZooKeeper Transactional Log File with dbid 0 txnlog format version 2",
            dir.display()
        );
        out.stdout_has(&header);
    }
    assert!(
        out.stdout.ends_with("EOF reached after 40 txns.\n"),
        "{}",
        out.all()
    );

    // --after: the txns recovery would replay after a snapshot.
    let out = ferrokeeper(&["log-dump", s(tmp.path()), "--after", "0x1e"]);
    out.exits(0);
    let lines = txn_lines(&out.stdout);
    assert_eq!(lines.len(), 10);
    assert!(
        lines[0].contains(" zxid 0x1f create /t/n31,"),
        "{}",
        out.all()
    );
    // One file.
    let out = ferrokeeper(&["log-dump", s(&dir.join("log.b"))]);
    out.exits(0);
    let lines = txn_lines(&out.stdout);
    assert_eq!(lines.len(), 10);
    assert!(lines[0].contains(" zxid 0xb create "), "{}", out.all());
    assert!(lines[9].contains(" zxid 0x14 create "), "{}", out.all());
    // Nothing to dump is an error.
    let empty = tempfile::tempdir().expect("tempdir");
    assert_eq!(ferrokeeper(&["log-dump", s(empty.path())]).code, 1);
}

#[test]
fn snapshot_dump_prints_header_sessions_acls_and_nodes() {
    let tmp = build();
    let snap = v2(&tmp).join("snapshot.14");
    let out = ferrokeeper(&["snapshot-dump", s(&snap)]);
    out.exits(0);
    for want in [
        "  zxid = 0x14\n",
        "  compression = none\n",
        "  header: magic = ZKSN, version = 2, dbid = -1\n",
        "Session Details (sid, timeout) (count=1):\n0x00100000000001, 30000\n",
        "ACL cache (id = acls) (count=2):\n  1 = [world:anyone:r]\n  2 = [world:anyone:cdrwa]\n",
        "----\n/\n  cZxid = 0x00000000000000\n",
        "----\n/t/n20\n  cZxid = 0x00000000000014\n  ctime = 2023-11-14T22:13:20.020Z\n  \
         mZxid = 0x00000000000014\n  mtime = 2023-11-14T22:13:20.020Z\n  \
         pZxid = 0x00000000000014\n  cversion = 0\n  dataVersion = 0\n  aclVersion = 0\n  \
         ephemeralOwner = 0x00000000000000\n  acl = 2 [world:anyone:cdrwa]\n  dataLength = 7\n",
        "Checksum: Adler-32 0x",
        "Target zxid digest: zxid 0x14, version 2,",
        "Last zxid: 0x14\n",
    ] {
        out.stdout_has(want);
    }
    // /, /zookeeper, /zookeeper/config, /zookeeper/quota, /t and /t/n3..=/t/n20.
    out.stdout_has("ZNode count = 23\n");
    assert!(!out.stdout.contains("  data = "), "{}", out.all());

    let out = ferrokeeper(&["snapshot-dump", "--data", s(&snap)]);
    out.exits(0);
    // base64("data-20")
    out.stdout_has("  dataLength = 7\n  data = ZGF0YS0yMA==\n");
}

/// A data directory written by the server itself (fuzzy snapshots every few
/// txns, logs rolled at each) checks clean, and the dumps read it.
#[test]
fn a_server_written_data_dir_checks_clean() {
    use jute::consts::CreateMode;

    let data = tempfile::tempdir().expect("tempdir");
    let logs = tempfile::tempdir().expect("tempdir");
    let persist = PersistSettings {
        compression: SnapshotCompression::Gzip,
        ..common::persist_settings(data.path(), logs.path())
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let server = common::TestServer::start_with(|s| {
            s.persist = Some(persist);
            s.snap_count = 8;
        })
        .await;
        let mut c = server.client().await;
        c.create("/app", b"root", CreateMode::Persistent)
            .await
            .expect("create");
        for i in 0..40 {
            c.create(
                &format!("/app/n{i}"),
                format!("v{i}").as_bytes(),
                CreateMode::Persistent,
            )
            .await
            .expect("create");
        }
        c.set_data("/app", b"changed", 0).await.expect("set");
        c.delete("/app/n0", 0).await.expect("delete");
        // Fuzzy snapshots are written while the server idles: wait (bounded)
        // until one besides the start-up snapshot is complete and none is
        // being written, so the directory holds still while it is checked.
        let snap_dir = data.path().join("version-2");
        common::bounded_by(
            Duration::from_secs(20),
            "a finished fuzzy snapshot",
            async {
                loop {
                    let n = names(&snap_dir);
                    let done = n.iter().filter(|f| f.starts_with("snapshot.")).count();
                    if done >= 2 && !n.iter().any(|f| f.ends_with(".tmp")) {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
        )
        .await;
    });
    drop(rt);

    let out = ferrokeeper(&["check", s(data.path()), s(logs.path())]);
    out.exits(0);
    out.stdout_has("check passed");
    let snaps = out.stdout.matches("ok      snapshot ").count();
    assert!(snaps >= 2, "expected several snapshots\n{}", out.all());

    let out = ferrokeeper(&["log-dump", s(logs.path())]);
    out.exits(0);
    let lines = txn_lines(&out.stdout);
    // createSession, 41 creates, setData, delete.
    assert_eq!(lines.len(), 44, "{}", out.all());
    assert!(
        lines[0].contains(" createSession timeOut="),
        "{}",
        out.all()
    );
    assert!(lines[43].contains(" delete /app/n0"), "{}", out.all());

    let out = ferrokeeper(&["snapshot-dump", "--data", s(data.path())]);
    out.exits(0);
    out.stdout_has("  compression = gz\n");
    out.stdout_has("----\n/app\n");
}

/// A zoo.cfg serving `dir` on a free loopback port; returns (cfg path, port).
fn server_cfg(dir: &Path) -> (PathBuf, u16) {
    let port = common::free_port();
    let cfg = dir.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\nadmin.enableServer=false\n",
            dir.display()
        ),
    )
    .expect("write zoo.cfg");
    (cfg, port)
}

/// `srvr`'s Zxid line once the server answers; `None` if it never does
/// within the bound.
fn served_zxid(port: u16, bound: Duration) -> Option<String> {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + bound;
    while std::time::Instant::now() < deadline {
        if let Ok(mut c) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            let mut out = String::new();
            if c.write_all(b"srvr").is_ok() && c.read_to_string(&mut out).is_ok() {
                if let Some(z) = out.lines().find_map(|l| l.strip_prefix("Zxid: ")) {
                    return Some(z.to_string());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50)); // polling a port with a deadline
    }
    None
}

#[test]
fn damage_mid_log_stops_the_start_unless_the_operator_asks_to_truncate() {
    let tmp = build();
    let v2 = v2(&tmp);
    // Recovery starts from snapshot 0x14 and replays log.15, log.1f, log.24.
    for s in ["snapshot.1e", "snapshot.23"] {
        std::fs::remove_file(v2.join(s)).expect("remove snapshot");
    }
    let log = v2.join("log.1f");
    let (at, bytes) = damage_entry(&log, 1); // the entry of zxid 0x20
    let (cfg, port) = server_cfg(tmp.path());

    // Refused: the start stops, naming the file and the offset.
    let out = ferrokeeper(&[s(&cfg)]);
    assert_ne!(out.code, 0, "{}", out.all());
    let want = format!("txn log {} at offset {at}", log.display());
    out.stderr_has(&want);
    assert_eq!(
        std::fs::read(&log).expect("read"),
        bytes,
        "a refused start changed the log"
    );

    // Asked for: everything before the damage is served; the rest is set aside.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrokeeper"))
        .args(["--truncate-corrupt-log", s(&cfg)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start ferrokeeper");
    let zxid = served_zxid(port, Duration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        zxid.as_deref(),
        Some("0x1f"),
        "served zxid after truncation"
    );
    assert_eq!(
        std::fs::metadata(&log).expect("stat").len(),
        at as u64,
        "log.1f cut at the damage"
    );
    let files = names(&v2);
    assert!(files.contains(&"corrupt-log.24".to_string()), "{files:?}");
    assert!(!files.contains(&"log.24".to_string()), "{files:?}");
}

#[tokio::test]
async fn autopurge_runs_on_its_interval_and_keeps_what_purge_keeps() {
    let tmp = build();
    let v2 = v2(&tmp);
    let persist = PersistSettings {
        log: log_options(),
        autocreate: false,
        ..common::persist_settings(tmp.path(), tmp.path())
    };
    let task = tokio::spawn(ferrokeeper::server::autopurge(
        persist,
        3,
        Duration::from_millis(50),
    ));
    // Wait for the purge to happen (bounded), polling the directory.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while names(&v2).contains(&"snapshot.a".to_string()) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
    assert_eq!(
        names(&v2),
        KEPT_BY_PURGE_3,
        "the oldest snapshot and the log before log.b purged"
    );
}
