//! Reply order for a member: each connection's replies leave in its own
//! request order, and nothing else waits.
//!
//! ZooKeeper's CommitProcessor keeps a queue per session: a read of a
//! session with no write in flight is answered at once, whatever other
//! sessions wait for, and a session's replies never overtake each other.
//! Standalone keeps one FIFO (`core.rs`), as ZooKeeper's standalone
//! pipeline does, so only members come here.
//!
//! Txns are applied as they commit, in zxid order, independent of the
//! queues (`apply.rs`); what a commit finishes is found here: the leader's
//! own proposals by zxid, a follower's forwarded requests by session, in
//! the order they were forwarded.

use std::collections::VecDeque;

use hashbrown::HashMap;
use tracing::{debug, warn};

use crate::pipeline::core::{AppliedTxn, ConnId, Core, Origin, Pending};
use crate::session::SessionId;

/// Each connection's unanswered requests, and what matches commits and
/// leader replies to them.
#[derive(Default)]
pub(in crate::pipeline) struct ReplyQueues {
    by_conn: HashMap<ConnId, VecDeque<Pending>>,
    /// Leader: its proposals in zxid order, with the connection waiting
    /// for each (`None`: a learner's request, an expiry, a cleanup).
    proposed: VecDeque<(i64, Option<ConnId>)>,
    /// Follower: per session, the connection each forwarded request waits
    /// on, in forwarding order (the leader commits them in that order).
    forwarded: HashMap<SessionId, VecDeque<ConnId>>,
    /// Follower: connections whose forwarded syncs wait, in forwarding order.
    syncs: VecDeque<ConnId>,
    /// Follower: sessions waiting for REVALIDATE replies, in order.
    revalidating: VecDeque<(SessionId, ConnId)>,
    /// Connections whose head may have become answerable.
    dirty: Vec<ConnId>,
    len: usize,
}

impl ReplyQueues {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn iter(&self) -> impl Iterator<Item = &Pending> {
        self.by_conn.values().flatten()
    }

    /// Forgets everything (leaving the broadcast phase: the connections go).
    pub fn clear(&mut self) {
        *self = ReplyQueues::default();
    }

    fn push(&mut self, conn: ConnId, p: Pending) {
        let q = self.by_conn.entry(conn).or_default();
        q.push_back(p);
        self.len += 1;
        if q.len() == 1 {
            self.dirty.push(conn);
        }
    }

    /// The first entry of `conn`'s queue that `pick` selects.
    fn find(&mut self, conn: ConnId, pick: impl Fn(&Pending) -> bool) -> Option<&mut Pending> {
        self.by_conn.get_mut(&conn)?.iter_mut().find(|p| pick(p))
    }

    /// Leader: who waits for the proposal `zxid`, if it is ours; `None`
    /// for a txn this leader did not propose in this term.
    fn take_proposed(&mut self, zxid: i64) -> Option<Option<ConnId>> {
        while let Some(&(z, _)) = self.proposed.front() {
            if z >= zxid {
                break;
            }
            // Commits come in zxid order; a proposal passed over never
            // commits (it cannot happen within a term).
            warn!(
                zxid = format_args!("0x{z:x}"),
                "a proposal was passed over by a later commit"
            );
            self.proposed.pop_front();
        }
        match self.proposed.front() {
            Some(&(z, owner)) if z == zxid => {
                self.proposed.pop_front();
                Some(owner)
            }
            _ => None,
        }
    }

    /// Follower: the connection whose forwarded request of `session` the
    /// next commit of that session answers.
    fn take_forwarded(&mut self, session: SessionId) -> Option<ConnId> {
        let q = self.forwarded.get_mut(&session)?;
        let conn = q.pop_front();
        if q.is_empty() {
            self.forwarded.remove(&session);
        }
        conn
    }

    /// Follower: a closed session's forwarded requests are dropped
    /// unanswered (the leader drops them too).
    fn drop_forwarded(&mut self, session: SessionId) {
        let Some(conns) = self.forwarded.remove(&session) else {
            return;
        };
        for conn in conns {
            if let Some(q) = self.by_conn.get_mut(&conn) {
                let before = q.len();
                q.retain(|p| {
                    !matches!(p, Pending::Forwarded { session: s, done: None, .. } if *s == session)
                });
                self.len -= before - q.len();
                self.dirty.push(conn);
            }
        }
    }
}

/// Who waits for a committed txn here.
pub(in crate::pipeline) enum Waiting {
    /// A client of this leader, for its proposal.
    Own(ConnId),
    /// A client of this follower, for its forwarded request.
    Forwarded(ConnId),
}

impl Waiting {
    fn conn(&self) -> ConnId {
        match self {
            Waiting::Own(c) | Waiting::Forwarded(c) => *c,
        }
    }
}

/// Whether a request at the head of its connection's queue can be answered
/// now; `applied` is the database's last applied zxid.
fn answerable(p: &Pending, applied: i64) -> bool {
    match p {
        Pending::Read { .. } | Pending::Error { .. } | Pending::Applied { .. } => true,
        Pending::Txn { zxid, .. } => *zxid == 0,
        Pending::Forwarded { done, .. } => done.is_some(),
        Pending::Revalidating { valid, .. } => valid.is_some(),
        Pending::ForwardedSync { after, .. } => after.is_some_and(|z| z <= applied),
    }
}

