"""FerroKeeper's transaction log against Debian's Java ZooKeeper 3.8, both ways.

1. Java's TxnLogToolkit prints every txn of a log FerroKeeper wrote (no CRC error, right count).
2. Java ZooKeeper starts on a dataDir holding only FerroKeeper's log, replays it, and serves the
   resulting tree; afterwards FerroKeeper's reader reads the directory Java wrote to as well.
3. FerroKeeper's reader decodes every txn of a log Java ZooKeeper wrote under a Kazoo workload,
   and agrees with TxnLogToolkit on each txn's session, cxid, zxid and type.
4. A Java log cut inside its last entry: FerroKeeper reports the torn tail, truncates it, and
   both TxnLogToolkit and Java ZooKeeper accept the truncated log.
"""
import os

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError

import kazoo_ext
from conftest import copy_tree, log_files, run, toolkit, txn_keys

EXPECTED_PREALLOCATED_SIZE = 64 * 1024 * 1024 + 16


def dump(dump_txnlog, data_dir, *args):
    r = run([dump_txnlog, data_dir, *args])
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def start_java(java, data_dir, tmp_path, log_level="warn"):
    """Java ZooKeeper on an existing dataDir. trust.empty: the dir may hold logs but no snapshot."""
    zk = java.JavaZooKeeper(extra_cfg={"dataDir": str(data_dir)},
                            extra_props={"zookeeper.snapshot.trust.empty": "true",
                                         "org.slf4j.simpleLogger.defaultLogLevel": log_level},
                            base_dir=str(tmp_path))
    return zk.start()


def java_log_text(zk_java):
    with open(os.path.join(zk_java.dir, "zk.log"), encoding="utf-8", errors="replace") as f:
        return f.read()


def client(address):
    zk = KazooClient(hosts=address, timeout=15)
    zk.start(timeout=30)
    return zk


@pytest.fixture(scope="module")
def ferro_log(tmp_path_factory, write_txnlog):
    """A dataDir with a log written by FerroKeeper's FileTxnLog, and the txns it says it wrote."""
    data = tmp_path_factory.mktemp("ferro") / "data"
    r = run([write_txnlog, str(data)])
    assert r.returncode == 0, r.stderr.decode()
    lines = r.stdout.decode().splitlines()
    assert lines[-1] == "19 txns", lines
    expected = [tuple(line.split()[1:3]) for line in lines[:-1]]  # (0xzxid, op)
    return data, [(z[2:], op) for z, op in expected]


def test_java_toolkit_reads_our_log(java, ferro_log):
    data, expected = ferro_log
    files = log_files(str(data / "version-2"))
    assert [os.path.basename(f) for f in files] == ["log.100000001", "log.10000000f"]
    seen = []
    for f in files:
        assert os.path.getsize(f) == EXPECTED_PREALLOCATED_SIZE, f
        rc, out, err = toolkit(f)
        assert rc == 0, out + err
        assert "CRC ERROR" not in out, out
        assert "Exception" not in out + err, out + err
        keys = txn_keys(out)
        assert "EOF reached after %d txns." % len(keys) in out, out
        seen += keys
    assert [(z, op) for _, _, z, op in seen] == expected


