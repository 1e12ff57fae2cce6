#!/usr/bin/env bash
# packaging/test/run.sh — tests for what ships around the binary, against the
# built binary, without a Docker engine or a running systemd:
#   1. docker/docker-entrypoint.sh run with the official image's ZOO_* vars
#      and temp dirs in place of /conf /data /datalog /logs: the exact zoo.cfg
#      and myid, an existing zoo.cfg/myid left alone, ZOO_LOG_DIR/level, the
#      compose file's three nodes, and a generated config served for real;
#   2. docker/Dockerfile: hadolint (if installed), and checks that its ENV
#      defaults equal the entrypoint's, that .dockerignore lets in what it
#      COPYs, that it runs as a non-root user, that it has the `prebuilt`
#      stage packaging/test/compose.sh builds (which runs the compose file
#      through a real Docker engine);
#   3. shellcheck (if installed) on every script;
#   4. packaging/systemd/ferrokeeper.service: `systemd-analyze verify`, and
#      that its RestartPreventExitStatus is the binary's invalid-config code;
#   5. bin/ferrokeeper-server.sh: every verb (start, start-foreground, stop,
#      restart, status, print-cmd, version) on a free loopback port; status
#      against Java 3.8.0's srvr replies as leader and follower;
#   6. a Kazoo client across SIGTERM and a restart: same session, ephemeral
#      kept — for FerroKeeper and for Java ZooKeeper 3.8 (restart_session.py).
#
#   packaging/test/run.sh [path/to/ferrokeeper]   (default: target/release/ferrokeeper)
# Last line: "N passed, M failed"; exit 1 on any failure.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-$REPO/target/release/ferrokeeper}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
ENTRY=$REPO/docker/docker-entrypoint.sh
SRV=$REPO/bin/ferrokeeper-server.sh
WORK=$(mktemp -d /tmp/fk-packaging.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/     /'; }
check() { # NAME COMMAND... : passes if the command succeeds
  local name=$1; shift
  local out
  if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}

[ -x "$BIN" ] || { echo "no binary at $BIN"; echo "0 passed, 1 failed"; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
srvr() { # PORT -> the srvr answer (bounded)
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && cat <&3' _ "$1" 2>/dev/null
}
wait_mode() { # PORT: until srvr says Mode: (bounded, 20 s)
  local i
  for ((i = 0; i < 200; i++)); do
    srvr "$1" | grep -q '^Mode: standalone' && return 0
    sleep 0.1
  done
  return 1
}
wait_gone() { # PID: until the process is gone (bounded, 20 s)
  local i
  for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}

# ---------------------------------------------------------------- 1. entrypoint
# Runs the entrypoint in a clean environment with dirs under $1 and the
# remaining VAR=value arguments, then the command after "--".
entry() {
  local d=$1; shift
  local -a envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  mkdir -p "$d"
  env -i PATH="$PATH" HOME="$d" ZOO_CONF_DIR="$d/conf" ZOO_DATA_DIR="$d/data" \
    ZOO_DATA_LOG_DIR="$d/datalog" ZOO_LOG_DIR="$d/logs" "${envs[@]}" bash "$ENTRY" "$@"
}

D=$WORK/e1
entry "$D" -- true
expected="dataDir=$D/data
dataLogDir=$D/datalog
tickTime=2000
initLimit=5
syncLimit=2
autopurge.snapRetainCount=3
autopurge.purgeInterval=0
maxClientCnxns=60
standaloneEnabled=true
admin.enableServer=true
server.1=localhost:2888:3888;2181"
check "entrypoint: defaults give the official image's zoo.cfg, exactly" \
  diff <(echo "$expected") "$D/conf/zoo.cfg"
check "entrypoint: myid defaults to 1" diff <(echo 1) "$D/data/myid"
check "entrypoint: the default zoo.cfg is accepted by ferrokeeper --check-config" \
  "$BIN" --check-config "$D/conf/zoo.cfg"
out=$("$BIN" --check-config "$D/conf/zoo.cfg" 2>&1)
check "entrypoint: ... and serves standalone on 2181 from server.1's client part" \
  grep -q "valid; standalone server on 0.0.0.0:2181" <<<"$out"

D=$WORK/e2
entry "$D" ZOO_TICK_TIME=500 ZOO_INIT_LIMIT=7 ZOO_SYNC_LIMIT=3 ZOO_MAX_CLIENT_CNXNS=0 \
  ZOO_STANDALONE_ENABLED=false ZOO_ADMINSERVER_ENABLED=false ZOO_AUTOPURGE_PURGEINTERVAL=1 \
  ZOO_AUTOPURGE_SNAPRETAINCOUNT=5 ZOO_MY_ID=2 \
  "ZOO_SERVERS=  server.1=zoo1:2888:3888;2181 server.2=zoo2:2888:3888;2181
	server.3=zoo3:2888:3888:observer;2181 " \
  "ZOO_4LW_COMMANDS_WHITELIST=srvr,ruok,mntr" \
  "ZOO_CFG_EXTRA=metricsProvider.httpPort=7070 snapCount=5000 *" -- true
expected="dataDir=$D/data
dataLogDir=$D/datalog
tickTime=500
initLimit=7
syncLimit=3
autopurge.snapRetainCount=5
autopurge.purgeInterval=1
maxClientCnxns=0
standaloneEnabled=false
admin.enableServer=false
server.1=zoo1:2888:3888;2181
server.2=zoo2:2888:3888;2181
server.3=zoo3:2888:3888:observer;2181
4lw.commands.whitelist=srvr,ruok,mntr
metricsProvider.httpPort=7070
snapCount=5000
*"
check "entrypoint: every ZOO_* var, ZOO_SERVERS split on any blanks, ZOO_CFG_EXTRA unglobbed" \
  diff <(echo "$expected") "$D/conf/zoo.cfg"
check "entrypoint: myid is ZOO_MY_ID" diff <(echo 2) "$D/data/myid"

D=$WORK/e3
mkdir -p "$D/conf" "$D/data"
printf 'tickTime=1234\nclientPort=1\n' >"$D/conf/zoo.cfg"
echo 7 >"$D/data/myid"
entry "$D" ZOO_MY_ID=3 ZOO_TICK_TIME=999 "ZOO_SERVERS=server.3=x:1:2;2181" -- true
check "entrypoint: an existing zoo.cfg is left alone" \
  diff <(printf 'tickTime=1234\nclientPort=1\n') "$D/conf/zoo.cfg"
check "entrypoint: an existing myid is left alone" diff <(echo 7) "$D/data/myid"

D=$WORK/e4
out=$(entry "$D" ZOO_LOG_LEVEL=DEBUG -- bash -c 'echo "$FERROKEEPER_LOG $ZOOCFGDIR"')
check "entrypoint: ZOO_LOG_LEVEL=DEBUG becomes FERROKEEPER_LOG=debug; ZOOCFGDIR is ZOO_CONF_DIR" \
  test "$out" = "debug $D/conf"
out=$(entry "$D" ZOO_LOG_LEVEL=DEBUG FERROKEEPER_LOG=warn -- bash -c 'echo "$FERROKEEPER_LOG"')
check "entrypoint: an explicit FERROKEEPER_LOG wins over ZOO_LOG_LEVEL" test "$out" = warn

# Started as root (docker run --user 0) with the server as the command: the
# dirs go to the zookeeper user and the rest runs as that user. Needs root
# and a zookeeper user (Debian's zookeeper package, which install-deps.sh
# installs, creates one).
if [ "$(id -u)" = 0 ] && id zookeeper >/dev/null 2>&1; then
  D=$WORK/root
  mkdir -p "$D/pathbin"
  chmod 755 "$WORK" "$D"
  ln -s "$SRV" "$D/pathbin/zkServer.sh"
  out=$(env -i PATH="$D/pathbin:$PATH" HOME="$D" ZOO_CONF_DIR="$D/conf" ZOO_DATA_DIR="$D/data" \
    ZOO_DATA_LOG_DIR="$D/datalog" ZOO_LOG_DIR="$D/logs" FERROKEEPER_BIN="$BIN" \
    bash "$ENTRY" zkServer.sh print-cmd 2>&1)
  owners=$(stat -c %U "$D/conf" "$D/conf/zoo.cfg" "$D/data" "$D/data/myid" "$D/datalog" "$D/logs" | sort -u)
  check "entrypoint as root: dirs and files owned by zookeeper, the command runs as zookeeper" \
    bash -c "[ '$owners' = zookeeper ] && grep -q 'zookeeper-zookeeper-server-' <<<'$out'"
else
  echo "skip entrypoint as root: needs root and a zookeeper user"
fi

# The compose file's three nodes: each gets its myid and the 3-server list,
# and each config is accepted (a member of 3; client port 2181 from its entry).
if python3 -c 'import yaml' 2>/dev/null; then
  while IFS=$'\t' read -r name myid servers wl; do
    D=$WORK/compose-$name
    entry "$D" "ZOO_MY_ID=$myid" "ZOO_SERVERS=$servers" "ZOO_4LW_COMMANDS_WHITELIST=$wl" -- true
    n=$(grep -c '^server\.[123]=zoo[123]:2888:3888;2181$' "$D/conf/zoo.cfg")
    check "compose $name: 3 server lines, myid $myid" test "$n:$(cat "$D/data/myid")" = "3:$myid"
    out=$("$BIN" --check-config "$D/conf/zoo.cfg" 2>&1)
    check "compose $name: config accepted, an ensemble member with clients on 0.0.0.0:2181" \
      grep -q "valid; ensemble member server.$myid of 3, clients on 0.0.0.0:2181" <<<"$out"
  done < <(python3 - "$REPO/docker/docker-compose.yml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
svcs = doc["services"]
assert len(svcs) == 3, svcs.keys()
for name, s in svcs.items():
    e = s["environment"]
    print("\t".join([name, str(e["ZOO_MY_ID"]), e["ZOO_SERVERS"], e.get("ZOO_4LW_COMMANDS_WHITELIST", "")]))
PY
  )
else
  bad "compose: PyYAML is not importable (install-deps.sh installs it)"
fi

# A generated config served for real, through the image's default command
# (zkServer.sh start-foreground): the entrypoint and the script both exec, so
# the process started is the server itself and gets SIGTERM directly.
D=$WORK/e5
PORT=$(free_port)
mkdir -p "$D"
env -i PATH="$PATH" HOME="$D" ZOO_CONF_DIR="$D/conf" ZOO_DATA_DIR="$D/data" \
  ZOO_DATA_LOG_DIR="$D/datalog" ZOO_LOG_DIR="$D/logs" FERROKEEPER_BIN="$BIN" \
  "ZOO_SERVERS=server.1=localhost:2888:3888;127.0.0.1:$PORT" ZOO_4LW_COMMANDS_WHITELIST=srvr,ruok \
  ZOO_ADMINSERVER_ENABLED=false bash "$ENTRY" "$SRV" start-foreground >"$D/out.log" 2>&1 &
pid=$!
PIDS+=("$pid")
check "entrypoint + start-foreground: the generated config serves (srvr: Mode: standalone)" wait_mode "$PORT"
check "entrypoint + start-foreground: the started pid is ferrokeeper itself (exec all the way)" \
  test "$(cat "/proc/$pid/comm" 2>/dev/null)" = ferrokeeper
kill -TERM "$pid"
wait "$pid"
status=$?
check "entrypoint + start-foreground: SIGTERM exits 0" test "$status" = 0
check "entrypoint + start-foreground: the txn log and snapshot are in the dirs given" \
  test -d "$D/datalog/version-2" -a -d "$D/data/version-2"

# ---------------------------------------------------------------- 2. Dockerfile
DF=$REPO/docker/Dockerfile
if command -v hadolint >/dev/null; then
  check "Dockerfile: hadolint" hadolint "$DF"
else
  echo "skip Dockerfile: hadolint not installed"
fi
# ENV defaults in the Dockerfile == the entrypoint's own defaults.
df_env=$(awk '/^ENV /{on=1} on{print} on&&!/\\$/{on=0}' "$DF" | tr -d '\\' | tr -s ' \t' '\n' |
  grep -E '^ZOO_[A-Z0-9_]+=' | grep -v '^ZOOCFGDIR' | sort)
ep_env=$(grep -oE '\$\{(ZOO_[A-Z0-9_]+):=([^}]*)\}' "$ENTRY" | sed -E 's/\$\{(ZOO_[A-Z0-9_]+):=([^}]*)\}/\1=\2/' | sort)
check "Dockerfile: ENV defaults equal the entrypoint's defaults" diff <(echo "$df_env") <(echo "$ep_env")
check "Dockerfile: runs as a non-root user" grep -qE '^USER +[1-9][0-9]*(:[0-9]+)?$' "$DF"
check "Dockerfile: multi-stage (a builder, then a slim runtime)" \
  test "$(grep -c '^FROM ' "$DF")" -ge 2
# Every COPY source from the context exists and is let in by .dockerignore
# (a whitelist: "*" then "!path" lines). A glob source (the prebuilt stage's
# target/release/ferrokeepe[r]) may match nothing, but a "!path" it matches
# must be there.
allowed() { grep -qxF "!$1" "$REPO/.dockerignore" || grep -qF "!${1%/}/" "$REPO/.dockerignore"; }
glob_allowed() {
  local line
  while read -r line; do
    # shellcheck disable=SC2053 # $1 is a pattern on purpose
    [[ $line == '!'* && ${line#!} == $1 ]] && return 0
  done <"$REPO/.dockerignore"
  return 1
}
copy_ok() {
  local src
  while read -r src; do
    if [[ $src == *[\[*?]* ]]; then
      glob_allowed "$src" || { echo ".dockerignore lets in nothing $src matches"; return 1; }
      continue
    fi
    [ -e "$REPO/$src" ] || { echo "missing: $src"; return 1; }
    allowed "$src" || { echo ".dockerignore excludes $src"; return 1; }
  done < <(grep -E '^COPY ' "$DF" | grep -v -- '--from=' | sed -E 's/^COPY( --[^ ]+)* //' |
    awk '{for (i = 1; i < NF; i++) print $i}')
}
check "Dockerfile: every COPY source exists and .dockerignore lets it in" copy_ok
check "Dockerfile: a prebuilt stage (--target prebuilt, used by packaging/test/compose.sh)" \
  grep -qE '^FROM runtime AS prebuilt$' "$DF"
check "Dockerfile: the entrypoint is the script the image copies" \
  grep -q 'ENTRYPOINT \["/docker-entrypoint.sh"\]' "$DF"

# ---------------------------------------------------------------- 3. shellcheck
if command -v shellcheck >/dev/null; then
  check "shellcheck: docker-entrypoint.sh and ferrokeeper-server.sh, every finding" \
    shellcheck "$ENTRY" "$SRV"
  check "shellcheck: this script and compose.sh (warnings and errors)" \
    shellcheck -S warning "$0" "$REPO/packaging/test/compose.sh"
else
  echo "skip shellcheck: not installed"
fi

# ---------------------------------------------------------------- 4. systemd
UNIT=$REPO/packaging/systemd/ferrokeeper.service
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$WORK/unit"
  sed "s#^ExecStart=/usr/local/bin/ferrokeeper #ExecStart=$BIN #" "$UNIT" >"$WORK/unit/ferrokeeper.service"
  # verify exits 0 even for unknown values; any output is a finding.
  out=$(systemd-analyze verify "$WORK/unit/ferrokeeper.service" 2>&1)
  check "systemd: systemd-analyze verify reports nothing" test -z "$out"
  [ -n "$out" ] && echo "$out"
else
  echo "skip systemd-analyze: not installed"
fi
printf 'tickTime=abc\n' >"$WORK/bad.cfg"
"$BIN" "$WORK/bad.cfg" >/dev/null 2>&1
code=$?
check "systemd: RestartPreventExitStatus holds the invalid-config exit code ($code)" \
  grep -qE "^RestartPreventExitStatus=(.* )?$code( |$)" "$UNIT"
check "systemd: Restart=on-failure, KillSignal=SIGTERM, TimeoutStopSec, LimitNOFILE" \
  bash -c "grep -qx Restart=on-failure '$UNIT' && grep -qx KillSignal=SIGTERM '$UNIT' &&
           grep -q '^TimeoutStopSec=' '$UNIT' && grep -q '^LimitNOFILE=' '$UNIT'"

# ---------------------------------------------------------------- 5. bin verbs
C=$WORK/srv
PORT=$(free_port)
mkdir -p "$C/conf"
cat >"$C/conf/zoo.cfg" <<CFG
tickTime=2000
dataDir=$C/data
clientPort=$PORT
clientPortAddress=127.0.0.1
4lw.commands.whitelist=srvr,ruok
admin.enableServer=false
CFG
export ZOOCFGDIR=$C/conf ZOO_LOG_DIR=$C/logs FERROKEEPER_BIN=$BIN
unset ZOOPIDFILE ZOOCFG
PIDFILE=$C/data/zookeeper_server.pid
run() { out=$(timeout 60 "$SRV" "$@" 2>"$WORK/stderr"); code=$?; }

run status
check "bin status (nothing running): exit 1, 'Error contacting service'" \
  bash -c "[ $code = 1 ] && grep -q 'Error contacting service. It is probably not running.' <<<'$out'"
run stop
check "bin stop (nothing running): exit 0, 'no zookeeper to stop'" \
  bash -c "[ $code = 0 ] && grep -q 'no zookeeper to stop' <<<'$out'"
run start
check "bin start: exit 0, STARTED" bash -c "[ $code = 0 ] && grep -q 'STARTED' <<<'$out'"
pid=$(cat "$PIDFILE" 2>/dev/null)
[ -n "$pid" ] && PIDS+=("$pid")
check "bin start: pid file in dataDir names the running server" \
  bash -c "[ -n '$pid' ] && [ \"\$(cat /proc/$pid/comm)\" = ferrokeeper ]"
check "bin start: output goes to ZOO_LOG_DIR/zookeeper-USER-server-HOST.out" \
  bash -c "ls '$C/logs'/zookeeper-*-server-*.out"
run start
check "bin start (already running): exit 1, 'already running as process $pid'" \
  bash -c "[ $code = 1 ] && grep -q 'already running as process $pid' <<<'$out'"
run status
check "bin status: exit 0, 'Mode: standalone', port found" \
  bash -c "[ $code = 0 ] && grep -qx 'Mode: standalone' <<<'$out' && grep -q 'Client port found: $PORT. Client address: 127.0.0.1.' <<<'$out'"
run print-cmd
check "bin print-cmd: the binary and the config" \
  bash -c "[ $code = 0 ] && grep -qF '\"$BIN\" \"$C/conf/zoo.cfg\"' <<<'$out'"
run version
check "bin version: exit 0, ferrokeeper's version" bash -c "[ $code = 0 ] && grep -q '^ferrokeeper ' <<<'$out'"
run restart
newpid=$(cat "$PIDFILE" 2>/dev/null)
[ -n "$newpid" ] && PIDS+=("$newpid")
check "bin restart: exit 0, STOPPED then STARTED, a new process" \
  bash -c "[ $code = 0 ] && grep -q STOPPED <<<'$out' && grep -q STARTED <<<'$out' && [ '$newpid' != '$pid' ] && ! kill -0 $pid 2>/dev/null"
run stop
check "bin stop: exit 0, STOPPED, process gone, pid file removed" \
  bash -c "[ $code = 0 ] && grep -q STOPPED <<<'$out' && ! kill -0 $newpid 2>/dev/null && [ ! -e '$PIDFILE' ]"
check "bin stop: the server drained and exited normally (its log says so)" \
  grep -q "Exiting normally" "$C"/logs/zookeeper-*-server-*.out

# status on an ensemble member: the srvr replies Java 3.8.0's leader and
# follower gave (compat-tests/quorum-admin) from a stand-in that answers one
# connection, so `status` must print their Mode line as zkServer.sh does.
for role in leader follower; do
  reply=$REPO/compat-tests/quorum-admin/java-3.8.0/$role/srvr.txt
  rm -f "$WORK/fake.ready"
  timeout 20 python3 - "$PORT" "$reply" "$WORK/fake.ready" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
open(sys.argv[3], "w").close()
c, _ = s.accept()
c.recv(4)
c.sendall(open(sys.argv[2], "rb").read())
c.close()
PY
  fake=$!
  PIDS+=("$fake")
  for ((i = 0; i < 100; i++)); do # until the stand-in listens (bounded, 10 s)
    [ -e "$WORK/fake.ready" ] && break
    sleep 0.1
  done
  run status
  check "bin status on a $role: exit 0, 'Mode: $role' and nothing else after the port line" \
    bash -c "[ $code = 0 ] && [ \"\$(tail -n +2 <<<'$out')\" = 'Mode: $role' ]"
  wait "$fake" 2>/dev/null
done

# ZOOPIDFILE, --config DIR and a config named as the 2nd argument.
mkdir -p "$C/other"
sed "s/^clientPort=.*/clientPort=$PORT/" "$C/conf/zoo.cfg" >"$C/other/alt.cfg"
ZOOPIDFILE=$C/run/fk.pid run --config "$C/other" start alt.cfg
check "bin --config DIR start NAME, ZOOPIDFILE: exit 0, pid file where ZOOPIDFILE says" \
  bash -c "[ $code = 0 ] && [ -s '$C/run/fk.pid' ] && grep -q 'Using config: $C/other/alt.cfg' '$WORK/stderr'"
[ -s "$C/run/fk.pid" ] && PIDS+=("$(cat "$C/run/fk.pid")")
ZOOPIDFILE=$C/run/fk.pid run --config "$C/other" stop alt.cfg
check "bin --config DIR stop NAME: exit 0, STOPPED" bash -c "[ $code = 0 ] && grep -q STOPPED <<<'$out'"

# start-foreground: the process is the server (exec), SIGTERM exits 0.
"$SRV" start-foreground >"$C/fg.log" 2>&1 &
pid=$!
PIDS+=("$pid")
check "bin start-foreground: serves" wait_mode "$PORT"
check "bin start-foreground: exec'd (the pid is ferrokeeper)" \
  test "$(cat "/proc/$pid/comm" 2>/dev/null)" = ferrokeeper
kill -TERM "$pid"
wait "$pid"
code=$?
check "bin start-foreground: SIGTERM exits 0" test "$code" = 0

printf 'tickTime=abc\ndataDir=%s\n' "$C/data" >"$C/other/bad.cfg"
run start "$C/other/bad.cfg"
check "bin start (invalid config): exit 1, FAILED TO START" \
  bash -c "[ $code = 1 ] && grep -q 'FAILED TO START' <<<'$out'"
run frobnicate
check "bin unknown verb: usage on stderr, exit 2" \
  bash -c "[ $code = 2 ] && grep -q Usage '$WORK/stderr'"
wait_gone "$pid" || true

# ---------------------------------------------------------------- 6. restart
# A real client (Kazoo) across SIGTERM + restart on the same port and
# dataDir: the same session, its ephemeral kept; then the same against
# Debian's Java ZooKeeper 3.8, the reference (which exits 143 on SIGTERM).
while read -r line; do
  case "$line" in
    "ok   "*) ok "restart: ${line#ok   }" ;;
    "FAIL "*) bad "restart: ${line#FAIL }" ;;
  esac
done < <(timeout 120 python3 "$REPO/packaging/test/restart_session.py" --server fk --fk-bin "$BIN" 2>/dev/null ||
  echo "FAIL [fk] restart_session.py exited abnormally")
if [ -f /usr/share/java/zookeeper.jar ] && command -v java >/dev/null; then
  while read -r line; do
    case "$line" in
      "ok   "*) ok "restart: ${line#ok   }" ;;
      "FAIL "*) bad "restart: ${line#FAIL }" ;;
    esac
  done < <(timeout 120 python3 "$REPO/packaging/test/restart_session.py" --server java 2>/dev/null ||
    echo "FAIL [java] restart_session.py exited abnormally")
else
  echo "skip restart against Java ZooKeeper: not installed"
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
