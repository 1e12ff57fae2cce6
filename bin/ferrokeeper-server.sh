#!/usr/bin/env bash
# ferrokeeper-server.sh — run FerroKeeper the way ZooKeeper's zkServer.sh
# runs ZooKeeper: the same verbs, environment variables, pid file and exit
# codes, so service scripts written for zkServer.sh keep working. (The
# Docker image links it as zkServer.sh.)
#
#   ferrokeeper-server.sh [--config <conf-dir>] {start|start-foreground|stop|restart|status|print-cmd|version} [zoo.cfg]
#
# Environment (as zkServer.sh / zkEnv.sh):
#   ZOOCFGDIR    configuration directory        (default: <this dir>/../conf)
#   ZOOCFG       config file name in ZOOCFGDIR  (default: zoo.cfg); a second
#                argument names another file, relative to ZOOCFGDIR or a path
#   ZOO_LOG_DIR  where `start` writes the server's output
#                (default: <this dir>/../logs)
#   ZOOPIDFILE   pid file (default: <dataDir>/zookeeper_server.pid)
#   ZOO_DATADIR_AUTOCREATE_DISABLE  non-empty: refuse to start without an
#                existing dataDir/version-2 (and pass -Dzookeeper.datadir.autocreate=false)
#   SERVER_JVMFLAGS, JVMFLAGS       -Dkey=value flags; FerroKeeper reads the
#                ones it knows from the environment itself
#   FERROKEEPER_BIN  the server binary (default: ferrokeeper beside this
#                script, else on PATH)
#   ZOO_START_TIMEOUT / ZOO_STOP_TIMEOUT  seconds `start` waits for the
#                server to answer / `stop` waits for it to exit (default 30)
#
# Exit codes: as zkServer.sh — start 1 if already running or the server did
# not come up; stop 0 (also when nothing runs), 1 only if the process outlived
# ZOO_STOP_TIMEOUT; status 0 with srvr's Mode line ("Mode: standalone", or an
# ensemble member's "Mode: leader" / "Mode: follower"), 1 if the server does
# not answer. Unlike zkServer.sh, an unknown verb exits 2.
set -uo pipefail

ZOOBIN="${BASH_SOURCE[0]:-$0}"
ZOOBINDIR="$(cd "$(dirname "$ZOOBIN")" && pwd)"

if [ "${1:-}" = "--config" ]; then
  shift
  confdir="${1:-}"
  shift
  [ -d "$confdir" ] || { echo "Error: $confdir is not a directory" >&2; exit 1; }
  ZOOCFGDIR="$confdir"
fi
ZOOCFGDIR="${ZOOCFGDIR:-$ZOOBINDIR/../conf}"
ZOOCFG="$ZOOCFGDIR/${ZOOCFG:-zoo.cfg}"
ZOO_LOG_DIR="${ZOO_LOG_DIR:-$ZOOBINDIR/../logs}"

verb="${1:-}"
if [ -n "${2:-}" ]; then
  ZOOCFG="$ZOOCFGDIR/$2"
  # A path with its own directory is used as given (zkServer.sh's rule).
  [ "$(dirname "$ZOOCFG")" != "$ZOOCFGDIR" ] && ZOOCFG="$2"
fi

if [ -n "${FERROKEEPER_BIN:-}" ]; then
  BIN="$FERROKEEPER_BIN"
elif [ -x "$ZOOBINDIR/ferrokeeper" ]; then
  BIN="$ZOOBINDIR/ferrokeeper"
else
  BIN="$(command -v ferrokeeper || echo ferrokeeper)"
fi

# The value of KEY in the config file, as zkServer.sh reads it (first
# match, surrounding blanks trimmed).
cfg_value() {
  grep -E "^[[:space:]]*$1[[:space:]]*[=:]" "$ZOOCFG" 2>/dev/null | head -n 1 |
    sed -e 's/^[^=:]*[=:]//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//'
}

case "$verb" in
  version) exec "$BIN" --version ;;
  start|start-foreground|stop|restart|status|print-cmd) ;;
  *)
    echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|version|restart|status|print-cmd}" >&2
    exit 2
    ;;
esac

echo "Using config: $ZOOCFG" >&2

ZOO_DATADIR="$(cfg_value dataDir)"
ZOO_DATALOGDIR="$(cfg_value dataLogDir)"
if [ -n "${ZOO_DATADIR_AUTOCREATE_DISABLE:-}" ]; then
  if [ ! -d "$ZOO_DATADIR/version-2" ]; then
    echo "ZooKeeper data directory is missing at $ZOO_DATADIR fix the path or run initialize"
    exit 1
  fi
  if [ -n "$ZOO_DATALOGDIR" ] && [ ! -d "$ZOO_DATALOGDIR/version-2" ]; then
    echo "ZooKeeper txnlog directory is missing at $ZOO_DATALOGDIR fix the path or run initialize"
    exit 1
  fi
  SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-} -Dzookeeper.datadir.autocreate=false"
fi
export SERVER_JVMFLAGS="${SERVER_JVMFLAGS:-}"

if [ -z "${ZOOPIDFILE:-}" ]; then
  [ -n "$ZOO_DATADIR" ] && [ ! -d "$ZOO_DATADIR" ] && mkdir -p "$ZOO_DATADIR"
  ZOOPIDFILE="${ZOO_DATADIR:-.}/zookeeper_server.pid"
