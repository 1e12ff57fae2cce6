"""Prometheus /metrics of the server under test, configured with ZooKeeper's
PrometheusMetricsProvider (exportJvmInfo left at its default, true), against Java ZooKeeper
3.8.0's own /metrics: java-3.8.0/metrics.txt, captured by capture-metrics.sh from Debian's
3.8.0 running the provider (built from source by build-java-prometheus.sh) in the same
state (adminlib.make_state); prometheus-families.json is derived from it.

Environment: ZK_CONNECT, ZK_ADMIN and ZK_METRICS (host:port of /metrics); a fresh server;
ZK_METRICS_CAPTURE=metrics-nojvm when it runs with metricsProvider.exportJvmInfo=false.
Without /metrics (or the AdminServer) every test fails.

Checked exactly against the capture: every family name, TYPE, HELP, sample shape (suffix,
label names, quantiles, the _count/_sum layout) and sample (name and label values); the
reply to each request of metrics-index.json (status, Content-Type, what a name[] filter
keeps). Values: by type for all, and equal to Java's wherever the state decides them.

With that provider ZooKeeper's mntr and /commands/monitor list version, server_state and
then every sample of the provider (PrometheusMetricsProvider.dump): so mntr, monitor and
/metrics taken at one quiet moment must hold the same keys and the same values, except
the few that differ by nature between two reads (listed in VOLATILE)."""
import json
import math
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import adminlib  # noqa: E402

JAVA = os.path.join(HERE, "java-3.8.0")
# Which capture: "metrics" (exportJvmInfo at its default, true) or "metrics-nojvm"
# (exportJvmInfo=false), each with its -index.json and -mntr.txt.
CAPTURE = os.environ.get("ZK_METRICS_CAPTURE", "metrics")
PREFIX = "/adm"

# exportJvmInfo=true (the default) makes the provider call the Java client's
# DefaultExports.initialize(): StandardExports (the process_* families, which FerroKeeper
# serves from /proc) and these, which describe a JVM - heap and non-heap memory, memory
# pools, buffer pools, garbage collectors, threads, class loading, the JVM's version.
# FerroKeeper has no JVM, so it cannot serve them; exportJvmInfo=false drops them all
# (and process_*) in Java, as in FerroKeeper (metrics-nojvm.txt).
JVM_ONLY = {
    "jvm_buffer_pool_capacity_bytes", "jvm_buffer_pool_used_buffers",
    "jvm_buffer_pool_used_bytes", "jvm_classes_loaded", "jvm_classes_loaded_total",
    "jvm_classes_unloaded_total", "jvm_gc_collection_seconds", "jvm_info",
    "jvm_memory_bytes_committed", "jvm_memory_bytes_init", "jvm_memory_bytes_max",
    "jvm_memory_bytes_used", "jvm_memory_pool_allocated_bytes_total",
    "jvm_memory_pool_bytes_committed", "jvm_memory_pool_bytes_init",
    "jvm_memory_pool_bytes_max", "jvm_memory_pool_bytes_used", "jvm_threads_current",
    "jvm_threads_daemon", "jvm_threads_deadlocked", "jvm_threads_deadlocked_monitor",
    "jvm_threads_peak", "jvm_threads_started_total", "jvm_threads_state",
}
# Values that differ between two runs of the same server by nature (durations, clocks,
# the process's own resources): checked by type; a summary's _count is still exact.
TIMED = {
    "avg_latency", "max_latency", "min_latency", "uptime", "open_file_descriptor_count",
    "max_file_descriptor_count", "dbinittime", "fsynctime", "snapshottime",
    "startup_snap_load_time", "startup_txns_load_time", "readlatency", "updatelatency",
    "propagation_latency", "prep_process_time", "prep_processor_queue_time_ms",
    "prep_processor_queue_size", "proposal_process_time", "request_throttle_queue_time_ms",
    "close_session_prep_time", "sync_process_time", "sync_processor_queue_size",
    "sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms",
    "sync_processor_queue_and_flush_time_ms", "sync_processor_batch_size",
    "process_cpu_seconds_total", "process_start_time_seconds", "process_open_fds",
    "process_max_fds", "process_virtual_memory_bytes", "process_resident_memory_bytes",
}
# Counts of what the harness does rather than the state: each bare TCP connection that
# probes the client port before the state is a connection the client ended (capture-metrics.sh
# probes once; run.sh's start-up wait and conftest.py's zk_connect once each).
HARNESS = {"connection_drop_count"}
# Samples the state decides, where FerroKeeper's value is not Java's, and why.
KNOWN = {
    "connection_token_deficit_count":
        "Java samples the connection throttle's token deficit for each ConnectRequest "
        "(ZooKeeperServer.processConnectRequest); FerroKeeper's throttle (src/net) keeps "
        "no such summary",
    "response_packet_cache_misses":
        "Java's getData misses its serialized-response cache once; FerroKeeper has no "
        "response cache",
    "sync_processor_request_queued":
        "Java's standalone SyncRequestProcessor also queues reads (7 requests); "
        "FerroKeeper's sync stage sees the 4 txns only",
    "sync_processor_queue_size_count": "as sync_processor_request_queued (Java: 7 + 1 "
        "sampled while waiting)",
    "sync_processor_queue_time_ms_count": "as sync_processor_request_queued",
}
# Differ between two reads by nature: the asking 4lw connection is alive and holds a
# descriptor while mntr is computed, time passes, the process's memory and CPU move.
# packets_sent: mntr's own reply is counted once it is written (one packet per 8192 chars, as
# Java's SendBufferWriter counts), after mntr printed the number; monitor and /metrics see it.
VOLATILE = {"num_alive_connections", "open_file_descriptor_count", "uptime",
            "process_open_fds", "process_resident_memory_bytes",
            "process_virtual_memory_bytes", "process_cpu_seconds_total", "packets_sent"}


