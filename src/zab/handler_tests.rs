//! Per-handler tests: feed one node messages and compare the exact actions
//! it emits (openraft's engine tests are the model).

use bytes::Bytes;

use super::message::{Action, Notification, PersistOp, QuorumPacket, PROTOCOL_VERSION};
use super::node::{Node, Restored};
use super::sync::LogHistory;
use super::types::{ServerState, Sid, Txn, ZabConfig, Zxid};

fn z(e: i64, c: u32) -> Zxid {
    Zxid::new(e, c)
}
fn txn(e: i64, c: u32) -> Txn {
    Txn {
        zxid: z(e, c),
        data: Bytes::from(format!("t{e}.{c}")),
    }
}
/// A member of {1, 2, 3} in epoch 1 with txns 1:1..=1:`last` on disk.
fn node(sid: Sid, last: u32) -> Node {
    let restored = Restored {
        accepted_epoch: 1,
        current_epoch: 1,
        snapshot_zxid: Zxid::ZERO,
        log: (1..=last).map(|c| txn(1, c)).collect(),
    };
    Node::new(ZabConfig::new(sid, vec![1, 2, 3]), restored)
}
fn looking(leader: Sid, zxid: Zxid, election_epoch: i64) -> Notification {
    Notification {
        state: ServerState::Looking,
        leader,
        zxid,
        election_epoch,
        peer_epoch: 1,
    }
}
fn send(to: Sid, packet: QuorumPacket) -> Action {
    Action::Send { to, packet }
}
fn persist(id: u64, op: PersistOp) -> Action {
    Action::Persist { id, op }
}
fn ticks(n: &mut Node, count: usize) -> Vec<Action> {
    let mut out = Vec::new();
    for _ in 0..count {
        n.tick();
        out.extend(n.take_actions());
    }
    out
}

#[test]
fn election_starts_with_a_vote_for_itself() {
    let mut n = node(1, 3);
    let vote = looking(1, z(1, 3), 1);
    assert_eq!(
        n.take_actions(),
        vec![
            Action::State {
                state: ServerState::Looking,
                epoch: 0,
                broadcast: false
            },
            Action::Elect {
                to: 2,
                msg: vote.clone()
            },
            Action::Elect { to: 3, msg: vote },
        ]
    );
}

/// Node 1 (behind) adopts 2's better vote, sees a quorum for it, waits
/// finalizeWait (200 ms = 4 ticks of 50 ms) and follows 2.
fn follower_of_2() -> Node {
    let mut n = node(1, 3);
    n.take_actions();
    n.on_election(2, looking(2, z(1, 5), 1));
    let adopted = looking(2, z(1, 5), 1);
    assert_eq!(
        n.take_actions(),
        vec![
            Action::Elect {
                to: 2,
                msg: adopted.clone()
            },
            Action::Elect {
                to: 3,
                msg: adopted
            }
        ]
    );
    assert_eq!(ticks(&mut n, 3), vec![]);
    assert_eq!(
        ticks(&mut n, 1),
        vec![
            Action::State {
                state: ServerState::Following,
                epoch: 0,
                broadcast: false
            },
            Action::Connect { leader: 2 },
            send(
                2,
                QuorumPacket::FollowerInfo {
                    zxid: z(1, 0),
                    sid: 1,
                    protocol_version: PROTOCOL_VERSION
                }
            ),
        ]
    );
    n
}

#[test]
fn election_adopts_a_better_vote_and_decides_after_finalize_wait() {
    let mut n = follower_of_2();
    // Settled now: a LOOKING peer gets our vote back, marked FOLLOWING.
    n.on_election(3, looking(3, z(1, 1), 1));
    let mut vote = looking(2, z(1, 5), 1);
    vote.state = ServerState::Following;
    assert_eq!(n.take_actions(), vec![Action::Elect { to: 3, msg: vote }]);
}

#[test]
fn election_joins_an_ensemble_that_already_has_a_leader() {
    let mut n = node(3, 1);
    n.take_actions();
    let settled = |state, peer_epoch| Notification {
        state,
        leader: 2,
        zxid: z(1, 9),
        election_epoch: 7,
        peer_epoch,
    };
    n.on_election(1, settled(ServerState::Following, 2));
    assert_eq!(
        n.state(),
        ServerState::Looking,
        "one follower is not a quorum"
    );
    n.take_actions();
    n.on_election(2, settled(ServerState::Leading, 2));
    assert_eq!(n.state(), ServerState::Following);
    assert_eq!(n.leader(), Some(2));
    assert_eq!(n.current_vote().election_epoch, 7);
}

