"""Ephemeral znodes belong to a session and vanish when it ends."""
import threading

import pytest
from kazoo.exceptions import NoChildrenForEphemeralsError
from kazoo.protocol.states import EventType

WAIT = 15.0


def test_ephemeral_owner_is_session_id(zk, zk2, base):
    p = zk.create(base + "/eph", b"v", ephemeral=True)
    st = zk2.exists(p)  # visible to other sessions
    assert st is not None
    assert st.ephemeralOwner == zk.client_id[0]
    assert st.ephemeralOwner != zk2.client_id[0]


def test_ephemeral_cannot_have_children(zk, base):
    p = zk.create(base + "/eph", b"", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(p + "/kid", b"")


def test_ephemeral_vanishes_when_session_closes(make_client, zk2, base):
    owner = make_client()
    p = owner.create(base + "/eph", b"", ephemeral=True)
    owner.create(base + "/persist", b"")
    got = []
    fired = threading.Event()

    def watcher(event):
        got.append(event)
        fired.set()

    assert zk2.exists(p, watch=watcher) is not None
    owner.stop()  # sends closeSession
    assert fired.wait(WAIT), "no watch event after the owner's session closed"
    assert got[0].type == EventType.DELETED
    assert got[0].path == p
    assert zk2.exists(p) is None
    assert zk2.exists(base + "/persist") is not None  # persistent nodes stay


def test_child_watch_sees_ephemeral_disappear(make_client, zk2, base):
    owner = make_client()
    owner.create(base + "/a", b"", ephemeral=True)
    owner.create(base + "/b", b"", ephemeral=True)
    fired = threading.Event()
    events = []

    def watcher(event):
        events.append(event)
        fired.set()

    assert sorted(zk2.get_children(base, watch=watcher)) == ["a", "b"]
    owner.stop()
    assert fired.wait(WAIT)
    assert events[0].type == EventType.CHILD and events[0].path == base
    # closeSession removes all of the session's ephemerals in one transaction
    assert zk2.get_children(base) == []
