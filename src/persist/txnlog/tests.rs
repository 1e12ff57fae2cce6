//! Unit tests of the on-disk txn log: pure Rust, temp directories only.
//! Interoperability with Java ZooKeeper is tested by
//! `compat-tests/persistence/`.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use jute::data::{Id, ACL};
use jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
    CreateTxn, CreateTxnV0, DeleteTxn, ErrorTxn, SetACLTxn, SetDataTxn, TxnDigest, TxnHeader,
};
use jute::Record;

use super::format::{self, FILE_HEADER_LEN};
use super::*;
use crate::persist::TxnLog;
use crate::txn::{LoggedTxn, TxnBody};

const SESSION: i64 = 0x1000_0abc_0001;

fn open_acl() -> Vec<ACL> {
    vec![ACL {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

fn create(path: &str, data: &[u8]) -> TxnBody {
    TxnBody::Create(CreateTxn {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: open_acl(),
        ephemeral: false,
        parent_c_version: 1,
    })
}

/// One body of every kind a log can hold, multis included.
fn every_body() -> Vec<TxnBody> {
    vec![
        TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
        create("/a", b"hello"),
        TxnBody::Create(CreateTxn {
            path: "/a/null".into(),
            data: None,
            acl: open_acl(),
            ephemeral: false,
            parent_c_version: 1,
        }),
        TxnBody::Create2(CreateTxn {
            path: "/a/eph".into(),
            data: Some(vec![]),
            acl: open_acl(),
            ephemeral: true,
            parent_c_version: 2,
        }),
        TxnBody::CreateContainer(CreateContainerTxn {
            path: "/c".into(),
            data: Some(b"c".to_vec()),
            acl: open_acl(),
            parent_c_version: 3,
        }),
        TxnBody::CreateTtl(CreateTTLTxn {
            path: "/t".into(),
            data: Some(vec![0; 300]),
            acl: vec![
                ACL {
                    perms: 1,
                    id: Id {
                        scheme: "digest".into(),
                        id: "u:x+y=".into(),
                    },
                },
                ACL {
                    perms: 31,
                    id: Id {
                        scheme: "ip".into(),
                        id: "127.0.0.1".into(),
                    },
                },
            ],
            parent_c_version: 4,
            ttl: 60_000,
        }),
        TxnBody::SetData(SetDataTxn {
            path: "/a".into(),
            data: Some(b"world".to_vec()),
            version: 1,
        }),
        TxnBody::SetAcl(SetACLTxn {
            path: "/a".into(),
            acl: open_acl(),
            version: 1,
        }),
        TxnBody::Delete(DeleteTxn {
            path: "/a/null".into(),
        }),
        TxnBody::DeleteContainer(DeleteTxn { path: "/c".into() }),
        TxnBody::Error(ErrorTxn { err: -101 }),
        TxnBody::Multi(vec![
            create("/m", b""),
            TxnBody::SetData(SetDataTxn {
                path: "/m".into(),
                data: Some(b"x".to_vec()),
                version: 1,
            }),
            TxnBody::Check(CheckVersionTxn {
                path: "/m".into(),
                version: 1,
            }),
            TxnBody::Delete(DeleteTxn { path: "/m".into() }),
            TxnBody::CreateContainer(CreateContainerTxn {
                path: "/mc".into(),
                data: None,
                acl: open_acl(),
                parent_c_version: 7,
            }),
        ]),
        TxnBody::Multi(vec![
            TxnBody::Error(ErrorTxn { err: 0 }),
            TxnBody::Error(ErrorTxn { err: -101 }),
            TxnBody::Error(ErrorTxn { err: -2 }),
        ]),
        TxnBody::Multi(vec![]),
        TxnBody::CloseSession(CloseSessionTxn {
            paths2_delete: vec!["/a/eph".into()],
        }),
    ]
}

fn txn(zxid: i64, body: TxnBody) -> LoggedTxn {
    LoggedTxn {
        header: TxnHeader {
            client_id: SESSION,
            cxid: zxid as i32,
            zxid,
            time: 1_700_000_000_000 + zxid,
            type_: body.op_code() as i32,
        },
        body,
        digest: None,
    }
}

fn small_opts() -> FileTxnLogOptions {
    FileTxnLogOptions {
        pre_alloc_size: 64 * 1024,
        ..FileTxnLogOptions::default()
    }
}

/// Writes `n` creates with zxids `first..first+n`, committing each.
fn write_creates(dir: &Path, first: i64, n: i64, opts: FileTxnLogOptions) -> FileTxnLog {
    let mut log = FileTxnLog::open(dir, first - 1, opts).unwrap();
    for z in first..first + n {
        let data = format!("data-{z}").repeat((z % 4 + 1) as usize);
        log.append(&txn(z, create(&format!("/n{z}"), data.as_bytes())))
            .unwrap();
        log.commit().unwrap();
    }
    log
}

fn read_all(dir: &Path, after: i64, mode: RecoveryMode) -> (Vec<LogEntry>, Option<TxnLogError>) {
    let mut entries = Vec::new();
    for item in TxnLogIterator::open(dir, after, mode).unwrap() {
        match item {
            Ok(e) => entries.push(e),
            Err(e) => return (entries, Some(e)),
        }
    }
    (entries, None)
}

fn zxids(entries: &[LogEntry]) -> Vec<i64> {
    entries.iter().map(|e| e.header.zxid).collect()
}

fn only_file(dir: &Path) -> PathBuf {
    let files = list_log_files(dir).unwrap();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].path.clone()
}

#[test]
fn round_trip_every_txn_type() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut log = FileTxnLog::open(dir, 0, small_opts()).unwrap();
    let written: Vec<LoggedTxn> = every_body()
        .into_iter()
        .enumerate()
        .map(|(i, b)| txn(i as i64 + 1, b))
        .collect();
    for t in &written {
        log.append(t).unwrap();
    }
    let digest = TxnDigest {
        version: 2,
        tree_digest: -0x1234_5678_9abc,
    };
    let last = txn(100, create("/d", b"digested"));
    log.append_with_digest(&last.header, &last.body, Some(&digest))
        .unwrap();
    log.commit().unwrap();
    assert_eq!(log.last_zxid(), 100);

    let (entries, err) = read_all(dir, 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(entries.len(), written.len() + 1);
    for (e, t) in entries.iter().zip(&written) {
        assert_eq!(e.header, t.header);
        assert_eq!(e.body, t.body);
        assert_eq!(e.digest, None);
    }
    let e = &entries[written.len()];
    assert_eq!((&e.header, &e.body), (&last.header, &last.body));
    assert_eq!(e.digest, Some(digest));

    // The bytes are exactly ZooKeeper's framing.
    let bytes = fs::read(only_file(dir)).unwrap();
    assert_eq!(&bytes[..4], b"ZKLG");
    assert_eq!(&bytes[4..8], &2i32.to_be_bytes());
    assert_eq!(&bytes[8..16], &0i64.to_be_bytes());
    let first = &entries[0];
    assert_eq!(first.offset, FILE_HEADER_LEN);
    let txn_bytes = format::marshal_txn(&written[0].header, &written[0].body, None);
    let o = FILE_HEADER_LEN as usize;
    assert_eq!(
        &bytes[o..o + 8],
        &(format::checksum(&txn_bytes)).to_be_bytes()
    );
    assert_eq!(
        &bytes[o + 8..o + 12],
        &(txn_bytes.len() as i32).to_be_bytes()
    );
    assert_eq!(&bytes[o + 12..o + 12 + txn_bytes.len()], &txn_bytes[..]);
    assert_eq!(bytes[o + 12 + txn_bytes.len()], b'B');
}

#[test]
fn file_naming_rolling_and_selection() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let base = 0x5_0000_0000i64;
    let mut log = FileTxnLog::open(dir, base, small_opts()).unwrap();
    assert_eq!(log.current_file(), None);
    log.roll().unwrap(); // nothing open: no-op, no empty file
    assert!(list_log_files(dir).unwrap().is_empty());
    for z in 1..=3 {
        log.append(&txn(base + z, create(&format!("/a{z}"), b"")))
            .unwrap();
    }
    log.commit().unwrap();
    assert_eq!(
        log.current_file(),
        Some(dir.join("log.500000001").as_path())
    );
    TxnLog::roll(&mut log).unwrap();
    assert_eq!(log.current_file(), None);
    for z in 4..=5 {
        log.append(&txn(base + z, create(&format!("/a{z}"), b"")))
            .unwrap();
    }
    log.commit().unwrap();
    log.roll().unwrap();
    log.append(&txn(base + 0x1f, create("/b", b""))).unwrap();
    log.close().unwrap();
    // Not log files: ignored by listing, as by ZooKeeper.
    fs::write(dir.join("snapshot.500000003"), b"x").unwrap();
    fs::write(dir.join("log.zz"), b"x").unwrap();

    let names: Vec<String> = list_log_files(dir)
        .unwrap()
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["log.500000001", "log.500000004", "log.50000001f"]);
    let starts = |z: i64| -> Vec<i64> {
        log_files_from(dir, z)
            .unwrap()
            .iter()
            .map(|f| f.start_zxid - base)
            .collect()
    };
    assert_eq!(starts(0), [1, 4, 0x1f]);
    assert_eq!(starts(base + 3), [1, 4, 0x1f]);
    assert_eq!(starts(base + 4), [4, 0x1f]);
    assert_eq!(starts(base + 5), [4, 0x1f]);
    assert_eq!(starts(base + 0x40), [0x1f]);

    let all: Vec<i64> = [1, 2, 3, 4, 5, 0x1f].iter().map(|z| base + z).collect();
    let (entries, err) = read_all(dir, 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), all);
    for after in [base, base + 2, base + 3, base + 4, base + 5, base + 0x1f] {
        let (entries, err) = read_all(dir, after, RecoveryMode::Strict);
        assert!(err.is_none(), "{err:?}");
        let want: Vec<i64> = all.iter().copied().filter(|&z| z > after).collect();
        assert_eq!(zxids(&entries), want, "after 0x{after:x}");
    }
    // A missing directory holds no txns.
    let (entries, err) = read_all(&dir.join("nope"), 0, RecoveryMode::Strict);
    assert!(entries.is_empty() && err.is_none());
}

