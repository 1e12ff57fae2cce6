//! Final, part two: answering each request in order and delivering the
//! watch events its txn fired — events first, so a client sees the event
//! before any data that reflects the change.

use bytes::BufMut;
use jute::consts::{ErrorCode, KeeperState, OpCode, Perms};
use jute::data::ACL;
use jute::multi::{MultiResponse, OpResult};
use jute::proto::{
    Create2Response, CreateResponse, ErrorResponse, ReplyHeader, SetACLResponse, SetDataResponse,
    WatcherEvent,
};
use tracing::{info, warn};

use super::core::{ConnId, Core, Origin, Pending};
use crate::admin::java_fmt::JavaSocketAddr;
use crate::database::{ApplyOutcome, TreeEvent};
use crate::net::outbox::ErasedRecord;
use crate::session::session_password;
use crate::txn::TxnBody;
use crate::watch::{EventType, WatcherId};

/// xid of server-pushed notifications.
const NOTIFICATION_XID: i32 = -1;

impl Core {
    pub(super) fn finish(&mut self, pending: Pending) {
        match pending {
            Pending::Txn { zxid: 0, origin } => self.finish_revalidation(origin),
            Pending::Txn { zxid, origin } => {
                let Some(txn) = self.durable.pop_front() else {
                    return;
                };
                debug_assert_eq!(txn.zxid(), zxid);
                let propagation = super::core::wall_ms() - txn.header.time;
                if propagation >= 0 {
                    self.metrics.propagation_latency.add(propagation as u64);
                }
                let mut events = Vec::new();
                let mut txn = txn;
                let outcome = self.apply_txn(&txn.header, &mut txn.body, &mut events);
                self.compare_digest(&txn.header, txn.digest.as_ref());
                self.deliver_events(&events);
                let zxid = self.db.last_processed_zxid;
                self.answer_txn(origin, &txn, outcome, zxid);
            }
            Pending::Read { conn, xid, op, at } => {
                self.record_response(conn, xid, lop_name(op_code_of(&op)), at, false);
                self.answer_read(conn, xid, op)
            }
            Pending::Error {
                conn,
                xid,
                err,
                zxid,
            } => {
                if err == ErrorCode::SessionMoved {
                    self.close_moved(conn);
                    return;
                }
                let zxid = zxid.unwrap_or(self.db.last_processed_zxid);
                self.send(conn, xid, zxid, err as i32, None);
            }
            // Member-only entries, finished here once `ensemble/apply.rs`
            // found them ready.
            Pending::Forwarded { origin, done, .. } => {
                if let Some(done) = done {
                    self.answer_txn(origin, &done.txn, done.outcome, done.zxid);
                }
            }
            Pending::Applied { origin, done } => {
                self.answer_txn(origin, &done.txn, done.outcome, done.zxid);
            }
            Pending::ForwardedSync {
                conn, xid, op, at, ..
            } => self.finish(Pending::Read { conn, xid, op, at }),
            Pending::Revalidating { origin, .. } => self.finish_revalidation(origin),
        }
    }

