//! A snapshot as text: readable, as ZooKeeper's `SnapshotFormatter`
//! (`zkSnapShotToolkit.sh`) prints it ([`dump_readable`]), or as JSON lines
//! for the interop tests ([`dump_json`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use jute::data::ACL;

use super::{format_time_ms, hex016, java_hex, perms_string, DumpError};
use crate::acl::AclCache;
use crate::persist::snapshot::{
    find_newest_valid, load_into, DigestCheck, SnapshotCompression, SnapshotReader,
};
use crate::tree::{AclRef, DataTree, EphemeralTypes, TreeConfig};

fn data_err(e: impl std::fmt::Display) -> DumpError {
    DumpError::Data(e.to_string())
}

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

fn hex_bytes(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The name `zookeeper.snapshot.compression.method` gives a compression.
pub fn compression_name(c: SnapshotCompression) -> &'static str {
    match c {
        SnapshotCompression::None => "none",
        SnapshotCompression::Gzip => "gz",
        SnapshotCompression::Snappy => "snappy",
    }
}

/// The tree configuration the tools load snapshots with: digests on,
/// extended types on (so TTL owners classify as TTL).
pub fn tools_tree_config() -> TreeConfig {
    TreeConfig {
        ephemeral_types: EphemeralTypes {
            extended_types_enabled: true,
            emulate_353_ttl: false,
        },
        digest_enabled: true,
    }
}

/// The snapshot a command-line argument means: the file itself, or for a
/// directory (a `version-2` directory or one holding it) the newest one that
/// fully verifies (`None` if none does), with the newer files passed over
/// and why.
struct Picked {
    file: Option<PathBuf>,
    rejected: Vec<(PathBuf, String)>,
    dir: PathBuf,
}

fn pick(arg: &Path) -> Result<Picked, DumpError> {
    if !arg.is_dir() {
        return Ok(Picked {
            file: Some(arg.to_path_buf()),
            rejected: Vec::new(),
            dir: arg.to_path_buf(),
        });
    }
    let dir = super::resolve_version2(arg);
    let newest = find_newest_valid(&dir, 100).map_err(data_err)?;
    Ok(Picked {
        file: newest.snapshot.map(|(f, _)| f.path),
        rejected: newest
            .rejected
            .into_iter()
            .map(|r| (r.path, r.reason))
            .collect(),
        dir,
    })
}

