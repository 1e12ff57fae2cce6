//! Snapshot tests: exact bytes, round trips through every compression, corruption,
//! truncation and fallback, API misuse.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::acl::{AclCache, Id, ACL};
use crate::tree::{
    AclRef, DataTree, EphemeralTypes, StatPersisted, TreeConfig, CONTAINER_EPHEMERAL_OWNER,
};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "fk-snap-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Textbook Adler-32, independent of the crate used by the code under test.
fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in bytes {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
    ACL {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

const SESSION_A: i64 = 0x0100_0000_0000_0001;
const SESSION_B: i64 = 0x0100_0000_0000_0002;
/// TTL owner: 0xff marker byte, feature 0, TTL 5000 ms.
const TTL_OWNER: i64 = 0xff00_0000_0000_1388_u64 as i64;

fn config() -> TreeConfig {
    TreeConfig {
        ephemeral_types: EphemeralTypes {
            extended_types_enabled: true,
            emulate_353_ttl: false,
        },
        digest_enabled: true,
    }
}

/// A tree with every node kind, several ACL lists and two sessions.
fn sample() -> (DataTree, AclCache, Vec<(i64, i32)>) {
    let mut acls = AclCache::new();
    let read = acls.convert_acls(&crate::acl::read_acl_unsafe());
    let mut tree = DataTree::new(config(), AclRef(read));
    let open = crate::acl::open_acl_unsafe();
    let digest = vec![acl(31, "digest", "alice:Bcd7Zr1uYmfa8UeZVbYBY5a41yk=")];
    let mixed = vec![
        acl(1, "ip", "127.0.0.1"),
        acl(3, "ip", "10.0.0.0/8"),
        acl(31, "digest", "bob:x5P5nG3uqtB+5oJ2YUN0AFmqXxA="),
    ];
    let mut zxid = 0x1_0000_0000_i64;
    let t0 = 1_700_000_000_000_i64;
    // As the server does it: every create converts its list (one more reference).
    let mut mk = |tree: &mut DataTree,
                  acls: &mut AclCache,
                  path: &str,
                  data: Option<&[u8]>,
                  list: &[ACL],
                  owner: i64| {
        zxid += 1;
        let a = AclRef(acls.convert_acls(list));
        tree.create_node(
            path,
            data.map(<[u8]>::to_vec),
            a,
            owner,
            -1,
            zxid,
            t0 + zxid,
        )
        .unwrap();
        zxid
    };
    let (t, c) = (&mut tree, &mut acls);
    mk(t, c, "/app", Some(b"persistent"), &open, 0);
    mk(t, c, "/app/null", None, &open, 0);
    mk(t, c, "/app/empty", Some(b""), &open, 0);
    let big: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 253) as u8).collect();
    mk(t, c, "/app/big", Some(&big), &open, 0);
    mk(t, c, "/app/eph", Some(b"e"), &open, SESSION_A);
    mk(t, c, "/app/seq-0000000007", Some(b"s"), &open, 0);
    mk(t, c, "/app/eseq-0000000008", Some(b"es"), &open, SESSION_B);
    mk(
        t,
        c,
        "/container",
        Some(b"c"),
        &open,
        CONTAINER_EPHEMERAL_OWNER,
    );
    mk(t, c, "/container/kid", Some(b"k"), &open, 0);
    mk(t, c, "/ttl", Some(b"t"), &open, TTL_OWNER);
    mk(t, c, "/secret", Some(&[0, 255, 1, 254]), &digest, 0);
    mk(t, c, "/private", Some(b"p"), &digest, 0);
    mk(t, c, "/mixed", Some("ünïcode ✓".as_bytes()), &mixed, 0);
    let z = mk(t, c, "/mixed/ünï", Some(b"u"), &mixed, 0) + 1;
    t.set_data("/app", Some(b"changed".to_vec()), 1, z, t0 + z)
        .unwrap();
    let m = AclRef(c.convert_acls(&mixed));
    let (_, old) = t.set_acl("/secret", m, -1).unwrap();
    c.remove_usage(old.0);
    // Quota nodes, so finish_snapshot_load's setupQuota has work to do.
    mk(t, c, "/zookeeper/quota/app", None, &open, 0);
    mk(
        t,
        c,
        "/zookeeper/quota/app/zookeeper_limits",
        Some(b"count=10,bytes=-1"),
        &open,
        0,
    );
    mk(
        t,
        c,
        "/zookeeper/quota/app/zookeeper_stats",
        Some(b"count=7,bytes=100"),
        &open,
        0,
    );
    tree.check_invariants().unwrap();
    (tree, acls, vec![(SESSION_A, 30_000), (SESSION_B, 4_000)])
}

type NodeMap = BTreeMap<String, (Option<Vec<u8>>, i64, StatPersisted)>;

fn tree_nodes(tree: &DataTree) -> NodeMap {
    let mut out = BTreeMap::new();
    tree.for_each_preorder(|path, id| {
        out.insert(
            path.to_string(),
            (
                tree.node_data(id).map(<[u8]>::to_vec),
                tree.node_acl(id).0,
                tree.node_stat_persisted(id),
            ),
        );
    });
    out
}

