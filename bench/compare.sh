#!/usr/bin/env bash
# compare.sh - Java ZooKeeper 3.8 vs FerroKeeper, side by side, in ONE run on ONE machine.
#
#   bench/compare.sh                 # everything: build, both servers, all workloads, table
#   SERVERS=java bench/compare.sh    # only the Java half (e.g. while FerroKeeper does not build)
#
# What it does (see bench/README.md for what every number means):
#   1. installs the Debian packages it needs if they are missing (zookeeper jars, a JDK, ...),
#   2. builds FerroKeeper (cargo build --release in the repo root) and the shared load generator
#      ($REPO/../shared/bench, official ZooKeeper 3.8 Java client),
#   3. starts Java ZooKeeper and FerroKeeper on two free loopback ports and runs, for each workload,
#      one server after the other (alternating which goes first), never both under load at once:
#        read  (100% getData)  mixed (90% getData / 10% setData)  write (100% setData)
#        closed loop, CLIENTS sessions x WINDOW outstanding, WARM s warm-up + DUR s measured;
#        latency: open loop at a fixed RATE ops/s (RATE_MIX % getData), p50/p99/p99.9
#      server CPU per operation comes from /proc/PID/stat of the server (zkload --server-pid),
#   4. restarts each server fresh, alone, and creates POP_N znodes of 100 B (zkload --mode populate)
#      in chunks of POP_CHUNK within a time budget of POP_BUDGET s; bytes/znode = RSS growth / N.
#      Worst case (every retry, both budgets used up) the script stays under ~8 minutes plus the build.
#      FerroKeeper populates the same N that Java reached,
#   5. writes JSONL to RESULTS, prints a markdown table with the FerroKeeper/Java ratios
#      (also saved as RESULTS/summary.md).
# Every wait and every load run is bounded by a timeout; servers are stopped on exit (trap).
#
# Environment (defaults in brackets):
#   SERVERS ["java ferrokeeper"]  DUR [10]  WARM [3]  CLIENTS [16]  WINDOW [32]  ZNODES [1000]  VALUE [100]
#   RATE [5000]  RATE_MIX [90]  RATE_CLIENTS [16]  RATE_WINDOW [256]
#   POP_N [1000000]  POP_CHUNK [250000]  POP_BUDGET [120] (s per server; a chunk is killed 15 s after it runs out)
#   RESULTS [bench/results/YYYYmmdd-HHMMSS]   KEEP [0] (1 = keep the temp dir with both dataDirs and logs)
#   REPO [parent of this script's dir]  SHARED [$REPO/../shared]
#   FK_BIN [$REPO/target/release/ferrokeeper; set it to skip cargo build]  NO_BUILD [0]
#   RETRY_BUSY [1] (extra attempts of a run during which other processes used more than BUSY_FRAC [0.25] of the
#     machine's CPU, at most MAX_RETRIES [4] in all; the table keeps the least disturbed attempt)
#   SERVER_CPUS [] (taskset CPU list for both servers)  ZK_HEAP [2g] (Java server -Xmx)
#   ZKLOAD_CPUS / ZKLOAD_HEAP / ZKLOAD_JAVA_OPTS are passed through to the load generator.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=${REPO:-$(cd "$BENCH_DIR/.." && pwd)}
SHARED=${SHARED:-$REPO/../shared}
SERVERS=${SERVERS:-"java ferrokeeper"}
DUR=${DUR:-10}; WARM=${WARM:-3}; CLIENTS=${CLIENTS:-16}; WINDOW=${WINDOW:-32}
ZNODES=${ZNODES:-1000}; VALUE=${VALUE:-100}
RATE=${RATE:-5000}; RATE_MIX=${RATE_MIX:-90}; RATE_CLIENTS=${RATE_CLIENTS:-16}; RATE_WINDOW=${RATE_WINDOW:-256}
POP_N=${POP_N:-1000000}; POP_CHUNK=${POP_CHUNK:-250000}; POP_BUDGET=${POP_BUDGET:-120}
RESULTS=${RESULTS:-$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)}
KEEP=${KEEP:-0}; NO_BUILD=${NO_BUILD:-0}
FK_BIN=${FK_BIN:-}
RETRY_BUSY=${RETRY_BUSY:-1}; BUSY_FRAC=${BUSY_FRAC:-0.25}; MAX_RETRIES=${MAX_RETRIES:-4}
RETRIES=0
SERVER_CPUS=${SERVER_CPUS:-}
export ZK_CPUS=$SERVER_CPUS   # zkserver-java.sh pins the Java server with this

