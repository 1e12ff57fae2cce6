//! The leader's choice of DIFF, TRUNC or SNAP for a learner
//! (`LearnerHandler.syncFollower` / `queueCommittedProposals`), as a pure
//! function over the committed window and, for a learner older than the
//! window, the leader's on-disk txn log, so it can be tested case by case.
//!
//! The on-disk log is an input, not something the machine reads: when the
//! window alone cannot decide, [`choose`] answers [`SyncPlan::ReadLog`], the
//! leader asks its host ([`super::Action::ReadSyncLog`]) and decides again
//! with the host's [`LogHistory`] (or without one: SNAP).

use super::types::{Txn, Zxid};

/// How to bring a learner whose last logged zxid is `peer` up to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncPlan {
    /// DIFF(zxid), then PROPOSAL+COMMIT for each zxid in `send`.
    Diff { zxid: Zxid, send: Vec<Zxid> },
    /// TRUNC(zxid), then PROPOSAL+COMMIT for each zxid in `send`.
    Trunc { zxid: Zxid, send: Vec<Zxid> },
    /// SNAP of the database at the leader's lastProcessedZxid.
    Snap,
    /// The learner is older than the window: the choice needs the on-disk
    /// log from the learner's zxid through `through` (the window's first
    /// entry), as a [`LogHistory`].
    ReadLog { through: Zxid },
}

/// What the leader's on-disk txn log holds for a learner older than the
/// window (`ZKDatabase.getProposalsFromTxnLog`), as the host read it. The
/// host gives none at all when Java would not use the log either: syncing
/// from it is off (`snapshotSizeFactor` < 0), the log files the learner
/// needs are larger than `snapshotSizeFactor` × the newest snapshot, or
/// they cannot be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogHistory {
    /// The last logged zxid at or below the learner's: equal when the log
    /// has the learner's last txn, smaller when it skips it, `None` when
    /// the log starts after it (or is empty) and so cannot sync it.
    pub preceding: Option<Zxid>,
    /// The logged txns after the learner's zxid through the zxid asked for,
    /// ascending.
    pub txns: Vec<Txn>,
}

impl LogHistory {
    /// The logged txn `zxid`, if this history holds it.
    pub fn get(&self, zxid: Zxid) -> Option<&Txn> {
        let i = self.txns.binary_search_by_key(&zxid, |t| t.zxid).ok()?;
        self.txns.get(i)
    }
}

/// The on-disk log as far as the choice knows it.
#[derive(Clone, Copy, Debug)]
pub enum OnDisk<'a> {
    /// Not asked for yet: a learner below the window gets
    /// [`SyncPlan::ReadLog`].
    NotRead,
    /// The host has no usable history for this learner: SNAP.
    Unusable,
    Read(&'a LogHistory),
}

impl SyncPlan {
    /// The zxid the learner will be at once the plan is through; forwarding
    /// of outstanding proposals starts after it (`startForwarding`).
    pub fn reaches(&self, peer: Zxid, last_processed: Zxid) -> Zxid {
        match self {
            SyncPlan::Diff { send, .. } => send.last().copied().unwrap_or(peer),
            SyncPlan::Trunc { zxid, send } => send.last().copied().unwrap_or(*zxid),
            SyncPlan::Snap | SyncPlan::ReadLog { .. } => last_processed,
        }
    }
}

/// `syncFollower`'s cases, in its order. `window` is the leader's committed
/// proposals, ascending; `last_processed` its database's last applied zxid.
pub fn choose(window: &[Zxid], last_processed: Zxid, peer: Zxid, disk: OnDisk) -> SyncPlan {
    // An empty committedLog counts as one ending at lastProcessedZxid.
    let (min, max) = match (window.first(), window.last()) {
        (Some(a), Some(b)) => (*a, *b),
        _ => (last_processed, last_processed),
    };
    let peer_new_epoch = peer.counter() == 0;
    if last_processed == peer {
        SyncPlan::Diff {
            zxid: peer,
            send: Vec::new(),
        }
    } else if peer > max && !peer_new_epoch {
        SyncPlan::Trunc {
            zxid: max,
            send: Vec::new(),
        }
    } else if min <= peer && peer <= max {
        let mut q = Queue::new(peer);
        if !q.committed(window.iter().copied(), None, max) {
            return SyncPlan::Snap;
        }
        q.plan()
    } else if peer < min {
        match disk {
            OnDisk::NotRead => SyncPlan::ReadLog { through: min },
            OnDisk::Unusable => SyncPlan::Snap,
            OnDisk::Read(h) => from_log(h, window, peer, min, max),
        }
    } else {
        // A new-epoch zxid above the window: "Unhandled scenario", SNAP.
        SyncPlan::Snap
    }
}

