"""Session identity: reattaching with (session id, password), wrong password, close."""
from kazoo.client import KazooClient

from kazoo_ext import wait_for_children

WAIT = 15.0


def test_reattach_with_session_id_and_password(zk_connect, make_client, base):
    first = make_client()
    sid, pw = first.client_id
    assert sid != 0 and len(pw) == 16
    eph = first.create(base + "/eph", b"", ephemeral=True)
    # a second client presenting the same id/password takes the session over
    second = make_client(client_id=(sid, pw))
    assert second.client_id[0] == sid
    assert second.exists(eph).ephemeralOwner == sid
    # the take-over kicks the first connection off; the session itself lives on
    second.create(base + "/eph2", b"", ephemeral=True)
    observer = make_client()
    assert sorted(observer.get_children(base)) == ["eph", "eph2"]
    second.stop()  # closing the shared session deletes both ephemerals
    assert wait_for_children(observer, base, 0, WAIT)


def test_wrong_password_means_expired_session(make_client, zk_connect, base, caplog):
    owner = make_client()
    sid, pw = owner.client_id
    eph = owner.create(base + "/eph", b"", ephemeral=True)
    bad_pw = bytes(b ^ 0xFF for b in pw)
    states = []
    c = KazooClient(hosts=zk_connect, timeout=10.0, client_id=(sid, bad_pw))
    c.add_listener(states.append)
    try:
        c.start(timeout=WAIT)
        # the server answers the connect with timeout 0 = session expired; kazoo logs that
        # and then starts a brand-new session
        assert "Session has expired" in caplog.text
        assert c.client_id[0] != sid
    finally:
        c.stop()
        c.close()
    # the real owner's session is untouched
    assert owner.exists(eph).ephemeralOwner == sid
    owner.set(eph, b"still-mine")


def test_unknown_session_id_means_expired(zk_connect, caplog):
    states = []
    c = KazooClient(hosts=zk_connect, timeout=10.0, client_id=(0x7AB0000000000001, b"\x01" * 16))
    c.add_listener(states.append)
    try:
        c.start(timeout=WAIT)
        assert "Session has expired" in caplog.text
        assert c.client_id[0] != 0x7AB0000000000001
    finally:
        c.stop()
        c.close()


def test_distinct_sessions_get_distinct_ids(make_client):
    ids = {make_client().client_id[0] for _ in range(3)}
    assert len(ids) == 3


def test_closed_session_cannot_be_resumed(zk_connect, make_client, base, caplog):
    first = make_client()
    sid, pw = first.client_id
    first.stop()
    states = []
    c = KazooClient(hosts=zk_connect, timeout=10.0, client_id=(sid, pw))
    c.add_listener(states.append)
    try:
        c.start(timeout=WAIT)
        assert "Session has expired" in caplog.text
        assert c.client_id[0] != sid
    finally:
        c.stop()
        c.close()
