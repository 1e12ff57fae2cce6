"""The ZooKeeper C client (libzookeeper-mt via cli_mt) against the server.

Return codes are the C client's ZOO_ERRORS: 0 ZOK, -101 ZNONODE, -102 ZNOAUTH,
-103 ZBADVERSION, -108 ZNOCHILDRENFOREPHEMERALS, -110 ZNODEEXISTS, -111 ZNOTEMPTY.
cli_mt's create always stores the 3 bytes "new".
"""
import os
import re

from kazoo.client import KazooClient
from kazoo.security import make_digest_acl

ZOK, ZNONODE, ZNOAUTH, ZNOCHILDRENFOREPHEMERALS, ZNODEEXISTS, ZNOTEMPTY = (
    0, -101, -102, -108, -110, -111)


def test_create_get_set_delete(cli, node):
    assert cli.create(node) == (ZOK, node, None)
    rc, value, st = cli.get(node)
    assert rc == ZOK and value == b"new"
    assert st["version"] == 0 and st["aversion"] == 0 and st["ephemeralOwner"] == 0
    assert st["czxid"] == st["mzxid"] > 0
    rc, st2 = cli.set(node, "hello world")
    assert rc == ZOK and st2["version"] == 1
    assert st2["czxid"] == st["czxid"] and st2["mzxid"] > st["mzxid"]
    rc, value, st3 = cli.get(node)
    assert value == b"hello world" and st3["version"] == 1
    assert cli.delete(node) == ZOK
    rc, value, st = cli.get(node)
    assert rc == ZNONODE and value is None and st is None


def test_errors(cli, node):
    assert cli.create(node)[0] == ZOK
    assert cli.create(node) == (ZNODEEXISTS, None, None)
    assert cli.create(node + "/a/b")[0] == ZNONODE
    assert cli.create(node + "/kid")[0] == ZOK
    assert cli.delete(node) == ZNOTEMPTY
    assert cli.delete(node + "/missing") == ZNONODE
    rc, st = cli.set(node + "/missing", "x")
    assert rc == ZNONODE and st is None
    rc, kids, _ = cli.ls(node + "/missing")
    assert rc == ZNONODE and kids == []


def test_ls_and_ls2(cli, node):
    cli.create(node)
    for k in ("b", "a", "c"):
        assert cli.create(f"{node}/{k}")[0] == ZOK
    rc, kids, _ = cli.ls(node)
    assert rc == ZOK and sorted(kids) == ["a", "b", "c"]
    rc, kids, st = cli.ls(node, two=True)
    assert rc == ZOK and sorted(kids) == ["a", "b", "c"]
    assert st["version"] == 0 and st["ephemeralOwner"] == 0


def test_create2_returns_stat(cli, node):
    rc, name, st = cli.create(node, create2=True)
    assert rc == ZOK and name == node
    assert st["version"] == 0 and st["czxid"] == st["mzxid"] > 0
    rc, _, st_get = cli.get(node)
    assert st_get["czxid"] == st["czxid"]


def test_exists(cli, node):
    assert cli.exists(node) == ZNONODE
    cli.create(node)
    assert cli.exists(node) == ZOK


def test_sequential_and_ephemeral(cli, cli2, node):
    cli.create(node)
    rc, name, _ = cli.create(node + "/s-", flags="s")
    assert rc == ZOK and name == node + "/s-0000000000"
    rc, name, _ = cli.create(node + "/s-", flags="s")
    assert name == node + "/s-0000000001"
    rc, name, st = cli.create(node + "/e", flags="e", create2=True)
    assert rc == ZOK and st["ephemeralOwner"] == cli.session_id
    assert cli.create(node + "/e/kid")[0] == ZNOCHILDRENFOREPHEMERALS
    rc, name, _ = cli.create(node + "/es-", flags="es")
    assert rc == ZOK and re.fullmatch(re.escape(node) + r"/es-\d{10}", name)
    # the other session sees them; they go when the owner's session closes
    assert cli2.exists(node + "/e", watch=True) == ZOK
    cli.close()
    cli2.wait_event("DELETED_EVENT", node + "/e")
    rc, kids, _ = cli2.ls(node)
    assert rc == ZOK and sorted(kids) == ["s-0000000000", "s-0000000001"]


def test_data_watch_event(cli, cli2, node):
    cli.create(node)
    assert cli.get(node)[0] == ZOK  # cli_mt's get always leaves a watch
    assert cli2.set(node, "changed")[0] == ZOK
    cli.wait_event("CHANGED_EVENT", node)
    assert cli2.delete(node) == ZOK  # the data watch was one-shot: re-arm via exists
    assert cli.exists(node, watch=True) == ZNONODE
    assert cli2.create(node)[0] == ZOK
    cli.wait_event("CREATED_EVENT", node)
    assert cli.events.count(f"Watcher CHANGED_EVENT state = CONNECTED_STATE for path {node}") == 1


def test_child_watch_event(cli, cli2, node):
    cli.create(node)
    assert cli.ls(node)[0] == ZOK  # leaves a child watch
    assert cli2.create(node + "/k")[0] == ZOK
    cli.wait_event("CHILD_EVENT", node)


def test_container_and_ttl_modes(cli, cli2, node):
    cli.create(node)
    rc, name, st = cli.create(node + "/cont", flags="c", create2=True)
    assert rc == ZOK and name == node + "/cont" and st["ephemeralOwner"] == 0
    rc, name, _ = cli.create(node + "/ttl", flags="t=300")
    assert rc == ZOK and name == node + "/ttl"
    # the TTL node goes away once its 300 ms have passed and the server's reaper runs
    # (run-against-java.sh runs the reaper every second)
    if cli2.exists(node + "/ttl", watch=True) == ZOK:
        cli2.wait_event("DELETED_EVENT", node + "/ttl",
                        timeout=float(os.environ.get("COMPAT_REAP_WAIT_S", "15")))
    assert cli.exists(node + "/ttl") == ZNONODE


def test_addauth_digest(zk_connect, cli, node):
    cli.create(node)
    k = KazooClient(hosts=zk_connect, timeout=10.0)
    k.start(timeout=10)
    try:
        k.create(node + "/secret", b"s", acl=[make_digest_acl("cuser", "cpass", all=True)])
    finally:
        k.stop()
        k.close()
    rc, value, _ = cli.get(node + "/secret")
    assert rc == ZNOAUTH and value is None
    assert cli.set(node + "/secret", "x")[0] == ZNOAUTH
    cli.addauth("digest", "cuser:cpass")
    rc, value, _ = cli.get(node + "/secret")
    assert rc == ZOK and value == b"s"


def test_sync_and_config(cli):
    assert cli.sync("/") == ZOK
    cli.send("config")
    line = cli._until(r"^/zookeeper/config: rc = -?\d+$")
    assert cli._rc(line) == ZOK


def test_c_and_kazoo_see_the_same_data(zk_connect, cli, node):
    cli.create(node)
    cli.set(node, "from-c")
    k = KazooClient(hosts=zk_connect, timeout=10.0)
    k.start(timeout=10)
    try:
        data, st = k.get(node)
        assert data == b"from-c" and st.version == 1
        k.set(node, "from-kazoo".encode())
    finally:
        k.stop()
        k.close()
    rc, value, st = cli.get(node)
    assert value == b"from-kazoo" and st["version"] == 2