fn only_file(dir: &Path) -> PathBuf {
    let files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn round_trip(compression: SnapshotCompression) {
    let dir = TempDir::new("rt");
    let (tree, acls, sessions) = sample();
    let path = write_snapshot_from(
        &dir.0,
        0x1_0000_0020,
        compression,
        &tree,
        &acls,
        sessions.clone(),
    )
    .unwrap();
    assert_eq!(
        path.file_name().unwrap().to_str().unwrap(),
        format!("snapshot.100000020{}", file_extension(compression))
    );
    assert_eq!(only_file(&dir.0), path, "no temporary file left behind");
    quick_check(&path).unwrap();

    // Raw reader: everything as written, root first as "", parents before children.
    let mut r = SnapshotReader::open(&path).unwrap();
    assert_eq!(r.zxid(), Some(0x1_0000_0020));
    assert_eq!(r.compression(), compression);
    assert_eq!(r.header(), (2, -1));
    let mut got_sessions = r.sessions().unwrap();
    got_sessions.sort();
    assert_eq!(got_sessions, sessions);
    let got_acls = r.acl_cache().unwrap();
    let want_acls: Vec<(i64, Vec<ACL>)> = acls.iter().map(|(i, l)| (i, l.to_vec())).collect();
    assert_eq!(got_acls, want_acls);
    let nodes: Vec<SnapshotNode> = r.nodes().collect::<Result<_>>().unwrap();
    assert_eq!(nodes[0].path, "");
    let mut seen = std::collections::HashSet::new();
    for n in &nodes {
        if !n.path.is_empty() {
            let parent = &n.path[..n.path.rfind('/').unwrap()];
            assert!(seen.contains(parent), "{} before its parent", n.path);
        }
        seen.insert(n.path.clone());
    }
    let read: NodeMap = nodes
        .into_iter()
        .map(|n| (n.path, (n.data, n.acl, n.stat)))
        .collect();
    assert_eq!(read, tree_nodes(&tree));
    let trailer = r.verify_checksum_and_digest().unwrap();
    assert_eq!(
        trailer.digest,
        Some(SnapshotDigest {
            zxid: 0x1_0000_0020,
            digest_version: 2,
            digest: tree.digest()
        })
    );
    assert!(!trailer.digest_truncated);

    // Loaded into a tree that had other content: identical nodes, digest, ACL counts.
    let mut tree2 = DataTree::new(config(), AclRef(1));
    tree2
        .create_node("/junk", None, AclRef(-1), 0, -1, 5, 5)
        .unwrap();
    let mut acls2 = AclCache::new();
    acls2.convert_acls(&[acl(1, "world", "junk")]);
    let mut sessions2 = Vec::new();
    let loaded = load_into(&path, &mut tree2, &mut acls2, &mut sessions2).unwrap();
    assert_eq!(loaded.zxid, 0x1_0000_0020);
    assert_eq!(loaded.nodes as usize, tree_nodes(&tree).len());
    assert_eq!(loaded.digest_check, DigestCheck::Matched);
    sessions2.sort();
    assert_eq!(sessions2, sessions);
    assert_eq!(tree_nodes(&tree2), tree_nodes(&tree));
    assert_eq!(tree2.digest(), tree.digest());
    assert_eq!(
        tree2.approximate_data_size(),
        tree.compute_approximate_data_size()
    );
    assert_eq!(tree2.ephemerals(SESSION_A), vec!["/app/eph".to_string()]);
    assert_eq!(tree2.containers(), vec!["/container".to_string()]);
    assert_eq!(tree2.ttls(), vec!["/ttl".to_string()]);
    assert_eq!(tree2.quota_roots(), tree.quota_roots());
    tree2.check_invariants().unwrap();
    let ids: Vec<i64> = acls.iter().map(|(i, _)| i).collect();
    assert_eq!(acls2.iter().map(|(i, _)| i).collect::<Vec<_>>(), ids);
    for id in ids {
        assert_eq!(acls2.refs(id), acls.refs(id), "refs of ACL {id}");
    }
}

#[test]
fn round_trip_uncompressed() {
    round_trip(SnapshotCompression::None);
}

#[test]
fn round_trip_gzip() {
    round_trip(SnapshotCompression::Gzip);
}

#[test]
fn round_trip_snappy() {
    round_trip(SnapshotCompression::Snappy);
}

fn root_only(w: &mut SnapshotWriter) {
    w.write_sessions([]).unwrap();
    w.write_acl_cache([]).unwrap();
    w.write_node("", Some(b""), -1, &StatPersisted::default())
        .unwrap();
}

/// The exact bytes of the smallest snapshot, built by hand from the Java sources.
#[test]
fn exact_bytes_of_a_minimal_snapshot() {
    let dir = TempDir::new("bytes");
    let mut w = SnapshotWriter::create(&dir.0, 0x2a, SnapshotCompression::None).unwrap();
    root_only(&mut w);
    let path = w.finish(Some(SnapshotDigest::new(0x2a, 0x1234))).unwrap();
    assert_eq!(path, dir.0.join("snapshot.2a"));
    let got = fs::read(&path).unwrap();

    let mut want = Vec::new();
    want.extend(b"ZKSN");
    want.extend(2i32.to_be_bytes());
    want.extend((-1i64).to_be_bytes());
    want.extend(0i32.to_be_bytes()); // sessions
    want.extend(0i32.to_be_bytes()); // ACL cache
    want.extend(0i32.to_be_bytes()); // path ""
    want.extend(0i32.to_be_bytes()); // data, empty
    want.extend((-1i64).to_be_bytes()); // acl
    want.extend([0u8; 60]); // StatPersisted
    want.extend(1i32.to_be_bytes());
    want.push(b'/'); // end marker
    let c1 = adler32(&want);
    want.extend(i64::from(c1).to_be_bytes());
    want.extend(1i32.to_be_bytes());
    want.push(b'/');
    want.extend(0x2ai64.to_be_bytes());
    want.extend(2i32.to_be_bytes());
    want.extend(0x1234i64.to_be_bytes());
    let c2 = adler32(&want);
    want.extend(i64::from(c2).to_be_bytes());
    want.extend(1i32.to_be_bytes());
    want.push(b'/');
    assert_eq!(got, want);
}

#[test]
fn snapshot_without_digest_section() {
    let dir = TempDir::new("nodigest");
    let mut w = SnapshotWriter::create(&dir.0, 7, SnapshotCompression::None).unwrap();
    root_only(&mut w);
    let path = w.finish(None).unwrap();
    let trailer = SnapshotReader::open(&path)
        .unwrap()
        .verify_checksum_and_digest()
        .unwrap();
    assert_eq!(trailer.digest, None);
    assert!(!trailer.digest_truncated);
    let mut tree = DataTree::new(config(), AclRef(1));
    let loaded = load_into(&path, &mut tree, &mut AclCache::new(), &mut Vec::new()).unwrap();
    assert_eq!(loaded.digest_check, DigestCheck::Absent);
    assert_eq!(tree.znode_count(), 1);
}

/// Digest versions below 2 store the digest as a hex string.
#[test]
fn reads_a_version_1_hex_digest() {
    let dir = TempDir::new("v1");
    let mut w = SnapshotWriter::create(&dir.0, 9, SnapshotCompression::None).unwrap();
    root_only(&mut w);
    let path = w.finish(None).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend(9i64.to_be_bytes());
    bytes.extend(1i32.to_be_bytes());
    bytes.extend(4i32.to_be_bytes());
    bytes.extend(b"-1ff");
    let c = adler32(&bytes);
    bytes.extend(i64::from(c).to_be_bytes());
    bytes.extend(1i32.to_be_bytes());
    bytes.push(b'/');
    fs::write(&path, &bytes).unwrap();
    let trailer = SnapshotReader::open(&path)
        .unwrap()
        .verify_checksum_and_digest()
        .unwrap();
    assert_eq!(
        trailer.digest,
        Some(SnapshotDigest {
            zxid: 9,
            digest_version: 1,
            digest: -0x1ff
        })
    );
}

fn write_sample(dir: &Path, zxid: i64, compression: SnapshotCompression) -> PathBuf {
    let (tree, acls, sessions) = sample();
    write_snapshot_from(dir, zxid, compression, &tree, &acls, sessions).unwrap()
}

#[test]
fn corrupt_byte_is_a_checksum_error_naming_the_file() {
    let dir = TempDir::new("corrupt");
    let path = write_sample(&dir.0, 0x30, SnapshotCompression::None);
    let mut bytes = fs::read(&path).unwrap();
    // A byte inside /app/big's data: parsing still succeeds, only the seal can tell.
    let pos = bytes.windows(4).position(|w| w == [7, 14, 21, 28]).unwrap() + 1;
    bytes[pos] ^= 0x40;
    fs::write(&path, &bytes).unwrap();
    assert!(quick_check(&path).is_ok(), "the quick check cannot see it");
    let err = SnapshotReader::open(&path)
        .unwrap()
        .verify_checksum_and_digest()
        .unwrap_err();
    assert!(err.is_checksum_mismatch(), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("seal 1"), "{msg}");

    // A byte in the digest section: caught by the second seal.
    let path = write_sample(&dir.0, 0x31, SnapshotCompression::None);
    let mut bytes = fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 13 - 5] ^= 1; // last byte of the digest long
    fs::write(&path, &bytes).unwrap();
    let err = SnapshotReader::open(&path)
        .unwrap()
        .verify_checksum_and_digest()
        .unwrap_err();
    assert!(
        matches!(
            err.kind,
            SnapshotErrorKind::ChecksumMismatch { seal: 2, .. }
        ),
        "{err}"
    );
}

