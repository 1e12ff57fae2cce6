//! Final, part three: requests that read the tree or manage watches.
//! They run at their place in the FIFO, against the tree as every earlier
//! request left it.

use jute::consts::{ErrorCode, Perms};
use jute::data::{ClientInfo, Id, ACL};
use jute::multi::{MultiOp, OpResult};
use jute::proto::{
    ErrorResponse, ExistsResponse, GetACLResponse, GetAllChildrenNumberResponse,
    GetChildren2Response, GetChildrenResponse, GetDataResponse, GetEphemeralsResponse,
    SyncResponse, WhoAmIResponse,
};

use super::core::{ConnId, Core};
use super::request::ClientOp;
use crate::database::to_wire_stat;
use crate::net::outbox::ErasedRecord;
use crate::watch::{AddWatchMode, SetWatchesLists, WatcherId, WatcherType};

/// xid ZooKeeper uses for ping replies.
const PING_XID: i32 = -2;

type ReadResult = Result<Option<Box<dyn ErasedRecord>>, ErrorCode>;

impl Core {
    pub(super) fn answer_read(&mut self, conn: ConnId, xid: i32, op: ClientOp) {
        if matches!(op, ClientOp::Ping) {
            let zxid = self.db.last_processed_zxid;
            self.send(conn, PING_XID, zxid, 0, None);
            return;
        }
        let result = self.execute_read(conn, op);
        let zxid = self.db.last_processed_zxid;
        match result {
            Ok(body) => self.send(conn, xid, zxid, 0, body.as_deref()),
            Err(e) => self.send(conn, xid, zxid, e as i32, None),
        }
    }

    fn auth_of(&self, conn: ConnId) -> Vec<Id> {
        self.conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default()
    }

    fn node_acl_list(&self, id: crate::tree::NodeId) -> Vec<ACL> {
        self.acl_list(self.db.tree.node_acl(id))
    }

    fn read_check(
        &self,
        conn: ConnId,
        id: crate::tree::NodeId,
        perm: i32,
    ) -> Result<(), ErrorCode> {
        // Borrowed, not copied: this runs for every read.
        let acl = self
            .db
            .acls
            .convert_long(self.db.tree.node_acl(id).0)
            .unwrap_or(&[]);
        let auth = self.conns.get(&conn).map_or(&[][..], |c| c.auth.as_slice());
        self.check_acl(acl, perm, auth)
    }

    fn get_data(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
    ) -> Result<GetDataResponse, ErrorCode> {
        let id = self.db.tree.lookup(path).ok_or(ErrorCode::NoNode)?;
        self.read_check(conn, id, Perms::READ)?;
        if watch {
            self.watches.add_data_watch(path, WatcherId(conn));
        }
        let data = self.db.tree.node_data(id).map(<[u8]>::to_vec);
        self.metrics
            .read_stat(path, data.as_ref().map_or(0, Vec::len));
        Ok(GetDataResponse {
            data,
            stat: to_wire_stat(self.db.tree.node_stat(id)),
        })
    }

    fn get_children(
        &mut self,
        conn: ConnId,
        path: &str,
        watch: bool,
    ) -> Result<(Vec<String>, crate::tree::NodeId), ErrorCode> {
        let id = self.db.tree.lookup(path).ok_or(ErrorCode::NoNode)?;
        self.read_check(conn, id, Perms::READ)?;
        if watch {
            self.watches.add_child_watch(path, WatcherId(conn));
        }
        let children: Vec<String> = self.db.tree.child_names(id).map(str::to_string).collect();
        let bytes = children
            .iter()
            .map(|c| crate::tree::path::java_length(c))
            .sum();
        self.metrics.read_stat(path, bytes);
        Ok((children, id))
    }