#[test]
fn learner_acks_epoch_only_after_accepted_epoch_is_durable() {
    let mut n = follower_of_2();
    n.on_quorum(
        2,
        QuorumPacket::LeaderInfo {
            zxid: z(2, 0),
            protocol_version: PROTOCOL_VERSION,
        },
    );
    assert_eq!(
        n.take_actions(),
        vec![persist(1, PersistOp::AcceptedEpoch(2))]
    );
    n.persisted(1);
    assert_eq!(
        n.take_actions(),
        vec![send(
            2,
            QuorumPacket::AckEpoch {
                zxid: z(1, 3),
                current_epoch: 1
            }
        )]
    );
}

#[test]
fn learner_logs_diff_then_writes_current_epoch_then_acks_newleader() {
    let mut n = follower_of_2();
    n.on_quorum(
        2,
        QuorumPacket::LeaderInfo {
            zxid: z(2, 0),
            protocol_version: PROTOCOL_VERSION,
        },
    );
    n.persisted(1);
    n.take_actions();
    for p in [
        QuorumPacket::Diff { zxid: z(1, 5) },
        QuorumPacket::Proposal { txn: txn(1, 4) },
        QuorumPacket::Commit { zxid: z(1, 4) },
        QuorumPacket::Proposal { txn: txn(1, 5) },
        QuorumPacket::Commit { zxid: z(1, 5) },
    ] {
        n.on_quorum(2, p);
    }
    assert_eq!(
        n.take_actions(),
        vec![],
        "nothing is applied or acked before NEWLEADER"
    );
    n.on_quorum(2, QuorumPacket::NewLeader { zxid: z(2, 0) });
    assert_eq!(
        n.take_actions(),
        vec![
            persist(2, PersistOp::Append(txn(1, 4))),
            persist(3, PersistOp::Append(txn(1, 5))),
            persist(4, PersistOp::CurrentEpoch(2)),
        ]
    );
    n.persisted(3);
    assert_eq!(
        n.take_actions(),
        vec![],
        "no ACK before currentEpoch is durable"
    );
    n.persisted(4);
    assert_eq!(
        n.take_actions(),
        vec![send(2, QuorumPacket::Ack { zxid: z(2, 0) })]
    );
    n.on_quorum(2, QuorumPacket::UpToDate);
    assert_eq!(
        n.take_actions(),
        vec![
            send(2, QuorumPacket::Ack { zxid: z(2, 0) }),
            Action::State {
                state: ServerState::Following,
                epoch: 2,
                broadcast: true
            },
            Action::Apply(txn(1, 4)),
            Action::Apply(txn(1, 5)),
            send(2, QuorumPacket::Ack { zxid: z(1, 4) }),
            send(2, QuorumPacket::Ack { zxid: z(1, 5) }),
        ]
    );
    assert_eq!(n.current_vote().peer_epoch, 2, "ZOOKEEPER-1732");
    // Broadcast: log before ack, apply on commit.
    n.on_quorum(2, QuorumPacket::Proposal { txn: txn(2, 1) });
    assert_eq!(
        n.take_actions(),
        vec![persist(5, PersistOp::Append(txn(2, 1)))]
    );
    n.persisted(5);
    assert_eq!(
        n.take_actions(),
        vec![send(2, QuorumPacket::Ack { zxid: z(2, 1) })]
    );
    n.on_quorum(2, QuorumPacket::Commit { zxid: z(2, 1) });
    assert_eq!(n.take_actions(), vec![Action::Apply(txn(2, 1))]);
    // A COMMIT that skips the pending txn is a protocol break: back to LOOKING.
    n.on_quorum(2, QuorumPacket::Proposal { txn: txn(2, 2) });
    n.on_quorum(2, QuorumPacket::Commit { zxid: z(2, 3) });
    assert_eq!(n.state(), ServerState::Looking);
}

/// Node 3 (the best vote) elected by 1's matching vote.
fn leader_3() -> Node {
    let mut n = node(3, 3);
    n.take_actions();
    n.on_election(1, looking(3, z(1, 3), 1));
    ticks(&mut n, 4);
    assert_eq!(n.state(), ServerState::Leading);
    n
}

