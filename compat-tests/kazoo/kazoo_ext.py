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
