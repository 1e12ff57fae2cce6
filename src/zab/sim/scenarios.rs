//! Scripted replays of the ZAB implementation bugs in zab-facts.md §9: each
//! drives the interleaving that broke ZooKeeper, then heals, restarts and
//! checks that no acknowledged txn is lost and every member agrees (the
//! checker's invariants run at every step as well).

use super::cluster::{Cluster, Faults, Hold, LogSync};
use crate::zab::{PersistOp, QuorumPacket, Sid, Zxid};

fn run_until(c: &mut Cluster, max: u64, pred: impl Fn(&Cluster) -> bool) -> bool {
    for _ in 0..max {
        if pred(c) {
            return true;
        }
        c.step();
        assert_eq!(c.checker.failure, None);
    }
    pred(c)
}

/// Three members serving, sid 3 leading epoch 1 (highest sid wins a tie).
fn steady() -> Cluster {
    let mut c = Cluster::new(3, 1, Faults::none());
    c.record = true;
    assert!(
        run_until(&mut c, 2000, |c| c.converged()),
        "no initial leader"
    );
    let roles: Vec<_> = c.hosts.iter().map(|h| h.role).collect();
    assert_eq!(c.leader(), Some(3), "{roles:?}");
    c
}

/// Submits to the serving leader until `n` more writes are acknowledged.
fn writes(c: &mut Cluster, n: usize) {
    let before = c.checker.acked.len();
    for _ in 0..3000 {
        if c.checker.acked.len() >= before + n {
            return;
        }
        if let Some(l) = c.leader() {
            c.submit(l);
        }
        c.step();
        assert_eq!(c.checker.failure, None);
    }
    panic!(
        "only {} of {n} writes acked",
        c.checker.acked.len() - before
    );
}

/// Heal everything, restart everyone, demand progress and agreement.
fn finish(c: &mut Cluster) {
    c.heal();
    for s in c.sids() {
        c.host_mut(s).stall_disk = false;
        if !c.host(s).is_up() {
            c.restart(s);
        }
    }
    assert!(
        run_until(c, 3000, |c| c.leader().is_some()),
        "no leader after healing"
    );
    writes(c, 3);
    assert!(
        run_until(c, 3000, |c| c.converged()),
        "members do not converge"
    );
    for h in &c.hosts {
        for (z, data) in &c.checker.acked {
            assert!(
                h.db.iter().any(|t| t.zxid == *z && t.data == *data),
                "sid {} lost acked {z:?}",
                h.sid
            );
        }
    }
    assert_eq!(c.checker.failure, None);
}

fn acks_sent(c: &Cluster, from: Sid, to: Sid) -> Vec<Zxid> {
    c.sent
        .iter()
        .filter_map(|(f, t, p)| match p {
            QuorumPacket::Ack { zxid } if *f == from && *t == to => Some(*zxid),
            _ => None,
        })
        .collect()
}

/// ZOOKEEPER-2845: the leader logs T alone and loses its quorum; the others
/// elect and move on; the old leader rejoins with T in its log. It must be
/// synced so T disappears from its database and from its log for good.
#[test]
fn zk_2845_lone_logged_txn_is_truncated_on_rejoin() {
    let mut c = steady();
    writes(&mut c, 3);
    for to in [1, 2] {
        c.holds.insert(Hold {
            from: 3,
            to,
            kind: "PROPOSAL",
        });
    }
    assert!(c.submit(3));
    let lone = c.host(3).node.as_ref().map(|n| n.log().last_zxid());
    c.partition(&[3], &[1, 2]);
    assert!(run_until(&mut c, 3000, |c| c
        .leader()
        .is_some_and(|l| l != 3)));
    writes(&mut c, 3);
    c.heal();
    assert!(run_until(&mut c, 3000, |c| c.converged()));
    c.crash(3);
    c.restart(3);
    finish(&mut c);
    let lone = lone.expect("leader 3 was up");
    for h in &c.hosts {
        assert!(h
            .db
            .iter()
            .all(|t| !c.checker.submitted.is_empty() && t.zxid != lone));
    }
}