#[test]
fn leader_runs_discovery_sync_and_broadcast() {
    let mut n = leader_3();
    n.on_quorum(
        1,
        QuorumPacket::FollowerInfo {
            zxid: z(1, 0),
            sid: 1,
            protocol_version: PROTOCOL_VERSION,
        },
    );
    assert_eq!(
        n.take_actions(),
        vec![persist(1, PersistOp::AcceptedEpoch(2))]
    );
    n.persisted(1);
    let info = QuorumPacket::LeaderInfo {
        zxid: z(2, 0),
        protocol_version: PROTOCOL_VERSION,
    };
    assert_eq!(n.take_actions(), vec![send(1, info)]);
    n.on_quorum(
        1,
        QuorumPacket::AckEpoch {
            zxid: z(1, 2),
            current_epoch: 1,
        },
    );
    assert_eq!(
        n.take_actions(),
        vec![
            persist(2, PersistOp::CurrentEpoch(2)),
            send(1, QuorumPacket::Diff { zxid: z(1, 3) }),
            send(1, QuorumPacket::Proposal { txn: txn(1, 3) }),
            send(1, QuorumPacket::Commit { zxid: z(1, 3) }),
            send(1, QuorumPacket::NewLeader { zxid: z(2, 0) }),
        ]
    );
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 0) });
    assert_eq!(
        n.take_actions(),
        vec![],
        "the leader's own currentEpoch is not durable yet"
    );
    assert!(!n.is_broadcasting());
    n.persisted(2);
    assert_eq!(
        n.take_actions(),
        vec![
            Action::State {
                state: ServerState::Leading,
                epoch: 2,
                broadcast: true
            },
            send(1, QuorumPacket::UpToDate),
        ]
    );
    assert_eq!(n.propose(Bytes::from("x")), Ok(Some(z(2, 1))));
    let t = Txn {
        zxid: z(2, 1),
        data: Bytes::from("x"),
    };
    assert_eq!(
        n.take_actions(),
        vec![
            persist(3, PersistOp::Append(t.clone())),
            send(1, QuorumPacket::Proposal { txn: t.clone() })
        ]
    );
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 1) });
    assert_eq!(
        n.take_actions(),
        vec![],
        "the leader counts itself only once logged"
    );
    n.persisted(3);
    assert_eq!(
        n.take_actions(),
        vec![
            Action::Apply(t),
            send(1, QuorumPacket::Commit { zxid: z(2, 1) })
        ]
    );
    // The follower goes silent: past syncLimit the leader loses its quorum.
    let out = ticks(&mut n, 300);
    assert!(out.contains(&Action::Disconnect { peer: 1 }));
    assert_eq!(n.state(), ServerState::Looking);
    assert_eq!(n.last_reason, "not sufficient followers synced");
}

#[test]
fn leader_refuses_a_learner_with_a_newer_history() {
    let mut n = leader_3();
    n.on_quorum(
        1,
        QuorumPacket::FollowerInfo {
            zxid: z(1, 0),
            sid: 1,
            protocol_version: PROTOCOL_VERSION,
        },
    );
    n.persisted(1);
    n.take_actions();
    n.on_quorum(
        1,
        QuorumPacket::AckEpoch {
            zxid: z(1, 9),
            current_epoch: 1,
        },
    );
    assert_eq!(n.take_actions(), vec![Action::Disconnect { peer: 1 }]);
}

#[test]
fn leader_that_gets_no_quorum_in_init_limit_steps_down() {
    let mut n = leader_3();
    // initLimit 10 × tickTime 2000 ms at 50 ms ticks = 400 ticks.
    ticks(&mut n, 399);
    assert_eq!(n.state(), ServerState::Leading);
    ticks(&mut n, 2);
    assert_eq!(n.state(), ServerState::Looking);
}

/// ZOOKEEPER-1277: the leader never uses counter 0xffffffff; it steps down
/// so that the next epoch restarts the counter.
#[test]
fn leader_steps_down_when_the_zxid_counter_would_roll_over() {
    let mut n = leader_3();
    n.on_quorum(
        1,
        QuorumPacket::FollowerInfo {
            zxid: z(1, 0),
            sid: 1,
            protocol_version: PROTOCOL_VERSION,
        },
    );
    n.persisted(1);
    n.on_quorum(
        1,
        QuorumPacket::AckEpoch {
            zxid: z(1, 3),
            current_epoch: 1,
        },
    );
    n.persisted(2);
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 0) });
    assert!(n.is_broadcasting());
    if let Some(l) = n.leader_state_mut() {
        l.set_last_proposed(z(2, 0xffff_fffd));
    }
    n.take_actions();
    assert_eq!(n.propose(Bytes::from("last")), Ok(Some(z(2, 0xffff_fffe))));
    n.take_actions();
    assert_eq!(
        n.propose(Bytes::from("over")),
        Err(super::node::ProposeError::CounterExhausted)
    );
    let out = n.take_actions();
    assert!(out.contains(&Action::Disconnect { peer: 1 }), "{out:?}");
    assert_eq!(n.state(), ServerState::Looking);
}

