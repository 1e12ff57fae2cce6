"""zkCli.sh create/get/set/stat/ls/delete/deleteall, asserting the printed output."""
import re
import socket

import zkcli_helper as cli
from zkcli_helper import parse_stat

# java.util.Date.toString(): "Sat Nov 21 15:36:36 UTC 2026"
DATE = re.compile(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4}$")
HEX = re.compile(r"^0x[0-9a-f]+$")


def test_create_plain_get_and_get_s(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node} hello", f"get {node}", f"get -s {node}")
    assert out[0] == f"Created {node}"
    assert out[1] == "hello"
    assert out[2] == "hello"
    st = parse_stat(out[3:])
    assert len(st) == 11, out
    assert st["dataVersion"] == "0"
    assert st["cversion"] == "0"
    assert st["aclVersion"] == "0"
    assert st["numChildren"] == "0"
    assert st["dataLength"] == "5"
    assert st["ephemeralOwner"] == "0x0"
    assert HEX.match(st["cZxid"]) and st["cZxid"] != "0x0"
    assert st["mZxid"] == st["cZxid"] and st["pZxid"] == st["cZxid"]
    assert DATE.match(st["ctime"]) and st["mtime"] == st["ctime"]
    # the stat lines come in this fixed order
    assert [ln.split(" = ")[0] for ln in out[3:14]] == [
        "cZxid", "ctime", "mZxid", "mtime", "pZxid", "cversion", "dataVersion",
        "aclVersion", "ephemeralOwner", "dataLength", "numChildren"]


def test_node_without_data_prints_null(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"get {node}", f"get -s {node}")
    assert out[:3] == [f"Created {node}", "null", "null"]
    assert parse_stat(out)["dataLength"] == "0"


def test_create_existing_and_missing_parent(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node} a", f"create {node} b",
                    f"create {node}/x/y z", f"get {node}")
    assert out == [f"Created {node}", f"Node already exists: {node}",
                   f"Node does not exist: {node}/x/y", "a"]


def test_create_sequential(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create -s {node}/s- d",
                    f"create -s {node}/s- d", f"create {node}/plain", f"create -s {node}/ d")
    assert out == [f"Created {node}", f"Created {node}/s-0000000000",
                   f"Created {node}/s-0000000001", f"Created {node}/plain",
                   f"Created {node}/0000000003"]


def test_create_ephemeral_lives_with_session(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create -e {node}/e x",
                    f"create -e -s {node}/es- y", f"stat {node}/e", f"ls {node}")
    assert out[:3] == [f"Created {node}", f"Created {node}/e", f"Created {node}/es-0000000001"]
    owner = parse_stat(out)["ephemeralOwner"]
    assert HEX.match(owner) and owner != "0x0"
    assert out[-1] == "[e, es-0000000001]"
    # the CLI session has ended (quit closes it): the ephemerals are gone
    out = cli.batch(zk_connect, f"ls {node}", f"stat {node}/e")
    assert out == ["[]", f"Node does not exist: {node}/e"]


def test_create_container(zk_connect, node):
    out = cli.batch(zk_connect, f"create -c {node} c", f"get -s {node}",
                    f"create -c -e {node}-2", f"create -c -s {node}-3", f"stat {node}-2")
    assert out[0] == f"Created {node}"
    assert out[1] == "c"
    assert parse_stat(out)["ephemeralOwner"] == "0x0"  # container marker hidden from clients
    err = "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
    assert out[-3:] == [err, err, f"Node does not exist: {node}-2"]


def test_create_ttl(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create -t 600000 {node}/t tdata",
                    f"create -t 600000 -s {node}/ts- x", f"get -s {node}/t",
                    f"create -t 0 {node}/zero")
    assert out[:4] == [f"Created {node}", f"Created {node}/t", f"Created {node}/ts-0000000001",
                       "tdata"]
    assert parse_stat(out)["ephemeralOwner"] == "0x0"
    assert out[-1] == "ttl must be positive and cannot be larger than: 1099511627775"


def test_set_and_versions(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node} v0", f"set {node} v1",
                    f"set -v 5 {node} bad", f"set -s -v 1 {node} v2", f"get {node}")
    assert out[0] == f"Created {node}"
    # a plain set prints nothing
    assert out[1] == f"version No is not valid : {node}"
    st = parse_stat(out[2:13])
    assert st["dataVersion"] == "2" and st["dataLength"] == "2"
    assert st["mZxid"] != st["cZxid"]
    assert out[13:] == ["v2"]


def test_set_missing_node(zk_connect, node):
    out = cli.batch(zk_connect, f"set {node}/none x")
    assert out == [f"Node does not exist: {node}/none"]


def test_stat(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node} abc", f"create {node}/k", f"stat {node}",
                    f"stat {node}/missing")
    st = parse_stat(out)
    assert st["numChildren"] == "1" and st["cversion"] == "1" and st["dataLength"] == "3"
    assert st["pZxid"] != st["cZxid"]
    assert out[-1] == f"Node does not exist: {node}/missing"
    assert "abc" not in out  # stat prints no data