#[test]
fn corrupt_compressed_snapshots_fail_cleanly() {
    for compression in [SnapshotCompression::Gzip, SnapshotCompression::Snappy] {
        let dir = TempDir::new("ccorrupt");
        let path = write_sample(&dir.0, 0x40, compression);
        let bytes = fs::read(&path).unwrap();
        for cut in [bytes.len() / 2, 20, 5] {
            fs::write(&path, &bytes[..cut]).unwrap();
            let r =
                SnapshotReader::open(&path).and_then(SnapshotReader::verify_checksum_and_digest);
            let err = r.unwrap_err();
            assert!(err.to_string().contains("snapshot.40"), "{err}");
        }
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0xff;
        fs::write(&path, &flipped).unwrap();
        let r = SnapshotReader::open(&path).and_then(SnapshotReader::verify_checksum_and_digest);
        assert!(r.is_err(), "{compression:?}: flipped byte went unnoticed");
    }
}

#[test]
fn truncated_newest_falls_back_to_older() {
    let dir = TempDir::new("fallback");
    let old = write_sample(&dir.0, 0x10, SnapshotCompression::None);
    let mid = write_sample(&dir.0, 0x20, SnapshotCompression::None);
    let new = write_sample(&dir.0, 0x30, SnapshotCompression::Gzip);
    // Newest: gzip cut in half (passes the quick check, fails reading).
    let b = fs::read(&new).unwrap();
    fs::write(&new, &b[..b.len() / 2]).unwrap();
    // Middle: uncompressed cut short (fails the quick check: no "/" at the end).
    let b = fs::read(&mid).unwrap();
    fs::write(&mid, &b[..b.len() - 3]).unwrap();
    // Not snapshots at all: ignored.
    fs::write(dir.0.join("snapshot.zz"), b"x").unwrap();
    fs::write(dir.0.join("log.50"), b"x").unwrap();
    fs::write(dir.0.join(".snapshot.60.tmp"), b"x").unwrap();

    let scan = find_valid_snapshots(&dir.0, 10).unwrap();
    let names: Vec<_> = scan.candidates.iter().map(|f| f.zxid).collect();
    assert_eq!(names, vec![0x30, 0x10]);
    assert_eq!(scan.rejected.len(), 1);
    assert_eq!(scan.rejected[0].path, mid);
    assert!(
        scan.rejected[0].reason.contains("incomplete"),
        "{:?}",
        scan.rejected
    );

    let newest = find_newest_valid(&dir.0, 10).unwrap();
    let (file, _) = newest.snapshot.unwrap();
    assert_eq!(file.path, old);
    let rejected: Vec<_> = newest.rejected.iter().map(|r| r.path.clone()).collect();
    assert_eq!(rejected, vec![mid.clone(), new.clone()]);

    let mut tree = DataTree::new(config(), AclRef(1));
    let mut acls = AclCache::new();
    let mut sessions = Vec::new();
    let (loaded, rejected) = load_newest_into(&dir.0, &mut tree, &mut acls, &mut sessions).unwrap();
    let loaded = loaded.unwrap();
    assert_eq!(loaded.path, old);
    assert_eq!(rejected.len(), 2);
    assert_eq!(tree_nodes(&tree), tree_nodes(&sample().0));
    assert_eq!(
        sessions.len(),
        2,
        "sessions of failed attempts are not kept"
    );

    assert_eq!(remove_stale_temp_files(&dir.0).unwrap(), 1);

    // Nothing valid at all: an error naming every file.
    fs::remove_file(&old).unwrap();
    let err = load_newest_into(&dir.0, &mut tree, &mut acls, &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("snapshot.30.gz"), "{err}");
    // No snapshot at all: fresh start, nothing touched.
    let empty = TempDir::new("empty");
    let (none, _) = load_newest_into(
        &empty.0.join("version-2"),
        &mut tree,
        &mut acls,
        &mut Vec::new(),
    )
    .unwrap();
    assert!(none.is_none());
}