/// Leader 3 broadcasting in epoch 2 with follower 1 synced (as in
/// `leader_runs_discovery_sync_and_broadcast`).
fn leader_3_broadcasting_with_1() -> Node {
    let mut n = leader_3();
    n.on_quorum(
        1,
        QuorumPacket::FollowerInfo {
            zxid: z(1, 0),
            sid: 1,
            protocol_version: PROTOCOL_VERSION,
        },
    );
    n.persisted(1);
    n.on_quorum(
        1,
        QuorumPacket::AckEpoch {
            zxid: z(1, 3),
            current_epoch: 1,
        },
    );
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 0) });
    n.persisted(2);
    n.take_actions();
    assert!(n.is_broadcasting());
    n
}

fn sent_to(actions: &[Action], sid: Sid) -> Vec<QuorumPacket> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { to, packet } if *to == sid => Some(packet.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn leader_holds_a_joining_learners_commits_until_its_uptodate() {
    // ZOOKEEPER-4394: a Java 3.8.0 learner that gets a COMMIT between NEWLEADER and
    // UPTODATE for a proposal it got before NEWLEADER throws and drops the connection.
    let mut n = leader_3_broadcasting_with_1();
    assert_eq!(n.propose(Bytes::from("x")), Ok(Some(z(2, 1))));
    let t = Txn {
        zxid: z(2, 1),
        data: Bytes::from("x"),
    };
    n.take_actions();
    // Learner 2 joins while 2:1 is outstanding: it gets 2:1 before NEWLEADER.
    n.on_quorum(
        2,
        QuorumPacket::FollowerInfo {
            zxid: z(1, 0),
            sid: 2,
            protocol_version: PROTOCOL_VERSION,
        },
    );
    n.on_quorum(
        2,
        QuorumPacket::AckEpoch {
            zxid: z(1, 3),
            current_epoch: 1,
        },
    );
    let out = n.take_actions();
    assert_eq!(
        sent_to(&out, 2)[1..],
        [
            QuorumPacket::Diff { zxid: z(1, 3) },
            QuorumPacket::Proposal { txn: t.clone() },
            QuorumPacket::NewLeader { zxid: z(2, 0) },
        ]
    );
    // 2:1 commits (1's ACK and the leader's own) before 2 has acked NEWLEADER.
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 1) });
    n.persisted(3);
    let out = n.take_actions();
    assert!(out.contains(&Action::Apply(t.clone())));
    assert_eq!(sent_to(&out, 1), [QuorumPacket::Commit { zxid: z(2, 1) }]);
    assert_eq!(sent_to(&out, 2), [], "no COMMIT before UPTODATE");
    n.on_quorum(2, QuorumPacket::Ack { zxid: z(2, 0) });
    assert_eq!(
        n.take_actions(),
        vec![
            send(2, QuorumPacket::UpToDate),
            send(2, QuorumPacket::Commit { zxid: z(2, 1) }),
        ]
    );
    // From then on its COMMITs go out as they happen.
    assert_eq!(n.propose(Bytes::from("y")), Ok(Some(z(2, 2))));
    n.on_quorum(2, QuorumPacket::Ack { zxid: z(2, 2) });
    n.persisted(4);
    let out = n.take_actions();
    assert_eq!(
        sent_to(&out, 2),
        [
            QuorumPacket::Proposal {
                txn: Txn {
                    zxid: z(2, 2),
                    data: Bytes::from("y"),
                }
            },
            QuorumPacket::Commit { zxid: z(2, 2) },
        ]
    );
}

#[test]
fn leader_sends_a_learners_sync_right_after_the_commit_it_waits_for() {
    // Leader.processSync: with nothing outstanding (here the new epoch's start, before
    // any txn of it) the SYNC goes at once; else right after the COMMIT of the last
    // proposal outstanding when the sync came, ahead of later COMMITs, even when they
    // commit together. A Java learner matches commits and SYNCs to its clients'
    // requests in the order it forwarded them.
    let mut n = leader_3_broadcasting_with_1();
    n.learner_sync(1);
    assert_eq!(
        n.take_actions(),
        vec![send(1, QuorumPacket::Sync { zxid: Zxid::ZERO })]
    );
    assert_eq!(n.propose(Bytes::from("a")), Ok(Some(z(2, 1))));
    n.learner_sync(1);
    assert_eq!(n.propose(Bytes::from("b")), Ok(Some(z(2, 2))));
    assert_eq!(n.pending_syncs(), 1);
    let out = n.take_actions();
    assert!(
        !out.iter().any(|a| matches!(
            a,
            Action::Send {
                packet: QuorumPacket::Sync { .. },
                ..
            }
        )),
        "no SYNC before its COMMIT: {out:?}"
    );
    // Both commit in one go: 1 ACKs both, then the leader's own log writes are durable.
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 1) });
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 2) });
    assert_eq!(sent_to(&n.take_actions(), 1), []);
    n.persisted(4);
    let out = n.take_actions();
    assert_eq!(
        sent_to(&out, 1),
        [
            QuorumPacket::Commit { zxid: z(2, 1) },
            QuorumPacket::Sync { zxid: Zxid::ZERO },
            QuorumPacket::Commit { zxid: z(2, 2) },
        ]
    );
    assert_eq!(n.pending_syncs(), 0);
}

