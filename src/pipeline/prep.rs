//! Prep: validate a write, check ACLs, assign its zxid and turn it into a txn.
//!
//! The order of checks mirrors ZooKeeper's `PrepRequestProcessor`, because
//! that order decides which error a client sees when several apply. A write
//! that fails here still consumes a zxid and is logged as an `ErrorTxn`, as
//! in ZooKeeper.

use jute::consts::{CreateMode, ErrorCode, OpCode, Perms};
use jute::data::{Id, ACL};
use jute::multi::MultiOp;
use jute::proto::CreateRequest;
use jute::txn::{
    CheckVersionTxn, CloseSessionTxn, CreateContainerTxn, CreateSessionTxn, CreateTTLTxn,
    CreateTxn, DeleteTxn, ErrorTxn, SetACLTxn, SetDataTxn,
};

use super::changes::{ChangeRecord, NodeDigest};
use super::core::Core;
use super::request::ClientOp;
use crate::session::{OwnerCheck, SessionId, SessionOwner};
use crate::tree::{self, DigestPrefix, EphemeralType, StatPersisted};
use crate::txn::TxnBody;

/// The client op a multi's sub-op stands for.
///
/// ZooKeeper rebuilds each create of a multi with `Op.create(..., flags)`,
/// whose op code comes from the flags, not from the wire: create2 becomes
/// create (its result then carries no stat), container flags make
/// createContainer, TTL flags createTTL. TTL flags on a plain create make
/// Java fail with a ClassCastException, which reaches the client as
/// MarshallingError for the whole multi.
fn multi_op_to_client_op(op: &MultiOp) -> ClientOp {
    let mode_of = |flags: i32| CreateMode::from_flag(flags).unwrap_or(CreateMode::Persistent);
    match op {
        MultiOp::Create(r) | MultiOp::Create2(r) | MultiOp::CreateContainer(r) => {
            let mode = mode_of(r.flags);
            let op = if mode.is_ttl() {
                return ClientOp::Malformed(OpCode::Multi as i32);
            } else if mode.is_container() {
                OpCode::CreateContainer
            } else {
                OpCode::Create
            };
            ClientOp::Create { op, req: r.clone() }
        }
        MultiOp::CreateTTL(r) => {
            // `Op.create(path, data, acl, flags, ttl)` keeps the TTL only
            // for TTL flags; otherwise it is an ordinary create.
            let mode = mode_of(r.flags);
            if mode.is_ttl() {
                return ClientOp::CreateTtl(r.clone());
            }
            let op = if mode.is_container() {
                OpCode::CreateContainer
            } else {
                OpCode::Create
            };
            let req = CreateRequest {
                path: r.path.clone(),
                data: r.data.clone(),
                acl: r.acl.clone(),
                flags: r.flags,
            };
            ClientOp::Create { op, req }
        }
        MultiOp::Delete(r) => ClientOp::Delete(r.clone()),
        MultiOp::SetData(r) => ClientOp::SetData(r.clone()),
        MultiOp::Check(r) => ClientOp::Check(r.clone()),
        // A read inside a write multi: ZooKeeper rejects the record.
        MultiOp::GetChildren(_) | MultiOp::GetData(_) => ClientOp::Malformed(OpCode::Multi as i32),
    }
}

/// Who a prepared request is for, as far as prep needs to know.
pub struct Requester<'a> {
    pub session: SessionId,
    pub auth: &'a [Id],
    /// The way the request came: a leader refuses one whose session is
    /// attached elsewhere.
    pub owner: SessionOwner,
}

type PrepResult<T> = Result<T, ErrorCode>;

/// How a change record moves the tree digest (ZooKeeper's `DigestOpCode`).
enum DigestChange<'a> {
    /// A new node holding this data.
    Add(Option<&'a [u8]>),
    /// The node's stat changed; its data too when `Some(new data)`.
    Update(Option<Option<&'a [u8]>>),
    /// The node is gone; the record carries the node's digest from before.
    Remove,
}

fn parent_of(path: &str) -> Option<&str> {
    let slash = path.rfind('/')?;
    if path.contains('\0') {
        return None;
    }
    Some(&path[..slash])
}

fn check_and_inc_version(current: i32, expected: i32) -> PrepResult<i32> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BadVersion);
    }
    Ok(current.wrapping_add(1))
}