/// ZOOKEEPER-3911 / 4646: NEWLEADER must not be acked while the DIFF txns it
/// covers are still unwritten; then everyone crashes.
#[test]
fn zk_3911_4646_no_newleader_ack_before_diff_txns_are_durable() {
    let mut c = steady();
    c.crash(1);
    writes(&mut c, 5);
    c.host_mut(1).stall_disk = true;
    c.restart(1);
    let sent_before = c.sent.len();
    assert!(run_until(&mut c, 200, |c| c
        .pending_ops(1)
        .iter()
        .any(|o| matches!(o, PersistOp::CurrentEpoch(_)))));
    for _ in 0..100 {
        c.step();
    }
    let newleader_acks = c.sent[sent_before..]
        .iter()
        .filter(|(f, _, p)| {
            *f == 1 && matches!(p, QuorumPacket::Ack { zxid } if zxid.counter() == 0)
        })
        .count();
    assert_eq!(
        newleader_acks, 0,
        "NEWLEADER acked with the DIFF txns still pending"
    );
    assert!(!c.host(1).serving());
    for s in [1, 2, 3] {
        c.crash(s);
    }
    finish(&mut c);
}

/// ZOOKEEPER-4643: currentEpoch written, crash before the txns were logged:
/// the node then claimed a new epoch without its history, won elections on
/// peerEpoch and truncated committed txns. Here currentEpoch comes last.
#[test]
fn zk_4643_current_epoch_is_written_after_the_txns() {
    let mut c = steady();
    writes(&mut c, 2); // so that 1 is inside the committed window: DIFF
    c.crash(1);
    writes(&mut c, 5);
    c.crash(3);
    c.host_mut(1).stall_disk = true;
    c.restart(1);
    // Let exactly the acceptedEpoch write through so 2 can lead epoch 2.
    assert!(run_until(&mut c, 2000, |c| c
        .pending_ops(1)
        .iter()
        .any(|o| matches!(o, PersistOp::AcceptedEpoch(_)))));
    while !matches!(c.pending_ops(1).first(), Some(PersistOp::AcceptedEpoch(_))) {
        assert!(c.persist_one(1));
    }
    assert!(c.persist_one(1));
    assert!(run_until(&mut c, 2000, |c| c
        .pending_ops(1)
        .iter()
        .any(|o| matches!(o, PersistOp::CurrentEpoch(2)))));
    let ops = c.pending_ops(1);
    assert!(
        matches!(ops.last(), Some(PersistOp::CurrentEpoch(2))),
        "order {ops:?}"
    );
    assert!(
        ops.iter()
            .filter(|o| matches!(o, PersistOp::Append(_)))
            .count()
            >= 5,
        "{ops:?}"
    );
    assert!(c.persist_one(1)); // one txn of the DIFF reaches the disk
    c.crash(1);
    assert!(
        c.host(1).disk.current_epoch < 2,
        "currentEpoch written before the txns"
    );
    c.crash(2);
    finish(&mut c);
}

/// ZOOKEEPER-4685 / 3023: a learner joining while proposals are in flight
/// must ACK NEWLEADER before any of them, or the leader never counts it.
#[test]
fn zk_4685_newleader_ack_is_not_overtaken_by_proposal_acks() {
    let mut c = steady();
    c.crash(1);
    writes(&mut c, 5);
    c.holds.insert(Hold {
        from: 2,
        to: 3,
        kind: "ACK",
    });
    for _ in 0..3 {
        assert!(c.submit(3));
    }
    let sent_before = c.sent.len();
    c.restart(1);
    assert!(run_until(&mut c, 2000, |c| c.host(1).serving()));
    let acks: Vec<Zxid> = c.sent[sent_before..]
        .iter()
        .filter_map(|(f, t, p)| match p {
            QuorumPacket::Ack { zxid } if *f == 1 && *t == 3 => Some(*zxid),
            _ => None,
        })
        .collect();
    assert_eq!(
        acks.first().map(|z| z.counter()),
        Some(0),
        "first ACK {acks:?}"
    );
    // 1's ACKs complete the quorum that 2's held ACKs denied.
    assert!(run_until(&mut c, 500, |c| c
        .hosts
        .iter()
        .all(|h| h.db.len() == c.host(3).db.len())));
    assert_eq!(c.leader(), Some(3));
    assert_eq!(c.checker.leaders.len(), 1, "the leader stepped down");
    assert!(acks_sent(&c, 1, 3).len() >= 4);
    finish(&mut c);
}