#[test]
fn leader_owes_no_sync_to_a_learner_that_reconnected() {
    // Java answers a sync on the LearnerHandler it came through; a learner that
    // reconnected has new requests, and an old SYNC would answer one of them.
    let mut n = leader_3_broadcasting_with_1();
    assert_eq!(n.propose(Bytes::from("a")), Ok(Some(z(2, 1))));
    n.learner_sync(1);
    n.take_actions();
    n.on_disconnected(1);
    n.on_quorum(
        1,
        QuorumPacket::FollowerInfo {
            zxid: z(2, 0),
            sid: 1,
            protocol_version: PROTOCOL_VERSION,
        },
    );
    assert_eq!(n.pending_syncs(), 0);
    // A sync of a learner that has gone is not answered at all.
    n.learner_sync(2);
    assert_eq!(n.pending_syncs(), 0);
    let out = n.take_actions();
    assert!(
        !out.iter().any(|a| matches!(
            a,
            Action::Send {
                packet: QuorumPacket::Sync { .. },
                ..
            }
        )),
        "{out:?}"
    );
}

/// Leader 3 (log 1:1..=1:3, all in its window) with learner 1 at 0:7, older
/// than the window, past ACKEPOCH: it asks its host for the on-disk log
/// and syncs nobody until the answer.
fn leader_3_reading_log_for_1() -> Node {
    let mut n = leader_3();
    n.on_quorum(
        1,
        QuorumPacket::FollowerInfo {
            zxid: z(0, 0),
            sid: 1,
            protocol_version: PROTOCOL_VERSION,
        },
    );
    n.persisted(1);
    n.take_actions();
    n.on_quorum(
        1,
        QuorumPacket::AckEpoch {
            zxid: z(0, 7),
            current_epoch: 0,
        },
    );
    assert_eq!(
        n.take_actions(),
        vec![
            persist(2, PersistOp::CurrentEpoch(2)),
            Action::ReadSyncLog {
                learner: 1,
                after: z(0, 7),
                through: z(1, 1),
            },
        ]
    );
    n
}

#[test]
fn leader_syncs_an_old_learner_from_the_log_the_host_read() {
    let mut n = leader_3_reading_log_for_1();
    // An answer for another zxid of that learner (an older request) is not its.
    n.on_sync_log(1, z(0, 6), Some(LogHistory::default()));
    assert_eq!(n.take_actions(), vec![]);
    let history = LogHistory {
        preceding: Some(z(0, 7)),
        txns: vec![txn(1, 1), txn(1, 2)],
    };
    n.on_sync_log(1, z(0, 7), Some(history.clone()));
    let mut want = vec![send(1, QuorumPacket::Diff { zxid: z(1, 3) })];
    for c in 1..=3 {
        want.push(send(1, QuorumPacket::Proposal { txn: txn(1, c) }));
        want.push(send(1, QuorumPacket::Commit { zxid: z(1, c) }));
    }
    want.push(send(1, QuorumPacket::NewLeader { zxid: z(2, 0) }));
    assert_eq!(n.take_actions(), want);
    // A second answer finds the learner synced already.
    n.on_sync_log(1, z(0, 7), Some(history));
    assert_eq!(n.take_actions(), vec![]);
}

#[test]
fn leader_snaps_an_old_learner_when_the_log_is_unusable() {
    for history in [
        None,
        // The log starts after the learner's zxid.
        Some(LogHistory {
            preceding: None,
            txns: vec![txn(1, 1)],
        }),
    ] {
        let mut n = leader_3_reading_log_for_1();
        n.on_sync_log(1, z(0, 7), history);
        assert_eq!(
            n.take_actions(),
            vec![
                Action::SendSnapshot {
                    to: 1,
                    zxid: z(1, 3)
                },
                send(1, QuorumPacket::NewLeader { zxid: z(2, 0) }),
            ]
        );
    }
}

