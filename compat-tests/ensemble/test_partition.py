#!/usr/bin/env python3
"""The partition stage: every member in its own network namespace, partitions made with
iptables inside them, under write load from one Kazoo client per member.

    test_partition.py [--members fk,fk,fk] [--tick 200] [--fk-bin BIN] [--run-dir DIR]
                      [--strict-sync] [--java-clients]

Every fact is printed as "ok ..." or "FAIL ..."; the last line is "N passed, M failed" (what
test.sh counts). netns.py builds the network (member N on 10.A.B.N, the clients in the root
namespace on 10.A.B.254) and cuts members off: DROP of every packet between the cut-off
members and the others, inside the cut-off members' namespaces; the clients keep reaching
every member, so a member that lost its quorum must stop serving on its own.

Phases (each wait bounded; see README.md for what Java 3.8.0 and FerroKeeper did):
  0. linearizability.py's own unit tests;
  a. the ensemble forms; b. a write through every member is visible on every member;
  load starts (one Kazoo worker per member, each connected to that member only, and with
  --java-clients one Java client per member too), 60 writes each;
  p1. the leader cut off from every follower: the others elect one of themselves, writes go on
      through each of them; the old leader stops leading and its client loses its connection;
      none of its client's writes invoked while it was cut off is acknowledged before the
      heal; healed, it rejoins as follower and serves its client again; 60 writes each;
  p2. one follower cut off: the leader stays, writes go on through every other member; the
      follower stops serving, none of its client's writes is acknowledged; healed, it rejoins
      as follower (catching up on what it missed); 60 writes each;
  p3. (5 members or more) the leader and one follower cut off from the other three (2|3):
      the three elect one of themselves; both cut-off members stop serving; healed, both
      rejoin as followers;
  p4. (5 members or more) two followers cut off (2|3, the leader with the three): the leader
      stays; healed, both rejoin;
  e. load stops; the trees (/lin, /ack: data, mzxid, version) equal on every member, every
     acknowledged create on every member, the history linearizable (test_ensemble.py's final
     phase); then the namespaces are deleted and checked gone.
"""

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster as clusterlib  # noqa: E402
import history as hist  # noqa: E402
import netns  # noqa: E402
from test_ensemble import (Abort, Stage, Tally, finish_stage,  # noqa: E402
                           run_checker_unit_tests, run_steps, wait_any_ok, wait_ok_ops)

# Writes every majority member's client must get acknowledged while the partition holds, after
# the cut-off members stopped serving: the majority's history moves on, so healing needs a
# real catch-up (DIFF, or SNAP/TRUNC for a deposed leader with txns of its own).
WRITES_WHILE_CUT = 30


