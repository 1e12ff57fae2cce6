#!/usr/bin/env python3
"""zkwire: a small, independent raw-protocol ZooKeeper 3.8 client.

Written from the wire format (zookeeper.jute, ClientCnxn, MultiOperationRecord, MultiResponse),
with no ZooKeeper client library underneath, so that a test sees exactly what a server sends:
every error code, every Stat field, every byte left over after a reply body, and the order in
which replies and watch notifications arrive on one connection.

Wire format (all integers big-endian):
  frame            int32 length, then `length` bytes
  int/long/bool    4 / 8 / 1 bytes
  buffer, ustring  int32 length (-1 = null), then bytes (UTF-8 for ustring)
  vector<T>        int32 count (-1 = null), then the items
  request          RequestHeader{int xid, int type} + body
  reply            ReplyHeader{int xid, long zxid, int err} + body (normally absent when err != 0)
  notification     ReplyHeader{xid=-1} + WatcherEvent{int type, int state, ustring path}
The session handshake is unframed-header: ConnectRequest (+ bool readOnly) / ConnectResponse
(+ bool readOnly), each inside one frame.

Only the Python standard library is used.
"""

import base64
import collections
import hashlib
import socket
import struct
import time

# ---------------------------------------------------------------------------------------------
# Constants (ZooDefs.OpCode, KeeperException.Code, Watcher.Event, CreateMode, ...)
# ---------------------------------------------------------------------------------------------


class Op:
    NOTIFICATION = 0
    CREATE = 1
    DELETE = 2
    EXISTS = 3
    GET_DATA = 4
    SET_DATA = 5
    GET_ACL = 6
    SET_ACL = 7
    GET_CHILDREN = 8
    SYNC = 9
    PING = 11
    GET_CHILDREN2 = 12
    CHECK = 13
    MULTI = 14
    CREATE2 = 15
    RECONFIG = 16
    CHECK_WATCHES = 17
    REMOVE_WATCHES = 18
    CREATE_CONTAINER = 19
    DELETE_CONTAINER = 20
    CREATE_TTL = 21
    MULTI_READ = 22
    AUTH = 100
    SET_WATCHES = 101
    SASL = 102
    GET_EPHEMERALS = 103
    GET_ALL_CHILDREN_NUMBER = 104
    SET_WATCHES2 = 105
    ADD_WATCH = 106
    WHO_AM_I = 107
    CREATE_SESSION = -10
    CLOSE_SESSION = -11
    ERROR = -1


OP_NAMES = {v: k.lower() for k, v in vars(Op).items() if not k.startswith("_")}

# Special xids used by the Java client (ClientCnxn)
NOTIFICATION_XID = -1
PING_XID = -2
AUTH_XID = -4
SET_WATCHES_XID = -8

ERRORS = {
    0: "OK",
    -1: "SYSTEMERROR",
    -2: "RUNTIMEINCONSISTENCY",
    -3: "DATAINCONSISTENCY",
    -4: "CONNECTIONLOSS",
    -5: "MARSHALLINGERROR",
    -6: "UNIMPLEMENTED",
    -7: "OPERATIONTIMEOUT",
    -8: "BADARGUMENTS",
    -12: "UNKNOWNSESSION",
    -13: "NEWCONFIGNOQUORUM",
    -14: "RECONFIGINPROGRESS",
    -100: "APIERROR",
    -101: "NONODE",
    -102: "NOAUTH",
    -103: "BADVERSION",
    -108: "NOCHILDRENFOREPHEMERALS",
    -110: "NODEEXISTS",
    -111: "NOTEMPTY",
    -112: "SESSIONEXPIRED",
    -113: "INVALIDCALLBACK",
    -114: "INVALIDACL",
    -115: "AUTHFAILED",
    -118: "SESSIONMOVED",
    -119: "NOTREADONLY",
    -120: "EPHEMERALONLOCALSESSION",
    -121: "NOWATCHER",
    -122: "REQUESTTIMEOUT",
    -123: "RECONFIGDISABLED",
    -124: "SESSIONCLOSEDREQUIRESASLAUTH",
    -125: "QUOTAEXCEEDED",
    -127: "THROTTLEDOP",
}

