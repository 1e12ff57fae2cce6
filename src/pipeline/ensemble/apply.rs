//! Final for a member: committed txns are applied in zxid order as they
//! come; each connection's requests are answered in its own order
//! (`replies.rs`).
//!
//! On the leader a committed txn is mostly one of its own proposals, found
//! by zxid. On a follower the commits are mostly other servers' txns; a
//! forwarded request is matched by session to the first waiting request of
//! that session (the leader preps each learner's requests in order), its
//! result kept until the requests before it on its connection are answered.

use super::replies::Waiting;
use crate::pipeline::core::{AppliedTxn, Core, Origin};
use crate::txn::LoggedTxn;

impl Core {
    /// Applies every committed txn and answers every request that can be
    /// answered.
    pub(in crate::pipeline) fn run_final_member(&mut self) {
        self.match_sync_replies();
        loop {
            let next = self
                .ensemble
                .as_deref_mut()
                .and_then(|m| m.committed.pop_front());
            let Some(txn) = next else {
                break;
            };
            self.apply_one_committed(txn);
        }
        self.answer_ready();
    }

    /// Applies what is committed without waiting for anything else (before
    /// a snapshot, a rollback, a role change).
    pub(in crate::pipeline) fn apply_committed(&mut self) {
        self.run_final_member();
    }

    fn apply_one_committed(&mut self, txn: LoggedTxn) {
        let zxid = txn.zxid();
        let session = txn.header.client_id;
        let waiting = self.waiting_for_commit(zxid, session);
        if matches!(waiting, Some(Waiting::Own(_))) {
            let propagation = crate::pipeline::core::wall_ms() - txn.header.time;
            if propagation >= 0 {
                self.metrics.propagation_latency.add(propagation as u64);
            }
        }
        let mut txn = txn;
        let mut events = Vec::new();
        let outcome = self.apply_txn(&txn.header, &mut txn.body, &mut events);
        self.compare_digest(&txn.header, txn.digest.as_ref());
        self.deliver_events(&events);
        let done = AppliedTxn {
            txn,
            outcome,
            zxid: self.db.last_processed_zxid,
        };
        if let Some(waiting) = waiting {
            self.committed_answers(waiting, done);
            return;
        }
        // Nobody here waits (another server's client, an expiry, a
        // learner's request on the leader): a closed session's connection
        // goes, and with it any of its requests still waiting for the leader
        // (their error txns, SESSIONEXPIRED, come after it and find no one).
        let closed = done.txn.header.type_ == jute::consts::OpCode::CloseSession as i32;
        self.answer_txn(Origin::Internal, &done.txn, done.outcome, done.zxid);
        if closed {
            self.drop_forwarded(session);
        }
    }
}
