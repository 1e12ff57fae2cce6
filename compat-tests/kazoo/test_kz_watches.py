"""One-shot watches: data, exists and child watches, their event types and paths.

Ordering guarantee used to prove "no extra event" without sleeping: the server delivers a
session's watch events in order, so once a later event arrives, any spurious earlier one would
already have been recorded.
"""
import queue

from kazoo.protocol.states import EventType, KeeperState

WAIT = 10.0


class Recorder:
    def __init__(self):
        self.q = queue.Queue()
        self.all = []

    def __call__(self, event):
        self.all.append(event)
        self.q.put(event)

    def next(self):
        return self.q.get(timeout=WAIT)


def test_data_watch_fires_changed_once(zk, zk2, base):
    p = zk.create(base + "/d", b"0")
    rec = Recorder()
    zk.get(p, watch=rec)
    zk2.set(p, b"1")
    ev = rec.next()
    assert ev.type == EventType.CHANGED
    assert ev.path == p
    assert ev.state == KeeperState.CONNECTED
    zk2.set(p, b"2")  # the watch was one-shot: no event for this one
    rec2 = Recorder()
    zk.get(p, watch=rec2)
    zk2.set(p, b"3")
    assert rec2.next().type == EventType.CHANGED
    assert len(rec.all) == 1


def test_data_watch_fires_deleted(zk, zk2, base):
    p = zk.create(base + "/d", b"")
    rec = Recorder()
    zk.get(p, watch=rec)
    zk2.delete(p)
    ev = rec.next()
    assert ev.type == EventType.DELETED and ev.path == p


def test_exists_watch_on_missing_node_fires_created(zk, zk2, base):
    p = base + "/later"
    rec = Recorder()
    assert zk.exists(p, watch=rec) is None
    zk2.create(p, b"")
    ev = rec.next()
    assert ev.type == EventType.CREATED and ev.path == p


def test_exists_watch_on_existing_node(zk, zk2, base):
    p = zk.create(base + "/e", b"")
    rec = Recorder()
    assert zk.exists(p, watch=rec) is not None
    zk2.set(p, b"x")
    assert rec.next().type == EventType.CHANGED
    rec = Recorder()
    zk.exists(p, watch=rec)
    zk2.delete(p)
    ev = rec.next()
    assert ev.type == EventType.DELETED and ev.path == p


def test_child_watch_fires_on_create_and_delete_not_on_data(zk, zk2, base):
    rec = Recorder()
    assert zk.get_children(base, watch=rec) == []
    zk2.create(base + "/k", b"")
    ev = rec.next()
    assert ev.type == EventType.CHILD and ev.path == base
    # child data change and parent data change: no child event
    rec = Recorder()
    zk.get_children(base, watch=rec)
    zk2.set(base + "/k", b"data")
    zk2.set(base, b"parent-data")
    marker = Recorder()
    zk.get(base + "/k", watch=marker)
    zk2.set(base + "/k", b"again")
    assert marker.next().type == EventType.CHANGED
    assert rec.all == []
    zk2.delete(base + "/k")
    ev = rec.next()
    assert ev.type == EventType.CHILD and ev.path == base


def test_child_watch_on_deleted_parent_reports_deleted(zk, zk2, base):
    p = zk.create(base + "/p", b"")
    rec = Recorder()
    zk.get_children(p, watch=rec)
    zk2.delete(p)
    ev = rec.next()
    assert ev.type == EventType.DELETED and ev.path == p


def test_own_change_triggers_own_watch(zk, base):
    p = zk.create(base + "/self", b"")
    rec = Recorder()
    zk.get(p, watch=rec)
    zk.set(p, b"mine")
    assert rec.next().type == EventType.CHANGED


def test_multi_triggers_watches(zk, zk2, base):
    a = zk.create(base + "/a", b"")
    rec_a = Recorder()
    rec_kids = Recorder()
    zk.get(a, watch=rec_a)
    zk.get_children(base, watch=rec_kids)
    t = zk2.transaction()
    t.set_data(a, b"x")
    t.create(base + "/b", b"")
    t.commit()
    assert rec_a.next().type == EventType.CHANGED
    assert rec_kids.next().type == EventType.CHILD
