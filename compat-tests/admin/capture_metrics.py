"""Records the Prometheus side of the server at ZK_CONNECT / ZK_ADMIN / ZK_METRICS (run with
metricsProvider.className=...PrometheusMetricsProvider) into OUTDIR, after putting it in
adminlib's state (the same one capture.py and the tests use):

    metrics[SUFFIX].txt        GET /metrics, the whole body
    metrics[SUFFIX]-mntr.txt   the mntr reply taken right after
    metrics[SUFFIX]-index.json per request: method, path, HTTP status, Content-Type, and
                               for the name[] filtered ones the families and samples kept

    ZK_CONNECT=.. ZK_ADMIN=.. ZK_METRICS=.. python3 capture_metrics.py OUTDIR [SUFFIX]"""
import json
import os
import sys

import adminlib

PREFIX = "/adm"
# (name, method, path): the requests whose status and Content-Type are recorded.
REQUESTS = [
    ("metrics", "GET", "/metrics"),
    ("filtered", "GET", "/metrics?name[]=znode_count"),
    ("filtered_summary_count", "GET", "/metrics?name[]=readlatency_count"),
    ("filtered_two", "GET", "/metrics?name[]=znode_count&name[]=fsynctime"),
    ("filtered_set_sum", "GET", "/metrics?name[]=write_per_namespace_sum"),
    ("filtered_no_samples", "GET", "/metrics?name[]=ack_latency"),
    ("filtered_unknown", "GET", "/metrics?name[]=no_such_metric"),
    ("post", "POST", "/metrics"),
    ("outside", "GET", "/"),
    ("metrics_slash", "GET", "/metrics/"),
]


def main():
    out = sys.argv[1]
    suffix = sys.argv[2] if len(sys.argv) > 2 else ""
    os.makedirs(out, exist_ok=True)
    metrics_addr = os.environ["ZK_METRICS"]
    zk = adminlib.make_state(os.environ["ZK_CONNECT"], PREFIX)
    try:
        body = adminlib.fetch(metrics_addr, "GET", "/metrics")[2]
        mntr = adminlib.four_letter(os.environ["ZK_CONNECT"], "mntr")
        index = {}
        for name, method, path in REQUESTS:
            status, ctype, text = adminlib.fetch(metrics_addr, method, path)
            entry = {"method": method, "path": path, "status": status, "content_type": ctype}
            if name.startswith("filtered"):
                # Sorted: the client walks a HashSet of collectors, so the order
                # of the families varies from one JVM run to the next.
                entry["families"] = sorted(adminlib.parse_exposition(text)[0])
                entry["samples"] = sorted(adminlib.parse_exposition(text)[2])
            index[name] = entry
    finally:
        zk.stop()
        zk.close()
    with open(os.path.join(out, f"metrics{suffix}.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(body)
    with open(os.path.join(out, f"metrics{suffix}-mntr.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(mntr)
    with open(os.path.join(out, f"metrics{suffix}-index.json"), "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print(f"captured /metrics ({len(body.splitlines())} lines) into {out}")


if __name__ == "__main__":
    main()
