#!/usr/bin/env bash
# run.sh - the AdminServer and Prometheus /metrics suites against fresh FerroKeepers, each
# started from a generated zoo.cfg on free loopback ports and stopped by its pid: one with
# ZooKeeper's default metrics provider for test_admin.py (replies vs Java 3.8.0's), two
# with the Prometheus provider for test_metrics.py (/metrics vs Java 3.8.0's, with
# exportJvmInfo at its default and =false). Prints "N passed, M failed" last.
#
#   compat-tests/admin/run.sh [FERROKEEPER_BINARY]     (default: target/release/ferrokeeper)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${1:-$REPO/target/release/ferrokeeper}
PY=${PYTHON:-python3}
mkdir -p "$HERE/../.work"
D=$(mktemp -d "$HERE/../.work/admin-run.XXXXXX")
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  rm -rf "$D"
}
trap cleanup EXIT INT TERM

if [ ! -x "$BIN" ]; then echo "run.sh: no server binary at $BIN"; echo "0 passed, 1 failed"; exit 1; fi
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
passed=0; failed=0

# start_server NAME EXTRA_CFG -> PORT ADMIN [METRICS] in globals; the server pid in PID
start_server() {
  local dir="$D/$1"
  PORT=$(free_port); ADMIN=$(free_port); METRICS=$(free_port)
  mkdir -p "$dir/data"
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
dataDir=$dir/data
clientPort=$PORT
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.serverAddress=127.0.0.1
admin.serverPort=$ADMIN
CFG
  printf '%b' "${2//@METRICS@/$METRICS}" >>"$dir/zoo.cfg"
  "$BIN" "$dir/zoo.cfg" >"$dir/server.log" 2>&1 </dev/null &
  PID=$!
  for _ in $(seq 1 100); do
    "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && return 0
    [ -d "/proc/$PID" ] || break
    sleep 0.1
  done
  echo "run.sh: the $1 server did not start:"; tail -20 "$dir/server.log"
  return 1
}

stop_server() { kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; PID=; }

# run_tests FILE: pytest on FILE against the running server; adds to the counts. CAPTURE
# names the Java /metrics capture test_metrics.py compares with (default metrics).
run_tests() {
  local log="$D/$(basename "$1" .py).log" p f
  (cd "$HERE/.." && ZK_CONNECT="127.0.0.1:$PORT" ZK_ADMIN="127.0.0.1:$ADMIN" \
    ZK_METRICS="127.0.0.1:$METRICS" ZK_METRICS_CAPTURE="${CAPTURE:-metrics}" \
    timeout -k 5 120 "$PY" -m pytest -q -rfE "admin/$1") 2>&1 | tee "$log"
  p=$(grep -Eo '[0-9]+ passed' "$log" | tail -1 | grep -Eo '[0-9]+')
  f=$(grep -Eo '[0-9]+ (failed|error)' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
  [ -z "${p:-}" ] && [ "${f:-0}" = 0 ] && f=1
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

# check NAME COMMAND...: one pass or fail.
check() {
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); echo "ok   curl: $name"
  else failed=$((failed + 1)); echo "FAIL curl: $name"; fi
}

# curl_checks: what an operator's scripts do, with curl itself, against the running
# server (AdminServer and /metrics both on): answers as Java 3.8.0's captures show.
curl_checks() {
  local a="http://127.0.0.1:$ADMIN" m="http://127.0.0.1:$METRICS"
  check "GET /commands/ruok is JSON naming the command, no error" bash -c \
    "curl -sSf '$a/commands/ruok' | grep -q '\"command\" : \"ruok\"' && curl -sSf '$a/commands/ruok' | grep -q '\"error\" : null'"
  check "GET /commands/monitor: 200 application/json" bash -c \
    "[ \"\$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' '$a/commands/monitor')\" = '200 application/json' ]"
  check "GET /commands/monitor has znode_count as a number" bash -c \
    "curl -sSf '$a/commands/monitor' | grep -Eq '\"znode_count\" : [0-9]+'"
  check "GET /commands lists the commands as links" bash -c \
    "curl -sSf '$a/commands' | grep -q 'href=\"/commands/watch_summary\"'"
  check "POST /commands/ruok: 405" bash -c \
    "[ \"\$(curl -sS -o /dev/null -w '%{http_code}' -X POST '$a/commands/ruok')\" = 405 ]"
  check "GET /metrics: znode_count a gauge with a value" bash -c \
    "curl -sSf '$m/metrics' | grep -q '^# TYPE znode_count gauge' && curl -sSf '$m/metrics' | grep -Eq '^znode_count [0-9.]+\$'"
  check "GET /metrics?name[]=fsynctime: only that summary" bash -c \
    "curl -sSfg '$m/metrics?name[]=fsynctime' | grep -v '^#' | cut -d'{' -f1 | cut -d' ' -f1 | sort -u | grep -vxE 'fsynctime(_count|_sum)?' | wc -l | grep -qx 0"
}

# 1. ZooKeeper's default metrics provider: every AdminServer reply against Java's.
if start_server default ""; then run_tests test_admin.py; else failed=$((failed + 1)); fi
stop_server
# 2. The Prometheus provider: /metrics against ZooKeeper's families and against mntr.
PROM="metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"
PROM+="metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=@METRICS@\n"
if start_server prometheus "$PROM"; then
  run_tests test_metrics.py
  curl_checks
else
  failed=$((failed + 1))
fi
stop_server
# 3. The same with exportJvmInfo=false: Java then serves neither jvm_* nor process_*.
if start_server prometheus-nojvm "${PROM}metricsProvider.exportJvmInfo=false\n"; then
  CAPTURE=metrics-nojvm run_tests test_metrics.py
else
  failed=$((failed + 1))
fi
stop_server

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
