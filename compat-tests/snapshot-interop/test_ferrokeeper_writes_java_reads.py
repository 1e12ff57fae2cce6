"""FerroKeeper's writer makes a snapshot; Java ZooKeeper 3.8's SnapshotFormatter (what
zkSnapShotToolkit.sh runs) must print every node, and a Java server started on a dataDir
holding only that snapshot must serve exactly its nodes, data, ACLs, stats and sessions."""
import base64
import os
import re
import shutil

import pytest
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError

import interop
import treeview


def write_sample(version2, compression):
    rc, objs, err = interop.run_json_lines(
        [interop.example("write_sample_snapshot"), version2, compression])
    assert rc == 0, err
    written = [o for o in objs if o["type"] == "written"][0]
    sessions = {o["id"]: o for o in objs if o["type"] == "session"}
    return written, sessions


def parse_formatter(out):
    """SnapshotFormatter -d output → ({path: data bytes}, {session id: (timeout, ephemerals)})."""
    nodes, sessions = {}, {}
    lines = out.splitlines()
    i = 0
    in_sessions = False
    while i < len(lines):
        line = lines[i]
        if line.startswith("Session Details"):
            in_sessions = True
        elif in_sessions and re.match(r"^0x[0-9a-f]+, ", line):
            sid, timeout, eph = [x.strip() for x in line.split(",")]
            sessions[int(sid, 16)] = (int(timeout), int(eph))
        elif line == "----" and i + 1 < len(lines) and lines[i + 1].startswith("/"):
            path = lines[i + 1]
            data = None
            for j in range(i + 2, min(i + 14, len(lines))):
                if lines[j].startswith("  data = "):
                    data = base64.b64decode(lines[j][len("  data = "):])
                    break
            nodes[path] = data
        i += 1
    return nodes, sessions


@pytest.mark.parametrize("compression", ["none", "gz", "snappy"])
def test_java_reads_ferrokeeper_snapshot(workdir, compression):
    data_dir = os.path.join(workdir, "data")
    version2 = os.path.join(data_dir, "version-2")
    written, sessions = write_sample(version2, compression)
    path = written["path"]
    suffix = {"none": "", "gz": ".gz", "snappy": ".snappy"}[compression]
    assert os.path.basename(path) == "snapshot.%x%s" % (written["zxid"], suffix)
    assert os.listdir(version2) == [os.path.basename(path)], "only the snapshot, no temp file"
    keep = os.path.join(workdir, "ours" + suffix)
    shutil.copy(path, keep)  # Java overwrites snapshot.<zxid> with its own at startup

    ours = treeview.parse_dump(interop.dump_snapshot(path))
    treeview.check_preorder(ours)
    assert ours["load"]["digest_check"] == "Matched", ours["load"]
    assert ours["trailer"]["digest"]["digest"] == written["tree_digest"]

    # 1. SnapshotFormatter (zkSnapShotToolkit.sh): every node, its data, every session.
    p = interop.snapshot_formatter(path)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Exception" not in p.stderr, p.stderr[-3000:]
    f_nodes, f_sessions = parse_formatter(p.stdout)
    assert set(f_nodes) == set(ours["nodes"]), set(f_nodes) ^ set(ours["nodes"])
    for node_path, data in f_nodes.items():
        want = ours["nodes"][node_path]["data"]
        assert data == (b"" if want is None else bytes.fromhex(want)), node_path
    assert "ZNode Details (count=%d)" % (len(ours["nodes"]) + 1) in p.stdout  # "/" and ""
    assert {s: t for s, (t, _) in f_sessions.items()} == {s: o["timeout"] for s, o in sessions.items()}
    eph = {s: e for s, (_, e) in f_sessions.items()}
    assert sorted(eph.values()) == [0, 2], eph
    assert "Last zxid: 0x%x" % written["zxid"] in p.stdout

    # 2. A Java server on a dataDir holding only our snapshot.
    server = interop.JavaServer(
        data_dir, {"zookeeper.snapshot.compression.method": "" if compression == "none" else compression})
    server.start()
    try:
        log = server.log_text()
        assert "Reading snapshot %s" % path in log, log[-3000:]
        for bad in ("problem reading snap file", "CRC corruption", "Digests are not matching",
                    "Not able to find valid snapshots"):
            assert bad not in log, log[-3000:]
        assert ("The digest in the snapshot has digest version of 2, with zxid as 0x%x, "
                "and digest value as %d" % (written["zxid"], written["tree_digest"])) in log
        m = interop.mntr(server.port)
        assert m.get("zk_digest_mismatches_count") == "0", m
        assert m.get("zk_znode_count") == str(len(ours["nodes"]) + 1), m
        assert m.get("zk_ephemerals_count") == "2", m

        zk = KazooClient(hosts=server.address, timeout=30.0)
        zk.start(timeout=30)
        try:
            with pytest.raises(NoAuthError):
                zk.get("/secret")
            zk.add_auth("digest", "alice:secret")
            java = treeview.java_tree(zk)
            problems = treeview.compare(ours, java, skip_data={"/zookeeper/quota/app/zookeeper_stats"})
            assert problems == [], "\n".join(problems)
            assert zk.get("/secret")[0] == b"alice only"
            assert zk.get("/app")[1].version == 1
            assert zk.get("/app/big")[1].dataLength == 300_000

            # Sequential numbering continues from the persisted parent cversion.
            cv = ours["nodes"]["/app"]["cversion"]
            created = zk.create("/app/seq-", b"next", sequence=True)
            assert created == "/app/seq-%010d" % cv, (created, cv)
            assert zk.exists(created).czxid > written["zxid"]

            # A session from the snapshot can be resumed with the password ZooKeeper
            # derives from its id; closing it removes its ephemerals.
            sid = [s for s, e in eph.items() if e == 2][0]
            owner = KazooClient(hosts=server.address, timeout=30.0,
                                client_id=(sid, bytes.fromhex(sessions[sid]["password"])))
            owner.start(timeout=30)
            assert owner.client_id[0] == sid
            assert owner.exists("/app/eph").ephemeralOwner == sid
            owner.stop()
            owner.close()
            assert zk.exists("/app/eph") is None
            assert zk.exists("/app/eseq-0000000008") is None
        finally:
            zk.stop()
            zk.close()
    finally:
        server.stop()

    # 3. Java re-wrote snapshot.<zxid> at startup from what it loaded; it reads back
    # identically. (Its digest is the empty one: after a load, before any txn, Java has no
    # lastProcessedZxidDigest and writes zxid 0, digest 0.)
    assert os.path.exists(path), os.listdir(version2)
    theirs = treeview.parse_dump(interop.dump_snapshot(path))
    assert theirs["load"]["digest_check"] == "Empty", theirs["load"]
    assert theirs["trailer"]["digest"] == {"zxid": 0, "version": 2, "digest": 0}
    assert theirs["sessions"] == ours["sessions"]
    assert theirs["acls"] == ours["acls"]
    assert theirs["nodes"] == ours["nodes"]
