#!/usr/bin/env python3
"""The ACL matrix (issue 10): scheme x permission x operation, Java ZooKeeper 3.8.0 against
FerroKeeper, cell by cell.

    compat-tests/acl-matrix/run.py [FERROKEEPER_BINARY] [--table FILE] [--only SCHEME,...]
        [--skip-ops OP,...] [--fk-members fk,fk,fk] [--java-members java,java,java]

One Java server and one FerroKeeper server are started once each (superDigest,
extendedTypesEnabled, reaping off, forceSync=no) and the same matrix runs against both:

- a *scheme* is how a client authenticates (its addAuth calls) and which ACL id it is granted
  (SCHEMES; x509 and sasl are listed but wait for TLS and SASL);
- a *permission* is one bit granted alone to that id, or all, or none (PERMS);
- an *operation* is one request or a short sequence of them on the acting session, inside or
  outside a multi (OPS).

Every cell gets its own node N = /m/<scheme>/<perm>/<op> (data "n", a child N/c, a free
sibling N.f with world:anyone ALL), its ACL set last to [(perm, id)] by a fixture session (a
super session; for the `auth` scheme a session that did addAuth digest as the acting user, so
that `auth` expands to that user). The acting session sends the cell's requests; then a super
session reads what is left (N's data, children, ACL and stat counters, N.f's data). A cell is
its replies' error codes and bodies (stats without zxids and times), the watch events seen
before each reply, and that state. Requests are pipelined (a window of WINDOW) per session:
cells never share a node, so their order across sessions does not matter.

--fk-members / --java-members: that side runs on a follower of a 3-member ensemble of those
kinds instead (compat-tests/ensemble/cluster.py); skipACL stays standalone.

Also: addAuth with malformed digests and unknown schemes (the reply, whether the connection
stays open, whoAmI after), and the skipACL=yes servers (no ACL is checked at all).

Java's cells are the expectation; each differing cell is printed with both sides. The last
line is "N passed, M failed" (N, M count cells).
"""

import argparse
import collections
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "differential"))
import javazk  # noqa: E402
import zkwire  # noqa: E402
from zkwire import Op, Perms  # noqa: E402

SUPER_PASSWORD = "matrix-super"
SUPER_AUTH = ("digest", ("super:" + SUPER_PASSWORD).encode())
PROPS = {
    "zookeeper.DigestAuthenticationProvider.superDigest": zkwire.digest_id("super", SUPER_PASSWORD),
    "zookeeper.extendedTypesEnabled": "true",
    "znode.container.checkIntervalMs": str(javazk.NO_REAPING_MS),
    "zookeeper.forceSync": "no",
}
WINDOW = 64
IO_TIMEOUT = 20.0
MAX_EVENTS = 100_000  # watch events one pipeline may see
TTL_MS = 600_000
WORLD_ALL = [(Perms.ALL, "world", "anyone")]
WORLD_READ = [(Perms.READ, "world", "anyone")]
WORLD_ALL_STORED = [[Perms.ALL, "world", "anyone"]]  # as getACL decodes it


# ---- schemes ---------------------------------------------------------------------------------

class Scheme:
    """How a client authenticates and which ACL id that earns it.

    auths: the acting session's addAuth calls (scheme, bytes);
    acl_id: the (scheme, id) a cell's ACL grants the permission to; ("auth", "") is expanded by
      the fixture session, which then authenticates with fixture_auths first;
    stored_id: the id the node's ACL holds (what `auth` expanded to; else acl_id);
    missing: why the scheme cannot run yet (None when it can). A scheme that needs a transport
      (x509: a TLS client certificate) or a handshake (sasl) plugs in by giving its session
      factory `connect(port)`."""

    def __init__(self, name, auths=(), acl_id=("world", "anyone"), fixture_auths=None,
                 stored_id=None, missing=None, note=""):
        self.name = name
        self.auths = list(auths)
        self.acl_id = acl_id
        self.stored_id = stored_id or acl_id
        self.fixture_auths = fixture_auths
        self.missing = missing
        self.note = note

    def connect(self, port):
        return session(port, self.auths)


SCHEMES = [
    Scheme("world", note="world:anyone, no addAuth"),
    Scheme("auth", auths=[("digest", b"alice:pa")], acl_id=("auth", ""),
           fixture_auths=[("digest", b"alice:pa")], stored_id=("digest", zkwire.digest_id("alice", "pa")),
           note="addAuth digest alice:pa; the ACL set through the `auth` scheme"),
    Scheme("digest", auths=[("digest", b"bob:pb")], acl_id=("digest", zkwire.digest_id("bob", "pb")),
           note="addAuth digest bob:pb; ACL digest:bob:<sha1>"),
    Scheme("ip", acl_id=("ip", "127.0.0.1"), note="client on 127.0.0.1, ACL ip:127.0.0.1"),
    Scheme("ip-other", acl_id=("ip", "10.11.12.13"), note="client on 127.0.0.1, ACL ip:10.11.12.13"),
    Scheme("ip-cidr", acl_id=("ip", "127.0.0.0/8"), note="client on 127.0.0.1, ACL ip:127.0.0.0/8"),
    Scheme("super", auths=[SUPER_AUTH], acl_id=("digest", zkwire.digest_id("nobody", "x")),
           note="addAuth digest super:<superDigest password>; the ACL grants someone else"),
    Scheme("x509", missing="needs TLS (a client certificate's x509 id): not built yet"),
    Scheme("sasl", missing="needs SASL authentication: not built yet"),
]