class PartitionStage(Stage):
    def start_load(self):
        """The Kazoo workers; with --java-clients also one Java client per member (process
        "jN", Debian's 3.8.0 client jar), whose operations join the same history."""
        super().start_load()
        if not self.args.java_clients:
            return
        why = hist.build_java_worker()
        if not self.tally.check(not why, "load: the Java client worker compiles", why):
            raise Abort()
        t = time.monotonic()
        for sid in self.c.members:
            w = hist.JavaWorker("j%d" % sid, self.c.address(sid), self.history, self.stop,
                                seed=100 + sid,
                                log_path=os.path.join(self.args.run_dir, "java-clients.log"))
            w.start()
            self.workers.append(w)
        for sid in self.c.members:
            self.tally.check(wait_any_ok(self.history, t, "j%d" % sid, 60),
                             "load: the Java client of server.%d completes operations" % sid)

    def clients_of(self, sid):
        return [w for w in self.workers if w.process in (sid, "j%d" % sid)]

    def other_kind(self, leader, followers):
        """A follower of another kind than the leader if there is one (in a mixed ensemble
        the cut-off member then catches up from a leader of the other kind), else the last."""
        kind = self.c.members[leader].kind
        other = [s for s in followers if self.c.members[s].kind != kind]
        return (other or followers)[-1]

    # Fewer writes between the faults than test_ensemble.py's 150: three Java members on a
    # loaded 2-core machine take 5-25 s for 150 each, and this stage should stay near a minute.
    settle_ops = 60

    def phase_partition(self, name, what, side):
        """Cuts `side` off from the other members, checks both sides behave, heals, checks the
        cut-off members rejoin. See the module doc."""
        c = self.c
        leader = c.leader()
        if not self.tally.check(leader is not None, "(%s) a leader before the partition" % name):
            return
        side = sorted(side(leader, [s for s in sorted(c.members) if s != leader]))
        rest = [s for s in sorted(c.members) if s not in side]
        label = "(%s) %s (server.%s | server.%s)" % (name, what, side, rest)
        t_part, wall = time.monotonic(), time.time()
        c.network.partition(side)
        t_cut = time.monotonic()  # every rule in force from here on
        # The wall clock too: the members' logs are stamped with it.
        print("     partitioned at %s.%03dZ in %.3f s: %s" % (
            time.strftime("%H:%M:%S", time.gmtime(wall)), int(wall % 1 * 1000), t_cut - t_part,
            "; ".join(
            "server.%d drops %s" % (s, ", ".join(c.network.cut[s])) for s in side)), flush=True)
        try:
            if leader in side:
                new, t_seen = self.expect(
                    "%s: the majority elects one of themselves" % label,
                    lambda: c.wait_leader(self.timeout, exclude=side),
                    lambda got: " (server.%d, seen after %.2f s)" % (got[0], got[1] - t_part))
                self.tally.check(new in rest, "%s: the new leader server.%d is on the majority "
                                 "side" % (label, new))
                self.leaders_seen.append(new)
                self.numbers["%s_election_seen_s" % name] = round(t_seen - t_part, 3)
            for s in rest:
                ok = wait_ok_ops(self.history, t_part, 3, self.timeout, process=s)
                self.tally.check(len(ok) >= 3, "%s: server.%d's client still writes"
                                 % (label, s), len(ok))
            first = wait_ok_ops(self.history, t_cut, 1, self.timeout)
            if first:
                self.numbers["%s_first_write_s" % name] = round(first[0].complete - t_cut, 3)
                print("     first write invoked after the cut and acknowledged: %.3f s after "
                      "it (through server.%s)" % (first[0].complete - t_cut, first[0].process),
                      flush=True)
            for s in side:
                was = "leader" if s == leader else "follower"
                t_down = self.expect(
                    "%s: cut-off server.%d stops serving as %s" % (label, s, was),
                    lambda s=s, was=was: c.wait_not_mode(s, was, self.timeout),
                    lambda got: " (%.2f s after the cut; syncLimit x tickTime = %.2f s)"
                    % (got - t_part, c.sync_limit * c.tick / 1000.0))
                self.numbers["%s_server%d_stopped_s" % (name, s)] = round(t_down - t_part, 3)
            if leader not in side:
                self.tally.check(c.members[leader].srvr_mode() == "leader",
                                 "%s: the leader stays server.%d" % (label, leader), c.modes())
            t_more = time.monotonic()
            for s in rest:
                ok = wait_ok_ops(self.history, t_more, WRITES_WHILE_CUT, self.timeout, process=s)
                self.tally.check(len(ok) >= WRITES_WHILE_CUT, "%s: %d more writes through "
                                 "server.%d while the others are cut off"
                                 % (label, WRITES_WHILE_CUT, s), len(ok))
            for s in side:
                self.tally.check(c.members[s].srvr_mode() not in ("leader", "follower"),
                                 "%s: server.%d still serves no one before the heal"
                                 % (label, s), c.members[s].srvr_mode())
        finally:
            t_heal = time.monotonic()
            c.network.heal()
        for s in side:
            for worker in self.clients_of(s):
                who = "Kazoo" if worker.process == s else "Java"
                lost = [st for t, st in list(worker.states) if t_part <= t <= t_heal
                        and st != "CONNECTED"]
                self.tally.check(bool(lost), "%s: server.%d's %s client lost its connection "
                                 "while cut off" % (label, s, who), "no state change after the cut")
                acked = [o for o in self.history.ops() if o.process == worker.process
                         and o.outcome == "ok" and o.op in ("write", "create")
                         and o.invoke >= t_cut and o.complete <= t_heal]
                self.tally.check(not acked, "%s: no write of server.%d's %s client invoked after "
                                 "the cut was acknowledged before the heal" % (label, s, who),
                                 [(o.op, o.key, o.value) for o in acked[:5]])
        back = {}
        for s in side:
            back[s] = self.rejoin(s, "%s healed" % label, resumed_at=t_heal)
            self.numbers["%s_server%d_rejoined_s" % (name, s)] = round(back[s] - t_heal, 3)
            if self.args.java_clients:
                self.tally.check(wait_any_ok(self.history, back[s], "j%d" % s, self.timeout),
                                 "%s healed: server.%d's Java client completes operations "
                                 "again" % (label, s))
        if leader in side:
            # A deposed leader answers sync from its own state until it notices (Java:
            # Leader.processSync, no quorum round), and so does a follower syncing through it:
            # their reads from the cut to their rejoining are the ones test_ensemble.py's
            # check leaves out for a SIGSTOPped leader (README "sync and a deposed leader").
            self.deposed.extend((s, t_part, back[s]) for s in side)
        else:
            self.tally.check(c.leader() == leader, "%s healed: the leader is still server.%d"
                             % (label, leader), c.modes())


