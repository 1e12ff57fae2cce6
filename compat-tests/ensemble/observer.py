#!/usr/bin/env python3
"""A Java 3.8.0 observer joining a 3-member ensemble (issue 8: OBSERVERINFO and INFORM).

server.4 is `:observer` in every member's zoo.cfg and has peerType=observer in its own. The
voters are FerroKeeper (or Java, to see the reference: --voters java); tickTime 200. The
observer finds the leader through the voters' answers to its notifications, syncs by
OBSERVERINFO and gets every commit as INFORM:
  - srvr: the voters say leader/follower, server.4 says observer;
  - a znode created through a voter is read on the observer after sync;
  - a znode created through the observer (a forwarded REQUEST) is read on every voter, and
    its data is the observer's;
  - the leader's mntr counts it: zk_synced_observers 1, zk_synced_followers 2, also after
    3 × syncLimit × tickTime of no writes (PINGs alone keep an observer's link alive);
  - kill -9 the leader: a new one is elected without the observer's vote, the observer finds
    it (its notifications answered by voters that are looking, then settled) and syncs again:
    a write through it is read on the new leader, and the new leader's write on it.
Prints "N passed, M failed" last.

    python3 compat-tests/ensemble/observer.py [--voters fk|java|K,K,K] [--fk-bin BIN] [--run-dir DIR]
"""
import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster  # noqa: E402
import javazk  # noqa: E402  (cluster put compat-tests/lib on the path)
from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import ConnectionLoss, SessionExpiredError  # noqa: E402

OBSERVER = 4


def mntr(port):
    text = javazk.four_letter(port, "mntr", timeout=10.0)
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition("\t")
        out[k] = v
    return out


def client(port):
    zk = KazooClient(hosts="127.0.0.1:%d" % port, timeout=10.0)
    zk.start(timeout=30)
    return zk


def create_when_served(zk, path, data, timeout=30.0):
    """Creates path, retrying while the server is between leaders (ConnectionLoss); the
    server's own serving again is the event, and only polling shows it."""
    deadline = time.monotonic() + timeout
    for _ in range(10_000):  # bounded by the deadline
        try:
            return zk.create(path, data)
        except (ConnectionLoss, SessionExpiredError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)
    raise TimeoutError("create %s: no answer within %.0f s" % (path, timeout))


def read_after_sync(port, path):
    zk = client(port)
    try:
        zk.sync(path)
        return zk.exists(path) and zk.get(path)[0]
    finally:
        zk.stop()
        zk.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--voters", type=cluster.parse_kinds, default=["fk"],
                    help="one kind for all three (fk, java) or three, e.g. java,fk,fk")
    ap.add_argument("--fk-bin", default=cluster.DEFAULT_FK_BIN)
    ap.add_argument("--run-dir")
    args = ap.parse_args()
    run_dir = args.run_dir or tempfile.mkdtemp(prefix="observer.")
    passed = failed = 0

    def check(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok   " + what, flush=True)
        else:
            failed += 1
            print("FAIL %s%s" % (what, (": " + str(detail)) if detail else ""), flush=True)

    voters = args.voters * 3 if len(args.voters) == 1 else args.voters
    if len(voters) != 3:
        ap.error("--voters wants one kind or three, got %s" % ",".join(args.voters))
    kinds = voters + ["java"]
    c = cluster.Cluster(kinds, run_dir, tick=200, fk_bin=args.fk_bin, observers={OBSERVER})
    try:
        with c.start():
            try:
                modes = c.wait_formed(timeout=60)
            except cluster.ClusterError as e:
                check(False, "the ensemble forms with server.4 observing", e)
                return 1
            check(modes.get(OBSERVER) == "observer", "server.4 says Mode: observer", modes)
            leader = c.leader()
            voters = [s for s in c.members if s != OBSERVER]
            port = {s: c.members[s].client_port for s in c.members}
            via_voter = client(port[voters[0]])
            via_observer = client(port[OBSERVER])
            try:
                via_voter.create("/from-voter", b"v")
                via_observer.sync("/from-voter")
                got = via_observer.exists("/from-voter") and via_observer.get("/from-voter")[0]
                check(got == b"v", "a voter's write is read on the observer", got)
                via_observer.create("/from-observer", b"o")
                for s in voters:
                    zk = client(port[s])
                    try:
                        zk.sync("/from-observer")
                        got = zk.exists("/from-observer") and zk.get("/from-observer")[0]
                    finally:
                        zk.stop()
                        zk.close()
                    check(got == b"o", "the observer's write is read on server.%d" % s, got)
            finally:
                for zk in (via_voter, via_observer):
                    zk.stop()
                    zk.close()
            # Idle for three times syncLimit: nothing happens, so there is no event to await.
            time.sleep(3 * c.sync_limit * c.tick / 1000.0)
            m = mntr(port[leader])
            check(m.get("zk_synced_observers") == "1",
                  "the leader's zk_synced_observers is 1", m.get("zk_synced_observers"))
            check(m.get("zk_synced_followers") == "2",
                  "the leader's zk_synced_followers is 2", m.get("zk_synced_followers"))

            c.kill(leader)
            try:
                new_leader, _ = c.wait_leader(timeout=30, exclude=(leader,))
            except cluster.ClusterError as e:
                check(False, "a new leader after kill -9 of server.%d" % leader, e)
                return 1
            via_observer = client(port[OBSERVER])
            try:
                create_when_served(via_observer, "/after-failover", b"f")
            finally:
                via_observer.stop()
                via_observer.close()
            got = read_after_sync(port[new_leader], "/after-failover")
            check(got == b"f", "after failover the observer's write is read on the new leader "
                  "server.%d" % new_leader, got)
            zk = client(port[new_leader])
            try:
                zk.create("/from-new-leader", b"n")
            finally:
                zk.stop()
                zk.close()
            got = read_after_sync(port[OBSERVER], "/from-new-leader")
            check(got == b"n", "the new leader's write is read on the observer", got)
    except Exception as e:  # a failure to set up is a failed check, with the logs
        check(False, "the stage ran", "%r\n%s" % (e, c.log_tails()))
    finally:
        c.stop_all()
        if failed == 0 and not args.run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
        elif failed:
            print("run dir kept: %s" % run_dir)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