PERMS = [("READ", Perms.READ), ("WRITE", Perms.WRITE), ("CREATE", Perms.CREATE),
         ("DELETE", Perms.DELETE), ("ADMIN", Perms.ADMIN), ("ALL", Perms.ALL), ("NONE", 0)]


# ---- operations ------------------------------------------------------------------------------

def create(path, flags=0, acl=None, opcode=Op.CREATE2):
    acl = WORLD_ALL if acl is None else acl
    if opcode == Op.CREATE_TTL:
        return (opcode, zkwire.req_create_ttl(path, b"x", acl, flags, TTL_MS))
    return (opcode, zkwire.req_create(path, b"x", acl, flags))


def multi(*subops, read=False):
    return (Op.MULTI_READ if read else Op.MULTI, zkwire.req_multi(list(subops)))


def getdata(p, watch=False):
    return (Op.GET_DATA, zkwire.req_path_watch(p, watch))


def children(p, watch=False, opcode=Op.GET_CHILDREN):
    return (opcode, zkwire.req_path_watch(p, watch))


def setdata(p, version=-1):
    return (Op.SET_DATA, zkwire.req_set_data(p, b"changed", version))


def delete(p, version=-1):
    return (Op.DELETE, zkwire.req_delete(p, version))


def check(p, version=-1):
    return (Op.CHECK, zkwire.req_check(p, version))


def path_op(opcode, p):
    return (opcode, zkwire.req_path(p))


def watches(opcode, p, wtype):
    return (opcode, zkwire.req_path_type(p, wtype))


def add_watch(p, mode):
    return (Op.ADD_WATCH, zkwire.req_add_watch(p, mode))