/// ZOOKEEPER-3642: the leader dies after SNAP, before NEWLEADER. The learner
/// must not build on a snapshot it never saved.
#[test]
fn zk_3642_leader_dies_between_snap_and_newleader() {
    let mut c = steady();
    c.log_sync = LogSync::Off;
    c.crash(1);
    writes(&mut c, 60); // beyond the 40-entry committed window: SNAP
    c.holds.insert(Hold {
        from: 3,
        to: 1,
        kind: "NEWLEADER",
    });
    let target = c.host(3).db.len();
    c.restart(1);
    assert!(run_until(&mut c, 2000, |c| c.host(1).db.len() >= target));
    c.crash(3);
    c.holds.clear();
    assert!(run_until(&mut c, 3000, |c| c.leader().is_some()
        && c.host(1).serving()
        && c.host(2).serving()));
    writes(&mut c, 5);
    c.crash(1);
    c.crash(2);
    c.restart(1);
    c.restart(2);
    finish(&mut c);
}

/// ZOOKEEPER-3104: commits racing a SNAP sync must not fall between the
/// snapshot and forwarding. The leader decides sync and forwarding in one step.
#[test]
fn zk_3104_commits_during_snap_sync_are_not_lost() {
    let mut c = steady();
    c.log_sync = LogSync::Off;
    c.crash(1);
    writes(&mut c, 60);
    c.restart(1);
    for _ in 0..200 {
        if let Some(l) = c.leader() {
            c.submit(l);
        }
        c.step();
        assert_eq!(c.checker.failure, None);
    }
    finish(&mut c);
}

/// ZOOKEEPER-4394: COMMITs that arrive after NEWLEADER but before UPTODATE
/// are remembered and applied after it, in order.
#[test]
fn zk_4394_commit_before_uptodate_is_applied_after_it() {
    let mut c = steady();
    c.crash(1);
    writes(&mut c, 5);
    c.holds.insert(Hold {
        from: 3,
        to: 1,
        kind: "UPTODATE",
    });
    c.restart(1);
    assert!(run_until(&mut c, 2000, |c| !acks_sent(c, 1, 3).is_empty()));
    writes(&mut c, 4);
    assert!(!c.host(1).serving());
    c.holds.clear();
    assert!(run_until(&mut c, 500, |c| c.host(1).serving()
        && c.host(1).db == c.host(3).db));
    finish(&mut c);
}

/// The first sync packet the leader `from` sent `to`, and how many
/// PROPOSALs it sent `to` in all.
fn sync_sent(c: &Cluster, from: Sid, to: Sid) -> (Option<&'static str>, usize) {
    let mut first = None;
    let mut proposals = 0;
    for (f, t, p) in &c.sent {
        if (*f, *t) != (from, to) {
            continue;
        }
        match p {
            QuorumPacket::Diff { .. } => first = first.or(Some("DIFF")),
            QuorumPacket::Trunc { .. } => first = first.or(Some("TRUNC")),
            QuorumPacket::Snap { .. } => first = first.or(Some("SNAP")),
            QuorumPacket::Proposal { .. } => proposals += 1,
            _ => {}
        }
    }
    (first, proposals)
}

/// A learner older than the committed window (40 entries here) catches up
/// by DIFF from the leader's on-disk log, then the window, when the host
/// hands the log over (`syncFollower`'s "Use txnlog and committedLog"); by
/// SNAP when it does not (a negative snapshotSizeFactor, a log over the
/// size limit).
#[test]
fn learner_older_than_the_window_gets_diff_from_the_log() {
    for (mode, want) in [(LogSync::Now, "DIFF"), (LogSync::Off, "SNAP")] {
        let mut c = steady();
        c.log_sync = mode;
        writes(&mut c, 5);
        assert!(run_until(&mut c, 500, |c| c.host(1).disk.log.len() >= 5));
        c.crash(1);
        writes(&mut c, 60);
        c.sent.clear();
        c.restart(1);
        assert!(run_until(&mut c, 2000, |c| c.host(1).serving()
            && c.host(1).db == c.host(3).db));
        let (first, proposals) = sync_sent(&c, 3, 1);
        assert_eq!(first, Some(want), "{mode:?}");
        if want == "DIFF" {
            assert!(proposals >= 60, "{proposals} proposals");
        }
        finish(&mut c);
    }
}

/// The host answers a few ticks late while writes go on: the window moves
/// between the question and the answer, and the choice is made on the
/// window as it is then (DIFF if the log still reaches it, else SNAP);
/// either way the learner ends with the leader's history.
#[test]
fn late_log_answer_with_writes_in_between() {
    let mut c = steady();
    c.log_sync = LogSync::Random;
    c.crash(1);
    writes(&mut c, 60);
    c.restart(1);
    for _ in 0..300 {
        if let Some(l) = c.leader() {
            c.submit(l);
        }
        c.step();
        assert_eq!(c.checker.failure, None);
    }
    finish(&mut c);
}
