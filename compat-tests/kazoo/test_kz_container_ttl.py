"""Container and TTL znodes (ZooKeeper 3.5+ create modes).

kazoo 2.11 has no API for them, so these tests send the real requests (createContainer,
opcode 19; createTTL, opcode 21) through kazoo's own connection, with request classes built
from kazoo's serializers (see kazoo_ext.py). Reaping needs the server's container check
interval to be short: run-against-java.sh sets -Dznode.container.checkIntervalMs=1000; the
wait below is COMPAT_REAP_WAIT_S (default 15 s).
"""
import os
import threading

import pytest
from kazoo.exceptions import BadArgumentsError, NodeExistsError
from kazoo.protocol.states import EventType

from kazoo_ext import create_container, create_ttl

REAP_WAIT = float(os.environ.get("COMPAT_REAP_WAIT_S", "15"))


def _await_deleted(zk, path):
    fired = threading.Event()
    events = []

    def w(ev):
        events.append(ev)
        fired.set()

    if zk.exists(path, watch=w) is None:
        return True
    ok = fired.wait(REAP_WAIT)
    return ok and events[0].type == EventType.DELETED


def test_container_create_and_stat(zk, base):
    path, st = create_container(zk, base + "/cont", b"c")
    assert path == base + "/cont"
    assert st.version == 0 and st.dataLength == 1
    # the server hides the container marker from clients: ephemeralOwner reads 0
    assert st.ephemeralOwner == 0
    assert zk.get(path)[0] == b"c"
    with pytest.raises(NodeExistsError):
        create_container(zk, base + "/cont", b"")


def test_container_without_children_ever_is_kept(zk, base):
    # A container that never had a child is not reaped (cversion == 0).
    create_container(zk, base + "/never", b"")
    create_container(zk, base + "/had", b"")
    zk.create(base + "/had/kid", b"")
    zk.delete(base + "/had/kid")
    assert _await_deleted(zk, base + "/had"), "empty container was not reaped"
    assert zk.exists(base + "/never") is not None


def test_container_with_child_is_kept_until_empty(zk, base):
    create_container(zk, base + "/cont", b"")
    zk.create(base + "/cont/a", b"")
    zk.create(base + "/cont/b", b"")
    zk.delete(base + "/cont/a")
    # still has /b: must survive; prove it by waiting for the reaper to remove a sibling
    create_container(zk, base + "/probe", b"")
    zk.create(base + "/probe/x", b"")
    zk.delete(base + "/probe/x")
    assert _await_deleted(zk, base + "/probe")
    assert zk.exists(base + "/cont") is not None
    zk.delete(base + "/cont/b")
    assert _await_deleted(zk, base + "/cont")


def test_ttl_node_create_and_expire(zk, base):
    path, st = create_ttl(zk, base + "/ttl", b"t", ttl_ms=500)
    assert path == base + "/ttl"
    assert st.ephemeralOwner == 0  # TTL marker hidden from clients too
    assert st.dataLength == 1
    assert _await_deleted(zk, path), "TTL node was not removed after its TTL"


def test_ttl_node_with_children_is_kept(zk, base):
    create_ttl(zk, base + "/ttlp", b"", ttl_ms=200)
    zk.create(base + "/ttlp/kid", b"")
    create_ttl(zk, base + "/probe", b"", ttl_ms=200)
    assert _await_deleted(zk, base + "/probe")
    assert zk.exists(base + "/ttlp") is not None


def test_ttl_sequential_naming(zk, base):
    zk.create(base + "/x", b"")
    path, _ = create_ttl(zk, base + "/t-", b"", ttl_ms=600000, sequential=True)
    assert path == base + "/t-0000000001"


@pytest.mark.parametrize("ttl", [0, -5, (1 << 40) + 1])
def test_ttl_out_of_range_is_bad_arguments(zk, base, ttl):
    with pytest.raises(BadArgumentsError):
        create_ttl(zk, base + "/bad", b"", ttl_ms=ttl)
    assert zk.exists(base + "/bad") is None


def test_ttl_with_non_ttl_mode_is_bad_arguments(zk, base):
    with pytest.raises(BadArgumentsError):
        create_ttl(zk, base + "/bad", b"", ttl_ms=1000, flags=0)
