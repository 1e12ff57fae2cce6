"""Self-checks of the harness: that its instruments can see what they are meant to see.
These run against --server-a (they need a server that writes ZooKeeper's files)."""

import copy
import os
import shutil

import pytest

import toolkit
from servers import Server, ServerError
from test_crash import Model, Writer, verify  # noqa: F401 (Writer: import check)
from treedump import check_consistent, diff_nodes, dump_tree
from workload import close, connect


def test_dump_sees_null_vs_empty_and_every_stat_field(settings, testdir, make_server):
    s = make_server(settings.server_a, "A", os.path.join(testdir, "data")).start()
    c = connect(s.port)
    c.create("/h", b"")
    c.create("/h/null", None)
    c.create("/h/empty", b"")
    c.set("/h/empty", b"")
    d = dump_tree(c, s.port)
    close(c)
    n = d["nodes"]
    assert n["/h/null"]["data"] is None
    assert n["/h/empty"]["data"] == b""
    assert n["/h/empty"]["stat"]["version"] == 1
    assert set(n) >= {"/", "/zookeeper", "/zookeeper/config", "/zookeeper/quota", "/h"}
    assert not check_consistent(d)
    # the comparison sees each kind of difference
    for mutate, expect in (
            (lambda x: x["nodes"]["/h/null"].__setitem__("data", b""), "/h/null data"),
            (lambda x: x["nodes"]["/h/empty"]["stat"].__setitem__("mtime", 1), "/h/empty mtime"),
            (lambda x: x["nodes"]["/h"]["acl"].append((1, "ip", "10.0.0.1")), "/h acl"),
            (lambda x: x["nodes"].pop("/h/empty"), "only in A: /h/empty")):
        other = copy.deepcopy(d)
        mutate(other)
        diffs = diff_nodes(d, other)
        assert diffs and diffs[0].startswith(expect), diffs
    s.stop()


def test_restart_on_empty_dir_is_detected(settings, testdir, make_server):
    """What a server that keeps nothing on disk looks like to the migration checks."""
    a = make_server(settings.server_a, "A", os.path.join(testdir, "data")).start()
    c = connect(a.port)
    c.create("/kept", b"value")
    close(c)
    c = connect(a.port)
    before = dump_tree(c, a.port)
    close(c)
    zxid = a.zxid()
    a.stop()
    b = make_server(settings.server_a, "B", os.path.join(testdir, "empty")).start()
    assert b.zxid() < zxid
    c = connect(b.port)
    after = dump_tree(c, b.port)
    close(c)
    b.stop()
    assert "only in A: /kept" in diff_nodes(before, after)