#[test]
fn leader_ignores_a_log_answer_for_a_learner_that_left() {
    let mut n = leader_3_reading_log_for_1();
    n.on_disconnected(1);
    n.take_actions();
    n.on_sync_log(1, z(0, 7), None);
    assert_eq!(n.take_actions(), vec![]);
}

/// Leader 3 of voters {1, 2, 3} with observer 4 configured.
fn leader_3_with_observer_4() -> Node {
    let restored = Restored {
        accepted_epoch: 1,
        current_epoch: 1,
        snapshot_zxid: Zxid::ZERO,
        log: (1..=3).map(|c| txn(1, c)).collect(),
    };
    let mut cfg = ZabConfig::new(3, vec![1, 2, 3]);
    cfg.observers = vec![4];
    let mut n = Node::new(cfg, restored);
    n.take_actions();
    n.on_election(1, looking(3, z(1, 3), 1));
    ticks(&mut n, 4);
    assert_eq!(n.state(), ServerState::Leading);
    n.take_actions();
    n
}

fn learner_info(sid: Sid, observer: bool) -> QuorumPacket {
    let (zxid, protocol_version) = (z(1, 0), PROTOCOL_VERSION);
    if observer {
        QuorumPacket::ObserverInfo {
            zxid,
            sid,
            protocol_version,
        }
    } else {
        QuorumPacket::FollowerInfo {
            zxid,
            sid,
            protocol_version,
        }
    }
}

#[test]
fn leader_syncs_an_observer_but_counts_it_in_no_quorum() {
    let mut n = leader_3_with_observer_4();
    // Epoch agreement: the observer and the leader are not a quorum.
    n.on_quorum(4, learner_info(4, true));
    assert_eq!(n.take_actions(), vec![]);
    n.on_quorum(1, learner_info(1, false));
    assert_eq!(
        n.take_actions(),
        vec![persist(1, PersistOp::AcceptedEpoch(2))]
    );
    n.persisted(1);
    let info = QuorumPacket::LeaderInfo {
        zxid: z(2, 0),
        protocol_version: PROTOCOL_VERSION,
    };
    assert_eq!(n.take_actions(), vec![send(1, info.clone()), send(4, info)]);
    // Epoch acks: the observer's does not make a quorum with the leader's.
    let ack_epoch = |c| QuorumPacket::AckEpoch {
        zxid: z(1, c),
        current_epoch: 1,
    };
    n.on_quorum(4, ack_epoch(2));
    assert_eq!(n.take_actions(), vec![]);
    // The follower's does; both are synced the same way (4 lacks 1:3).
    n.on_quorum(1, ack_epoch(3));
    assert_eq!(
        n.take_actions(),
        vec![
            persist(2, PersistOp::CurrentEpoch(2)),
            send(1, QuorumPacket::Diff { zxid: z(1, 3) }),
            send(1, QuorumPacket::NewLeader { zxid: z(2, 0) }),
            send(4, QuorumPacket::Diff { zxid: z(1, 3) }),
            send(4, QuorumPacket::Proposal { txn: txn(1, 3) }),
            send(4, QuorumPacket::Commit { zxid: z(1, 3) }),
            send(4, QuorumPacket::NewLeader { zxid: z(2, 0) }),
        ]
    );
    // NEWLEADER acks: the leader's own and the observer's are not a quorum.
    n.persisted(2);
    n.on_quorum(4, QuorumPacket::Ack { zxid: z(2, 0) });
    assert_eq!(n.take_actions(), vec![]);
    assert!(!n.is_broadcasting());
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 0) });
    assert_eq!(
        n.take_actions(),
        vec![
            Action::State {
                state: ServerState::Leading,
                epoch: 2,
                broadcast: true
            },
            send(1, QuorumPacket::UpToDate),
            send(4, QuorumPacket::UpToDate),
        ]
    );
    // Broadcast: the observer gets no PROPOSAL, its ACK counts for nothing,
    // and the commit reaches it as one INFORM.
    assert_eq!(n.propose(Bytes::from("x")), Ok(Some(z(2, 1))));
    let t = Txn {
        zxid: z(2, 1),
        data: Bytes::from("x"),
    };
    assert_eq!(
        n.take_actions(),
        vec![
            persist(3, PersistOp::Append(t.clone())),
            send(1, QuorumPacket::Proposal { txn: t.clone() }),
        ]
    );
    n.persisted(3);
    n.on_quorum(4, QuorumPacket::Ack { zxid: z(2, 1) });
    assert_eq!(n.take_actions(), vec![], "an observer's ACK is not a vote");
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 1) });
    assert_eq!(
        n.take_actions(),
        vec![
            Action::Apply(t.clone()),
            send(1, QuorumPacket::Commit { zxid: z(2, 1) }),
            send(4, QuorumPacket::Inform { txn: t }),
        ]
    );
    assert_eq!(n.learners(), Some(vec![(1, true), (4, true)]));
}