    /// Queues one reply on a connection (if it is still there).
    pub(super) fn send(
        &mut self,
        conn: ConnId,
        xid: i32,
        zxid: i64,
        err: i32,
        body: Option<&dyn ErasedRecord>,
    ) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.packets_sent += 1;
            self.stats.packets_sent += 1;
            let size = c.out.push_reply(&ReplyHeader { xid, zxid, err }, body);
            self.stats.client_response.record(size);
            self.metrics.response_bytes += size as u64;
        }
    }

    pub(super) fn answer_txn(
        &mut self,
        origin: Origin,
        txn: &crate::txn::LoggedTxn,
        out: ApplyOutcome,
        zxid: i64,
    ) {
        match origin {
            Origin::Internal => {
                if txn.header.type_ == OpCode::CloseSession as i32 {
                    self.close_session_conn(txn.header.client_id);
                }
            }
            Origin::Connect {
                conn,
                established,
                at,
            } => {
                if let Some(at) = at {
                    self.record_response(conn, 0, "SESS", at, true);
                }
                self.send_connect_response(conn, true);
                self.log_established(conn, Some(txn.header.zxid));
                let _ = established.send(true);
            }
            Origin::Client { conn, xid, op, at } => {
                // A write refused in prep is an error txn: ZooKeeper's final
                // processor throws before naming the op.
                let lop = match txn.body {
                    TxnBody::Error(_) if op != OpCode::Multi as i32 => "NA",
                    _ => lop_name(op),
                };
                self.record_response(conn, xid, lop, at, true);
                let moved = ErrorCode::SessionMoved as i32;
                if out.err == moved || out.multi.iter().any(|sub| sub.err == moved) {
                    self.close_moved(conn);
                    return;
                }
                // A multi answers with per-op results, unless it failed as a
                // whole in prep (an ErrorTxn): then, like any request, only
                // the header carries the error.
                let is_multi = op == OpCode::Multi as i32 && !matches!(txn.body, TxnBody::Error(_));
                if out.err != 0 && !is_multi {
                    self.send(conn, xid, zxid, out.err, None);
                } else {
                    let stat = out.stat.clone().unwrap_or_default();
                    match OpCode::try_from(op) {
                        Ok(OpCode::Create) => {
                            let r = CreateResponse {
                                path: out.path.clone(),
                            };
                            self.send(conn, xid, zxid, 0, Some(&r));
                        }
                        Ok(OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTTL) => {
                            let r = Create2Response {
                                path: out.path.clone(),
                                stat,
                            };
                            self.send(conn, xid, zxid, 0, Some(&r));
                        }
                        Ok(OpCode::SetData) => {
                            self.send(conn, xid, zxid, 0, Some(&SetDataResponse { stat }));
                        }
                        Ok(OpCode::SetACL) => {
                            self.send(conn, xid, zxid, 0, Some(&SetACLResponse { stat }));
                        }
                        Ok(OpCode::Multi) => {
                            let r = MultiResponse {
                                results: out.multi.iter().map(multi_result).collect(),
                            };
                            self.send(conn, xid, zxid, 0, Some(&r));
                        }
                        _ => self.send(conn, xid, zxid, 0, None),
                    }
                }
                if op == OpCode::CloseSession as i32 {
                    let session = txn.header.client_id;
                    info!(
                        client = %self.session_client(session),
                        zxid = format_args!("0x{zxid:x}"),
                        "Closed session 0x{session:x} at the client's request"
                    );
                    self.close_session_conn(txn.header.client_id);
                }
            }
        }
    }

    /// SESSIONMOVED is not an answer but the end of the connection
    /// (FinalRequestProcessor's `sendCloseSession`, ZOOKEEPER-710): the
    /// client must not go on through a server its session has left. Replies
    /// already queued go out first; the session stays.
    fn close_moved(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.get(&conn) {
            info!(
                client = %c.addr,
                "closing the connection of session 0x{:x}: it moved to another server",
                c.session
            );
        }
        self.drop_conn(conn);
    }

    fn close_session_conn(&mut self, session: i64) {
        if let Some(conn) = self.session_conns.remove(&session) {
            self.drop_conn(conn);
        }
    }

    /// Answers a reconnect: ZooKeeper answers an invalid session or a wrong
    /// password with timeout 0, session 0 and a zeroed password, then closes.
    pub(super) fn finish_revalidation(&mut self, origin: Origin) {
        if let Origin::Connect {
            conn, established, ..
        } = origin
        {
            let valid = self.conns.get(&conn).is_some_and(|c| c.session != 0);
            self.send_connect_response(conn, valid);
            if valid {
                self.log_established(conn, None);
            }
            let _ = established.send(valid);
            if !valid {
                if let Some(c) = self.conns.remove(&conn) {
                    c.out.close();
                }
            }
        }
    }

    fn send_connect_response(&mut self, conn: ConnId, valid: bool) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats.packets_sent += 1;
        self.stats.packets_sent += 1;
        let (timeout, session, passwd) = if valid {
            (c.timeout_ms, c.session, session_password(c.session))
        } else {
            (0, 0, [0u8; 16])
        };
        let sent_read_only = c.sent_read_only;
        c.out.push_frame(|b| {
            b.put_i32(0); // protocolVersion
            b.put_i32(timeout);
            b.put_i64(session);
            b.put_i32(passwd.len() as i32);
            b.put_slice(&passwd);
            if sent_read_only {
                b.put_u8(0); // readOnly: this server is never read-only
            }
        });
    }

    /// ZooKeeper's "Established session" line, for a new session (`zxid`:
    /// its createSession txn) or one that reconnected (`None`).
    fn log_established(&self, conn: ConnId, zxid: Option<i64>) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (session, timeout, addr) = (c.session, c.timeout_ms, JavaSocketAddr(c.addr));
        match zxid {
            Some(zxid) => info!(
                zxid = format_args!("0x{zxid:x}"),
                "Established session 0x{session:x} with negotiated timeout {timeout} for client {addr}"
            ),
            None => info!(
                zxid = format_args!("0x{:x}", self.db.last_processed_zxid),
                reconnected = true,
                "Established session 0x{session:x} with negotiated timeout {timeout} for client {addr}"
            ),
        }
    }

    /// `FinalRequestProcessor.updateStats`: the server's and the
    /// connection's latency statistics, before the reply goes out. `write`:
    /// the request went through a txn (`updatelatency`, else `readlatency`).
    fn record_response(
        &mut self,
        conn: ConnId,
        xid: i32,
        lop: &'static str,
        at: std::time::Instant,
        write: bool,
    ) {
        let latency = self.clock.instant.saturating_duration_since(at).as_millis() as u64;
        self.stats.latency.add(latency);
        if write {
            self.metrics.updatelatency.add(latency);
        } else {
            self.metrics.readlatency.add(latency);
        }
        let now = self.now_ms();
        let zxid = self.db.last_processed_zxid;
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.response(xid, zxid, lop, latency, now);
        }
    }

    /// Fires watches for `events` in order, dropping events a watcher may not
    /// read: like ZooKeeper 3.8.4+ (and Debian's 3.8.0, which carries the
    /// CVE-2024-23944 fix) notifications are filtered by the READ ACL of the
    /// node the event names, as that ACL was when the event fired (carried
    /// by the event: a multi's later sub-ops may have deleted the node); a
    /// filtered one-shot watch is still consumed.
    pub(super) fn deliver_events(&mut self, events: &[TreeEvent]) {
        if self.watches.watch_count() == 0 {
            return;
        }
        for ev in events {
            match ev {
                TreeEvent::Created {
                    path,
                    parent,
                    acl,
                    parent_acl,
                } => {
                    let fired = self.watches.trigger(path, EventType::NodeCreated);
                    self.notify(&fired, path, acl);
                    let fired = self.watches.trigger(parent, EventType::NodeChildrenChanged);
                    self.notify(&fired, parent, parent_acl);
                }
                TreeEvent::Deleted {
                    path,
                    parent,
                    acl,
                    parent_acl,
                } => {
                    let fired = self.watches.trigger(path, EventType::NodeDeleted);
                    self.notify(&fired, path, acl);
                    let fired = self.watches.trigger(parent, EventType::NodeChildrenChanged);
                    self.notify(&fired, parent, parent_acl);
                }
                TreeEvent::DataChanged { path, acl } => {
                    let fired = self.watches.trigger(path, EventType::NodeDataChanged);
                    self.notify(&fired, path, acl);
                }
            }
        }
    }

    fn notify(&mut self, fired: &[(WatcherId, EventType)], path: &str, acl: &[ACL]) {
        if let Some((_, ty)) = fired.first() {
            let watchers = fired.len() as u64;
            match ty {
                EventType::NodeCreated => self.metrics.node_created_watch_count.add(watchers),
                EventType::NodeDeleted => self.metrics.node_deleted_watch_count.add(watchers),
                EventType::NodeDataChanged => self.metrics.node_changed_watch_count.add(watchers),
                EventType::NodeChildrenChanged => {
                    self.metrics.node_children_watch_count.add(watchers)
                }
            }
        }
        for (w, ty) in fired {
            let Some(c) = self.conns.get_mut(&w.0) else {
                continue;
            };
            if self.cfg.auth.check_acl(acl, Perms::READ, &c.auth).is_err() {
                continue;
            }
            self.push_event(w.0, ty.as_i32(), path);
        }
    }

    /// Pushes an event to one connection, unfiltered here (notify filters
    /// by ACL first; setWatches replays are never filtered).
    pub(super) fn push_event(&mut self, conn: ConnId, ty: i32, path: &str) {
        if let Some(c) = self.conns.get_mut(&conn) {
            let ev = WatcherEvent {
                type_: ty,
                state: KeeperState::SyncConnected as i32,
                path: path.to_string(),
            };
            let pushed = c.out.push_event(
                &ReplyHeader {
                    xid: NOTIFICATION_XID,
                    zxid: -1,
                    err: 0,
                },
                &ev,
            );
            let size = match pushed {
                Ok(size) => size,
                Err(over) => {
                    if !over.closed_now {
                        return;
                    }
                    warn!(
                        client = %JavaSocketAddr(c.addr),
                        session = format_args!("0x{:x}", c.session),
                        queued = over.pending,
                        "closing connection: watch events found its outbox over twice its bound \
                         (the client is not reading)"
                    );
                    return;
                }
            };
            c.stats.packets_sent += 1;
            self.stats.packets_sent += 1;
            self.stats.client_response.record(size);
            self.metrics.watch_bytes += size as u64;
        }
    }
}

