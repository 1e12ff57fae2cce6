#!/usr/bin/env python3
"""Differential test: the same seeded random ZooKeeper programs against two servers.

    difftest.py --a 127.0.0.1:2181 --b 127.0.0.1:2182 --seeds 1-20 --ops 200
    difftest.py --a java --b java --seeds 1-20          # spawn two Java ZooKeepers (Debian)
    difftest.py --a 127.0.0.1:2181 --record t.jsonl --seeds 3
    difftest.py --compare a.jsonl b.jsonl
    difftest.py --self-test                              # the comparator catches a difference

Each seed gives a program: S sessions, N operations drawn from every client request type, on a
small path space under a fresh root, so that errors are frequent. The program is executed one
operation at a time; after each one every live session does a sync+ping round trip, so every
watch notification that operation caused has arrived (a server sends a session's notifications
before its later replies). Replies and notifications are normalised (see README.md) and written
as a transcript per server; the transcripts must be identical.

Exit status: 0 if every seed agreed, 1 if any seed differed or failed, 2 on usage errors.
Final line: "N passed, M failed" (counting seeds).
"""

import argparse
import copy
import json
import os
import random
import re
import shlex
import shutil
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import zkwire as W  # noqa: E402
from zkwire import Op  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Program generation (depends on the seed only, never on a server's answers)
# ---------------------------------------------------------------------------------------------

LEVEL1 = ["/a", "/b", "/c"]
LEVEL2 = [p + "/" + q for p in LEVEL1 for q in ("x", "y")]
DEEP = ["/a/x/q", "/b/y/q", "/zz/q"]                      # missing or possibly-ephemeral parents
INVALID = ["/a/", "/a//x", "/a/./x", "/b/../c", "/a/x/"]  # rejected by PathUtils.validatePath
SEQ_PREFIXES = ["/s-", "/a/s-", "/b/s-", "/a/x/s-"]
USERS = {"alice": "pw-alice", "bob": "pw-bob"}
CLEANER = ("cleaner", "pw-cleaner")   # only the harness's cleanup authenticates as this user
PERM_CHOICES = [31, 31, 1, 3, 5, 7, 15, 30, 0, 16, 8]
VERSION_CHOICES = [-1, -1, -1, 0, 0, 0, 1, 1, 2, 3, 5, -2]

OP_WEIGHTS = [
    ("create", 30), ("delete", 8), ("setData", 10), ("exists", 6), ("getData", 8),
    ("getChildren", 5), ("getChildren2", 4), ("getACL", 3), ("setACL", 5), ("multi", 7),
    ("multiRead", 3), ("addauth", 2), ("whoAmI", 1), ("addWatch", 3), ("removeWatches", 3),
    ("checkWatches", 2), ("setWatches2", 2), ("getAllChildrenNumber", 2), ("getEphemerals", 2),
    ("sync", 1), ("ping", 1), ("close", 1), ("open", 1), ("burst", 3), ("reconnect", 2),
]


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def choice(self, xs):
        return self.r.choice(xs)

    def chance(self, p):
        return self.r.random() < p

    def path(self, allow_root=True):
        x = self.r.random()
        if x < 0.28:
            return self.choice(LEVEL1)
        if x < 0.62:
            return self.choice(LEVEL2)
        if x < 0.80:
            return "@%d" % self.r.randrange(8)      # a sequential node created earlier this run
        if x < 0.88 and allow_root:
            return ""                                # the run's root itself
        if x < 0.94:
            return self.choice(DEEP)
        return self.choice(INVALID)

    def create_path(self):
        x = self.r.random()
        if x < 0.42:
            return self.choice(LEVEL1)
        if x < 0.82:
            return self.choice(LEVEL2)
        if x < 0.88:
            return "@%d" % self.r.randrange(8)
        if x < 0.95:
            return self.choice(DEEP)
        return self.choice(INVALID)

    def data(self):
        x = self.r.random()
        if x < 0.08:
            return None
        if x < 0.2:
            return ""
        if x < 0.9:
            n = self.r.randrange(1, 9)
            return "".join(self.choice("abcdefgh") for _ in range(n)).encode().hex()
        return bytes(self.r.randrange(256) for _ in range(self.r.randrange(1, 6))).hex()

    def version(self):
        return self.choice(VERSION_CHOICES)

    def perms(self):
        return self.choice(PERM_CHOICES) if self.chance(0.9) else self.r.randrange(32)

    def acl(self):
        """An ACL list: mostly open, sometimes restrictive (always leaving ADMIN to the cleanup
        user so the run's tree can be removed), sometimes invalid."""
        x = self.r.random()
        if x < 0.6:
            return [[31, "world", "anyone"]]
        if x < 0.9:
            entries = []
            for _ in range(self.r.randrange(1, 4)):
                k = self.r.randrange(6)
                if k == 0:
                    entries.append([self.perms(), "world", "anyone"])
                elif k in (1, 2):
                    u = self.choice(sorted(USERS))
                    entries.append([self.perms(), "digest", W.digest_id(u, USERS[u])])
                elif k == 3:
                    entries.append([self.perms(), "ip", self.choice(["127.0.0.1", "127.0.0.0/8", "10.0.0.0/8"])])
                elif k == 4:
                    entries.append([self.perms(), "auth", ""])  # expands to the caller's digest ids
                else:
                    entries.append(list(entries[0]) if entries else [31, "world", "anyone"])  # duplicate
            entries.append([W.Perms.ADMIN, "digest", W.digest_id(*CLEANER)])
            return entries
        return self.choice([
            [],
            [[31, "ip", "not-an-ip"]],
            [[31, "world", "somebody"]],
            [[31, "digest", "no-colon"]],
            [[31, "nosuchscheme", "x"]],
            [[31, "ip", "127.0.0.1/99"]],
        ])

    def create(self):
        variant = self.choice(["create", "create2", "create2", "create2", "createContainer", "createTTL"])
        if variant == "createContainer":
            flags = 4 if self.chance(0.85) else self.choice([0, 1, 2])
        elif variant == "createTTL":
            flags = self.choice([5, 5, 6, 6, 0, 1, 4])
        else:
            flags = self.choice([0, 0, 0, 1, 1, 2, 2, 3, 3]) if self.chance(0.93) else self.choice([4, 5, 6, 7, -1])
        seq = flags in (2, 3, 6)
        path = self.choice(SEQ_PREFIXES) if (seq and self.chance(0.85)) else self.create_path()
        op = {"k": variant, "path": path, "data": self.data(), "acl": self.acl(), "flags": flags}
        if variant == "createTTL":
            if flags in (5, 6):
                op["ttl"] = self.choice([1, 1000, 3600000, 3600000, 0, -5, (1 << 40) - 1, 1 << 40])
            else:
                # A non-TTL mode with a negative ttl passes Java 3.8.0's validation and then
                # kills the server (IllegalArgumentException in DataTree.processTxn, and the txn
                # log can no longer be replayed): never generated.
                op["ttl"] = self.choice([1, 1000, 0])
        return op

    def simple(self, kinds):
        k = self.choice(kinds)
        if k == "create":
            return self.create()
        if k == "delete":
            return {"k": k, "path": self.path(allow_root=False), "version": self.version()}
        if k == "setData":
            return {"k": k, "path": self.path(), "data": self.data(), "version": self.version()}
        if k in ("exists", "getData", "getChildren", "getChildren2"):
            return {"k": k, "path": self.path(), "watch": self.chance(0.5)}
        raise AssertionError(k)

    def multi_subop(self):
        k = self.choice(["create", "create", "delete", "setData", "check"])
        if k == "create":
            op = self.create()
            if op["k"] == "createTTL" and self.chance(0.3):
                op["k"] = "create2"
                op.pop("ttl")
            return op
        if k == "check":
            return {"k": "check", "path": self.path(), "version": self.version()}
        return self.simple([k])

    def op(self, kind, live_slots, dead_slots):
        s = self.choice(live_slots) if live_slots else None
        if kind == "create":
            op = self.create()
        elif kind in ("delete", "setData", "exists", "getData", "getChildren", "getChildren2"):
            op = self.simple([kind])
        elif kind == "getACL":
            op = {"k": kind, "path": self.path()}
        elif kind == "setACL":
            op = {"k": kind, "path": self.path(allow_root=False), "acl": self.acl(), "version": self.version()}
        elif kind == "multi":
            n = self.choice([0, 1, 2, 2, 3, 3, 4, 5])
            op = {"k": kind, "ops": [self.multi_subop() for _ in range(n)]}
        elif kind == "multiRead":
            n = self.choice([0, 1, 2, 3, 4])
            op = {"k": kind, "ops": [{"k": self.choice(["getData", "getChildren"]), "path": self.path(),
                                      "watch": self.chance(0.3)} for _ in range(n)]}
        elif kind == "addauth":
            u = self.choice(sorted(USERS))
            pw = USERS[u] if self.chance(0.8) else "wrong"
            op = {"k": kind, "scheme": "digest", "auth": "%s:%s" % (u, pw)}
        elif kind == "whoAmI":
            op = {"k": kind}
        elif kind == "addWatch":
            op = {"k": kind, "path": self.path(), "mode": self.choice([0, 1])}
        elif kind in ("removeWatches", "checkWatches"):
            op = {"k": kind, "path": self.path(), "type": self.choice([1, 2, 3, 3])}
        elif kind == "setWatches2":
            def some():
                return [self.path() for _ in range(self.choice([0, 0, 1, 2]))]
            op = {"k": kind, "relZxid": self.choice(["last", "last", "zero"]),
                  "data": some(), "exist": some(), "child": some(), "persistent": some(),
                  "recursive": some()}
        elif kind == "getAllChildrenNumber":
            op = {"k": kind, "path": self.path()}
        elif kind == "getEphemerals":
            op = {"k": kind, "prefix": self.choice(["", "/", "R", "R/a", "R/a/x", "R/s", "R/b/"])}
        elif kind == "sync":
            op = {"k": kind, "path": self.path()}
        elif kind == "ping":
            op = {"k": kind}
        elif kind == "close":
            op = {"k": kind}
        elif kind == "open":
            op = {"k": kind}
            s = self.choice(dead_slots)
        elif kind == "reconnect":
            # drop the TCP connection (not the session), resume the session on a new one and,
            # like a real client, re-register watches with setWatches (v1) or setWatches2
            op = {"k": kind, "watches": self.choice(["none", "v1", "v2", "v2"])}
            if op["watches"] != "none":
                def some():
                    return [self.path() for _ in range(self.choice([0, 1, 1, 2]))]
                op.update(data=some(), exist=some(), child=some())
                if op["watches"] == "v2":
                    op.update(persistent=some(), recursive=some())
        elif kind == "burst":
            n = self.r.randrange(2, 6)
            op = {"k": kind, "ops": [self.simple(["create", "delete", "setData", "getData", "exists",
                                                  "getChildren"]) for _ in range(n)]}
        else:
            raise AssertionError(kind)
        op["s"] = s
        return op


def generate_program(seed, n_ops, n_sessions=3):
    """The program for a seed: opens, n_ops random operations, closes. Pure function of its
    arguments."""
    g = Gen(seed * 1000003 + n_ops * 7 + n_sessions)
    prog = [{"k": "open", "s": i} for i in range(n_sessions)]
    live = set(range(n_sessions))
    kinds = [k for k, _ in OP_WEIGHTS]
    weights = [w for _, w in OP_WEIGHTS]
    for _ in range(n_ops):
        dead = sorted(set(range(n_sessions)) - live)
        for _attempt in range(50):
            kind = g.r.choices(kinds, weights)[0]
            if kind == "close" and len(live) < 2:
                continue
            if kind == "open" and not dead:
                continue
            if kind != "open" and not live:
                continue
            break
        else:
            kind = "open" if dead else "ping"
        op = g.op(kind, sorted(live), dead)
        if kind == "close":
            live.discard(op["s"])
        elif kind == "open":
            live.add(op["s"])
        prog.append(op)
    for s in sorted(live):
        prog.append({"k": "close", "s": s})
    return prog


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

ZXID_FIELDS = ("czxid", "mzxid", "pzxid")
SEQ_RE = re.compile(r"\d{10}$")


class Normalizer:
    """Turns server-specific values into comparable ones.

    zxids: mode "order" maps each distinct zxid to z1, z2, ... in order of first appearance in
    the transcript (0 and -1 are kept); mode "delta" writes zxid - (zxid of the root's creation).
    Session ids: S0, S1, ... in order of session creation. ctime/mtime: dropped. The run's root
    path: replaced by "R". Child and ephemeral lists: sorted.
    """

    def __init__(self, root, zxid_mode="order"):
        self.root = root
        self.zxid_mode = zxid_mode
        self.zxids = {}
        self.base = None
        self.sessions = {}

    def zxid(self, z):
        if z in (0, -1) or not isinstance(z, int):
            return z
        if self.zxid_mode == "delta":
            return "z%+d" % (z - (self.base or 0))
        if z not in self.zxids:
            self.zxids[z] = "z%d" % (len(self.zxids) + 1)
        return self.zxids[z]

    def session(self, sid):
        if sid == 0:
            return 0
        if sid in self.sessions:
            return self.sessions[sid]
        return "unknown-owner:%x" % (sid & 0xFFFFFFFFFFFFFFFF)

    def add_session(self, sid, label):
        self.sessions[sid] = label

    def path(self, p):
        if isinstance(p, str) and (p == self.root or p.startswith(self.root + "/")):
            return "R" + p[len(self.root):]
        return p

    def stat(self, st):
        if st is None:
            return None
        out = {}
        for k, v in st.items():
            if k in ("ctime", "mtime"):
                continue
            if k in ZXID_FIELDS:
                out[k] = self.zxid(v)
            elif k == "ephemeralOwner":
                out[k] = self.session(v)
            else:
                out[k] = v
        return out

    def body(self, b):
        if b is None:
            return None
        out = {}
        for k, v in b.items():
            if k == "stat":
                out[k] = self.stat(v)
            elif k in ("path",):
                out[k] = self.path(v)
            elif k in ("children", "ephemerals"):
                out[k] = None if v is None else sorted(self.path(x) for x in v)
            elif k == "results":
                out[k] = [self.body(x) for x in v]
            else:
                out[k] = v
        return out

    def reply(self, rep):
        out = {"xid": rep["xid"], "zxid": self.zxid(rep["zxid"]), "err": rep["err"]}
        if rep["err"] != 0:
            out["errname"] = W.ERRORS.get(rep["err"], "?")
        for k in ("xid_mismatch", "unsolicited", "decode_error", "extra"):
            if k in rep:
                out[k] = rep[k]
        if rep.get("body") is not None:
            out["body"] = self.body(rep["body"])
        return out

    def event(self, ev):
        out = {"type": W.EVENT_TYPES.get(ev.get("type"), ev.get("type")),
               "state": W.KEEPER_STATES.get(ev.get("state"), ev.get("state")),
               "path": self.path(ev.get("path")), "zxid": self.zxid(ev["zxid"])}
        if ev["err"] != 0:
            out["err"] = ev["err"]
        for k in ("decode_error", "extra"):
            if k in ev:
                out[k] = ev[k]
        return out


# ---------------------------------------------------------------------------------------------
# Execution against one server
# ---------------------------------------------------------------------------------------------

CREATE_OPCODES = {"create": Op.CREATE, "create2": Op.CREATE2, "createContainer": Op.CREATE_CONTAINER,
                  "createTTL": Op.CREATE_TTL}


MAX_TIMEOUTS = 3
ADMIN_PING_S = 10.0  # < the 30 s session timeout


class Runner:
    """Executes programs against one server and produces normalised transcript records."""

    def __init__(self, hostport, root, zxid_mode="order", io_timeout=5.0, session_timeout_ms=30000):
        self.host, self.port = W.parse_hostport(hostport)
        self.root = root
        self.norm = Normalizer(root, zxid_mode)
        self.io_timeout = io_timeout
        self.session_timeout_ms = session_timeout_ms
        self.slots = {}      # slot -> Session (or None when closed/dead)
        self.labels = {}     # slot -> label of the session now in it
        self.n_sessions = 0
        self.seq_paths = []  # relative paths of sequential nodes created so far
        self.admin = None
        self.admin_used = 0.0  # time.monotonic() of the admin session's last round trip
        self.timeouts = 0    # replies that never came; after MAX_TIMEOUTS the run is abandoned
        # session id -> password of every session the program opened, and the ids whose
        # closeSession was answered: the rest are closed by cleanup() (see there)
        self.opened = {}
        self.closed_ok = set()

    # -- paths --------------------------------------------------------------------------------
    def resolve(self, p):
        if isinstance(p, str) and p.startswith("@"):
            k = int(p[1:])
            rel = self.seq_paths[k % len(self.seq_paths)] if self.seq_paths else "/a"
            return self.root + rel
        return self.root + p

    def note_created(self, path):
        if isinstance(path, str) and path.startswith(self.root + "/") and SEQ_RE.search(path):
            rel = path[len(self.root):]
            if rel not in self.seq_paths:
                self.seq_paths.append(rel)

    # -- request building ---------------------------------------------------------------------
    def build(self, op, sess):
        """(opcode, body bytes, xid or None) for a program operation."""
        k = op["k"]
        if k in CREATE_OPCODES:
            data = None if op["data"] is None else bytes.fromhex(op["data"])
            acl = [tuple(a) for a in op["acl"]]
            path = self.resolve(op["path"])
            if k == "createTTL":
                return Op.CREATE_TTL, W.req_create_ttl(path, data, acl, op["flags"], op["ttl"]), None
            return CREATE_OPCODES[k], W.req_create(path, data, acl, op["flags"]), None
        if k == "delete":
            return Op.DELETE, W.req_delete(self.resolve(op["path"]), op["version"]), None
        if k == "setData":
            data = None if op["data"] is None else bytes.fromhex(op["data"])
            return Op.SET_DATA, W.req_set_data(self.resolve(op["path"]), data, op["version"]), None
        if k == "check":
            return Op.CHECK, W.req_check(self.resolve(op["path"]), op["version"]), None
        if k in ("exists", "getData", "getChildren", "getChildren2"):
            code = {"exists": Op.EXISTS, "getData": Op.GET_DATA, "getChildren": Op.GET_CHILDREN,
                    "getChildren2": Op.GET_CHILDREN2}[k]
            return code, W.req_path_watch(self.resolve(op["path"]), op["watch"]), None
        if k == "getACL":
            return Op.GET_ACL, W.req_path(self.resolve(op["path"])), None
        if k == "setACL":
            acl = [tuple(a) for a in op["acl"]]
            return Op.SET_ACL, W.req_set_acl(self.resolve(op["path"]), acl, op["version"]), None
        if k == "multi":
            subs = []
            for so in op["ops"]:
                code, body, _ = self.build(so, sess)
                subs.append((code, body))
            return Op.MULTI, W.req_multi(subs), None
        if k == "multiRead":
            subs = [({"getData": Op.GET_DATA, "getChildren": Op.GET_CHILDREN}[so["k"]],
                     W.req_path_watch(self.resolve(so["path"]), so["watch"])) for so in op["ops"]]
            return Op.MULTI_READ, W.req_multi(subs), None
        if k == "addauth":
            return Op.AUTH, W.req_auth(op["scheme"], op["auth"].encode()), W.AUTH_XID
        if k == "whoAmI":
            return Op.WHO_AM_I, b"", None
        if k == "addWatch":
            return Op.ADD_WATCH, W.req_add_watch(self.resolve(op["path"]), op["mode"]), None
        if k == "removeWatches":
            return Op.REMOVE_WATCHES, W.req_path_type(self.resolve(op["path"]), op["type"]), None
        if k == "checkWatches":
            return Op.CHECK_WATCHES, W.req_path_type(self.resolve(op["path"]), op["type"]), None
        if k == "setWatches2":
            rel = sess.last_zxid if op["relZxid"] == "last" else 0
            lists = [[self.resolve(p) for p in op[f]] for f in ("data", "exist", "child", "persistent", "recursive")]
            return Op.SET_WATCHES2, W.req_set_watches2(rel, *lists), W.SET_WATCHES_XID
        if k == "getAllChildrenNumber":
            return Op.GET_ALL_CHILDREN_NUMBER, W.req_path(self.resolve(op["path"])), None
        if k == "getEphemerals":
            prefix = op["prefix"]
            if prefix.startswith("R"):
                prefix = self.root + prefix[1:]
            return Op.GET_EPHEMERALS, W.req_path(prefix), None
        if k == "sync":
            return Op.SYNC, W.req_path(self.resolve(op["path"])), None
        if k == "ping":
            return Op.PING, b"", W.PING_XID
        if k == "close":
            return Op.CLOSE_SESSION, b"", None
        raise AssertionError("cannot build %r" % k)

    # -- sessions -----------------------------------------------------------------------------
    def open_session(self):
        s = W.Session(self.host, self.port, timeout_ms=self.session_timeout_ms, io_timeout=self.io_timeout)
        resp = s.connect()
        return s, resp

    def setup(self):
        """Admin session + fresh root. Returns the normalised record of the root's creation."""
        self.admin, _ = self.open_session()
        self.admin_used = time.monotonic()
        rep, _ = self.admin.call(Op.CREATE2, W.req_create(self.root, b"", W.OPEN_ACL_UNSAFE, 0))
        if rep["err"] != 0:
            raise RuntimeError("could not create run root %s: err %d" % (self.root, rep["err"]))
        self.norm.base = rep["zxid"]
        return {"i": "setup", "reply": self.norm.reply(rep)}

    # -- one operation ------------------------------------------------------------------------
    def _note_reply(self, op, rep):
        body = rep.get("body") or {}
        if rep["err"] == 0 and "path" in body and op["k"] in CREATE_OPCODES:
            self.note_created(body["path"])
        for res in body.get("results", []) if op["k"] == "multi" else []:
            if "path" in res:
                self.note_created(res["path"])

    def execute(self, i, op):
        slot = op["s"]
        rec = {"i": i, "op": op}
        k = op["k"]
        if k == "open":
            try:
                s, resp = self.open_session()
            except (OSError, W.ConnectionClosed, W.Timeout) as e:
                rec["s"] = None
                rec["out"] = [{"error": "connect: %s" % type(e).__name__}]
                self.slots[slot] = None
                return rec
            label = "S%d" % self.n_sessions
            self.n_sessions += 1
            self.opened[resp["sessionId"]] = s.passwd
            self.norm.add_session(resp["sessionId"], label)
            self.slots[slot] = s
            self.labels[slot] = label
            resp = dict(resp)
            resp["sessionId"] = self.norm.session(resp["sessionId"])
            rec["s"] = label
            rec["out"] = [{"connect": resp}]
            rec["ev"] = self.barrier()
            return rec
        sess = self.slots.get(slot)
        rec["s"] = self.labels.get(slot)
        if sess is None or sess.closed:
            rec["out"] = [{"skipped": "session not connected"}]
            return rec
        if k == "reconnect":
            return self.reconnect(rec, slot, sess, op)
        stream = []
        try:
            if k == "burst":
                for so in op["ops"]:
                    code, body, xid = self.build(so, sess)
                    sess.send(code, body, xid)
                got = 0
                deadline = time.monotonic() + self.io_timeout
                while got < len(op["ops"]):
                    p = sess.recv(max(0.0, deadline - time.monotonic()))
                    if p.kind == "event":
                        stream.append({"event": self.norm.event(p)})
                    else:
                        self._note_reply(op["ops"][got], p)
                        stream.append({"reply": self.norm.reply(p)})
                        got += 1
            else:
                code, body, xid = self.build(op, sess)
                rep, events = sess.call(code, body, xid)
                if k == "close" and rep["err"] == 0:
                    self.closed_ok.add(sess.session_id)
                for e in events:
                    stream.append({"event": self.norm.event(e)})
                self._note_reply(op, rep)
                stream.append({"reply": self.norm.reply(rep)})
        except W.Timeout:
            stream.append({"error": "timeout waiting for reply"})
            self.timeouts += 1
            sess.close()
        except W.ConnectionClosed:
            stream.append({"error": "connection closed"})
            sess.close()
        if k == "close":
            sess.close()
            self.slots[slot] = None
        rec["out"] = stream
        rec["ev"] = self.barrier(own=slot, own_stream=stream)
        if k == "close":
            # ephemeral nodes are deleted in hash-set order: the order of the resulting
            # notifications is unspecified, so compare them as a multiset
            rec["ev"] = {lab: sorted(evs, key=lambda e: json.dumps(e, sort_keys=True))
                         for lab, evs in rec["ev"].items()}
            evs = [x for x in stream if "event" in x]
            rest = [x for x in stream if "event" not in x]
            rec["out"] = sorted(evs, key=lambda e: json.dumps(e, sort_keys=True)) + rest
        return rec

    def reconnect(self, rec, slot, old, op):
        sid, passwd, last = old.session_id, old.passwd, old.last_zxid
        old.close()
        s = W.Session(self.host, self.port, timeout_ms=self.session_timeout_ms, io_timeout=self.io_timeout)
        stream = []
        try:
            resp = dict(s.connect(session_id=sid, passwd=passwd, last_zxid=last))
            resp["sessionId"] = self.norm.session(resp["sessionId"])
            stream.append({"connect": resp})
            self.slots[slot] = s
            if op["watches"] != "none" and not s.closed:
                lists = [[self.resolve(p) for p in op.get(f, [])]
                         for f in ("data", "exist", "child", "persistent", "recursive")]
                if op["watches"] == "v1":
                    code, body = Op.SET_WATCHES, W.req_set_watches(last, *lists[:3])
                else:
                    code, body = Op.SET_WATCHES2, W.req_set_watches2(last, *lists)
                rep, events = s.call(code, body, W.SET_WATCHES_XID)
                stream.extend({"event": self.norm.event(e)} for e in events)
                stream.append({"reply": self.norm.reply(rep)})
        except (OSError, W.Timeout, W.ConnectionClosed) as e:
            stream.append({"error": "reconnect: %s" % type(e).__name__})
            s.close()
            self.slots[slot] = None
        rec["out"] = stream
        rec["ev"] = self.barrier(own=slot, own_stream=stream)
        return rec

    def barrier(self, own=None, own_stream=None):
        """sync+ping on every live session, pipelined; collect the notifications that arrive
        before the two replies. Notifications for the operation's own session are appended to
        its stream (own_stream); others are returned as {label: [events]}."""
        self.keep_admin_alive()
        live = [(slot, s) for slot, s in sorted(self.slots.items()) if s is not None and not s.closed]
        sent = []
        for slot, s in live:
            try:
                x1 = s.send(Op.SYNC, W.req_path(self.root))
                x2 = s.send(Op.PING, b"", W.PING_XID)
                sent.append((slot, s, (x1, x2)))
            except W.ConnectionClosed:
                self._barrier_note(slot, own, own_stream, {"barrier": "connection closed"})
        out = {}
        for slot, s, xids in sent:
            evs = []
            try:
                for want in xids:
                    rep, events = s.recv_reply()
                    evs.extend(self.norm.event(e) for e in events)
                    if rep["xid"] != want or rep["err"] != 0:
                        evs.append({"barrier_reply": {"xid": rep["xid"], "want": want, "err": rep["err"]}})
            except (W.Timeout, W.ConnectionClosed) as e:
                evs.append({"barrier": type(e).__name__})
                self.timeouts += isinstance(e, W.Timeout)
                s.close()
            if slot == own and own_stream is not None:
                own_stream.extend({"event": e} for e in evs)
            elif evs:
                out[self.labels[slot]] = evs
        return out

    def keep_admin_alive(self):
        """Ping the admin session (idle between setup and cleanup) every ADMIN_PING_S, so a run
        slowed down by a loaded machine cannot outlive its session timeout: its expiry would
        be a closeSession transaction at a different point on each server. A ping consumes
        no zxid and is not recorded; a failure is left for cleanup() to report."""
        if self.admin is None or self.admin.closed:
            return
        if time.monotonic() - self.admin_used < ADMIN_PING_S:
            return
        try:
            self.admin.ping()
        except (OSError, W.ConnectionClosed, W.Timeout):
            self.admin.close()
        self.admin_used = time.monotonic()

    def _barrier_note(self, slot, own, own_stream, note):
        if slot == own and own_stream is not None:
            own_stream.append(note)

    # -- whole run ----------------------------------------------------------------------------
    def run(self, program):
        records = [self.setup()]
        try:
            for i, op in enumerate(program):
                if self.timeouts >= MAX_TIMEOUTS:
                    records.append({"i": i, "aborted": "%d replies timed out" % self.timeouts})
                    break
                records.append(self.execute(i, op))
        finally:
            for slot, s in list(self.slots.items()):
                if s is not None:
                    s.close()
        return records

    def cleanup(self):
        """Remove the run's tree: authenticate as the cleanup user (every restrictive ACL the
        generator makes grants it ADMIN), open each node's ACL, delete bottom-up.
        Returns a list of problems (empty if all went well)."""
        problems = []
        try:
            if self.admin is None or self.admin.closed:
                self.admin, _ = self.open_session()
            a = self.admin
            a.add_auth("digest", ("%s:%s" % CLEANER).encode())
            order = []
            stack = [self.root]
            for _ in range(100000):
                if not stack:
                    break
                p = stack.pop()
                a.set_acl(p, W.OPEN_ACL_UNSAFE, -1)
                rep, _ = a.get_children(p)
                order.append(p)
                children = (rep.get("body") or {}).get("children")
                if rep["err"] == 0 and children is None:
                    problems.append("getChildren %s: unexpected reply %r" % (p, dict(rep)))
                elif rep["err"] == 0:
                    stack.extend(p + "/" + c for c in children)
            for p in reversed(order):
                rep, _ = a.delete(p, -1)
                if rep["err"] not in (0, -101):
                    problems.append("delete %s: %s" % (p, W.ERRORS.get(rep["err"], rep["err"])))
            a.close_session()
        except (OSError, W.ConnectionClosed, W.Timeout) as e:
            problems.append("cleanup: %s: %s" % (type(e).__name__, e))
        finally:
            if self.admin is not None:
                self.admin.close()
        problems.extend(self.close_abandoned())
        return problems

    def close_abandoned(self):
        """Close every session of the run the server may still hold: ones given up after a
        timeout or a lost connection (the socket was just dropped). Left alone, each would
        expire session-timeout later, in the middle of some later seed on that server only —
        an unrelated closeSession transaction that shifts every later zxid (found as
        spurious mismatches under load: seeds 2205 then 2215). Resume by id and password,
        send closeSession; a session the server already expired answers timeOut 0."""
        problems = []
        for sid, passwd in self.opened.items():
            if sid in self.closed_ok:
                continue
            s = W.Session(self.host, self.port, timeout_ms=self.session_timeout_ms,
                          io_timeout=self.io_timeout)
            try:
                resp = s.connect(session_id=sid, passwd=passwd)
                if resp["timeOut"] > 0:
                    s.close_session()
            except (OSError, W.ConnectionClosed, W.Timeout) as e:
                problems.append("closing abandoned session 0x%x: %s" % (sid, type(e).__name__))
            finally:
                s.close()
        return problems


def timed_out(records):
    """Whether a transcript has a request that got no reply within the I/O timeout."""
    marks = ("timeout waiting for reply", '"barrier": "Timeout"')
    return any(mark in json.dumps(r) for r in records for mark in marks)


def run_one(hostport, seed, n_ops, n_sessions, root, zxid_mode="order", io_timeout=5.0):
    """Run seed's program on one server. Returns (records, problems)."""
    prog = generate_program(seed, n_ops, n_sessions)
    r = Runner(hostport, root, zxid_mode=zxid_mode, io_timeout=io_timeout)
    problems = []
    try:
        records = r.run(prog)
    except (OSError, W.ConnectionClosed, W.Timeout, RuntimeError) as e:
        records = [{"i": "fatal", "error": "%s: %s" % (type(e).__name__, e)}]
    finally:
        try:
            problems = r.cleanup()
        except Exception:  # a cleanup bug must not throw away the run's transcript
            problems = ["cleanup raised: " + traceback.format_exc()]
    return records, problems


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------

def diff_values(a, b, path="", out=None, limit=20):
    """List of (field path, a value, b value) where a and b differ."""
    if out is None:
        out = []
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a.keys()) + [k for k in b.keys() if k not in a]:
            if k not in a or k not in b:
                out.append((path + "." + str(k), a.get(k, "<absent>"), b.get(k, "<absent>")))
            else:
                diff_values(a[k], b[k], path + "." + str(k), out, limit)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append((path + ".len", len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff_values(x, y, "%s[%d]" % (path, i), out, limit)
    elif a != b:
        out.append((path or ".", a, b))
    return out


def canon(x):
    return json.loads(json.dumps(x))


def compare(records_a, records_b):
    """None if equal, else (index in list, record a, record b, differences)."""
    n = max(len(records_a), len(records_b))
    for i in range(n):
        ra = canon(records_a[i]) if i < len(records_a) else {"<missing>": True}
        rb = canon(records_b[i]) if i < len(records_b) else {"<missing>": True}
        if ra != rb:
            return i, ra, rb, diff_values(ra, rb)
    return None


def format_mismatch(seed, mism, name_a="A", name_b="B"):
    i, ra, rb, diffs = mism
    lines = ["MISMATCH seed=%s at op index %s (transcript record %d)" % (seed, ra.get("i", rb.get("i")), i)]
    op = ra.get("op") or rb.get("op")
    if op is not None:
        lines.append("  op: %s" % json.dumps(op, sort_keys=True))
    for path, va, vb in diffs:
        lines.append("  differs at %s: %s=%s  %s=%s" % (path, name_a, json.dumps(va), name_b, json.dumps(vb)))
    lines.append("  %s: %s" % (name_a, json.dumps({k: v for k, v in ra.items() if k != "op"}, sort_keys=True)))
    lines.append("  %s: %s" % (name_b, json.dumps({k: v for k, v in rb.items() if k != "op"}, sort_keys=True)))
    return "\n".join(lines)


class Coverage:
    """Counts (operation kind, error name) pairs and notification types seen in transcripts."""

    def __init__(self):
        self.replies = {}
        self.events = {}

    def _rep(self, kind, rep):
        name = rep.get("errname", "OK")
        key = (kind, name)
        self.replies[key] = self.replies.get(key, 0) + 1
        for res in (rep.get("body") or {}).get("results", []) if kind in ("multi", "multiRead") else []:
            if res.get("type") == -1:
                k2 = (kind + "[sub]", W.ERRORS.get(res.get("err"), str(res.get("err"))))
                self.replies[k2] = self.replies.get(k2, 0) + 1

    def _ev(self, e):
        if "type" in e:
            self.events[e["type"]] = self.events.get(e["type"], 0) + 1

    def add(self, records):
        for r in records:
            op = r.get("op") or {}
            subs = op.get("ops") if op.get("k") == "burst" else None
            n = 0
            for item in r.get("out", []):
                if "reply" in item:
                    kind = subs[n]["k"] if subs and n < len(subs) else op.get("k", "?")
                    self._rep(kind, item["reply"])
                    n += 1
                elif "event" in item:
                    self._ev(item["event"])
            for evs in r.get("ev", {}).values():
                for e in evs:
                    self._ev(e)

    def report(self):
        lines = ["coverage: replies by (operation, result):"]
        for (k, e), n in sorted(self.replies.items()):
            lines.append("  %-22s %-26s %6d" % (k, e, n))
        lines.append("coverage: notifications: " + ", ".join("%s=%d" % kv for kv in sorted(self.events.items())))
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Transcripts on disk
# ---------------------------------------------------------------------------------------------

def write_transcript(path, header, records, mode="w"):
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    with open(path, mode) as f:
        f.write(json.dumps(dict(header, header=True), sort_keys=True) + "\n")
        for r in records:
            f.write(json.dumps(dict(r, seed=header["seed"]), sort_keys=True) + "\n")


def read_transcript(path):
    """{seed: [records]} from a JSON-lines transcript file."""
    seeds = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            r = json.loads(line)
            if r.get("header"):
                seeds.setdefault(r["seed"], [])
                continue
            seed = r.pop("seed")
            seeds.setdefault(seed, []).append(r)
    return seeds


# ---------------------------------------------------------------------------------------------
# Self-test: the comparator notices a single altered error code
# ---------------------------------------------------------------------------------------------

def self_test(records=None, verbose=True):
    """Returns True if the comparator accepts an identical transcript and rejects one whose
    first non-zero error code (or, lacking one, first reply) was altered."""
    if records is None:
        records = [
            {"i": "setup", "reply": {"xid": 1, "zxid": "z1", "err": 0}},
            {"i": 0, "op": {"k": "create2", "path": "/a", "s": 0}, "s": "S0",
             "out": [{"reply": {"xid": 1, "zxid": "z2", "err": 0,
                                "body": {"path": "R/a", "stat": {"czxid": "z2"}}}}], "ev": {}},
            {"i": 1, "op": {"k": "delete", "path": "/b", "s": 0, "version": -1}, "s": "S0",
             "out": [{"reply": {"xid": 2, "zxid": "z3", "err": -101, "errname": "NONODE"}}], "ev": {}},
        ]
    same = copy.deepcopy(records)
    if compare(records, same) is not None:
        if verbose:
            print("self-test: identical transcripts reported as different")
        return False
    altered = copy.deepcopy(records)
    target = None
    for idx, r in enumerate(altered):
        for item in r.get("out", []):
            rep = item.get("reply")
            if rep is not None and rep.get("err", 0) != 0:
                target = (idx, rep)
                break
        if target:
            break
    if target is None:
        for idx, r in enumerate(altered):
            for item in r.get("out", []):
                if "reply" in item:
                    target = (idx, item["reply"])
                    break
            if target:
                break
    idx, rep = target
    old = rep.get("err", 0)
    rep["err"] = -110 if old != -110 else -101
    m = compare(records, altered)
    ok = m is not None and m[0] == idx and any(p.endswith(".err") for p, _, _ in m[3])
    if verbose:
        if m is not None:
            print(format_mismatch("self-test", m, "original", "altered"))
        print("self-test: error code %d -> %d at record %d: %s"
              % (old, rep["err"], idx, "caught" if ok else "NOT CAUGHT"))
    return ok


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

def parse_seeds(s):
    out = []
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part[1:]:
            lo, hi = part.split("-", 1) if not part.startswith("-") else (part, part)
            out.extend(range(int(lo), int(hi) + 1))
        else:
            out.append(int(part))
    return out


class Servers:
    """Resolves --a/--b: an address, 'java' to spawn a throw-away Java ZooKeeper, 'cmd:...' for
    any server from a zoo.cfg, or 'java-ensemble' / 'fk-ensemble:BIN' for a 3-member ensemble of
    Java or FerroKeeper members whose address is a follower's (zkjava.EnsembleServer)."""

    def __init__(self):
        self.spawned = []

    def get(self, spec):
        import zkjava
        if spec == "java":
            z = zkjava.JavaZooKeeper()
        elif spec.startswith("cmd:"):
            z = zkjava.CommandServer(spec[4:])
        elif spec == "java-ensemble":
            z = zkjava.EnsembleServer(["java"] * 3)
        elif spec.startswith("fk-ensemble:"):
            z = zkjava.EnsembleServer(["fk"] * 3, fk_bin=spec[len("fk-ensemble:"):])
        else:
            return spec
        self.spawned.append(z)
        z.start()
        return z.address

    def stop(self, keep_logs=False):
        """Stop every spawned server; keep_logs (some seed failed): keep each one's directory,
        without its data, so its log can be read next to the transcripts."""
        for z in self.spawned:
            z.stop(keep_dir=keep_logs)
            if keep_logs and z.dir:
                shutil.rmtree(os.path.join(z.dir, "data"), ignore_errors=True)
                print("server log kept: %s" % z.dir)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", help="server A: HOST:PORT, 'java' to spawn a Java ZooKeeper, or "
                                "'cmd:COMMAND {cfg}' to spawn a server from a zoo.cfg ({port}, {dir} too)")
    ap.add_argument("--b", help="server B: the same forms as --a, or 'java-ensemble' / "
                                "'fk-ensemble:BIN' (3 members, the client on a follower)")
    ap.add_argument("--seeds", default="1-20", help="e.g. 1-20 or 3,7,100-120 (default 1-20)")
    ap.add_argument("--ops", type=int, default=200, help="random operations per program (default 200)")
    ap.add_argument("--sessions", type=int, default=3, help="session slots (default 3)")
    ap.add_argument("--zxid-mode", choices=["order", "delta"], default="order",
                    help="order: zxids renamed by first appearance (default); delta: zxid minus the root's czxid")
    ap.add_argument("--record", metavar="FILE", help="run against --a only and write its transcript")
    ap.add_argument("--compare", nargs=2, metavar=("FILE_A", "FILE_B"), help="compare two recorded transcripts")
    ap.add_argument("--out-dir", default=None,
                    help="where transcripts of failing seeds are written (default compat-tests/.work/differential)")
    ap.add_argument("--save-all", action="store_true", help="write transcripts of passing seeds too")
    ap.add_argument("--io-timeout", type=float, default=5.0,
                    help="seconds to wait for any one reply (default 5); a run gives up after %d timeouts" % MAX_TIMEOUTS)
    ap.add_argument("--rerun-reference-stalls", action="store_true",
                    help="run a seed once more when only --a's server stopped answering (timeouts)")
    ap.add_argument("--stop-after", type=int, default=0, help="stop after this many failing seeds (0: never)")
    ap.add_argument("--self-test", action="store_true", help="check the comparator catches an altered error code")
    ap.add_argument("--show-program", type=int, metavar="SEED", help="print the program for a seed and exit")
    ap.add_argument("--stats", action="store_true", help="print which (operation, result) pairs were exercised")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)

    if args.self_test:
        ok = self_test()
        print("%d passed, %d failed" % (1 if ok else 0, 0 if ok else 1))
        return 0 if ok else 1

    if args.show_program is not None:
        for op in generate_program(args.show_program, args.ops, args.sessions):
            print(json.dumps(op, sort_keys=True))
        return 0

    if args.compare:
        ta, tb = read_transcript(args.compare[0]), read_transcript(args.compare[1])
        passed = failed = 0
        for seed in sorted(set(ta) | set(tb)):
            m = compare(ta.get(seed, []), tb.get(seed, []))
            if m is None:
                passed += 1
            else:
                failed += 1
                print(format_mismatch(seed, m))
        print("%d passed, %d failed" % (passed, failed))
        return 0 if failed == 0 else 1

    try:
        seeds = parse_seeds(args.seeds)
    except ValueError:
        ap.error("bad --seeds %r" % args.seeds)
    if not args.a or (not args.record and not args.b):
        ap.error("need --a and --b (or --a with --record)")
    out_dir = args.out_dir or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".work", "differential")
    servers = Servers()
    cov = Coverage()
    t0 = time.monotonic()
    passed = failed = 0
    try:
        addr_a = servers.get(args.a)
        addr_b = None if args.record else servers.get(args.b)
        if addr_b is not None and addr_b == addr_a:
            ap.error("--a and --b must be different servers (their zxids would interleave)")
        if args.record and os.path.exists(args.record):
            os.remove(args.record)
        for seed in seeds:
            run_id = "%08x" % random.SystemRandom().getrandbits(32)
            header = {"seed": seed, "ops": args.ops, "sessions": args.sessions, "zxid_mode": args.zxid_mode}
            ts = time.monotonic()
            if args.record:
                recs, probs = run_one(addr_a, seed, args.ops, args.sessions, "/diff-%d-%s-a" % (seed, run_id),
                                      args.zxid_mode, args.io_timeout)
                write_transcript(args.record, dict(header, server=addr_a), recs, mode="a")
                for p in probs:
                    print("seed %d: cleanup problem: %s" % (seed, p))
                cov.add(recs)
                bad = any("fatal" == r.get("i") for r in recs)
                passed, failed = (passed + (not bad)), (failed + bad)
                if not args.quiet:
                    print("seed %d: recorded %d records (%.2fs)" % (seed, len(recs), time.monotonic() - ts), flush=True)
                continue
            def attempt(run_id):
                results = {}

                def work(name, addr, root):
                    try:
                        results[name] = run_one(addr, seed, args.ops, args.sessions, root, args.zxid_mode,
                                                args.io_timeout)
                    except Exception:  # keep the other side's thread meaningful
                        results[name] = ([{"i": "fatal", "error": traceback.format_exc()}], [])

                th = [threading.Thread(target=work, args=("a", addr_a, "/diff-%d-%s-a" % (seed, run_id))),
                      threading.Thread(target=work, args=("b", addr_b, "/diff-%d-%s-b" % (seed, run_id)))]
                for t in th:
                    t.start()
                for t in th:
                    t.join()
                (ra, pa), (rb, pb) = results["a"], results["b"]
                for side, probs in (("A", pa), ("B", pb)):
                    for p in probs:
                        print("seed %d: cleanup problem on %s: %s" % (seed, side, p))
                m = compare(ra, rb)
                fatal = [r for r in ra + rb if r.get("i") == "fatal"]
                if m is None and fatal:
                    m = (0, ra[0], rb[0], [("fatal", ra[0].get("error"), rb[0].get("error"))])
                return ra, rb, m

            ra, rb, m = attempt(run_id)
            if m is not None and args.rerun_reference_stalls and timed_out(ra) and not timed_out(rb):
                # Only the reference stopped answering (compat-tests/differential/README.md:
                # Java 3.8.0 followers do, now and then); FerroKeeper's side answered
                # everything, so the seed runs once more. A stall or a difference on B's
                # side is never rerun.
                print("seed %d: the reference (A) did not answer within %.0f s; running the seed again"
                      % (seed, args.io_timeout), flush=True)
                run_id = "%08x" % random.SystemRandom().getrandbits(32)
                ra, rb, m = attempt(run_id)
            cov.add(ra)
            if m is None:
                passed += 1
                if not args.quiet:
                    print("seed %d: ok (%d records, %.2fs)" % (seed, len(ra), time.monotonic() - ts), flush=True)
            else:
                failed += 1
                print(format_mismatch(seed, m), flush=True)
                print("  reproduce: %s --a %s --b %s --seeds %d --ops %d --sessions %d%s"
                      % (sys.argv[0], shlex.quote(args.a), shlex.quote(args.b), seed, args.ops, args.sessions,
                         " --zxid-mode delta" if args.zxid_mode == "delta" else ""))
            if m is not None or args.save_all:
                fa = os.path.join(out_dir, "seed-%d-a.jsonl" % seed)
                fb = os.path.join(out_dir, "seed-%d-b.jsonl" % seed)
                write_transcript(fa, dict(header, server=addr_a), ra)
                write_transcript(fb, dict(header, server=addr_b), rb)
                if m is not None:
                    print("  transcripts: %s %s" % (fa, fb))
            if args.stop_after and failed >= args.stop_after:
                break
    finally:
        servers.stop(keep_logs=failed > 0)
    if args.stats:
        print(cov.report())
    if not args.quiet:
        print("total %.1fs" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