impl Core {
    /// The record prep reasons with: the newest outstanding change, else the tree.
    pub(super) fn record_for(&self, path: &str) -> PrepResult<ChangeRecord> {
        if let Some(rec) = self.changes.get(path) {
            return match rec.stat {
                Some(_) => Ok(rec.clone()),
                None => Err(ErrorCode::NoNode),
            };
        }
        let id = self.db.tree.lookup(path).ok_or(ErrorCode::NoNode)?;
        let stat = self.db.tree.node_stat_persisted(id);
        // The node's digest is taken here, with the node at hand, rather
        // than by a second lookup when the change is recorded.
        let digest = self.digest_enabled().then(|| {
            let prefix = DigestPrefix::of(path, self.db.tree.node_data(id));
            NodeDigest {
                prefix,
                value: prefix.with_stat(&stat),
            }
        });
        Ok(ChangeRecord {
            zxid: -1,
            path: path.to_string(),
            stat: Some(stat),
            child_count: self.db.tree.num_children(id) as i32,
            acl: self.acl_list(self.db.tree.node_acl(id)),
            digest,
        })
    }

    /// Whether `path` exists as prep sees it (outstanding changes first).
    fn exists_for_prep(&self, path: &str) -> bool {
        match self.changes.get(path) {
            Some(rec) => rec.stat.is_some(),
            None => self.db.tree.lookup(path).is_some(),
        }
    }

    /// The tree digest once everything prepared so far is applied
    /// (`getCurrentTreeDigest`).
    pub(super) fn prepared_tree_digest(&self) -> i64 {
        self.changes
            .pending_tree_digest()
            .unwrap_or_else(|| self.db.tree.digest())
    }

    /// The node digest of `rec` before the change being prepared, as
    /// [`Self::record_for`] or an earlier change set it.
    fn digest_before(rec: &ChangeRecord) -> NodeDigest {
        rec.digest.unwrap_or(NodeDigest {
            prefix: DigestPrefix::of(&rec.path, None),
            value: 0,
        })
    }

    /// Queues a change record with its precalculated digest
    /// (`precalculateDigest` + `addChangeRecord`).
    fn record_change(&mut self, mut rec: ChangeRecord, change: DigestChange<'_>) {
        if !self.digest_enabled() {
            rec.digest = None;
            self.changes.add(rec, 0);
            return;
        }
        let stat = rec.stat.unwrap_or_default();
        let (before, after) = match change {
            DigestChange::Add(data) => {
                let prefix = DigestPrefix::of(&rec.path, data);
                let value = prefix.with_stat(&stat);
                (0, NodeDigest { prefix, value })
            }
            DigestChange::Update(new_data) => {
                let old = Self::digest_before(&rec);
                let prefix = match new_data {
                    Some(data) => DigestPrefix::of(&rec.path, data),
                    None => old.prefix,
                };
                let value = prefix.with_stat(&stat);
                (old.value, NodeDigest { prefix, value })
            }
            DigestChange::Remove => {
                let old = Self::digest_before(&rec);
                (
                    old.value,
                    NodeDigest {
                        prefix: old.prefix,
                        value: 0,
                    },
                )
            }
        };
        let tree_digest = self
            .prepared_tree_digest()
            .wrapping_sub(before)
            .wrapping_add(after.value);
        rec.digest = Some(after);
        self.changes.add(rec, tree_digest);
    }

    fn validate_path(path: &str) -> PrepResult<()> {
        tree::validate_path(path).map_err(|_| ErrorCode::BadArguments)
    }

    fn parent_for_delete(&self, path: &str) -> PrepResult<String> {
        if tree::DataTree::is_special_path(path) {
            return Err(ErrorCode::BadArguments);
        }
        parent_of(path)
            .map(str::to_string)
            .ok_or(ErrorCode::BadArguments)
    }

    /// `SessionTracker.checkSession`: the session is live and the request
    /// came from where its client is attached.
    fn check_session(&mut self, who: &Requester<'_>) -> PrepResult<()> {
        match self.sessions.check_owner(who.session, who.owner) {
            OwnerCheck::Ok => Ok(()),
            OwnerCheck::Gone => Err(ErrorCode::SessionExpired),
            OwnerCheck::Moved => Err(ErrorCode::SessionMoved),
        }
    }

