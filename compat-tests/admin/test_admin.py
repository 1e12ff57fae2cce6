"""The AdminServer and Prometheus /metrics of the server under test, against Debian's Java
ZooKeeper 3.8.0 (captures in java-3.8.0/, made by capture.sh) and ZooKeeper 3.8.0's metric
families (java-3.8.0/prometheus-families.json, derived from its source by derive_families.py).

Environment: ZK_CONNECT (clients), ZK_ADMIN (host:port of the AdminServer, commandURL
/commands) and ZK_METRICS (host:port of /metrics). The server must be fresh: the same state
the capture was made in (adminlib.make_state) is created here, and counts are compared
exactly. Without an AdminServer or /metrics every test fails.

Compared for every request Java was sent (every command name and alias, the links page,
unknown commands, bad arguments, wrong methods and paths): the HTTP status, the
Content-Type, and for JSON the same field names (in the same order), nesting and value
types, with values equal where they cannot differ by nature (command, error, counts of
nodes, watches, sessions, connections, flags); times, ids, sizes, paths and ports are
compared by type and shape only."""
import json
import os
import re
import socket
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


def _addr(var):
    addr = os.environ.get(var, "").strip()
    if not addr:
        pytest.fail(f"{var} is not set (expected 127.0.0.1:PORT)")
    host, _, port = addr.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=3).close()
    except OSError as e:
        pytest.fail(f"nothing serves {var}={addr}: {e}")
    return addr


@pytest.fixture(scope="module")
def admin():
    return _addr("ZK_ADMIN")


@pytest.fixture(scope="module")
def metrics():
    return _addr("ZK_METRICS")


@pytest.fixture(scope="module")
def java_index():
    with open(os.path.join(JAVA, "index.json"), encoding="utf-8") as f:
        return json.load(f)


def java_body(entry):
    with open(os.path.join(JAVA, entry["file"]), encoding="utf-8", newline="") as f:
        return f.read()


@pytest.fixture(scope="module")
def state(zk_connect, admin, metrics):
    """The capture's state, kept for the module; every reply fetched in the capture's order,
    plus 4lw mntr, /commands/monitor and /metrics at one quiet moment (before the resets)."""
    zk = adminlib.make_state(zk_connect, PREFIX)
    try:
        quiet = {
            "mntr": four_letter(zk_connect, "mntr"),
            "monitor": json.loads(adminlib.fetch(admin, "GET", "/commands/monitor")[2]),
            "metrics": adminlib.fetch(metrics, "GET", "/metrics"),
        }
        replies = adminlib.fetch_all(admin)
        yield {"replies": replies, **quiet}
    finally:
        zk.stop()
        zk.close()


def four_letter(connect, word):
    host, _, port = connect.split(",")[0].rpartition(":")
    with socket.create_connection((host or "127.0.0.1", int(port)), timeout=10) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks).decode()


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


def parse_exposition(text):
    types, helps, samples = {}, {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name, t = line[7:].split(" ", 1)
            types[name] = t
        elif line.startswith("# HELP "):
            name, h = line[7:].split(" ", 1)
            helps[name] = h
        elif line and not line.startswith("#"):
            m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)', line)
            assert m, f"not a sample line: {line!r}"
            samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return types, helps, samples


def test_metrics_families_named_and_typed_as_zookeeper(state):
    status, ctype, body = state["metrics"]
    assert status == 200
    assert ctype == "text/plain; version=0.0.4; charset=utf-8"
    with open(os.path.join(JAVA, "prometheus-families.json"), encoding="utf-8") as f:
        want = json.load(f)
    types, helps, samples = parse_exposition(body)
    missing = sorted(set(want) - set(types))
    assert not missing, f"families ZooKeeper exports that are missing: {missing}"
    wrong = {n: (want[n], types[n]) for n in want if types[n] != want[n]}
    assert not wrong, f"(ZooKeeper's type, served type): {wrong}"
    extra = sorted(n for n in types if n not in want and not n.startswith("process_"))
    assert not extra, f"families ZooKeeper does not have: {extra}"
    assert all(helps.get(n) == n for n in want), "help text is the name, as the provider sets it"
    for n, t in want.items():
        if t == "summary" and not n.endswith("_per_namespace") and n not in (
                "learner_handler_qp_size", "learner_handler_qp_time_ms", "ack_latency"):
            assert f"{n}_count" in samples and f"{n}_sum" in samples, n
            assert f'{n}{{quantile="0.5",}}' in samples, n


def test_metrics_values_agree_with_mntr(state):
    """Taken at one quiet moment: the tree, watch and session gauges and the write
    latency count agree with mntr, and with the state created (Java counts 5 znodes in an
    empty tree: /, /zookeeper, /zookeeper/quota, /zookeeper/config and the root's "")."""
    _, _, samples = parse_exposition(state["metrics"][2])
    mntr = {}
    for line in state["mntr"].splitlines():
        k, _, v = line.partition("\t")
        mntr[k[3:]] = v
    for k in ("znode_count", "ephemerals_count", "watch_count", "global_sessions",
              "approximate_data_size"):
        assert samples[k] == float(mntr[k]), k
    assert samples["znode_count"] == 8.0
    assert samples["ephemerals_count"] == 1.0
    assert samples["watch_count"] == 3.0
    assert samples["global_sessions"] == 1.0
    assert samples["updatelatency_count"] == float(mntr["cnt_updatelatency"])
    assert samples[f'write_per_namespace_count{{key="{PREFIX[1:]}",}}'] == float(
        mntr[f"cnt_{PREFIX[1:]}_write_per_namespace"])


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
