"""Crash recovery: kill -9 under concurrent write load, restart on the same directories.

One server kind (--crash-server), one dataDir, --rounds rounds. Each round:
  1. --writers kazoo clients (own sessions, one outstanding request each, no retries)
     create nodes, setData on their own nodes and run 2-op multis (create + setData),
     all with unique values, recording every write the server ACKNOWLEDGED and its zxid;
  2. once every writer has been acknowledged a few times, after a random delay
     (0..--load-seconds, seeded) the server is killed with SIGKILL;
  3. the txn log left behind must pass TxnLogToolkit, and every log in the directory the
     pure-Python record/zxid check (consecutive history);
  4. the server restarts on the same directories, and must have
       - a last zxid >= every acknowledged zxid;
       - every acknowledged write, with its value, mzxid and version, unless the one write
         that writer had in flight at the crash (never acknowledged) superseded it; an
         in-flight write is either fully there or absent (a multi: both parts or none);
       - no node nobody wrote; a consistent tree (numChildren, dataLength, cversion =
         number of creates, pzxid >= children's czxid, no zxid above the last one);
       - the crashed writers' sessions, resumable by id and password (then closed);
       - zxids continuing: the next write gets the last zxid + 1, every zxid of the next
         round is above everything before the crash (no reuse);
     and the newest snapshot it would load must pass SnapshotFormatter and its checksum.
After the last round the server is stopped gracefully and its newest files checked again.
"""

import os
import random
import threading
import time

import pytest

import toolkit
from treedump import check_consistent, dump_tree
from workload import close, connect

ROOT = "/crash"
OP_TIMEOUT_S = 10.0
MAX_OPS_PER_ROUND = 3000      # per writer
WARMUP_ACKS = 5               # per writer, before the kill timer starts
WARMUP_TIMEOUT_S = 20.0
SESSION_TIMEOUT_S = 30.0      # writers' sessions must survive restart + verification


class Writer(threading.Thread):
    """One client, one outstanding write at a time; records what was acknowledged."""

    def __init__(self, rnd_seed, port, rnd_round, idx, base, stop, killed, deadline):
        super().__init__(daemon=True, name="writer-%d" % idx)
        self.rnd = random.Random(rnd_seed)
        self.idx, self.round, self.base = idx, rnd_round, base
        self.stop_ev, self.killed, self.deadline = stop, killed, deadline
        self.client = connect(port, auth=(), timeout_s=SESSION_TIMEOUT_S)
        self.session = self.client.client_id
        self.own = []          # acknowledged paths of this writer (this round)
        self.acks = []         # (op, zxid)
        self.pending = None    # the op in flight when the writer stopped (outcome unknown)
        self.error = None      # an error that was not caused by the crash
        self.warm = threading.Event()
        self.nops = 0

    def _value(self, i):
        return b"r%d-w%d-op%d-%s" % (self.round, self.idx, i,
                                     b"x" * self.rnd.randrange(0, 40))

    def _next_op(self, i):
        k = len(self.own)
        roll = self.rnd.random()
        if k == 0 or roll < 0.3:
            return {"kind": "create", "path": "%s/n%05d" % (self.base, i), "value": self._value(i)}
        if roll < 0.9:
            return {"kind": "set", "path": self.rnd.choice(self.own), "value": self._value(i)}
        return {"kind": "multi", "path": "%s/n%05d" % (self.base, i),
                "set_path": self.rnd.choice(self.own), "value": self._value(i)}

    def run(self):
        c = self.client
        for i in range(MAX_OPS_PER_ROUND):
            if self.stop_ev.is_set() or time.monotonic() > self.deadline:
                break
            op = self._next_op(i)
            self.pending = op
            try:
                if op["kind"] == "create":
                    _p, st = c.create_async(op["path"], op["value"], include_data=True).get(
                        timeout=OP_TIMEOUT_S)
                    zxid = st.czxid
                elif op["kind"] == "set":
                    zxid = c.set_async(op["path"], op["value"]).get(timeout=OP_TIMEOUT_S).mzxid
                else:
                    t = c.transaction()
                    t.create(op["path"], op["value"])
                    t.set_data(op["set_path"], op["value"])
                    res = t.commit_async().get(timeout=OP_TIMEOUT_S)
                    if any(isinstance(r, Exception) for r in res):
                        raise AssertionError("multi failed: %r" % (res,))
                    zxid = res[1].mzxid
            except Exception as e:  # noqa: BLE001 - classified below
                if not self.killed.is_set():
                    self.error = "%s %s: %r" % (op["kind"], op["path"], e)
                return  # op stays pending: it may or may not have been applied
            self.pending = None
            self.acks.append((op, zxid))
            if op["kind"] != "set":
                self.own.append(op["path"])
            self.nops += 1
            if self.nops == WARMUP_ACKS:
                self.warm.set()


