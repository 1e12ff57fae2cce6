#!/usr/bin/env bash
# run.sh - FerroKeeper's on-disk txn log against Debian's Java ZooKeeper 3.8 (no server needed).
#
#   compat-tests/txnlog-interop/run.sh            builds the example binaries, runs the tests
#   FERRO_EXAMPLES_DIR=DIR run.sh              uses dump_txnlog / write_txnlog / truncate_txnlog from DIR
#
# Needs what compat-tests/install-deps.sh installs (a JVM, Debian's zookeeper, kazoo, pytest);
# anything missing FAILS the tests. The last line is "N passed, M failed"; exit 1 on any failure.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}

if [ -z "${FERRO_EXAMPLES_DIR:-}" ]; then
  if ! (cd "$REPO" && cargo build --release --example dump_txnlog --example write_txnlog \
      --example truncate_txnlog); then
    echo "persistence: building the example binaries failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
  FERRO_EXAMPLES_DIR="$REPO/target/release/examples"
fi
export FERRO_EXAMPLES_DIR

LOG=$(mktemp /tmp/ferro-persistence.XXXXXX)
# --confcutdir: these tests start their own servers; compat-tests/conftest.py wants ZK_CONNECT.
( cd "$HERE" && timeout -k 10 600 "$PY" -m pytest -q -rfEs -p no:cacheprovider \
    --confcutdir="$HERE" "$HERE" ) 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
p=$(grep -Eo '[0-9]+ passed' "$LOG" | tail -1 | grep -Eo '[0-9]+')
f=$(grep -Eo '[0-9]+ (failed|error)' "$LOG" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
rm -f "$LOG"
p=${p:-0}
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi   # crashed, timed out, or collected nothing
if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