/// The snapshot as JSON lines (what the `dump_snapshot` example prints, for
/// the interop tests): `file`, `rejected`*, `session`*, `acl`*, `node`* (root
/// first, path ""), `trailer` (checksum, digest), `load` (the snapshot
/// loaded into a tree: node count and how the stored digest compares).
pub fn dump_json(arg: &Path, out: &mut impl Write) -> Result<(), DumpError> {
    let picked = pick(arg)?;
    for (path, reason) in &picked.rejected {
        write_rejected(out, path, reason)?;
    }
    let Some(file) = picked.file else {
        return Err(DumpError::Data(format!(
            "no valid snapshot in {}",
            picked.dir.display()
        )));
    };

    let mut r = SnapshotReader::open(&file).map_err(data_err)?;
    let (version, dbid) = r.header();
    writeln!(
        out,
        "{{\"type\":\"file\",\"path\":{},\"zxid\":{},\"compression\":\"{}\",\"version\":{version},\"dbid\":{dbid}}}",
        json_str(&file.display().to_string()),
        r.zxid().map_or("null".to_string(), |z| z.to_string()),
        compression_name(r.compression()),
    )?;
    for (id, timeout) in r.sessions().map_err(data_err)? {
        writeln!(
            out,
            "{{\"type\":\"session\",\"id\":{id},\"timeout\":{timeout}}}"
        )?;
    }
    for (id, acls) in r.acl_cache().map_err(data_err)? {
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
        writeln!(
            out,
            "{{\"type\":\"acl\",\"id\":{id},\"acls\":[{}]}}",
            list.join(",")
        )?;
    }
    for node in r.nodes() {
        let n = node.map_err(data_err)?;
        let s = n.stat;
        writeln!(
            out,
            "{{\"type\":\"node\",\"path\":{},\"data\":{},\"acl\":{},\"czxid\":{},\"mzxid\":{},\
             \"ctime\":{},\"mtime\":{},\"version\":{},\"cversion\":{},\"aversion\":{},\
             \"ephemeralOwner\":{},\"pzxid\":{}}}",
            json_str(&n.path),
            n.data
                .as_deref()
                .map_or("null".to_string(), |d| format!("\"{}\"", hex_bytes(d))),
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
        )?;
    }
    let t = r.verify_checksum_and_digest().map_err(data_err)?;
    let digest = t.digest.map_or("null".to_string(), |d| {
        format!(
            "{{\"zxid\":{},\"version\":{},\"digest\":{}}}",
            d.zxid, d.digest_version, d.digest
        )
    });
    writeln!(
        out,
        "{{\"type\":\"trailer\",\"checksum\":{},\"digest\":{digest},\"digest_truncated\":{}}}",
        t.checksum, t.digest_truncated
    )?;

    let mut tree = DataTree::new(tools_tree_config(), AclRef::FRESH_READ_ACL_UNSAFE);
    let mut acls = AclCache::new();
    let mut sessions: Vec<(i64, i32)> = Vec::new();
    let loaded = load_into(&file, &mut tree, &mut acls, &mut sessions).map_err(data_err)?;
    tree.check_invariants()
        .map_err(|e| DumpError::Data(format!("loaded tree is inconsistent: {e}")))?;
    let check = match loaded.digest_check {
        DigestCheck::Mismatch { snapshot, tree } => {
            format!("\"Mismatch\",\"snapshot_digest\":{snapshot},\"tree_digest\":{tree}")
        }
        DigestCheck::Pending(d) => format!("\"Pending\",\"pending_zxid\":{}", d.zxid),
        other => json_str(&format!("{other:?}")),
    };
    writeln!(
        out,
        "{{\"type\":\"load\",\"nodes\":{},\"sessions\":{},\"tree_digest\":{},\"digest_check\":{check}}}",
        loaded.nodes,
        loaded.sessions,
        tree.digest()
    )?;
    Ok(())
}

fn write_rejected(out: &mut impl Write, path: &Path, reason: &str) -> Result<(), DumpError> {
    writeln!(
        out,
        "{{\"type\":\"rejected\",\"path\":{},\"reason\":{}}}",
        json_str(&path.display().to_string()),
        json_str(reason)
    )?;
    Ok(())
}

