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
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi
  rm -rf "$D"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
ADMIN=$(free_port)
mkdir -p "$D/data"
cat >"$D/zoo.cfg" <<CFG
tickTime=2000
dataDir=$D/data
clientPort=$PORT
clientPortAddress=127.0.0.1
4lw.commands.whitelist=*
admin.serverAddress=127.0.0.1
admin.serverPort=$ADMIN
CFG
J=/usr/share/java
CP="$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar:$J/servlet-api.jar"
java -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "$CP" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$D/zoo.cfg" >"$D/zk.log" 2>&1 </dev/null &
PID=$!
for _ in $(seq 1 300); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$ADMIN),0.2)" 2>/dev/null && break
  [ -d "/proc/$PID" ] || { cat "$D/zk.log" >&2; exit 1; }
  sleep 0.1
done
ZK_CONNECT="127.0.0.1:$PORT" ZK_ADMIN="127.0.0.1:$ADMIN" python3 "$HERE/capture.py" "$OUT"
