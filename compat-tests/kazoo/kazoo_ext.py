"""Requests kazoo 2.11 lacks (createContainer, createTTL), built on kazoo's serializers and
sent through KazooClient._call, so they travel over kazoo's real connection."""
from collections import namedtuple

from kazoo.protocol.serialization import Create2, long_struct
from kazoo.security import OPEN_ACL_UNSAFE

# CreateMode flag values from the ZooKeeper protocol
CONTAINER = 4
PERSISTENT_WITH_TTL = 5
PERSISTENT_SEQUENTIAL_WITH_TTL = 6


class CreateContainer(Create2):
    """createContainer (opcode 19): a CreateRequest, answered with a Create2Response."""
    type = 19


class CreateTTL(namedtuple("CreateTTL", "path data acl flags ttl")):
    """createTTL (opcode 21): CreateTTLRequest = CreateRequest fields + long ttl."""
    type = 21

    def serialize(self):
        b = Create2(self.path, self.data, self.acl, self.flags).serialize()
        b.extend(long_struct.pack(self.ttl))
        return b

    deserialize = Create2.deserialize


def _send(zk, req, timeout=10.0):
    res = zk.handler.async_result()
    zk._call(req, res)
    return res.get(timeout=timeout)


def create_container(zk, path, data=b"", acl=None):
    """Returns (path, stat)."""
    return _send(zk, CreateContainer(path, data, acl or OPEN_ACL_UNSAFE, CONTAINER))


def create_ttl(zk, path, data=b"", ttl_ms=1000, sequential=False, acl=None, flags=None):
    if flags is None:
        flags = PERSISTENT_SEQUENTIAL_WITH_TTL if sequential else PERSISTENT_WITH_TTL
    return _send(zk, CreateTTL(path, data, acl or OPEN_ACL_UNSAFE, flags, ttl_ms))


def wait_for_children(zk, path, count, timeout=15.0):
    """Block until `path` has exactly `count` children, using child watches (no polling sleeps).
    Returns True on success, False at the deadline."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    for _ in range(1000):  # bounded: each round waits for one child event
        changed = threading.Event()
        kids = zk.get_children(path, watch=lambda ev: changed.set())
        if len(kids) == count:
            return True
        left = deadline - time.monotonic()
        if left <= 0 or not changed.wait(left):
            return False
    return False


# --- persistent watches (addWatch, opcode 106; removeWatches, opcode 18) -----------------
# kazoo 2.11 has neither. The requests below travel over kazoo's connection; since kazoo
# only routes notifications to its own one-shot watcher tables, `record_events` wraps the
# connection's notification reader to also record every (type, path) the server sends.

PERSISTENT = 0
PERSISTENT_RECURSIVE = 1
WATCHER_TYPE_ANY = 3  # removeWatches: children=1, data=2, any=3

from kazoo.protocol.serialization import int_struct as _int, write_string as _wstr  # noqa: E402


class AddWatch(namedtuple("AddWatch", "path mode")):
    type = 106

    def serialize(self):
        return bytearray(_wstr(self.path) + _int.pack(self.mode))

    @classmethod
    def deserialize(cls, buffer, offset):
        return True


class RemoveWatches(namedtuple("RemoveWatches", "path watcher_type")):
    type = 18

    def serialize(self):
        return bytearray(_wstr(self.path) + _int.pack(self.watcher_type))

    @classmethod
    def deserialize(cls, buffer, offset):
        return True


def add_watch(zk, path, mode):
    return _send(zk, AddWatch(path, mode))


def remove_watches(zk, path, watcher_type=WATCHER_TYPE_ANY):
    return _send(zk, RemoveWatches(path, watcher_type))


def record_events(zk):
    """Returns a queue.Queue that receives (event type int, path) for every watch
    notification this client receives from now on (1 created, 2 deleted, 3 changed, 4 child)."""
    import queue

    from kazoo.protocol.serialization import Watch

    q = queue.Queue()
    conn = zk._connection
    original = conn._read_watch_event

    def reading(buffer, offset):
        watch, _ = Watch.deserialize(buffer, offset)
        q.put((watch.type, watch.path))
        return original(buffer, offset)

    conn._read_watch_event = reading
    return q