#[test]
fn quick_check_mirrors_snapstream() {
    let dir = TempDir::new("quick");
    let p = dir.0.join("snapshot.1");
    fs::write(&p, b"short").unwrap();
    assert!(quick_check(&p).unwrap_err().contains("5 bytes"));
    fs::write(&p, b"0123456789\0\0\0\x01/").unwrap();
    assert!(quick_check(&p).is_ok());
    let g = dir.0.join("snapshot.1.gz");
    fs::write(&g, b"\x1f\x8bxx").unwrap();
    assert!(quick_check(&g).is_ok());
    fs::write(&g, b"\x1f\x8a").unwrap();
    assert!(quick_check(&g).is_err());
    let s = dir.0.join("snapshot.1.SNAPPY");
    fs::write(&s, b"\x82SNAPPY\0").unwrap();
    assert!(quick_check(&s).is_ok());
    assert!(quick_check(&dir.0.join("snapshotx.1")).is_err());
}

#[test]
fn names_parse_as_zookeeper_parses_them() {
    assert_eq!(zxid_from_name("snapshot.1a"), Some(0x1a));
    assert_eq!(zxid_from_name("snapshot.1A.gz"), Some(0x1a));
    assert_eq!(
        zxid_from_name("snapshot.100000000.snappy"),
        Some(0x1_0000_0000)
    );
    assert_eq!(zxid_from_name("snapshot.1a.tmp"), Some(0x1a));
    assert_eq!(zxid_from_name(".snapshot.1a.tmp"), None);
    assert_eq!(zxid_from_name("snapshot."), None);
    assert_eq!(zxid_from_name("snapshot"), None);
    assert_eq!(zxid_from_name("log.1a"), None);
    assert_eq!(zxid_from_name("snapshot.xyz"), None);
    assert_eq!(
        compression_from_name("snapshot.1a"),
        SnapshotCompression::None
    );
    assert_eq!(
        compression_from_name("snapshot.1a.gz"),
        SnapshotCompression::Gzip
    );
    assert_eq!(
        compression_from_name("snapshot.1a.GZ"),
        SnapshotCompression::Gzip
    );
    assert_eq!(
        compression_from_name("snapshot.1a.snappy"),
        SnapshotCompression::Snappy
    );
    assert_eq!(
        compression_from_name("snapshot.1a.gz."),
        SnapshotCompression::Gzip
    );
    assert_eq!(
        compression_from_name("snapshot.1a.zip"),
        SnapshotCompression::None
    );
    assert_eq!(
        snapshot_file_name(0x1_0000_0000, SnapshotCompression::None),
        "snapshot.100000000"
    );
    assert_eq!(
        snapshot_file_name(0xab, SnapshotCompression::Snappy),
        "snapshot.ab.snappy"
    );
    assert_eq!(
        snapshot_file_name(0, SnapshotCompression::Gzip),
        "snapshot.0.gz"
    );
}

#[test]
fn writer_refuses_calls_out_of_order() {
    let dir = TempDir::new("misuse");
    let stat = StatPersisted::default();
    let mut w = SnapshotWriter::create(&dir.0, 1, SnapshotCompression::None).unwrap();
    assert!(w.write_node("", None, -1, &stat).is_err());
    assert!(w.write_acl_cache([]).is_err());
    w.write_sessions([(1, 2)]).unwrap();
    assert!(w.write_sessions([]).is_err());
    w.write_acl_cache([]).unwrap();
    assert!(w.write_node("/a", None, -1, &stat).is_err(), "root first");
    w.write_node("", None, -1, &stat).unwrap();
    assert!(
        w.write_node("/", None, -1, &stat).is_err(),
        "\"/\" is the end marker"
    );
    assert!(w.write_node("a", None, -1, &stat).is_err());
    w.write_node("/a", None, -1, &stat).unwrap();
    assert_eq!(w.nodes_written(), 2);
    let bad = SnapshotDigest {
        zxid: 1,
        digest_version: 1,
        digest: 0,
    };
    assert!(w.finish(Some(bad)).is_err());
    assert_eq!(
        fs::read_dir(&dir.0).unwrap().count(),
        0,
        "temp file removed"
    );

    let mut w = SnapshotWriter::create(&dir.0, 2, SnapshotCompression::None).unwrap();
    w.write_sessions([]).unwrap();
    drop(w);
    assert_eq!(
        fs::read_dir(&dir.0).unwrap().count(),
        0,
        "dropped writer cleans up"
    );

    let w = SnapshotWriter::create(&dir.0, 3, SnapshotCompression::Snappy).unwrap();
    w.abort().unwrap();
    assert_eq!(fs::read_dir(&dir.0).unwrap().count(), 0);
}

