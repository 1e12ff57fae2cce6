#!/usr/bin/env python3
"""A follower older than the leader's committed window, in mixed ensembles: Java 3.8.0 and
FerroKeeper leaders must choose alike between a DIFF served from the on-disk txn log and a SNAP.

Java 3.8's LearnerHandler.syncFollower syncs a learner whose zxid is below the committedLog
(commitLogCount: 20 asked for here, raised to 500 by both kinds) from the txn log when
ZKDatabase.getProposalsFromTxnLog allows it: the log files after the one holding the learner's
zxid must not be larger than snapshotSizeFactor (0.33) x the newest snapshot file. Log files
are preallocated to 64 MiB, so in practice: DIFF when the learner's zxid is in the leader's
current log file, SNAP once the leader started a new file since (here: it restarted).

For each mix (FerroKeeper leader with a Java follower, Java leader with a FerroKeeper
follower): server.1 (the other kind) logs 10 creates and is killed, 600 creates commit, it restarts: (gap 1)
the leader's sync choice, read from its mntr zk_diff_count / zk_snap_count. Then server.1
is stopped again, the two leaders-kind members are restarted (each starts a new log file),
600 more creates commit, server.1 restarts: (gap 2) the choice again. Both times server.1
must end with every znode. The choice of each leader kind is checked against what Java 3.8.0
did (DIFF, then SNAP, seen on this machine) and against the other kind's.

    python3 compat-tests/ensemble/txnlog_sync.py [--fk-bin BIN]

Prints "N passed, M failed" last.
"""
import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster  # noqa: E402
from tally import Tally  # noqa: E402 (compat-tests/lib, on the path cluster set)
from kazoo.client import KazooClient  # noqa: E402
from quorum_counters import mntr  # noqa: E402

N = 600
# What a leader of either kind logs (Java's words, at info) when it syncs from the txn log
# (LearnerHandler.syncFollower) and when the log is over the size limit
# (ZKDatabase.getProposalsFromTxnLog).
MARKERS = {"DIFF": "Use txnlog and committedLog for peer sid: 1",
           "SNAP": "exceeds sizeLimit"}
# What Java 3.8.0 leaders chose for the two gaps (the reference).
JAVA_CHOICES = ("DIFF", "SNAP")



def client(address):
    k = KazooClient(hosts=address, timeout=10)
    k.start(30)
    return k


def write(address, base, n):
    """n creates under /gap through `address`, pipelined, each acknowledged."""
    k = client(address)
    try:
        k.ensure_path("/gap")
        pending = [k.create_async("/gap/%s-%04d" % (base, i), b"x" * 20) for i in range(n)]
        for p in pending:
            p.get(timeout=30)
    finally:
        k.stop()
        k.close()


def counts(c, sid):
    m = mntr(c.members[sid].client_port)
    return int(m.get("zk_diff_count", "0")), int(m.get("zk_snap_count", "0"))


def rejoin(c, tally, label):
    """Restarts server.1, waits until it follows; returns the leader's choice for it and
    checks that server.1 holds every znode under /gap the leader holds."""
    leader = c.leader()
    before = counts(c, leader)
    log = c.members[leader].proc
    markers = {m: log.log_text().count(m) for m in MARKERS.values()}
    c.restart(1)
    c.wait_mode(1, "follower", 60)
    after = counts(c, leader)
    delta = (after[0] - before[0], after[1] - before[1])
    choice = {(1, 0): "DIFF", (0, 1): "SNAP"}.get(delta, "unclear %s" % (delta,))
    if choice in MARKERS:
        marker = MARKERS[choice]
        tally.check(log.log_text().count(marker) > markers[marker],
                    "%s: the %s leader logged %r" % (label, c.members[leader].kind, marker))
    want = sorted(client_children(c.address(leader)))
    got = sorted(client_children(c.address(1)))
    tally.check(got == want and len(got) > 0,
                "%s: server.1 (%s) holds the leader's %d znodes under /gap"
                % (label, c.members[1].kind, len(want)),
                "%d of them, %d extra" % (len(set(want) & set(got)), len(set(got) - set(want))))
    return choice


def client_children(address):
    k = client(address)
    try:
        k.sync("/gap")
        return k.get_children("/gap")
    finally:
        k.stop()
        k.close()


def run_mix(kinds, fk_bin, tally):
    """The two gaps with server.1 of kinds[0] behind leaders of kinds[1]; returns the
    leader's two choices."""
    run = tempfile.mkdtemp(prefix="txnlog-sync.")
    c = cluster.Cluster(kinds, run, tick=200, fk_bin=fk_bin,
                        extra_cfg={"commitLogCount": "20"})
    label = "%s leader, %s follower" % (kinds[1], kinds[0])
    ok = False
    try:
        c.start()
        c.wait_formed(60)
        leader = c.leader()
        if not tally.check(leader in (2, 3), "%s: a %s member leads" % (label, kinds[1]),
                           "server.%s" % leader):
            return None
        choices = []
        # server.1 logs a few txns first: a learner whose last zxid is the epoch's zxid 0
        # (nothing logged) is older than any log and gets SNAP from either kind.
        write(c.address(1), "0", 10)
        client_children(c.address(1))
        c.kill(1)
        write(c.address(leader), "a", N)
        choices.append(rejoin(c, tally, label + ", gap 1"))
        c.kill(1)
        for sid in (2, 3):
            c.kill(sid)
        for sid in (2, 3):
            c.restart(sid)
        leader, _ = c.wait_leader(60)
        write(c.address(leader), "b", N)
        choices.append(rejoin(c, tally, label + ", gap 2"))
        ok = True
        return tuple(choices)
    except cluster.ClusterError as e:
        tally.check(False, "%s: the ensemble did what the phase needs" % label, e)
        return None
    finally:
        if not ok:
            print(c.log_tails(30))
        c.stop_all()
        if ok:
            shutil.rmtree(run, ignore_errors=True)
        else:
            print("run dir kept: %s" % run)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fk-bin", default=cluster.DEFAULT_FK_BIN)
    args = ap.parse_args()
    tally = Tally()
    got = {}
    for kinds in (["java", "fk", "fk"], ["fk", "java", "java"]):
        got[kinds[1]] = run_mix(kinds, args.fk_bin, tally)
        print("%s leader chose %s" % (kinds[1], got[kinds[1]]), flush=True)
    for kind in ("fk", "java"):
        tally.check(got[kind] == JAVA_CHOICES,
                    "a %s leader chose %s for the two gaps, as Java 3.8.0 did" % (kind, JAVA_CHOICES),
                    got[kind])
    tally.check(got["fk"] is not None and got["fk"] == got["java"],
                "FerroKeeper and Java leaders chose alike", got)
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