#[test]
fn leader_closes_learners_whose_role_is_not_the_configured_one() {
    let mut n = leader_3_with_observer_4();
    // A voter announcing itself as observer, an observer as follower, an unlisted sid.
    for (sid, observer) in [(1, true), (4, false), (5, true), (5, false)] {
        n.on_quorum(sid, learner_info(sid, observer));
        assert_eq!(
            n.take_actions(),
            vec![Action::Disconnect { peer: sid }],
            "sid {sid}, observer {observer}"
        );
    }
    assert_eq!(n.learners(), Some(vec![]));
}

/// Leader 3 broadcasting in epoch 2 with follower 1 synced and observer 4 configured.
fn leader_3_broadcasting_with_1_and_observer_4() -> Node {
    let mut n = leader_3_with_observer_4();
    n.on_quorum(1, learner_info(1, false));
    n.persisted(1);
    n.on_quorum(
        1,
        QuorumPacket::AckEpoch {
            zxid: z(1, 3),
            current_epoch: 1,
        },
    );
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 0) });
    n.persisted(2);
    n.take_actions();
    assert!(n.is_broadcasting());
    n
}

#[test]
fn an_observer_joining_during_broadcast_is_informed_of_commits_not_sent_proposals() {
    let mut n = leader_3_broadcasting_with_1_and_observer_4();
    assert_eq!(n.propose(Bytes::from("x")), Ok(Some(z(2, 1))));
    let t = Txn {
        zxid: z(2, 1),
        data: Bytes::from("x"),
    };
    n.take_actions();
    n.on_quorum(4, learner_info(4, true));
    assert_eq!(
        n.take_actions(),
        vec![send(
            4,
            QuorumPacket::LeaderInfo {
                zxid: z(2, 0),
                protocol_version: PROTOCOL_VERSION,
            }
        )]
    );
    // Synced to the committed 1:3; outstanding 2:1 is not sent (a follower gets it).
    n.on_quorum(
        4,
        QuorumPacket::AckEpoch {
            zxid: z(1, 3),
            current_epoch: 1,
        },
    );
    assert_eq!(
        n.take_actions(),
        vec![
            send(4, QuorumPacket::Diff { zxid: z(1, 3) }),
            send(4, QuorumPacket::NewLeader { zxid: z(2, 0) }),
        ]
    );
    // 2:1 commits before the observer acks NEWLEADER: its INFORM goes at once,
    // as Java's leader sends it (a Java observer applies INFORMs during its sync).
    n.on_quorum(1, QuorumPacket::Ack { zxid: z(2, 1) });
    n.persisted(3);
    let out = n.take_actions();
    assert_eq!(sent_to(&out, 4), [QuorumPacket::Inform { txn: t }]);
    n.on_quorum(4, QuorumPacket::Ack { zxid: z(2, 0) });
    assert_eq!(n.take_actions(), vec![send(4, QuorumPacket::UpToDate)]);
    // Its forwarded writes are proposed like a follower's.
    n.on_quorum(
        4,
        QuorumPacket::Request {
            data: Bytes::from("w"),
        },
    );
    let out = n.take_actions();
    assert_eq!(
        sent_to(&out, 1),
        [QuorumPacket::Proposal {
            txn: Txn {
                zxid: z(2, 2),
                data: Bytes::from("w"),
            }
        }]
    );
    assert_eq!(sent_to(&out, 4), []);
}

#[test]
fn a_synced_observer_does_not_keep_the_leader_s_quorum() {
    let mut n = leader_3_broadcasting_with_1_and_observer_4();
    n.on_quorum(4, learner_info(4, true));
    n.on_quorum(
        4,
        QuorumPacket::AckEpoch {
            zxid: z(1, 3),
            current_epoch: 1,
        },
    );
    n.on_quorum(4, QuorumPacket::Ack { zxid: z(2, 0) });
    n.take_actions();
    // Follower 1 goes silent; observer 4 answers every ping. The leader still
    // loses its quorum once 1 is past syncLimit (5 × 2000 ms = 200 ticks).
    let mut pinged = false;
    for _ in 0..300 {
        n.tick();
        for a in n.take_actions() {
            if let Action::Send {
                to: 4,
                packet: QuorumPacket::Ping { zxid },
            } = a
            {
                pinged = true;
                n.on_quorum(4, QuorumPacket::Ping { zxid });
            }
        }
        if n.state() == ServerState::Looking {
            break;
        }
    }
    assert!(pinged, "the observer is pinged like a follower");
    assert_eq!(n.state(), ServerState::Looking);
    assert_eq!(n.last_reason, "not sufficient followers synced");
}

