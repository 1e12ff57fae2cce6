"""Shared by capture.py (which records Debian's Java ZooKeeper 3.8.0) and the tests
(which compare FerroKeeper with that record): the state both servers are put in, the
AdminServer URLs fetched, and the HTTP client.

The state: one Kazoo session that created PREFIX (data "hello"), PREFIX/child and the
ephemeral PREFIX/eph, and set a data watch on PREFIX, a child watch on PREFIX and an exist
watch on PREFIX/missing. Nothing else talks to the server while the URLs are fetched."""
import http.client
import json
import os
import re
import socket

from kazoo.client import KazooClient

# Every name ZooKeeper 3.8.0's Commands.java registers, primary name first.
COMMANDS = [
    ["connection_stat_reset", "crst"],
    ["configuration", "conf", "config"],
    ["connections", "cons"],
    ["hash"],
    ["dirs"],
    ["dump"],
    ["environment", "env", "envi"],
    ["get_trace_mask", "gtmk"],
    ["initial_configuration", "icfg"],
    ["is_read_only", "isro"],
    ["last_snapshot", "lsnp"],
    ["leader", "lead"],
    ["monitor", "mntr"],
    ["observer_connection_stat_reset", "orst"],
    ["ruok"],
    ["set_trace_mask", "stmk"],
    ["server_stats", "srvr"],
    ["stats", "stat"],
    ["stat_reset", "srst"],
    ["observers", "obsr"],
    ["system_properties", "sysp"],
    ["voting_view"],
    ["watches", "wchc"],
    ["watches_by_path", "wchp"],
    ["watch_summary", "wchs"],
    ["zabstate"],
]

# (name under which the reply is stored, method, path below the server root). Fetched in
# this order. The stat/connection resets come last so the earlier replies see the counters.
def served_addr(var):
    """The HOST:PORT in environment variable `var`, failing the test unless something
    accepts connections there."""
    import pytest
    addr = os.environ.get(var, "").strip()
    if not addr:
        pytest.fail(f"{var} is not set (expected 127.0.0.1:PORT)")
    host, _, port = addr.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=3).close()
    except OSError as e:
        pytest.fail(f"nothing serves {var}={addr}: {e}")
    return addr


def requests():
    out = [("index", "GET", "/commands"), ("index_slash", "GET", "/commands/")]
    resets = {"connection_stat_reset", "crst", "stat_reset", "srst"}
    names = [n for names in COMMANDS for n in names]
    for n in names:
        if n not in resets:
            out.append((n, "GET", "/commands/" + n))
    out += [
        ("set_trace_mask_306", "GET", "/commands/set_trace_mask?traceMask=306"),
        ("set_trace_mask_bad", "GET", "/commands/set_trace_mask?traceMask=abc"),
        ("unknown", "GET", "/commands/no_such_command"),
        ("empty_name", "GET", "/commands//"),
        ("post_ruok", "POST", "/commands/ruok"),
        ("outside", "GET", "/not_commands"),
    ]
    for n in names:
        if n in resets:
            out.append((n, "GET", "/commands/" + n))
    return out


def fetch(addr, method, path, timeout=10):
    """(status, content type or None, body text) of one request to host:port."""
    host, _, port = addr.rpartition(":")
    conn = http.client.HTTPConnection(host or "127.0.0.1", int(port), timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", errors="replace")
        return resp.status, resp.getheader("Content-Type"), body
    finally:
        conn.close()


def make_state(connect, prefix):
    """Creates the state described above; returns the client (keep it open)."""
    zk = KazooClient(hosts=connect, timeout=10)
    zk.start(timeout=15)
    zk.create(prefix, b"hello")
    zk.create(prefix + "/child", b"")
    zk.create(prefix + "/eph", b"e", ephemeral=True)
    zk.get(prefix, watch=lambda e: None)
    zk.get_children(prefix, watch=lambda e: None)
    zk.exists(prefix + "/missing", watch=lambda e: None)
    return zk


def fetch_all(admin):
    """{name: {"status", "content_type", "body"}} for every request, in order."""
    out = {}
    for name, method, path in requests():
        status, ctype, body = fetch(admin, method, path)
        out[name] = {"method": method, "path": path, "status": status,
                     "content_type": ctype, "body": body}
    return out


def as_json(body):
    try:
        return json.loads(body)
    except ValueError:
        return None


def four_letter(connect, word):
    """The whole reply to a four-letter word."""
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


def mntr_pairs(text):
    """mntr's (key without zk_, value text) pairs, in order."""
    out = []
    for line in text.splitlines():
        k, _, v = line.partition("\t")
        out.append((k[3:] if k.startswith("zk_") else k, v))
    return out


# FerroKeeper's own metrics, which Java has no key for: `ferrokeeper_*` in monitor and
# /metrics, `zk_ferrokeeper_*` in mntr, always after Java's keys. The comparisons with Java
# drop them (split_own) and check them on their own (assert_own_counters).
OWN_PREFIX = "ferrokeeper_"
OWN_COUNTERS = ["ferrokeeper_outbox_overflows"]


def is_own(key):
    """A key (without zk_) or sample/family name of FerroKeeper's own."""
    return key.startswith(OWN_PREFIX)


def split_own(pairs):
    """(Java's keys, FerroKeeper's own) from (key, value) pairs in order; the own keys must
    all come after Java's."""
    pairs = list(pairs)
    first = next((i for i, (k, _) in enumerate(pairs) if is_own(k)), len(pairs))
    java, own = pairs[:first], pairs[first:]
    late = [k for k, _ in own if not is_own(k)]
    assert not late, f"Java keys after FerroKeeper's own: {late}"
    return java, own


def assert_own_counters(own):
    """Every own counter present once, in order, with a non-negative integer value."""
    assert [k for k, _ in own] == OWN_COUNTERS, own
    for k, v in own:
        assert float(v) >= 0 and float(v) == int(float(v)), (k, v)


def parse_exposition(text):
    """Prometheus text format 0.0.4: ({family: type}, {family: help}, {sample key: value})."""
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
            if not m:
                raise ValueError(f"not a sample line: {line!r}")
            samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return types, helps, samples


_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",')


def parse_families(text):
    """Prometheus text format 0.0.4 by family, in order: {family: {"type", "help",
    "samples": [(sample name, [(label, value), ...], value text), ...]}}."""
    fams, cur = {}, None
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, h = line[7:].split(" ", 1)
            cur = fams.setdefault(name, {"type": None, "help": h, "samples": []})
        elif line.startswith("# TYPE "):
            name, t = line[7:].split(" ", 1)
            cur = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            cur["type"] = t
        elif line and not line.startswith("#"):
            m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)', line)
            if not m or cur is None:
                raise ValueError(f"not a sample line of a family: {line!r}")
            labels = _LABEL.findall(m.group(2) or "")
            cur["samples"].append((m.group(1), labels, m.group(3)))
    return fams


def sample_shape(family, sample_name, labels):
    """'_count{key}', '{quantile="0.5"}', ...: see derive_families.py."""
    if not sample_name.startswith(family):
        raise ValueError(f"sample {sample_name} outside family {family}")
    names = [f'{k}="{v}"' if k == "quantile" else k for k, v in labels]
    return sample_name[len(family):] + ("{" + ",".join(names) + "}" if names else "")