#[test]
fn reader_refuses_garbage() {
    let dir = TempDir::new("garbage");
    let p = dir.0.join("snapshot.5");
    fs::write(&p, b"ZKLG\0\0\0\x02\xff\xff\xff\xff\xff\xff\xff\xff").unwrap();
    let err = SnapshotReader::open(&p).err().unwrap();
    assert!(matches!(err.kind, SnapshotErrorKind::BadMagic(_)), "{err}");
    // A node whose parent never came.
    let mut w = SnapshotWriter::create(&dir.0, 6, SnapshotCompression::None).unwrap();
    root_only(&mut w);
    w.write_node("/a/b", None, -1, &StatPersisted::default())
        .unwrap();
    let p = w.finish(None).unwrap();
    let mut tree = DataTree::new(config(), AclRef(1));
    let err = load_into(&p, &mut tree, &mut AclCache::new(), &mut Vec::new()).unwrap_err();
    assert!(err.to_string().contains("/a/b"), "{err}");
    // A huge length prefix in a short file: an error, not a huge allocation.
    let mut bytes = fs::read(&p).unwrap();
    bytes[24..28].copy_from_slice(&0x7fff_fff0_i32.to_be_bytes()); // root path length
    fs::write(&p, &bytes).unwrap();
    let err = SnapshotReader::open(&p)
        .unwrap()
        .verify_checksum_and_digest()
        .unwrap_err();
    assert!(err.is_truncated(), "{err}");
    assert!(err.to_string().contains("path"), "{err}");
}

/// The writer never leaves the tree type involved: a fuzzy-style drive with plain values,
/// interleaved with tree changes, reads back as written.
#[test]
fn incremental_writer_with_plain_values() {
    let dir = TempDir::new("incr");
    let mut w = SnapshotWriter::create(&dir.0, 0x99, SnapshotCompression::Snappy).unwrap();
    w.write_sessions(vec![(5, 6000)]).unwrap();
    let list = vec![acl(31, "world", "anyone")];
    w.write_acl_cache([(1, list.as_slice())]).unwrap();
    let stat = |z: i64| StatPersisted::new_for_create(z, z * 10, 0);
    w.write_node("", Some(b""), -1, &stat(0)).unwrap();
    for i in 0..2000 {
        let data = format!("value-{i}").into_bytes();
        w.write_node(&format!("/n{i}"), Some(&data), 1, &stat(i))
            .unwrap();
    }
    assert!(w.bytes_written() > 2000 * 60);
    let p = w.finish(Some(SnapshotDigest::empty())).unwrap();
    let mut r = SnapshotReader::open(&p).unwrap();
    assert_eq!(r.sessions().unwrap(), vec![(5, 6000)]);
    assert_eq!(r.acl_cache().unwrap(), vec![(1, list)]);
    let nodes: Vec<_> = r.nodes().collect::<Result<_>>().unwrap();
    assert_eq!(nodes.len(), 2001);
    assert_eq!(nodes[1234].path, "/n1233");
    assert_eq!(nodes[1234].data.as_deref(), Some(&b"value-1233"[..]));
    assert_eq!(nodes[1234].stat, stat(1233));
    let t = r.verify_checksum_and_digest().unwrap();
    assert_eq!(t.digest, Some(SnapshotDigest::empty()));
    let mut tree = DataTree::new(config(), AclRef(1));
    let loaded = load_into(&p, &mut tree, &mut AclCache::new(), &mut Vec::new()).unwrap();
    assert_eq!(loaded.digest_check, DigestCheck::Empty);
}

// ----------------------------------------------------------------------------------------
// Snapshots written by Java ZooKeeper 3.8.0 (Debian), one per compression: a restart's
// startup snapshot after creating persistent, null-data, sequential, ephemeral, container,
// TTL and digest+ip-ACL nodes with kazoo (compat-tests/persistence makes such files fresh).
// ----------------------------------------------------------------------------------------

fn fixture_dir(compression: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/persist/snapshot/testdata")
        .join(format!("java-3.8.0-{compression}"))
}

/// The whole uncompressed stream of a snapshot file.
fn uncompressed(path: &Path) -> Vec<u8> {
    use std::io::Read;
    let file = fs::File::open(path).unwrap();
    let mut out = Vec::new();
    match compression_from_name(&path.file_name().unwrap().to_string_lossy()) {
        SnapshotCompression::None => {
            std::io::BufReader::new(file).read_to_end(&mut out).unwrap();
        }
        SnapshotCompression::Gzip => {
            flate2::read::MultiGzDecoder::new(file)
                .read_to_end(&mut out)
                .unwrap();
        }
        SnapshotCompression::Snappy => {
            xsnappy::XerialSnappyReader::new(file)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
        }
    }
    out
}