EVENT_TYPES = {-1: "None", 1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged",
               4: "NodeChildrenChanged", 5: "DataWatchRemoved", 6: "ChildWatchRemoved",
               7: "PersistentWatchRemoved"}
KEEPER_STATES = {-1: "Unknown", 0: "Disconnected", 1: "NoSyncConnected", 3: "SyncConnected",
                 4: "AuthFailed", 5: "ConnectedReadOnly", 6: "SaslAuthenticated",
                 -112: "Expired", 7: "Closed"}


class CreateMode:
    PERSISTENT = 0
    EPHEMERAL = 1
    PERSISTENT_SEQUENTIAL = 2
    EPHEMERAL_SEQUENTIAL = 3
    CONTAINER = 4
    PERSISTENT_WITH_TTL = 5
    PERSISTENT_SEQUENTIAL_WITH_TTL = 6


class Perms:
    READ = 1
    WRITE = 2
    CREATE = 4
    DELETE = 8
    ADMIN = 16
    ALL = 31


class WatcherType:  # removeWatches / checkWatches
    CHILDREN = 1
    DATA = 2
    ANY = 3


class AddWatchMode:
    PERSISTENT = 0
    PERSISTENT_RECURSIVE = 1


OPEN_ACL_UNSAFE = [(Perms.ALL, "world", "anyone")]


def digest_id(user, password):
    """The id of a digest ACL for user:password (DigestAuthenticationProvider.generateDigest)."""
    h = hashlib.sha1(("%s:%s" % (user, password)).encode("utf-8")).digest()
    return "%s:%s" % (user, base64.b64encode(h).decode("ascii"))


# ---------------------------------------------------------------------------------------------
# Jute encoding
# ---------------------------------------------------------------------------------------------

_I = struct.Struct(">i")
_Q = struct.Struct(">q")


class Writer:
    def __init__(self):
        self.parts = []

    def int(self, v):
        self.parts.append(_I.pack(v))
        return self

    def long(self, v):
        self.parts.append(_Q.pack(v))
        return self

    def bool(self, v):
        self.parts.append(b"\x01" if v else b"\x00")
        return self

    def buffer(self, b):
        if b is None:
            return self.int(-1)
        self.int(len(b))
        self.parts.append(bytes(b))
        return self

    def ustring(self, s):
        if s is None:
            return self.int(-1)
        return self.buffer(s.encode("utf-8"))

    def vector(self, items, item_fn):
        if items is None:
            return self.int(-1)
        self.int(len(items))
        for it in items:
            item_fn(self, it)
        return self

    def strings(self, items):
        return self.vector(items, Writer.ustring)

    def acl(self, acls):
        def one(w, a):
            perms, scheme, ident = a
            w.int(perms).ustring(scheme).ustring(ident)
        return self.vector(acls, one)

    def raw(self, b):
        self.parts.append(bytes(b))
        return self

    def bytes(self):
        return b"".join(self.parts)


class DecodeError(Exception):
    pass


class Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise DecodeError("need %d bytes at offset %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return _I.unpack(self._take(4))[0]

    def long(self):
        return _Q.unpack(self._take(8))[0]

    def bool(self):
        b = self._take(1)[0]
        return b != 0

    def buffer(self):
        n = self.int()
        if n == -1:
            return None
        return self._take(n)

    def ustring(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8", "surrogateescape")

    def vector(self, item_fn):
        n = self.int()
        if n == -1:
            return None
        if n < 0 or n > len(self.data):
            raise DecodeError("bad vector length %d" % n)
        return [item_fn(self) for _ in range(n)]

    def strings(self):
        return self.vector(Reader.ustring)

    def stat(self):
        return collections.OrderedDict([
            ("czxid", self.long()), ("mzxid", self.long()), ("ctime", self.long()),
            ("mtime", self.long()), ("version", self.int()), ("cversion", self.int()),
            ("aversion", self.int()), ("ephemeralOwner", self.long()),
            ("dataLength", self.int()), ("numChildren", self.int()), ("pzxid", self.long()),
        ])

    def acl(self):
        return self.vector(lambda r: [r.int(), r.ustring(), r.ustring()])

    def remaining(self):
        return len(self.data) - self.pos

    def rest(self):
        return self._take(self.remaining())


# ---------------------------------------------------------------------------------------------
# Request bodies (one function per request record)
# ---------------------------------------------------------------------------------------------

def req_create(path, data, acl, flags):
    return Writer().ustring(path).buffer(data).acl(acl).int(flags).bytes()


def req_create_ttl(path, data, acl, flags, ttl):
    return Writer().ustring(path).buffer(data).acl(acl).int(flags).long(ttl).bytes()


def req_delete(path, version):
    return Writer().ustring(path).int(version).bytes()


def req_path_watch(path, watch):  # exists, getData, getChildren, getChildren2
    return Writer().ustring(path).bool(watch).bytes()


def req_path(path):  # getACL, sync, getAllChildrenNumber, getEphemerals
    return Writer().ustring(path).bytes()


def req_set_data(path, data, version):
    return Writer().ustring(path).buffer(data).int(version).bytes()


def req_set_acl(path, acl, version):
    return Writer().ustring(path).acl(acl).int(version).bytes()


def req_check(path, version):
    return Writer().ustring(path).int(version).bytes()


def req_path_type(path, wtype):  # checkWatches, removeWatches
    return Writer().ustring(path).int(wtype).bytes()


def req_add_watch(path, mode):
    return Writer().ustring(path).int(mode).bytes()


def req_auth(scheme, auth, auth_type=0):
    return Writer().int(auth_type).ustring(scheme).buffer(auth).bytes()


def req_set_watches2(relative_zxid, data=(), exist=(), child=(), persistent=(), recursive=()):
    w = Writer().long(relative_zxid)
    for lst in (data, exist, child, persistent, recursive):
        w.strings(list(lst))
    return w.bytes()


def req_set_watches(relative_zxid, data=(), exist=(), child=()):
    w = Writer().long(relative_zxid)
    for lst in (data, exist, child):
        w.strings(list(lst))
    return w.bytes()


def req_multi(subops):
    """subops: list of (opcode, body_bytes) as built by the req_* functions."""
    w = Writer()
    for opcode, body in subops:
        w.int(opcode).bool(False).int(-1).raw(body)
    w.int(-1).bool(True).int(-1)
    return w.bytes()


# ---------------------------------------------------------------------------------------------
# Reply bodies
# ---------------------------------------------------------------------------------------------

def _decode_multi(r):
    results = []
    for _ in range(100000):
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            break
        res = collections.OrderedDict([("type", typ)])
        if typ == Op.CREATE:
            res["path"] = r.ustring()
        elif typ in (Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER):
            res["path"] = r.ustring()
            res["stat"] = r.stat()
        elif typ in (Op.DELETE, Op.CHECK):
            pass
        elif typ == Op.SET_DATA:
            res["stat"] = r.stat()
        elif typ == Op.GET_CHILDREN:
            res["children"] = r.strings()
        elif typ == Op.GET_DATA:
            res["data"] = _hex(r.buffer())
            res["stat"] = r.stat()
        elif typ == Op.ERROR:
            res["err"] = r.int()
            res["header_err"] = err
        else:
            raise DecodeError("unknown multi result type %d" % typ)
        results.append(res)
    return {"results": results}


def _hex(b):
    return None if b is None else b.hex()


def decode_body(opcode, r):
    """Decode the body of a successful reply to `opcode` from Reader r into a dict."""
    if opcode == Op.CREATE:
        return {"path": r.ustring()}
    if opcode in (Op.CREATE2, Op.CREATE_TTL, Op.CREATE_CONTAINER):
        return {"path": r.ustring(), "stat": r.stat()}
    if opcode in (Op.EXISTS, Op.SET_DATA, Op.SET_ACL):
        return {"stat": r.stat()}
    if opcode == Op.CHECK:  # a lone check is answered with a SetDataResponse
        return {"stat": r.stat()} if r.remaining() else {}
    if opcode == Op.GET_DATA:
        return {"data": _hex(r.buffer()), "stat": r.stat()}
    if opcode == Op.GET_ACL:
        return {"acl": r.acl(), "stat": r.stat()}
    if opcode == Op.GET_CHILDREN:
        return {"children": r.strings()}
    if opcode == Op.GET_CHILDREN2:
        return {"children": r.strings(), "stat": r.stat()}
    if opcode == Op.SYNC:
        return {"path": r.ustring()}
    if opcode in (Op.MULTI, Op.MULTI_READ):
        return _decode_multi(r)
    if opcode == Op.GET_EPHEMERALS:
        return {"ephemerals": r.strings()}
    if opcode == Op.GET_ALL_CHILDREN_NUMBER:
        return {"totalNumber": r.int()}
    if opcode == Op.ADD_WATCH:  # answered with ErrorResponse(0)
        return {"err": r.int()} if r.remaining() else {}
    if opcode == Op.WHO_AM_I:
        # Java keeps a session's auth ids in a hash set, so their order is
        # unspecified: compare them sorted.
        return {"clientInfo": sorted(r.vector(lambda x: [x.ustring(), x.ustring()]))}
    # delete, ping, auth, setWatches(2), checkWatches, removeWatches, closeSession: no body
    return {}


# ---------------------------------------------------------------------------------------------
# Connection
# ---------------------------------------------------------------------------------------------

class ConnectionClosed(Exception):
    pass


class Timeout(Exception):
    pass


class Reply(dict):
    kind = "reply"


class Event(dict):
    kind = "event"


MAX_FRAME = 64 * 1024 * 1024


class Session:
    """One TCP connection carrying one ZooKeeper session.

    send() pipelines requests (returns the xid); recv() returns the next Reply or Event in
    arrival order. Replies are decoded with the opcode of the oldest outstanding request, as the
    server must answer requests on a session in order; a reply whose xid is not the expected one
    is flagged with "xid_mismatch".
    """

    def __init__(self, host, port, timeout_ms=30000, io_timeout=10.0):
        self.host, self.port = host, int(port)
        self.timeout_ms = timeout_ms
        self.io_timeout = io_timeout
        self.sock = None
        self.buf = bytearray()
        self.next_xid = 1
        self.pending = collections.deque()  # (xid, opcode)
        self.session_id = None
        self.passwd = None
        self.negotiated_timeout = None
        self.last_zxid = 0
        self.closed = False

    # -- framing ------------------------------------------------------------------------------
    def _send_frame(self, payload):
        try:
            self.sock.sendall(_I.pack(len(payload)) + payload)
        except OSError as e:
            self.closed = True
            raise ConnectionClosed("send failed: %s" % e)

    def _recv_frame(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                n = _I.unpack(self.buf[:4])[0]
                if n < 0 or n > MAX_FRAME:
                    self.closed = True
                    raise ConnectionClosed("bad frame length %d" % n)
                if len(self.buf) >= 4 + n:
                    frame = bytes(self.buf[4:4 + n])
                    del self.buf[:4 + n]
                    return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no complete frame within %.1fs" % timeout)
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise Timeout("no complete frame within %.1fs" % timeout)
            except OSError as e:
                self.closed = True
                raise ConnectionClosed("recv failed: %s" % e)
            if not chunk:
                self.closed = True
                raise ConnectionClosed("connection closed by server")
            self.buf += chunk

    # -- session ------------------------------------------------------------------------------
    def connect(self, session_id=0, passwd=b"\x00" * 16, last_zxid=0, read_only=False):
        """Open the TCP connection and establish (or resume) a session; returns the
        ConnectResponse as a dict."""
        self.sock = socket.create_connection((self.host, self.port), timeout=self.io_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = (Writer().int(0).long(last_zxid).int(self.timeout_ms).long(session_id)
               .buffer(passwd).bool(read_only).bytes())
        self._send_frame(req)
        r = Reader(self._recv_frame(self.io_timeout))
        resp = collections.OrderedDict()
        resp["protocolVersion"] = r.int()
        resp["timeOut"] = r.int()
        resp["sessionId"] = r.long()
        pw = r.buffer() or b""
        resp["passwd_len"] = len(pw)
        resp["readOnly"] = r.bool() if r.remaining() else None
        if r.remaining():
            resp["extra"] = r.rest().hex()
        self.session_id = resp["sessionId"]
        self.passwd = pw
        self.last_zxid = max(self.last_zxid, last_zxid)
        self.negotiated_timeout = resp["timeOut"]
        if resp["timeOut"] <= 0:  # the server refused the session (e.g. expired)
            self.closed = True
        return resp

    def send(self, opcode, body=b"", xid=None):
        if xid is None:
            xid = self.next_xid
            self.next_xid += 1
        self._send_frame(Writer().int(xid).int(opcode).raw(body).bytes())
        self.pending.append((xid, opcode))
        return xid

    def recv(self, timeout=None):
        """Next Reply or Event. Raises Timeout or ConnectionClosed."""
        frame = self._recv_frame(self.io_timeout if timeout is None else timeout)
        r = Reader(frame)
        xid, zxid, err = r.int(), r.long(), r.int()
        if xid == NOTIFICATION_XID:
            ev = Event(xid=xid, zxid=zxid, err=err)
            try:
                ev["type"], ev["state"], ev["path"] = r.int(), r.int(), r.ustring()
            except DecodeError as e:
                ev["decode_error"] = str(e)
            if r.remaining():
                ev["extra"] = r.rest().hex()
            return ev
        rep = Reply(xid=xid, zxid=zxid, err=err)
        if zxid > self.last_zxid:
            self.last_zxid = zxid
        if self.pending:
            exp_xid, opcode = self.pending.popleft()
            if exp_xid != xid:
                rep["xid_mismatch"] = exp_xid
        else:
            opcode = None
            rep["unsolicited"] = True
        rep["op"] = opcode
        body = None
        start = r.pos
        try:
            if opcode is not None and r.remaining() and (err == 0 or opcode in (Op.MULTI, Op.MULTI_READ)):
                body = decode_body(opcode, r)
        except DecodeError as e:
            r.pos = start
            rep["decode_error"] = str(e)
        rep["body"] = body
        if r.remaining():
            rep["extra"] = r.rest().hex()
        return rep

    def recv_reply(self, timeout=None):
        """Receive until the next Reply; returns (reply, [events received before it])."""
        events = []
        deadline = time.monotonic() + (self.io_timeout if timeout is None else timeout)
        while True:
            p = self.recv(max(0.0, deadline - time.monotonic()))
            if p.kind == "event":
                events.append(p)
            else:
                return p, events

    def call(self, opcode, body=b"", xid=None, timeout=None):
        self.send(opcode, body, xid)
        return self.recv_reply(timeout)

    # -- conveniences -------------------------------------------------------------------------
    def ping(self):
        return self.call(Op.PING, b"", xid=PING_XID)

    def add_auth(self, scheme, auth):
        return self.call(Op.AUTH, req_auth(scheme, auth), xid=AUTH_XID)

    def create(self, path, data=b"", acl=OPEN_ACL_UNSAFE, flags=0):
        return self.call(Op.CREATE2, req_create(path, data, acl, flags))

    def delete(self, path, version=-1):
        return self.call(Op.DELETE, req_delete(path, version))

    def get_children(self, path, watch=False):
        return self.call(Op.GET_CHILDREN, req_path_watch(path, watch))

    def set_acl(self, path, acl, version=-1):
        return self.call(Op.SET_ACL, req_set_acl(path, acl, version))

    def close_session(self, timeout=None):
        """Send closeSession, wait for its reply (events before it are returned too), then
        close the socket."""
        try:
            return self.call(Op.CLOSE_SESSION, b"", timeout=timeout)
        finally:
            self.close()

    def close(self):
        self.closed = True
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    return host or "127.0.0.1", int(port)
