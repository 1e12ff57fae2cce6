#!/usr/bin/env python3
"""The ensemble stage: an N-member ensemble of the given kinds, real clients, real failures.

    test_ensemble.py [--members java,java,java] [--tick 200] [--fk-bin BIN] [--run-dir DIR]
                     [--rolling-to KINDS] [--strict-sync]

Every fact is printed as "ok ..." or "FAIL ..."; the last line is "N passed, M failed" (what
test.sh counts). See README.md for the phases and the numbers Java 3.8.0 gave.

Phases (each bounded by a timeout; the awaited things are events — srvr modes polled with a
deadline, operations recorded in the history):
  0. linearizability.py's own unit tests;
  a. the ensemble forms: exactly one leader, every other member a follower;
  b. a write through every member is visible on every member after sync;
  c. under load (one client per member, each connected only to it), kill -9 the leader: a new
     leader is elected (failover = kill until the next write invoked after it succeeds); the
     old leader restarts and rejoins as a follower and serves its client again;
  d. kill -9 a follower under load: writes go on; it restarts and rejoins as a follower;
  s. SIGSTOP the leader past syncLimit x tickTime: a new leader is elected meanwhile; SIGCONT:
     the old leader rejoins as a follower;
  l. the lowest-sid member of each kind present is made leader (laggers killed, writes, the
     rest killed, laggers back: the member with the newest history must win);
  r. rolling restart (or, with --rolling-to, replacement by another kind) of every member,
     followers first, under load;
  t. with the load stopped, a leader logs a txn no one else has (its followers killed) and is
     replaced by a successor that writes nothing before it returns: it rejoins (Java: by
     TRUNC) and the txn is on no member;
  e. the end: every acknowledged create on every member, the trees (/lin, /ack: data, mzxid,
     version) identical on every member, and the whole history (with a final sync+read of each
     key through every member) linearizable.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cluster as clusterlib  # noqa: E402
import history as hist  # noqa: E402
import linearizability  # noqa: E402
from tally import Tally  # noqa: E402 (compat-tests/lib, on the path cluster set)

INIT = b"init"
# What a client of a member that was killed, stopped or deposed may see. Anything else (NoNode,
# BadVersion, NodeExists from a create of a new name, a marshalling error…) is a server bug.
CONNECTION_ERRORS = {"ConnectionLoss", "SessionExpiredError", "ConnectionClosedError",
                     "KazooTimeoutError", "OperationTimeoutError"}
# Phase (t)'s probe session: it must not expire (a closeSession txn) before the old leader is
# back, or the new leader's history moves on and TRUNC becomes SNAP (seen with 5 members).
PROBE_SESSION_MS = 60_000
# What a Java learner logs (at info) when its leader sends TRUNC.
TRUNC_LINE = "Truncating log to get in sync with the leader"
# Acknowledged writes every member's client makes between two faults (see Stage.settle).
SETTLE_OPS = 150


class Abort(Exception):
    """A wait the rest of the stage depends on failed (already counted): stop the phases."""



def run_checker_unit_tests(tally):
    """linearizability.py's unit tests, each counted, so a broken checker fails this stage."""
    import test_linearizability

    suite = unittest.defaultTestLoader.loadTestsFromModule(test_linearizability)
    tests = list(_flatten(suite))  # before run(): a suite drops its tests as it runs them
    result = unittest.TestResult()
    suite.run(result)
    bad = {t.id(): tb for t, tb in result.failures + result.errors}
    for t in tests:
        tally.check(t.id() not in bad, "checker unit test %s" % t.id().split(".")[-1],
                    bad.get(t.id(), "").strip().splitlines()[-1:] if t.id() in bad else "")


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


def connect(address, timeout=30):
    zk = hist.kazoo_client(address)
    zk.start(timeout=timeout)
    return zk


def close(zk):
    try:
        zk.stop()
        zk.close()
    except Exception:  # noqa: BLE001 - a client of a member that went away
        pass


def tree(zk, root):
    """{path: (data, mzxid, version)} of root and everything below it."""
    out = {}
    todo = [root]
    for _ in range(100_000):  # bounded: the test creates a few thousand nodes at most
        if not todo:
            break
        path = todo.pop()
        data, stat = zk.get(path)
        out[path] = (data, stat.mzxid, stat.version)
        todo.extend(path.rstrip("/") + "/" + c for c in zk.get_children(path))
    return out