W = zkwire.WatcherType
# name -> function(N, F) -> the acting session's requests, in order.
OPS = collections.OrderedDict([
    ("create", lambda n, f: [create(n + "/new", opcode=Op.CREATE)]),
    ("create2", lambda n, f: [create(n + "/new")]),
    ("create-ephemeral", lambda n, f: [create(n + "/new", 1)]),
    ("create-sequential", lambda n, f: [create(n + "/new", 2)]),
    ("create-ephemeral-sequential", lambda n, f: [create(n + "/new", 3)]),
    ("create-container", lambda n, f: [create(n + "/new", 4, opcode=Op.CREATE_CONTAINER)]),
    ("create-ttl", lambda n, f: [create(n + "/new", 5, opcode=Op.CREATE_TTL)]),
    ("create-ttl-sequential", lambda n, f: [create(n + "/new", 6, opcode=Op.CREATE_TTL)]),
    ("create-existing", lambda n, f: [create(n + "/c")]),
    ("create-acl-auth", lambda n, f: [create(n + "/new", acl=[(Perms.ALL, "auth", "")])]),
    ("create-acl-bad-ip", lambda n, f: [create(n + "/new", acl=[(Perms.ALL, "ip", "999.1.2.3")])]),
    ("create-acl-empty", lambda n, f: [create(n + "/new", acl=[])]),
    ("delete", lambda n, f: [delete(n + "/c")]),
    ("delete-missing", lambda n, f: [delete(n + "/none")]),
    ("delete-badversion", lambda n, f: [delete(n + "/c", 7)]),
    ("setData", lambda n, f: [setdata(n)]),
    ("setData-badversion", lambda n, f: [setdata(n, 7)]),
    ("getData", lambda n, f: [getdata(n)]),
    ("exists", lambda n, f: [(Op.EXISTS, zkwire.req_path_watch(n, False))]),
    ("getChildren", lambda n, f: [children(n)]),
    ("getChildren2", lambda n, f: [children(n, opcode=Op.GET_CHILDREN2)]),
    ("getAllChildrenNumber", lambda n, f: [path_op(Op.GET_ALL_CHILDREN_NUMBER, n)]),
    ("getEphemerals", lambda n, f: [path_op(Op.GET_EPHEMERALS, n)]),
    ("setACL", lambda n, f: [(Op.SET_ACL, zkwire.req_set_acl(n, WORLD_ALL, -1))]),
    ("setACL-badversion", lambda n, f: [(Op.SET_ACL, zkwire.req_set_acl(n, WORLD_ALL, 7))]),
    ("setACL-auth", lambda n, f: [(Op.SET_ACL, zkwire.req_set_acl(n, [(Perms.ALL, "auth", "")], -1))]),
    ("getACL", lambda n, f: [path_op(Op.GET_ACL, n)]),
    ("sync", lambda n, f: [path_op(Op.SYNC, n)]),
    ("check", lambda n, f: [check(n)]),
    ("getData-watch", lambda n, f: [getdata(n, True), watches(Op.CHECK_WATCHES, n, W.DATA),
                                    watches(Op.REMOVE_WATCHES, n, W.DATA)]),
    ("exists-watch", lambda n, f: [(Op.EXISTS, zkwire.req_path_watch(n, True)),
                                   watches(Op.CHECK_WATCHES, n, W.DATA),
                                   watches(Op.REMOVE_WATCHES, n, W.ANY)]),
    ("getChildren-watch", lambda n, f: [children(n, True), watches(Op.CHECK_WATCHES, n, W.CHILDREN),
                                        watches(Op.REMOVE_WATCHES, n, W.CHILDREN)]),
    ("addWatch-persistent", lambda n, f: [add_watch(n, 0), watches(Op.CHECK_WATCHES, n, W.ANY),
                                          watches(Op.REMOVE_WATCHES, n, W.ANY)]),
    ("addWatch-recursive", lambda n, f: [add_watch(n, 1), watches(Op.CHECK_WATCHES, n, W.ANY),
                                         watches(Op.REMOVE_WATCHES, n, W.ANY)]),
    ("removeWatches-none", lambda n, f: [watches(Op.REMOVE_WATCHES, n, W.ANY),
                                         watches(Op.CHECK_WATCHES, n, W.DATA)]),
    ("multi-create", lambda n, f: [multi(create(n + "/new", opcode=Op.CREATE))]),
    ("multi-create2-ephemeral", lambda n, f: [multi(create(n + "/new", 1))]),
    ("multi-create-container", lambda n, f: [multi(create(n + "/new", 4, opcode=Op.CREATE_CONTAINER))]),
    ("multi-create-ttl", lambda n, f: [multi(create(n + "/new", 5, opcode=Op.CREATE_TTL))]),
    ("multi-delete", lambda n, f: [multi(delete(n + "/c"))]),
    ("multi-setData", lambda n, f: [multi(setdata(n))]),
    ("multi-check", lambda n, f: [multi(check(n))]),
    ("multi-check-badversion", lambda n, f: [multi(check(n, 7))]),
    ("multi-fail-middle", lambda n, f: [multi(setdata(f), setdata(n), create(f + "/x"))]),
    ("multi-fail-last", lambda n, f: [multi(setdata(f), create(f + "/x"), delete(n + "/c"))]),
    ("multi-fail-first", lambda n, f: [multi(check(n), setdata(f))]),
    ("multi-create-acl-auth", lambda n, f: [multi(create(n + "/new", acl=[(Perms.ALL, "auth", "")]))]),
    ("multi-create-then-write", lambda n, f: [multi(create(n + "/new", acl=WORLD_READ), setdata(n + "/new"))]),
    ("multi-create-then-delete", lambda n, f: [multi(create(n + "/new", acl=WORLD_READ),
                                                     delete(n + "/new"))]),
    ("multi-create-then-create", lambda n, f: [multi(create(n + "/new", acl=WORLD_READ),
                                                     create(n + "/new/x"))]),
    # The barrier: Java 3.8.0 checks a write pipelined behind a setACL that is not applied yet
    # against the node's old ACL (README), so the later requests wait for the setACL's reply.
    ("setACL-then-ops", lambda n, f: [(Op.SET_ACL, zkwire.req_set_acl(n, WORLD_READ, -1)), BARRIER,
                                      setdata(n), getdata(n), create(n + "/new"),
                                      (Op.SET_ACL, zkwire.req_set_acl(n, WORLD_ALL, -1))]),
    ("setData-then-setACL-version", lambda n, f: [setdata(n), (Op.SET_ACL, zkwire.req_set_acl(
        n, WORLD_READ, 0)), (Op.SET_ACL, zkwire.req_set_acl(n, WORLD_READ, 1))]),
    # Watches set here; the super session then changes N and N/c (TRIGGERS) and the events the
    # acting session receives are part of the cell.
    ("watch-delivery", lambda n, f: [add_watch(n, 1), add_watch(n + "/c", 0),
                                     (Op.EXISTS, zkwire.req_path_watch(n, True)),
                                     getdata(n + "/c", True), children(n, True)]),
    ("multiRead-getData", lambda n, f: [multi(getdata(n), read=True)]),
    ("multiRead-getChildren", lambda n, f: [multi(children(n), read=True)]),
    ("multiRead-mixed", lambda n, f: [multi(getdata(f), children(n), getdata(n), children(f),
                                            read=True)]),
])



