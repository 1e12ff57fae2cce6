//! Applying a txn to the database.
//!
//! Mirrors `DataTree.processTxn`: the same result codes, the same Stat
//! transitions, the same watch triggers in the same order. It is the only
//! code that changes the tree, and it runs for live requests (final), log
//! replay ([`ZkDatabase::load`]) and, later, learner sync alike. What the
//! server around the database does about a change (write statistics, the
//! session tracker's expiry buckets) it learns through an [`ApplyObserver`].

use jute::consts::{ErrorCode, OpCode};
use jute::data::Stat;
use jute::txn::{TxnDigest, TxnHeader};

use super::ZkDatabase;
use crate::tree::{self, AclRef, TreeError};
use crate::txn::TxnBody;

/// What applying one (sub-)txn produced; `ProcessTxnResult` in ZooKeeper.
#[derive(Debug, Clone, Default)]
pub struct ApplyOutcome {
    /// The op code the result is reported under (`error` for failed subs).
    pub op: i32,
    pub err: i32,
    pub path: String,
    pub stat: Option<Stat>,
    pub multi: Vec<ApplyOutcome>,
}

/// A change that watches may care about, in trigger order.
#[derive(Debug, Clone)]
///
/// Each event carries the ACLs that filter its notifications (READ on the
/// node the notification names) as they were when the event fired, as
/// ZooKeeper's `DataTree` hands them to `triggerWatch` inside the apply: a
/// node created and deleted by the same multi is filtered by the ACL it was
/// created with, not by the absence of a node when the multi's events are
/// delivered. ACLs are only collected when any watch exists
/// ([`ApplyObserver::wants_event_acls`]); empty otherwise.
pub enum TreeEvent {
    /// Data watches on `path` see NodeCreated; child watches on `parent`
    /// see NodeChildrenChanged.
    Created {
        path: String,
        parent: String,
        acl: Vec<jute::data::ACL>,
        parent_acl: Vec<jute::data::ACL>,
    },
    /// Data and child watches on `path` see NodeDeleted (a watcher told via
    /// its data watch is not told again via its child watch); child watches
    /// on `parent` see NodeChildrenChanged.
    Deleted {
        path: String,
        parent: String,
        acl: Vec<jute::data::ACL>,
        parent_acl: Vec<jute::data::ACL>,
    },
    DataChanged {
        path: String,
        acl: Vec<jute::data::ACL>,
    },
}

pub fn to_wire_stat(s: tree::Stat) -> Stat {
    Stat {
        czxid: s.czxid,
        mzxid: s.mzxid,
        ctime: s.ctime,
        mtime: s.mtime,
        version: s.version,
        cversion: s.cversion,
        aversion: s.aversion,
        ephemeral_owner: s.ephemeral_owner,
        data_length: s.data_length,
        num_children: s.num_children,
        pzxid: s.pzxid,
    }
}

fn parent_path(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => path[..i].to_string(),
    }
}

fn tree_err(e: TreeError) -> i32 {
    match e {
        TreeError::NoNode => ErrorCode::NoNode as i32,
        TreeError::NodeExists => ErrorCode::NodeExists as i32,
        TreeError::NotEmpty => ErrorCode::NotEmpty as i32,
        #[allow(unreachable_patterns)]
        _ => ErrorCode::SystemError as i32,
    }
}

/// What the server around the database hears of an apply. Every method
/// defaults to doing nothing, which is what a database applied on its own
/// (tests, tools) wants.
pub trait ApplyObserver {
    /// Whether [`TreeEvent`]s should carry ACLs (they filter watch
    /// notifications; collecting them costs a copy, so only when a watch
    /// exists).
    fn wants_event_acls(&self) -> bool {
        false
    }
    /// A node at `path` was written with `bytes` of data (0 for a delete):
    /// ZooKeeper's `DataTree.updateWriteStat`, per-namespace write metrics.
    fn wrote(&mut self, _path: &str, _bytes: usize) {}
    /// A createSession txn was applied (or a snapshot carried the session).
    fn session_created(&mut self, _id: i64, _timeout_ms: i32) {}
    /// A closeSession txn was applied.
    fn session_closed(&mut self, _id: i64) {}
    /// A snapshot's digest disagreed with the tree it loaded
    /// (`digest_mismatches_count`).
    fn digest_mismatch(&mut self) {}
}

/// Hears nothing.
pub struct NoObserver;

impl ApplyObserver for NoObserver {}

impl ZkDatabase {
    /// The ACL list behind a node's reference (empty if the cache lost it,
    /// which would be a bug; empty means "no check" as in ZooKeeper).
    pub fn acl_list(&self, r: AclRef) -> Vec<jute::data::ACL> {
        self.acls
            .convert_long(r.0)
            .map(<[_]>::to_vec)
            .unwrap_or_default()
    }

    /// The ACL of the node at `path` now, for a [`TreeEvent`]; empty when
    /// nobody watches (or there is no such node).
    fn event_acl(&self, path: &str, obs: &dyn ApplyObserver) -> Vec<jute::data::ACL> {
        if !obs.wants_event_acls() {
            return Vec::new();
        }
        match self.tree.lookup(path) {
            Some(id) => self.acl_list(self.tree.node_acl(id)),
            None => Vec::new(),
        }
    }

