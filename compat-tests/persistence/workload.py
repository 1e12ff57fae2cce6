"""Clients and data sets for the persistence tests.

connect(port, ...)   a started KazooClient (fails, never hangs, when nothing serves)
create_ext(...)      createContainer / createTTL, which kazoo 2.11 has no API for: requests
                     built on kazoo's serializers, sent over kazoo's own connection
populate(...)        the varied migration data set (see its docstring)
"""

import random
from collections import namedtuple

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, RolledBackError
from kazoo.protocol.serialization import int_struct, long_struct, read_string, stat_struct, write_buffer, write_string
from kazoo.protocol.states import ZnodeStat
from kazoo.security import ACL, Id, Permissions, make_acl, make_digest_acl

CONNECT_TIMEOUT_S = 15

# CreateMode flags (ZooKeeper protocol)
MODE_CONTAINER = 4
MODE_PERSISTENT_TTL = 5
MODE_PERSISTENT_SEQUENTIAL_TTL = 6

OP_CREATE_CONTAINER = 19
OP_CREATE_TTL = 21

CREDENTIALS = (("alice", "alice-secret"), ("bob", "b0b:pw"))
WORLD_ALL = [ACL(Permissions.ALL, Id("world", "anyone"))]


def connect(port, auth=CREDENTIALS, client_id=None, timeout_s=30.0):
    """A KazooClient connected to 127.0.0.1:port with digest auth for `auth`, no retries
    (a write is sent exactly once). `client_id`=(session id, password) resumes a session."""
    c = KazooClient(hosts="127.0.0.1:%d" % port, timeout=timeout_s, client_id=client_id,
                    connection_retry=None, command_retry=None)
    try:
        c.start(timeout=CONNECT_TIMEOUT_S)
    except Exception:
        c.stop()
        c.close()
        raise
    for user, pw in auth:
        c.add_auth("digest", "%s:%s" % (user, pw))
    return c


def close(c):
    """Close the session (closeSession) and the client."""
    if c is None:
        return
    try:
        c.stop()
    finally:
        c.close()


class _ExtCreate(namedtuple("_ExtCreate", "type path data acl flags ttl")):
    """CreateRequest (+ long ttl for createTTL); the reply is a Create2Response."""

    def serialize(self):
        b = bytearray()
        b.extend(write_string(self.path))
        b.extend(write_buffer(self.data))
        b.extend(int_struct.pack(len(self.acl)))
        for a in self.acl:
            b.extend(int_struct.pack(a.perms) + write_string(a.id.scheme) + write_string(a.id.id))
        b.extend(int_struct.pack(self.flags))
        if self.ttl is not None:
            b.extend(long_struct.pack(self.ttl))
        return b

    @classmethod
    def deserialize(cls, data, offset):
        path, offset = read_string(data, offset)
        return path, ZnodeStat._make(stat_struct.unpack_from(data, offset))


def create_container(client, path, data=b"", acl=WORLD_ALL, timeout=10):
    r = client.handler.async_result()
    client._call(_ExtCreate(OP_CREATE_CONTAINER, path, data, acl, MODE_CONTAINER, None), r)
    return r.get(timeout=timeout)


def create_ttl(client, path, data, ttl_ms, sequential=False, acl=WORLD_ALL, timeout=10):
    mode = MODE_PERSISTENT_SEQUENTIAL_TTL if sequential else MODE_PERSISTENT_TTL
    r = client.handler.async_result()
    client._call(_ExtCreate(OP_CREATE_TTL, path, data, acl, mode, ttl_ms), r)
    return r.get(timeout=timeout)


