#!/usr/bin/env bash
# capture.sh - (re)make the reference captures in java-3.8.0/ from Debian's Java ZooKeeper
# 3.8.0 with its Jetty AdminServer enabled, on free loopback ports; the server is stopped
# at the end.
#
#   compat-tests/admin/capture.sh [OUTDIR]        (default: compat-tests/admin/java-3.8.0)
#
# Debian's zkServer.sh runs with CLASSPATH=zookeeper.jar, whose manifest names the Jetty
# jars but not the servlet API, so a packaged server logs "Unable to load jetty, not
# starting JettyAdminServer" (NoClassDefFoundError: javax/servlet/Servlet) and runs without
# the AdminServer. Adding /usr/share/java/servlet-api.jar is all it takes to start it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/java-3.8.0}
mkdir -p "$HERE/../.work"
D=$(mktemp -d "$HERE/../.work/admin-capture.XXXXXX")
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
ADMIN=$(free_port)
start_java "$D/java" "$ADMIN"
ZK_CONNECT="127.0.0.1:$PORT" ZK_ADMIN="127.0.0.1:$ADMIN" python3 "$HERE/capture.py" "$OUT"