#[test]
fn reads_snapshots_written_by_java_zookeeper() {
    for compression in ["none", "gz", "snappy"] {
        let dir = fixture_dir(compression);
        let newest = find_newest_valid(&dir, 10).unwrap();
        assert!(newest.rejected.is_empty(), "{:?}", newest.rejected);
        let (file, trailer) = newest.snapshot.unwrap();
        assert_eq!(file.zxid, 0xb);
        let digest = trailer.digest.unwrap();
        assert_eq!((digest.zxid, digest.digest_version), (0xb, 2));

        let mut r = SnapshotReader::open(&file.path).unwrap();
        assert_eq!(r.sessions().unwrap().len(), 2);
        let acls: BTreeMap<i64, Vec<ACL>> = r.acl_cache().unwrap().into_iter().collect();
        let nodes: BTreeMap<String, SnapshotNode> = r
            .nodes()
            .map(|n| n.map(|n| (n.path.clone(), n)))
            .collect::<Result<_>>()
            .unwrap();
        r.verify_checksum_and_digest().unwrap();
        let app = &nodes["/app"];
        assert_eq!(app.data.as_deref(), Some(&b"hello again"[..]));
        assert_eq!((app.stat.version, app.stat.cversion), (1, 3));
        assert_eq!(nodes["/app/null"].data, None);
        assert!(nodes.contains_key("/app/seq-0000000001"));
        assert!(nodes["/app/eph"].stat.ephemeral_owner > 0);
        assert_eq!(
            nodes["/container"].stat.ephemeral_owner,
            CONTAINER_EPHEMERAL_OWNER
        );
        assert_eq!((nodes["/ttl"].stat.ephemeral_owner >> 56) & 0xff, 0xff);
        assert_eq!(nodes["/zookeeper/config"].stat.aversion, -1);
        assert_eq!(
            acls[&nodes["/zookeeper/config"].acl],
            crate::acl::read_acl_unsafe()
        );
        let secret = &acls[&nodes["/secret"].acl];
        assert_eq!(secret[0].id.scheme, "digest");
        assert_eq!(secret[1], acl(1, "ip", "127.0.0.1"));
        assert_eq!(nodes[""].acl, -1);

        let mut tree = DataTree::new(config(), AclRef(1));
        let mut cache = AclCache::new();
        let mut sessions = Vec::new();
        let (loaded, _) = load_newest_into(&dir, &mut tree, &mut cache, &mut sessions).unwrap();
        let loaded = loaded.unwrap();
        // FerroKeeper's digest of the loaded tree is the one Java recorded.
        assert_eq!(loaded.digest_check, DigestCheck::Matched, "{compression}");
        assert_eq!(tree.ephemerals_count(), 1);
        assert_eq!(tree.containers(), vec!["/container".to_string()]);
        assert_eq!(tree.ttls(), vec!["/ttl".to_string()]);
        tree.check_invariants().unwrap();
    }
}

/// Re-serializing a Java snapshot's records in their file order gives Java's exact
/// uncompressed bytes: header, sessions, ACL cache, nodes, end marker, both seals, digest.
#[test]
fn rewriting_a_java_snapshot_reproduces_its_bytes() {
    for (compression, mode) in [
        ("none", SnapshotCompression::None),
        ("gz", SnapshotCompression::Gzip),
        ("snappy", SnapshotCompression::Snappy),
    ] {
        let java = find_valid_snapshots(&fixture_dir(compression), 1)
            .unwrap()
            .candidates
            .remove(0);
        let mut r = SnapshotReader::open(&java.path).unwrap();
        let sessions = r.sessions().unwrap();
        let acls = r.acl_cache().unwrap();
        let nodes: Vec<SnapshotNode> = r.nodes().collect::<Result<_>>().unwrap();
        let trailer = r.verify_checksum_and_digest().unwrap();

        let out = TempDir::new("rewrite");
        let mut w = SnapshotWriter::create(&out.0, java.zxid, mode).unwrap();
        w.write_sessions(sessions).unwrap();
        w.write_acl_cache(acls.iter().map(|(i, l)| (*i, l.as_slice())))
            .unwrap();
        for n in &nodes {
            w.write_node(&n.path, n.data.as_deref(), n.acl, &n.stat)
                .unwrap();
        }
        let ours = w.finish(trailer.digest).unwrap();
        assert_eq!(
            uncompressed(&ours),
            uncompressed(&java.path),
            "{compression}: uncompressed streams differ"
        );
        if mode == SnapshotCompression::None {
            assert_eq!(fs::read(&ours).unwrap(), fs::read(&java.path).unwrap());
        }
    }
}

/// The core's path: the factory's sink, fed as `snapshot_job` feeds it.
#[test]
fn sink_factory_writes_through_the_core_trait() {
    use crate::persist::{SnapNode, SnapshotSink};
    let dir = TempDir::new("sink");
    let factory = sink_factory(dir.0.clone(), SnapshotCompression::Gzip);
    let mut sink: Box<dyn SnapshotSink> = factory(0x77).unwrap();
    sink.sessions(&[(3, 5000)]).unwrap();
    sink.acl_cache(&[(1, crate::acl::read_acl_unsafe())])
        .unwrap();
    let stat = jute::data::StatPersisted {
        czxid: 1,
        mzxid: 2,
        ctime: 3,
        mtime: 4,
        version: 5,
        cversion: 6,
        aversion: 7,
        ephemeral_owner: 8,
        pzxid: 9,
    };
    for path in ["", "/a"] {
        sink.node(&SnapNode {
            path: path.into(),
            data: Some(b"d".to_vec()),
            acl: 1,
            stat: stat.clone(),
        })
        .unwrap();
    }
    let path = sink.finish(Some((0x77, 42))).unwrap();
    assert_eq!(path, dir.0.join("snapshot.77.gz"));
    assert_eq!(
        crate::persist::valid_snapshots_newest_first(&dir.0).unwrap(),
        vec![(0x77, path.clone())]
    );
    let mut r = SnapshotReader::open(&path).unwrap();
    assert_eq!(r.sessions().unwrap(), vec![(3, 5000)]);
    r.acl_cache().unwrap();
    let nodes: Vec<_> = r.nodes().collect::<Result<_>>().unwrap();
    assert_eq!(nodes[1].path, "/a");
    assert_eq!(
        (
            nodes[1].stat.czxid,
            nodes[1].stat.aversion,
            nodes[1].stat.pzxid
        ),
        (1, 7, 9)
    );
    let t = r.verify_checksum_and_digest().unwrap();
    assert_eq!(t.digest, Some(SnapshotDigest::new(0x77, 42)));
}