class Model:
    """What the tree under ROOT must hold: path -> {value, czxid, mzxid, version}."""

    def __init__(self):
        self.nodes = {}
        self.children = {}        # dir -> set of child names
        self.max_zxid = 0
        self.multi_zxids = set()

    def add_dir(self, path, st):
        self.nodes[path] = {"value": b"", "czxid": st.czxid, "mzxid": st.mzxid, "version": 0}
        self.children.setdefault(path, set())
        self._child(path)
        self.max_zxid = max(self.max_zxid, st.czxid)

    def _child(self, path):
        parent, name = path.rsplit("/", 1)
        self.children.setdefault(parent or "/", set()).add(name)

    def created(self, path, value, zxid):
        self.nodes[path] = {"value": value, "czxid": zxid, "mzxid": zxid, "version": 0}
        self._child(path)
        self.max_zxid = max(self.max_zxid, zxid)

    def set(self, path, value, zxid):
        n = self.nodes[path]
        n.update(value=value, mzxid=zxid, version=n["version"] + 1)
        self.max_zxid = max(self.max_zxid, zxid)

    def apply(self, op, zxid):
        if op["kind"] in ("create", "multi"):
            self.created(op["path"], op["value"], zxid)
        if op["kind"] == "set":
            self.set(op["path"], op["value"], zxid)
        if op["kind"] == "multi":
            self.set(op["set_path"], op["value"], zxid)
            self.multi_zxids.add(zxid)


