"""The AdminServer of the server under test against Debian's Java ZooKeeper 3.8.0 (captures
in java-3.8.0/, made by capture.sh, with ZooKeeper's default metrics provider).

Environment: ZK_CONNECT (clients) and ZK_ADMIN (host:port of the AdminServer, commandURL
/commands). The server must be fresh and use the default metrics provider: the same state
the capture was made in (adminlib.make_state) is created here, and counts are compared
exactly. Without an AdminServer every test fails.

Compared for every request Java was sent (every command name and alias, the links page,
unknown commands, bad arguments, wrong methods and paths): the HTTP status, the
Content-Type, and for JSON the same field names (in the same order), nesting and value
types, with values equal where they cannot differ by nature (command, error, counts of
nodes, watches, sessions, connections, flags); times, ids, sizes, paths and ports are
compared by type and shape only."""
import json
import os
import re
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import adminlib  # noqa: E402

JAVA = os.path.join(HERE, "java-3.8.0")
PREFIX = "/adm"

# Values equal on both servers in the same state; anything else is compared by type.
EXACT = {
    "command", "error", "read_only", "voting", "zabstate", "synced_observers",
    "num_connections", "num_paths", "num_total_watches", "znode_count", "node_count",
    "ephemerals_count", "watch_count", "global_sessions", "server_state", "interest_ops",
    "tracemask", "server_id", "client_port_listen_backlog", "provider_null",
    "num_alive_client_connections", "num_alive_connections", "outstanding_requests",
    "local_sessions", "last_operation", "initial_configuration_is_str",
}
# JVM-only system properties have no FerroKeeper counterpart: compared for zookeeper.* only.
JVM_ONLY = ("system_properties", "sysp")


@pytest.fixture(scope="module")
def admin():
    return adminlib.served_addr("ZK_ADMIN")


@pytest.fixture(scope="module")
def java_index():
    with open(os.path.join(JAVA, "index.json"), encoding="utf-8") as f:
        return json.load(f)


def java_body(entry):
    with open(os.path.join(JAVA, entry["file"]), encoding="utf-8", newline="") as f:
        return f.read()


@pytest.fixture(scope="module")
def state(zk_connect, admin):
    """The capture's state, kept for the module; every reply fetched in the capture's order,
    plus 4lw mntr and /commands/monitor at one quiet moment (before the resets)."""
    zk = adminlib.make_state(zk_connect, PREFIX)
    try:
        quiet = {
            "mntr": adminlib.four_letter(zk_connect, "mntr"),
            "monitor": json.loads(adminlib.fetch(admin, "GET", "/commands/monitor")[2]),
        }
        replies = adminlib.fetch_all(admin)
        yield {"replies": replies, **quiet}
    finally:
        zk.stop()
        zk.close()


def kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "str"
    if isinstance(v, list):
        return "list"
    return "dict"


def is_data_map(d):
    """A map keyed by session ids, expiry times or paths, whose keys differ by nature."""
    return bool(d) and all(re.fullmatch(r"-?\d+", k) or k.startswith("/") for k in d)


def compare(java, ours, where, problems):
    kj, ko = kind(java), kind(ours)
    if kj != ko:
        problems.append(f"{where}: Java has {kj} {java!r}, server has {ko} {ours!r}")
        return
    if kj == "dict":
        if is_data_map(java) or (not java and is_data_map(ours)):
            if len(java) != len(ours):
                problems.append(f"{where}: {len(java)} entries in Java, {len(ours)} here")
            jv = list(java.values())
            for k, v in ours.items():
                key_kind = "path" if k.startswith("/") else "number"
                if java and not any(
                        ("path" if jk.startswith("/") else "number") == key_kind for jk in java):
                    problems.append(f"{where}: key {k!r} is a {key_kind}, Java's are not")
                if jv:
                    compare(jv[0], v, f"{where}[{k}]", problems)
            return
        if list(java) != list(ours):
            problems.append(f"{where}: fields differ\n  Java:   {list(java)}\n  server: {list(ours)}")
        for k in java:
            if k in ours:
                if k in EXACT and kind(java[k]) not in ("dict", "list") and java[k] != ours[k]:
                    problems.append(f"{where}.{k}: Java {java[k]!r}, server {ours[k]!r}")
                compare(java[k], ours[k], f"{where}.{k}", problems)
    elif kj == "list":
        if len(java) != len(ours):
            problems.append(f"{where}: {len(java)} items in Java, {len(ours)} here")
        for i, (a, b) in enumerate(zip(java, ours)):
            compare(a, b, f"{where}[{i}]", problems)