#[test]
fn size_limit_rolls_at_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = FileTxnLogOptions {
        size_limit: Some(200),
        ..small_opts()
    };
    write_creates(tmp.path(), 1, 10, opts);
    let files = list_log_files(tmp.path()).unwrap();
    assert!(files.len() >= 3, "{files:?}");
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), (1..=10).collect::<Vec<_>>());
}

#[test]
fn preallocates_like_file_padding() {
    let tmp = tempfile::tempdir().unwrap();
    // Default: 64 MiB after the 16-byte header, as Java's files.
    write_creates(tmp.path(), 1, 2, FileTxnLogOptions::default());
    let len = fs::metadata(only_file(tmp.path())).unwrap().len();
    assert_eq!(len, 64 * 1024 * 1024 + 16);

    // Small blocks: the file grows by whole blocks once the write position
    // comes within 4 KiB of its end.
    let tmp = tempfile::tempdir().unwrap();
    let block = 8192u64;
    let opts = FileTxnLogOptions {
        pre_alloc_size: block,
        ..FileTxnLogOptions::default()
    };
    let mut log = FileTxnLog::open(tmp.path(), 0, opts).unwrap();
    let path = tmp.path().join("log.1");
    let mut sizes = Vec::new();
    for z in 1..=60 {
        log.append(&txn(z, create("/p", &[7u8; 500]))).unwrap();
        log.commit().unwrap();
        let len = fs::metadata(&path).unwrap().len();
        let written = log.current_size();
        assert!(len >= written, "file {len} < written {written}");
        assert_eq!((len - 16) % block, 0, "size {len}");
        // Padding happens before an append, so after it there may be less
        // than 4 KiB left, but never less than 4 KiB minus one entry.
        assert!(len + 4096 > written, "{len} {written}");
        sizes.push(len);
    }
    assert!(sizes.windows(2).all(|w| w[0] <= w[1]));
    assert!(*sizes.last().unwrap() >= 60 * 500);
    // The padding is zeros and reads as the end of the log.
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(entries.len(), 60);

    // Disabled: the file is exactly what was written.
    let tmp = tempfile::tempdir().unwrap();
    let opts = FileTxnLogOptions {
        pre_alloc_size: 0,
        ..FileTxnLogOptions::default()
    };
    let log = write_creates(tmp.path(), 1, 3, opts);
    let len = fs::metadata(only_file(tmp.path())).unwrap().len();
    assert_eq!(len, log.current_size());
}