def verify(model, writers, dump, problems):
    """Compare the restarted server's tree with the model; resolve each writer's in-flight
    op (applied or not) and fold it into the model."""
    nodes = dump["nodes"]
    last = dump["zxid"]
    pend = {}
    for w in writers:
        if w.pending is not None:
            op = w.pending
            pend[op["path"]] = op
            if op["kind"] == "multi":
                pend[op["set_path"]] = op
    applied = {}  # id(op) -> zxid (or None: not applied), with consistency between parts

    def outcome(op, was_applied, zxid, where):
        prev = applied.get(id(op), "unset")
        if prev == "unset":
            applied[id(op)] = zxid if was_applied else None
        elif (prev is None) != (not was_applied) or (was_applied and prev != zxid):
            problems.append("in-flight multi half applied (%s): create %s / set %s"
                            % (where, op["path"], op["set_path"]))

    for path, m in model.nodes.items():
        n = nodes.get(path)
        if n is None:
            problems.append("acknowledged node %s is missing" % path)
            continue
        st = n["stat"]
        op = pend.get(path)
        if n["data"] == m["value"] and (st["mzxid"], st["version"], st["czxid"]) == (
                m["mzxid"], m["version"], m["czxid"]):
            if op is not None and op["kind"] in ("set", "multi") and op.get("set_path", path) == path:
                outcome(op, False, None, path)
            continue
        if (op is not None and op.get("set_path", op["path"]) == path and op["kind"] != "create"
                and n["data"] == op["value"] and st["version"] == m["version"] + 1
                and st["czxid"] == m["czxid"] and m["mzxid"] < st["mzxid"] <= last):
            outcome(op, True, st["mzxid"], path)
            continue
        problems.append("%s: has %r (mzxid %#x version %d), acknowledged %r (mzxid %#x "
                        "version %d)%s" % (path, n["data"][:40], st["mzxid"], st["version"],
                                           m["value"][:40], m["mzxid"], m["version"],
                                           " or in-flight %r" % op["value"][:40] if op else ""))
    for path, op in pend.items():
        if op["path"] != path or op["kind"] == "set":
            continue
        n = nodes.get(path)
        if n is None:
            outcome(op, False, None, path)
        elif n["data"] == op["value"] and n["stat"]["version"] == 0 and n["stat"]["czxid"] <= last:
            outcome(op, True, n["stat"]["czxid"], path)
        else:
            problems.append("in-flight create %s: node has %r" % (path, n["data"][:40]))
    n_applied = 0
    for w in writers:
        op = w.pending
        if op is not None and applied.get(id(op)) is not None:
            model.apply(op, applied[id(op)])
            w.acks.append((op, applied[id(op)]))
            n_applied += 1
    # no phantom nodes; directory bookkeeping
    for d, kids in model.children.items():
        n = nodes.get(d)
        if n is None or not d.startswith(ROOT):
            continue
        extra = set(n["children"]) - kids
        missing = kids - set(n["children"])
        if extra:
            problems.append("%s has children nobody created: %s" % (d, sorted(extra)[:5]))
        if missing:
            problems.append("%s lacks children: %s" % (d, sorted(missing)[:5]))
        st = n["stat"]
        if st["cversion"] != st["numChildren"]:  # only creates under ROOT
            problems.append("%s cversion %d but %d children (and no deletes)"
                            % (d, st["cversion"], st["numChildren"]))
    # every write its own zxid (a multi's two nodes share one)
    by_mzxid = {}
    czxids = {}
    for path, n in nodes.items():
        if not path.startswith(ROOT):
            continue
        st = n["stat"]
        if st["czxid"] in czxids:
            problems.append("%s and %s share czxid %#x" % (path, czxids[st["czxid"]], st["czxid"]))
        czxids[st["czxid"]] = path
        by_mzxid.setdefault(st["mzxid"], []).append(path)
    for z, paths in by_mzxid.items():
        if len(paths) > 2 or (len(paths) == 2 and z not in model.multi_zxids):
            problems.append("nodes %s share mzxid %#x" % (paths[:4], z))
    return n_applied, sum(1 for w in writers if w.pending is not None) - n_applied