/// An ACL list as `[scheme:id:cdrwa, ...]`.
pub fn format_acl_list(acls: &[ACL]) -> String {
    let parts: Vec<String> = acls
        .iter()
        .map(|a| format!("{}:{}:{}", a.id.scheme, a.id.id, perms_string(a.perms)))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// `ferrokeeper snapshot-dump`: a snapshot file (or the newest valid one in a
/// directory) in file order, as `SnapshotFormatter` prints it — the header,
/// the sessions, the ACL cache, then every node with its stat (and, with
/// `with_data`, its data in base64; otherwise its length), then the seals
/// and the zxid digest, verified. Anything that does not decode or verify
/// ends the dump with an error naming the file and the offset.
pub fn dump_readable(arg: &Path, with_data: bool, out: &mut impl Write) -> Result<(), DumpError> {
    let picked = pick(arg)?;
    for (path, reason) in &picked.rejected {
        writeln!(out, "passed over {}: {reason}", path.display())?;
    }
    let Some(file) = picked.file else {
        return Err(DumpError::Data(format!(
            "no valid snapshot in {}",
            picked.dir.display()
        )));
    };
    let mut r = SnapshotReader::open(&file).map_err(data_err)?;
    let (version, dbid) = r.header();
    writeln!(out, "Snapshot {}", file.display())?;
    writeln!(
        out,
        "  zxid = {}",
        r.zxid()
            .map_or("(not in the file name)".to_string(), |z| format!(
                "0x{}",
                java_hex(z)
            ))
    )?;
    writeln!(out, "  compression = {}", compression_name(r.compression()))?;
    writeln!(
        out,
        "  header: magic = ZKSN, version = {version}, dbid = {dbid}"
    )?;

    let sessions = r.sessions().map_err(data_err)?;
    writeln!(
        out,
        "Session Details (sid, timeout) (count={}):",
        sessions.len()
    )?;
    for (id, timeout) in &sessions {
        writeln!(out, "{}, {timeout}", hex016(*id))?;
    }

    let cache = r.acl_cache().map_err(data_err)?;
    writeln!(out, "ACL cache (id = acls) (count={}):", cache.len())?;
    for (id, acls) in &cache {
        writeln!(out, "  {id} = {}", format_acl_list(acls))?;
    }
    let lists: HashMap<i64, &[ACL]> = cache.iter().map(|(id, l)| (*id, l.as_slice())).collect();

    writeln!(out, "ZNode Details:")?;
    let mut count = 0u64;
    let mut max_mzxid = i64::MIN;
    let mut ephemerals: HashMap<i64, u64> = HashMap::new();
    for node in r.nodes() {
        let n = node.map_err(data_err)?;
        let s = &n.stat;
        count += 1;
        max_mzxid = max_mzxid.max(s.mzxid);
        if s.ephemeral_owner != 0 {
            *ephemerals.entry(s.ephemeral_owner).or_default() += 1;
        }
        writeln!(out, "----")?;
        writeln!(out, "{}", if n.path.is_empty() { "/" } else { &n.path })?;
        writeln!(out, "  cZxid = {}", hex016(s.czxid))?;
        writeln!(out, "  ctime = {}", format_time_ms(s.ctime))?;
        writeln!(out, "  mZxid = {}", hex016(s.mzxid))?;
        writeln!(out, "  mtime = {}", format_time_ms(s.mtime))?;
        writeln!(out, "  pZxid = {}", hex016(s.pzxid))?;
        writeln!(out, "  cversion = {}", s.cversion)?;
        writeln!(out, "  dataVersion = {}", s.version)?;
        writeln!(out, "  aclVersion = {}", s.aversion)?;
        writeln!(out, "  ephemeralOwner = {}", hex016(s.ephemeral_owner))?;
        let acl = if n.acl == AclRef::OPEN_ACL_UNSAFE.0 {
            "world:anyone:cdrwa (OPEN_ACL_UNSAFE)".to_string()
        } else {
            match lists.get(&n.acl) {
                Some(l) => format_acl_list(l),
                None => "NOT IN THE ACL CACHE".to_string(),
            }
        };
        writeln!(out, "  acl = {} {acl}", n.acl)?;
        match &n.data {
            None => writeln!(out, "  dataLength = 0 (null)")?,
            Some(d) => writeln!(out, "  dataLength = {}", d.len())?,
        }
        if with_data {
            let b64 = n
                .data
                .as_deref()
                .map(|d| base64::engine::general_purpose::STANDARD.encode(d))
                .unwrap_or_default();
            writeln!(out, "  data = {b64}")?;
        }
    }
    writeln!(out, "----")?;
    writeln!(out, "ZNode count = {count}")?;
    if !ephemerals.is_empty() {
        let mut owners: Vec<(i64, u64)> = ephemerals.into_iter().collect();
        owners.sort_unstable();
        writeln!(
            out,
            "Nodes per ephemeralOwner (sessions; containers and TTL nodes have special owners):"
        )?;
        for (owner, n) in owners {
            writeln!(out, "{}, {n}", hex016(owner))?;
        }
    }

    let t = r.verify_checksum_and_digest().map_err(data_err)?;
    writeln!(
        out,
        "Checksum: Adler-32 0x{:08x} in seal 1 matches the contents",
        t.checksum
    )?;
    match t.digest {
        Some(d) => writeln!(
            out,
            "Target zxid digest: zxid 0x{}, version {}, digest {} (seal 2 matches)",
            java_hex(d.zxid),
            d.digest_version,
            d.digest
        )?,
        None if t.digest_truncated => writeln!(
            out,
            "Target zxid digest: cut short (read as none, as ZooKeeper does)"
        )?,
        None => writeln!(out, "Target zxid digest: none")?,
    }
    writeln!(out, "----")?;
    let last = last_zxid(&file, max_mzxid);
    writeln!(out, "Last zxid: 0x{}", java_hex(last))?;
    Ok(())
}

/// `SnapshotFormatter`'s "Last zxid": the larger of the name's zxid and the
/// highest mzxid in the tree.
fn last_zxid(file: &Path, max_mzxid: i64) -> i64 {
    let name_zxid = file
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(crate::persist::snapshot::zxid_from_name)
        .unwrap_or(-1);
    name_zxid.max(max_mzxid)
}
