#!/usr/bin/env bash
# Runs probe.py against Java ZooKeeper 3.8.0 (Debian) and against FerroKeeper,
# both started with -Djute.maxbuffer=8192 -Dzookeeper.nio.sessionlessCnxnTimeout=1000
# -Dzookeeper.largeRequestThreshold=1000 -Dzookeeper.largeRequestMaxBytes=3000,
# and compares what they show, fact by fact (one check per line of Java's
# output). Prints "N passed, M failed" last.
#   compat-tests/limits/run.sh [FERROKEEPER_BINARY]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
FK=${1:-$REPO/target/release/ferrokeeper}
[ -x "$FK" ] || FK=$REPO/target/debug/ferrokeeper
JAVAZK="$HERE/../lib/javazk.py"
FLAGS="-Djute.maxbuffer=8192 -Dzookeeper.nio.sessionlessCnxnTimeout=1000 -Dzookeeper.largeRequestThreshold=1000 -Dzookeeper.largeRequestMaxBytes=3000"
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  python3 "$JAVAZK" stop "$TMP/java" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 120); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.25; done; return 1; }
config() { # DIR PORT
  mkdir -p "$1/data"
  printf 'tickTime=2000\ndataDir=%s/data\nclientPort=%s\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=mntr\n' "$1" "$2" >"$1/zoo.cfg"
}

run_one() { # NAME
  local name=$1 dir=$TMP/$1 port pid
  port=$(free_port)
  config "$dir" "$port"
  if [ "$name" = java ]; then
    # the same zoo.cfg; javazk.py waits until it serves and prints the log tail if it does not
    local dflags=()
    for f in $FLAGS; do dflags+=(-D "${f#-D}"); done
    read -r pid _ < <(python3 "$JAVAZK" start "$dir" --keep-cfg --heap 256m --log-level none "${dflags[@]}")
    [ -n "${pid:-}" ] || { echo "$name did not start"; return 1; }
  else
    SERVER_JVMFLAGS="$FLAGS" "$FK" "$dir/zoo.cfg" >"$dir/server.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    wait_port "$port" || { echo "$name did not start"; tail -20 "$dir/server.log"; return 1; }
  fi
  timeout 120 python3 "$HERE/probe.py" "$port" >"$TMP/$name.out" 2>&1
  if [ "$name" = java ]; then python3 "$JAVAZK" stop "$dir"; else kill "$pid" 2>/dev/null; fi
  echo "== $name"; cat "$TMP/$name.out"
}

run_one java
run_one ferrokeeper
passed=0; failed=0
mapfile -t JL <"$TMP/java.out"
mapfile -t FL <"$TMP/ferrokeeper.out"
[ "${#JL[@]}" -ge 11 ] || { echo "Java's probe output is incomplete"; failed=$((failed + 1)); }
for i in "${!JL[@]}"; do
  if [ "${JL[$i]}" = "${FL[$i]:-}" ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "DIFFERS: java: ${JL[$i]}"
    echo "         ferrokeeper: ${FL[$i]:-<missing>}"
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