def _load(name):
    with open(os.path.join(JAVA, name), encoding="utf-8") as f:
        return json.load(f) if name.endswith(".json") else f.read()


@pytest.fixture(scope="module")
def quiet(zk_connect):
    """The capture's state, then /metrics and mntr (as capture_metrics.py takes them),
    /commands/monitor, /metrics again, and the requests of metrics-index.json, one after
    another."""
    admin, metrics = adminlib.served_addr("ZK_ADMIN"), adminlib.served_addr("ZK_METRICS")
    zk = adminlib.make_state(zk_connect, PREFIX)
    try:
        out = {
            "metrics": adminlib.fetch(metrics, "GET", "/metrics"),
            "mntr": adminlib.mntr_pairs(adminlib.four_letter(zk_connect, "mntr")),
            "monitor": json.loads(adminlib.fetch(admin, "GET", "/commands/monitor")[2]),
            # after mntr, which counts its own packet and bytes
            "metrics_after": adminlib.fetch(metrics, "GET", "/metrics"),
        }
        out["requests"] = {name: adminlib.fetch(metrics, r["method"], r["path"])
                           for name, r in _load(f"{CAPTURE}-index.json").items()}
        yield out
    finally:
        zk.stop()
        zk.close()


@pytest.fixture(scope="module")
def java():
    fams = adminlib.parse_families(_load(f"{CAPTURE}.txt"))
    return {n: f for n, f in fams.items() if n not in JVM_ONLY}


@pytest.fixture(scope="module")
def served_all(quiet):
    return adminlib.parse_families(quiet["metrics"][2])


@pytest.fixture(scope="module")
def served(served_all):
    """The families compared with Java's: all but FerroKeeper's own (ferrokeeper_*)."""
    return {n: f for n, f in served_all.items() if not adminlib.is_own(n)}


def test_own_families_follow_java_s_as_counters(served_all):
    names = list(served_all)
    java, own = adminlib.split_own((n, served_all[n]) for n in names)
    assert [n for n, _ in own] == adminlib.OWN_COUNTERS
    for n, f in own:
        assert f["type"] == "counter", n
        assert [(s, l) for s, l, _ in f["samples"]] == [(n, [])], f["samples"]
        (_, _, v), = f["samples"]
        assert float(v) >= 0 and float(v) == int(float(v)), (n, v)


def _samples(fams):
    """{sample key: (family, sample name, labels, value)}; the key as dump() builds it."""
    out = {}
    for fam, f in fams.items():
        for name, labels, value in f["samples"]:
            key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}" if labels else "")
            out[key] = (fam, name, labels, float(value))
    return out


def test_the_jvm_only_families_are_the_capture_s():
    fams = _load("prometheus-families.json")
    jvm_info = {n for n, f in fams.items() if f["export_jvm_info"]}
    assert JVM_ONLY == {n for n in jvm_info if not n.startswith("process_")}