def populate(c, root, owner, seed=1):
    """The migration data set, under `root`, written by client `c` (authenticated as both
    CREDENTIALS users); `owner` is a rawsession.RawSession that owns ephemerals and stays
    open across the restart. About 420 transactions, so with snapCount=100 the server
    takes several snapshots and rolls its txn log several times. Returns facts the test
    checks later (owner's ephemerals, the sequential parent, ...).

    Covers: persistent nodes with null, empty, binary (all 256 byte values, incl. newline),
    unicode and ~200 KB data; unicode path; sequential children (some deleted, so the
    counter differs from the child count); ephemeral and ephemeral-sequential nodes of the
    open session; an ephemeral of a session that is closed before the restart (so it must
    stay deleted); a container with a child; TTL and sequential-TTL nodes (1 h TTL); ACLs:
    world read-only, digest, ip, ip with a netmask, mixed, the "auth" scheme (expanded by
    the server), setACL repeated (aversion); setData 150 times; conditional setData and
    delete; deletes (parent cversion/pzxid); successful multis (create/setData/check/delete)
    and a failed multi and failed single writes (which, in ZooKeeper, still consume zxids);
    a quota (/zookeeper/quota/...) whose stats node the server maintains."""
    rnd = random.Random(seed)
    alice = make_digest_acl(*CREDENTIALS[0], all=True)
    bob_rw = make_digest_acl(*CREDENTIALS[1], read=True, write=True)
    ip_local = make_acl("ip", "127.0.0.1", all=True)
    facts = {"root": root}

    c.create(root, b"persistence test root")
    # data shapes
    c.create(root + "/null", None)
    c.create(root + "/empty", b"")
    c.create(root + "/binary", bytes(range(256)) * 4)
    c.create(root + "/big", rnd.randbytes(200 * 1024))
    c.create(root + "/unicode-\u00fc\u00f1\u00ee\u00e7\u00f8d\u00e9", "h\u00e9llo \u2603".encode("utf-8"))
    c.create(root + "/deep/a/b/c/d", b"deep", makepath=True)

    # sequential children; delete some
    seq = root + "/seq"
    c.create(seq, b"")
    made = [c.create(seq + "/item-", b"s%d" % i, sequence=True) for i in range(15)]
    for p in made[::3]:
        c.delete(p)
    facts["seq_parent"] = seq

    # ephemerals of the session that stays open across the restart
    _z, eph = owner.create(root + "/eph", b"owned by the open session", 1)
    _z, eph_seq = owner.create(seq + "/eph-", b"", 3)
    facts["owner_ephemerals"] = [eph, eph_seq]

    # an ephemeral whose session is closed before the restart (deleted by closeSession)
    facts["doomed_ephemeral"] = root + "/doomed"

    # container with a child; TTL nodes
    create_container(c, root + "/container", b"c")
    c.create(root + "/container/child", b"keeps the container")
    create_ttl(c, root + "/ttl", b"t", 3_600_000)
    facts["ttl_seq"] = create_ttl(c, root + "/ttlseq-", b"", 3_600_000, sequential=True)[0]

    # ACLs
    acl = root + "/acl"
    c.create(acl, b"")
    c.create(acl + "/world-read", b"r", acl=[make_acl("world", "anyone", read=True)])
    c.create(acl + "/digest", b"d", acl=[alice])
    c.create(acl + "/ip", b"i", acl=[ip_local])
    c.create(acl + "/ipmask", b"m", acl=[make_acl("ip", "10.0.0.0/8", all=True),
                                         make_acl("ip", "127.0.0.0/8", read=True, admin=True)])
    c.create(acl + "/mixed", b"x", acl=[bob_rw, make_acl("ip", "127.0.0.1", read=True),
                                        make_acl("world", "anyone", create=True)])
    c.create(acl + "/auth", b"a", acl=[make_acl("auth", "", all=True)])
    c.create(acl + "/changed", b"")
    for a in ([alice], [ip_local, alice], WORLD_ALL):
        c.set_acls(acl + "/changed", a)

    # many setData (crosses snapCount several times), conditional ones
    ctr = root + "/counter"
    c.create(ctr, b"0")
    for i in range(1, 151):
        c.set(ctr, b"%d" % i)
    st = c.set(ctr, b"conditional", version=150)
    try:
        c.set(ctr, b"stale", version=3)
        raise AssertionError("setData with a stale version succeeded")
    except BadVersionError:
        pass
    try:
        c.create(ctr, b"again")
        raise AssertionError("creating an existing node succeeded")
    except NodeExistsError:
        pass

    # deletes
    dl = root + "/deletes"
    c.create(dl, b"")
    for i in range(30):
        c.create("%s/n%02d" % (dl, i), b"%d" % i)
    for i in range(0, 30, 2):
        c.delete("%s/n%02d" % (dl, i))
    c.delete("%s/n01" % dl, version=0)

    # multis: successful ones, then one that fails (rolled back, but a txn in ZooKeeper)
    m = root + "/multi"
    c.create(m, b"")
    c.create(m + "/tmp", b"")
    t = c.transaction()
    t.create(m + "/a", b"A")
    t.create(m + "/b", b"")
    t.set_data(m, b"multi-set")
    t.check(ctr, st.version)
    t.delete(m + "/tmp")
    res = t.commit()
    if any(isinstance(r, Exception) for r in res):
        raise AssertionError("multi failed: %r" % (res,))
    t = c.transaction()
    t.create(m + "/seq-", b"", sequence=True)
    t.create(m + "/seq-", b"", sequence=True)
    res = t.commit()
    if any(isinstance(r, Exception) for r in res):
        raise AssertionError("multi failed: %r" % (res,))
    t = c.transaction()
    t.create(m + "/never", b"")
    t.check(ctr, 9999)
    res = t.commit()
    if not isinstance(res[0], RolledBackError):
        raise AssertionError("multi with a failing check was not rolled back: %r" % (res,))

    # the tail: more writes on many nodes, so the last log holds a mix
    bulk = root + "/bulk"
    c.create(bulk, b"")
    # a quota on it, made as zkCli's setquota makes one; the server keeps the
    # zookeeper_stats node's data up to date without transactions
    q = "/zookeeper/quota" + bulk
    c.create(q + "/zookeeper_limits", b"count=1000,bytes=-1", makepath=True)
    c.create(q + "/zookeeper_stats", b"count=0,bytes=0")
    for i in range(60):
        c.create("%s/k%03d" % (bulk, i), rnd.randbytes(rnd.randrange(0, 64)))
    for i in range(60):
        c.set("%s/k%03d" % (bulk, rnd.randrange(60)), b"v%d" % i)
    return facts