/// The connection a request answers to, if any.
fn conn_of(p: &Pending) -> Option<ConnId> {
    match p {
        Pending::Read { conn, .. }
        | Pending::Error { conn, .. }
        | Pending::ForwardedSync { conn, .. }
        | Pending::Revalidating { conn, .. } => Some(*conn),
        Pending::Txn { origin, .. }
        | Pending::Forwarded { origin, .. }
        | Pending::Applied { origin, .. } => match origin {
            Origin::Client { conn, .. } | Origin::Connect { conn, .. } => Some(*conn),
            Origin::Internal => None,
        },
    }
}

impl Core {
    /// Queues a request behind the earlier ones of its connection (member)
    /// or of the server (standalone).
    pub(in crate::pipeline) fn queue(&mut self, p: Pending) {
        if self.ensemble.is_none() {
            self.fifo.push_back(p);
            return;
        }
        let conn = conn_of(&p);
        let r = &mut self.replies;
        match &p {
            Pending::Txn { zxid, .. } if *zxid != 0 => r.proposed.push_back((*zxid, conn)),
            Pending::Forwarded { session, .. } => {
                if let Some(c) = conn {
                    r.forwarded.entry(*session).or_default().push_back(c);
                }
            }
            Pending::ForwardedSync { conn, .. } => r.syncs.push_back(*conn),
            Pending::Revalidating { session, conn, .. } => {
                r.revalidating.push_back((*session, *conn))
            }
            _ => {}
        }
        if let Some(c) = conn {
            r.push(c, p);
        }
    }

    /// Requests, unanswered, standalone's and a member's.
    pub(in crate::pipeline) fn outstanding(&self) -> usize {
        self.fifo.len() + self.replies.len()
    }

    pub(in crate::pipeline) fn outstanding_entries(&self) -> impl Iterator<Item = &Pending> {
        self.fifo.iter().chain(self.replies.iter())
    }

    /// Answers, for every connection that may have become answerable, the
    /// requests at the head of its queue that need nothing more.
    pub(in crate::pipeline) fn answer_ready(&mut self) {
        while let Some(conn) = self.replies.dirty.pop() {
            self.answer_conn(conn);
        }
    }

    fn answer_conn(&mut self, conn: ConnId) {
        loop {
            let applied = self.db.last_processed_zxid;
            let Some(q) = self.replies.by_conn.get_mut(&conn) else {
                return;
            };
            let p = match q.front() {
                Some(p) if answerable(p, applied) => q.pop_front(),
                Some(_) => return,
                None => {
                    self.replies.by_conn.remove(&conn);
                    return;
                }
            };
            let Some(p) = p else {
                return;
            };
            self.replies.len -= 1;
            self.finish(p);
        }
    }

    /// The connection whose request a committed txn answers, if one here
    /// waits for it: the leader's own proposal by zxid, else a forwarded
    /// request of the txn's session. Requests queued before it on that
    /// connection are answered now, before the txn applies: they come
    /// before it in the session's order, so a read between two writes of a
    /// session sees the first and not the second (CommitProcessor runs a
    /// session's requests one by one, commits in zxid order).
    pub(in crate::pipeline) fn waiting_for_commit(
        &mut self,
        zxid: i64,
        session: SessionId,
    ) -> Option<Waiting> {
        let waiting = match self.replies.take_proposed(zxid) {
            Some(Some(conn)) => Waiting::Own(conn),
            Some(None) => return None,
            None => Waiting::Forwarded(self.replies.take_forwarded(session)?),
        };
        self.answer_conn(waiting.conn());
        Some(waiting)
    }

    /// The applied result of a committed txn goes to the request that
    /// waits for it (found by `waiting_for_commit`), answered in its
    /// connection's turn.
    pub(in crate::pipeline) fn committed_answers(&mut self, waiting: Waiting, done: AppliedTxn) {
        let r = &mut self.replies;
        let zxid = done.txn.zxid();
        let session = done.txn.header.client_id;
        let conn = waiting.conn();
        let own = matches!(waiting, Waiting::Own(_));
        let pick = |p: &Pending| match p {
            Pending::Txn { zxid: z, .. } => own && *z == zxid,
            Pending::Forwarded {
                session: s,
                done: None,
                ..
            } => !own && *s == session,
            _ => false,
        };
        let Some((q, i)) = r
            .by_conn
            .get_mut(&conn)
            .and_then(|q| q.iter().position(pick).map(|i| (q, i)))
        else {
            debug!(
                zxid = format_args!("0x{zxid:x}"),
                "the request a commit answers is gone"
            );
            return;
        };
        match q.get_mut(i) {
            Some(Pending::Forwarded { cxid, done: d, .. }) => {
                if *cxid != done.txn.header.cxid {
                    debug!(
                        session = format_args!("0x{session:x}"),
                        expected = *cxid,
                        got = done.txn.header.cxid,
                        "committed txn answers a different request of the session"
                    );
                }
                *d = Some(Box::new(done));
            }
            Some(Pending::Txn { .. }) => {
                if let Some(Pending::Txn { origin, .. }) = q.remove(i) {
                    let done = Box::new(done);
                    q.insert(i, Pending::Applied { origin, done });
                }
            }
            _ => {}
        }
        r.dirty.push(conn);
    }

