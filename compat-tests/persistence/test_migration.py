"""Migration A -> B -> A on the same data directories.

Server A (--server-a) starts on a fresh dataDir, receives the varied data set of
workload.populate (about 420 txns, snapCount small so it snapshots and rolls logs several
times) while a raw session owns ephemerals, and is stopped gracefully (SIGTERM) with that
session still open. Server B (--server-b) then starts on the same directories and must

  * report the same last zxid as A had (srvr), before any client connects;
  * let the open session resume by id and password (same session id) with its ephemerals,
    and resuming is no transaction (zxid unchanged);
  * serve exactly A's tree: every node's data (null vs empty), ACL and every Stat field,
    times and zxids included;
  * continue zxids with neither gap nor reuse (each new write's zxid is the previous + 1),
    continue versions and sequential-node counters (parent cversion);
  * close the resumed session, deleting its ephemerals.
A's and B's files must pass ZooKeeper's own TxnLogToolkit and SnapshotFormatter, and the
txn logs in the directory must hold one consecutive zxid history ending at the server's
last zxid. Finally a server of A's kind starts on the directory again and must serve
exactly B's final tree (so with A=java, B=fk the Java server reads FerroKeeper's files).

Run twice: dataLogDir unset (logs in dataDir) and dataLogDir separate from dataDir.
"""

import os
import time

import pytest

import toolkit
from rawsession import RawSession
from treedump import check_consistent, diff_nodes, dump_tree
from workload import close, connect, populate

ROOT = "/persist"


def all_zxids(dump):
    return [n["stat"][f] for n in dump["nodes"].values() for f in ("czxid", "mzxid", "pzxid")]


def assert_same_tree(before, after, what):
    diffs = diff_nodes(before, after)
    assert not diffs, "%s: %d differences:\n  %s" % (what, len(diffs), "\n  ".join(diffs))


def assert_history(server, last_zxid, what):
    """ZooKeeper's tools read the newest files; the logs hold every zxid up to last_zxid."""
    newest = toolkit.check_newest(server.snap_dir, server.txn_dir)
    logs = toolkit.check_history(server.txn_dir)
    assert logs[-1][2] == last_zxid == newest["log"]["zxids"][-1], (
        "%s: the txn logs end at zxid %#x (TxnLogToolkit: %#x) but the server's last zxid "
        "was %#x" % (what, logs[-1][2], newest["log"]["zxids"][-1], last_zxid))
    return logs


def assert_layout(data_dir, log_dir):
    """With a separate dataLogDir: snapshots only in dataDir, txn logs only in dataLogDir."""
    if log_dir is None:
        return
    d2, l2 = os.path.join(data_dir, "version-2"), os.path.join(log_dir, "version-2")
    assert not toolkit.txn_logs(d2), "txn logs written to dataDir although dataLogDir is set"
    assert not toolkit.snapshots(l2), "snapshots written to dataLogDir"
    assert toolkit.txn_logs(l2), "no txn log in dataLogDir"