fn acl_map(cache: &AclCache) -> BTreeMap<i64, Vec<ACL>> {
    cache.iter().map(|(id, l)| (id, l.to_vec())).collect()
}

/// A leader's SNAP stream read back by a learner: the same tree (digest
/// included), ACL cache and sessions, and the stream left right after the
/// signature for the packets that follow.
#[test]
fn snap_sync_round_trip_into_a_fresh_tree() {
    let (tree, acls, sessions) = sample();
    let (mut wire, written) = write_snap_sync(Vec::new(), &tree, &acls, sessions.clone()).unwrap();
    assert_eq!(written, wire.len() as u64);
    wire.extend_from_slice(b"NEXT PACKET");

    // A learner's database holding something else first: it is replaced.
    let mut fresh = DataTree::new(config(), AclRef(-1));
    fresh
        .create_node("/stale", None, AclRef(-1), 0, -1, 1, 1)
        .unwrap();
    let mut cache = AclCache::new();
    let mut got_sessions = Vec::new();
    let mut input = wire.as_slice();
    let (loaded, rest) = load_snap_sync(
        &mut input,
        Path::new("leader"),
        Some(0xfffff + 1024),
        &mut fresh,
        &mut cache,
        &mut got_sessions,
    )
    .unwrap();
    assert_eq!(**rest, b"NEXT PACKET"[..]);
    assert_eq!(loaded.bytes, written);
    assert_eq!(loaded.nodes as usize, tree_nodes(&tree).len());
    assert_eq!(fresh.digest(), tree.digest());
    assert_eq!(fresh.compute_digest(), tree.digest());
    assert_eq!(tree_nodes(&fresh), tree_nodes(&tree));
    assert_eq!(acl_map(&cache), acl_map(&acls));
    assert_eq!(got_sessions, sessions);
    fresh.check_invariants().unwrap();
}

/// Java's snapshot files are FileSnap's header, then exactly
/// SerializeUtils.serializeSnapshot's bytes — what LearnerHandler streams —
/// then the seals. Re-encoding a Java 3.8.0 snapshot's records in SNAP form
/// gives Java's bytes between header and seal, plus the signature; and a
/// learner loading that stream ends with Java's recorded tree digest.
#[test]
fn snap_sync_form_is_javas_serialize_snapshot() {
    let java = find_valid_snapshots(&fixture_dir("none"), 1)
        .unwrap()
        .candidates
        .remove(0);
    let mut r = SnapshotReader::open(&java.path).unwrap();
    let sessions = r.sessions().unwrap();
    let acls = r.acl_cache().unwrap();
    let nodes: Vec<SnapshotNode> = r.nodes().collect::<Result<_>>().unwrap();
    let body_end = r.offset() as usize;
    let digest = r.verify_checksum_and_digest().unwrap().digest.unwrap();

    let mut w = SnapSyncWriter::new(Vec::new());
    w.write_sessions(sessions.iter().copied()).unwrap();
    w.write_acl_cache(acls.iter().map(|(i, l)| (*i, l.as_slice())))
        .unwrap();
    for n in &nodes {
        w.write_node(&n.path, n.data.as_deref(), n.acl, &n.stat)
            .unwrap();
    }
    assert_eq!(w.nodes_written() as usize, nodes.len());
    let (ours, _) = w.finish().unwrap();
    let mut expected = uncompressed(&java.path)[16..body_end].to_vec();
    jute::codec::write_ustring(&mut expected, "BenWasHere");
    assert_eq!(ours, expected);

    let mut tree = DataTree::new(config(), AclRef(-1));
    let mut cache = AclCache::new();
    let mut got = Vec::new();
    let (loaded, rest) = load_snap_sync(
        ours.as_slice(),
        Path::new("java"),
        None,
        &mut tree,
        &mut cache,
        &mut got,
    )
    .unwrap();
    assert!(rest.is_empty());
    assert_eq!(loaded.sessions, 2);
    assert_eq!(
        tree.digest(),
        digest.digest,
        "Java's digest of the same tree"
    );
}

#[test]
fn snap_sync_refuses_a_bad_signature_and_hostile_lengths() {
    let (tree, acls, sessions) = sample();
    let (good, _) = write_snap_sync(Vec::new(), &tree, &acls, sessions).unwrap();
    let load = |bytes: &[u8], max: Option<usize>| {
        let mut t = DataTree::new(config(), AclRef(-1));
        let mut c = AclCache::new();
        let mut s: Vec<(i64, i32)> = Vec::new();
        let r = load_snap_sync(bytes, Path::new("peer"), max, &mut t, &mut c, &mut s);
        (r.map(|(l, _)| l), s)
    };
    // The signature: wrong, cut short, missing.
    let sig_at = good.len() - (4 + "BenWasHere".len());
    let mut wrong = good.clone();
    wrong[sig_at + 4] = b'b';
    let (r, s) = load(&wrong, None);
    let err = r.unwrap_err();
    assert!(err.to_string().contains("missing signature"), "{err}");
    assert!(s.is_empty(), "no sessions kept from a failed load");
    let (r, _) = load(&good[..good.len() - 3], None);
    assert!(r.unwrap_err().is_truncated());
    let (r, _) = load(&good[..sig_at], None);
    assert!(r.unwrap_err().is_truncated());

    // A session count of 2^31-1 with nothing behind it: the stream ends, no
    // table of that size is allocated first.
    let mut hostile = Vec::new();
    jute::codec::write_int(&mut hostile, i32::MAX);
    let (r, _) = load(&hostile, None);
    assert!(r.unwrap_err().is_truncated());
    // A node whose data claims 2 GiB: refused over jute.maxbuffer before
    // reading, and without a limit it reads only what arrives.
    let mut hostile = Vec::new();
    jute::codec::write_int(&mut hostile, 0); // sessions
    jute::codec::write_int(&mut hostile, 0); // ACL cache
    jute::codec::write_ustring(&mut hostile, "");
    jute::codec::write_int(&mut hostile, i32::MAX); // data length
    hostile.extend_from_slice(&[7; 100]);
    let (r, _) = load(&hostile, Some(0xfffff));
    let err = r.unwrap_err();
    assert!(err.to_string().contains("jute.maxbuffer"), "{err}");
    let (r, _) = load(&hostile, None);
    assert!(r.unwrap_err().is_truncated());
}

