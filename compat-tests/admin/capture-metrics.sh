#!/usr/bin/env bash
# capture-metrics.sh - (re)make the Prometheus captures in java-3.8.0/ from Debian's Java
# ZooKeeper 3.8.0 run with metricsProvider.className=...PrometheusMetricsProvider, then
# regenerate prometheus-families.json from them. Two standalone servers, one after the
# other, on free loopback ports, each stopped by its pid:
#
#   exportJvmInfo unset (default true) -> metrics.txt, metrics-mntr.txt, metrics-index.json
#   exportJvmInfo=false                -> metrics-nojvm.txt, ...-mntr.txt, ...-index.json
#
#   compat-tests/admin/capture-metrics.sh [OUTDIR]    (default: compat-tests/admin/java-3.8.0)
#
# The provider and the Prometheus Java client 0.9.0 are not packaged by Debian: they are
# built from source by build-java-prometheus.sh (local git mirrors, javac, no network).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/java-3.8.0}
mkdir -p "$HERE/../.work"
EXTRA=$("$HERE/build-java-prometheus.sh" "$HERE/../.work/java-prometheus")
D=$(mktemp -d "$HERE/../.work/metrics-capture.XXXXXX")
# Java through the suites' one starter (compat-tests/lib/javazk.py): its test zoo.cfg less
# what a default server would not have, the AdminServer left on, servlet-api.jar added.
LIB=$HERE/../lib/javazk.py
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# start_java DIR ADMIN_PORT [javazk start ARGS...] -> PORT; stopped by cleanup or stop_java
start_java() {
  local dir=$1 admin=$2 out; shift 2
  out=$(python3 "$LIB" start "$dir" --unset initLimit --unset syncLimit --unset maxClientCnxns \
    --admin-server --set admin.serverAddress=127.0.0.1 --set "admin.serverPort=$admin" \
    --jar servlet-api.jar "$@") || exit 1
  STARTED+=("$dir")
  PORT=${out#* }
}
stop_java() { python3 "$LIB" stop "$1" >/dev/null || true; }
STARTED=()
cleanup() {
  for s in "${STARTED[@]}"; do stop_java "$s"; done
  rm -rf "$D"
}
trap cleanup EXIT INT TERM

# capture SUFFIX EXTRA_CFG_KEY=VALUE...: one server, its captures, stopped.
capture() {
  local dir="$D/run$1" admin metrics; shift
  admin=$(free_port); metrics=$(free_port)
  local extra=()
  for kv in "$@"; do extra+=(--set "$kv"); done
  start_java "$dir" "$admin" --jar "$EXTRA" \
    --set metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider \
    --set metricsProvider.httpHost=127.0.0.1 --set "metricsProvider.httpPort=$metrics" "${extra[@]}"
  local port=$PORT suffix=${dir##*/run}
  ZK_CONNECT="127.0.0.1:$port" ZK_ADMIN="127.0.0.1:$admin" ZK_METRICS="127.0.0.1:$metrics" \
    python3 "$HERE/capture_metrics.py" "$OUT" "$suffix"
  stop_java "$dir"
}

capture ""
capture "-nojvm" metricsProvider.exportJvmInfo=false
python3 "$HERE/derive_families.py" "$OUT/metrics.txt" "$OUT/metrics-nojvm.txt" "$OUT/prometheus-families.json"