#[test]
fn counts_fsyncs_and_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = FileTxnLog::open(tmp.path(), 0, small_opts()).unwrap();
    for z in 1..=3 {
        log.append(&txn(z, create("/x", b"1"))).unwrap();
    }
    log.commit().unwrap();
    let s = log.stats();
    assert_eq!(
        (s.appends, s.commits, s.fsyncs, s.dir_fsyncs, s.files),
        (3, 1, 1, 1, 1)
    );
    // The header is not counted; every framed entry byte is.
    assert_eq!(s.bytes + FILE_HEADER_LEN, log.current_size());
    log.commit().unwrap(); // nothing new: nothing to sync
    assert_eq!((log.stats().commits, log.stats().fsyncs), (2, 1));
    log.append(&txn(4, create("/y", b"1"))).unwrap();
    log.append(&txn(5, create("/z", b"1"))).unwrap();
    log.commit().unwrap();
    assert_eq!(log.stats().fsyncs, 2);
    log.append(&txn(6, create("/w", b"1"))).unwrap();
    log.roll().unwrap(); // makes the old file durable before a new one starts
    assert_eq!(log.stats().fsyncs, 3);
    log.append(&txn(7, create("/v", b"1"))).unwrap();
    log.commit().unwrap();
    let s = log.stats();
    assert_eq!(
        (s.appends, s.commits, s.fsyncs, s.dir_fsyncs, s.files),
        (7, 4, 4, 2, 2)
    );

    // forceSync=no: flushed to the OS, never fsynced.
    let tmp = tempfile::tempdir().unwrap();
    let opts = FileTxnLogOptions {
        force_sync: false,
        ..small_opts()
    };
    let log = write_creates(tmp.path(), 1, 5, opts);
    let s = log.stats();
    assert_eq!((s.appends, s.commits, s.fsyncs, s.dir_fsyncs), (5, 5, 0, 0));
    let (entries, _) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert_eq!(entries.len(), 5);
}

#[test]
fn rejects_out_of_order_and_mismatched_appends() {
    let tmp = tempfile::tempdir().unwrap();
    let mut log = FileTxnLog::open(tmp.path(), 10, small_opts()).unwrap();
    let e = log.append(&txn(10, create("/x", b""))).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    log.append(&txn(11, create("/x", b""))).unwrap();
    let e = log.append(&txn(11, create("/y", b""))).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    let mut bad = txn(12, create("/y", b""));
    bad.header.type_ = 5;
    assert!(log.append(&bad).is_err());
    // Refusals of bad input do not poison the log.
    log.append(&txn(12, create("/y", b""))).unwrap();
    log.commit().unwrap();
    assert_eq!(log.last_zxid(), 12);
}

#[test]
fn never_overwrites_a_file_holding_txns() {
    let tmp = tempfile::tempdir().unwrap();
    write_creates(tmp.path(), 1, 3, small_opts());
    // A second writer that wrongly believes the log is empty is refused.
    let e = FileTxnLog::open(tmp.path(), 0, small_opts()).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    assert!(e.to_string().contains("log.1"), "{e}");
    // So is one that believes the log ends before a later file.
    write_creates(tmp.path(), 10, 1, small_opts());
    let e = FileTxnLog::open(tmp.path(), 5, small_opts()).unwrap_err();
    assert!(e.to_string().contains("log.a"), "{e}");
    FileTxnLog::open(tmp.path(), 10, small_opts()).unwrap();
    // If the file appears after opening, the append refuses to overwrite it
    // and the log stays failed rather than writing elsewhere.
    let mut log = FileTxnLog::open(tmp.path(), 10, small_opts()).unwrap();
    let other = tempfile::tempdir().unwrap();
    write_creates(other.path(), 11, 1, small_opts());
    fs::rename(other.path().join("log.b"), tmp.path().join("log.b")).unwrap();
    let e = log.append(&txn(11, create("/x", b""))).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert!(e.to_string().contains("log.b"), "{e}");
    assert!(log.append(&txn(12, create("/x", b""))).is_err());
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none());
    assert_eq!(zxids(&entries), [1, 2, 3, 10, 11]);

    // A file holding only a header (a crash before the first commit) is
    // replaced, as ZooKeeper would.
    let tmp = tempfile::tempdir().unwrap();
    let mut header = Vec::new();
    format::file_header(0).serialize(&mut header);
    header.resize(4096, 0);
    fs::write(tmp.path().join("log.4"), &header).unwrap();
    write_creates(tmp.path(), 4, 2, small_opts());
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), [4, 5]);
}

