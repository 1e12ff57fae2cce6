//! Snapshots to and from the in-memory structures: [`load_into`], [`load_newest_into`],
//! [`write_snapshot_from`].

use std::io::BufRead;
use std::path::{Path, PathBuf};

use super::error::{Result, SnapshotError, SnapshotErrorKind};
use super::reader::{SnapshotReader, SnapshotTrailer};
use super::scan::{find_valid_snapshots, Rejected};
use super::writer::SnapshotWriter;
use super::{SnapshotCompression, SnapshotDigest};
use crate::acl::AclCache;
use crate::tree::{AclRef, DataTree};

/// How the snapshot's zxid digest relates to the loaded tree (`FileSnap.deserialize`,
/// `DataTree.deserializeZxidDigest` / `compareSnapshotDigests`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestCheck {
    /// The tree has digests disabled; ZooKeeper then does not even read the section.
    Disabled,
    /// The snapshot has no digest section (or a cut-short one).
    Absent,
    /// The all-zero digest of a server that had processed nothing; ignored.
    Empty,
    /// Digest zxid below the snapshot's zxid (a new leader's epoch snapshot); ignored.
    Stale,
    /// Digest zxid equals the snapshot zxid and the loaded tree's digest equals it.
    Matched,
    /// Digest zxid equals the snapshot zxid but the digests differ. ZooKeeper logs this
    /// ("Digests are not matching") and counts it in a metric, but keeps going.
    Mismatch { snapshot: i64, tree: i64 },
    /// Written by another digest version; not comparable (ZooKeeper skips it too).
    OtherVersion(i32),
    /// Digest zxid above the snapshot zxid: the snapshot is fuzzy, and the digest must be
    /// compared once log replay has applied that zxid (ZooKeeper keeps it as
    /// `digestFromLoadedSnapshot` for exactly that).
    Pending(SnapshotDigest),
}

/// What [`load_into`] loaded.
#[derive(Debug, Clone)]
pub struct LoadedSnapshot {
    pub path: PathBuf,
    /// The zxid in the file name: replay the txn log from the next one.
    pub zxid: i64,
    pub nodes: u64,
    pub sessions: usize,
    pub trailer: SnapshotTrailer,
    pub digest_check: DigestCheck,
}

/// Loads one snapshot: the tree and the ACL cache are replaced by its contents and
/// `sessions` is extended by its session table — in that order, as
/// `SerializeUtils.deserializeSnapshot` / `DataTree.deserialize` do (ACL cache loaded,
/// one `add_usage` per node, `purge_unused` at the end), and the seals are verified.
///
/// On error the tree and ACL cache hold partial contents and must not be used; the
/// session collection is only extended once everything verified.
pub fn load_into(
    path: &Path,
    tree: &mut DataTree,
    acl_cache: &mut AclCache,
    sessions: &mut impl Extend<(i64, i32)>,
) -> Result<LoadedSnapshot> {
    let mut reader = SnapshotReader::open(path)?;
    let Some(zxid) = reader.zxid() else {
        return Err(SnapshotError::new(
            path,
            None,
            SnapshotErrorKind::Malformed {
                reading: "file name",
                detail: "not snapshot.<hex zxid>, so the snapshot's zxid is unknown".into(),
            },
        ));
    };
    let (table, nodes) = load_body(&mut reader, path, tree, acl_cache)?;
    let trailer = reader.verify_checksum_and_digest()?;

    let digest_check = if !tree.config().digest_enabled {
        DigestCheck::Disabled
    } else {
        match trailer.digest {
            None => DigestCheck::Absent,
            Some(d) if d.is_empty() => DigestCheck::Empty,
            Some(d) if d.zxid < zxid => DigestCheck::Stale,
            Some(d) if d.zxid > zxid => DigestCheck::Pending(d),
            Some(d) if d.digest_version != crate::tree::DIGEST_VERSION => {
                DigestCheck::OtherVersion(d.digest_version)
            }
            Some(d) if d.digest == tree.digest() => DigestCheck::Matched,
            Some(d) => DigestCheck::Mismatch {
                snapshot: d.digest,
                tree: tree.digest(),
            },
        }
    };
    let count = table.len();
    sessions.extend(table);
    Ok(LoadedSnapshot {
        path: path.to_path_buf(),
        zxid,
        nodes,
        sessions: count,
        trailer,
        digest_check,
    })
}