    /// Applies one txn — the one way the database changes — and records
    /// the events it fires into `events`.
    pub fn apply(
        &mut self,
        header: &TxnHeader,
        body: &mut TxnBody,
        events: &mut Vec<TreeEvent>,
        obs: &mut dyn ApplyObserver,
    ) -> ApplyOutcome {
        let out = self.apply_body(header, body, events, obs);
        if header.zxid > self.last_processed_zxid {
            self.last_processed_zxid = header.zxid;
        }
        self.log_zxid_digest(header.zxid);
        out
    }

    /// `DataTree.compareDigest`: after a txn is applied, the tree's digest
    /// must be the one logged with it (prep's precalculation for live
    /// txns, the writer's for replayed ones). A mismatch means the trees of
    /// two servers — or prep and final of this one — disagree; like
    /// ZooKeeper it is counted (`digest_mismatches_count`) and reported, and
    /// the server goes on. Returns whether they disagreed.
    pub fn compare_digest(&mut self, header: &TxnHeader, digest: Option<&TxnDigest>) -> bool {
        let Some(d) = digest else {
            return false;
        };
        // A digest of another calculator version cannot be compared.
        if !self.tree.config().digest_enabled || d.version != tree::DIGEST_VERSION {
            return false;
        }
        let actual = self.tree.digest();
        if d.tree_digest != actual {
            if !self.digest_mismatch_seen {
                self.digest_mismatch_seen = true;
                tracing::error!(
                    zxid = format_args!("0x{:x}", header.zxid),
                    txn_type = header.type_,
                    logged = d.tree_digest,
                    actual,
                    "first digest mismatch: the tree after this txn differs from the digest \
                     logged with it"
                );
            } else {
                tracing::warn!(
                    zxid = format_args!("0x{:x}", header.zxid),
                    "digest mismatch"
                );
            }
            return true;
        }
        false
    }

    /// `DataTree.logZxidDigest`: every 128th zxid's tree digest is kept, the
    /// last 1024 of them, for `hash`.
    fn log_zxid_digest(&mut self, zxid: i64) {
        const DIGEST_LOG_INTERVAL: i64 = 128;
        const DIGEST_LOG_LIMIT: usize = 1024;
        if zxid % DIGEST_LOG_INTERVAL == 0 {
            self.digest_log.push_back((zxid, self.tree.digest()));
            if self.digest_log.len() > DIGEST_LOG_LIMIT {
                self.digest_log.pop_front();
            }
        }
    }