def test_java_server_replays_our_log(java, ferro_log, tmp_path, dump_txnlog):
    data = copy_tree(str(ferro_log[0]), str(tmp_path / "data"))
    zk_java = start_java(java, data, tmp_path, log_level="info")
    try:
        assert "19 txns loaded" in java_log_text(zk_java)
        assert "highest zxid is 0x100000013" in java_log_text(zk_java)
        zk = client(zk_java.address)
        try:
            value, stat = zk.get("/fk")
            assert value == b"v2"
            assert (stat.version, stat.aversion) == (2, 1)
            assert (stat.czxid, stat.mzxid) == (0x100000002, 0x10000000A)
            acl, _ = zk.get_acls("/fk")
            assert [(a.perms, a.id.scheme, a.id.id) for a in acl] == [(15, "world", "anyone")]
            assert zk.get_children("/fk") == ["m1"]
            value, stat = zk.get("/fk/m1")
            assert value == b"x" * 2000 and stat.version == 1
            assert zk.get("/fk-ttl")[0] == b"ttl"
            for gone in ["/fk/eph", "/fk/s2-eph", "/fk/seq-0000000001", "/fk-cont", "/fk/never"]:
                assert zk.exists(gone) is None, gone
            # Java carries on after the last replayed zxid.
            zk.create("/after-java", b"j")
        finally:
            zk.stop()
            zk.close()
    finally:
        zk_java.stop()
    # The directory now also holds Java's snapshot and Java's own log file: read all of it.
    rc, out, err = dump(dump_txnlog, data)
    assert rc == 0, err
    keys = txn_keys(out)
    zxids = [int(z, 16) for _, _, z, _ in keys]
    assert zxids[:19] == list(range(0x100000001, 0x100000014))
    assert len(keys) > 19 and zxids == sorted(set(zxids))
    assert any(op == "create" for _, _, _, op in keys[19:])
    assert out.splitlines()[-1] == "%d txns" % len(keys)


def kazoo_workload(address):
    zk = client(address)
    other = client(address)
    try:
        zk.create("/j", b"v0")
        zk.create("/j/e", b"eph", ephemeral=True, include_data=True)  # create2
        seq = zk.create("/j/s-", b"", sequence=True)
        kazoo_ext.create_container(zk, "/j/c")
        zk.create("/j/c/child", b"c")
        kazoo_ext.create_ttl(zk, "/j/t", b"ttl", ttl_ms=3600000)
        zk.set("/j", b"v1")
        zk.set_acls("/j", [zk.get_acls("/j")[0][0]])
        t = zk.transaction()
        t.create("/j/m", b"m")
        t.set_data("/j", b"v2")
        t.check("/j", 2)
        t.delete(seq)
        assert not any(isinstance(r, Exception) for r in t.commit())
        t = zk.transaction()
        t.create("/j/never", b"")
        t.delete("/does-not-exist")
        assert any(isinstance(r, Exception) for r in t.commit())
        with pytest.raises(NodeExistsError):
            zk.create("/j", b"")  # an error txn
        other.create("/j/o", b"x" * 300000)
        for i in range(200):
            other.set("/j/o", b"%d" % i)
        other.create("/j/oe", b"", ephemeral=True)
        zk.delete("/j/c/child")
        zk.delete("/j/e")
    finally:
        other.stop()
        other.close()
        zk.stop()
        zk.close()


@pytest.fixture(scope="module")
def java_log(java, tmp_path_factory):
    """A dataDir written by Java ZooKeeper under a Kazoo workload (server stopped)."""
    base = tmp_path_factory.mktemp("java")
    data = base / "data"
    data.mkdir()
    zk_java = start_java(java, data, base)
    try:
        kazoo_workload(zk_java.address)
    finally:
        zk_java.stop()
    return data