/// The txn log through the window's first entry, then the window
/// (`syncFollower`'s "Use txnlog and committedLog" branch).
fn from_log(h: &LogHistory, window: &[Zxid], peer: Zxid, min: Zxid, max: Zxid) -> SyncPlan {
    // getProposalsFromTxnLog: a log that starts after the peer's zxid cannot
    // be told apart from one with a hole, so it is not used.
    let Some(preceding) = h.preceding else {
        return SyncPlan::Snap;
    };
    let logged = std::iter::once(preceding).chain(h.txns.iter().map(|t| t.zxid));
    let mut q = Queue::new(peer);
    // "Detected gap between end of txnlog and start of committedLog": the
    // log does not reach the window, so what is between is nowhere; SNAP.
    if !q.committed(logged, Some(min), max) || q.queued < min {
        return SyncPlan::Snap;
    }
    if !q.committed(window.iter().copied(), None, max) {
        return SyncPlan::Snap;
    }
    q.plan()
}

/// The first packet chosen so far (`needOpPacket` is `op == None`).
#[derive(Clone, Copy, Debug)]
enum Op {
    Diff(Zxid),
    Trunc(Zxid),
}

/// The packets `queueCommittedProposals` queued over one or more calls.
struct Queue {
    op: Option<Op>,
    /// The last zxid queued (at first the learner's own).
    queued: Zxid,
    send: Vec<Zxid>,
}

impl Queue {
    fn new(peer: Zxid) -> Queue {
        Queue {
            op: None,
            queued: peer,
            send: Vec::new(),
        }
    }

    /// One `queueCommittedProposals` call over `items` (ascending), from the
    /// last zxid queued so far, stopping after `max`; `last_committed` is
    /// the DIFF's zxid. False when the learner would need a TRUNC across an
    /// epoch, which it could not honour (then SNAP).
    fn committed(
        &mut self,
        items: impl IntoIterator<Item = Zxid>,
        max: Option<Zxid>,
        last_committed: Zxid,
    ) -> bool {
        let peer = self.queued;
        let peer_new_epoch = peer.counter() == 0;
        let mut prev: Option<Zxid> = None;
        for z in items {
            if max.is_some_and(|m| z > m) {
                break;
            }
            if z < peer {
                prev = Some(z);
                continue;
            }
            if self.op.is_none() {
                if z == peer {
                    self.op = Some(Op::Diff(last_committed));
                    continue;
                }
                if peer_new_epoch {
                    self.op = Some(Op::Diff(last_committed));
                } else {
                    // The peer logged txns this leader never saw (it may
                    // have led once): TRUNC to the entry before, within
                    // its epoch only.
                    let (Some(p), true) = (prev, z.epoch() == peer.epoch()) else {
                        return false;
                    };
                    self.op = Some(Op::Trunc(p));
                }
            }
            if z <= self.queued {
                continue;
            }
            self.send.push(z);
            self.queued = z;
        }
        if self.op.is_none() && peer_new_epoch {
            // Our history is older than the learner's new-epoch zxid and
            // nothing came since: an empty DIFF.
            self.op = Some(Op::Diff(last_committed));
        }
        true
    }

