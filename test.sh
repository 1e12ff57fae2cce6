#!/usr/bin/env bash
# test.sh — every FerroKeeper test, on a fresh machine or this one.
#
#   ./test.sh                 everything (about 5 minutes on 2 cores)
#   DIFF_SEEDS=1-500 ./test.sh   more differential seeds
#   DIFF_ENSEMBLE_SEEDS=1-300 ./test.sh   more seeds of the ensemble-vs-ensemble one
#
# 1. installs what the tests need (Debian: zookeeper, zookeeper-bin, Curator,
#    a JDK, docker.io, docker-compose, debootstrap; PyPI: kazoo, pytest) via
#    compat-tests/install-deps.sh;
# 2. cargo test: unit tests and in-process integration tests (tests/);
#    then snapshot interop: Java ZooKeeper's snapshots read by FerroKeeper, FerroKeeper's
#    read by Java's SnapshotFormatter and server (compat-tests/snapshot-interop/run.sh);
# 3. builds the release server, starts it from a generated zoo.cfg on a free
#    loopback port, and runs the real-client suites against it
#    (zkCli.sh, Kazoo, the C client, Curator, and the four-letter words
#    against Java 3.8.0 captures: compat-tests/run.sh); the same suites against
#    a follower of a 3-member FerroKeeper ensemble (compat-tests/ensemble/clients.py);
#    then the AdminServer and Prometheus /metrics against Java 3.8.0's (compat-tests/admin/run.sh);
# 4. the differential test: the same seeded random programs against Debian's
#    Java ZooKeeper 3.8 and FerroKeeper, every reply and event compared; then
#    a 3-member Java ensemble against a 3-member FerroKeeper one, clients on followers;
#    the ACL matrix, scheme x permission x operation, against Java (compat-tests/acl-matrix);
# 5. the on-disk txn log against Java ZooKeeper (compat-tests/txnlog-interop);
#    limits side by side with Java (compat-tests/limits); session expiry under a
#    saturating load, both servers (compat-tests/expiry-load); a closeSession pipelined
#    behind another, dropped as Java drops it (compat-tests/close-session); the election and quorum
#    ports' bytes against a live Java ensemble (compat-tests/quorum-wire); 3-member Java
#    ensemble, FerroKeeper ensembles, mixed ones and a rolling Java->FerroKeeper replacement
#    under kill -9 and SIGSTOP with a linearizability check (compat-tests/ensemble);
#    a Java observer of Java and of FerroKeeper voters (compat-tests/ensemble/observer.py);
#    network partitions of the leader and of a follower, each member in its own network
#    namespace, FerroKeeper and Java (compat-tests/ensemble/test_partition.py);
#    migration of one dataDir Java -> FerroKeeper -> Java and back, and kill -9
#    crash rounds (compat-tests/persistence);
# 6. packaging: the Docker entrypoint, Dockerfile, systemd unit and bin/
#    scripts (packaging/test/run.sh); docker/docker-compose.yml's three members
#    as an ensemble in a private Docker engine (packaging/test/compose.sh);
# 7. the differential harness's own tests.
# The last line is "N passed, M failed" over every stage; exit 1 on any failure.
set -uo pipefail
REPO=$(cd "$(dirname "$0")" && pwd)
cd "$REPO"
PY=${PYTHON:-python3}
DIFF_SEEDS=${DIFF_SEEDS:-1-20}
DIFF_ENSEMBLE_SEEDS=${DIFF_ENSEMBLE_SEEDS:-1-20}
WORK=$(mktemp -d /tmp/ferrokeeper-test.XXXXXX)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0
failed=0
stage() { echo; echo "=== $*"; }
count_line() { # "N passed, M failed" somewhere in $1's last lines → add
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  if [ -z "$line" ]; then failed=$((failed + 1)); echo "(no result line: counted as a failure)"; return; fi
  passed=$((passed + $(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
}

stage "install dependencies"
if ! bash compat-tests/install-deps.sh; then
  echo "0 passed, 1 failed"
  exit 1
fi

stage "cargo test (unit + integration)"
cargo test --release --workspace --no-fail-fast 2>&1 | tee "$WORK/cargo.log"
cargo_status=${PIPESTATUS[0]}
p=$(grep -E '^test result:' "$WORK/cargo.log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
f=$(grep -E '^test result:' "$WORK/cargo.log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
if [ "$cargo_status" != 0 ] && [ "${f:-0}" = 0 ]; then failed=$((failed + 1)); fi

stage "snapshot interop with Java ZooKeeper 3.8, both ways (compat-tests/snapshot-interop)"
bash compat-tests/snapshot-interop/run.sh 2>&1 | tee "$WORK/snapshot-interop.log"
count_line "$WORK/snapshot-interop.log"

stage "start FerroKeeper for the real-client suites"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ADMIN_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/data"
# The AdminServer is on, as in ZooKeeper, on a free loopback port (never 8080).
cat > "$WORK/zoo.cfg" <<CFG
tickTime=2000
dataDir=$WORK/data
clientPort=$PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
4lw.commands.whitelist=*
extendedTypesEnabled=true
admin.serverAddress=127.0.0.1
admin.serverPort=$ADMIN_PORT
CFG
# Containers and TTL nodes are reaped every second, as the suites expect;
# ZooKeeper takes this setting only as a JVM flag, and so do we.
SERVER_JVMFLAGS="-Dznode.container.checkIntervalMs=1000" \
  ./target/release/ferrokeeper "$WORK/zoo.cfg" > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$PORT),0.2)" 2>/dev/null && break
  sleep 0.1
done

stage "real clients: zkCli.sh, Kazoo, C client, Curator; four-letter words"
ZK_CONNECT=127.0.0.1:$PORT bash compat-tests/run.sh 2>&1 | tee "$WORK/compat.log"
count_line "$WORK/compat.log"
kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; SERVER_PID=

stage "real clients against a follower of a 3-member FerroKeeper ensemble (compat-tests/ensemble/clients.py)"
# The same suites with ZK_CONNECT naming one follower only; four-letter words against a Java
# 3.8.0 follower's captures (about 2 minutes).
timeout 600 "$PY" compat-tests/ensemble/clients.py --members fk,fk,fk \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/ensemble-clients.log"
count_line "$WORK/ensemble-clients.log"

stage "AdminServer and Prometheus /metrics vs Java 3.8.0 (compat-tests/admin, its own fresh server)"
bash compat-tests/admin/run.sh "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/admin.log"
count_line "$WORK/admin.log"

stage "differential test against Java ZooKeeper 3.8 (seeds $DIFF_SEEDS)"
"$PY" compat-tests/differential/difftest.py --a java \
  --b "cmd:$REPO/target/release/ferrokeeper {cfg}" --seeds "$DIFF_SEEDS" --ops 200 2>&1 | tee "$WORK/diff.log"
count_line "$WORK/diff.log"

stage "differential test, ensembles: Java 3.8 followers vs FerroKeeper followers (seeds $DIFF_ENSEMBLE_SEEDS)"
# Both sides 3-member ensembles started fresh, the programs' sessions on one follower each.
# A Java 3.8.0 follower now and then stops answering a session for 10 s and more (about 2% of
# seeds here; compat-tests/differential/README.md): a seed in which only Java's side timed out
# runs once more. A timeout or a difference on FerroKeeper's side always fails.
"$PY" compat-tests/differential/difftest.py --a java-ensemble \
  --b "fk-ensemble:$REPO/target/release/ferrokeeper" --seeds "$DIFF_ENSEMBLE_SEEDS" --ops 200 \
  --io-timeout 10 --rerun-reference-stalls 2>&1 | tee "$WORK/diff-ensemble.log"
count_line "$WORK/diff-ensemble.log"

# Seeds that once disagreed with Java, run at the length that showed it; one
# list, grown as longer soaks find more (1205, 1399: issue 11, the order of
# ACL entries an `auth` ACL expands to).
DIFF_REGRESSION_SEEDS=1205,1399,3112,3765
stage "differential regression seeds against Java ZooKeeper 3.8 ($DIFF_REGRESSION_SEEDS, 300 ops)"
"$PY" compat-tests/differential/difftest.py --a java \
  --b "cmd:$REPO/target/release/ferrokeeper {cfg}" --seeds "$DIFF_REGRESSION_SEEDS" --ops 300 2>&1 \
  | tee "$WORK/diff-regression.log"
count_line "$WORK/diff-regression.log"

stage "enforce.auth against Java ZooKeeper 3.8 (compat-tests/security)"
"$PY" compat-tests/security/run.py "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/security.log"
count_line "$WORK/security.log"

stage "the ACL matrix against Java ZooKeeper 3.8: scheme x permission x operation (compat-tests/acl-matrix)"
# world, auth, digest, ip (matching, not, CIDR) and super, each permission alone, all and none,
# 56 operations in and out of multi, addAuth and ACL-list probes, skipACL=yes (about 15 s).
# x509 and sasl are listed as not covered until TLS and SASL exist.
timeout 300 "$PY" compat-tests/acl-matrix/run.py "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/acl-matrix.log"
count_line "$WORK/acl-matrix.log"
stage "the ACL matrix on a follower of a 3-member FerroKeeper ensemble, against Java 3.8 (compat-tests/acl-matrix)"
# Reads answered by the follower, writes checked by the leader with the forwarded auth ids (about 10 s).
timeout 300 "$PY" compat-tests/acl-matrix/run.py --fk-members fk,fk,fk "$REPO/target/release/ferrokeeper" 2>&1 \
  | tee "$WORK/acl-matrix-ensemble.log"
count_line "$WORK/acl-matrix-ensemble.log"
stage "the ACL matrix on a Java 3.8 follower of a FerroKeeper leader (compat-tests/acl-matrix)"
# Java's follower against FerroKeeper standalone; a lone check is left out (README), about 20 s.
timeout 300 "$PY" compat-tests/acl-matrix/run.py --java-members java,fk,fk --skip-ops check \
  "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/acl-matrix-java-follower.log"
count_line "$WORK/acl-matrix-java-follower.log"

stage "listeners and counters against Java ZooKeeper 3.8: IPv6, Sent/Received, AdminServer with server.N (compat-tests/listeners)"
"$PY" compat-tests/listeners/run.py "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/listeners.log"
count_line "$WORK/listeners.log"

stage "on-disk txn log against Java ZooKeeper 3.8 (compat-tests/txnlog-interop)"
bash compat-tests/txnlog-interop/run.sh 2>&1 | tee "$WORK/txnlog-interop.log"
count_line "$WORK/txnlog-interop.log"

stage "limits against Java ZooKeeper 3.8: replies over jute.maxbuffer, sessionless timeout (compat-tests/limits)"
bash compat-tests/limits/run.sh "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/limits.log"
count_line "$WORK/limits.log"

stage "session expiry under saturating load, FerroKeeper and Java ZooKeeper 3.8 (compat-tests/expiry-load)"
# A killed client's ephemeral goes, and its watcher hears NodeDeleted, within timeout + one tick
# while three pipelining clients keep both servers busy (about 15 s).
timeout 120 python3 compat-tests/expiry-load/run.py "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/expiry-load.log"
count_line "$WORK/expiry-load.log"

stage "closeSession of a closing session against Java ZooKeeper 3.8 (compat-tests/close-session)"
timeout 120 python3 compat-tests/close-session/run.py "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/close-session.log"
count_line "$WORK/close-session.log"

stage "election and quorum ports against a live Java 3.8 ensemble (compat-tests/quorum-wire)"
# Two Java members and examples/quorum_probe as server.3: election handshake, votes,
# FOLLOWERINFO..UPTODATE with SNAP, DIFF and TRUNC, proposals of a client's writes.
cargo build --release --example quorum_probe 2>&1 | tail -n 1
bash compat-tests/quorum-wire/run.sh "$REPO/target/release/examples/quorum_probe" 2>&1 | tee "$WORK/quorum-wire.log"
count_line "$WORK/quorum-wire.log"

# Replicated ensembles under kill -9 and SIGSTOP (compat-tests/ensemble): one Kazoo client
# per member writes and sync+reads while the leader and a follower are killed -9 and
# restarted and the leader is SIGSTOPped past syncLimit, server.1 made leader (so each kind
# leads in a mixed ensemble), every member restarted in turn, a leader's lone txn truncated;
# then the trees on every member, every acknowledged create, and the history's
# linearizability. Java alone first (the reference), then FerroKeeper alone, the two mixes,
# and a rolling replacement of three Java members by FerroKeeper under load (25-80 s each).
for kinds in java,java,java fk,fk,fk java,fk,fk java,java,fk; do
  stage "a replicated ensemble of $kinds under kill -9 and SIGSTOP (compat-tests/ensemble)"
  bash compat-tests/ensemble/run.sh --members "$kinds" --tick 200 \
    --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/ensemble-$kinds.log"
  count_line "$WORK/ensemble-$kinds.log"
done
stage "a rolling replacement of three Java members by FerroKeeper under load (compat-tests/ensemble)"
bash compat-tests/ensemble/run.sh --members java,java,java --rolling-to fk,fk,fk --tick 200 \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/ensemble-rolling.log"
count_line "$WORK/ensemble-rolling.log"

stage "SESSIONMOVED: a request through a server the session left (compat-tests/ensemble/session_moved.py)"
timeout -k 10 300 "$PY" compat-tests/ensemble/session_moved.py \
  --kinds java,java,java fk,fk,fk java,fk,fk fk,java,java \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/session-moved.log"
count_line "$WORK/session-moved.log"

stage "per-session reply order on a member, Java 3.8.0 vs FerroKeeper (compat-tests/ensemble/reply_order.py)"
timeout -k 10 400 "$PY" compat-tests/ensemble/reply_order.py \
  --kinds java,java,java fk,fk,fk java,fk,fk fk,java,java \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/reply-order.log"
count_line "$WORK/reply-order.log"

stage "mntr's quorum counters and summaries, Java 3.8.0 vs FerroKeeper (compat-tests/ensemble/quorum_counters.py)"
timeout -k 10 300 "$PY" compat-tests/ensemble/quorum_counters.py \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/quorum-counters.log"
count_line "$WORK/quorum-counters.log"

stage "a follower older than the committed window: DIFF from the txn log or SNAP, Java 3.8.0 and FerroKeeper leaders alike (compat-tests/ensemble/txnlog_sync.py)"
timeout -k 10 170 "$PY" compat-tests/ensemble/txnlog_sync.py \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/txnlog-sync.log"
count_line "$WORK/txnlog-sync.log"

for voters in java fk java,fk,fk; do
  stage "a Java 3.8.0 observer (server.4=…:observer) syncs from and writes through $voters voters (compat-tests/ensemble/observer.py)"
  timeout -k 10 170 "$PY" compat-tests/ensemble/observer.py --voters "$voters" \
    --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/observer-$voters.log"
  count_line "$WORK/observer-$voters.log"
done

# Network partitions (compat-tests/ensemble/test_partition.py): every member in its own
# network namespace (veth into a bridge), partitions made with iptables inside the cut-off
# members' namespaces, one Kazoo (and one Java) client per member writing throughout: the leader cut off
# (the majority elects another, the old one stops serving and acknowledges nothing, rejoins
# when healed), then a follower cut off (the leader stays); then trees, acknowledged
# creates and linearizability. FerroKeeper, Java as the reference, and a mix in which a Java
# follower is cut off from a FerroKeeper leader (10-45 s each; Java up to 140 s under heavy load).
for run in "fk,fk,fk --java-clients" "java,java,java --java-clients" "java,fk,fk --java-clients"; do
  kinds=${run%% *}
  stage "network partitions of a $kinds ensemble, a namespace per member (compat-tests/ensemble)"
  # shellcheck disable=SC2086 # $run holds the kinds and maybe --java-clients
  bash compat-tests/ensemble/run.sh --partitions --members $run --tick 200 \
    --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/partition-$kinds.log"
  count_line "$WORK/partition-$kinds.log"
done

stage "migration Java <-> FerroKeeper on one dataDir, and kill -9 crash rounds (compat-tests/persistence)"
# Java's files served by FerroKeeper and back, with every Stat field equal;
# then FerroKeeper killed -9 under concurrent writes, every acknowledged
# write checked after restart.
bash compat-tests/persistence/run.sh --server-a java --server-b fk --crash-server fk \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/migrate-a.log"
count_line "$WORK/migrate-a.log"
bash compat-tests/persistence/run.sh --server-a fk --server-b java --only migration \
  --fk-bin "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/migrate-b.log"
count_line "$WORK/migrate-b.log"

stage "packaging: Docker entrypoint, Dockerfile, systemd unit, bin/ scripts (packaging/test/run.sh)"
# No Docker engine or systemd needed: the entrypoint runs with temp dirs,
# the unit is checked by systemd-analyze verify, every bin/ verb runs
# against the release binary on a free loopback port.
timeout 300 bash packaging/test/run.sh "$REPO/target/release/ferrokeeper" 2>&1 | tee "$WORK/packaging.log"
count_line "$WORK/packaging.log"

stage "packaging: docker/docker-compose.yml's 3 members through a real Docker engine (packaging/test/compose.sh)"
# A private dockerd in a network namespace of its own, debian:bookworm-slim made with
# debootstrap (no Docker Hub), the image's prebuilt stage (target/release/ferrokeeper); one
# leader and two followers, replication, docker kill of the leader, re-election, rejoin with
# the same tree, down -v (about 30 s; debootstrap adds 20-130 s on a machine's first run).
timeout -k 20 480 bash packaging/test/compose.sh 2>&1 | tee "$WORK/compose.log"
count_line "$WORK/compose.log"

stage "differential harness self-tests"
# --confcutdir: the harness's tests need no server, unlike compat-tests/conftest.py.
"$PY" -m pytest -q --confcutdir=compat-tests/differential compat-tests/differential 2>&1 | tee "$WORK/pytest.log"
p=$(grep -Eo '[0-9]+ passed' "$WORK/pytest.log" | tail -1 | grep -Eo '[0-9]+')
f=$(grep -Eo '[0-9]+ failed' "$WORK/pytest.log" | tail -1 | grep -Eo '[0-9]+')
passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
[ -z "${p:-}" ] && failed=$((failed + 1))

echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