def wait_ok_ops(history, since, n, timeout, op="write", process=None):
    """Awaits n ok operations invoked at or after `since`; returns them (sorted by completion)
    or the ones seen when the timeout passed."""
    history.wait_for(lambda ops: len([o for o in ops if o.op == op and o.outcome == "ok"
                                      and o.invoke >= since
                                      and (process is None or o.process == process)]) >= n,
                     timeout, since)
    return sorted(history.ok_after(since, op, process), key=lambda o: o.complete)


def wait_any_ok(history, since, process, timeout):
    """Awaits any ok operation (read or write) of `process` invoked after `since`."""
    def done(ops):
        return any(o.process == process and o.outcome == "ok" and o.invoke >= since
                   and o.op in ("read", "write") for o in ops)
    return history.wait_for(done, timeout, since)


class Stage:
    settle_ops = SETTLE_OPS

    def __init__(self, args, tally):
        self.args = args
        self.tally = tally
        # maxSessionTimeout: phase (t)'s probe client asks for a session that outlives the
        # phase (the workers keep asking for 4 s, within the default 20 ticks at tickTime=200).
        self.c = clusterlib.Cluster(args.members, args.run_dir, tick=args.tick,
                                    fk_bin=args.fk_bin,
                                    extra_cfg={"maxSessionTimeout": str(PROBE_SESSION_MS)},
                                    network=getattr(args, "network", None))
        self.history = hist.History()
        self.stop = threading.Event()
        self.workers = []
        self.numbers = {}
        # (sid, SIGSTOP time, time it was seen as follower again): while a resumed leader has
        # not yet noticed it was deposed, it answers sync+read from its own stale state (see
        # phase_final and README.md).
        self.deposed = []
        self.leaders_seen = []  # every sid seen as leader after an election
        # Every wait is bounded by this; a longer tick makes elections and syncLimit longer.
        self.timeout = 30.0 + 10 * args.tick / 1000.0

    def expect(self, what, wait, detail=lambda got: ""):
        """One check whose evidence is a Cluster wait: ok (with detail(result)) if it returns,
        FAIL with its ClusterError (modes and every log tail) if it times out — and then the
        stage stops, since every later phase needs what it awaited."""
        try:
            got = wait()
        except clusterlib.ClusterError as e:
            self.tally.check(False, what, e)
            raise Abort() from e
        self.tally.check(True, what + detail(got))
        return got

    def phase_form(self):
        t0 = time.monotonic()
        self.c.start()
        modes = self.expect("(a) the ensemble forms", lambda: self.c.wait_formed(60),
                            lambda m: " in %.2f s: %s" % (time.monotonic() - t0, m))
        self.tally.check(list(modes.values()).count("leader") == 1,
                         "(a) exactly one member says Mode: leader", modes)
        self.leaders_seen += [s for s, m in modes.items() if m == "leader"]
        self.tally.check(list(modes.values()).count("follower") == len(self.c.members) - 1,
                         "(a) every other member says Mode: follower", modes)
        self.tally.check(len(modes) == len(self.c.members), "(a) every member answers srvr",
                         modes)

    def phase_setup(self):
        zk = connect(self.c.address(1))
        try:
            zk.ensure_path("/lin")
            for k in hist.KEYS:
                zk.create(k, INIT)
            zk.create(hist.ACK_ROOT, b"")
            zk.create("/vis", b"")
        finally:
            close(zk)

    def phase_visible(self):
        clients = {sid: connect(self.c.address(sid)) for sid in self.c.members}
        try:
            for sid, zk in clients.items():
                zk.create("/vis/m%d" % sid, b"via-%d" % sid)
            for reader, zk in clients.items():
                zk.sync("/vis")
                seen = {sid: zk.get("/vis/m%d" % sid)[0] for sid in self.c.members}
                want = {sid: b"via-%d" % sid for sid in self.c.members}
                self.tally.check(seen == want, "(b) server.%d sees the write through every "
                                 "member after sync" % reader, seen)
        finally:
            for zk in clients.values():
                close(zk)

    def start_load(self):
        for sid in self.c.members:
            w = hist.Worker(sid, self.c.address(sid), self.history, self.stop, seed=sid)
            w.start()
            self.workers.append(w)
        t = time.monotonic()
        for sid in self.c.members:
            ok = wait_any_ok(self.history, t, sid, 30)
            self.tally.check(ok, "load: the client of server.%d completes operations" % sid)

    def settle(self, what):
        """Awaits SETTLE_OPS acknowledged writes from every member's client: load runs
        through the whole ensemble before (and after) each fault, and the history has
        something to check."""
        t = time.monotonic()
        for sid in self.c.members:
            ok = wait_ok_ops(self.history, t, self.settle_ops, self.timeout, process=sid)
            self.tally.check(len(ok) >= self.settle_ops, "%s: %d writes through server.%d"
                             % (what, self.settle_ops, sid), len(ok))

    def phase_kill_leader(self):
        leader = self.c.leader()
        if not self.tally.check(leader is not None, "(c) a leader before the kill"):
            return
        t_kill = self.c.kill(leader)
        new, t_seen = self.expect("(c) kill -9 of leader server.%d: another is elected" % leader,
                                  lambda: self.c.wait_leader(self.timeout, exclude=[leader]),
                                  lambda got: " (server.%d)" % got[0])
        self.leaders_seen.append(new)
        writes = wait_ok_ops(self.history, t_kill, 1, self.timeout)
        failover = (writes[0].complete - t_kill) if writes else None
        self.tally.check(failover is not None, "(c) a write succeeds after the leader's kill")
        if failover is not None:
            print("     failover (kill -9 of the leader until the next write succeeds): %.3f s;"
                  " srvr showed the new leader after %.3f s" % (failover, t_seen - t_kill),
                  flush=True)
            self.numbers["failover_kill_s"] = round(failover, 3)
            self.numbers["election_seen_kill_s"] = round(t_seen - t_kill, 3)
        self.rejoin(leader, "(c) the killed leader")

    def rejoin(self, sid, what, resumed_at=None):
        if resumed_at is None:
            t = time.monotonic()
            self.c.restart(sid)
        else:
            t = resumed_at
        t_follow = self.expect("%s server.%d rejoins as follower" % (what, sid),
                               lambda: self.c.wait_mode(sid, "follower", 2 * self.timeout),
                               lambda got: " (%.2f s)" % (got - t))
        self.tally.check(wait_any_ok(self.history, t_follow, sid, self.timeout),
                         "%s server.%d serves its client again" % (what, sid))
        self.tally.check(self.c.leader() is not None and self.c.leader() != sid,
                         "%s: one leader, not server.%d" % (what, sid), self.c.modes())
        return t_follow

    def phase_kill_follower(self):
        leader = self.c.leader()
        followers = [s for s in self.c.members if s != leader]
        if not self.tally.check(leader is not None and followers, "(d) a leader and followers"):
            return
        victim = followers[-1]
        t_kill = self.c.kill(victim)
        others = [s for s in self.c.members if s != victim]
        # Writes through every remaining member go on (a quorum is still up).
        for s in others:
            ok = wait_ok_ops(self.history, t_kill, 3, self.timeout, process=s)
            self.tally.check(len(ok) >= 3, "(d) with follower server.%d killed, server.%d's "
                             "client still writes" % (victim, s), len(ok))
        self.tally.check(self.c.leader() == leader, "(d) the leader stays server.%d" % leader,
                         self.c.modes())
        self.rejoin(victim, "(d) the killed follower")

    def phase_pause_leader(self):
        leader = self.c.leader()
        if not self.tally.check(leader is not None, "(s) a leader before SIGSTOP"):
            return
        limit = self.c.sync_limit * self.c.tick / 1000.0
        t_stop = self.c.pause(leader)
        try:
            new, t_seen = self.expect(
                "(s) SIGSTOP of leader server.%d: another is elected while it is stopped"
                % leader, lambda: self.c.wait_leader(self.timeout, exclude=[leader]),
                lambda got: " (server.%d)" % got[0])
            self.leaders_seen.append(new)
            writes = wait_ok_ops(self.history, t_stop, 1, self.timeout)
        finally:
            t_cont = self.c.resume(leader)
        self.tally.check(t_cont - t_stop > limit, "(s) it stayed stopped past syncLimit x "
                         "tickTime (%.2f s > %.2f s)" % (t_cont - t_stop, limit))
        if writes:
            print("     failover (SIGSTOP of the leader until the next write succeeds): %.3f s;"
                  " srvr showed the new leader after %.3f s"
                  % (writes[0].complete - t_stop, t_seen - t_stop), flush=True)
            self.numbers["failover_stop_s"] = round(writes[0].complete - t_stop, 3)
        self.tally.check(bool(writes), "(s) a write succeeds while the old leader is stopped")
        t_follow = self.rejoin(leader, "(s) the stopped leader", resumed_at=t_cont)
        self.deposed.append((leader, t_stop, t_follow))

    def phase_each_kind_leads(self):
        """The lowest-sid member of every kind present is made leader in turn. With equal
        histories FastLeaderElection picks the largest sid, so server.1 would never lead; a
        member with the newest history wins whatever its sid. So: floor(N/2) "laggers" are
        killed and writes go on through the target; then every other member is killed (the
        target alone, no quorum); the laggers restart: the target's history is the newest of
        the quorum they form with it, it must win; the rest restart as followers. On the way
        the laggers catch up from the new leader (a DIFF), and in a mixed ensemble a member of
        each kind leads and syncs the other kind."""
        targets = []
        for kind in dict.fromkeys(self.c.members[s].kind for s in sorted(self.c.members)):
            targets.append(min(s for s in self.c.members if self.c.members[s].kind == kind))
        for target in targets:
            self.make_leader(target)
        led = {self.c.members[s].kind for s in self.leaders_seen}
        kinds = {m.kind for m in self.c.members.values()}
        self.tally.check(led >= kinds, "(l) every kind in the ensemble has led (%s)"
                         % ", ".join(sorted(kinds)), sorted(led))

    def make_leader(self, target):
        what = "(l) server.%d (%s) made leader" % (target, self.c.members[target].kind)
        others = [s for s in sorted(self.c.members) if s != target]
        laggers, rest = others[:len(self.c.members) // 2], others[len(self.c.members) // 2:]
        t = time.monotonic()
        for s in laggers:
            self.c.kill(s)
        ok = wait_ok_ops(self.history, t, 20, self.timeout, process=target)
        self.tally.check(len(ok) >= 20, "%s: with server.%s killed, writes go on through it"
                         % (what, laggers), len(ok))
        for s in rest:
            self.c.kill(s)
        t_back = time.monotonic()
        for s in laggers:
            self.c.restart(s)
        self.expect("%s: elected by the laggers server.%s, whose history is older"
                    % (what, laggers),
                    lambda: self.c.wait_mode(target, "leader", 2 * self.timeout),
                    lambda got: " (%.2f s)" % (got - t_back))
        self.leaders_seen.append(target)
        for s in rest:
            self.c.restart(s)
        for s in laggers + rest:
            self.expect("%s: server.%d is a follower" % (what, s),
                        lambda s=s: self.c.wait_mode(s, "follower", 2 * self.timeout))
        self.settle(what)

    def phase_rolling(self):
        """Every member in turn, followers first and the leader last (as an operator does
        it): SIGTERM, then started again on its dataDir — as the kind --rolling-to names
        (a rolling replacement, e.g. java -> fk) or as itself (a rolling restart) — and awaited
        as a follower serving its client, with writes through every member after each step."""
        targets = self.args.rolling_to or self.args.members
        if len(targets) != len(self.c.members):
            self.tally.check(False, "(r) --rolling-to names one kind per member", targets)
            return
        leader = self.c.leader()
        if not self.tally.check(leader is not None, "(r) a leader before the rolling restart"):
            return
        for sid in [s for s in self.c.members if s != leader] + [leader]:
            old, new = self.c.members[sid].kind, targets[sid - 1]
            t = time.monotonic()
            status = self.c.stop(sid)
            if sid == leader:
                # The leader's graceful stop: from its exit (a JVM serves on for a moment
                # after SIGTERM) until the next write invoked after it is acknowledged.
                t_exit = time.monotonic()
                writes = wait_ok_ops(self.history, t_exit, 1, self.timeout)
                if self.tally.check(bool(writes), "(r) a write succeeds after the leader's "
                                    "SIGTERM, before it is back"):
                    took = writes[0].complete - t_exit
                    print("     failover (the leader's exit after SIGTERM until the next write "
                          "succeeds): %.3f s" % took, flush=True)
                    self.numbers["failover_term_s"] = round(took, 3)
            self.c.replace(sid, new)
            t_follow = self.expect(
                "(r) server.%d %s -> %s%s: stopped (exit %s), back as follower"
                % (sid, old, new, " (the leader)" if sid == leader else "", status),
                lambda: self.c.wait_mode(sid, "follower", 2 * self.timeout),
                lambda got: " after %.2f s" % (got - t))
            self.tally.check(wait_any_ok(self.history, t_follow, sid, self.timeout),
                             "(r) server.%d serves its client again" % sid)
            self.settle("(r) after server.%d" % sid)
        kinds = [self.c.members[s].kind for s in sorted(self.c.members)]
        self.tally.check(kinds == list(targets) and self.c.leader() is not None,
                         "(r) the ensemble is now %s, with one leader" % ",".join(targets),
                         (kinds, self.c.modes()))

    def stop_load(self):
        self.stop.set()
        for w in self.workers:
            w.join(30)
            self.tally.check(not w.is_alive() and w.error is None,
                             "load: client of server.%s ended cleanly" % w.process,
                             w.error or ("still running" if w.is_alive() else ""))

    def phase_trunc(self):
        """A leader with a txn no one else logged, and a successor that commits nothing before
        it comes back: it must drop that txn (Java: TRUNC). With the load stopped: kill -9
        every follower (SIGSTOP would not do: the kernel still takes the PROPOSAL into a
        stopped follower's socket buffer, and it logs it on SIGCONT — Java then commits it);
        a create through the leader, which logs it and gets no ACK; the leader steps down
        (awaited); kill -9 it; the followers restart and elect one of themselves; the old
        leader restarts and must rejoin as follower, and the create must be on no member.
        Nothing is written before it is back: the probe client's session would expire (a
        closeSession txn, and the old leader would get SNAP) only after PROBE_SESSION_MS."""
        leader = self.c.leader()
        if not self.tally.check(leader is not None, "(t) a leader before the TRUNC phase"):
            return
        followers = [s for s in self.c.members if s != leader]
        truncs_before = self.c.members[leader].proc.log_text().count(TRUNC_LINE)
        zk = hist.kazoo_client(self.c.address(leader), session_timeout=PROBE_SESSION_MS / 1000)
        zk.start(timeout=30)
        try:
            for f in followers:
                self.c.kill(f)
            op = hist.Op("trunc", "create", hist.ACK_ROOT + "/trunc-probe", b"",
                         time.monotonic())
            pending = zk.create_async(op.key, b"")
            self.expect("(t) leader server.%d, its followers killed, steps down" % leader,
                        lambda: self.c.wait_not_leader(leader, self.timeout))
            self.c.kill(leader)
            op.complete = time.monotonic()
            op.outcome = "ok" if pending.ready() and pending.successful() else "unknown"
            self.history.add(op)
            self.tally.check(op.outcome == "unknown", "(t) the create through the leader "
                             "without a quorum was not acknowledged", op.outcome)
        finally:
            close(zk)
        for f in followers:
            self.c.restart(f)
        new, _ = self.expect("(t) the restarted followers elect one of themselves",
                             lambda: self.c.wait_leader(2 * self.timeout, exclude=[leader]),
                             lambda got: " (server.%d)" % got[0])
        self.leaders_seen.append(new)
        t = time.monotonic()
        self.c.restart(leader)
        self.expect("(t) server.%d, with a txn no one else has, rejoins as follower" % leader,
                    lambda: self.c.wait_mode(leader, "follower", 2 * self.timeout),
                    lambda got: " (%.2f s)" % (got - t))
        for sid in self.c.members:
            zk = connect(self.c.address(sid))
            try:
                zk.sync(op.key)
                self.tally.check(zk.exists(op.key) is None, "(t) the create only the old "
                                 "leader logged is not on server.%d" % sid)
            finally:
                close(zk)
        if self.c.members[leader].kind == "java":
            truncs = self.c.members[leader].proc.log_text().count(TRUNC_LINE) - truncs_before
            self.tally.check(truncs > 0, "(t) Java server.%d was synced by TRUNC" % leader,
                             "no new '%s' line in its log" % TRUNC_LINE)

    def phase_final(self):
        modes = self.expect("(e) every member is back", lambda: self.c.wait_formed(60))
        self.tally.check(len(modes) == len(self.c.members), "(e) every member answers srvr",
                         modes)
        ops = self.history.ops()
        trees = {}
        for sid in self.c.members:
            zk = connect(self.c.address(sid))
            try:
                for k in hist.KEYS:
                    op = hist.Op("final-%d" % sid, "read", k, None, time.monotonic())
                    zk.sync(k)
                    op.value = zk.get(k)[0]
                    op.complete, op.outcome = time.monotonic(), "ok"
                    ops.append(op)
                zk.sync("/")
                trees[sid] = {**tree(zk, "/lin"), **tree(zk, hist.ACK_ROOT)}
            finally:
                close(zk)
        first = trees[1]
        for sid, t in trees.items():
            diff = sorted(set(t.items()) ^ set(first.items()))[:5]
            self.tally.check(t == first, "(e) server.%d's tree (/lin, /ack: data, mzxid, "
                             "version) equals server.1's (%d nodes)" % (sid, len(t)), diff)
        acked = [o.key for o in ops if o.op == "create" and o.outcome == "ok"]
        for sid, t in trees.items():
            lost = [p for p in acked if p not in t]
            self.tally.check(not lost, "(e) all %d acknowledged creates are on server.%d"
                             % (len(acked), sid), lost[:5])
        unknown_creates = [o.key for o in ops if o.op == "create" and o.outcome == "unknown"]
        writes = [o for o in ops if o.op == "write"]
        reads = [o for o in ops if o.op == "read" and not str(o.process).startswith("final")]
        count = {x: sum(1 for o in writes + reads if o.outcome == x)
                 for x in ("ok", "fail", "unknown")}
        print("history: %d writes, %d reads, %d creates (%d acknowledged, %d unknown); "
              "outcomes %s" % (len(writes), len(reads), len(acked) + len(unknown_creates),
                               len(acked), len(unknown_creates), count), flush=True)
        self.tally.check(len([o for o in writes if o.outcome == "ok"]) >= 100,
                         "(e) the history has at least 100 acknowledged writes")
        errors = {}
        for o in ops:
            if o.error:
                errors[o.error] = errors.get(o.error, 0) + 1
        other = {e: n for e, n in errors.items() if e not in CONNECTION_ERRORS}
        print("errors the clients saw: %s" % (errors or "none"), flush=True)
        self.tally.check(not other, "(e) the clients saw no error but lost connections and "
                         "sessions (%s)" % ", ".join(sorted(CONNECTION_ERRORS)), other)
        with open(os.path.join(self.args.run_dir, "history.jsonl"), "w") as f:
            for o in ops:
                f.write(json.dumps({"process": o.process, "op": o.op, "key": o.key,
                                    "value": o.value.decode() if o.value is not None else None,
                                    "invoke": o.invoke, "complete": o.complete,
                                    "outcome": o.outcome, "error": o.error}) + "\n")
        self.check_linearizable([o for o in ops if o.op in ("read", "write")])
        self.report_java_sync_modes()

    def report_java_sync_modes(self):
        """How the Java members were synced as learners during the stage (Learner's info
        lines; the leader side logs TRUNC only at debug): which of DIFF, TRUNC and SNAP the
        faults exercised. Printed, not checked."""
        markers = (("DIFF", "Getting a diff from the leader"),
                   ("TRUNC", TRUNC_LINE),
                   ("SNAP", "Getting a snapshot from leader"))
        java = [m for m in self.c.members.values() if m.kind == "java"]
        if java:
            modes = {mode: sum(m.proc.log_text().count(marker) for m in java)
                     for mode, marker in markers}
            print("learner syncs of the Java members: %s" % modes, flush=True)
            self.numbers["java_learner_syncs"] = modes


    def check_linearizable(self, ops):
        """The whole history, strictly; then (unless --strict-sync) without the reads that a
        deposed leader served between its SIGSTOP and its rejoining as follower.

        Java ZooKeeper 3.8 answers such reads: a leader acknowledges `sync` at once when it
        has no proposal outstanding (Leader.processSync), with no quorum round, so after
        SIGCONT the old leader still serves its own state until it notices it lost its
        followers. Linearizable sync+read through every member is then not a ZooKeeper
        guarantee; --strict-sync holds a server to it anyway."""
        initial = {k: INIT for k in hist.KEYS}
        t0 = time.monotonic()
        strict = linearizability.check(ops, initial)
        took = time.monotonic() - t0
        bad = [r for r in strict if not r.ok]
        self.numbers["strictly_linearizable"] = not bad
        print("linearizability check took %.2f s; strictly: %s" % (
            took, "every key linearizable" if not bad else
            "NOT linearizable: %s" % ", ".join(r.key for r in bad)), flush=True)
        for r in bad:
            print(r.describe(), flush=True)
        if self.args.strict_sync or not self.deposed:
            results, how = strict, ""
        else:
            def deposed_read(o):
                # "jN": the Java client of member N (test_partition.py --java-clients).
                return o.op == "read" and any(o.process in (sid, "j%s" % sid)
                                              and o.complete > t_stop
                                              and o.invoke < t_back
                                              for sid, t_stop, t_back in self.deposed)
            left_out = [o for o in ops if deposed_read(o)]
            print("%d sync+reads through a stopped-and-resumed leader left out (%s)"
                  % (len(left_out), ", ".join("server.%d, SIGSTOP to follower again: %.2f s"
                                              % (d[0], d[2] - d[1]) for d in self.deposed)),
                  flush=True)
            self.numbers["deposed_reads_left_out"] = len(left_out)
            results = linearizability.check([o for o in ops if not deposed_read(o)], initial)
            how = ", reads of a deposed leader aside"
        for r in results:
            self.tally.check(r.ok, "(e) history of %s is linearizable (%d operations%s)"
                             % (r.key, len(r.ops), how), "" if r.ok else "\n" + r.describe())


def run_steps(steps):
    """Runs each (name, step) in order, printing how long each took."""
    for name, step in steps:
        t = time.monotonic()
        step()
        print("  [%s: %.1f s]" % (name, time.monotonic() - t), flush=True)


def finish_stage(stage, tally):
    """Stops the load and every member (log tails first when something failed) and prints
    the stage's numbers; a stage that never started has nothing to stop."""
    if stage is None:
        return
    stage.stop.set()
    if tally.failed:
        print(stage.c.log_tails(40))
    stage.c.stop_all()
    if stage.numbers:
        print("numbers: %s" % json.dumps(stage.numbers))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--members", type=clusterlib.parse_kinds,
                    default=clusterlib.parse_kinds("java,java,java"))
    ap.add_argument("--tick", type=int, default=200)
    ap.add_argument("--fk-bin", default=clusterlib.DEFAULT_FK_BIN)
    ap.add_argument("--run-dir")
    ap.add_argument("--rolling-to", type=clusterlib.parse_kinds,
                    help="kinds the rolling phase brings each member back as (default: the "
                    "same), e.g. fk,fk,fk for a rolling replacement of Java by FerroKeeper")
    ap.add_argument("--strict-sync", action="store_true",
                    help="sync+reads through a resumed, deposed leader must be linearizable too")
    args = ap.parse_args()
    args.run_dir = os.path.abspath(args.run_dir or tempfile.mkdtemp(prefix="ensemble."))
    os.makedirs(args.run_dir, exist_ok=True)
    print("members %s, tickTime %d, run dir %s" % (",".join(args.members), args.tick,
                                                    args.run_dir), flush=True)
    # Kazoo logs every dropped connection (dozens per fault): into the run dir, not the output.
    logging.basicConfig(filename=os.path.join(args.run_dir, "clients.log"), level=logging.INFO,
                        format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    tally = Tally()
    t0 = time.monotonic()
    stage = None
    try:
        run_checker_unit_tests(tally)
        stage = Stage(args, tally)
        steps = [("form", stage.phase_form), ("setup", stage.phase_setup),
                 ("visible", stage.phase_visible), ("start load", stage.start_load),
                 ("settle", lambda: stage.settle("before the leader's kill")),
                 ("kill leader", stage.phase_kill_leader),
                 ("settle", lambda: stage.settle("after the leader rejoined")),
                 ("kill follower", stage.phase_kill_follower),
                 ("settle", lambda: stage.settle("after the follower rejoined")),
                 ("stop leader", stage.phase_pause_leader),
                 ("settle", lambda: stage.settle("after the stopped leader rejoined")),
                 ("each kind leads", stage.phase_each_kind_leads),
                 ("rolling restart", stage.phase_rolling),
                 ("stop load", stage.stop_load), ("trunc", stage.phase_trunc),
                 ("final", stage.phase_final)]
        run_steps(steps)
    except Abort:
        pass  # counted where it happened
    except Exception as e:  # a crash is one more failure; the result line is still printed
        tally.check(False, "the stage ran to the end", "%s: %s" % (type(e).__name__, e))
    finally:
        finish_stage(stage, tally)
    print("stage took %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (tally.passed, tally.failed))
    return 0 if tally.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