else
  mkdir -p "$(dirname "$ZOOPIDFILE")"
fi

USER_NAME="${USER:-$(id -un 2>/dev/null || echo user)}"
HOST_NAME="${HOSTNAME:-$(hostname 2>/dev/null || echo host)}"
DAEMON_OUT="$ZOO_LOG_DIR/zookeeper-$USER_NAME-server-$HOST_NAME.out"

# Where `status` asks: clientPortAddress/clientPort, or this server's
# server.<myid> entry's client part (zkServer.sh's lookup order).
client_endpoint() {
  local addr port myid entry
  addr="$(cfg_value clientPortAddress)"
  port="$(cfg_value clientPort)"
  if ! [[ "$port" =~ ^[0-9]+$ ]]; then
    port=""
    myid="$(cat "$ZOO_DATADIR/myid" 2>/dev/null || true)"
    if [[ "$myid" =~ ^[0-9]+$ ]]; then
      entry="$(cfg_value "server\\.$myid")"
      if [[ "$entry" == *";"* ]]; then
        entry="${entry##*;}"
        if [[ "$entry" =~ ^\[(.*)\]:([0-9]+)$ ]]; then
          addr="${BASH_REMATCH[1]}"; port="${BASH_REMATCH[2]}"
        elif [[ "$entry" =~ ^(.*):([0-9]+)$ ]]; then
          addr="${BASH_REMATCH[1]}"; port="${BASH_REMATCH[2]}"
        else
          port="$entry"
        fi
      fi
    fi
  fi
  echo "${addr:-localhost} $port"
}

# The answer to the four-letter word $3 from $1:$2 (bash's /dev/tcp;
# bounded, so a hung server cannot hang the script).
four_letter() {
  # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$1/$2" && printf "%s" "$3" >&3 && cat <&3' _ "$1" "$2" "$3" 2>/dev/null
}

running_pid() { # the pid in the pid file, if that process is alive
  local pid
  [ -f "$ZOOPIDFILE" ] || return 1
  pid="$(cat "$ZOOPIDFILE" 2>/dev/null)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

do_start() {
  local pid addr port t
  echo -n "Starting zookeeper ... "
  if pid="$(running_pid)"; then
    echo "already running as process $pid."
    exit 1
  fi
  mkdir -p "$ZOO_LOG_DIR"
  nohup "$BIN" "$ZOOCFG" >"$DAEMON_OUT" 2>&1 </dev/null &
  pid=$!
  if ! echo -n "$pid" >"$ZOOPIDFILE"; then
    echo "FAILED TO WRITE PID"
    exit 1
  fi
  # STARTED once the server answers srvr (zkServer.sh only waits a second
  # and checks the process is alive); FAILED TO START if it exits first.
  read -r addr port <<<"$(client_endpoint)"
  for ((t = 0; t < ${ZOO_START_TIMEOUT:-30} * 10; t++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FAILED TO START"
      rm -f "$ZOOPIDFILE"
      tail -n 5 "$DAEMON_OUT" >&2
      exit 1
    fi
    if [ -n "$port" ] && four_letter "$addr" "$port" srvr | grep -q '^Mode:'; then
      echo STARTED
      return 0
    fi
    sleep 0.1
  done
  echo "STARTED (process $pid is running but did not answer srvr within ${ZOO_START_TIMEOUT:-30} s)"
}

do_stop() {
  local pid t
  echo -n "Stopping zookeeper ... "
  if [ ! -f "$ZOOPIDFILE" ]; then
    echo "no zookeeper to stop (could not find file $ZOOPIDFILE)"
    return 0
  fi
  if pid="$(running_pid)"; then
    kill -TERM "$pid"
    # SIGTERM drains and exits; wait for it so that `restart` and service
    # managers never see two servers on one dataDir.
    for ((t = 0; t < ${ZOO_STOP_TIMEOUT:-30} * 10; t++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "process $pid still running after ${ZOO_STOP_TIMEOUT:-30} s"
      exit 1
    fi
  fi
  rm -f "$ZOOPIDFILE"
  echo STOPPED
}

case "$verb" in
  start) do_start ;;
  start-foreground)
    if [ -n "${ZOO_NOEXEC:-}" ]; then
      "$BIN" "$ZOOCFG"
    else
      exec "$BIN" "$ZOOCFG"
    fi
    ;;
  print-cmd)
    echo "\"$BIN\" \"$ZOOCFG\" > \"$DAEMON_OUT\" 2>&1 < /dev/null"
    ;;
  stop) do_stop; exit 0 ;;
  restart)
    do_stop
    do_start
    ;;
  status)
    read -r addr port <<<"$(client_endpoint)"
    if [ -z "$port" ]; then
      echo "Unable to find either secure or unsecure client port in any configs. Terminating."
      exit 1
    fi
    echo "Client port found: $port. Client address: $addr. Client SSL: false."
    mode="$(four_letter "$addr" "$port" srvr | grep Mode)"
    if [ -z "$mode" ]; then
      echo "Error contacting service. It is probably not running."
      exit 1
    fi
    echo "$mode"
    exit 0
    ;;
esac