def partition_steps(stage, n):
    """The phases for an ensemble of n members (p3 and p4 need a 2|3 split: 5 or more)."""
    steps = [("p1 leader cut off", lambda: stage.phase_partition(
                 "p1", "leader cut off from every follower", lambda ld, fs: [ld])),
             ("settle", lambda: stage.settle("(p1) after the heal")),
             ("p2 follower cut off", lambda: stage.phase_partition(
                 "p2", "one follower cut off", lambda ld, fs: [stage.other_kind(ld, fs)])),
             ("settle", lambda: stage.settle("(p2) after the heal"))]
    if n >= 5:
        steps += [("p3 leader and a follower cut off", lambda: stage.phase_partition(
                      "p3", "the leader and a follower cut off from the rest",
                      lambda ld, fs: [ld, fs[0]])),
                  ("settle", lambda: stage.settle("(p3) after the heal")),
                  ("p4 two followers cut off", lambda: stage.phase_partition(
                      "p4", "two followers cut off from the leader's side",
                      lambda ld, fs: fs[:2])),
                  ("settle", lambda: stage.settle("(p4) after the heal"))]
    return steps


def namespaces_left(prefix):
    try:
        out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return ["(ip netns list: %s)" % e]
    return [line.split()[0] for line in out.splitlines() if line.startswith(prefix)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=clusterlib.parse_kinds,
                    default=clusterlib.parse_kinds("fk,fk,fk"))
    ap.add_argument("--tick", type=int, default=200)
    ap.add_argument("--fk-bin", default=clusterlib.DEFAULT_FK_BIN)
    ap.add_argument("--run-dir")
    ap.add_argument("--strict-sync", action="store_true",
                    help="sync+reads through a cut-off, deposed leader must be linearizable too")
    ap.add_argument("--java-clients", action="store_true",
                    help="also one Java client (Debian's 3.8.0 jar) per member in the load")
    args = ap.parse_args()
    args.rolling_to = None
    args.run_dir = os.path.abspath(args.run_dir or tempfile.mkdtemp(prefix="partition."))
    os.makedirs(args.run_dir, exist_ok=True)
    logging.basicConfig(filename=os.path.join(args.run_dir, "clients.log"), level=logging.INFO,
                        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    tally = Tally()
    t0 = time.monotonic()
    stage = None
    network = None
    try:
        run_checker_unit_tests(tally)
        why = netns.missing_tools()
        if not tally.check(not why, "netns mode can run here (root, ip, iptables)", why):
            raise Abort()
        network = netns.Network(range(1, len(args.members) + 1), args.run_dir)
        print("members %s, tickTime %d, one network namespace each (%s-m1..m%d) on %s, clients "
              "on %s, run dir %s" % (",".join(args.members), args.tick, network.prefix,
                                     len(args.members), network.subnet, network.client_host,
                                     args.run_dir), flush=True)
        network.setup()
        args.network = network
        stage = PartitionStage(args, tally)
        steps = [("form", stage.phase_form), ("setup", stage.phase_setup),
                 ("visible", stage.phase_visible), ("start load", stage.start_load),
                 ("settle", lambda: stage.settle("before the partitions"))]
        steps += partition_steps(stage, len(args.members))
        steps += [("stop load", stage.stop_load), ("final", stage.phase_final)]
        run_steps(steps)
    except Abort:
        pass  # counted where it happened
    except Exception as e:  # a crash is one more failure; the result line is still printed
        tally.check(False, "the stage ran to the end", "%s: %s" % (type(e).__name__, e))
    finally:
        finish_stage(stage, tally)
        if network is not None:
            problems = clusterlib.kill_run(args.run_dir)
            left = namespaces_left(network.prefix)
            tally.check(not problems and not left, "cleanup: the run's namespaces, bridge and "
                        "veths are deleted", problems + left)
    print("stage took %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
