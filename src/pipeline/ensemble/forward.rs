//! Requests that cross the ensemble: a follower forwards its clients'
//! writes, syncs and new sessions to the leader (`FollowerRequestProcessor`,
//! `Learner.request`); the leader preps them like its own clients' requests
//! (`LearnerHandler`'s REQUEST case); a forwarded sync is answered by the
//! ZAB machine, in order with the COMMITs (`Leader.processSync`).

use std::time::Instant;

use jute::consts::OpCode;
use jute::data::Id;
use jute::txn::ErrorTxn;
use tokio::sync::oneshot;
use tracing::{debug, warn};

use crate::pipeline::core::{ConnId, Core, Origin, Pending};
use crate::pipeline::prep::Requester;
use crate::pipeline::request::ClientOp;
use crate::quorum::wire::payload::ForwardedRequest;
use crate::session::{SessionId, SessionOwner};
use crate::txn::TxnBody;
use crate::zab::Sid;

impl Core {
    /// Follower: the session was touched by one of its clients; the leader
    /// hears of it in the next PING reply.
    pub(in crate::pipeline) fn member_touch(&mut self, session: SessionId, timeout_ms: i32) {
        if let Some(m) = self.ensemble.as_deref_mut() {
            if m.is_follower() {
                m.touches.insert(session, timeout_ms);
            }
        }
    }

    /// Follower: a client's write or sync goes to the leader; the request
    /// waits on its connection for its txn (or the leader's SYNC).
    pub(in crate::pipeline) fn forward_request(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: ClientOp,
        session: SessionId,
        received: Instant,
    ) {
        let (code, body) = op.forward_body();
        let auth: Vec<Id> = self
            .conns
            .get(&conn)
            .map(|c| c.auth.clone())
            .unwrap_or_default();
        let req = ForwardedRequest {
            session_id: session,
            cxid: xid,
            op: code,
            body,
        };
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        let Some(leader) = m.node.leader() else {
            return;
        };
        m.io.send_request(leader, &req, &auth);
        if matches!(op, ClientOp::Sync(_)) {
            self.queue(Pending::ForwardedSync {
                conn,
                xid,
                op,
                at: received,
                after: None,
            });
        } else {
            self.queue(Pending::Forwarded {
                session,
                cxid: xid,
                origin: Origin::Client {
                    conn,
                    xid,
                    op: code,
                    at: received,
                },
                done: None,
            });
        }
    }

    /// Follower: a client reattached here with a session the leader must
    /// confirm; answered when its REVALIDATE reply comes.
    pub(in crate::pipeline) fn revalidate_with_leader(
        &mut self,
        conn: ConnId,
        session: SessionId,
        timeout_ms: i32,
        origin: Origin,
    ) {
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        let Some(leader) = m.node.leader() else {
            return;
        };
        m.io.send_revalidate(leader, session, timeout_ms);
        self.queue(Pending::Revalidating {
            session,
            conn,
            origin,
            valid: None,
        });
    }

    /// Follower: the leader's answer to REVALIDATE.
    pub(in crate::pipeline) fn on_revalidate_reply(&mut self, session: SessionId, valid: bool) {
        let Some(conn) = self.revalidated(session, valid) else {
            debug!(
                session = format_args!("0x{session:x}"),
                "REVALIDATE reply nobody waits for"
            );
            return;
        };
        if !valid {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.session = 0;
            }
            if self.session_conns.get(&session) == Some(&conn) {
                self.session_conns.remove(&session);
            }
            tracing::info!("Invalid session 0x{session:x}, probably expired (the leader says)");
        }
    }

    /// Follower: a new session is created by the leader's createSession
    /// txn; the client is answered when it commits here.
    pub(in crate::pipeline) fn forward_create_session(
        &mut self,
        conn: ConnId,
        session: SessionId,
        timeout_ms: i32,
        established: oneshot::Sender<bool>,
        received: Instant,
    ) {
        let req = ForwardedRequest {
            session_id: session,
            cxid: 0,
            op: OpCode::CreateSession as i32,
            body: timeout_ms.to_be_bytes().to_vec(),
        };
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        let Some(leader) = m.node.leader() else {
            return;
        };
        m.io.send_request(leader, &req, &[]);
        self.queue(Pending::Forwarded {
            session,
            cxid: 0,
            origin: Origin::Connect {
                conn,
                established,
                at: Some(received),
            },
            done: None,
        });
    }

    /// Leader: a learner's client request, prepped as if it were ours; the
    /// learner answers its client when the txn commits there.
    pub(in crate::pipeline) fn on_forwarded(
        &mut self,
        from: Sid,
        req: ForwardedRequest,
        auth: Vec<Id>,
    ) {
        if !self.ensemble.as_deref().is_some_and(|m| m.is_leader()) {
            debug!(learner = from, "REQUEST while not leading: dropped");
            return;
        }
        let session = req.session_id;
        if req.op == OpCode::CreateSession as i32 {
            let timeout = req
                .body
                .get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(i32::from_be_bytes);
            let Some(timeout) = timeout else {
                warn!(learner = from, "createSession without a timeout: dropped");
                return;
            };
            let zxid = self.next_zxid();
            let body = self.prep_create_session(session, timeout, SessionOwner::Learner(from));
            self.enqueue_txn(session, 0, zxid, body, Origin::Internal);
            return;
        }
        // Every forwarded request is answered, whatever became of its session: a write
        // of a closed or closing session becomes an error txn (prep's session check:
        // SESSIONEXPIRED), a sync gets its SYNC, as Java's leader submits a learner's
        // requests straight to PrepRequestProcessor. A Java learner matches each commit
        // and SYNC, in order, to its clients' requests; one that never comes leaves every
        // later request of its clients waiting behind it.
        let now = self.now_ms();
        let _ = self.sessions.touch(session, now);
        if req.op == OpCode::Sync as i32 {
            if let Some(m) = self.ensemble.as_deref_mut() {
                m.node.learner_sync(from);
            }
            self.run_member_actions();
            return;
        }
        let mut op = ClientOp::decode(req.op, &req.body);
        if !op.is_write() && !matches!(op, ClientOp::Malformed(_)) {
            warn!(
                learner = from,
                op = req.op,
                "forwarded request is not a write: dropped"
            );
            return;
        }
        let zxid = self.next_zxid();
        let who = Requester {
            session,
            auth: &auth,
            owner: SessionOwner::Learner(from),
        };
        let body = match self.prep_write(&mut op, &who, zxid, self.clock.wall_ms) {
            Ok(body) => body,
            Err(e) => TxnBody::Error(ErrorTxn { err: e as i32 }),
        };
        self.enqueue_txn(session, req.cxid, zxid, body, Origin::Internal);
    }
}