    /// Turns one write into a txn body at `zxid`, adding its change records.
    /// `Err` means the caller logs an `ErrorTxn` with that code instead.
    ///
    /// A lone check (op 13 outside a multi) that passes becomes an `ErrorTxn`
    /// with code 0, answered as it was (OK, no body). ZooKeeper 3.8 logs a
    /// top-level check txn, which no log reader accepts — its own fails its
    /// next start with "Unsupported Txn with type=13", ours did the same, and
    /// every member of an ensemble stopped on the committed proposal — so one
    /// request of any client bricked the data directory.
    pub(super) fn prep_write(
        &mut self,
        op: &mut ClientOp,
        who: &Requester<'_>,
        zxid: i64,
        time: i64,
    ) -> PrepResult<TxnBody> {
        match self.prep_op(op, who, zxid, time)? {
            TxnBody::Check(_) => Ok(TxnBody::Error(ErrorTxn { err: 0 })),
            body => Ok(body),
        }
    }

    /// One write, alone or as an op of a multi (where a check stays a check).
    fn prep_op(
        &mut self,
        op: &mut ClientOp,
        who: &Requester<'_>,
        zxid: i64,
        time: i64,
    ) -> PrepResult<TxnBody> {
        // The request's data moves into the txn: a write's payload is copied
        // once, off the wire, and never again.
        match op {
            ClientOp::Create { op, req } => self.prep_create(*op, req, None, who, zxid, time),
            ClientOp::CreateTtl(req) => {
                let mut as_create = CreateRequest {
                    path: req.path.clone(),
                    data: req.data.take(),
                    acl: req.acl.clone(),
                    flags: req.flags,
                };
                let ttl = req.ttl;
                self.prep_create(
                    OpCode::CreateTTL,
                    &mut as_create,
                    Some(ttl),
                    who,
                    zxid,
                    time,
                )
            }
            ClientOp::Delete(req) => {
                self.check_session(who)?;
                let parent_path = self.parent_for_delete(&req.path)?;
                let parent = self.record_for(&parent_path)?;
                self.check_acl(&parent.acl, Perms::DELETE, who.auth)?;
                let node = self.record_for(&req.path)?;
                let stat = node.stat.as_ref().ok_or(ErrorCode::NoNode)?;
                check_and_inc_version(stat.version, req.version)?;
                if node.child_count > 0 {
                    return Err(ErrorCode::NotEmpty);
                }
                self.prep_remove(parent, node, zxid);
                Ok(TxnBody::Delete(DeleteTxn {
                    path: req.path.clone(),
                }))
            }
            ClientOp::SetData(req) => {
                self.check_session(who)?;
                Self::validate_path(&req.path)?;
                let mut node = self.record_for(&req.path)?;
                self.check_acl(&node.acl, Perms::WRITE, who.auth)?;
                let stat = node.stat.as_mut().ok_or(ErrorCode::NoNode)?;
                let version = check_and_inc_version(stat.version, req.version)?;
                stat.version = version;
                stat.mtime = time;
                stat.mzxid = zxid;
                node.zxid = zxid;
                self.record_change(node, DigestChange::Update(Some(req.data.as_deref())));
                Ok(TxnBody::SetData(SetDataTxn {
                    path: req.path.clone(),
                    data: req.data.take(),
                    version,
                }))
            }
            ClientOp::SetAcl(req) => {
                self.check_session(who)?;
                Self::validate_path(&req.path)?;
                let acl = self.fixup_acl(who.auth, &req.acl)?;
                let mut node = self.record_for(&req.path)?;
                self.check_acl(&node.acl, Perms::ADMIN, who.auth)?;
                let stat = node.stat.as_mut().ok_or(ErrorCode::NoNode)?;
                let version = check_and_inc_version(stat.aversion, req.version)?;
                stat.aversion = version;
                node.zxid = zxid;
                // Like ZooKeeper, the record keeps the old ACL: requests
                // prepared before this txn applies are checked against it.
                self.record_change(node, DigestChange::Update(None));
                Ok(TxnBody::SetAcl(SetACLTxn {
                    path: req.path.clone(),
                    acl,
                    version,
                }))
            }
            ClientOp::Check(req) => {
                self.check_session(who)?;
                Self::validate_path(&req.path)?;
                let node = self.record_for(&req.path)?;
                self.check_acl(&node.acl, Perms::READ, who.auth)?;
                let stat = node.stat.as_ref().ok_or(ErrorCode::NoNode)?;
                let version = check_and_inc_version(stat.version, req.version)?;
                Ok(TxnBody::Check(CheckVersionTxn {
                    path: req.path.clone(),
                    version,
                }))
            }
            ClientOp::Multi(multi) => self.prep_multi(&multi.ops, who, zxid, time),
            ClientOp::CloseSession => Ok(self.prep_close_session(who.session, zxid)),
            ClientOp::Malformed(_) => Err(ErrorCode::MarshallingError),
            _ => Err(ErrorCode::Unimplemented),
        }
    }

