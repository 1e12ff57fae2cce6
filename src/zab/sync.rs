//! The leader's choice of DIFF, TRUNC or SNAP for a learner
//! (`LearnerHandler.syncFollower` / `queueCommittedProposals`), as a pure
//! function over the committed window so it can be tested case by case.

use super::types::Zxid;

/// How to bring a learner whose last logged zxid is `peer` up to date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncPlan {
    /// DIFF(zxid), then PROPOSAL+COMMIT for each zxid in `send`.
    Diff { zxid: Zxid, send: Vec<Zxid> },
    /// TRUNC(zxid), then PROPOSAL+COMMIT for each zxid in `send`.
    Trunc { zxid: Zxid, send: Vec<Zxid> },
    /// SNAP of the database at the leader's lastProcessedZxid.
    Snap,
}

impl SyncPlan {
    /// The zxid the learner will be at once the plan is through; forwarding
    /// of outstanding proposals starts after it (`startForwarding`).
    pub fn reaches(&self, peer: Zxid, last_processed: Zxid) -> Zxid {
        match self {
            SyncPlan::Diff { send, .. } => send.last().copied().unwrap_or(peer),
            SyncPlan::Trunc { zxid, send } => send.last().copied().unwrap_or(*zxid),
            SyncPlan::Snap => last_processed,
        }
    }
}

/// `window` is the leader's committed proposals, ascending; `last_processed`
/// its database's last applied zxid.
pub fn choose(window: &[Zxid], last_processed: Zxid, peer: Zxid) -> SyncPlan {
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
        from_window(window, peer, max)
    } else {
        // Below the window. ZooKeeper may serve this from the on-disk txn
        // log (bounded by snapshotSizeFactor); the machine keeps only the
        // window, so it falls back to SNAP, which ZooKeeper also does.
        SyncPlan::Snap
    }
}

/// `queueCommittedProposals` over the whole window.
fn from_window(window: &[Zxid], peer: Zxid, last_committed: Zxid) -> SyncPlan {
    let peer_new_epoch = peer.counter() == 0;
    let mut op: Option<SyncPlan> = None;
    let mut prev: Option<Zxid> = None;
    let mut send = Vec::new();
    for &z in window {
        if z < peer {
            prev = Some(z);
            continue;
        }
        if op.is_none() {
            if z == peer {
                op = Some(SyncPlan::Diff {
                    zxid: last_committed,
                    send: Vec::new(),
                });
                continue;
            }
            if peer_new_epoch {
                op = Some(SyncPlan::Diff {
                    zxid: last_committed,
                    send: Vec::new(),
                });
            } else {
                // The peer logged txns this leader never saw (it may have led
                // once). TRUNC may not cross an epoch: the learner could not
                // honour it, so that case is SNAP.
                let (Some(p), true) = (prev, z.epoch() == peer.epoch()) else {
                    return SyncPlan::Snap;
                };
                op = Some(SyncPlan::Trunc {
                    zxid: p,
                    send: Vec::new(),
                });
            }
        }
        if z > peer {
            send.push(z);
        }
    }
    match op {
        Some(SyncPlan::Diff { zxid, .. }) => SyncPlan::Diff { zxid, send },
        Some(SyncPlan::Trunc { zxid, .. }) => SyncPlan::Trunc { zxid, send },
        _ if peer_new_epoch => SyncPlan::Diff {
            zxid: last_committed,
            send,
        },
        _ => SyncPlan::Snap,
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
            choose(&w, z(1, 2), z(1, 2)),
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
            choose(&w, z(2, 1), z(1, 2)),
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
            choose(&w, z(1, 2), z(1, 5)),
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
            choose(&w, z(1, 4), z(1, 3)),
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
        assert_eq!(choose(&w, z(2, 1), z(1, 3)), SyncPlan::Snap);
    }

    #[test]
    fn new_epoch_peer_gets_diff_from_the_next_entry() {
        let w = [z(1, 1), z(2, 1), z(2, 2)];
        assert_eq!(
            choose(&w, z(2, 2), z(2, 0)),
            SyncPlan::Diff {
                zxid: z(2, 2),
                send: vec![z(2, 1), z(2, 2)]
            }
        );
    }

    #[test]
    fn peer_below_window_gets_snap() {
        let w = [z(1, 5), z(1, 6)];
        assert_eq!(choose(&w, z(1, 6), z(1, 2)), SyncPlan::Snap);
        assert_eq!(choose(&[], z(1, 6), z(1, 2)), SyncPlan::Snap);
    }
}