/// The op code a read request carries, for `cons`'s last-op column.
fn op_code_of(op: &super::request::ClientOp) -> i32 {
    use super::request::ClientOp as C;
    let code = match op {
        C::Exists(_) => OpCode::Exists,
        C::GetData(_) => OpCode::GetData,
        C::GetAcl(_) => OpCode::GetACL,
        C::GetChildren(_) => OpCode::GetChildren,
        C::GetChildren2(_) => OpCode::GetChildren2,
        C::GetAllChildrenNumber(_) => OpCode::GetAllChildrenNumber,
        C::GetEphemerals(_) => OpCode::GetEphemerals,
        C::Sync(_) => OpCode::Sync,
        C::Ping => OpCode::Ping,
        C::MultiRead(_) => OpCode::MultiRead,
        C::SetWatches(_) => OpCode::SetWatches,
        C::SetWatches2(_) => OpCode::SetWatches2,
        C::AddWatch(_) => OpCode::AddWatch,
        C::RemoveWatches(_) => OpCode::RemoveWatches,
        C::CheckWatches(_) => OpCode::CheckWatches,
        C::WhoAmI => OpCode::WhoAmI,
        C::Unimplemented(code) | C::Malformed(code) | C::Throttled(code) => return *code,
        _ => OpCode::Notification,
    };
    code as i32
}