def test_ls_variants(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create {node}/b", f"create {node}/a",
                    f"create {node}/a/x", f"ls {node}", f"ls -s {node}", f"ls -R {node}",
                    f"ls {node}/missing")
    assert out[4] == "[a, b]"
    assert out[5] == "[a, b]"
    st = parse_stat(out[6:17])
    assert st["numChildren"] == "2" and st["cversion"] == "2"
    assert out[17:21] == [node, f"{node}/a", f"{node}/b", f"{node}/a/x"]
    assert out[21:] == [f"Node does not exist: {node}/missing"]


def test_delete_variants(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create {node}/k v", f"set {node}/k v2",
                    f"delete {node}", f"delete -v 0 {node}/k", f"delete -v 1 {node}/k",
                    f"delete {node}/k", f"ls {node}")
    assert out == [f"Created {node}", f"Created {node}/k",
                   f"Node not empty: {node}",
                   f"version No is not valid : {node}/k",
                   f"Node does not exist: {node}/k",
                   "[]"]


def test_deleteall(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create {node}/a", f"create {node}/a/b",
                    f"create {node}/c", f"deleteall {node}", f"stat {node}")
    assert out[-1] == f"Node does not exist: {node}"
    assert len(out) == 5


def test_get_all_children_number_and_ephemerals(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"create {node}/a", f"create {node}/a/b",
                    f"create -e {node}/a/e1", f"create -e {node}/e2",
                    f"getAllChildrenNumber {node}", f"getAllChildrenNumber {node}/a",
                    f"getEphemerals {node}", f"getEphemerals {node}/nothing-here",
                    f"getAllChildrenNumber {node}/missing")
    assert out[5] == "4"
    assert out[6] == "2"
    assert out[7].startswith("[") and out[7].endswith("]")
    assert sorted(out[7][1:-1].split(", ")) == [f"{node}/a/e1", f"{node}/e2"]
    assert out[8] == "[]"
    assert out[9] == f"Node does not exist: {node}/missing"


def test_sync(zk_connect, node):
    out = cli.batch(zk_connect, f"create {node}", f"sync {node}", f"sync {node}/not-there")
    # sync does not check that the path exists
    assert out == [f"Created {node}", "Sync is OK", "Sync is OK"]


def server_mode(connect):
    """srvr's `Mode:` of the first server in `connect` (standalone, follower, leader, ...)."""
    host, port = connect.split(",")[0].rsplit(":", 1)
    reply = b""
    with socket.create_connection((host, int(port)), 10) as s:
        s.sendall(b"srvr")
        for _ in range(1000):  # bounded: srvr's reply is a few hundred bytes, then EOF
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    m = re.search(r"^Mode: (\S+)", reply.decode(errors="replace"), re.M)
    return m.group(1) if m else None


def test_system_nodes_and_config(zk_connect):
    out = cli.batch(zk_connect, "ls /zookeeper", "config", "get -s /zookeeper/config")
    assert out[0] == "[config, quota]"
    st = parse_stat(out[1:])
    assert len(st) == 11, out
    if server_mode(zk_connect) == "standalone":
        # standalone server without dynamic reconfig: config prints an empty line (filtered),
        # /zookeeper/config is empty and its aclVersion is -1
        assert st["dataLength"] == "0" and st["aclVersion"] == "-1" and st["cZxid"] == "0x0"
        assert len(out) == 12
        return
    # An ensemble member (as a Java 3.8.0 follower answers, ensemble/clients.py --members
    # java,java,java): config prints QuorumMaj.toString(), one server.N=host:quorum:election
    # :participant line per member and version=0; /zookeeper/config holds the same text,
    # written by initConfigInZKDatabase as setData(data, version -1, zxid = config version 0).
    text = out[1:-11]
    config, data = text[:len(text) // 2], text[len(text) // 2:]
    assert config == data and len(config) >= 3, out
    assert all(re.match(r"^server\.\d+=[^:]+:\d+:\d+:participant$", ln) for ln in config[:-1]), out
    assert config[-1] == "version=0", out
    assert st["dataLength"] == str(len("\n".join(data))), st
    assert (st["cZxid"], st["mZxid"], st["dataVersion"], st["aclVersion"]) == \
        ("0x0", "0x0", "-1", "-1"), st


def test_single_command_exit_status(zk_connect, node):
    rc, out = cli.single(zk_connect, "create", node, "x")
    assert rc == 0 and out == [f"Created {node}"]
    rc, out = cli.single(zk_connect, "get", node)
    assert rc == 0 and out == ["x"]
    rc, out = cli.single(zk_connect, "get", f"{node}/missing")
    assert rc == 1 and out == [f"Node does not exist: {node}/missing"]
    rc, out = cli.single(zk_connect, "create", node, "y")
    assert rc == 1 and out == [f"Node already exists: {node}"]