/// Writes 5 entries; returns the file, its bytes, and the offsets of the
/// entries plus the end of the last one.
fn five_entry_log(dir: &Path, pre_alloc: u64) -> (PathBuf, Vec<u8>, Vec<u64>) {
    let opts = FileTxnLogOptions {
        pre_alloc_size: pre_alloc,
        ..FileTxnLogOptions::default()
    };
    let log = write_creates(dir, 1, 5, opts);
    let end = log.current_size();
    let (entries, err) = read_all(dir, 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    let mut offsets: Vec<u64> = entries.iter().map(|e| e.offset).collect();
    offsets.push(end);
    let path = only_file(dir);
    (path.clone(), fs::read(&path).unwrap(), offsets)
}

#[test]
fn torn_tail_at_every_byte_of_the_last_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let master = tmp.path().join("master");
    let (path, bytes, offsets) = five_entry_log(&master, 64 * 1024);
    let name = path.file_name().unwrap().to_owned();
    let last = offsets[4];
    let end = offsets[5];
    let mut case = 0;
    for cut in last..end {
        // Two shapes of an interrupted write: the file ends at `cut` (no
        // preallocation), or it is preallocated and zeros follow `cut`.
        for zero_filled in [false, true] {
            case += 1;
            let dir = tmp.path().join(format!("case{case}"));
            fs::create_dir(&dir).unwrap();
            let file = dir.join(&name);
            let mut content = bytes[..cut as usize].to_vec();
            if zero_filled {
                content.resize(bytes.len(), 0);
            }
            fs::write(&file, &content).unwrap();

            let (entries, err) = read_all(&dir, 0, RecoveryMode::Strict);
            assert_eq!(
                zxids(&entries),
                [1, 2, 3, 4],
                "cut {cut} zero {zero_filled}"
            );
            if bytes[last as usize..cut as usize].iter().all(|&b| b == 0) {
                // Nothing of entry 5 but zeros (the checksum's high half):
                // indistinguishable from padding, a clean end.
                assert!(err.is_none(), "cut {cut}: {err:?}");
                continue;
            }
            let err = err.unwrap_or_else(|| panic!("cut {cut} zero {zero_filled}: no error"));
            let torn = err
                .torn_tail()
                .unwrap_or_else(|| panic!("cut {cut} zero {zero_filled}: {err}"));
            assert_eq!(torn.offset, last);
            assert_eq!(torn.file, file);
            assert!(err.to_string().contains(&format!("offset {last}")), "{err}");
            // Strict changed nothing.
            assert_eq!(fs::read(&file).unwrap(), content);

            // Recovery cuts the file at the torn entry; earlier entries stay.
            let mut it = TxnLogIterator::open(&dir, 0, RecoveryMode::TruncateTornTail).unwrap();
            let got: Vec<i64> = it.by_ref().map(|e| e.unwrap().header.zxid).collect();
            assert_eq!(got, [1, 2, 3, 4]);
            assert!(it.truncated());
            assert_eq!(it.torn_tail().map(|t| t.offset), Some(last));
            assert_eq!(fs::metadata(&file).unwrap().len(), last);
            assert_eq!(fs::read(&file).unwrap(), bytes[..last as usize]);
            let (entries, err) = read_all(&dir, 0, RecoveryMode::Strict);
            assert!(err.is_none(), "after truncation: {err:?}");
            assert_eq!(zxids(&entries), [1, 2, 3, 4]);

            // The writer carries on in a new file after recovery.
            write_creates(&dir, 5, 2, small_opts());
            let (entries, err) = read_all(&dir, 0, RecoveryMode::Strict);
            assert!(err.is_none(), "{err:?}");
            assert_eq!(zxids(&entries), [1, 2, 3, 4, 5, 6]);
            fs::remove_dir_all(&dir).unwrap();
        }
    }
}

#[test]
fn strict_torn_tail_can_be_truncated_after_inspection() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, bytes, offsets) = five_entry_log(tmp.path(), 0);
    fs::write(&path, &bytes[..offsets[4] as usize + 13]).unwrap();
    let mut it = TxnLogIterator::open(tmp.path(), 0, RecoveryMode::Strict).unwrap();
    let mut seen = 0;
    for item in it.by_ref() {
        match item {
            Ok(_) => seen += 1,
            Err(e) => assert!(e.torn_tail().is_some(), "{e}"),
        }
    }
    assert_eq!(seen, 4);
    assert!(!it.truncated());
    it.truncate_torn_tail().unwrap();
    assert!(it.truncated());
    assert_eq!(fs::metadata(&path).unwrap().len(), offsets[4]);
}

#[test]
fn corrupted_byte_in_the_middle_is_an_error_naming_file_and_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let master = tmp.path().join("master");
    let (path, bytes, offsets) = five_entry_log(&master, 64 * 1024);
    let name = path.file_name().unwrap().to_owned();
    // Every byte of entries 2..=4 (the middle of the file), flipped.
    for pos in offsets[1]..offsets[4] {
        let dir = tmp.path().join("case");
        fs::create_dir(&dir).unwrap();
        let file = dir.join(&name);
        let mut content = bytes.clone();
        content[pos as usize] ^= 0x40;
        fs::write(&file, &content).unwrap();
        let entry = offsets.iter().rposition(|&o| o <= pos).unwrap();
        for mode in [RecoveryMode::Strict, RecoveryMode::TruncateTornTail] {
            let (entries, err) = read_all(&dir, 0, mode);
            let err = err.unwrap_or_else(|| panic!("byte {pos}: corruption not detected"));
            assert!(
                matches!(err.kind, TxnLogErrorKind::Corrupt(_)),
                "byte {pos}: {err}"
            );
            assert_eq!(err.offset, offsets[entry], "byte {pos}: {err}");
            let msg = err.to_string();
            assert!(msg.contains(&file.display().to_string()), "{msg}");
            assert!(msg.contains(&format!("offset {}", offsets[entry])), "{msg}");
            assert_eq!(entries.len(), entry, "byte {pos}");
            // Never "repaired".
            assert_eq!(fs::read(&file).unwrap(), content);
        }
        fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn checksum_mismatch_in_last_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let opts = FileTxnLogOptions {
        pre_alloc_size: 64 * 1024,
        ..FileTxnLogOptions::default()
    };
    let mut log = write_creates(tmp.path(), 1, 2, opts);
    let start = log.current_size();
    log.append(&txn(3, create("/big", &[0x5a; 3000]))).unwrap();
    log.commit().unwrap();
    let path = only_file(tmp.path());
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();

    // One flipped bit in a fully written last entry: corruption, not torn.
    let at = start + 100;
    let mut b = [0u8];
    f.read_exact_at(&mut b, at).unwrap();
    f.write_all_at(&[b[0] ^ 1], at).unwrap();
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::TruncateTornTail);
    assert_eq!(entries.len(), 2);
    let err = err.unwrap();
    assert!(matches!(err.kind, TxnLogErrorKind::Corrupt(_)), "{err}");
    assert_eq!(err.offset, start);
    f.write_all_at(&b, at).unwrap();

    // A never-written sector inside it (writeback out of order before a
    // crash): torn, and cut.
    let sector = (start / 512 + 2) * 512;
    f.write_all_at(&[0u8; 512], sector).unwrap();
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert_eq!(entries.len(), 2);
    assert_eq!(err.unwrap().torn_tail().unwrap().offset, start);
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::TruncateTornTail);
    assert!(err.is_none());
    assert_eq!(entries.len(), 2);
    assert_eq!(fs::metadata(&path).unwrap().len(), start);
}