    fn execute_read(&mut self, conn: ConnId, op: ClientOp) -> ReadResult {
        match op {
            ClientOp::Exists(req) => {
                if req.path.contains('\0') {
                    return Err(ErrorCode::BadArguments);
                }
                // ZooKeeper 3.8.0 checks no ACL on exists ("TODO we need to
                // figure out the security requirement for this!").
                let id = self.db.tree.lookup(&req.path);
                if req.watch {
                    self.watches.add_data_watch(&req.path, WatcherId(conn));
                }
                let id = id.ok_or(ErrorCode::NoNode)?;
                self.metrics.read_stat(&req.path, 0);
                Ok(Some(Box::new(ExistsResponse {
                    stat: to_wire_stat(self.db.tree.node_stat(id)),
                })))
            }
            ClientOp::GetData(req) => {
                Ok(Some(Box::new(self.get_data(conn, &req.path, req.watch)?)))
            }
            ClientOp::GetChildren(req) => {
                let (children, _) = self.get_children(conn, &req.path, req.watch)?;
                Ok(Some(Box::new(GetChildrenResponse { children })))
            }
            ClientOp::GetChildren2(req) => {
                let (children, id) = self.get_children(conn, &req.path, req.watch)?;
                Ok(Some(Box::new(GetChildren2Response {
                    children,
                    stat: to_wire_stat(self.db.tree.node_stat(id)),
                })))
            }
            ClientOp::GetAllChildrenNumber(req) => {
                let id = self.db.tree.lookup(&req.path).ok_or(ErrorCode::NoNode)?;
                self.read_check(conn, id, Perms::READ)?;
                Ok(Some(Box::new(GetAllChildrenNumberResponse {
                    total_number: self.db.tree.get_all_children_number(&req.path),
                })))
            }
            ClientOp::GetAcl(req) => {
                let id = self.db.tree.lookup(&req.path).ok_or(ErrorCode::NoNode)?;
                self.read_check(conn, id, Perms::READ | Perms::ADMIN)?;
                let mut acl = self.node_acl_list(id);
                if self.read_check(conn, id, Perms::ADMIN).is_err() {
                    // Without ADMIN, digest hashes are hidden (ZOOKEEPER-1392).
                    for a in &mut acl {
                        if a.id.scheme == "digest" {
                            if let Some(colon) = a.id.id.find(':') {
                                a.id.id.truncate(colon);
                                a.id.id.push_str(":x");
                            }
                        }
                    }
                }
                Ok(Some(Box::new(GetACLResponse {
                    acl,
                    stat: to_wire_stat(self.db.tree.node_stat(id)),
                })))
            }
            ClientOp::Sync(req) => Ok(Some(Box::new(SyncResponse { path: req.path }))),
            ClientOp::SetWatches(req) => {
                self.set_watches(
                    conn,
                    req.relative_zxid,
                    &req.data_watches,
                    &req.exist_watches,
                    &req.child_watches,
                    &[],
                    &[],
                );
                Ok(None)
            }
            ClientOp::SetWatches2(req) => {
                self.set_watches(
                    conn,
                    req.relative_zxid,
                    &req.data_watches,
                    &req.exist_watches,
                    &req.child_watches,
                    &req.persistent_watches,
                    &req.persistent_recursive_watches,
                );
                Ok(None)
            }
            ClientOp::AddWatch(req) => {
                let mode = AddWatchMode::from_i32(req.mode).ok_or(ErrorCode::BadArguments)?;
                self.watches.add_watch(&req.path, WatcherId(conn), mode);
                Ok(Some(Box::new(ErrorResponse { err: 0 })))
            }
            ClientOp::CheckWatches(req) => {
                let ty = WatcherType::from_i32(req.type_, self.watches.semantics())
                    .ok_or(ErrorCode::BadArguments)?;
                if self.watches.contains_watch(&req.path, ty, WatcherId(conn)) {
                    Ok(None)
                } else {
                    Err(ErrorCode::NoWatcher)
                }
            }
            ClientOp::RemoveWatches(req) => {
                let ty = WatcherType::from_i32(req.type_, self.watches.semantics())
                    .ok_or(ErrorCode::BadArguments)?;
                if self.watches.remove_watch(&req.path, ty, WatcherId(conn)) {
                    Ok(None)
                } else {
                    Err(ErrorCode::NoWatcher)
                }
            }
            ClientOp::WhoAmI => {
                let client_info = self
                    .cfg
                    .auth
                    .client_info(&self.auth_of(conn))
                    .into_iter()
                    .map(|(auth_scheme, user)| ClientInfo { auth_scheme, user })
                    .collect();
                Ok(Some(Box::new(WhoAmIResponse { client_info })))
            }
            ClientOp::GetEphemerals(req) => {
                let session = self.conns.get(&conn).map_or(0, |c| c.session);
                let prefix = req.prefix_path.trim();
                let mut ephemerals = self.db.tree.ephemerals(session);
                if !(prefix.is_empty() || prefix == "/") {
                    ephemerals.retain(|p| p.starts_with(req.prefix_path.as_str()));
                }
                Ok(Some(Box::new(GetEphemeralsResponse { ephemerals })))
            }
            ClientOp::MultiRead(multi) => {
                let mut results = Vec::with_capacity(multi.ops.len());
                for op in &multi.ops {
                    let r = match op {
                        // multiRead never sets watches: ZooKeeper rebuilds each op
                        // with watch=false (`Op.GetData.toRequestRecord`).
                        MultiOp::GetChildren(req) => {
                            match self.get_children(conn, &req.path, false) {
                                Ok((children, _)) => {
                                    OpResult::GetChildren(GetChildrenResponse { children })
                                }
                                Err(e) => OpResult::Error(ErrorResponse { err: e as i32 }),
                            }
                        }
                        MultiOp::GetData(req) => match self.get_data(conn, &req.path, false) {
                            Ok(r) => OpResult::GetData(r),
                            Err(e) => OpResult::Error(ErrorResponse { err: e as i32 }),
                        },
                        _ => return Err(ErrorCode::MarshallingError),
                    };
                    results.push(r);
                }
                Ok(Some(Box::new(jute::multi::MultiResponse { results })))
            }
            _ => Err(ErrorCode::Unimplemented),
        }
    }

    /// Re-registers a reconnecting client's watches and tells it at once of
    /// changes it missed since `relative_zxid` (`DataTree.setWatches`).
    /// These events are not ACL-filtered, as in ZooKeeper.
    #[allow(clippy::too_many_arguments)]
    fn set_watches(
        &mut self,
        conn: ConnId,
        relative_zxid: i64,
        data: &[String],
        exist: &[String],
        child: &[String],
        persistent: &[String],
        recursive: &[String],
    ) {
        let lists = SetWatchesLists {
            data,
            exist,
            child,
            persistent,
            persistent_recursive: recursive,
        };
        let tree = &self.db.tree;
        let view = |path: &str| {
            tree.lookup(path).map(|id| {
                let s = tree.node_stat(id);
                crate::watch::NodeZxids {
                    czxid: s.czxid,
                    mzxid: s.mzxid,
                    pzxid: s.pzxid,
                }
            })
        };
        let events = self
            .watches
            .set_watches(relative_zxid, &lists, WatcherId(conn), &view);
        for (path, ty) in events {
            self.push_event(conn, ty.as_i32(), &path);
        }
    }
}