def triggers(n, acl):
    """The super session's changes after the acting phase, for the watch-delivery cells: N/c gets
    the cell's ACL too, then N and N/c change and N/c gets and loses a child."""
    return [(Op.SET_ACL, zkwire.req_set_acl(n + "/c", acl, -1)), setdata(n + "/c"),
            create(n + "/c/x"), setdata(n + "/c/x"), delete(n + "/c/x"), setdata(n),
            create(n + "/y"), delete(n + "/y")]


# addAuth probes, each on a fresh session: (label, scheme, auth bytes).
ADD_AUTHS = [
    ("digest user:password", "digest", b"carol:pc"),
    ("digest without a colon", "digest", b"nocolon"),
    ("digest empty", "digest", b""),
    ("digest only a colon", "digest", b":"),
    ("digest two colons", "digest", b"a:b:c"),
    ("digest not UTF-8", "digest", b"\xff\xfe:x"),
    ("digest super, wrong password", "digest", b"super:wrong"),
    ("digest super, right password", SUPER_AUTH[0], SUPER_AUTH[1]),
    ("ip, empty", "ip", b""),
    ("ip, another address", "ip", b"10.0.0.1"),
    ("unknown scheme foo", "foo", b"x"),
    ("scheme world", "world", b"anyone"),
    ("scheme auth", "auth", b""),
    ("scheme super", "super", b""),
    ("scheme sasl", "sasl", b"x"),
    ("scheme x509", "x509", b"x"),
    ("empty scheme", "", b"x"),
]

# ACL lists a create and a setACL are given, each by a session with these auths: (label, auths,
# acl). What counts is whether the server takes them (INVALIDACL or not) and what it stores.
AUTH_MANY = [("digest", b"alice:pa"), ("ip", b""), ("digest", b"bob:pb"), ("digest", b"alice:pa")]
ACL_PROBES = [
    ("world anyone", [], [(Perms.ALL, "world", "anyone")]),
    ("world someone", [], [(Perms.ALL, "world", "someone")]),
    ("world empty id", [], [(Perms.ALL, "world", "")]),
    ("duplicate entries", [], [(Perms.READ, "world", "anyone")] * 2),
    ("same id, two entries", [], [(Perms.READ, "world", "anyone"), (Perms.WRITE, "world", "anyone")]),
    ("perms 0", [], [(0, "world", "anyone")]),
    ("perms 32", [], [(32, "world", "anyone")]),
    ("perms -1", [], [(-1, "world", "anyone")]),
    ("digest user:hash", [], [(Perms.ALL, "digest", zkwire.digest_id("bob", "pb"))]),
    ("digest without colon", [], [(Perms.ALL, "digest", "bob")]),
    ("digest trailing colon", [], [(Perms.ALL, "digest", "bob:")]),
    ("digest leading colon", [], [(Perms.ALL, "digest", ":x")]),
    ("digest two colons", [], [(Perms.ALL, "digest", "a:b:c")]),
    ("ip address", [], [(Perms.ALL, "ip", "10.1.2.3")]),
    ("ip /32", [], [(Perms.ALL, "ip", "127.0.0.1/32")]),
    ("ip /0", [], [(Perms.ALL, "ip", "0.0.0.0/0")]),
    ("ip /33", [], [(Perms.ALL, "ip", "10.0.0.0/33")]),
    ("ip bits not a number", [], [(Perms.ALL, "ip", "10.0.0.0/x")]),
    ("ip octet 300", [], [(Perms.ALL, "ip", "10.0.0.300")]),
    ("ip three octets", [], [(Perms.ALL, "ip", "10.0.1")]),
    ("ip v6", [], [(Perms.ALL, "ip", "::1")]),
    ("ip empty", [], [(Perms.ALL, "ip", "")]),
    ("ip host name", [], [(Perms.ALL, "ip", "localhost")]),
    ("super scheme", [], [(Perms.ALL, "super", "")]),
    ("x509 scheme", [], [(Perms.ALL, "x509", "CN=x")]),
    ("sasl scheme", [], [(Perms.ALL, "sasl", "x")]),
    ("unknown scheme", [], [(Perms.ALL, "foo", "x")]),
    ("auth, no auth", [], [(Perms.ALL, "auth", "")]),
    ("auth, ip only", [("ip", b"")], [(Perms.ALL, "auth", "")]),
    ("auth, digest", [("digest", b"alice:pa")], [(Perms.ALL, "auth", "")]),
    ("auth with an id", [("digest", b"alice:pa")], [(Perms.ALL, "auth", "somebody")]),
    ("auth, many ids", AUTH_MANY, [(Perms.READ, "auth", "")]),
    ("auth and world", AUTH_MANY, [(Perms.READ, "auth", ""), (Perms.WRITE, "world", "anyone")]),
    ("auth twice", AUTH_MANY, [(Perms.READ, "auth", ""), (Perms.WRITE, "auth", "")]),
    ("auth, super", [SUPER_AUTH], [(Perms.ALL, "auth", "")]),
    ("empty list", [], []),
    ("one good, one bad", [], [(Perms.ALL, "world", "anyone"), (Perms.ALL, "ip", "bad")]),
]