/// The short op name `FinalRequestProcessor` records as a connection's last
/// operation (`lop` in `cons`); "NA" for anything it has no name for.
pub(super) fn lop_name(op: i32) -> &'static str {
    match OpCode::try_from(op) {
        Ok(OpCode::Ping) => "PING",
        Ok(OpCode::CreateSession) => "SESS",
        Ok(OpCode::Multi) => "MULT",
        Ok(OpCode::MultiRead) => "MLTR",
        Ok(OpCode::Create | OpCode::Create2 | OpCode::CreateTTL | OpCode::CreateContainer) => {
            "CREA"
        }
        Ok(OpCode::Delete | OpCode::DeleteContainer) => "DELE",
        Ok(OpCode::SetData) => "SETD",
        Ok(OpCode::Reconfig) => "RECO",
        Ok(OpCode::SetACL) => "SETA",
        Ok(OpCode::CloseSession) => "CLOS",
        Ok(OpCode::Sync) => "SYNC",
        Ok(OpCode::Check) => "CHEC",
        Ok(OpCode::Exists) => "EXIS",
        Ok(OpCode::GetData) => "GETD",
        Ok(OpCode::SetWatches) => "SETW",
        Ok(OpCode::SetWatches2) => "STW2",
        Ok(OpCode::AddWatch) => "ADDW",
        Ok(OpCode::GetACL) => "GETA",
        Ok(OpCode::GetChildren | OpCode::GetChildren2) => "GETC",
        Ok(OpCode::GetAllChildrenNumber) => "GETACN",
        Ok(OpCode::CheckWatches) => "CHKW",
        Ok(OpCode::RemoveWatches) => "REMW",
        Ok(OpCode::WhoAmI) => "HOMI",
        Ok(OpCode::GetEphemerals) => "GETE",
        _ => "NA",
    }
}

/// One multi sub-result, typed as `FinalRequestProcessor` types it.
fn multi_result(o: &ApplyOutcome) -> OpResult {
    let stat = o.stat.clone().unwrap_or_default();
    match OpCode::try_from(o.op) {
        Ok(OpCode::Check) => OpResult::Check,
        Ok(OpCode::Create) => OpResult::Create(CreateResponse {
            path: o.path.clone(),
        }),
        Ok(OpCode::Create2 | OpCode::CreateTTL | OpCode::CreateContainer) => {
            OpResult::Create2(Create2Response {
                path: o.path.clone(),
                stat,
            })
        }
        Ok(OpCode::Delete | OpCode::DeleteContainer) => OpResult::Delete,
        Ok(OpCode::SetData) => OpResult::SetData(SetDataResponse { stat }),
        _ => OpResult::Error(ErrorResponse { err: o.err }),
    }
}