def test_each_request_answered_as_java_answers(quiet):
    for name, want in _load(f"{CAPTURE}-index.json").items():
        status, ctype, body = quiet["requests"][name]
        assert (status, ctype) == (want["status"], want["content_type"]), name
        if "families" in want:
            types, _, samples = adminlib.parse_exposition(body)
            types = {n: t for n, t in types.items() if not adminlib.is_own(n)}
            samples = {k: v for k, v in samples.items() if not adminlib.is_own(k)}
            assert sorted(types) == want["families"], name
            assert sorted(samples) == want["samples"], name


def test_families_named_typed_and_described_as_java(java, served):
    missing = sorted(set(java) - set(served))
    assert not missing, f"families Java serves that are missing: {missing}"
    extra = sorted(set(served) - set(java))
    assert not extra, f"families Java does not serve: {extra}"
    wrong = {n: (java[n]["type"], served[n]["type"]) for n in java
             if java[n]["type"] != served[n]["type"]}
    assert not wrong, f"(Java's TYPE, served TYPE): {wrong}"
    helps = {n: (java[n]["help"], served[n]["help"]) for n in java
             if java[n]["help"] != served[n]["help"]}
    assert not helps, f"(Java's HELP, served HELP): {helps}"


def test_samples_shaped_as_java(java, served):
    fams = _load("prometheus-families.json")
    for n in java:
        shapes = []
        for name, labels, _ in served[n]["samples"]:
            shape = adminlib.sample_shape(n, name, labels)
            if shape not in shapes:
                shapes.append(shape)
        assert (shapes or None) == fams[n]["shapes"], n
    # the same samples: names and label values (the namespace "adm" of the state)
    want, got = _samples(java), _samples(served)
    assert sorted(set(want) - set(got)) == [], "samples Java has that are missing"
    assert sorted(set(got) - set(want)) == [], "samples Java does not have"


def test_values_by_type_and_as_java_where_the_state_decides_them(java, served):
    got = _samples(served)
    counts = {}
    for key, (fam, name, labels, v) in got.items():
        kind = served[fam]["type"]
        rest = [kv for kv in labels if kv[0] != "quantile"]
        if kind == "summary" and name == fam + "_count":
            counts[(fam, tuple(rest))] = v
        if kind == "counter" or name in (fam + "_count", fam + "_sum"):
            assert v >= 0 and math.isfinite(v), key
        if kind == "counter" and fam != "process_cpu_seconds_total":
            assert v == int(v), key
        if kind == "gauge":
            assert math.isfinite(v), key
    for key, (fam, name, labels, v) in got.items():
        if served[fam]["type"] == "summary" and name == fam:
            rest = tuple(kv for kv in labels if kv[0] != "quantile")
            # NaN exactly while the summary has no observation
            assert math.isnan(v) == (counts[(fam, rest)] == 0), key
    differ = {}
    for key, (fam, name, labels, want) in _samples(java).items():
        quantile = any(k == "quantile" for k, _ in labels)
        timed = fam in TIMED and name != fam + "_count"
        if quantile or timed or key in KNOWN or key in HARNESS:
            continue
        have = got[key][3]
        if not (have == want or (math.isnan(have) and math.isnan(want))):
            differ[key] = (want, have)
    assert not differ, f"(Java's value, served value): {differ}"


def test_known_differences_still_hold(java, served):
    """Each KNOWN entry names a value that really differs: one that FerroKeeper comes to
    match is taken off the list (and so checked from then on)."""
    want, got = _samples(java), _samples(served)
    same = [k for k in KNOWN if want[k][3] == got[k][3]]
    assert not same, f"now equal to Java's, drop them from KNOWN: {same}"


def test_mntr_lists_java_s_keys(quiet):
    java_keys = {k for k, _ in adminlib.mntr_pairs(_load(f"{CAPTURE}-mntr.txt"))
                 if not any(k == j or k.startswith(j + "{") or k.startswith(j + "_")
                            for j in JVM_ONLY)}
    ours, own = adminlib.split_own(quiet["mntr"])
    assert sorted(java_keys ^ {k for k, _ in ours}) == []
    adminlib.assert_own_counters(own)


def test_mntr_monitor_and_metrics_agree(quiet):
    mntr = quiet["mntr"]
    assert [k for k, _ in mntr[:2]] == ["version", "server_state"]
    monitor = {k: v for k, v in quiet["monitor"].items() if k not in ("command", "error")}
    assert list(monitor) == [k for k, _ in mntr], "monitor lists mntr's keys in its order"
    _, _, samples = adminlib.parse_exposition(quiet["metrics_after"][2])
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