    fn plan(self) -> SyncPlan {
        match self.op {
            Some(Op::Diff(zxid)) => SyncPlan::Diff {
                zxid,
                send: self.send,
            },
            Some(Op::Trunc(zxid)) => SyncPlan::Trunc {
                zxid,
                send: self.send,
            },
            // "Unhandled scenario ... fall back to use snapshot".
            None => SyncPlan::Snap,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(e: i64, c: u32) -> Zxid {
        Zxid::new(e, c)
    }

    #[test]
    fn equal_peer_gets_empty_diff() {
        let w = [z(1, 1), z(1, 2)];
        assert_eq!(
            choose(&w, z(1, 2), z(1, 2), OnDisk::NotRead),
            SyncPlan::Diff {
                zxid: z(1, 2),
                send: vec![]
            }
        );
    }

    #[test]
    fn peer_in_window_gets_diff_of_the_rest() {
        let w = [z(1, 1), z(1, 2), z(1, 3), z(2, 1)];
        assert_eq!(
            choose(&w, z(2, 1), z(1, 2), OnDisk::NotRead),
            SyncPlan::Diff {
                zxid: z(2, 1),
                send: vec![z(1, 3), z(2, 1)]
            }
        );
    }

    #[test]
    fn peer_ahead_of_window_is_truncated_to_its_end() {
        let w = [z(1, 1), z(1, 2)];
        assert_eq!(
            choose(&w, z(1, 2), z(1, 5), OnDisk::NotRead),
            SyncPlan::Trunc {
                zxid: z(1, 2),
                send: vec![]
            }
        );
    }

    #[test]
    fn peer_with_unseen_txn_in_same_epoch_gets_trunc_then_diff() {
        // A hole at the peer's zxid within its epoch (ZAB never makes one, syncFollower
        // handles it anyway): TRUNC to the entry before, then the rest.
        let w = [z(1, 1), z(1, 2), z(1, 4)];
        assert_eq!(
            choose(&w, z(1, 4), z(1, 3), OnDisk::NotRead),
            SyncPlan::Trunc {
                zxid: z(1, 2),
                send: vec![z(1, 4)]
            }
        );
    }

    #[test]
    fn unseen_txn_across_epochs_needs_snap() {
        // ZOOKEEPER-2845's shape: the old leader logged 1:3 alone; the new leader has 2:1.
        let w = [z(1, 1), z(1, 2), z(2, 1)];
        assert_eq!(
            choose(&w, z(2, 1), z(1, 3), OnDisk::NotRead),
            SyncPlan::Snap
        );
    }

    #[test]
    fn new_epoch_peer_gets_diff_from_the_next_entry() {
        let w = [z(1, 1), z(2, 1), z(2, 2)];
        assert_eq!(
            choose(&w, z(2, 2), z(2, 0), OnDisk::NotRead),
            SyncPlan::Diff {
                zxid: z(2, 2),
                send: vec![z(2, 1), z(2, 2)]
            }
        );
    }

    #[test]
    fn peer_below_window_needs_the_log_and_gets_snap_without_it() {
        let w = [z(1, 5), z(1, 6)];
        assert_eq!(
            choose(&w, z(1, 6), z(1, 2), OnDisk::NotRead),
            SyncPlan::ReadLog { through: z(1, 5) }
        );
        assert_eq!(
            choose(&w, z(1, 6), z(1, 2), OnDisk::Unusable),
            SyncPlan::Snap
        );
        // An empty committedLog ends at lastProcessedZxid.
        assert_eq!(
            choose(&[], z(1, 6), z(1, 2), OnDisk::NotRead),
            SyncPlan::ReadLog { through: z(1, 6) }
        );
    }

    fn txns(zs: &[Zxid]) -> Vec<Txn> {
        zs.iter()
            .map(|z| Txn {
                zxid: *z,
                data: bytes::Bytes::new(),
            })
            .collect()
    }

    fn history(preceding: Option<Zxid>, zs: &[Zxid]) -> LogHistory {
        LogHistory {
            preceding,
            txns: txns(zs),
        }
    }

    #[test]
    fn peer_below_window_gets_diff_from_log_then_window() {
        // Log 1:2..1:5 on disk, window 1:5..1:7: the log's part up to the
        // window's first entry, then the window's rest, each once.
        let w = [z(1, 5), z(1, 6), z(1, 7)];
        let h = history(Some(z(1, 2)), &[z(1, 3), z(1, 4), z(1, 5)]);
        assert_eq!(
            choose(&w, z(1, 7), z(1, 2), OnDisk::Read(&h)),
            SyncPlan::Diff {
                zxid: z(1, 7),
                send: vec![z(1, 3), z(1, 4), z(1, 5), z(1, 6), z(1, 7)]
            }
        );
    }

    #[test]
    fn log_ending_before_the_window_is_a_gap_and_gets_snap() {
        let w = [z(1, 6), z(1, 7)];
        let h = history(Some(z(1, 2)), &[z(1, 3), z(1, 4)]);
        assert_eq!(
            choose(&w, z(1, 7), z(1, 2), OnDisk::Read(&h)),
            SyncPlan::Snap
        );
        // The peer's own txn is the log's last: nothing reaches the window.
        let h = history(Some(z(1, 2)), &[]);
        assert_eq!(
            choose(&w, z(1, 7), z(1, 2), OnDisk::Read(&h)),
            SyncPlan::Snap
        );
    }

    #[test]
    fn log_starting_after_the_peer_gets_snap() {
        // getProposalsFromTxnLog: "Unable to find proposals from txnlog".
        let w = [z(1, 6), z(1, 7)];
        let h = history(None, &[z(1, 4), z(1, 5), z(1, 6)]);
        assert_eq!(
            choose(&w, z(1, 7), z(1, 2), OnDisk::Read(&h)),
            SyncPlan::Snap
        );
    }

    #[test]
    fn log_skipping_the_peer_within_its_epoch_gets_trunc_then_the_rest() {
        // The peer logged 1:3 that the leader never did (the leader has 1:2, then 1:4).
        let w = [z(1, 5), z(1, 6)];
        let h = history(Some(z(1, 2)), &[z(1, 4), z(1, 5)]);
        assert_eq!(
            choose(&w, z(1, 6), z(1, 3), OnDisk::Read(&h)),
            SyncPlan::Trunc {
                zxid: z(1, 2),
                send: vec![z(1, 4), z(1, 5), z(1, 6)]
            }
        );
    }

    #[test]
    fn log_skipping_the_peer_across_epochs_gets_snap() {
        let w = [z(2, 3), z(2, 4)];
        let h = history(Some(z(1, 2)), &[z(2, 1), z(2, 2), z(2, 3)]);
        assert_eq!(
            choose(&w, z(2, 4), z(1, 3), OnDisk::Read(&h)),
            SyncPlan::Snap
        );
    }

    #[test]
    fn new_epoch_peer_below_window_gets_diff_from_log() {
        // A learner that synced to 2:0 and went away: 2:0 is never logged.
        let w = [z(2, 3), z(2, 4)];
        let h = history(Some(z(1, 9)), &[z(2, 1), z(2, 2), z(2, 3)]);
        assert_eq!(
            choose(&w, z(2, 4), z(2, 0), OnDisk::Read(&h)),
            SyncPlan::Diff {
                zxid: z(2, 4),
                send: vec![z(2, 1), z(2, 2), z(2, 3), z(2, 4)]
            }
        );
    }

    #[test]
    fn log_txns_after_the_window_start_are_taken_from_the_window() {
        // A host may read past the zxid asked for; queueCommittedProposals
        // stops the log at the window's first entry.
        let w = [z(1, 4), z(1, 5)];
        let h = history(Some(z(1, 2)), &[z(1, 3), z(1, 4), z(1, 5), z(1, 6)]);
        assert_eq!(
            choose(&w, z(1, 5), z(1, 2), OnDisk::Read(&h)),
            SyncPlan::Diff {
                zxid: z(1, 5),
                send: vec![z(1, 3), z(1, 4), z(1, 5)]
            }
        );
    }

    #[test]
    fn peer_equal_or_ahead_never_reads_the_log() {
        let w = [z(1, 5), z(1, 6)];
        let h = history(None, &[]);
        assert_eq!(
            choose(&w, z(1, 6), z(1, 6), OnDisk::Read(&h)),
            SyncPlan::Diff {
                zxid: z(1, 6),
                send: vec![]
            }
        );
        assert_eq!(
            choose(&w, z(1, 6), z(1, 8), OnDisk::NotRead),
            SyncPlan::Trunc {
                zxid: z(1, 6),
                send: vec![]
            }
        );
    }
}