#[test]
fn damaged_non_last_file_is_an_error_even_at_its_end() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, bytes, offsets) = five_entry_log(tmp.path(), 0);
    // A later file exists, so log.1 must be whole.
    write_creates(tmp.path(), 6, 1, small_opts());
    fs::write(&path, &bytes[..offsets[5] as usize - 1]).unwrap(); // no 'B'
    for mode in [RecoveryMode::Strict, RecoveryMode::TruncateTornTail] {
        let (entries, err) = read_all(tmp.path(), 0, mode);
        assert_eq!(entries.len(), 4);
        let err = err.unwrap();
        assert!(matches!(err.kind, TxnLogErrorKind::Corrupt(_)), "{err}");
        assert_eq!(err.file, path);
        assert_eq!(err.offset, offsets[4]);
    }
    // Zero padding at the end of an older file is its normal end.
    let mut padded = bytes.clone();
    padded.resize(bytes.len() + 1000, 0);
    fs::write(&path, &padded).unwrap();
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), [1, 2, 3, 4, 5, 6]);
}

#[test]
fn torn_tail_superseded_by_a_restart_is_skipped() {
    // A crash tore entry 5 of log.1; the restarted server recovered to 4
    // and logged on in log.5, as ZooKeeper does.
    let tmp = tempfile::tempdir().unwrap();
    let (path, bytes, offsets) = five_entry_log(tmp.path(), 64 * 1024);
    let mut torn = bytes.clone();
    for b in &mut torn[offsets[4] as usize + 20..offsets[5] as usize] {
        *b = 0;
    }
    fs::write(&path, &torn).unwrap();
    write_creates(tmp.path(), 5, 2, small_opts());
    for mode in [RecoveryMode::Strict, RecoveryMode::TruncateTornTail] {
        let mut it = TxnLogIterator::open(tmp.path(), 0, mode).unwrap();
        let got: Vec<i64> = it.by_ref().map(|e| e.unwrap().header.zxid).collect();
        assert_eq!(got, [1, 2, 3, 4, 5, 6]);
        assert_eq!(it.superseded_tails().len(), 1);
        assert_eq!(it.superseded_tails()[0].offset, offsets[4]);
        assert_eq!(it.superseded_tails()[0].file, path);
        assert!(it.torn_tail().is_none() && !it.truncated());
        assert_eq!(fs::read(&path).unwrap(), torn);
    }
    // A later file that does not resume right after the tear: a hole.
    fs::rename(tmp.path().join("log.5"), tmp.path().join("log.6")).unwrap();
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::TruncateTornTail);
    assert_eq!(zxids(&entries), [1, 2, 3, 4]);
    let err = err.unwrap();
    assert!(matches!(err.kind, TxnLogErrorKind::Corrupt(_)), "{err}");
    assert_eq!(
        (err.file.as_path(), err.offset),
        (path.as_path(), offsets[4])
    );
}

#[test]
fn torn_entry_followed_by_data_is_corruption() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, mut bytes, offsets) = five_entry_log(tmp.path(), 0);
    // Entry 4 loses its 'B'; entry 5 after it is intact.
    bytes[offsets[4] as usize - 1] = 0;
    fs::write(&path, &bytes).unwrap();
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::TruncateTornTail);
    assert_eq!(entries.len(), 3);
    let err = err.unwrap();
    assert!(matches!(err.kind, TxnLogErrorKind::Corrupt(_)), "{err}");
    assert_eq!(err.offset, offsets[3]);
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn file_headers() {
    // Wrong magic: not a log file.
    let tmp = tempfile::tempdir().unwrap();
    let (path, mut bytes, _) = five_entry_log(tmp.path(), 0);
    bytes[0] = b'X';
    fs::write(&path, &bytes).unwrap();
    let (_, err) = read_all(tmp.path(), 0, RecoveryMode::TruncateTornTail);
    let err = err.unwrap();
    assert!(matches!(err.kind, TxnLogErrorKind::BadHeader(_)), "{err}");
    assert_eq!(err.offset, 0);

    // Newest file with a torn header: removed by recovery.
    let tmp = tempfile::tempdir().unwrap();
    write_creates(tmp.path(), 1, 2, small_opts());
    for content in [&b""[..], &b"ZK"[..], &[0u8; 4096][..]] {
        let torn = tmp.path().join("log.3");
        fs::write(&torn, content).unwrap();
        let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
        assert_eq!(entries.len(), 2);
        assert_eq!(err.unwrap().torn_tail().unwrap().offset, 0);
        let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::TruncateTornTail);
        assert!(err.is_none());
        assert_eq!(entries.len(), 2);
        assert!(!torn.exists());
    }
    // ... but not an older one (read from before zxid 0 to include log.0).
    fs::write(tmp.path().join("log.0"), b"").unwrap();
    let (_, err) = read_all(tmp.path(), -1, RecoveryMode::TruncateTornTail);
    assert!(matches!(err.unwrap().kind, TxnLogErrorKind::Corrupt(_)));
}

/// Java 3.8 writes a txn at or below the last one with a warning, and its
/// replay goes on past it; such entries repeat history and are skipped.
#[test]
fn entries_whose_zxid_does_not_increase_are_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    write_creates(tmp.path(), 5, 2, small_opts());
    write_creates(other.path(), 1, 2, small_opts());
    fs::rename(other.path().join("log.1"), tmp.path().join("log.7")).unwrap();
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), [5, 6]);
}

#[test]
fn io_errors_poison_the_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v2");
    let mut log = FileTxnLog::open(&dir, 0, small_opts()).unwrap();
    assert!(dir.is_dir());
    fs::remove_dir(&dir).unwrap();
    let e = log.append(&txn(1, create("/x", b""))).unwrap_err();
    assert!(e.to_string().contains("log.1"), "{e}");
    fs::create_dir(&dir).unwrap();
    let e = log.append(&txn(1, create("/x", b""))).unwrap_err();
    assert!(e.to_string().contains("unusable"), "{e}");
    assert!(log.commit().is_err());
}