    /// Data payloads move out of `body` into the tree (they are not needed
    /// after the txn is logged), so a write's data is never copied here.
    fn apply_body(
        &mut self,
        header: &TxnHeader,
        body: &mut TxnBody,
        events: &mut Vec<TreeEvent>,
        obs: &mut dyn ApplyObserver,
    ) -> ApplyOutcome {
        let mut rc = ApplyOutcome {
            op: body.op_code() as i32,
            ..Default::default()
        };
        let zxid = header.zxid;
        let time = header.time;
        match body {
            TxnBody::Create(t) | TxnBody::Create2(t) => {
                let owner = if t.ephemeral { header.client_id } else { 0 };
                self.apply_create(
                    &mut rc,
                    &t.path,
                    t.data.take(),
                    &t.acl,
                    owner,
                    t.parent_c_version,
                    zxid,
                    time,
                    events,
                    obs,
                );
            }
            TxnBody::CreateContainer(t) => {
                self.apply_create(
                    &mut rc,
                    &t.path,
                    t.data.take(),
                    &t.acl,
                    tree::CONTAINER_EPHEMERAL_OWNER,
                    t.parent_c_version,
                    zxid,
                    time,
                    events,
                    obs,
                );
            }
            TxnBody::CreateTtl(t) => {
                // A TTL the log carries was validated when prepared.
                let owner = tree::EphemeralType::ttl_owner(t.ttl).unwrap_or(0);
                self.apply_create(
                    &mut rc,
                    &t.path,
                    t.data.take(),
                    &t.acl,
                    owner,
                    t.parent_c_version,
                    zxid,
                    time,
                    events,
                    obs,
                );
            }
            TxnBody::Delete(t) | TxnBody::DeleteContainer(t) => {
                rc.path = t.path.clone();
                if let Err(e) = self.apply_delete(&t.path, zxid, events, obs) {
                    rc.err = tree_err(e);
                }
            }
            TxnBody::SetData(t) => {
                rc.path = t.path.clone();
                match self
                    .tree
                    .set_data(&t.path, t.data.take(), t.version, zxid, time)
                {
                    Ok(stat) => {
                        let len = t.data.as_ref().map_or(0, Vec::len);
                        obs.wrote(&t.path, len);
                        rc.stat = Some(to_wire_stat(stat));
                        let acl = self.event_acl(&t.path, obs);
                        events.push(TreeEvent::DataChanged {
                            path: t.path.clone(),
                            acl,
                        });
                    }
                    Err(e) => rc.err = tree_err(e),
                }
            }
            TxnBody::SetAcl(t) => {
                rc.path = t.path.clone();
                let new = self.acls.convert_acls(&t.acl);
                match self.tree.set_acl(&t.path, AclRef(new), t.version) {
                    Ok((stat, old)) => {
                        self.acls.remove_usage(old.0);
                        rc.stat = Some(to_wire_stat(stat));
                    }
                    Err(e) => {
                        self.acls.remove_usage(new);
                        rc.err = tree_err(e);
                    }
                }
            }
            TxnBody::Check(t) => {
                rc.path = t.path.clone();
            }
            TxnBody::CreateSession(t) => {
                self.sessions.insert(header.client_id, t.time_out);
                obs.session_created(header.client_id, t.time_out);
            }
            TxnBody::CloseSession(_) => {
                let paths = match body {
                    TxnBody::CloseSession(t) => Some(t.paths2_delete.as_slice()),
                    _ => None,
                };
                let removed = self.tree.kill_session(header.client_id, zxid, paths);
                let watching = obs.wants_event_acls();
                for r in removed {
                    obs.wrote(&r.path, 0);
                    let acl = if watching {
                        self.acl_list(r.acl)
                    } else {
                        Vec::new()
                    };
                    self.acls.remove_usage(r.acl.0);
                    let parent = parent_path(&r.path);
                    let parent_acl = self.event_acl(&parent, obs);
                    events.push(TreeEvent::Deleted {
                        path: r.path,
                        parent,
                        acl,
                        parent_acl,
                    });
                }
                self.sessions.remove(&header.client_id);
                obs.session_closed(header.client_id);
            }
            TxnBody::Error(t) => {
                rc.err = t.err;
            }
            TxnBody::Multi(subs) => {
                let failed = subs.iter().any(|s| matches!(s, TxnBody::Error(_)));
                let mut post_failed = false;
                for sub in subs.iter_mut() {
                    let mut effective;
                    let sub_body = if let TxnBody::Error(_) = sub {
                        post_failed = true;
                        sub
                    } else if failed {
                        let ec = if post_failed {
                            ErrorCode::RuntimeInconsistency as i32
                        } else {
                            0
                        };
                        effective = TxnBody::Error(jute::txn::ErrorTxn { err: ec });
                        &mut effective
                    } else {
                        sub
                    };
                    let sub_header = TxnHeader {
                        type_: sub_body.op_code() as i32,
                        ..header.clone()
                    };
                    let sub_rc = self.apply_body(&sub_header, sub_body, events, obs);
                    if sub_rc.err != 0 && rc.err == 0 {
                        rc.err = sub_rc.err;
                    }
                    rc.multi.push(sub_rc);
                }
            }
        }
        if rc.op == OpCode::Create as i32 && rc.err == ErrorCode::NodeExists as i32 {
            // Replaying a fuzzy snapshot can meet a node the snapshot already
            // has; ZooKeeper then still moves the parent's cversion/pzxid.
            if let TxnBody::Create(t) = body {
                let _ =
                    self.tree
                        .set_cversion_pzxid(&parent_path(&t.path), t.parent_c_version, zxid);
            }
        }
        rc
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_create(
        &mut self,
        rc: &mut ApplyOutcome,
        path: &str,
        data: Option<Vec<u8>>,
        acl: &[jute::data::ACL],
        owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<TreeEvent>,
        obs: &mut dyn ApplyObserver,
    ) {
        rc.path = path.to_string();
        let acl_ref = self.acls.convert_acls(acl);
        let data_len = data.as_ref().map_or(0, Vec::len);
        match self.tree.create_node(
            path,
            data,
            AclRef(acl_ref),
            owner,
            parent_cversion,
            zxid,
            time,
        ) {
            Ok(id) => {
                obs.wrote(path, data_len);
                rc.stat = Some(to_wire_stat(self.tree.node_stat(id)));
                let parent = parent_path(path);
                let (acl, parent_acl) = if obs.wants_event_acls() {
                    (acl.to_vec(), self.event_acl(&parent, obs))
                } else {
                    (Vec::new(), Vec::new())
                };
                events.push(TreeEvent::Created {
                    path: path.to_string(),
                    parent,
                    acl,
                    parent_acl,
                });
            }
            Err(e) => {
                self.acls.remove_usage(acl_ref);
                rc.err = tree_err(e);
            }
        }
    }

    fn apply_delete(
        &mut self,
        path: &str,
        zxid: i64,
        events: &mut Vec<TreeEvent>,
        obs: &mut dyn ApplyObserver,
    ) -> Result<(), TreeError> {
        let acl_ref = self.tree.delete_node(path, zxid)?;
        obs.wrote(path, 0);
        let acl = if obs.wants_event_acls() {
            self.acl_list(acl_ref)
        } else {
            Vec::new()
        };
        self.acls.remove_usage(acl_ref.0);
        let parent = parent_path(path);
        let parent_acl = self.event_acl(&parent, obs);
        events.push(TreeEvent::Deleted {
            path: path.to_string(),
            parent,
            acl,
            parent_acl,
        });
        Ok(())
    }
}