def test_our_reader_reads_java_log(java_log, dump_txnlog):
    files = log_files(str(java_log / "version-2"))
    assert files, "Java wrote no log"
    java_keys = []
    for f in files:
        assert os.path.getsize(f) % (64 * 1024 * 1024) == 16, "Java's preallocation differs: " + f
        rc, out, err = toolkit(f)
        assert rc == 0 and "CRC ERROR" not in out, out + err
        java_keys += txn_keys(out)
    assert len(java_keys) > 200
    ops = {op for _, _, _, op in java_keys}
    for op in ["createSession", "create", "create2", "createContainer", "createTtl", "setData",
               "setACL", "multi", "error", "delete", "closeSession"]:
        assert op in ops, (op, ops)

    rc, out, err = dump(dump_txnlog, java_log)
    assert rc == 0, err
    assert err == "", err
    ours = txn_keys(out)
    assert ours == java_keys
    assert out.splitlines()[-1] == "%d txns" % len(ours)
    # ZooKeeper 3.8 logs a TxnDigest after each txn but error txns (digest.enabled defaults
    # to true), and FerroKeeper's reader returns them.
    for line in out.splitlines()[:-1]:
        assert (" digest 2:0x" in line) == (txn_keys(line)[0][3] != "error"), line
    # From a zxid on, as recovery after a snapshot reads.
    mid = int(java_keys[len(java_keys) // 2][2], 16)
    rc, out, err = dump(dump_txnlog, java_log, "--after", hex(mid))
    assert rc == 0, err
    assert txn_keys(out) == [k for k in java_keys if int(k[2], 16) > mid]


# Where write_txnlog's 19 txns are: log.100000001 holds 0x100000001..0x10000000e, log.10000000f
# the rest. Cuts: inside the first file (the second is deleted), at its last txn, inside the
# second file, at the very last txn.
TRUNCATE_CUTS = [0x100000005, 0x10000000E, 0x100000011, 0x100000013]


@pytest.mark.parametrize("cut", TRUNCATE_CUTS, ids=hex)
def test_java_toolkit_reads_our_truncated_log(java, ferro_log, tmp_path, truncate_txnlog, cut):
    """FileTxnLog.truncate as a learner runs it on TRUNC, then 3 appends after it: Java's
    TxnLogToolkit reads every file to its end without a CRC error and sees exactly the txns up
    to the cut followed by the new ones."""
    data = copy_tree(str(ferro_log[0]), str(tmp_path / "data"))
    r = run([truncate_txnlog, data, hex(cut), "--append", "3"])
    assert r.returncode == 0, r.stderr.decode()
    out = r.stdout.decode()
    assert "truncated to %s found=true" % hex(cut) in out, out
    files = log_files(os.path.join(data, "version-2"))
    want_files = ["log.100000001"] + (["log.10000000f"] if cut >= 0x10000000F else [])
    assert [os.path.basename(f) for f in files] == want_files + ["log.%x" % (cut + 1)]
    seen = []
    for f in files:
        rc, out, err = toolkit(f)
        assert rc == 0, out + err
        assert "CRC ERROR" not in out and "Exception" not in out + err, out + err
        keys = txn_keys(out)
        assert "EOF reached after %d txns." % len(keys) in out, out
        seen += keys
    zxids = [int(z, 16) for _, _, z, _ in seen]
    assert zxids == list(range(0x100000001, cut + 4))
    assert [op for _, _, _, op in seen[-3:]] == ["createSession"] * 3


def test_java_server_replays_our_truncated_log(java, ferro_log, tmp_path, truncate_txnlog):
    """Java ZooKeeper starts on a dataDir whose log we truncated (cut inside the second file,
    the first left whole) and appended to: it replays exactly up to the last appended zxid and
    serves the tree as of the cut."""
    data = copy_tree(str(ferro_log[0]), str(tmp_path / "data"))
    cut = 0x10000000F  # the second file's first txn: everything up to the failed multi
    r = run([truncate_txnlog, data, hex(cut), "--append", "2"])
    assert r.returncode == 0, r.stderr.decode()
    zk_java = start_java(java, data, tmp_path, log_level="info")
    try:
        text = java_log_text(zk_java)
        assert "highest zxid is %s" % hex(cut + 2) in text, text[-3000:]
        assert "17 txns loaded" in text, text[-3000:]
        zk = client(zk_java.address)
        try:
            assert zk.get("/fk")[0] == b"v2"
            assert zk.exists("/fk/m1") is not None
        finally:
            zk.stop()
            zk.close()
    finally:
        zk_java.stop()


def test_torn_java_log_is_truncated_and_java_accepts_it(java, java_log, dump_txnlog, tmp_path):
    data = copy_tree(str(java_log), str(tmp_path / "data"))
    last = log_files(os.path.join(data, "version-2"))[-1]
    rc, out, _ = dump(dump_txnlog, data)
    assert rc == 0
    keys = txn_keys(out)
    # Where the last txn starts: cut 5 bytes into it, keeping the file's preallocated size
    # (zeros after the cut) as a crash mid-write would leave it.
    rc, out, _ = toolkit(last)
    in_last = len(txn_keys(out))
    assert in_last >= 1
    with open(last, "r+b") as f:
        content = f.read()
        end = _end_of_entries(content)
        start = _entry_offsets(content)[-1]
        f.seek(start + 5)
        f.write(b"\0" * (end - start - 5))
    rc, out, err = dump(dump_txnlog, data)
    assert rc == 3, (rc, err)
    assert "torn tail" in err and os.path.basename(last) in err and "offset %d" % start in err, err
    assert txn_keys(out) == keys[:-1]
    rc, out, err = dump(dump_txnlog, data, "--truncate-torn-tail")
    assert rc == 0, err
    assert txn_keys(out) == keys[:-1]
    assert os.path.getsize(last) == start
    rc, out, err = dump(dump_txnlog, data)
    assert rc == 0 and err == "", err
    # Java reads the truncated file and starts on the directory.
    rc, out, err = toolkit(last)
    assert rc == 0 and "EOF reached after %d txns." % (in_last - 1) in out, out + err
    zk_java = start_java(java, data, tmp_path)
    try:
        zk = client(zk_java.address)
        try:
            assert zk.get("/j")[0] == b"v2"
        finally:
            zk.stop()
            zk.close()
    finally:
        zk_java.stop()


def test_java_restart_after_torn_write_is_read(java, java_log, dump_txnlog, tmp_path):
    """What a Java crash mid-write and a restart leave: an older file with a torn tail and a new
    file that resumes right after its last whole txn. Java skips the tear; so do we (loudly)."""
    data = copy_tree(str(java_log), str(tmp_path / "data"))
    rc, out, _ = dump(dump_txnlog, data)
    assert rc == 0
    keys = txn_keys(out)
    last = log_files(os.path.join(data, "version-2"))[-1]
    with open(last, "r+b") as f:
        content = f.read()
        start = _entry_offsets(content)[-1]
        f.seek(start + 5)
        f.write(b"\0" * (_end_of_entries(content) - start - 5))
    zk_java = start_java(java, data, tmp_path)
    try:
        zk = client(zk_java.address)
        try:
            zk.create("/after-tear", b"t")
        finally:
            zk.stop()
            zk.close()
    finally:
        zk_java.stop()
    files = log_files(os.path.join(data, "version-2"))
    assert files[-2] == last
    assert int(files[-1].rsplit(".", 1)[1], 16) == int(keys[-2][2], 16) + 1
    rc, out, err = dump(dump_txnlog, data)
    assert rc == 0, err
    assert "superseded" in err and os.path.basename(last) in err and "offset %d" % start in err, err
    ours = txn_keys(out)
    assert ours[:len(keys) - 1] == keys[:-1]
    new = [op for _, _, _, op in ours[len(keys) - 1:]]
    assert new == ["createSession", "create", "closeSession"], new
    # Strict and truncating modes agree: the superseded tail is no torn tail of the log.
    rc2, out2, err2 = dump(dump_txnlog, data, "--truncate-torn-tail")
    assert (rc2, out2) == (0, out), err2
    assert os.path.getsize(last) == len(content)


def _entry_offsets(content):
    """Offsets of the entries of a log file's bytes (after the 16-byte header)."""
    offsets = []
    pos = 16
    while pos + 12 <= len(content):
        length = int.from_bytes(content[pos + 8:pos + 12], "big", signed=True)
        if length <= 0:
            break
        offsets.append(pos)
        pos += 12 + length + 1
    return offsets


def _end_of_entries(content):
    offsets = _entry_offsets(content)
    last = offsets[-1]
    return last + 12 + int.from_bytes(content[last + 8:last + 12], "big") + 1
