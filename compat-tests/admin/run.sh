#!/usr/bin/env bash
# run.sh - the AdminServer and Prometheus /metrics suite (test_admin.py) against a fresh
# FerroKeeper: starts the binary from a generated zoo.cfg (clients, admin.serverPort and
# metricsProvider.httpPort on free loopback ports, the Prometheus provider selected), runs
# the tests, stops that server (only its pid). Prints "N passed, M failed" last.
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
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$D"; }
trap cleanup EXIT INT TERM

if [ ! -x "$BIN" ]; then echo "run.sh: no server binary at $BIN"; echo "0 passed, 1 failed"; exit 1; fi
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); ADMIN=$(free_port); METRICS=$(free_port)
mkdir -p "$D/data"
cat >"$D/zoo.cfg" <<CFG
tickTime=2000
dataDir=$D/data
clientPort=$PORT
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.serverAddress=127.0.0.1
admin.serverPort=$ADMIN
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpHost=127.0.0.1
metricsProvider.httpPort=$METRICS
CFG
"$BIN" "$D/zoo.cfg" >"$D/server.log" 2>&1 </dev/null &
PID=$!
up=0
for _ in $(seq 1 100); do
  "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && { up=1; break; }
  [ -d "/proc/$PID" ] || break
  sleep 0.1
done
if [ "$up" != 1 ]; then
  echo "run.sh: the server did not start:"; tail -20 "$D/server.log"
  echo "0 passed, 1 failed"; exit 1
fi
cd "$HERE/.." && ZK_CONNECT="127.0.0.1:$PORT" ZK_ADMIN="127.0.0.1:$ADMIN" ZK_METRICS="127.0.0.1:$METRICS" \
  timeout -k 5 120 "$PY" -m pytest -q -rfE admin 2>&1 | tee "$D/pytest.log"
p=$(grep -Eo '[0-9]+ passed' "$D/pytest.log" | tail -1 | grep -Eo '[0-9]+')
f=$(grep -Eo '[0-9]+ (failed|error)' "$D/pytest.log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
[ -z "${p:-}" ] && [ "${f:-0}" = 0 ] && f=1
echo "${p:-0} passed, ${f:-0} failed"
[ "${f:-0}" = 0 ]