def request_names():
    with open(os.path.join(JAVA, "index.json"), encoding="utf-8") as f:
        return list(json.load(f))


@pytest.mark.parametrize("name", request_names())
def test_reply_as_java(state, java_index, name):
    want = java_index[name]
    got = state["replies"][name]
    assert (got["method"], got["path"]) == (want["method"], want["path"])
    assert got["status"] == want["status"], f"{want['path']}: HTTP status"
    assert got["content_type"] == want["content_type"], f"{want['path']}: Content-Type"
    java = adminlib.as_json(java_body(want))
    if want["content_type"] == "application/json":
        ours = adminlib.as_json(got["body"])
        assert ours is not None, f"not JSON: {got['body'][:200]!r}"
        if name in JVM_ONLY:
            assert all(isinstance(v, str) for k, v in ours.items() if k not in ("command", "error"))
            java_zk = [k for k in java if k.startswith("zookeeper.")]
            ours_zk = [k for k in ours if k.startswith("zookeeper.")]
            assert ours_zk == java_zk, "zoo.cfg-derived system properties"
            assert (ours["command"], ours["error"]) == (java["command"], java["error"])
            return
        if isinstance(ours, dict) and any(adminlib.is_own(k) for k in ours):
            # monitor: FerroKeeper's own keys after Java's metrics (and before the
            # command/error fields every reply ends with), checked here, then dropped
            tail = ("command", "error")
            kept, own = adminlib.split_own((k, v) for k, v in ours.items() if k not in tail)
            adminlib.assert_own_counters(own)
            ours = {**dict(kept), **{k: ours[k] for k in tail if k in ours}}
        problems = []
        compare(java, ours, name, problems)
        assert not problems, "\n".join(problems)
    elif name.startswith("index"):
        assert got["body"] == java_body(want), "the links page"


def test_monitor_is_mntr(state):
    """/commands/monitor lists mntr's keys in mntr's order, with the same values for the
    counts that cannot move between the two reads."""
    mntr = {}
    for line in state["mntr"].splitlines():
        k, _, v = line.partition("\t")
        mntr[k[3:]] = v
    mon = {k: v for k, v in state["monitor"].items() if k not in ("command", "error")}
    assert list(mon) == list(mntr)
    for k in ("znode_count", "ephemerals_count", "watch_count", "global_sessions",
              "approximate_data_size", "cnt_updatelatency"):
        assert str(mon[k]) == mntr[k], k


def test_comparison_catches_differences():
    """The shape comparison itself: a renamed field, a changed type, a lost list item, a
    different count or error are all reported; ids, times and paths are not."""
    java = json.loads(java_body({"file": "stats.json"}))

    def problems(ours):
        out = []
        compare(java, ours, "stats", out)
        return out

    same = json.loads(json.dumps(java))
    same["server_stats"]["uptime"] += 1234
    same["connections"][0]["remote_socket_address"] = "127.0.0.1:1"
    assert problems(same) == []
    renamed = json.loads(json.dumps(java))
    renamed["server_stats"]["packets_recv"] = renamed["server_stats"].pop("packets_received")
    assert problems(renamed)
    retyped = json.loads(json.dumps(java))
    retyped["server_stats"]["avg_latency"] = 7
    assert problems(retyped)
    fewer = json.loads(json.dumps(java))
    fewer["connections"] = []
    assert problems(fewer)
    count = json.loads(json.dumps(java))
    count["node_count"] += 1
    assert problems(count)
    err = json.loads(json.dumps(java))
    err["error"] = "boom"
    assert problems(err)
    dump = json.loads(java_body({"file": "dump.json"}))
    other = {"expiry_time_to_session_ids": {"99": [5]},
             "session_id_to_ephemeral_paths": {"5": ["/x"]},
             "command": "dump", "error": None}
    out = []
    compare(dump, other, "dump", out)
    assert out == []
    other["session_id_to_ephemeral_paths"]["6"] = ["/y"]
    compare(dump, other, "dump", out)
    assert out