def test_toolkit_checks_reject_corrupt_files(settings, testdir, make_server):
    s = make_server(settings.server_a, "A", os.path.join(testdir, "data")).start()
    c = connect(s.port)
    for i in range(30):
        c.create("/t%d" % i, b"payload %d" % i)
    close(c)
    s.stop()
    good = toolkit.check_newest(s.snap_dir, s.txn_dir)
    assert good["log"]["count"] >= 30
    log, snap = toolkit.newest(s.txn_dir, "log"), toolkit.newest(s.snap_dir, "snapshot")
    bad = os.path.join(testdir, "bad")
    os.makedirs(bad)

    # a txn log with one flipped byte inside its first record
    blog = os.path.join(bad, os.path.basename(log))
    shutil.copy(log, blog)
    with open(blog, "r+b") as f:
        f.seek(16 + 12 + 20)
        b = f.read(1)
        f.seek(16 + 12 + 20)
        f.write(bytes([b[0] ^ 0x55]))
    with pytest.raises(toolkit.ToolkitError, match="CRC|checksum"):
        toolkit.check_txn_log(blog)
    with pytest.raises(toolkit.ToolkitError, match="checksum"):
        toolkit.scan_txn_log(blog)
    # a txn log that is not one
    with open(os.path.join(bad, "log.1"), "wb") as f:
        f.write(b"garbage!" * 4)
    with pytest.raises(toolkit.ToolkitError):
        toolkit.check_txn_log(os.path.join(bad, "log.1"))

    # a snapshot with one flipped byte (SnapshotFormatter alone would accept it)
    raw = open(snap, "rb").read()
    bsnap = os.path.join(bad, os.path.basename(snap))
    with open(bsnap, "wb") as f:
        f.write(raw[:len(raw) // 2] + bytes([raw[len(raw) // 2] ^ 0x01]) + raw[len(raw) // 2 + 1:])
    with pytest.raises(toolkit.ToolkitError, match="Adler"):
        toolkit.check_snapshot(bsnap)
    # a truncated snapshot: not loadable, and skipped by newest_valid_snapshot
    with open(bsnap, "wb") as f:
        f.write(raw[:len(raw) - 7])
    with pytest.raises(toolkit.ToolkitError):
        toolkit.check_snapshot(bsnap)
    assert toolkit.newest_valid_snapshot(bad) == (None, [bsnap])


class _St:
    def __init__(self, czxid, mzxid=None):
        self.czxid, self.mzxid = czxid, mzxid if mzxid is not None else czxid


def _node(data, czxid, mzxid, version, children=()):
    return {"data": data, "acl": [], "children": sorted(children),
            "stat": {"czxid": czxid, "mzxid": mzxid, "pzxid": max([czxid] + [0]),
                     "ctime": 0, "mtime": 0, "version": version, "cversion": len(children),
                     "aversion": 0, "ephemeralOwner": 0, "dataLength": len(data or b""),
                     "numChildren": len(children)}}


class _W:
    def __init__(self, pending):
        self.pending, self.acks = pending, []


def test_crash_verifier_catches_lost_and_torn_writes():
    """verify() on hand-made trees: accepts the legal outcomes, reports the illegal ones."""
    def setup():
        m = Model()
        m.add_dir("/crash", _St(1))
        m.add_dir("/crash/w", _St(2))
        m.created("/crash/w/a", b"a0", 3)
        m.set("/crash/w/a", b"a1", 4)
        return m

    def tree(a_node, extra=()):
        kids = ["a"] + [e[0] for e in extra]
        nodes = {"/crash": _node(b"", 1, 1, 0, ["w"]), "/crash/w": _node(b"", 2, 2, 0, kids),
                 "/crash/w/a": a_node}
        nodes["/crash/w"]["stat"]["pzxid"] = 9
        for name, n in extra:
            nodes["/crash/w/" + name] = n
        return {"zxid": 9, "nodes": nodes}

    ok = tree(_node(b"a1", 3, 4, 1))
    probs = []
    verify(setup(), [_W(None)], ok, probs)
    assert probs == []
    # a lost acknowledged setData
    probs = []
    verify(setup(), [_W(None)], tree(_node(b"a0", 3, 3, 0)), probs)
    assert any("acknowledged" in p for p in probs), probs
    # an in-flight setData that was applied: accepted, and folded into the model
    m = setup()
    w = _W({"kind": "set", "path": "/crash/w/a", "value": b"a2"})
    probs = []
    verify(m, [w], tree(_node(b"a2", 3, 5, 2)), probs)
    assert probs == [] and m.nodes["/crash/w/a"]["value"] == b"a2"
    # a multi (create b + set a) half applied
    w = _W({"kind": "multi", "path": "/crash/w/b", "set_path": "/crash/w/a", "value": b"m"})
    probs = []
    verify(setup(), [w], tree(_node(b"a1", 3, 4, 1), [("b", _node(b"m", 5, 5, 0))]), probs)
    assert any("half applied" in p for p in probs), probs
    # a node nobody created
    probs = []
    verify(setup(), [_W(None)], tree(_node(b"a1", 3, 4, 1), [("zz", _node(b"", 6, 6, 0))]), probs)
    assert any("nobody created" in p for p in probs), probs


def test_missing_server_binary_fails(testdir):
    s = Server("fk", testdir, os.path.join(testdir, "d"), fk_bin=os.path.join(testdir, "nope"))
    with pytest.raises(ServerError, match="not found"):
        s.start()