/// Reads sessions, ACL cache and nodes into `tree` and `acl_cache` (both
/// replaced), as `SerializeUtils.deserializeSnapshot` / `DataTree.deserialize`
/// do: ACL cache loaded, one `add_usage` per node, `purge_unused` at the end.
/// Returns the session table (for the caller to keep once the rest verifies)
/// and the node count.
pub(super) fn load_body<R: BufRead>(
    reader: &mut SnapshotReader<R>,
    path: &Path,
    tree: &mut DataTree,
    acl_cache: &mut AclCache,
) -> Result<(Vec<(i64, i32)>, u64)> {
    let table = reader.sessions()?;
    acl_cache.load(reader.acl_cache()?);
    tree.begin_snapshot_load();
    let mut nodes = 0u64;
    while let Some(node) = reader.next_node()? {
        tree.load_node(&node.path, node.data, AclRef(node.acl), &node.stat)
            .map_err(|e| {
                SnapshotError::new(
                    path,
                    None,
                    SnapshotErrorKind::Tree {
                        node: node.path.clone(),
                        detail: match e {
                            crate::tree::TreeError::NoNode => {
                                "its parent is not in the snapshot before it".to_string()
                            }
                            other => other.to_string(),
                        },
                    },
                )
            })?;
        acl_cache.add_usage(node.acl);
        nodes += 1;
    }
    tree.finish_snapshot_load();
    acl_cache.purge_unused();
    Ok((table, nodes))
}

/// `FileSnap.deserialize`: tries the 100 newest plausible snapshots in `dir` (the
/// `version-2` directory), newest first, until one loads and verifies.
///
/// * `Ok((None, rejected))`: no snapshot file passed the quick check; tree, cache and
///   sessions are untouched (a fresh server).
/// * `Ok((Some(loaded), rejected))`: `rejected` lists the newer files passed over.
/// * `Err`: there were candidates but none loaded (ZooKeeper: "Not able to find valid
///   snapshots in ..."), and the tree is in an unusable state. The error is the newest
///   candidate's; all reasons are in its message.
pub fn load_newest_into(
    dir: &Path,
    tree: &mut DataTree,
    acl_cache: &mut AclCache,
    sessions: &mut impl Extend<(i64, i32)>,
) -> Result<(Option<LoadedSnapshot>, Vec<Rejected>)> {
    let scan = find_valid_snapshots(dir, 100)?;
    let mut rejected = scan.rejected;
    if scan.candidates.is_empty() {
        return Ok((None, rejected));
    }
    let mut first_error = None;
    for file in scan.candidates {
        match load_into(&file.path, tree, acl_cache, sessions) {
            Ok(loaded) => return Ok((Some(loaded), rejected)),
            Err(e) => {
                rejected.push(Rejected {
                    path: file.path,
                    reason: e.to_string(),
                });
                first_error.get_or_insert(e);
            }
        }
    }
    let reasons: Vec<String> = rejected
        .iter()
        .map(|r| format!("{}: {}", r.path.display(), r.reason))
        .collect();
    Err(match first_error {
        Some(e) => SnapshotError::new(
            dir,
            None,
            SnapshotErrorKind::Malformed {
                reading: "snapshot directory",
                detail: format!(
                    "not able to find a valid snapshot (newest failure: {e}); all: {}",
                    reasons.join("; ")
                ),
            },
        ),
        None => SnapshotError::usage(dir, "no snapshot candidates"),
    })
}

/// Writes the whole tree at once (not fuzzy: nothing changes meanwhile), with the zxid
/// digest `(zxid, tree digest)` when the tree keeps digests. For tests, tools and
/// shutdown; the server's core drives [`SnapshotWriter`] itself.
pub fn write_snapshot_from(
    dir: &Path,
    zxid: i64,
    compression: SnapshotCompression,
    tree: &DataTree,
    acl_cache: &AclCache,
    sessions: impl IntoIterator<Item = (i64, i32)>,
) -> Result<PathBuf> {
    let mut w = SnapshotWriter::create(dir, zxid, compression)?;
    w.write_sessions(sessions)?;
    w.write_acl_cache(acl_cache.iter())?;
    super::write_tree_nodes(tree, |path, data, acl, stat| {
        w.write_node(path, data, acl, stat)
    })?;
    let digest = tree
        .config()
        .digest_enabled
        .then(|| SnapshotDigest::new(zxid, tree.digest()));
    w.finish(digest)
}