# ---- sessions and pipelining -----------------------------------------------------------------

def session(port, auths=()):
    s = zkwire.Session("127.0.0.1", port, timeout_ms=30000, io_timeout=IO_TIMEOUT)
    s.connect()
    for scheme, data in auths:
        rep, _ = s.add_auth(scheme, data)
        if rep["err"] != 0:
            raise RuntimeError("addAuth %s failed: err %d" % (scheme, rep["err"]))
    return s


NO_REPLY = {"err": "no reply"}
# In a cell's requests: send the rest only once every earlier request is answered.
BARRIER = object()


def read_packet(s, opcodes):
    """The next reply or event on s, its body decoded with the opcode its xid was sent with
    (zkwire's own recv assumes every request is answered, and a lone successful `check` is
    not: Java 3.8.0 fails to serialize its reply)."""
    r = zkwire.Reader(s._recv_frame(s.io_timeout))
    xid, zxid, err = r.int(), r.long(), r.int()
    if xid == zkwire.NOTIFICATION_XID:
        return zkwire.Event(xid=xid, type=r.int(), state=r.int(), path=r.ustring())
    opcode = opcodes.get(xid)
    rep = zkwire.Reply(xid=xid, zxid=zxid, err=err, op=opcode, body=None)
    start = r.pos
    try:
        if opcode is not None and r.remaining() and (err == 0 or opcode in (Op.MULTI, Op.MULTI_READ)):
            rep["body"] = zkwire.decode_body(opcode, r)
    except zkwire.DecodeError as e:
        r.pos = start
        rep["decode_error"] = str(e)
    if r.remaining():
        rep["extra"] = r.rest().hex()
    return rep


def pipeline(s, requests):
    """Sends (opcode, body) requests with at most WINDOW outstanding, then one sentinel
    (getData /), so that every request is followed by an answered one; returns, for each, its
    reply (NO_REPLY if the server answered a later xid first) and the events received since
    the previous reply. A BARRIER in `requests` waits for every reply so far before sending on."""
    requests = list(requests) + [getdata("/")]
    xids, opcodes, got = [], {}, {}
    events = []
    nxt = 0   # next entry of `requests` to send
    done = 0  # sent requests accounted for (answered or skipped), in sending order
    received = 0
    # Bounded: each pass sends, skips or receives one packet (events too), each receive within
    # the session's io_timeout; a loop that runs out is an error, not missing replies.
    for _ in range(4 * len(requests) + MAX_EVENTS):
        if nxt < len(requests) and requests[nxt] is BARRIER and done == len(xids):
            nxt += 1
            continue
        if nxt < len(requests) and requests[nxt] is not BARRIER and len(xids) - done < WINDOW:
            opcode, body = requests[nxt]
            nxt += 1
            xid = s.send(opcode, body)
            s.pending.clear()  # replies are matched here, by xid
            xids.append(xid)
            opcodes[xid] = opcode
            continue
        if nxt == len(requests) and done == len(xids):
            break
        if received > MAX_EVENTS + len(requests):
            raise RuntimeError("more than %d packets for %d requests" % (received, len(requests)))
        received += 1
        p = read_packet(s, opcodes)
        if p.kind == "event":
            events.append(p)
            continue
        if p["xid"] not in opcodes or p["xid"] in got:
            raise RuntimeError("reply to an unknown or answered xid: %r" % (p,))
        got[p["xid"]] = (p, events)
        events = []
        while done < len(xids) and xids[done] <= p["xid"]:
            done += 1
    if nxt < len(requests) or done < len(xids):
        raise RuntimeError("pipeline ended with %d of %d requests sent, %d answered"
                           % (len(xids), len(requests), done))
    return [got.get(x, (NO_REPLY, [])) for x in xids[:-1]]


def norm_stat(st):
    """The Stat fields both servers must agree on (zxids and times differ by nature)."""
    return {k: st[k] for k in ("version", "cversion", "aversion", "dataLength", "numChildren")} | {
        "ephemeral": st["ephemeralOwner"] != 0}


