#!/usr/bin/env python3
"""compare_table.py RESULTS.jsonl - markdown table of a bench/compare.sh run: Java ZooKeeper 3.8 and
FerroKeeper side by side, with the ratio FerroKeeper / Java for every number.

Input lines (written by compare.sh): one "meta" line, zkload "run" lines tagged with server/workload,
zkload "populate" chunk lines, one "populate-summary" line per server, "failed" lines for runs that failed.
"""
import json
import sys

SERVERS = ("java", "ferrokeeper")
NAMES = {"java": "Java ZK 3.8", "ferrokeeper": "FerroKeeper"}


def disturbance(j):
    """CPU s other processes used during a run; -1 exactly means unknown. Small negatives are tick noise (~0)."""
    o = j.get("other_cpu_s", -1)
    return 1e9 if o == -1 else max(o, 0.0)


def load(path):
    meta, runs, pops, failed = {}, {}, {}, []
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        j = json.loads(line)
        m = j.get("mode")
        if m == "meta":
            meta = j
        elif m == "run":
            # several attempts (compare.sh reruns disturbed runs): keep the one least disturbed by other processes
            k = (j["server"], j["workload"])
            if k not in runs or disturbance(j) < disturbance(runs[k]):
                runs[k] = j
        elif m == "populate-summary":
            pops[j["server"]] = j
        elif m in ("failed", "died"):
            failed.append(j)
    return meta, runs, pops, failed


def num(x):
    return x if isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 else None


def fmt(x, nd=0):
    if x is None:
        return "–"
    if nd:
        return f"{x:,.{nd}f}"
    return f"{x:,.0f}"


