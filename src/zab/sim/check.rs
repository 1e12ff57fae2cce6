//! The invariants, checked as the simulation runs:
//! - at most one established leader per epoch;
//! - a txn acknowledged to a client is in every later leader's history;
//! - every serving member's database is a prefix of one canonical sequence,
//!   which has strictly increasing zxids, counters 1, 2, 3… within an epoch
//!   (no gaps) and only txns a client submitted, each once (none invented).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use crate::zab::{Epoch, Sid, Txn, Zxid};

#[derive(Default)]
pub struct Checker {
    pub leaders: BTreeMap<Epoch, Sid>,
    pub canonical: Vec<Txn>,
    canonical_data: BTreeSet<Bytes>,
    pub submitted: BTreeSet<Bytes>,
    pub acked: BTreeMap<Zxid, Bytes>,
    pub failure: Option<String>,
    /// Restarts that found a log newer than currentEpoch (not a failure).
    pub epoch_raised_at_start: u64,
}

impl Checker {
    pub fn fail(&mut self, msg: String) {
        if self.failure.is_none() {
            self.failure = Some(msg);
        }
    }

    pub fn on_established(&mut self, epoch: Epoch, sid: Sid, db: &[Txn]) {
        if let Some(other) = self.leaders.insert(epoch, sid) {
            if other != sid {
                self.fail(format!(
                    "two leaders established in epoch {epoch}: {other} and {sid}"
                ));
            }
        }
        let have: BTreeMap<Zxid, &Bytes> = db.iter().map(|t| (t.zxid, &t.data)).collect();
        let lost: Vec<Zxid> = self
            .acked
            .iter()
            .filter(|(z, d)| have.get(z) != Some(d))
            .map(|(z, _)| *z)
            .collect();
        if !lost.is_empty() {
            self.fail(format!(
                "leader {sid} of epoch {epoch} lacks acknowledged txns {lost:?}"
            ));
        }
    }

    /// `db` of a member serving clients must agree with the canonical sequence.
    pub fn check_serving(&mut self, sid: Sid, db: &[Txn]) {
        let common = db.len().min(self.canonical.len());
        if let Some(i) = (0..common).find(|i| db[*i] != self.canonical[*i]) {
            let msg = format!(
                "sid {sid} diverges at position {i}: has {:?}, canonical {:?}",
                db[i], self.canonical[i]
            );
            return self.fail(msg);
        }
        for t in &db[common..] {
            let ok = match self.canonical.last() {
                None => t.zxid.counter() == 1,
                Some(p) if p.zxid.epoch() == t.zxid.epoch() => {
                    t.zxid.counter() == p.zxid.counter() + 1
                }
                Some(p) => t.zxid.epoch() > p.zxid.epoch() && t.zxid.counter() == 1,
            };
            if !ok {
                let prev = self.canonical.last().map(|p| p.zxid);
                return self.fail(format!(
                    "sid {sid}: gap or reorder, {:?} after {prev:?}",
                    t.zxid
                ));
            }
            if !self.submitted.contains(&t.data) || !self.canonical_data.insert(t.data.clone()) {
                return self.fail(format!(
                    "sid {sid}: invented or duplicated txn {:?}",
                    t.zxid
                ));
            }
            self.canonical.push(t.clone());
        }
    }
}
