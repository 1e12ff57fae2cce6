"""Derives the Prometheus metric families ZooKeeper 3.8.0 registers, with their types, from
its source (the Prometheus provider could not be run here: Debian packages neither
zookeeper-prometheus-metrics nor the Prometheus Java client, and only package registries
are reachable). Writes java-3.8.0/prometheus-families.json: {name: "gauge"|"counter"|"summary"}.

    python3 derive_families.py /path/to/zookeeper.git [OUT]

What PrometheusMetricsProvider makes of each registration:
  registerGauge / registerGaugeSet (ZooKeeperServer.registerMetrics)  -> gauge
  getCounter / getCounterSet (ServerMetrics)                           -> counter
  getSummary / getSummarySet, BASIC or ADVANCED (ServerMetrics)        -> summary"""
import json
import os
import re
import subprocess
import sys

TAG = "release-3.8.0-1"
SRV = "zookeeper-server/src/main/java/org/apache/zookeeper/server/"


def show(repo, path):
    return subprocess.run(["git", "-C", repo, "show", f"{TAG}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def main():
    repo = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "java-3.8.0", "prometheus-families.json")
    quota = show(repo, SRV + "util/QuotaMetricsUtils.java")
    consts = dict(re.findall(r'static final String (\w+)\s*=\s*"([^"]+)"', quota))
    families = {}
    zks = show(repo, SRV + "ZooKeeperServer.java")
    body = zks[zks.index("void registerMetrics()"):]
    body = body[:body.index("void unregisterMetrics()")]
    for kind, arg in re.findall(r'rootContext\.(registerGauge|registerGaugeSet)\(\s*([^,]+),', body):
        arg = arg.strip()
        name = arg.strip('"') if arg.startswith('"') else consts[arg.split(".")[-1]]
        families[name] = "gauge"
    sm = show(repo, SRV + "ServerMetrics.java")
    for kind, arg in re.findall(
            r'metricsContext\.(getCounter|getCounterSet|getSummary|getSummarySet)\(\s*([^,)]+)', sm):
        arg = arg.strip()
        name = arg.strip('"') if arg.startswith('"') else consts[arg.split(".")[-1]]
        families[name] = "counter" if kind.startswith("getCounter") else "summary"
    with open(out, "w", encoding="utf-8") as f:
        json.dump(dict(sorted(families.items())), f, indent=1)
        f.write("\n")
    print(f"{len(families)} families into {out}")


if __name__ == "__main__":
    main()