    /// Follower: the forwarded requests of a session that was closed.
    pub(in crate::pipeline) fn drop_forwarded(&mut self, session: SessionId) {
        self.replies.drop_forwarded(session);
    }

    /// Follower: the leader's SYNC replies, each given to the next
    /// forwarded sync with the zxid that must be applied before it.
    pub(in crate::pipeline) fn match_sync_replies(&mut self) {
        let Some(m) = self.ensemble.as_deref_mut() else {
            return;
        };
        while let Some(after) = m.sync_replies.pop_front() {
            let r = &mut self.replies;
            let Some(conn) = r.syncs.pop_front() else {
                debug!("SYNC reply nobody waits for");
                continue;
            };
            if let Some(Pending::ForwardedSync { after: a, .. }) = r.find(conn, |p| {
                matches!(p, Pending::ForwardedSync { after: None, .. })
            }) {
                *a = Some(after);
                r.dirty.push(conn);
            }
        }
    }

    /// Follower: the leader's answer to a REVALIDATE; the connection that
    /// waits for it, if it is still here.
    pub(in crate::pipeline) fn revalidated(
        &mut self,
        session: SessionId,
        valid: bool,
    ) -> Option<ConnId> {
        let r = &mut self.replies;
        let i = r.revalidating.iter().position(|(s, _)| *s == session)?;
        let (_, conn) = r.revalidating.remove(i)?;
        let slot = r.find(
            conn,
            |p| matches!(p, Pending::Revalidating { session: s, valid: None, .. } if *s == session),
        );
        if let Some(Pending::Revalidating { valid: v, .. }) = slot {
            *v = Some(valid);
            r.dirty.push(conn);
            return Some(conn);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::pipeline::request::ClientOp;

    fn forwarded(session: SessionId, conn: ConnId, cxid: i32) -> Pending {
        Pending::Forwarded {
            session,
            cxid,
            origin: Origin::Client {
                conn,
                xid: cxid,
                op: 5,
                at: Instant::now(),
            },
            done: None,
        }
    }

    fn read(conn: ConnId) -> Pending {
        Pending::Read {
            conn,
            xid: 1,
            op: ClientOp::Unimplemented(0),
            at: Instant::now(),
        }
    }

    #[test]
    fn a_proposal_passed_over_is_dropped_and_the_match_goes_on() {
        let mut r = ReplyQueues::default();
        r.proposed.extend([(5, Some(1)), (6, None), (7, Some(2))]);
        assert_eq!(r.take_proposed(4), None, "not ours");
        assert_eq!(r.take_proposed(5), Some(Some(1)));
        assert_eq!(r.take_proposed(7), Some(Some(2)), "6 never committed");
        assert!(r.proposed.is_empty());
    }

    #[test]
    fn a_session_s_commits_go_to_its_connections_in_forwarding_order() {
        let mut r = ReplyQueues::default();
        // Session 9 forwarded through connection 1, then (reconnected)
        // through connection 2.
        r.forwarded.entry(9).or_default().extend([1, 1, 2]);
        assert_eq!(r.take_forwarded(9), Some(1));
        assert_eq!(r.take_forwarded(9), Some(1));
        assert_eq!(r.take_forwarded(9), Some(2));
        assert_eq!(r.take_forwarded(9), None);
        assert!(r.forwarded.is_empty());
    }

    #[test]
    fn a_closed_session_s_waiting_requests_go_and_the_rest_stay() {
        let mut r = ReplyQueues::default();
        r.push(1, forwarded(9, 1, 1));
        r.push(1, read(1));
        r.push(1, forwarded(9, 1, 2));
        r.push(2, forwarded(8, 2, 1));
        r.forwarded.entry(9).or_default().extend([1, 1]);
        r.forwarded.entry(8).or_default().push_back(2);
        assert_eq!(r.len(), 4);
        r.drop_forwarded(9);
        assert_eq!(r.len(), 2, "the read and the other session's request");
        assert!(matches!(
            r.by_conn.get(&1).and_then(|q| q.front()),
            Some(Pending::Read { .. })
        ));
        assert_eq!(r.take_forwarded(8), Some(2));
        assert_eq!(r.take_forwarded(9), None);
    }

    #[test]
    fn only_a_new_head_marks_its_connection() {
        let mut r = ReplyQueues::default();
        r.push(1, forwarded(9, 1, 1));
        r.push(1, read(1));
        r.push(2, read(2));
        assert_eq!(r.dirty, vec![1, 2]);
        // A read waits behind its own connection's write only.
        let applied = 0;
        let heads: Vec<bool> = [1, 2]
            .iter()
            .map(|c| answerable(r.by_conn[c].front().expect("head"), applied))
            .collect();
        assert_eq!(heads, vec![false, true]);
    }
}