def norm(value):
    if isinstance(value, dict):
        if "czxid" in value:
            return norm_stat(value)
        return {k: norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [norm(v) for v in value]
    return value


def reply_fact(rep, events):
    if rep is NO_REPLY:
        return dict(NO_REPLY)
    fact = {"err": zkwire.ERRORS.get(rep["err"], rep["err"])}
    if rep.get("body"):
        fact["body"] = norm(rep["body"])
    if events:
        fact["events"] = [(zkwire.EVENT_TYPES.get(e["type"], e["type"]), e["path"]) for e in events]
    for k in ("xid_mismatch", "decode_error", "extra"):
        if k in rep:
            fact[k] = rep[k]
    return fact


# ---- one server ------------------------------------------------------------------------------

def cell_path(scheme, perm, op, base="/m"):
    return "%s/%s/%s/%s" % (base, scheme, perm, op)


def cell_acl(scheme, bits):
    s, i = scheme.acl_id
    return [(bits, s, i)]


def run_matrix(port, schemes, perms, ops, base="/m"):
    """{(scheme, perm, op): fact} for the cells of schemes x perms x ops on the server at port."""
    admin = session(port, [SUPER_AUTH])
    setup = [create(base, flags=0)]
    for sc in schemes:
        setup.append(create("%s/%s" % (base, sc.name)))
        for pname, _ in perms:
            setup.append(create("%s/%s/%s" % (base, sc.name, pname)))
    expect_ok(pipeline(admin, setup), "scaffolding")
    for sc in schemes:
        fixture = admin if sc.fixture_auths is None else session(port, sc.fixture_auths)
        reqs = []
        for pname, bits in perms:
            for op in ops:
                n = cell_path(sc.name, pname, op, base)
                reqs += [create(n), create(n + "/c"), create(n + ".f"),
                         (Op.SET_ACL, zkwire.req_set_acl(n, cell_acl(sc, bits), -1))]
        expect_ok(pipeline(fixture, reqs), "fixtures of " + sc.name)
        if fixture is not admin:
            fixture.close_session()
    facts = {}
    actors = {}
    for sc in schemes:
        actor = actors[sc.name] = sc.connect(port)
        reqs, owners = [], []
        for pname, _ in perms:
            for op in ops:
                n = cell_path(sc.name, pname, op, base)
                for r in OPS[op](n, n + ".f"):
                    reqs.append(r)
                    if r is not BARRIER:
                        owners.append((sc.name, pname, op))
        for key, (rep, events) in zip(owners, pipeline(actor, reqs)):
            facts.setdefault(key, {"replies": []})["replies"].append(reply_fact(rep, events))
    if "watch-delivery" in ops:
        changes = []
        for sc in schemes:
            for pname, bits in perms:
                n = cell_path(sc.name, pname, "watch-delivery", base)
                changes += triggers(n, [(bits,) + sc.stored_id])
        expect_ok(pipeline(admin, changes), "triggers")
        for sc in schemes:
            # The events of the admin's changes are queued on each actor before the reply to a
            # request it sends after them (standalone: one thread applies and answers).
            (_, events), = pipeline(actors[sc.name], [getdata("/")])
            for e in events:
                parts = e["path"].split("/")
                key = (sc.name, parts[3], "watch-delivery") if len(parts) > 4 else None
                if key in facts:
                    facts[key].setdefault("events", []).append(
                        (zkwire.EVENT_TYPES.get(e["type"], e["type"]), e["path"]))
                else:
                    facts.setdefault(("stray event", sc.name, e["path"]), {"replies": []})
    for actor in actors.values():
        actor.close()  # not closeSession: its ephemerals stay for the state reads
    reads, owners = [], []
    for sc in schemes:
        for pname, _ in perms:
            for op in ops:
                n = cell_path(sc.name, pname, op, base)
                reads += [getdata(n), children(n), path_op(Op.GET_ACL, n), getdata(n + ".f"),
                          children(n + ".f")]
                owners += [(sc.name, pname, op)] * 5
    for key, (rep, events) in zip(owners, pipeline(admin, reads)):
        body = rep.get("body") or {}
        state = facts[key].setdefault("state", [])
        if "children" in body:
            state.append(sorted(body["children"]))
        elif "acl" in body:
            state.append(body["acl"])
        elif "data" in body:
            state.append((body["data"], norm_stat(body["stat"])))
        else:
            state.append(zkwire.ERRORS.get(rep["err"], rep["err"]))
    admin.close_session()
    return facts


def expect_ok(results, what):
    for rep, _ in results:
        if rep["err"] != 0:
            raise RuntimeError("%s: a request failed with %d" % (what, rep["err"]))


def add_auth_facts(port):
    """{label: what addAuth answered, whether the connection stayed open, whoAmI after}."""
    out = collections.OrderedDict()
    for label, scheme, data in ADD_AUTHS:
        s = session(port)
        try:
            rep, _ = s.add_auth(scheme, data)
            fact = ["err " + zkwire.ERRORS.get(rep["err"], str(rep["err"]))]
            try:
                who, _ = s.call(Op.WHO_AM_I, b"", timeout=3.0)
                fact.append("whoAmI %s" % ((who.get("body") or {}).get("clientInfo"),))
            except zkwire.ConnectionClosed:
                fact.append("connection closed")
            except zkwire.Timeout:
                fact.append("no whoAmI reply within 3 s")
        except zkwire.ConnectionClosed:
            fact = ["no reply, connection closed"]
        finally:
            s.close()
        out[label] = "; ".join(fact)
    return out


def acl_probe_facts(port):
    """{label: (create's error, the ACL it stored), (setACL's error, the ACL after)}."""
    admin = session(port, [SUPER_AUTH])
    expect_ok(pipeline(admin, [create("/acl")] + [create("/acl/s%d" % i)
                                                  for i in range(len(ACL_PROBES))]), "/acl")
    out = collections.OrderedDict()
    for i, (label, auths, acl) in enumerate(ACL_PROBES):
        s = session(port, auths)
        made, set_ = pipeline(s, [create("/acl/c%d" % i, acl=acl),
                                  (Op.SET_ACL, zkwire.req_set_acl("/acl/s%d" % i, acl, -1))])
        s.close_session()
        after = pipeline(admin, [path_op(Op.GET_ACL, "/acl/c%d" % i),
                                 path_op(Op.GET_ACL, "/acl/s%d" % i)])
        out[label] = [(reply_fact(*made)["err"], (after[0][0].get("body") or {}).get("acl")),
                      (reply_fact(*set_)["err"], (after[1][0].get("body") or {}).get("acl"))]
    admin.close_session()
    return out


def start(kind, fk, d, props):
    return javazk.start_either(kind, d, fk, props=props)


class Follower:
    """A follower of a 3-member ensemble of `kinds` (compat-tests/ensemble/cluster.py), with
    PROPS as -D flags / SERVER_JVMFLAGS: every session of the matrix connects to it, so writes
    are checked by the leader with the ids the follower forwards, reads by the follower."""

    def __init__(self, kinds, fk, d):
        sys.path.insert(0, os.path.join(HERE, "..", "ensemble"))
        import cluster  # noqa: E402 (only the ensemble mode needs it)
        flags = " ".join("-D%s=%s" % kv for kv in PROPS.items())
        self.cluster = cluster.Cluster(kinds, d, tick=2000, fk_bin=fk, java_props=PROPS,
                                       fk_env={"SERVER_JVMFLAGS": flags})
        self.cluster.start()
        try:
            modes = self.cluster.wait_formed(90)
        except cluster.ClusterError:
            self.cluster.stop_all()
            raise
        sid = min(s for s, m in modes.items() if m == "follower")
        self.port = self.cluster.members[sid].ports[0]
        self.name = "server.%d (%s) of %s" % (sid, kinds[sid - 1], ",".join(kinds))

    def stop(self):
        self.cluster.stop_all()


def run_server(kind, fk, tmp, schemes, skip_schemes, members=None):
    """The facts of one side: the matrix, addAuth and ACL-list probes on one server (or on a
    follower of `members`), then skipACL on a standalone server of that kind."""
    if members:
        server = Follower(members, fk, os.path.join(tmp, kind + "-ensemble"))
        print("%s side: follower %s" % (kind, server.name), flush=True)
    else:
        server = start(kind, fk, os.path.join(tmp, kind), PROPS)
    try:
        t0 = time.monotonic()
        facts = {("cell",) + k: v for k, v in run_matrix(server.port, schemes, PERMS, OPS).items()}
        for label, fact in add_auth_facts(server.port).items():
            facts[("addAuth", label)] = fact
        for label, fact in acl_probe_facts(server.port).items():
            facts[("aclList", label)] = fact
        took = time.monotonic() - t0
    finally:
        server.stop()
    server = start(kind, fk, os.path.join(tmp, kind + "-skipacl"),
                   dict(PROPS, **{"zookeeper.skipACL": "yes"}))
    try:
        skip = run_matrix(server.port, skip_schemes, [("NONE", 0)], OPS, base="/skip")
        facts.update({("skipACL",) + k: v for k, v in skip.items()})
    finally:
        server.stop()
    return facts, took


# ---- report ----------------------------------------------------------------------------------

def short(fact):
    """A cell in a few characters for the table: the error codes of its replies."""
    if not isinstance(fact, dict):
        return str(fact)
    parts = []
    for r in fact["replies"]:
        code = r["err"]
        results = (r.get("body") or {}).get("results")
        if results:
            code += "[" + ",".join(zkwire.ERRORS.get(x.get("err", 0), "?") for x in results) + "]"
        parts.append(code)
    return "+".join(parts)


def table(facts, schemes, kind):
    lines = ["# %s: the error code of each request of a cell, per permission granted" % kind]
    for sc in schemes:
        lines.append("")
        lines.append("## %s (%s)" % (sc.name, sc.note))
        lines.append("%-28s %s" % ("op", " | ".join(p for p, _ in PERMS)))
        for op in OPS:
            lines.append("%-28s %s" % (op, " | ".join(short(facts.get(("cell", sc.name, p, op)))
                                                     for p, _ in PERMS)))
    return "\n".join(lines) + "\n"


# Where FerroKeeper differs from Java 3.8.0 on purpose: key -> (Java's fact, FerroKeeper's fact,
# why). A key ("cell", "check") covers that op in every cell. Only this exact pair passes;
# anything else differing fails.
KNOWN_DEVIATIONS = {
    ("cell", "check"): (
        [dict(NO_REPLY)], [{"err": "OK"}],
        "a lone check (op 13, outside a multi) that succeeds: Java 3.8.0 throws a "
        "NullPointerException serializing its null reply and sends nothing (and logs a txn its "
        "own next start refuses); FerroKeeper answers OK with no body (and logs an ErrorTxn 0). "
        "Failing lone checks are answered by both, with the same error"),
    ("aclList", "ip v6"): (
        [("INVALIDACL", None), ("INVALIDACL", WORLD_ALL_STORED)],
        [("OK", [[Perms.ALL, "ip", "::1"]]), ("OK", [[Perms.ALL, "ip", "::1"]])],
        "an IPv6 `ip` ACL: 3.8.0's IPAuthenticationProvider parses IPv4 only, FerroKeeper "
        "follows ZooKeeper 3.9 and takes it (src/acl/ip.rs)"),
}


def known_deviation(key, want, got):
    """The reason, if `want` (Java) and `got` (FerroKeeper) differ only as KNOWN_DEVIATIONS says."""
    if key[0] in ("cell", "skipACL"):
        dev = KNOWN_DEVIATIONS.get(("cell", key[-1]))
        if dev and isinstance(want, dict) and isinstance(got, dict) \
                and want["replies"] == dev[0] and got["replies"] == dev[1] \
                and want.get("state") == got.get("state"):
            return dev[2]
        return None
    dev = KNOWN_DEVIATIONS.get(key)
    if dev and want == dev[0] and got == dev[1]:
        return dev[2]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ferrokeeper", nargs="?",
                    default=os.path.join(REPO, "target", "release", "ferrokeeper"))
    ap.add_argument("--table", help="write Java's answers as a table to this file")
    ap.add_argument("--only", help="schemes to run, comma-separated (default: all available)")
    ap.add_argument("--skip-ops", help="operations to leave out, comma-separated (a lone "
                                       "`check` breaks a Java 3.8.0 ensemble: README)")
    ap.add_argument("--java-members", help="run Java's side on a follower of this ensemble "
                                           "(e.g. java,java,java) instead of a standalone server")
    ap.add_argument("--fk-members", help="run FerroKeeper's side on a follower of this ensemble "
                                         "(e.g. fk,fk,fk)")
    a = ap.parse_args()
    fk = os.path.abspath(a.ferrokeeper)
    why = javazk.missing()
    if why:
        print("cannot run Java ZooKeeper: " + why)
        print("0 passed, 1 failed")
        return 1
    wanted = set(a.only.split(",")) if a.only else None
    schemes = [s for s in SCHEMES if s.missing is None and (wanted is None or s.name in wanted)]
    for s in SCHEMES:
        if s.missing is not None:
            print("not covered: scheme %s (%s)" % (s.name, s.missing))
    skip_schemes = [s for s in schemes if s.name in ("world", "digest")]
    for op in (a.skip_ops.split(",") if a.skip_ops else []):
        if OPS.pop(op, None) is None:
            ap.error("no operation %r" % op)
    with tempfile.TemporaryDirectory(prefix="acl-matrix.") as tmp:
        members = [m.split(",") if m else None for m in (a.java_members, a.fk_members)]
        java, java_took = run_server("java", fk, tmp, schemes, skip_schemes, members[0])
        ours, ours_took = run_server("ferrokeeper", fk, tmp, schemes, skip_schemes, members[1])
    print("matrix run: Java %.1f s, FerroKeeper %.1f s (%d cells each)"
          % (java_took, ours_took, len(java)))
    if a.table:
        with open(a.table, "w") as f:
            f.write(table(java, schemes, "Java ZooKeeper 3.8.0"))
    passed = failed = deviations = 0
    groups = collections.OrderedDict()
    for key, want in java.items():
        got = ours.get(key, "<missing>")
        group = key[:2] + key[3:] if key[0] in ("cell", "skipACL") else key
        if got == want or known_deviation(key, want, got):
            passed += 1
            deviations += got != want
            groups.setdefault(group, []).append(None)
        else:
            failed += 1
            groups.setdefault(group, []).append(key)
            print("DIFFERS %s" % (" ".join(key),))
            print("        java:        %s" % (want,))
            print("        ferrokeeper: %s" % (got,))
    for key in ours:
        if key not in java:
            failed += 1
            print("EXTRA   %s (only FerroKeeper has it)" % (" ".join(key),))
    bad = sum(1 for g in groups.values() if any(g))
    print("%d groups (scheme x op over every permission, addAuth probes, skipACL): %d with a "
          "difference" % (len(groups), bad))
    for key, fact in java.items():
        if key[0] in ("addAuth", "aclList"):
            print("%s %-30s java: %s" % (key[0], key[1], fact))
    for key, (_, _, why) in KNOWN_DEVIATIONS.items():
        print("known deviation (%s), passed as such where it shows: %s" % (" ".join(key), why))
    print("cells passed as a known deviation: %d" % deviations)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