#[test]
fn decodes_java_variants() {
    let header = |type_| TxnHeader {
        client_id: 1,
        cxid: 2,
        zxid: 3,
        time: 4,
        type_,
    };
    // A pre-3.3 create (CreateTxnV0: no parentCVersion) reads with -1.
    let mut bytes = Vec::new();
    header(1).serialize(&mut bytes);
    CreateTxnV0 {
        path: "/old".into(),
        data: Some(b"d".to_vec()),
        acl: open_acl(),
        ephemeral: true,
    }
    .serialize(&mut bytes);
    let t = format::decode_txn(&bytes).unwrap();
    assert_eq!(
        t.body,
        TxnBody::Create(CreateTxn {
            path: "/old".into(),
            data: Some(b"d".to_vec()),
            acl: open_acl(),
            ephemeral: true,
            parent_c_version: -1,
        })
    );
    // Fewer than 12 bytes after the body: no digest (Java's EOFException).
    let mut bytes = Vec::new();
    header(2).serialize(&mut bytes);
    DeleteTxn { path: "/x".into() }.serialize(&mut bytes);
    bytes.extend_from_slice(&[0, 0, 0, 2, 0, 0]);
    assert_eq!(format::decode_txn(&bytes).unwrap().digest, None);
    // Types ZooKeeper does not log at the top level.
    for t in [13, 16, 4, 999] {
        let mut bytes = Vec::new();
        header(t).serialize(&mut bytes);
        SetDataTxn {
            path: "/x".into(),
            data: None,
            version: 1,
        }
        .serialize(&mut bytes);
        assert!(format::decode_txn(&bytes).is_err(), "type {t}");
    }
    // Pre-3.6 closeSession without a body: refused, not guessed.
    let mut bytes = Vec::new();
    header(-11).serialize(&mut bytes);
    assert!(format::decode_txn(&bytes).is_err());
}

#[test]
fn undecodable_txn_with_good_checksum_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let log = write_creates(tmp.path(), 1, 1, small_opts());
    // Where the preallocated padding starts.
    let at = log.current_size();
    let path = only_file(tmp.path());
    assert!(at < fs::metadata(&path).unwrap().len());
    // A well-framed entry whose txn is a bare check (type 13).
    let mut txn_bytes = Vec::new();
    TxnHeader {
        client_id: 1,
        cxid: 1,
        zxid: 2,
        time: 0,
        type_: 13,
    }
    .serialize(&mut txn_bytes);
    let mut framed = Vec::new();
    format::frame_entry(&txn_bytes, &mut framed).unwrap();
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(&framed, at).unwrap();
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::TruncateTornTail);
    assert_eq!(entries.len(), 1);
    let err = err.unwrap();
    assert!(matches!(err.kind, TxnLogErrorKind::Undecodable(_)), "{err}");
    assert_eq!(err.offset, at);
}

/// Three files: zxids 1..=5 (rolled), 6..=8 (rolled), 9..=12 (open, padded).
fn three_file_log(dir: &Path) -> FileTxnLog {
    let mut log = FileTxnLog::open(dir, 0, small_opts()).unwrap();
    for z in 1..=12 {
        log.append(&txn(z, create(&format!("/t{z}"), b"some data")))
            .unwrap();
        log.commit().unwrap();
        if z == 5 || z == 8 {
            log.roll().unwrap();
        }
    }
    log
}

fn file_names(dir: &Path) -> Vec<String> {
    list_log_files(dir)
        .unwrap()
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn truncate_keeps_entries_up_to_the_zxid_in_every_file_position() {
    // The cut in the first, a middle and the last file; at a file's first
    // and last entry; at the log's last entry.
    for (cut, files) in [
        (1, vec!["log.1"]),
        (3, vec!["log.1"]),
        (5, vec!["log.1"]),
        (6, vec!["log.1", "log.6"]),
        (7, vec!["log.1", "log.6"]),
        (9, vec!["log.1", "log.6", "log.9"]),
        (11, vec!["log.1", "log.6", "log.9"]),
        (12, vec!["log.1", "log.6", "log.9"]),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut log = three_file_log(dir);
        let done = log.truncate(cut).unwrap();
        assert!(done.found, "cut {cut}");
        assert_eq!(file_names(dir), files, "cut {cut}");
        assert_eq!(TxnLog::last_zxid(&log), cut);
        // Recovery reads exactly up to the zxid, with no torn tail.
        let (entries, err) = read_all(dir, 0, RecoveryMode::Strict);
        assert!(err.is_none(), "cut {cut}: {err:?}");
        assert_eq!(zxids(&entries), (1..=cut).collect::<Vec<_>>());
        // The cut file ends right after the kept entry: no padding left.
        let last = list_log_files(dir).unwrap().pop().unwrap();
        let it = TxnLogIterator::over_files(vec![last.clone()], 0, RecoveryMode::Strict);
        let last_entry = it.map(Result::unwrap).last().unwrap();
        assert_eq!(last_entry.header.zxid, cut);
        // Appending continues a valid log, in a new file named after its zxid.
        for z in cut + 1..=cut + 3 {
            log.append(&txn(z, create(&format!("/again{z}"), b"x")))
                .unwrap();
        }
        log.commit().unwrap();
        assert_eq!(
            log.current_file().unwrap(),
            dir.join(format!("log.{:x}", cut + 1))
        );
        drop(log);
        let (entries, err) = read_all(dir, 0, RecoveryMode::Strict);
        assert!(err.is_none(), "cut {cut}: {err:?}");
        assert_eq!(zxids(&entries), (1..=cut + 3).collect::<Vec<_>>());
        // And a restart opens it again for appending.
        FileTxnLog::open(dir, cut + 3, small_opts()).unwrap();
    }
}

#[test]
fn truncate_flushes_uncommitted_appends_before_cutting() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut log = FileTxnLog::open(dir, 0, small_opts()).unwrap();
    for z in 1..=6 {
        log.append(&txn(z, create(&format!("/u{z}"), b""))).unwrap();
    }
    log.commit().unwrap();
    for z in 7..=9 {
        log.append(&txn(z, create(&format!("/u{z}"), b""))).unwrap();
    }
    // 7 and 8 were only buffered: they are kept as Java keeps them (its
    // close flushes them into the file before the cut), 9 is cut.
    log.truncate(8).unwrap();
    let (entries, err) = read_all(dir, 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), (1..=8).collect::<Vec<_>>());
}