def main(path):
    meta, runs, pops, failed = load(path)
    p = meta.get("params", {})
    rows = []  # (metric, java, fk, decimals, better)

    def run_val(server, wl, f):
        j = runs.get((server, wl))
        return num(f(j)) if j else None

    cpus, dur = meta.get("cpus") or 0, p.get("dur") or 0
    busy_frac = 0.25

    def busy(wl):
        for s in SERVERS:
            o = num((runs.get((s, wl)) or {}).get("other_cpu_s"))
            if o is not None and cpus and dur and o > busy_frac * cpus * dur:
                return True
        return False

    def add_run(metric, wl, f, nd=0, better="higher"):
        if busy(wl):
            metric += " ⚠"
        rows.append((metric, run_val("java", wl, f), run_val("ferrokeeper", wl, f), nd, better))

    ops = lambda j: j["ops_per_sec"]
    cpu = lambda j: j["server_cpu_us_per_op"]
    pct = lambda k: (lambda j: j["latency_us"][k])

    add_run("read throughput (100% getData), ops/s", "read", ops)
    add_run("mixed throughput (90% get / 10% set), ops/s", "mixed", ops)
    add_run("write throughput (100% setData), ops/s", "write", ops)
    add_run("server CPU µs/op, read", "read", cpu, 1, "lower")
    add_run("server CPU µs/op, mixed", "mixed", cpu, 1, "lower")
    add_run("server CPU µs/op, write", "write", cpu, 1, "lower")
    add_run("p99 µs, read (closed loop)", "read", pct("p99"), 0, "lower")
    add_run("p99 µs, mixed (closed loop)", "mixed", pct("p99"), 0, "lower")
    add_run("p99 µs, write (closed loop)", "write", pct("p99"), 0, "lower")
    r = p.get("rate", "?")
    rm = p.get("rate_mix", "?")
    add_run(f"open loop {r} ops/s ({rm}% get): achieved ops/s", "latency", ops)
    add_run(f"open loop {r} ops/s: p50 µs", "latency", pct("p50"), 0, "lower")
    add_run(f"open loop {r} ops/s: **p99 µs**", "latency", pct("p99"), 0, "lower")
    add_run(f"open loop {r} ops/s: p99.9 µs", "latency", pct("p999"), 0, "lower")
    add_run(f"open loop {r} ops/s: server CPU µs/op", "latency", cpu, 1, "lower")

    def pop_val(server, k, scale=1.0):
        s = pops.get(server)
        v = num(s.get(k)) if s else None
        return v * scale if v is not None else None

    def add_pop(metric, k, nd=0, better="lower", scale=1.0):
        rows.append((metric, pop_val("java", k, scale), pop_val("ferrokeeper", k, scale), nd, better))

    add_pop("populate: znodes created (N)", "znodes", better="")
    add_pop("populate: creates/s", "creates_per_sec", better="higher")
    add_pop("RSS before populate, MiB", "rss_before_kb", 1, scale=1 / 1024)
    add_pop("RSS after populate, MiB", "rss_after_kb", 1, scale=1 / 1024)
    add_pop("**bytes per znode** (RSS growth / N)", "bytes_per_znode", 1)
    add_pop("dataDir size after populate, MiB", "data_dir_bytes", 1, better="", scale=1 / 2**20)

    errs = {}
    other = {}
    for (s, wl), j in runs.items():
        errs[s] = errs.get(s, 0) + sum(j.get("errors", {}).values())
        o = num(j.get("other_cpu_s"))
        if o is not None:
            other[s] = max(other.get(s, 0.0), o)
    for s in SERVERS:
        if s in pops:
            errs[s] = errs.get(s, 0)
    rows.append(("request errors (all runs)", errs.get("java"), errs.get("ferrokeeper"), 0, "lower"))
    cli = {}
    for (s, wl), j in runs.items():
        c = num(j.get("client_cpu_s"))
        if c is not None and wl != "latency":
            cli[s] = max(cli.get(s, 0.0), c)
    rows.append((f"load generator CPU s in a {p.get('dur')} s closed-loop run (max)", cli.get("java"), cli.get("ferrokeeper"), 1, ""))
    rows.append(("CPU s used by other processes during a run (max)", other.get("java"), other.get("ferrokeeper"), 2, ""))

    print(f"## FerroKeeper vs Java ZooKeeper 3.8 — one run, one machine")
    print()
    print(f"- machine: {meta.get('host', '?')}, {meta.get('cpus', '?')} CPUs ({meta.get('cpu_model', '?')}), "
          f"{(meta.get('mem_total_kb') or 0) / 2**20:.1f} GiB, kernel {meta.get('kernel', '?')}; started {meta.get('started', '?')}, "
          f"load average then {meta.get('loadavg_at_start', '?')}")
    print(f"- FerroKeeper: git {meta.get('git_rev', '?')}{' (dirty)' if meta.get('git_dirty') else ''}; "
          f"Java: {meta.get('zookeeper_jar', '?').rsplit('/', 1)[-1]} on {meta.get('java', '?')}, -Xmx{p.get('zk_heap', '?')}")
    print(f"- closed loop: {p.get('clients')} sessions × {p.get('window')} outstanding requests, "
          f"{p.get('warm')} s warm-up + {p.get('dur')} s measured, {p.get('znodes')} znodes of {p.get('value')} B; "
          f"open loop: {r} ops/s over {p.get('rate_clients')} sessions (latency from the intended send time)")
    pj, pf = pops.get("java", {}), pops.get("ferrokeeper", {})
    n_req = p.get("pop_n")
    ns = {s: pops[s]["znodes"] for s in pops}
    if ns and any(n != n_req for n in ns.values()):
        print(f"- **memory: populated {', '.join(f'{NAMES[s]} {n:,}' for s, n in ns.items())} znodes, "
              f"not the requested {n_req:,}** (time budget {p.get('pop_budget_s')} s per server; "
              f"FerroKeeper is asked for as many as Java reached)")
    else:
        print(f"- memory: {n_req:,} znodes of {p.get('value')} B, each server fresh and alone")
    print()
    print("| metric | Java ZK 3.8 | FerroKeeper | FerroKeeper / Java | better |")
    print("|---|---:|---:|---:|---|")
    for metric, jv, fv, nd, better in rows:
        ratio = f"{fv / jv:.2f}×" if jv and fv is not None else "–"
        if better == "":
            ratio = ratio if metric.startswith("dataDir") else "–"
        print(f"| {metric} | {fmt(jv, nd)} | {fmt(fv, nd)} | {ratio} | {better} |")
    gj = num(pj.get("bytes_per_znode_after_full_gc"))
    hj = num(pj.get("java_heap_used_bytes_per_znode"))
    fb = num(pf.get("bytes_per_znode"))
    if gj is not None or hj is not None:
        print()
        txt = ("Java's RSS growth includes heap the JVM committed lazily (up to -Xmx) but does not need. "
               "After a forced full GC (`jcmd PID GC.run`)")
        if gj is not None:
            txt += f" Java's RSS growth is {gj:,.1f} bytes/znode" + (f" (FerroKeeper / that: {fb / gj:.2f}×)" if fb and gj > 0 else "")
        if hj is not None:
            txt += ("," if gj is not None else "") + f" and its live heap is {hj:,.1f} bytes/znode" \
                + (f" (FerroKeeper / that: {fb / hj:.2f}×)" if fb and hj > 0 else "") \
                + " (whole live heap / N, empty-server state included): the lowest figure one can argue for Java"
        print(txt + ".")
    notes = []
    dj, df = num(pj.get("data_dir_bytes")), num(pf.get("data_dir_bytes"))
    if dj and df is not None and df < 0.01 * dj:
        notes.append(f"FerroKeeper wrote {df / 2**20:.1f} MiB to its dataDir against Java's {dj / 2**20:,.0f} MiB: "
                     "it does not persist transactions (yet), while Java fsyncs its transaction log (forceSync=yes), "
                     "so write and create numbers compare in-memory with durable.")
    busy_wl = sorted({wl for (s, wl) in runs if busy(wl)})
    if busy_wl:
        notes.append(f"⚠ = other processes used more than {busy_frac:.0%} of the machine ({cpus} CPUs × {dur} s) during the "
                     f"{'/'.join(busy_wl)} run of at least one server (compare.sh already retried it once): those rows are disturbed; rerun "
                     "compare.sh on a quieter machine before quoting them.")
    for s in SERVERS:
        c, o = cli.get(s), other.get(s, 0.0)
        if c is not None and cpus and dur and c > 0.6 * cpus * dur:
            notes.append(f"The load generator used {c:.1f} of {cpus * dur} CPU s in a {NAMES[s]} closed-loop run: "
                         f"throughput there is limited by the client sharing the {cpus} CPUs; compare server CPU µs/op instead.")
    if notes:
        print()
        for n in notes:
            print(f"- **note:** {n}")
    if failed:
        print()
        for f in failed:
            if f.get("mode") == "died":
                print(f"- **DIED**: {NAMES.get(f['server'], f['server'])} (pid {f.get('pid')}) exited during {f['workload']}; "
                      "its log tail is in logs/ next to results.jsonl")
            else:
                print(f"- FAILED: {NAMES.get(f['server'], f['server'])} {f['workload']} (exit {f['rc']}{', timed out' if f['rc'] == 124 else ''})")
    print()
    print("Ratios are the only numbers to quote: absolute figures depend on this (small, shared) machine and "
          "the load generator shares its CPUs with the server.")


def progress(label):
    """one line on stderr per load-generator result, while compare.sh runs"""
    j = json.loads(sys.stdin.readline())
    if j.get("mode") == "run":
        lat = j["latency_us"]
        print(f"  {label}: {j['ops_per_sec']:,.0f} ops/s  p50={lat['p50']} p99={lat['p99']} p999={lat['p999']} µs  "
              f"server {j['server_cpu_us_per_op']} µs/op  other-cpu {j['other_cpu_s']} s  errors {j['errors']}")
    else:
        print(f"  {label}: created {j.get('created')} in {j.get('elapsed_s')} s ({j.get('creates_per_sec')}/s), "
              f"rss {j.get('rss_before_kb')} -> {j.get('rss_after_1s_kb')} kB, errors {j.get('errors')}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--progress":
        progress(sys.argv[2])
    else:
        main(sys.argv[1])
