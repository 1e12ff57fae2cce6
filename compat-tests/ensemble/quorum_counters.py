#!/usr/bin/env python3
"""mntr's quorum counters and summary counts, Java 3.8.0 against FerroKeeper.

A fresh 3-member ensemble of each kind (tickTime 200); a Kazoo client on a follower creates
a session, five znodes, syncs and closes; then every member's values of the keys below,
read before and after, must be Java's, member by role (the leader, the follower the client
used, the other follower: which sid wins the first election depends on start-up timing).
looking_count and election_time's count depend on timing too (Java 3.8.0 looked twice on one
member in one of four runs here): for them each member must have looked at least once and
sampled election_time once per time it looked. Seen on Java 3.8.0: the leader proposed and committed 7
(createSession, 5 creates, closeSession), each follower received 7 PROPOSALs and 7 COMMITs
and sampled proposal_latency and commit_propagation_latency 7 times, the leader sampled
quorum_ack_latency 7 times and counted 2 learner syncs (2 DIFFs, once a DIFF and a SNAP: timing); every member sampled
proposal_ack_creation_latency 7 times (the leader's own ACKs, each follower's ACKs); one election, one unavailability
(leader_unavailable_time on the leader), one follower sync on each follower.
Prints "N passed, M failed" last.

    python3 compat-tests/ensemble/quorum_counters.py [--fk-bin BIN]
"""
import argparse
import os
import socket
import sys
import tempfile
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402

KEYS = ["proposal_count", "commit_count", "learner_proposal_received_count",
        "learner_commit_received_count", "cnt_unavailable_time", "cnt_leader_unavailable_time", "cnt_follower_sync_time",
        "learner_syncs", "cnt_quorum_ack_latency", "cnt_proposal_latency",
        "cnt_commit_propagation_latency", "cnt_proposal_ack_creation_latency", "revalidate_count"]


def mntr(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"mntr")
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    return dict(line.split("\t", 1) for line in buf.decode().splitlines() if "\t" in line)


def observe(kinds, fk_bin):
    """{role: {key: (before, after)}}, and {role: problem} for members whose looking_count and
    election_time disagree."""
    run = tempfile.mkdtemp(prefix="quorum-counters.")
    c = cluster.Cluster(kinds, run, tick=200, fk_bin=fk_bin)
    try:
        c.start()
        modes = c.wait_formed(60)
        leader = [s for s, m in modes.items() if m == "leader"][0]
        follower = min(s for s in modes if s != leader)
        before = {s: mntr(c.members[s].client_port) for s in modes}
        k = KazooClient(hosts=c.members[follower].address, timeout=10)
        k.start(20)
        for i in range(5):
            k.create("/counted-%d" % i, b"x")
        k.sync("/")
        k.stop()
        k.close()
        after = {s: mntr(c.members[s].client_port) for s in modes}
        other = max(s for s in modes if s != leader)
        roles = {"leader": leader, "the client's follower": follower, "the other follower": other}
        got, problems = {}, {}
        for role, s in roles.items():
            for m in (before[s], after[s]):
                # How the leader syncs a follower that connects after its first txn of the
                # epoch (DIFF or SNAP) depends on timing, in Java 3.8.0 too (2 DIFFs in most
                # runs, a DIFF and a SNAP in one): the syncs are compared as a total.
                m["zk_learner_syncs"] = str(int(m.get("zk_diff_count", "0"))
                                            + int(m.get("zk_snap_count", "0")))
            got[role] = {key: (before[s].get("zk_" + key), after[s].get("zk_" + key))
                         for key in KEYS}
            looked = int(after[s].get("zk_looking_count", "0"))
            elections = int(after[s].get("zk_cnt_election_time", "-1"))
            if looked < 1 or elections != looked:
                problems[role] = "looking_count %d, cnt_election_time %d" % (looked, elections)
        return got, problems
    finally:
        c.stop_all()
        shutil.rmtree(run, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fk-bin", default=cluster.DEFAULT_FK_BIN)
    a = ap.parse_args()
    java, java_problems = observe(["java"] * 3, a.fk_bin)
    fk, fk_problems = observe(["fk"] * 3, a.fk_bin)
    passed = failed = 0
    for role in java:
        diff = {k: (java[role][k], fk[role][k]) for k in KEYS if java[role][k] != fk[role][k]}
        ok = not diff and role not in fk_problems and role not in java_problems
        print("%s %s: Java %s" % ("ok  " if ok else "FAIL", role, java[role]))
        if diff:
            print("     (Java, FerroKeeper) where they differ: %s" % diff)
        for side, problems in (("Java", java_problems), ("FerroKeeper", fk_problems)):
            if role in problems:
                print("     %s: %s" % (side, problems[role]))
        if ok:
            passed += 1
        else:
            failed += 1
    # The reference must show the work it counts, or the comparison proves nothing.
    if java["leader"]["proposal_count"][1] in (None, "0"):
        print("FAIL Java's leader counted no proposals: the scenario did not run")
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