#[test]
fn truncate_to_an_absent_zxid_keeps_only_smaller_ones() {
    // Java would keep the first entry after the zxid; we never do.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut log = FileTxnLog::open(dir, 0, small_opts()).unwrap();
    for z in [1, 2, 3, 10, 11, 20, 21] {
        log.append(&txn(z, create(&format!("/g{z}"), b""))).unwrap();
        log.commit().unwrap();
        if z == 3 || z == 11 {
            log.roll().unwrap();
        }
    }
    drop(log);
    // A gap inside a file.
    let tmp2 = tempfile::tempdir().unwrap();
    copy_dir(dir, tmp2.path());
    let done = truncate_log(tmp2.path(), 15).unwrap();
    assert!(!done.found);
    assert_eq!(file_names(tmp2.path()), ["log.1", "log.a"]);
    let (entries, err) = read_all(tmp2.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), [1, 2, 3, 10, 11]);
    // A gap between files: the later file would be left empty, so it goes.
    let done = truncate_log(dir, 5).unwrap();
    assert!(!done.found);
    assert_eq!(file_names(dir), ["log.1"]);
    assert_eq!(
        done.deleted,
        [dir.join("log.14"), dir.join("log.a")],
        "newest first"
    );
    let (entries, err) = read_all(dir, 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), [1, 2, 3]);
}

fn copy_dir(from: &Path, to: &Path) {
    for f in fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

#[test]
fn truncate_fails_where_java_fails_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // No log file at all.
    let err = truncate_log(dir, 5).unwrap_err();
    assert!(
        matches!(err.kind, TxnLogErrorKind::CannotTruncate(_)),
        "{err}"
    );
    assert!(err.to_string().contains("no log files"), "{err}");
    let mut log = three_file_log(dir);
    let before: Vec<(String, u64)> = list_log_files(dir)
        .unwrap()
        .iter()
        .map(|f| {
            (
                f.path.display().to_string(),
                fs::metadata(&f.path).unwrap().len(),
            )
        })
        .collect();
    // Past the end of the log.
    let err = log.truncate(13).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("ends at 0xc"), "{err}");
    let after: Vec<(String, u64)> = list_log_files(dir)
        .unwrap()
        .iter()
        .map(|f| {
            (
                f.path.display().to_string(),
                fs::metadata(&f.path).unwrap().len(),
            )
        })
        .collect();
    assert_eq!(before, after);
    // The log is still usable.
    log.truncate(10).unwrap();
    log.append(&txn(11, create("/z", b""))).unwrap();
    log.commit().unwrap();
}

#[test]
fn truncate_cuts_a_torn_tail_after_the_zxid_with_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, bytes, offsets) = five_entry_log(tmp.path(), 64 * 1024);
    // Tear the last entry (5) in half.
    let torn_at = (offsets[4] + offsets[5]) / 2;
    fs::write(&path, &bytes[..torn_at as usize]).unwrap();
    let done = truncate_log(tmp.path(), 3).unwrap();
    assert!(done.found);
    assert_eq!(done.cut, Some((path.clone(), offsets[3])));
    let (entries, err) = read_all(tmp.path(), 0, RecoveryMode::Strict);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(zxids(&entries), [1, 2, 3]);
    // Damage before the cut point is an error, and nothing changes.
    let tmp = tempfile::tempdir().unwrap();
    let (path, mut bytes, offsets) = five_entry_log(tmp.path(), 0);
    bytes[offsets[1] as usize + 20] ^= 0xff;
    fs::write(&path, &bytes).unwrap();
    let err = truncate_log(tmp.path(), 4).unwrap_err();
    assert!(matches!(err.kind, TxnLogErrorKind::Corrupt(_)), "{err}");
    assert_eq!(fs::read(&path).unwrap(), bytes);
}

#[test]
fn mem_txn_log_truncates_its_position() {
    let mut log = crate::persist::MemTxnLog::new();
    for z in 1..=5 {
        log.append(&txn(z, create("/m", b""))).unwrap();
    }
    assert!(log.truncate(6).is_err());
    log.truncate(3).unwrap();
    assert_eq!(log.last_zxid(), 3);
    log.append(&txn(4, create("/m", b""))).unwrap();
}

fn digested(zxid: i64, body: TxnBody) -> LoggedTxn {
    LoggedTxn {
        digest: Some(TxnDigest {
            version: 2,
            tree_digest: zxid * 1_000_003,
        }),
        ..txn(zxid, body)
    }
}

#[test]
fn raw_iterator_yields_the_logged_bytes_after_a_zxid() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut log = FileTxnLog::open(dir, 0, small_opts()).unwrap();
    let mut written = Vec::new();
    let zs = [1i64, 2, 3, 4, 10, 11, 12, 20];
    for (i, z) in zs.iter().copied().enumerate() {
        let body = every_body()[i % every_body().len()].clone();
        // Error txns carry no digest, as ZooKeeper logs them.
        let t = if i % 3 == 0 {
            txn(z, body)
        } else {
            digested(z, body)
        };
        log.append(&t).unwrap();
        log.commit().unwrap();
        if z == 4 || z == 12 {
            log.roll().unwrap();
        }
        written.push(t);
    }
    drop(log);
    for after in [0i64, 1, 3, 4, 5, 10, 12, 15, 20, 30] {
        let mut it = RawTxnIterator::open(dir, after).unwrap();
        let got: Vec<RawTxn> = it.by_ref().map(Result::unwrap).collect();
        let want: Vec<&LoggedTxn> = written.iter().filter(|t| t.zxid() > after).collect();
        assert_eq!(got.len(), want.len(), "after {after}");
        for (raw, t) in got.iter().zip(want) {
            assert_eq!(raw.zxid, t.zxid());
            // Exactly Util.marshallTxnEntry's bytes, digest included.
            let marshalled = format::marshal_txn(&t.header, &t.body, t.digest.as_ref());
            assert_eq!(raw.bytes.as_ref(), marshalled.as_slice());
            let decoded = format::decode_txn(&raw.bytes).unwrap();
            assert_eq!(decoded.digest, t.digest);
        }
        let preceding = zs.iter().copied().filter(|&z| z <= after).max();
        assert_eq!(it.preceding_zxid(), preceding, "after {after}");
        assert!(it.torn_tail().is_none());
    }
}