    /// The records of a delete (and a container's deletion): the parent
    /// loses a child and takes the zxid as pzxid; the node is gone.
    pub(super) fn prep_remove(&mut self, mut parent: ChangeRecord, node: ChangeRecord, zxid: i64) {
        parent.zxid = zxid;
        parent.child_count -= 1;
        if let Some(s) = parent.stat.as_mut() {
            s.pzxid = zxid;
        }
        self.record_change(parent, DigestChange::Update(None));
        self.record_change(
            ChangeRecord {
                zxid,
                path: node.path,
                stat: None,
                child_count: -1,
                acl: Vec::new(),
                digest: node.digest,
            },
            DigestChange::Remove,
        );
    }

    fn prep_create(
        &mut self,
        op: OpCode,
        req: &mut CreateRequest,
        ttl: Option<i64>,
        who: &Requester<'_>,
        zxid: i64,
        time: i64,
    ) -> PrepResult<TxnBody> {
        let ttl = ttl.unwrap_or(-1);
        let mode = CreateMode::from_flag(req.flags).ok_or(ErrorCode::BadArguments)?;
        // validateCreateRequest
        if mode.is_ttl() && !self.cfg.extended_types_enabled {
            return Err(ErrorCode::Unimplemented);
        }
        if mode.is_ttl() {
            if ttl <= 0 || ttl > tree::MAX_TTL {
                return Err(ErrorCode::BadArguments);
            }
        } else if ttl >= 0 {
            return Err(ErrorCode::BadArguments);
        }
        self.check_session(who)?;
        // validatePathForCreate
        let Some(slash) = req.path.rfind('/') else {
            return Err(ErrorCode::BadArguments);
        };
        if req.path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let parent_path = req.path[..slash].to_string();
        let acl = self.fixup_acl(who.auth, &req.acl)?;
        let mut parent = self.record_for(&parent_path)?;
        self.check_acl(&parent.acl, Perms::CREATE, who.auth)?;
        let parent_stat = parent.stat.ok_or(ErrorCode::NoNode)?;
        let mut path = req.path.clone();
        if mode.is_sequential() {
            path = tree::sequential_path(&path, parent_stat.cversion);
        }
        Self::validate_path(&path)?;
        if self.exists_for_prep(&path) {
            return Err(ErrorCode::NodeExists);
        }
        if EphemeralType::of(parent_stat.ephemeral_owner, self.ephemeral_types())
            == EphemeralType::Normal
        {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        let new_cversion = parent_stat.cversion.wrapping_add(1);
        let ephemeral_owner = if mode.is_container() {
            tree::CONTAINER_EPHEMERAL_OWNER
        } else if mode.is_ttl() {
            EphemeralType::ttl_owner(ttl).map_err(|_| ErrorCode::BadArguments)?
        } else if mode.is_ephemeral() {
            who.session
        } else {
            0
        };
        parent.zxid = zxid;
        parent.child_count += 1;
        if let Some(s) = parent.stat.as_mut() {
            s.cversion = new_cversion;
            s.pzxid = zxid;
        }
        self.record_change(parent, DigestChange::Update(None));
        self.record_change(
            ChangeRecord {
                zxid,
                path: path.clone(),
                stat: Some(StatPersisted::new_for_create(zxid, time, ephemeral_owner)),
                child_count: 0,
                acl: acl.clone(),
                digest: None,
            },
            DigestChange::Add(req.data.as_deref()),
        );
        let body = match op {
            OpCode::CreateContainer => TxnBody::CreateContainer(CreateContainerTxn {
                path,
                data: req.data.take(),
                acl,
                parent_c_version: new_cversion,
            }),
            OpCode::CreateTTL => TxnBody::CreateTtl(CreateTTLTxn {
                path,
                data: req.data.take(),
                acl,
                parent_c_version: new_cversion,
                ttl,
            }),
            _ => {
                let txn = CreateTxn {
                    path,
                    data: req.data.take(),
                    acl,
                    ephemeral: mode.is_ephemeral(),
                    parent_c_version: new_cversion,
                };
                if op == OpCode::Create2 {
                    TxnBody::Create2(txn)
                } else {
                    TxnBody::Create(txn)
                }
            }
        };
        Ok(body)
    }

    /// Prepares each op of a multi; on the first failure the records made so
    /// far are rolled back and the remaining ops become RuntimeInconsistency.
    fn prep_multi(
        &mut self,
        ops: &[MultiOp],
        who: &Requester<'_>,
        zxid: i64,
        time: i64,
    ) -> PrepResult<TxnBody> {
        let saved = self.changes.save(ops.iter().map(|op| op.path()));
        let mut failed = false;
        let mut subs = Vec::with_capacity(ops.len());
        for op in ops {
            if failed {
                subs.push(TxnBody::Error(ErrorTxn {
                    err: ErrorCode::RuntimeInconsistency as i32,
                }));
                continue;
            }
            let mut client_op = multi_op_to_client_op(op);
            if let ClientOp::Malformed(_) = client_op {
                self.changes.rollback(zxid, saved);
                return Err(ErrorCode::MarshallingError);
            }
            match self.prep_op(&mut client_op, who, zxid, time) {
                Ok(body) => subs.push(body),
                Err(code) => {
                    failed = true;
                    subs.push(TxnBody::Error(ErrorTxn { err: code as i32 }));
                    self.changes.rollback(zxid, saved.clone());
                }
            }
        }
        Ok(TxnBody::Multi(subs))
    }

    fn prep_close_session(&mut self, session: SessionId, zxid: i64) -> TxnBody {
        let mut paths: Vec<String> = self.db.tree.ephemerals(session);
        for rec in self.changes.records() {
            match &rec.stat {
                None => paths.retain(|p| p != &rec.path),
                Some(s) if s.ephemeral_owner == session => {
                    if !paths.contains(&rec.path) {
                        paths.push(rec.path.clone());
                    }
                }
                Some(_) => {}
            }
        }
        for p in &paths {
            // With digests on, ZooKeeper records each parent's new pzxid (its
            // child count stays as it was until the txn applies).
            if self.digest_enabled() {
                // The root is "" here, as everywhere prep keys records.
                if let Some(mut parent) = parent_of(p).and_then(|pp| self.record_for(pp).ok()) {
                    parent.zxid = zxid;
                    if let Some(s) = parent.stat.as_mut() {
                        s.pzxid = zxid;
                    }
                    self.record_change(parent, DigestChange::Update(None));
                }
            }
            let digest = self.record_for(p).ok().and_then(|r| r.digest);
            self.record_change(
                ChangeRecord {
                    zxid,
                    path: p.clone(),
                    stat: None,
                    child_count: 0,
                    acl: Vec::new(),
                    digest,
                },
                DigestChange::Remove,
            );
        }
        self.sessions.set_closing(session);
        TxnBody::CloseSession(CloseSessionTxn {
            paths2_delete: paths,
        })
    }

    /// Prepares the createSession txn for a new connection.
    pub(super) fn prep_create_session(
        &mut self,
        session: SessionId,
        timeout_ms: i32,
        owner: SessionOwner,
    ) -> TxnBody {
        let now = self.now_ms();
        self.sessions.add(session, timeout_ms, now);
        self.sessions.set_owner(session, owner);
        TxnBody::CreateSession(CreateSessionTxn {
            time_out: timeout_ms,
        })
    }

    /// `PrepRequestProcessor.fixupACL`.
    pub(super) fn fixup_acl(&self, auth: &[Id], acl: &[ACL]) -> PrepResult<Vec<ACL>> {
        self.cfg
            .auth
            .fixup_acl(auth, acl)
            .map_err(|_| ErrorCode::InvalidACL)
    }

    /// `ZooKeeperServer.checkACL`.
    pub(super) fn check_acl(&self, acl: &[ACL], perm: i32, auth: &[Id]) -> PrepResult<()> {
        self.cfg
            .auth
            .check_acl(acl, perm, auth)
            .map_err(|_| ErrorCode::NoAuth)
    }
}