/// What a Java observer sends while it looks for the leader: a vote for nobody.
fn observer_looking(election_epoch: i64) -> Notification {
    Notification {
        state: ServerState::Looking,
        leader: super::message::NO_LEADER,
        zxid: Zxid(i64::MIN),
        election_epoch,
        peer_epoch: i64::MIN,
    }
}

#[test]
fn voters_answer_an_observer_s_notification_with_their_vote_and_never_count_it() {
    // Looking: node 1 answers with its current vote (itself at start) and its round;
    // the observer's vote is not looked at.
    let mut cfg = ZabConfig::new(1, vec![1, 2, 3]);
    cfg.observers = vec![4];
    let restored = Restored {
        accepted_epoch: 1,
        current_epoch: 1,
        snapshot_zxid: Zxid::ZERO,
        log: (1..=3).map(|c| txn(1, c)).collect(),
    };
    let mut n = Node::new(cfg, restored);
    n.take_actions();
    n.on_election(4, observer_looking(1));
    assert_eq!(
        n.take_actions(),
        vec![Action::Elect {
            to: 4,
            msg: Notification {
                state: ServerState::Looking,
                leader: 1,
                zxid: z(1, 3),
                election_epoch: 1,
                peer_epoch: 1,
            }
        }]
    );
    // Its round goes on among the voters (re-sent notifications), decides nothing,
    // and never sends the observer anything unasked.
    let out = ticks(&mut n, 20);
    assert!(
        !out.iter()
            .any(|a| matches!(a, Action::State { .. } | Action::Elect { to: 4, .. })),
        "{out:?}"
    );
    assert_eq!(n.state(), ServerState::Looking);
    // Nor is a voter's vote for nobody (or any non-voter) adopted, however new its zxid
    // (lookForLeader takes only a voter's vote for a voter).
    n.take_actions();
    n.on_election(2, looking(super::message::NO_LEADER, z(9, 9), 1));
    n.on_election(2, looking(4, z(9, 9), 1));
    assert_eq!(n.take_actions(), vec![]);

    // Leading: leader 3 answers with the vote it won, as LEADING, even to a
    // notification that is not LOOKING.
    let mut n = leader_3_with_observer_4();
    let won = Notification {
        state: ServerState::Leading,
        leader: 3,
        zxid: z(1, 3),
        election_epoch: 1,
        peer_epoch: 1,
    };
    n.on_election(4, observer_looking(1));
    assert_eq!(
        n.take_actions(),
        vec![Action::Elect {
            to: 4,
            msg: won.clone()
        }]
    );
    let mut observing = observer_looking(1);
    observing.state = ServerState::Observing;
    n.on_election(4, observing);
    assert_eq!(n.take_actions(), vec![Action::Elect { to: 4, msg: won }]);
}

#[test]
fn a_silent_observer_is_dropped_after_sync_limit_and_the_leader_stays() {
    let mut n = leader_3_broadcasting_with_1_and_observer_4();
    n.on_quorum(4, learner_info(4, true));
    n.on_quorum(
        4,
        QuorumPacket::AckEpoch {
            zxid: z(1, 3),
            current_epoch: 1,
        },
    );
    n.on_quorum(4, QuorumPacket::Ack { zxid: z(2, 0) });
    n.take_actions();
    // Follower 1 answers every ping; observer 4 sends nothing. Past syncLimit
    // (5 × 2000 ms = 200 ticks) it is closed; the leader keeps leading.
    let mut dropped_at = None;
    for t in 0..300 {
        n.tick();
        for a in n.take_actions() {
            match a {
                Action::Send {
                    to: 1,
                    packet: QuorumPacket::Ping { zxid },
                } => n.on_quorum(1, QuorumPacket::Ping { zxid }),
                Action::Disconnect { peer } => {
                    assert_eq!(peer, 4, "only the observer is closed");
                    dropped_at.get_or_insert(t);
                }
                _ => {}
            }
        }
    }
    let at = dropped_at.expect("the silent observer is closed");
    assert!((200..=230).contains(&at), "closed at tick {at}");
    assert_eq!(n.state(), ServerState::Leading);
    assert_eq!(n.learners(), Some(vec![(1, true)]));
}