@pytest.mark.parametrize("layout", ["same-dir", "separate-logdir"])
def test_migration(settings, testdir, make_server, note, layout):
    t0 = time.monotonic()
    data = os.path.join(testdir, "data")
    logdir = os.path.join(testdir, "datalog") if layout == "separate-logdir" else None

    # ---- A: write the data set ---------------------------------------------------------
    a = make_server(settings.server_a, "A", data, logdir).start()
    owner = RawSession(a.port, timeout_ms=30000)
    assert owner.connect() > 0, "A refused a new session"
    c = connect(a.port)
    facts = populate(c, ROOT, owner, seed=settings.seed)
    doomed = connect(a.port)
    doomed.create(facts["doomed_ephemeral"], b"gone soon", ephemeral=True)
    close(doomed)
    assert c.exists(facts["doomed_ephemeral"]) is None
    close(c)

    dumper = connect(a.port)
    dump_a = dump_tree(dumper, a.port)
    close(dumper)
    assert not check_consistent(dump_a), check_consistent(dump_a)
    nodes = dump_a["nodes"]
    assert nodes[ROOT + "/null"]["data"] is None and nodes[ROOT + "/empty"]["data"] == b""
    for p in ("/zookeeper", "/zookeeper/quota", "/zookeeper/config"):
        assert p in nodes, "dump lacks %s" % p
    for p in facts["owner_ephemerals"]:
        assert nodes[p]["stat"]["ephemeralOwner"] == owner.session_id
    assert nodes[ROOT + "/container/child"]["data"] == b"keeps the container"
    assert len(nodes) > 100
    qs = nodes["/zookeeper/quota" + ROOT + "/bulk/zookeeper_stats"]["data"]
    assert qs.startswith(b"count=61,"), "quota stats: %r" % qs
    owner.ping()  # the session was active just before the stop
    zxid_a = a.zxid()
    assert zxid_a > max(all_zxids(dump_a))
    assert a.digest_mismatches() == 0, "A disagrees with the digests it logged itself"
    a.stop()
    owner.drop()  # the TCP connection only: the session stays open
    assert_layout(data, logdir)
    logs_a = assert_history(a, zxid_a, "after A")
    assert len(logs_a) >= 3, "snapCount=%d but only %d txn logs (no log roll?)" % (
        settings.snap_count, len(logs_a))
    assert len(toolkit.snapshots(a.snap_dir)) >= 3

    # ---- B: same directories ------------------------------------------------------------
    b = make_server(settings.server_b, "B", data, logdir).start()
    assert b.zxid() == zxid_a, "B's last zxid %#x, A's was %#x" % (b.zxid(), zxid_a)
    oc = connect(b.port, auth=(), client_id=(owner.session_id, owner.passwd))
    assert oc.client_id[0] == owner.session_id, (
        "resuming session %#x on B gave a different session %#x (expired or unknown on B)"
        % (owner.session_id, oc.client_id[0]))
    for p in facts["owner_ephemerals"]:
        st = oc.exists(p)
        assert st is not None, "ephemeral %s of the open session is gone on B" % p
        assert st.ephemeralOwner == owner.session_id
    assert b.zxid() == zxid_a, "resuming a session changed the zxid"

    dumper = connect(b.port)
    dump_b = dump_tree(dumper, b.port)
    assert_same_tree(dump_a, dump_b, "%s -> %s" % (a.name, b.name))

    # zxids continue: every write's zxid is exactly the previous + 1, above all of A's
    z = b.zxid()
    assert z > zxid_a
    path, st = dumper.create(ROOT + "/after-restart", b"x", include_data=True)
    assert st.czxid == z + 1, "first write on B got zxid %#x, expected %#x" % (st.czxid, z + 1)
    assert st.czxid > max(all_zxids(dump_a))
    z = st.czxid
    st = dumper.set(ROOT + "/after-restart", b"y")
    assert st.mzxid == z + 1
    z = st.mzxid
    ctr = nodes[ROOT + "/counter"]["stat"]
    st = dumper.set(ROOT + "/counter", b"after restart")
    assert (st.mzxid, st.version) == (z + 1, ctr["version"] + 1)
    z = st.mzxid
    # sequential counters continue: the suffix is the parent's count of child creations,
    # which a Stat reports as cversion = 2 * creations - numChildren (DataNode.copyStat)
    seq = facts["seq_parent"]
    sst = nodes[seq]["stat"]
    p = dumper.create(seq + "/item-", b"", sequence=True)
    assert p == "%s/item-%010d" % (seq, (sst["cversion"] + sst["numChildren"]) // 2), (
        "sequential name after restart: %s (parent Stat before: %s)" % (p, sst))
    rst = dumper.exists(ROOT)
    p, st = dumper.create(ROOT + "/ttlseq-", b"", sequence=True, include_data=True)
    assert p == "%s/ttlseq-%010d" % (ROOT, (rst.cversion + rst.numChildren) // 2), p
    assert st.czxid == z + 2
    z = st.czxid

    # the resumed session is fully alive: it can write, and closing it deletes its ephemerals
    oc.create(ROOT + "/eph-on-b", b"", ephemeral=True)
    close(oc)
    for p in facts["owner_ephemerals"] + [ROOT + "/eph-on-b"]:
        assert dumper.exists(p) is None, "%s survived closing its session" % p
    dump_b2 = dump_tree(dumper, b.port)
    assert not check_consistent(dump_b2), check_consistent(dump_b2)
    close(dumper)
    zxid_b = b.zxid()
    assert zxid_b > z
    # B replayed A's logs, comparing the tree digest A logged with each txn, then
    # compared its own on every write.
    assert b.digest_mismatches() == 0, "B's tree disagrees with the digests in A's logs"
    b.stop()
    assert_layout(data, logdir)
    assert_history(b, zxid_b, "after B")

    # ---- A's kind again, reading what B wrote -----------------------------------------
    a2 = make_server(settings.server_a, "A2", data, logdir).start()
    assert a2.zxid() == zxid_b, "A2's last zxid %#x, B's was %#x" % (a2.zxid(), zxid_b)
    dumper = connect(a2.port)
    dump_a2 = dump_tree(dumper, a2.port)
    close(dumper)
    assert_same_tree(dump_b2, dump_a2, "%s -> %s" % (b.name, a2.name))
    assert a2.digest_mismatches() == 0, "A2's tree disagrees with the digests in B's logs"
    a2.stop()
    note("%s -> %s -> %s: %d nodes, zxid %#x after A, %#x after B, %d txn logs, %.1f s"
         % (a.kind, b.kind, a2.kind, len(nodes), zxid_a, zxid_b,
            len(toolkit.txn_logs(a.txn_dir)), time.monotonic() - t0))
