"""Prometheus /metrics of the server under test, configured with ZooKeeper's
PrometheusMetricsProvider, against ZooKeeper 3.8.0's metric families
(java-3.8.0/prometheus-families.json, derived from its source by derive_families.py: the
provider's jars are not packaged by Debian, so Java's own /metrics could not be captured).

Environment: ZK_CONNECT, ZK_ADMIN and ZK_METRICS (host:port of /metrics); a fresh server.
Without /metrics (or the AdminServer) every test fails.

With that provider ZooKeeper's mntr and /commands/monitor list version, server_state and
then every sample of the provider (PrometheusMetricsProvider.dump): so mntr, monitor and
/metrics taken at one quiet moment must hold the same keys and the same values, except
the few that differ by nature between two reads (listed in VOLATILE)."""
import json
import os
import socket
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import adminlib  # noqa: E402

PREFIX = "/adm"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Differ between two reads by nature: the asking 4lw connection is alive and holds a
# descriptor while mntr is computed, time passes, the process's memory and CPU move.
VOLATILE = {"num_alive_connections", "open_file_descriptor_count", "uptime",
            "process_open_fds", "process_resident_memory_bytes",
            "process_virtual_memory_bytes", "process_cpu_seconds_total"}
# The labelled families that have no samples on a standalone server without quotas.
NO_SAMPLES = {"learner_handler_qp_size", "learner_handler_qp_time_ms", "ack_latency",
              "quota_exceeded_error_per_namespace", "quota_count_limit_per_namespace",
              "quota_bytes_limit_per_namespace", "quota_count_usage_per_namespace",
              "quota_bytes_usage_per_namespace"}


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
def quiet(zk_connect):
    """The capture's state, then mntr, /commands/monitor and /metrics, one after another."""
    admin, metrics = _addr("ZK_ADMIN"), _addr("ZK_METRICS")
    zk = adminlib.make_state(zk_connect, PREFIX)
    try:
        yield {
            "mntr": adminlib.mntr_pairs(adminlib.four_letter(zk_connect, "mntr")),
            "monitor": json.loads(adminlib.fetch(admin, "GET", "/commands/monitor")[2]),
            "metrics": adminlib.fetch(metrics, "GET", "/metrics"),
            "filtered": adminlib.fetch(metrics, "GET", "/metrics?name[]=znode_count"),
            "outside": adminlib.fetch(metrics, "GET", "/"),
        }
    finally:
        zk.stop()
        zk.close()


def families():
    with open(os.path.join(HERE, "java-3.8.0", "prometheus-families.json"), encoding="utf-8") as f:
        return json.load(f)


def test_served_as_the_prometheus_client_serves(quiet):
    status, ctype, _ = quiet["metrics"]
    assert (status, ctype) == (200, CONTENT_TYPE)
    types, _, samples = adminlib.parse_exposition(quiet["filtered"][2])
    assert list(types) == ["znode_count"] and list(samples) == ["znode_count"]
    assert quiet["outside"][0] == 404


def test_families_named_and_typed_as_zookeeper(quiet):
    want = families()
    types, helps, samples = adminlib.parse_exposition(quiet["metrics"][2])
    missing = sorted(set(want) - set(types))
    assert not missing, f"families ZooKeeper exports that are missing: {missing}"
    wrong = {n: (want[n], types[n]) for n in want if types[n] != want[n]}
    assert not wrong, f"(ZooKeeper's type, served type): {wrong}"
    extra = sorted(n for n in types if n not in want and not n.startswith("process_"))
    assert not extra, f"families ZooKeeper does not have: {extra}"
    assert all(helps[n] == n for n in want), "help text is the name, as the provider sets it"
    for n, t in want.items():
        if n in NO_SAMPLES:
            continue
        if t == "summary":
            keyed = n.endswith("_per_namespace")
            label = f'key="{PREFIX[1:]}",' if keyed else ""
            assert f"{n}_count{{{label}}}".replace("{}", "") in samples, n
            assert f"{n}_sum{{{label}}}".replace("{}", "") in samples, n
            assert f'{n}{{{label}quantile="0.5",}}' in samples, n
        else:
            assert n in samples, n


def test_mntr_monitor_and_metrics_agree(quiet):
    mntr = quiet["mntr"]
    assert [k for k, _ in mntr[:2]] == ["version", "server_state"]
    monitor = {k: v for k, v in quiet["monitor"].items() if k not in ("command", "error")}
    assert list(monitor) == [k for k, _ in mntr], "monitor lists mntr's keys in its order"
    _, _, samples = adminlib.parse_exposition(quiet["metrics"][2])
    metrics = {k.replace(",}", "}"): v for k, v in samples.items()}
    from_mntr = dict(mntr[2:])
    assert sorted(from_mntr) == sorted(metrics), "the same samples"
    differ = {}
    for k, v in metrics.items():
        m, j = float(from_mntr[k]), monitor[k]
        j = float(j) if isinstance(j, str) else j  # Jackson writes NaN as "NaN"
        same = (m == v == j) or all(x != x for x in (m, v, j))
        if not same and k not in VOLATILE:
            differ[k] = (from_mntr[k], monitor[k], v)
    assert not differ, f"(mntr, monitor, /metrics): {differ}"
    # Java 3.8.0 counts 5 znodes in an empty tree (/, /zookeeper, /zookeeper/quota,
    # /zookeeper/config and the root's ""); the state adds 3, one ephemeral, three watches.
    for k, want in [("znode_count", 8.0), ("ephemerals_count", 1.0), ("watch_count", 3.0),
                    ("global_sessions", 1.0), ("updatelatency_count", 4.0)]:
        assert metrics[k] == want, k
    assert metrics[f'write_per_namespace_count{{key="{PREFIX[1:]}"}}'] == 3.0
