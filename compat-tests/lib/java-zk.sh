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
# The work is done by javazk.py beside this file (the one place that starts Java ZooKeeper).
set -euo pipefail
LIB=$(cd "$(dirname "$0")" && pwd)/javazk.py
WL=${JAVA_ZK_4LW_WHITELIST:-*}
case "${1:-}" in
  start)
    [ $# -eq 2 ] || { echo "java-zk: usage: start DIR" >&2; exit 1; }
    if [ "$WL" = default ]; then wl=(--unset 4lw.commands.whitelist); else wl=(--set "4lw.commands.whitelist=$WL"); fi
    exec python3 "$LIB" start "$2" --heap 512m "${wl[@]}" --set extendedTypesEnabled=true \
      -D "znode.container.checkIntervalMs=${COMPAT_CONTAINER_CHECK_MS:-1000}" ;;
  stop)
    [ $# -eq 2 ] || { echo "java-zk: usage: stop DIR" >&2; exit 1; }
    exec python3 "$LIB" stop "$2" --timeout 10 ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
