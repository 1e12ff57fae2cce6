#!/usr/bin/env python3
"""The real-client suites (compat-tests/run.sh) against a follower of a 3-member ensemble.

    clients.py [--members fk,fk,fk] [--fk-bin BIN] [--tick 2000] [SUITE...]

Starts the ensemble with cluster.py, waits until it has formed, picks a follower (the lowest
sid saying `Mode: follower`), and runs `ZK_CONNECT=<that follower only> compat-tests/run.sh
SUITE...` (default: every suite). Every write the suites make is forwarded to the leader and
comes back to the follower as a commit, so replies, watches and sessions are the member side's.
`--members java,java,java` is the reference: the same suites against Java 3.8.0's follower.

Member settings are the standalone suites' (compat-tests/README.md): tickTime=2000 (so the
session timeouts the clients negotiate are the standalone ones), extendedTypesEnabled=true,
4lw.commands.whitelist=*, containers and TTL nodes reaped every second
(-Dznode.container.checkIntervalMs=1000: a JVM flag for Java, SERVER_JVMFLAGS for FerroKeeper).
The four-letter words are checked against captures of a Java 3.8.0 follower
(fourletter/java-3.8.0-follower/, FOURLW_CAPTURES tells test_fourletter.py).

After the suites the follower must still be a follower of the same leader (a suite run across
an election would not test what it says). Output: run.sh's, then "N passed, M failed" (the
ensemble failing to form, or a leader change, counts as one failure). Every member is stopped
at the end; `cluster.py kill-run RUN_DIR` cleans up after a driver that died.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster as C  # noqa: E402

RUN_SH = os.path.join(HERE, "..", "run.sh")
FOLLOWER_CAPTURES = os.path.join(HERE, "..", "fourletter", "java-3.8.0-follower")
REAP_MS = "1000"


def member_settings():
    """(zoo.cfg keys, Java -D flags, FerroKeeper environment) every member gets."""
    cfg = {"extendedTypesEnabled": "true"}
    props = {"znode.container.checkIntervalMs": REAP_MS}
    env = {"SERVER_JVMFLAGS": "-Dznode.container.checkIntervalMs=" + REAP_MS}
    return cfg, props, env


def first_follower(modes):
    followers = sorted(sid for sid, mode in modes.items() if mode == "follower")
    return followers[0] if followers else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=C.parse_kinds, default=["fk", "fk", "fk"])
    ap.add_argument("--fk-bin", default=C.DEFAULT_FK_BIN)
    ap.add_argument("--tick", type=int, default=2000)
    ap.add_argument("--run-dir", help="keep member dirs and logs here (default: a temp dir, "
                                      "removed when everything passed)")
    ap.add_argument("suites", nargs="*")
    a = ap.parse_args(argv)
    run_dir = a.run_dir or tempfile.mkdtemp(prefix="ensemble-clients.")
    cfg, props, env = member_settings()
    c = C.Cluster(a.members, run_dir, tick=a.tick, fk_bin=a.fk_bin, extra_cfg=cfg,
                  java_props=props, fk_env=env)
    rc = 1
    try:
        c.start()
        modes = c.wait_formed(90)
        leader = c.leader()
        follower = first_follower(modes)
        if follower is None or leader is None:
            print("clients: no follower and leader in %s" % modes)
            print("0 passed, 1 failed")
            return 1
        print("clients: %s ensemble, leader server.%d, suites against follower server.%d at %s"
              % (",".join(a.members), leader, follower, c.address(follower)), flush=True)
        child_env = dict(os.environ, ZK_CONNECT=c.address(follower),
                         FOURLW_CAPTURES=FOLLOWER_CAPTURES)
        proc = subprocess.run(["bash", RUN_SH, *a.suites], env=child_env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = proc.stdout.rstrip("\n").split("\n")
        counts = result_counts(lines[-1]) if lines else None
        print("\n".join(lines[:-1] if counts else lines), flush=True)
        now = c.modes()
        same = now.get(follower) == "follower" and now.get(leader) == "leader"
        passed, failed = counts if counts else (0, 1)
        if not same:
            print("clients: the ensemble changed during the suites: %s (was %s)\n%s"
                  % (now, modes, c.log_tails()))
            failed += 1
        if failed:
            print("clients: member logs in %s" % run_dir)
        print("%d passed, %d failed" % (passed, failed))
        rc = 0 if failed == 0 else 1
        return rc
    except C.ClusterError as e:
        print("clients: %s" % e)
        print("0 passed, 1 failed")
        return 1
    finally:
        c.stop_all()
        if rc == 0 and not a.run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)


def result_counts(line):
    """(passed, failed) from run.sh's last line "N passed, M failed", or None."""
    parts = line.split()
    if len(parts) == 4 and parts[1] == "passed," and parts[3] == "failed" and \
            parts[0].isdigit() and parts[2].isdigit():
        return int(parts[0]), int(parts[2])
    return None


if __name__ == "__main__":
    sys.exit(main())
