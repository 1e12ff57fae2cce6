"""CRUD through kazoo, checking every Stat field that a server computes."""
import time

import pytest
from kazoo.exceptions import (BadVersionError, NoNodeError, NodeExistsError,
                              NotEmptyError)


def test_create_then_get_returns_data_and_fresh_stat(zk, base):
    path = zk.create(base + "/n", b"hello")
    assert path == base + "/n"
    data, st = zk.get(path)
    assert data == b"hello"
    assert st.version == 0
    assert st.cversion == 0
    assert st.aversion == 0
    assert st.numChildren == 0
    assert st.dataLength == 5
    assert st.ephemeralOwner == 0
    assert st.czxid > 0
    # a node nobody touched since creation: all three zxids are the creating zxid
    assert st.mzxid == st.czxid
    assert st.pzxid == st.czxid
    assert st.ctime == st.mtime
    # ctime is milliseconds since the epoch, close to now (server on the same machine)
    assert abs(st.ctime / 1000.0 - time.time()) < 60


def test_empty_data_roundtrip(zk, base):
    zk.create(base + "/empty", b"")
    data, st = zk.get(base + "/empty")
    assert data == b""
    assert st.dataLength == 0


def test_set_bumps_version_and_mzxid_only(zk, base):
    p = zk.create(base + "/n", b"a")
    _, before = zk.get(p)
    st = zk.set(p, b"bbb")
    assert st.version == 1
    assert st.dataLength == 3
    assert st.czxid == before.czxid
    assert st.mzxid > before.mzxid
    assert st.ctime == before.ctime
    assert st.mtime >= before.mtime
    assert st.cversion == 0 and st.aversion == 0
    # pzxid only follows children changes
    assert st.pzxid == before.pzxid
    data, st2 = zk.get(p)
    assert data == b"bbb"
    assert st2 == st


def test_set_with_version_check(zk, base):
    p = zk.create(base + "/n", b"a")
    with pytest.raises(BadVersionError):
        zk.set(p, b"x", version=3)
    assert zk.get(p)[0] == b"a"
    st = zk.set(p, b"x", version=0)
    assert st.version == 1
    st = zk.set(p, b"y", version=1)
    assert st.version == 2
    # -1 means "any version"
    st = zk.set(p, b"z", version=-1)
    assert st.version == 3


def test_children_change_parent_cversion_numchildren_pzxid(zk, base):
    _, p0 = zk.get(base)
    child = zk.create(base + "/c", b"")
    _, cst = zk.get(child)
    _, p1 = zk.get(base)
    assert p1.cversion == p0.cversion + 1
    assert p1.numChildren == 1
    assert p1.pzxid == cst.czxid
    assert p1.version == p0.version  # the parent's data is untouched
    assert p1.mzxid == p0.mzxid
    zk.set(child, b"data")  # a child's data change is not a children change
    _, p2 = zk.get(base)
    assert p2.cversion == p1.cversion and p2.pzxid == p1.pzxid
    zk.delete(child)
    _, p3 = zk.get(base)
    assert p3.cversion == p1.cversion + 1
    assert p3.numChildren == 0
    assert p3.pzxid > p1.pzxid  # the delete's zxid


def test_exists_returns_stat_or_none(zk, base):
    assert zk.exists(base + "/missing") is None
    zk.create(base + "/there", b"12")
    st = zk.exists(base + "/there")
    assert st is not None and st.dataLength == 2


def test_create_existing_node_fails(zk, base):
    zk.create(base + "/dup", b"1")
    with pytest.raises(NodeExistsError):
        zk.create(base + "/dup", b"2")
    assert zk.get(base + "/dup")[0] == b"1"


def test_create_without_parent_fails_and_makepath_works(zk, base):
    with pytest.raises(NoNodeError):
        zk.create(base + "/a/b/c", b"x")
    zk.create(base + "/a/b/c", b"x", makepath=True)
    assert zk.get(base + "/a/b/c")[0] == b"x"
    assert zk.get_children(base + "/a") == ["b"]


def test_delete_rules(zk, base):
    p = zk.create(base + "/d", b"")
    zk.create(p + "/kid", b"")
    with pytest.raises(NotEmptyError):
        zk.delete(p)
    with pytest.raises(BadVersionError):
        zk.delete(p + "/kid", version=7)
    zk.delete(p + "/kid", version=0)
    zk.delete(p)
    assert zk.exists(p) is None
    with pytest.raises(NoNodeError):
        zk.delete(p)


def test_get_and_set_missing_node(zk, base):
    with pytest.raises(NoNodeError):
        zk.get(base + "/nope")
    with pytest.raises(NoNodeError):
        zk.set(base + "/nope", b"x")
    with pytest.raises(NoNodeError):
        zk.get_children(base + "/nope")


def test_create2_returns_stat(zk, base):
    path, st = zk.create(base + "/c2", b"abc", include_data=True)
    assert path == base + "/c2"
    assert st.version == 0 and st.dataLength == 3 and st.numChildren == 0
    assert zk.exists(path) == st


def test_get_children_sorted_set_and_include_data(zk, base):
    names = ["b", "a", "c"]
    for n in names:
        zk.create(f"{base}/{n}", n.encode())
    assert sorted(zk.get_children(base)) == ["a", "b", "c"]
    kids, st = zk.get_children(base, include_data=True)
    assert sorted(kids) == ["a", "b", "c"]
    assert st.numChildren == 3
    assert st.cversion == 3


def test_large_value_roundtrip(zk, base):
    blob = bytes(range(256)) * 2000  # 512000 bytes, under the 1 MiB jute.maxbuffer default
    zk.create(base + "/big", blob)
    data, st = zk.get(base + "/big")
    assert data == blob
    assert st.dataLength == len(blob)


def test_unicode_path_and_binary_data(zk, base):
    p = zk.create(base + "/ünïcødé-节点", b"\x00\xff\x00")
    assert p == base + "/ünïcødé-节点"
    assert zk.get(p)[0] == b"\x00\xff\x00"
    assert "ünïcødé-节点" in zk.get_children(base)


def test_zxids_increase_monotonically(zk, base):
    zxids = []
    for i in range(5):
        p = zk.create(f"{base}/z{i}", b"")
        zxids.append(zk.exists(p).czxid)
    assert zxids == sorted(zxids) and len(set(zxids)) == 5


def test_system_nodes(zk):
    kids = zk.get_children("/zookeeper")
    assert "quota" in kids
    assert "config" in kids
    assert "zookeeper" in zk.get_children("/")


def test_sync(zk, base):
    assert zk.sync(base) == base
    # sync does not check that the path exists
    assert zk.sync(base + "/does-not-exist") == base + "/does-not-exist"
