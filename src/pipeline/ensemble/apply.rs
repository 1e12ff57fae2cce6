//! Final for a member: committed txns are applied in zxid order as they
//! come; requests are answered in the order they arrived.
//!
//! On the leader every committed txn is one of its own proposals, queued in
//! `fifo` in zxid order, so the standalone rule holds. On a follower the
//! commits are mostly other servers' txns; a forwarded request is matched
//! by (session, cxid) to the first waiting request of that session (the
//! leader preps each learner's requests in order), its result kept until
//! the requests before it are answered.

use tracing::debug;

use crate::pipeline::core::{Core, Origin, Pending};
use crate::txn::LoggedTxn;

impl Core {
    /// Applies every committed txn and answers every request that can be
    /// answered, in order.
    pub(in crate::pipeline) fn run_final_member(&mut self) {
        loop {
            self.answer_ready_head();
            let next = self
                .ensemble
                .as_deref_mut()
                .and_then(|m| m.committed.pop_front());
            let Some(txn) = next else {
                break;
            };
            self.apply_one_committed(txn);
        }
        self.answer_ready_head();
    }

    /// Applies what is committed without waiting for anything else (before
    /// a snapshot, a rollback, a role change).
    pub(in crate::pipeline) fn apply_committed(&mut self) {
        self.run_final_member();
    }

    /// Answers requests at the head of the queue that need nothing more.
    fn answer_ready_head(&mut self) {
        loop {
            let ready = match self.fifo.front() {
                Some(Pending::Read { .. } | Pending::Error { .. }) => true,
                Some(Pending::Txn { zxid: 0, .. }) => true,
                Some(Pending::Forwarded { done, .. }) => done.is_some(),
                Some(Pending::Revalidating { valid, .. }) => valid.is_some(),
                Some(Pending::ForwardedSync { .. }) => self.ensemble.as_deref().is_some_and(|m| {
                    m.sync_replies
                        .front()
                        .is_some_and(|z| *z <= self.db.last_processed_zxid)
                }),
                _ => false,
            };
            if !ready {
                return;
            }
            let Some(p) = self.fifo.pop_front() else {
                return;
            };
            self.finish(p);
        }
    }

    fn apply_one_committed(&mut self, txn: LoggedTxn) {
        let zxid = txn.zxid();
        // The leader's own proposal at the head of the queue.
        if matches!(self.fifo.front(), Some(Pending::Txn { zxid: z, .. }) if *z == zxid) {
            self.durable.push_back(txn);
            if let Some(p) = self.fifo.pop_front() {
                self.finish(p);
            }
            return;
        }
        let (session, cxid) = (txn.header.client_id, txn.header.cxid);
        let slot = self.fifo.iter().position(
            |p| matches!(p, Pending::Forwarded { session: s, done: None, .. } if *s == session),
        );
        let mut txn = txn;
        let mut events = Vec::new();
        let outcome = self.apply_txn(&txn.header, &mut txn.body, &mut events);
        self.compare_digest(&txn.header, txn.digest.as_ref());
        self.deliver_events(&events);
        match slot {
            Some(i) => {
                if let Some(Pending::Forwarded { cxid: c, done, .. }) = self.fifo.get_mut(i) {
                    if *c != cxid {
                        debug!(
                            session = format_args!("0x{session:x}"),
                            expected = *c,
                            got = cxid,
                            "committed txn answers a different request of the session"
                        );
                    }
                    *done = Some(Box::new((txn, outcome)));
                }
            }
            None => {
                // Another server's client (or an expiry): nobody here waits,
                // but a closed session's connection goes, and with it any
                // request of that session still waiting here (their error
                // txns, SESSIONEXPIRED, come after it and find no one).
                let closed = txn.header.type_ == jute::consts::OpCode::CloseSession as i32;
                self.answer_txn(Origin::Internal, &txn, outcome);
                if closed {
                    self.fifo.retain(|p| {
                        !matches!(p, Pending::Forwarded { session: s, done: None, .. } if *s == session)
                    });
                }
            }
        }
    }
}