def test_crash_recovery(settings, testdir, make_server, note):
    rnd = random.Random(settings.seed)
    s = make_server(settings.crash_server, "S", os.path.join(testdir, "data")).start()
    model = Model()
    c = connect(s.port)
    model.add_dir(ROOT, c.create(ROOT, b"", include_data=True)[1])
    close(c)
    prev_last = 0
    t_start = time.monotonic()
    for r in range(1, settings.rounds + 1):
        c = connect(s.port)
        base = "%s/r%02d" % (ROOT, r)
        model.add_dir(base, c.create(base, b"", include_data=True)[1])
        dirs = []
        for w in range(settings.writers):
            d = "%s/w%d" % (base, w)
            model.add_dir(d, c.create(d, b"", include_data=True)[1])
            dirs.append(d)
        close(c)

        stop, killed = threading.Event(), threading.Event()
        deadline = time.monotonic() + WARMUP_TIMEOUT_S + settings.load_seconds + 5
        writers = [Writer(rnd.random(), s.port, r, w, dirs[w], stop, killed, deadline)
                   for w in range(settings.writers)]
        for w in writers:
            w.start()
        warm_deadline = time.monotonic() + WARMUP_TIMEOUT_S
        for w in writers:
            if not w.warm.wait(max(0.0, warm_deadline - time.monotonic())):
                stop.set()
                pytest.fail("round %d: writer %d had %d writes acknowledged in %.0f s "
                            "(error: %s)" % (r, w.idx, w.nops, WARMUP_TIMEOUT_S, w.error))
        time.sleep(rnd.uniform(0.0, settings.load_seconds))  # the crash moment, not a sync
        killed.set()
        s.kill()
        stop.set()
        for w in writers:
            w.join(OP_TIMEOUT_S + 5)
            assert not w.is_alive(), "writer %d did not stop" % w.idx
        for w in writers:
            w.client.stop()
            w.client.close()
        errors = [w.error for w in writers if w.error]
        assert not errors, "round %d: writes failed before the crash: %s" % (r, errors)
        acked = sum(len(w.acks) for w in writers)
        for w in writers:
            for op, zxid in w.acks:
                assert zxid > prev_last, (
                    "round %d: write acknowledged with zxid %#x, not above the %#x the "
                    "server had after the previous restart (zxid reused)" % (r, zxid, prev_last))
                model.apply(op, zxid)
            zs = [z for _op, z in w.acks]
            assert zs == sorted(set(zs)), "writer %d got non-increasing zxids" % w.idx

        # the files the crash left behind
        crash_log = toolkit.newest(s.txn_dir, "log")
        assert crash_log is not None, (
            "round %d: no txn log in %s after %d acknowledged writes (nothing on disk?)"
            % (r, s.txn_dir, acked))
        toolkit.check_txn_log(crash_log)
        toolkit.check_history(s.txn_dir)

        s.start()
        last = s.zxid()
        assert last >= model.max_zxid, (
            "round %d: restarted with last zxid %#x but zxid %#x was acknowledged"
            % (r, last, model.max_zxid))
        v = connect(s.port, auth=())
        dump = dump_tree(v, s.port)
        problems = check_consistent(dump)
        inflight_applied, inflight_lost = verify(model, writers, dump, problems)
        assert not problems, "round %d (%d acknowledged writes):\n  %s" % (
            r, acked, "\n  ".join(problems[:30]))
        # next write: last zxid + 1, above everything
        z0 = s.zxid()
        _p, st = v.create("%s/probe-%02d" % (ROOT, r), b"", include_data=True)
        assert st.czxid == z0 + 1, "round %d: first write after restart got %#x, expected %#x" % (
            r, st.czxid, z0 + 1)
        assert st.czxid > max(model.max_zxid, last)
        model.created("%s/probe-%02d" % (ROOT, r), b"", st.czxid)
        # the crashed writers' sessions survived: resume and close each
        for w in writers:
            rc = connect(s.port, auth=(), client_id=w.session, timeout_s=SESSION_TIMEOUT_S)
            got = rc.client_id[0]
            close(rc)
            assert got == w.session[0], ("round %d: session %#x of writer %d did not survive "
                                         "the crash" % (r, w.session[0], w.idx))
        close(v)
        prev_last = s.zxid()
        snap, skipped = toolkit.newest_valid_snapshot(s.snap_dir)
        assert snap is not None, "round %d: no loadable snapshot" % r
        toolkit.check_snapshot(snap)
        note("round %d: %d writes acknowledged, in flight at the kill: %d applied, "
                      "%d not; last zxid %#x, %d nodes, %d partial snapshots skipped"
                      % (r, acked, inflight_applied, inflight_lost, last, len(dump["nodes"]),
                         len(skipped)))
    s.stop()
    res = toolkit.check_newest(s.snap_dir, s.txn_dir)
    hist = toolkit.check_history(s.txn_dir)
    assert hist[-1][2] == res["log"]["zxids"][-1] == prev_last
    note("%s: %d rounds in %.1f s, %d txn logs, %d snapshots" % (
        s.kind, settings.rounds, time.monotonic() - t_start, len(hist),
        len(toolkit.snapshots(s.snap_dir))))
