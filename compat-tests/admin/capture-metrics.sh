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
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  rm -rf "$D"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
J=/usr/share/java
CP="$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar:$J/servlet-api.jar:$EXTRA"

# capture SUFFIX EXTRA_CFG: one server, its captures, stopped.
capture() {
  local dir="$D/run$1" port admin metrics
  port=$(free_port); admin=$(free_port); metrics=$(free_port)
  mkdir -p "$dir/data"
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.serverAddress=127.0.0.1
admin.serverPort=$admin
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpHost=127.0.0.1
metricsProvider.httpPort=$metrics
CFG
  printf '%b' "$2" >>"$dir/zoo.cfg"
  java -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >"$dir/zk.log" 2>&1 </dev/null &
  PID=$!
  for _ in $(seq 1 300); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
    [ -d "/proc/$PID" ] || { cat "$dir/zk.log" >&2; exit 1; }
    sleep 0.1
  done
  ZK_CONNECT="127.0.0.1:$port" ZK_ADMIN="127.0.0.1:$admin" ZK_METRICS="127.0.0.1:$metrics" \
    python3 "$HERE/capture_metrics.py" "$OUT" "$1"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=
}

capture "" ""
capture "-nojvm" "metricsProvider.exportJvmInfo=false\n"
python3 "$HERE/derive_families.py" "$OUT/metrics.txt" "$OUT/metrics-nojvm.txt" "$OUT/prometheus-families.json"
