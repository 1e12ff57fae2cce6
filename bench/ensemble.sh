#!/usr/bin/env bash
# bench/ensemble.sh — a 3-member Java ZooKeeper 3.8 ensemble and a 3-member FerroKeeper
# ensemble, one after the other on this machine, under the same zkload workloads
# (../shared/bench: the official Java client): write-only and 90/10 throughput with the
# clients spread over every member, server CPU summed over the members, and leader
# failover (kill -9 of the leader under write load: the longest write gap).
#
#   bench/ensemble.sh                  # both kinds; results in bench/results/ensemble-DATE/
#   KINDS=fk bench/ensemble.sh         # only FerroKeeper
#   DUR=10 WARM=3 CLIENTS=16 WINDOW=32 TICK=2000 bench/ensemble.sh
#
# Prints one JSON line per run (zkload's, tagged with "kind" and "workload") and a table.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$REPO/../shared}
ZK=$SHARED/bench
KINDS=${KINDS:-java fk}
DUR=${DUR:-10}
WARM=${WARM:-3}
CLIENTS=${CLIENTS:-16}
WINDOW=${WINDOW:-32}
TICK=${TICK:-2000}
OUT=${RESULTS:-$REPO/bench/results/ensemble-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
FK=$REPO/target/release/ferrokeeper
[ -x "$FK" ] || (cd "$REPO" && cargo build --release >&2)
"$ZK/build.sh" >/dev/null

# Ports: clients 2281-2283, quorum 2388-2390, election 3488-3490 (rarely used).
CB=2280 QB=2387 EB=3487
connect() { echo "127.0.0.1:$((CB+1)),127.0.0.1:$((CB+2)),127.0.0.1:$((CB+3))"; }
fourlw() { ( exec 3<>"/dev/tcp/127.0.0.1/$1" && printf '%s' "$2" >&3 && timeout 3 cat <&3 ) 2>/dev/null || true; }
wait_formed() {
  local deadline=$((SECONDS + 60)) i ok
  while [ $SECONDS -lt $deadline ]; do
    ok=0
    for i in 1 2 3; do fourlw $((CB+i)) srvr | grep -qE '^Mode: (leader|follower)' && ok=$((ok+1)); done
    [ $ok = 3 ] && return 0
    sleep 0.2
  done
  echo "ensemble did not form" >&2; return 1
}
leader_port() { local i; for i in 1 2 3; do fourlw $((CB+i)) srvr | grep -q '^Mode: leader' && { echo $((CB+i)); return; }; done; }

declare -A PID
fk_start() {
  local base=$1 i
  for i in 1 2 3; do
    mkdir -p "$base/s$i"; echo $i > "$base/s$i/myid"
    {
      echo "tickTime=$TICK"; echo initLimit=10; echo syncLimit=5; echo "dataDir=$base/s$i"
      echo "clientPort=$((CB+i))"; echo clientPortAddress=127.0.0.1; echo maxClientCnxns=0
      echo "4lw.commands.whitelist=*"; echo admin.enableServer=false
      for j in 1 2 3; do echo "server.$j=127.0.0.1:$((QB+j)):$((EB+j))"; done
    } > "$base/s$i/zoo.cfg"
    FERROKEEPER_LOG=warn "$FK" "$base/s$i/zoo.cfg" > "$base/s$i/fk.log" 2>&1 &
    PID[$i]=$!
  done
}
java_start() {
  local base=$1 line
  while read -r sid pid port; do PID[$sid]=$pid; done < <(ZK_HEAP=1g "$ZK/zkserver-java.sh" ensemble-start "$base" 3 $((CB+1)) $((QB+1)) $((EB+1)) "tickTime=$TICK")
}
stop_all() { local i; for i in 1 2 3; do kill "${PID[$i]}" 2>/dev/null || true; done; wait 2>/dev/null || true; sleep 1; }
pids() { echo "${PID[1]},${PID[2]},${PID[3]}"; }
load() { # KIND WORKLOAD ARGS...
  local kind=$1 w=$2; shift 2
  "$ZK/run.sh" --connect "$(connect)" --server-pid "$(pids)" --clients "$CLIENTS" --window "$WINDOW" \
    --duration "$DUR" --warmup "$WARM" --label "$kind-$w" "$@" 2>/dev/null \
    | python3 -c "import json,sys; d=json.loads(sys.stdin.readline()); d['kind']='$kind'; d['workload']='$w'; print(json.dumps(d))" \
    | tee -a "$OUT/results.jsonl"
}

for kind in $KINDS; do
  base=$(mktemp -d)
  "${kind}_start" "$base"; wait_formed
  load "$kind" write --mix 0 --znodes 1000 --value-size 100
  load "$kind" mix90 --mix 90 --znodes 1000 --value-size 100
  # Failover: kill -9 of the leader under write load.
  lp=$(leader_port); li=$((lp - CB))
  "$ZK/run.sh" --mode failover --connect "$(connect)" --clients 8 --window 8 --duration $((DUR + 10)) \
    --warmup "$WARM" --mix 0 --znodes 1000 --kill-pid "${PID[$li]}" --label "$kind-failover" 2>/dev/null \
    | python3 -c "import json,sys; d=json.loads(sys.stdin.readline()); d['kind']='$kind'; d['workload']='failover'; print(json.dumps(d))" \
    | tee -a "$OUT/results.jsonl"
  stop_all
  [ "$kind" = java ] && "$ZK/zkserver-java.sh" ensemble-stop "$base" >/dev/null 2>&1 || true
  rm -rf "$base"
done
python3 - "$OUT/results.jsonl" <<'EOF' | tee "$OUT/summary.md"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r['kind'], r['workload']): r for r in rows}
print("| workload | Java ops/s | FK ops/s | ratio | Java CPU µs/op | FK CPU µs/op | ratio | p99 Java / FK µs |")
print("|---|--:|--:|--:|--:|--:|--:|--:|")
for w in ("write", "mix90"):
    j, f = by.get(("java", w)), by.get(("fk", w))
    if not j or not f:
        continue
    r = lambda a, b: f"{a / b:.2f}" if a and b else "-"
    print(f"| {w} | {j['ops_per_sec']:.0f} | {f['ops_per_sec']:.0f} | {r(f['ops_per_sec'], j['ops_per_sec'])} | "
          f"{j.get('server_cpu_us_per_op', 0):.1f} | {f.get('server_cpu_us_per_op', 0):.1f} | "
          f"{r(f.get('server_cpu_us_per_op', 0), j.get('server_cpu_us_per_op', 0))} | "
          f"{j['latency_us']['p99']} / {f['latency_us']['p99']} |")
for k in ("java", "fk"):
    f = by.get((k, "failover"))
    if f:
        keys = {x: f[x] for x in f if 'outage' in x or 'recovery_ms_m' in x}
        print(f"failover {k}: {json.dumps(keys)}")
EOF