#[test]
fn snap_sync_writer_refuses_calls_out_of_order() {
    let stat = StatPersisted::default();
    let mut w = SnapSyncWriter::new(Vec::new());
    assert!(w.write_node("", None, -1, &stat).is_err());
    w.write_sessions([]).unwrap();
    assert!(w.write_sessions([]).is_err());
    w.write_acl_cache([]).unwrap();
    assert!(w.write_node("/a", None, -1, &stat).is_err(), "root first");
    w.write_node("", None, -1, &stat).unwrap();
    assert!(w.write_node("/", None, -1, &stat).is_err());
    assert!(w.write_node("a", None, -1, &stat).is_err());
    w.write_node("/a", Some(b"x"), -1, &stat).unwrap();
    let (bytes, n) = w.finish().unwrap();
    assert_eq!(bytes.len() as u64, n);
    assert!(SnapSyncWriter::new(Vec::new()).finish().is_err());
}

/// What an ensemble member writes after a SNAP sync: the stream made into a
/// snapshot file. From the SNAP form of Java 3.8.0's own snapshot, with
/// Java's zxid digest, the file comes out byte for byte as Java wrote it:
/// header, body, seals and digest all framed as `FileSnap.serialize` does.
#[test]
fn a_snapshot_written_from_the_snap_stream_of_javas_is_javas_file() {
    let java = find_valid_snapshots(&fixture_dir("none"), 1)
        .unwrap()
        .candidates
        .remove(0);
    let mut r = SnapshotReader::open(&java.path).unwrap();
    let sessions = r.sessions().unwrap();
    let acls = r.acl_cache().unwrap();
    let nodes: Vec<SnapshotNode> = r.nodes().collect::<Result<_>>().unwrap();
    let digest = r.verify_checksum_and_digest().unwrap().digest;
    let mut w = SnapSyncWriter::new(Vec::new());
    w.write_sessions(sessions.iter().copied()).unwrap();
    w.write_acl_cache(acls.iter().map(|(i, l)| (*i, l.as_slice())))
        .unwrap();
    for n in &nodes {
        w.write_node(&n.path, n.data.as_deref(), n.acl, &n.stat)
            .unwrap();
    }
    let (stream, _) = w.finish().unwrap();

    let out = TempDir::new("from-stream");
    // With the signature, as write_snap_sync makes it, and without, as the
    // body alone: the same file.
    let without = &stream[..stream.len() - (4 + "BenWasHere".len())];
    for (i, s) in [stream.as_slice(), without].into_iter().enumerate() {
        let dir = out.0.join(format!("v{i}"));
        let path =
            write_snapshot_from_snap_stream(&dir, java.zxid, SnapshotCompression::None, s, digest)
                .unwrap();
        assert_eq!(path.file_name(), java.path.file_name());
        assert_eq!(fs::read(&path).unwrap(), fs::read(&java.path).unwrap());
    }
}

/// The seals would vouch for whatever they cover, so a stream that does not
/// parse to its end, lacks the root or carries bytes after the signature
/// is refused before any file is made.
#[test]
fn a_bad_snap_stream_makes_no_snapshot_file() {
    let (tree, acls, sessions) = sample();
    let (stream, _) = write_snap_sync(Vec::new(), &tree, &acls, sessions).unwrap();
    let mut trailing = stream.clone();
    trailing.push(0);
    let mut no_root = Vec::new();
    jute::codec::write_int(&mut no_root, 0);
    jute::codec::write_int(&mut no_root, 0);
    jute::codec::write_ustring(&mut no_root, "/");
    let cases: [(&str, &[u8]); 4] = [
        ("cut short", &stream[..stream.len() - 20]),
        ("trailing byte", &trailing),
        ("no root", &no_root),
        ("empty", &[]),
    ];
    let out = TempDir::new("bad-stream");
    for (what, bytes) in cases {
        let err =
            write_snapshot_from_snap_stream(&out.0, 5, SnapshotCompression::None, bytes, None)
                .expect_err(what);
        assert!(!err.to_string().is_empty());
        assert_eq!(
            fs::read_dir(&out.0).map(|d| d.count()).unwrap_or(0),
            0,
            "{what}: no file, not even a temporary one"
        );
    }
    // The good stream does make one, which loads as the tree it came from.
    let path = write_snapshot_from_snap_stream(&out.0, 5, SnapshotCompression::Gzip, &stream, None)
        .unwrap();
    let mut loaded = DataTree::new(config(), AclRef(-1));
    let mut cache = AclCache::new();
    let mut got = Vec::new();
    let l = load_into(&path, &mut loaded, &mut cache, &mut got).unwrap();
    assert_eq!(l.zxid, 5);
    assert_eq!(l.digest_check, DigestCheck::Absent);
    assert_eq!(tree_nodes(&loaded), tree_nodes(&tree));
    assert_eq!(acl_map(&cache), acl_map(&acls));
}
