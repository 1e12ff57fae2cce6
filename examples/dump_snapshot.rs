//! Prints a ZooKeeper snapshot as JSON lines, verifying its checksums and digest.
//!
//! ```text
//! dump_snapshot <snapshot file | version-2 directory>
//! ```
//! With a directory, the newest snapshot that fully verifies is dumped (older ones are
//! tried when a newer one fails, as ZooKeeper does) and every file passed over is listed.
//!
//! Output, one JSON object per line: `file`, `rejected`*, `session`*, `acl`*, `node`*
//! (root first, path ""), `trailer` (checksum, digest), `load` (the snapshot loaded into
//! a FerroKeeper tree: node count and how the stored digest compares with the tree's).
//! Exit status 1, with the error on stderr, if anything fails to decode or verify.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ferrokeeper::acl::AclCache;
use ferrokeeper::persist::snapshot::{
    find_newest_valid, load_into, DigestCheck, SnapshotCompression, SnapshotReader,
};
use ferrokeeper::tree::{AclRef, DataTree, EphemeralTypes, TreeConfig};

fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn compression_name(c: SnapshotCompression) -> &'static str {
    match c {
        SnapshotCompression::None => "none",
        SnapshotCompression::Gzip => "gz",
        SnapshotCompression::Snappy => "snappy",
    }
}

fn run(arg: &Path) -> Result<(), String> {
    let file: PathBuf = if arg.is_dir() {
        let newest = find_newest_valid(arg, 100).map_err(|e| e.to_string())?;
        for r in &newest.rejected {
            println!(
                "{{\"type\":\"rejected\",\"path\":{},\"reason\":{}}}",
                json_str(&r.path.display().to_string()),
                json_str(&r.reason)
            );
        }
        match newest.snapshot {
            Some((f, _)) => f.path,
            None => return Err(format!("no valid snapshot in {}", arg.display())),
        }
    } else {
        arg.to_path_buf()
    };

    let mut r = SnapshotReader::open(&file).map_err(|e| e.to_string())?;
    let (version, dbid) = r.header();
    println!(
        "{{\"type\":\"file\",\"path\":{},\"zxid\":{},\"compression\":\"{}\",\"version\":{version},\"dbid\":{dbid}}}",
        json_str(&file.display().to_string()),
        r.zxid().map_or("null".to_string(), |z| z.to_string()),
        compression_name(r.compression()),
    );
    for (id, timeout) in r.sessions().map_err(|e| e.to_string())? {
        println!("{{\"type\":\"session\",\"id\":{id},\"timeout\":{timeout}}}");
    }
    for (id, acls) in r.acl_cache().map_err(|e| e.to_string())? {
        let list: Vec<String> = acls
            .iter()
            .map(|a| {
                format!(
                    "{{\"perms\":{},\"scheme\":{},\"id\":{}}}",
                    a.perms,
                    json_str(&a.id.scheme),
                    json_str(&a.id.id)
                )
            })
            .collect();
        println!(
            "{{\"type\":\"acl\",\"id\":{id},\"acls\":[{}]}}",
            list.join(",")
        );
    }
    for node in r.nodes() {
        let n = node.map_err(|e| e.to_string())?;
        let s = n.stat;
        println!(
            "{{\"type\":\"node\",\"path\":{},\"data\":{},\"acl\":{},\"czxid\":{},\"mzxid\":{},\
             \"ctime\":{},\"mtime\":{},\"version\":{},\"cversion\":{},\"aversion\":{},\
             \"ephemeralOwner\":{},\"pzxid\":{}}}",
            json_str(&n.path),
            n.data
                .as_deref()
                .map_or("null".to_string(), |d| format!("\"{}\"", hex(d))),
            n.acl,
            s.czxid,
            s.mzxid,
            s.ctime,
            s.mtime,
            s.version,
            s.cversion,
            s.aversion,
            s.ephemeral_owner,
            s.pzxid
        );
    }
    let t = r.verify_checksum_and_digest().map_err(|e| e.to_string())?;
    let digest = t.digest.map_or("null".to_string(), |d| {
        format!(
            "{{\"zxid\":{},\"version\":{},\"digest\":{}}}",
            d.zxid, d.digest_version, d.digest
        )
    });
    println!(
        "{{\"type\":\"trailer\",\"checksum\":{},\"digest\":{digest},\"digest_truncated\":{}}}",
        t.checksum, t.digest_truncated
    );

    // Load it as the server would (extended types on, so TTL owners classify as TTL).
    let config = TreeConfig {
        ephemeral_types: EphemeralTypes {
            extended_types_enabled: true,
            emulate_353_ttl: false,
        },
        digest_enabled: true,
    };
    let mut tree = DataTree::new(config, AclRef::FRESH_READ_ACL_UNSAFE);
    let mut acls = AclCache::new();
    let mut sessions: Vec<(i64, i32)> = Vec::new();
    let loaded =
        load_into(&file, &mut tree, &mut acls, &mut sessions).map_err(|e| e.to_string())?;
    tree.check_invariants()
        .map_err(|e| format!("loaded tree is inconsistent: {e}"))?;
    let check = match loaded.digest_check {
        DigestCheck::Mismatch { snapshot, tree } => {
            format!("\"Mismatch\",\"snapshot_digest\":{snapshot},\"tree_digest\":{tree}")
        }
        DigestCheck::Pending(d) => format!("\"Pending\",\"pending_zxid\":{}", d.zxid),
        other => json_str(&format!("{other:?}")),
    };
    println!(
        "{{\"type\":\"load\",\"nodes\":{},\"sessions\":{},\"tree_digest\":{},\"digest_check\":{check}}}",
        loaded.nodes,
        loaded.sessions,
        tree.digest()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [arg] = args.as_slice() else {
        eprintln!("usage: dump_snapshot <snapshot file | version-2 directory>");
        return ExitCode::from(2);
    };
    match run(Path::new(arg)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dump_snapshot: {e}");
            ExitCode::FAILURE
        }
    }
}