#[test]
fn raw_iterator_ends_quietly_at_a_partly_written_last_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, bytes, offsets) = five_entry_log(tmp.path(), 64 * 1024);
    // Entry 5 half written into the preallocated file, as a reader racing
    // the writer can see it.
    let mut partial = bytes.clone();
    let mid = ((offsets[4] + offsets[5]) / 2) as usize;
    partial[mid..].iter_mut().for_each(|b| *b = 0);
    fs::write(&path, &partial).unwrap();
    let mut it = RawTxnIterator::open(tmp.path(), 1).unwrap();
    let got: Vec<i64> = it.by_ref().map(|r| r.unwrap().zxid).collect();
    assert_eq!(got, [2, 3, 4]);
    assert_eq!(it.torn_tail().unwrap().offset, offsets[4]);
    // Nothing was cut.
    assert_eq!(fs::read(&path).unwrap(), partial);
    // Damage elsewhere is still an error.
    let mut damaged = bytes;
    damaged[offsets[1] as usize + 20] ^= 0xff;
    fs::write(&path, &damaged).unwrap();
    let results: Vec<_> = RawTxnIterator::open(tmp.path(), 0).unwrap().collect();
    assert!(results.last().unwrap().is_err());
}

#[test]
fn txnlog_sync_size_follows_javas_storage_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    drop(three_file_log(dir)); // log.1, log.6, log.9
    let len = |n: &str| fs::metadata(dir.join(n)).unwrap().len();
    // The first file read (newest starting below the zxid) is left out.
    assert_eq!(txnlog_sync_size(dir, 7).unwrap(), len("log.9"));
    assert_eq!(txnlog_sync_size(dir, 9).unwrap(), len("log.9"));
    assert_eq!(txnlog_sync_size(dir, 10).unwrap(), 0);
    assert_eq!(
        txnlog_sync_size(dir, 6).unwrap(),
        len("log.6") + len("log.9")
    );
    assert_eq!(
        txnlog_sync_size(dir, 1).unwrap(),
        len("log.6") + len("log.9")
    );
    assert_eq!(txnlog_sync_size(&dir.join("none"), 1).unwrap(), 0);
}

#[test]
fn txnlog_sync_limit_is_a_fraction_of_the_newest_snapshot() {
    use crate::persist::snapshot::{write_snapshot_from, SnapshotCompression};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    assert_eq!(
        txnlog_sync_size_limit(dir, 0.33),
        0,
        "no snapshot: no limit"
    );
    let tree = crate::tree::DataTree::default();
    let acls = crate::acl::AclCache::default();
    let path = write_snapshot_from(dir, 5, SnapshotCompression::None, &tree, &acls, []).unwrap();
    let size = fs::metadata(&path).unwrap().len();
    assert_eq!(
        txnlog_sync_size_limit(dir, 0.33),
        (size as f64 * 0.33) as i64
    );
    assert_eq!(txnlog_sync_size_limit(dir, 1.0), size as i64);
    assert!(txnlog_sync_allowed(0.33, 100, 0), "0 is no limit");
    assert!(txnlog_sync_allowed(0.33, 100, 100));
    assert!(!txnlog_sync_allowed(0.33, 101, 100));
    assert!(
        !txnlog_sync_allowed(-1.0, 0, 0),
        "a negative factor disables it"
    );
    assert!(!txnlog_sync_allowed(f64::NAN, 0, 0));
}

/// Start-up as ZKDatabase.loadDataBase does it: every txn replayed after the
/// snapshot goes into the committed window, which keeps the last
/// commitLogCount + 1 of them with the bytes the reader read.
#[test]
fn committed_window_is_filled_from_log_replay() {
    use crate::persist::CommittedLog;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut log = FileTxnLog::open(dir, 0, small_opts()).unwrap();
    for z in 1..=700 {
        log.append(&digested(z, create(&format!("/w{z}"), b"w")))
            .unwrap();
        if z % 100 == 0 {
            log.commit().unwrap();
            log.roll().unwrap();
        }
    }
    log.close().unwrap();
    let snapshot_zxid = 50;
    let mut window = CommittedLog::new(500);
    for entry in TxnLogIterator::open(dir, snapshot_zxid, RecoveryMode::Strict).unwrap() {
        window.add_replayed(&entry.unwrap());
    }
    assert_eq!(window.len(), 501);
    assert_eq!((window.min_committed(), window.max_committed()), (200, 700));
    // The window's bytes are the logged bytes, as the DIFF iterator reads them.
    let raw: Vec<RawTxn> = RawTxnIterator::open(dir, 199)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(raw.len(), 501);
    for (p, r) in window.iter().zip(&raw) {
        assert_eq!((p.zxid, &p.bytes), (r.zxid, &r.bytes));
    }
    // Only replayed txns count: a snapshot at the end leaves it empty.
    let mut window = CommittedLog::new(500);
    for entry in TxnLogIterator::open(dir, 700, RecoveryMode::Strict).unwrap() {
        window.add_replayed(&entry.unwrap());
    }
    assert!(window.is_empty());
}

/// One encoding for the log, the PROPOSAL and the window: appending the
/// marshalled bytes writes the same file as appending the txn.
#[test]
fn append_marshalled_writes_what_append_writes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut by_txn = FileTxnLog::open(a.path(), 0, small_opts()).unwrap();
    let mut by_bytes = FileTxnLog::open(b.path(), 0, small_opts()).unwrap();
    for (i, body) in every_body().into_iter().enumerate() {
        let t = digested(i as i64 + 1, body);
        by_txn.append(&t).unwrap();
        let encoded =
            bytes::Bytes::from(format::marshal_txn(&t.header, &t.body, t.digest.as_ref()));
        by_bytes.append_marshalled(&encoded).unwrap();
    }
    by_txn.close().unwrap();
    by_bytes.close().unwrap();
    assert_eq!(
        fs::read(only_file(a.path())).unwrap(),
        fs::read(only_file(b.path())).unwrap()
    );
    // Out of order and headerless bytes are refused.
    let mut log = FileTxnLog::open(b.path().join("x"), 5, small_opts()).unwrap();
    let old = format::marshal_txn(&txn(5, create("/o", b"")).header, &create("/o", b""), None);
    assert!(log.append_marshalled(&old).is_err());
    assert!(log.append_marshalled(&[1, 2, 3]).is_err());
}
