#!/usr/bin/env bash
# java-zk.sh - start/stop a real Apache ZooKeeper 3.8 (Debian package `zookeeper`) on loopback,
# for checking that the compat suites' expectations are the reference server's behaviour.
#
#   java-zk.sh start DIR    writes DIR/zoo.cfg (free loopback port), starts the server,
#                           waits until it serves, prints "PID PORT"
#   java-zk.sh stop DIR     SIGTERM the server started in DIR (only that pid), SIGKILL after 10 s
#
# Server settings (see README.md, "Server configuration the suites assume"):
#   extendedTypesEnabled=true (TTL nodes), 4lw.commands.whitelist=*, maxClientCnxns=0,
#   clientPortAddress=127.0.0.1, and JVM flag -Dznode.container.checkIntervalMs=1000 so that
#   empty containers and expired TTL nodes are reaped within ~1 s instead of 60 s.
# JAVA_ZK_4LW_WHITELIST (default "*") sets 4lw.commands.whitelist; "default" leaves it unset.
set -euo pipefail

J=/usr/share/java
CP="$J/zookeeper.jar:$J/zookeeper-jute.jar:$J/slf4j-api.jar:$J/slf4j-simple.jar"
CHECK_MS=${COMPAT_CONTAINER_CHECK_MS:-1000}

die() { echo "java-zk: $*" >&2; exit 1; }

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

ruok() { # PORT -> prints the answer of the 4lw "ruok", or nothing
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'ruok' >&3 && timeout 2 cat <&3 ) 2>/dev/null || true
}

start() {
  local dir=$1 port pid i
  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  port=$(free_port)
  local wl="4lw.commands.whitelist=${JAVA_ZK_4LW_WHITELIST:-*}"
  [ "${JAVA_ZK_4LW_WHITELIST:-*}" = default ] && wl="# 4lw.commands.whitelist: default"
  cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
$wl
admin.enableServer=false
extendedTypesEnabled=true
CFG
  nohup java -Xmx512m -Dzookeeper.admin.enableServer=false \
    -Dznode.container.checkIntervalMs="$CHECK_MS" \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >"$dir/zk.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/zk.pid"
  # wait (bounded: 60 s) until the server answers "imok"
  for ((i = 0; i < 600; i++)); do
    case "$(ruok "$port")" in
      imok | "ruok is not executed"*) echo "$pid $port"; return 0 ;;
    esac
    [ -d "/proc/$pid" ] || { tail -20 "$dir/zk.log" >&2; die "server exited"; }
    sleep 0.1
  done
  tail -20 "$dir/zk.log" >&2
  stop "$dir"
  die "server pid $pid did not serve on port $port within 60 s"
}

stop() {
  local dir=$1 pid i
  [ -f "$dir/zk.pid" ] || return 0
  pid=$(cat "$dir/zk.pid")
  # only our own java: its command line names DIR/zoo.cfg
  if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$dir/zoo.cfg"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/zk.pid"
}

case "${1:-}" in
  start) [ $# -eq 2 ] || die "usage: start DIR"; start "$2" ;;
  stop) [ $# -eq 2 ] || die "usage: stop DIR"; stop "$(cd "$2" && pwd)" ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
