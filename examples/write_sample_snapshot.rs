//! Writes a sample snapshot with FerroKeeper's writer, for the interop tests against Java
//! ZooKeeper (compat-tests/persistence).
//!
//! ```text
//! write_sample_snapshot <version-2 dir> [none|gz|snappy]
//! ```
//! The tree has persistent, ephemeral, sequential, container, TTL and quota nodes, null /
//! empty / binary / 300 KB / non-ASCII data, several ACL lists (world, digest
//! `alice:secret`, ip) and two sessions. Times are relative to now so Java's TTL and
//! session expiry do not fire during a test. Prints JSON lines: `written` (path, zxid) and
//! one `session` per session with the password ZooKeeper would have handed out, so a client
//! can reattach to it.

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use ferrokeeper::acl::{generate_digest, open_acl_unsafe, read_acl_unsafe, AclCache, Id, ACL};
use ferrokeeper::persist::snapshot::{write_snapshot_from, SnapshotCompression};
use ferrokeeper::session::session_password;
use ferrokeeper::tree::{AclRef, DataTree, EphemeralTypes, TreeConfig, CONTAINER_EPHEMERAL_OWNER};

const SESSION_A: i64 = 0x0000_0fe0_0000_0001;
const SESSION_B: i64 = 0x0000_0fe0_0000_0002;

fn acl(perms: i32, scheme: &str, id: &str) -> ACL {
    ACL {
        perms,
        id: Id {
            scheme: scheme.into(),
            id: id.into(),
        },
    }
}

struct Builder {
    tree: DataTree,
    acls: AclCache,
    zxid: i64,
    now: i64,
}

impl Builder {
    fn next(&mut self) -> i64 {
        self.zxid += 1;
        self.zxid
    }

    fn create(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        list: &[ACL],
        owner: i64,
    ) -> Result<(), String> {
        let z = self.next();
        let a = AclRef(self.acls.convert_acls(list));
        let t = self.now + z % 1000;
        self.tree
            .create_node(path, data.map(<[u8]>::to_vec), a, owner, -1, z, t)
            .map(|_| ())
            .map_err(|e| format!("create {path}: {e}"))
    }
}

fn build() -> Result<(DataTree, AclCache, i64), String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis() as i64;
    let config = TreeConfig {
        ephemeral_types: EphemeralTypes {
            extended_types_enabled: true,
            emulate_353_ttl: false,
        },
        digest_enabled: true,
    };
    let mut acls = AclCache::new();
    let read = acls.convert_acls(&read_acl_unsafe());
    let mut b = Builder {
        tree: DataTree::new(config, AclRef(read)),
        acls,
        zxid: 0x5_0000_0000,
        now: now - 60_000,
    };
    let open = open_acl_unsafe();
    let alice = vec![acl(31, "digest", &generate_digest("alice:secret"))];
    let mixed = vec![
        acl(1, "world", "anyone"),
        acl(31, "digest", &generate_digest("alice:secret")),
        acl(3, "ip", "127.0.0.1"),
    ];
    // TTL node: 0xff marker byte, feature 0, TTL one hour.
    let ttl_owner = (0xff00_0000_0000_0000_u64 as i64) | 3_600_000;
    let big: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();

    b.create("/app", Some(b"hello"), &open, 0)?;
    b.create("/app/null", None, &open, 0)?;
    b.create("/app/empty", Some(b""), &open, 0)?;
    b.create("/app/big", Some(&big), &open, 0)?;
    b.create("/app/binary", Some(&[0, 1, 2, 253, 254, 255]), &open, 0)?;
    b.create("/app/gone", None, &open, 0)?;
    b.create("/app/seq-0000000006", Some(b"s6"), &open, 0)?;
    b.create("/app/eph", Some(b"ephemeral"), &open, SESSION_A)?;
    b.create("/app/eseq-0000000008", Some(b"es8"), &open, SESSION_A)?;
    b.create("/container", Some(b"box"), &open, CONTAINER_EPHEMERAL_OWNER)?;
    b.create("/container/kid", Some(b"k"), &open, 0)?;
    b.create("/ttl", Some(b"timed"), &open, ttl_owner)?;
    b.create("/secret", Some(b"alice only"), &alice, 0)?;
    b.create("/mixed", Some("ünïcödé ✓".as_bytes()), &mixed, 0)?;
    b.create("/mixed/ünï", Some(b"u"), &mixed, 0)?;
    b.create("/deep", None, &open, 0)?;
    let mut p = String::from("/deep");
    for i in 0..40 {
        let _ = write!(p, "/d{i}");
        b.create(&p, Some(p.as_bytes()), &open, 0)?;
    }
    b.create("/zookeeper/quota/app", None, &open, 0)?;
    b.create(
        "/zookeeper/quota/app/zookeeper_limits",
        Some(b"count=100,bytes=-1"),
        &open,
        0,
    )?;
    b.create(
        "/zookeeper/quota/app/zookeeper_stats",
        Some(b"count=10,bytes=300000"),
        &open,
        0,
    )?;

    let z = b.next();
    b.tree
        .set_data("/app", Some(b"hello again".to_vec()), 1, z, b.now + 500)
        .map_err(|e| format!("setData: {e}"))?;
    let z = b.next();
    b.tree
        .delete_node("/app/gone", z)
        .map(|a| b.acls.remove_usage(a.0))
        .map_err(|e| format!("delete: {e}"))?;
    let _ = b.next(); // a setACL txn
    let new_acl = AclRef(b.acls.convert_acls(&mixed));
    let (_, old) = b
        .tree
        .set_acl("/app/seq-0000000006", new_acl, 1)
        .map_err(|e| format!("setACL: {e}"))?;
    b.acls.remove_usage(old.0);
    b.tree
        .check_invariants()
        .map_err(|e| format!("sample tree inconsistent: {e}"))?;
    Ok((b.tree, b.acls, b.zxid))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, compression) = match args.as_slice() {
        [d] => (d, SnapshotCompression::None),
        [d, c] => match c.as_str() {
            "none" => (d, SnapshotCompression::None),
            "gz" => (d, SnapshotCompression::Gzip),
            "snappy" => (d, SnapshotCompression::Snappy),
            _ => {
                eprintln!("compression must be none, gz or snappy");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: write_sample_snapshot <version-2 dir> [none|gz|snappy]");
            return ExitCode::from(2);
        }
    };
    let (tree, acls, zxid) = match build() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("write_sample_snapshot: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sessions = [(SESSION_A, 30_000), (SESSION_B, 40_000)];
    match write_snapshot_from(Path::new(dir), zxid, compression, &tree, &acls, sessions) {
        Ok(path) => {
            println!(
                "{{\"type\":\"written\",\"path\":\"{}\",\"zxid\":{zxid},\"tree_digest\":{}}}",
                path.display(),
                tree.digest()
            );
            for (id, timeout) in sessions {
                let pw: String = session_password(id).iter().fold(String::new(), |mut s, b| {
                    let _ = write!(s, "{b:02x}");
                    s
                });
                println!(
                    "{{\"type\":\"session\",\"id\":{id},\"timeout\":{timeout},\"password\":\"{pw}\"}}"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("write_sample_snapshot: {e}");
            ExitCode::FAILURE
        }
    }
}
