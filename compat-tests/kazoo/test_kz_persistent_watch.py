"""Persistent and persistent-recursive watches (addWatch, ZooKeeper 3.6+).

kazoo 2.11 has no add_watch API, so kazoo_ext sends AddWatch/RemoveWatches over kazoo's
connection and records the raw notifications (see kazoo_ext.py)."""

from kazoo.exceptions import NoWatcherError

from kazoo_ext import (PERSISTENT, PERSISTENT_RECURSIVE, add_watch, record_events,
                       remove_watches)

CREATED, DELETED, CHANGED, CHILD = 1, 2, 3, 4
WAIT = 10.0


def take(q, n):
    out = []
    for _ in range(n):
        out.append(q.get(timeout=WAIT))
    return out


def quiet(zk, zk2, q, base):
    """Prove no further persistent-watch event is pending: a one-shot marker event sent
    later must be the next thing received (the server keeps notification order)."""
    marker = zk.create(base + "-marker", b"")
    zk.get(marker, watch=lambda ev: None)
    zk2.set(marker, b"x")
    got = q.get(timeout=WAIT)
    zk.delete(marker)
    return got == (CHANGED, marker)


def test_persistent_recursive_watch(zk, zk2, base):
    q = record_events(zk)
    assert add_watch(zk, base, PERSISTENT_RECURSIVE) is True
    zk2.create(base + "/a", b"")
    zk2.create(base + "/a/b", b"")
    zk2.set(base + "/a/b", b"1")
    zk2.set(base + "/a/b", b"2")
    zk2.delete(base + "/a/b")
    zk2.set(base, b"top")
    assert take(q, 6) == [(CREATED, base + "/a"), (CREATED, base + "/a/b"),
                          (CHANGED, base + "/a/b"), (CHANGED, base + "/a/b"),
                          (DELETED, base + "/a/b"), (CHANGED, base)]
    assert remove_watches(zk, base) is True
    zk2.create(base + "/after", b"")
    assert quiet(zk, zk2, q, base)


def test_persistent_watch_not_recursive(zk, zk2, base):
    q = record_events(zk)
    assert add_watch(zk, base, PERSISTENT) is True
    zk2.create(base + "/a", b"")
    zk2.create(base + "/a/deep", b"")   # below the direct children: no event
    zk2.set(base + "/a", b"x")          # a child's data: no event
    zk2.set(base, b"1")
    zk2.set(base, b"2")
    assert take(q, 3) == [(CHILD, base), (CHANGED, base), (CHANGED, base)]
    assert quiet(zk, zk2, q, base)


def test_remove_watches_without_watch(zk, base):
    try:
        remove_watches(zk, base + "/none")
        raised = None
    except NoWatcherError as e:
        raised = e
    assert isinstance(raised, NoWatcherError)