T_START=$(date +%s)
log() { printf '[compare %3ds] %s\n' "$(($(date +%s) - T_START))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

want() { [[ " $SERVERS " == *" $1 "* ]]; }
for s in $SERVERS; do [[ $s == java || $s == ferrokeeper ]] || die "SERVERS may contain java and ferrokeeper, not '$s'"; done

# ------------------------------------------------------------------ cleanup (trap)
WORK=""
JAVA_DIRS=()     # zkserver-java.sh dirs we started a server in (stop by DIR/zk.pid)
FK_PIDS=()       # ferrokeeper pids we started
CHILD=""         # the load generator currently running

stop_fk() { # PID: TERM, KILL after 10 s; only if it is still our ferrokeeper
  local pid=$1 i
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$WORK/" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

stop_java() { # DIR
  [ -f "$1/zk.pid" ] && "$ZKSERVER" stop "$1" >/dev/null 2>&1 || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$CHILD" ] && [ -d "/proc/$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  local d p
  for d in "${JAVA_DIRS[@]}"; do stop_java "$d"; save_log "$(basename "$d")"; done
  for p in "${FK_PIDS[@]}"; do stop_fk "$p"; done
  for d in "$WORK"/ferrokeeper-*; do [ -d "$d" ] && save_log "$(basename "$d")"; done
  if [ -n "$WORK" ] && [ -d "$WORK" ]; then
    if [ "$KEEP" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ------------------------------------------------------------------ dependencies
ensure_deps() {
  local need=()
  [ -f /usr/share/java/zookeeper.jar ] && [ -f /usr/share/java/zookeeper-jute.jar ] || need+=(zookeeper)
  [ -f /usr/share/java/slf4j-simple.jar ] && [ -f /usr/share/java/slf4j-api.jar ] || need+=(libslf4j-java)
  command -v javac >/dev/null && command -v java >/dev/null || need+=(default-jdk-headless)
  command -v python3 >/dev/null || need+=(python3-minimal)
  command -v ss >/dev/null || need+=(iproute2)
  command -v timeout >/dev/null || need+=(coreutils)
  [ -r /proc/self/stat ] || die "/proc is needed"
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing missing packages: ${need[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get; install them by hand"
  timeout 600 "${sudo[@]}" apt-get update -q >&2 || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive timeout 900 "${sudo[@]}" apt-get install -y -q "${need[@]}" >&2 \
    || die "apt-get install ${need[*]} failed"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo -1; }

# ------------------------------------------------------------------ server start/stop
start_java() { # NAME PORT -> sets SRV_PID
  local dir=$WORK/$1
  JAVA_DIRS+=("$dir")
  SRV_PID=$(timeout -k 5 90 "$ZKSERVER" start "$dir" "$2" clientPortAddress=127.0.0.1) \
    || { tail -20 "$dir/zk.log" >&2 2>/dev/null; die "Java ZooKeeper did not start (log: $dir/zk.log)"; }
}

start_fk() { # NAME PORT -> sets SRV_PID
  local dir=$WORK/$1 port=$2 i
  mkdir -p "$dir/data"
  cat >"$dir/zoo.cfg" <<EOF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
admin.enableServer=false
EOF
  local pin=()
  [ -n "$SERVER_CPUS" ] && pin=(taskset -c "$SERVER_CPUS")
  "${pin[@]}" "$FK_BIN" "$dir/zoo.cfg" >>"$dir/fk.log" 2>&1 </dev/null &
  SRV_PID=$!
  FK_PIDS+=("$SRV_PID")
  for ((i = 0; i < 300; i++)); do
    [ -d "/proc/$SRV_PID" ] || { tail -20 "$dir/fk.log" >&2; die "FerroKeeper exited at start (log: $dir/fk.log)"; }
    tcp_open "$port" && return 0
    sleep 0.1
  done
  tail -20 "$dir/fk.log" >&2
  die "FerroKeeper not accepting on 127.0.0.1:$port after 30 s"
}

stop_server() { # KIND NAME PID
  if [ "$1" = java ]; then stop_java "$WORK/$2"; else stop_fk "$3"; fi
  save_log "$2"
}

save_log() { # NAME: keep the last lines of a server's log next to the results
  local f
  for f in "$WORK/$1/zk.log" "$WORK/$1/fk.log"; do
    [ -f "$f" ] && mkdir -p "$RESULTS/logs" && tail -n 2000 "$f" >"$RESULTS/logs/$1.log" || true
  done
}

note_died() { # SERVER NAME PID WHEN
  log "  $1 (pid $3) DIED during $4; last lines of its log (all in $RESULTS/logs/$2.log):"
  save_log "$2"
  tail -n 15 "$RESULTS/logs/$2.log" >&2 2>/dev/null || true
  printf '{"mode": "died", "server": "%s", "workload": "%s", "pid": %s}\n' "$1" "$4" "$3" >>"$OUT"
}

# ------------------------------------------------------------------ one bounded load-generator run
# loader SERVER WORKLOAD TIMEOUT args... -> appends one JSON line (+ server, workload, cmd) to $OUT
loader() {
  local server=$1 workload=$2 tmo=$3; shift 3
  local out=$WORK/last.json err=$WORK/last.err rc=0
  local cmd=("$LOADER" "$@" --label "$server/$workload")
  : >"$out"
  timeout -k 5 "$tmo" "${cmd[@]}" >"$out" 2>"$err" &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  local line
  line=$(grep -m1 '^{' "$out" || true)
  if [ $rc -ne 0 ] || [ -z "$line" ]; then
    log "  $server/$workload FAILED (rc=$rc$([ $rc = 124 ] && echo ", timed out after ${tmo}s")); stderr tail:"
    tail -5 "$err" >&2
    python3 - "$server" "$workload" "$rc" "${cmd[*]}" >>"$OUT" <<'EOF'
import json, sys
print(json.dumps({"mode": "failed", "server": sys.argv[1], "workload": sys.argv[2], "rc": int(sys.argv[3]), "cmd": sys.argv[4]}))
EOF
    return 1
  fi
  printf '%s\n' "$line" | python3 -c '
import json, sys
j = json.loads(sys.stdin.readline()); j.update(server=sys.argv[1], workload=sys.argv[2], cmd=sys.argv[3])
print(json.dumps(j))' "$server" "$workload" "${cmd[*]}" >>"$OUT"
  printf '%s\n' "$line" | python3 "$BENCH_DIR/compare_table.py" --progress "$server/$workload" >&2 || true
  return 0
}

# ------------------------------------------------------------------ populate in chunks within a budget
# populate SERVER PID PORT TARGET_N -> appends chunk lines and one "populate-summary" line; sets POP_DONE
populate() {
  local server=$1 pid=$2 port=$3 target=$4
  local start=0 end t0 tmo
  t0=$(date +%s)
  : >"$WORK/pop-$server.jsonl"
  while [ "$start" -lt "$target" ]; do
    if [ $(($(date +%s) - t0)) -ge "$POP_BUDGET" ]; then
      log "  $server: populate budget of ${POP_BUDGET}s used up at $start znodes"; break
    fi
    end=$((start + POP_CHUNK)); [ "$end" -gt "$target" ] && end=$target
    tmo=$((POP_BUDGET - ($(date +%s) - t0) + 15))
    loader "$server" "populate-$start-$end" "$tmo" --mode populate --connect "127.0.0.1:$port" \
      --server-pid "$pid" --start "$start" --znodes "$end" --value-size "$VALUE" || break
    # a chunk with hard errors did not create all its znodes: stop counting before it
    if ! tail -1 "$OUT" | python3 -c 'import json,sys; j=json.loads(sys.stdin.readline()); sys.exit(1 if j.get("hard_errors",0) else 0)'; then
      log "  $server: populate chunk $start-$end had hard errors; stopping at $start"; break
    fi
    tail -1 "$OUT" >>"$WORK/pop-$server.jsonl"
    start=$end
  done
  POP_DONE=$start
  local gc_rss=-1 heap_used="" du_bytes
  if [ "$server" = java ] && [ "$POP_DONE" -gt 0 ] && command -v jcmd >/dev/null; then
    # informational only: the JVM grows its heap lazily, so RSS overstates live data; after a full GC
    # G1 gives unused heap back (MaxHeapFreeRatio), which shows how much is really live.
    timeout -k 5 60 jcmd "$pid" GC.run >/dev/null 2>&1 && sleep 2 && gc_rss=$(rss_kb "$pid") || true
    # live Java heap after that full GC ("garbage-first heap   total 2097152K, used 612345K")
    heap_used=$(timeout -k 5 30 jcmd "$pid" GC.heap_info 2>/dev/null | sed -n 's/.*heap .*used \([0-9]*\)K.*/\1/p' | head -1) || true
  fi
  du_bytes=$(du -sb "$WORK/$server-mem/data" 2>/dev/null | cut -f1 || echo -1)
  python3 - "$server" "$POP_DONE" "$target" "$POP_N" "$gc_rss" "${du_bytes:--1}" "$(rss_kb "$pid")" \
    "${heap_used:--1}" "$WORK/pop-$server.jsonl" >>"$OUT" <<'EOF'
import json, sys
server, n, target, requested, gc_rss, du, rss_now, heap, path = sys.argv[1:]
n, target, requested, gc_rss, du, rss_now, heap = int(n), int(target), int(requested), int(gc_rss), int(du), int(rss_now), int(heap)
chunks = [json.loads(l) for l in open(path) if l.startswith("{")]
s = {"mode": "populate-summary", "server": server, "workload": "populate", "znodes": n, "target": target,
     "requested": requested, "value_size": chunks[0]["value_size"] if chunks else None, "chunks": len(chunks),
     "data_dir_bytes": du, "rss_now_kb": rss_now, "rss_after_full_gc_kb": gc_rss, "java_heap_used_after_full_gc_kb": heap}
if chunks and n > 0:
    rb, ra = chunks[0]["rss_before_kb"], chunks[-1]["rss_after_1s_kb"]
    el = sum(c["elapsed_s"] for c in chunks)
    s.update(rss_before_kb=rb, rss_after_kb=ra, elapsed_s=round(el, 3), creates_per_sec=round(n / el, 1) if el else None,
             bytes_per_znode=round((ra - rb) * 1024.0 / n, 1) if rb > 0 and ra > 0 else None,
             bytes_per_znode_after_full_gc=round((gc_rss - rb) * 1024.0 / n, 1) if gc_rss > 0 and rb > 0 else None,
             java_heap_used_bytes_per_znode=round(heap * 1024.0 / n, 1) if heap > 0 else None,
             mntr_znode_count_after=chunks[-1].get("mntr_znode_count_after"))
print(json.dumps(s))
EOF
}

# ================================================================== main
ensure_deps
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
OUT=$RESULTS/results.jsonl
: >"$OUT"
WORK=$(mktemp -d /tmp/fk-compare.XXXXXX)

# ---- load generator: build in place, or in a copy if the shared dir is read-only
[ -f "$SHARED/bench/ZkLoad.java" ] || die "no load generator at $SHARED/bench (set SHARED=/path/to/shared)"
ZKSERVER=$SHARED/bench/zkserver-java.sh
if [ -w "$SHARED/bench" ]; then
  LOADDIR=$SHARED/bench
else
  LOADDIR=$WORK/zkload; cp -r "$SHARED/bench" "$LOADDIR"; chmod -R u+w "$LOADDIR"
fi
log "building the load generator ($LOADDIR)"
timeout 300 "$LOADDIR/build.sh" >&2 || die "load generator build failed"
LOADER=$LOADDIR/run.sh

# ---- FerroKeeper
if want ferrokeeper; then
  if [ -z "$FK_BIN" ]; then
    FK_BIN=$REPO/target/release/ferrokeeper
    if [ "$NO_BUILD" != 1 ]; then
      log "cargo build --release in $REPO"
      (cd "$REPO" && timeout 1800 cargo build --release) >&2 \
        || die "FerroKeeper does not build (run with SERVERS=java for the Java half only)"
    fi
  fi
  [ -x "$FK_BIN" ] || die "no FerroKeeper binary at $FK_BIN"
fi

# ---- run metadata
python3 - "$SERVERS" "$REPO" "$FK_BIN" >>"$OUT" <<EOF
import json, os, platform, subprocess, sys
def sh(c):
    try: return subprocess.run(c, shell=True, capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception: return ""
print(json.dumps({"mode": "meta", "servers": sys.argv[1].split(), "host": platform.node(), "kernel": platform.release(),
  "cpus": os.cpu_count(), "mem_total_kb": int(sh("awk '/MemTotal/ {print \$2}' /proc/meminfo") or 0),
  "cpu_model": sh("awk -F': ' '/model name/ {print \$2; exit}' /proc/cpuinfo"),
  "java": sh("java -version 2>&1 | head -1"), "zookeeper_jar": os.path.realpath("/usr/share/java/zookeeper.jar"),
  "repo": sys.argv[2], "git_rev": sh("git -C '%s' rev-parse --short HEAD" % sys.argv[2]),
  "git_dirty": bool(sh("git -C '%s' status --porcelain --untracked-files=no" % sys.argv[2])),
  "ferrokeeper_bin": sys.argv[3],
  "params": {"dur": $DUR, "warm": $WARM, "clients": $CLIENTS, "window": $WINDOW, "znodes": $ZNODES, "value": $VALUE,
             "rate": $RATE, "rate_mix": $RATE_MIX, "rate_clients": $RATE_CLIENTS, "rate_window": $RATE_WINDOW,
             "pop_n": $POP_N, "pop_chunk": $POP_CHUNK, "pop_budget_s": $POP_BUDGET,
             "server_cpus": "$SERVER_CPUS", "zk_heap": "${ZK_HEAP:-2g}"},
  "loadavg_at_start": sh("cut -d' ' -f1-3 /proc/loadavg"), "started": sh("date -Is")}))
EOF

# ---- phase 1: throughput / CPU / latency, both servers up, loaded one at a time
declare -A PID PORT SNAME
for s in $SERVERS; do
  PORT[$s]=$(free_port)
  log "starting $s on 127.0.0.1:${PORT[$s]}"
  SNAME[$s]=$s-run
  if [ "$s" = java ]; then start_java "${SNAME[$s]}" "${PORT[$s]}"; else start_fk "${SNAME[$s]}" "${PORT[$s]}"; fi
  PID[$s]=$SRV_PID
  log "  $s pid ${PID[$s]}, rss $(rss_kb "$SRV_PID") kB"
done

RUN_TMO=$((DUR + WARM + 120))
common=(--duration "$DUR" --warmup "$WARM" --znodes "$ZNODES" --value-size "$VALUE")
workloads=(
  "read|--mix 100 --clients $CLIENTS --window $WINDOW"
  "mixed|--mix 90 --clients $CLIENTS --window $WINDOW"
  "write|--mix 0 --clients $CLIENTS --window $WINDOW"
  "latency|--mix $RATE_MIX --rate $RATE --clients $RATE_CLIENTS --window $RATE_WINDOW"
)
read -r -a order <<<"$SERVERS"
i=0
for wl in "${workloads[@]}"; do
  name=${wl%%|*}; args=${wl#*|}
  # alternate which server goes first, so slow drift on a shared machine does not favour one side
  seq_=("${order[@]}")
  if [ $((i % 2)) -eq 1 ] && [ ${#order[@]} -eq 2 ]; then seq_=("${order[1]}" "${order[0]}"); fi
  for s in "${seq_[@]}"; do
    log "$s: $name ($args)"
    for attempt in $(seq 0 "$RETRY_BUSY"); do
      # shellcheck disable=SC2086
      loader "$s" "$name" "$RUN_TMO" --connect "127.0.0.1:${PORT[$s]}" --server-pid "${PID[$s]}" $args "${common[@]}" || break
      [ -d "/proc/${PID[$s]}" ] || break
      # other processes took more than BUSY_FRAC of the machine during the window: run it again
      # (the table keeps the least disturbed attempt; all stay in results.jsonl)
      tail -1 "$OUT" | python3 -c '
import json, os, sys
j = json.loads(sys.stdin.readline())
sys.exit(0 if j.get("other_cpu_s", -1) > float(sys.argv[1]) * (os.cpu_count() or 1) * float(sys.argv[2]) else 1)' \
        "$BUSY_FRAC" "$DUR" || break
      [ "$attempt" -lt "$RETRY_BUSY" ] || break
      [ "$RETRIES" -lt "$MAX_RETRIES" ] || { log "  other processes were busy during that run (no retries left)"; break; }
      RETRIES=$((RETRIES + 1))
      log "  other processes were busy during that run; running it again"
    done
    if [ ! -d "/proc/${PID[$s]}" ]; then
      note_died "$s" "${SNAME[$s]}" "${PID[$s]}" "$name"
      # restart it (fresh, same port) so the remaining workloads still run
      log "  restarting $s"
      SNAME[$s]=$s-run-after-$name
      if [ "$s" = java ]; then start_java "${SNAME[$s]}" "${PORT[$s]}"; else start_fk "${SNAME[$s]}" "${PORT[$s]}"; fi
      PID[$s]=$SRV_PID
    fi
  done
  i=$((i + 1))
done
for s in $SERVERS; do
  log "stopping $s"
  stop_server "$s" "${SNAME[$s]}" "${PID[$s]}"
done

# ---- phase 2: memory per znode, each server fresh and alone
target=$POP_N
for s in $SERVERS; do
  port=$(free_port)
  log "memory: starting a fresh $s on 127.0.0.1:$port"
  if [ "$s" = java ]; then start_java java-mem "$port"; else start_fk ferrokeeper-mem "$port"; fi
  pid=$SRV_PID
  sleep 2   # let start-up settle before the RSS baseline
  log "$s: populate $target znodes of $VALUE B (chunks of $POP_CHUNK, budget ${POP_BUDGET}s)"
  POP_DONE=0
  populate "$s" "$pid" "$port" "$target" || true
  log "  $s: $POP_DONE znodes"
  # the other server populates exactly as many, so bytes/znode are comparable
  if [ "$s" = java ] && [ "$POP_DONE" -gt 0 ] && [ "$POP_DONE" -lt "$target" ]; then target=$POP_DONE; fi
  [ -d "/proc/$pid" ] || note_died "$s" "$s-mem" "$pid" populate
  stop_server "$s" "$s-mem" "$pid"
done

# ---- table
python3 "$BENCH_DIR/compare_table.py" "$OUT" | tee "$RESULTS/summary.md"
log "results: $OUT, table: $RESULTS/summary.md; total $(($(date +%s) - T_START)) s"
