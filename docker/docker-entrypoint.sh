#!/usr/bin/env bash
# docker-entrypoint.sh — the FerroKeeper image's entrypoint, with the
# environment interface of the official Docker Hub `zookeeper` image, so a
# compose file or manifest written for that image runs FerroKeeper unchanged.
#
# What it does (the official image's semantics, checked against its 3.8
# entrypoint and Dockerfile):
#  1. Run as root (`docker run --user 0`) with the server as the command:
#     hand the data, log and config directories to the `zookeeper` user and
#     re-run this script as that user.
#  2. If $ZOO_CONF_DIR/zoo.cfg does not exist, write it: dataDir, dataLogDir,
#     tickTime, initLimit, syncLimit, autopurge.snapRetainCount,
#     autopurge.purgeInterval, maxClientCnxns, standaloneEnabled,
#     admin.enableServer (in this order); then each whitespace-separated
#     word of $ZOO_SERVERS on its own line (default
#     "server.1=localhost:2888:3888;2181"); then 4lw.commands.whitelist if
#     $ZOO_4LW_COMMANDS_WHITELIST is set; then each word of $ZOO_CFG_EXTRA.
#     An existing zoo.cfg is never touched.
#  3. If $ZOO_DATA_DIR/myid does not exist, write ${ZOO_MY_ID:-1} to it.
#  4. exec the command (default: zkServer.sh start-foreground, which execs
#     ferrokeeper), so the server is PID 1 and gets `docker stop`'s SIGTERM.
# The image's ZOO_LOG_LEVEL (a log4j level) becomes FERROKEEPER_LOG unless
# that is set; ZOO_LOG_DIR is where `zkServer.sh start` (not the default
# start-foreground, which logs to stdout) writes its output.
set -euo pipefail

: "${ZOO_CONF_DIR:=/conf}" "${ZOO_DATA_DIR:=/data}" "${ZOO_DATA_LOG_DIR:=/datalog}" "${ZOO_LOG_DIR:=/logs}"
: "${ZOO_TICK_TIME:=2000}" "${ZOO_INIT_LIMIT:=5}" "${ZOO_SYNC_LIMIT:=2}"
: "${ZOO_AUTOPURGE_PURGEINTERVAL:=0}" "${ZOO_AUTOPURGE_SNAPRETAINCOUNT:=3}"
: "${ZOO_MAX_CLIENT_CNXNS:=60}" "${ZOO_STANDALONE_ENABLED:=true}" "${ZOO_ADMINSERVER_ENABLED:=true}"
: "${ZOO_LOG_LEVEL:=INFO}"
export ZOO_CONF_DIR ZOO_DATA_DIR ZOO_DATA_LOG_DIR ZOO_LOG_DIR

# 1. root → the zookeeper user (setpriv is in util-linux, in every Debian).
if [ "$(id -u)" = 0 ] && { [ "${1:-}" = zkServer.sh ] || [ "${1:-}" = ferrokeeper ]; } &&
  id zookeeper >/dev/null 2>&1; then
  mkdir -p "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR" "$ZOO_CONF_DIR"
  chown -R zookeeper:zookeeper "$ZOO_DATA_DIR" "$ZOO_DATA_LOG_DIR" "$ZOO_LOG_DIR" "$ZOO_CONF_DIR"
  exec setpriv --reuid=zookeeper --regid=zookeeper --init-groups "$0" "$@"
fi

# Splits on blanks without expanding globs (a plain unquoted $VAR would).
words() {
  local -a w
  read -r -d '' -a w <<<"$1" || true
  if [ "${#w[@]}" -gt 0 ]; then printf '%s\n' "${w[@]}"; fi
}

# 2. zoo.cfg, only when absent.
CONFIG="$ZOO_CONF_DIR/zoo.cfg"
if [ ! -f "$CONFIG" ]; then
  mkdir -p "$ZOO_CONF_DIR"
  {
    echo "dataDir=$ZOO_DATA_DIR"
    echo "dataLogDir=$ZOO_DATA_LOG_DIR"
    echo "tickTime=$ZOO_TICK_TIME"
    echo "initLimit=$ZOO_INIT_LIMIT"
    echo "syncLimit=$ZOO_SYNC_LIMIT"
    echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
    echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
    echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
    echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
    echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
    words "${ZOO_SERVERS:-server.1=localhost:2888:3888;2181}"
    if [ -n "${ZOO_4LW_COMMANDS_WHITELIST:-}" ]; then
      echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST"
    fi
    words "${ZOO_CFG_EXTRA:-}"
  } >"$CONFIG.tmp.$$"
  mv "$CONFIG.tmp.$$" "$CONFIG"
fi

# 3. myid, only when absent.
mkdir -p "$ZOO_DATA_DIR"
if [ ! -f "$ZOO_DATA_DIR/myid" ]; then
  echo "${ZOO_MY_ID:-1}" >"$ZOO_DATA_DIR/myid"
fi

# log4j level → tracing filter.
if [ -z "${FERROKEEPER_LOG:-}" ]; then
  case "${ZOO_LOG_LEVEL^^}" in
    TRACE | ALL) FERROKEEPER_LOG=trace ;;
    DEBUG) FERROKEEPER_LOG=debug ;;
    WARN) FERROKEEPER_LOG=warn ;;
    ERROR | FATAL) FERROKEEPER_LOG=error ;;
    OFF) FERROKEEPER_LOG=off ;;
    *) FERROKEEPER_LOG=info ;;
  esac
  export FERROKEEPER_LOG
fi
export ZOOCFGDIR="${ZOOCFGDIR:-$ZOO_CONF_DIR}"

# 4.
exec "$@"
