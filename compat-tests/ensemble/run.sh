#!/usr/bin/env bash
# The ensemble stage (see README.md): test_ensemble.py in a fresh run dir, every member it
# started killed afterwards by the pid it wrote (cluster.py kill-run), even if the driver died.
# Arguments go to test_ensemble.py, e.g.:
#   compat-tests/ensemble/run.sh --members java,java,java
#   compat-tests/ensemble/run.sh --members fk,fk,fk --fk-bin target/release/ferrokeeper
# With --partitions first, to test_partition.py instead (every member in its own network
# namespace, partitions made with iptables; root only), e.g.:
#   compat-tests/ensemble/run.sh --partitions --members fk,fk,fk
# kill-run also deletes that run's namespaces and veths.
# Prints "N passed, M failed" last. The run dir (member logs, clients.log, history.jsonl)
# is kept when the stage failed, or always with KEEP_RUN_DIR=1.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DRIVER=test_ensemble.py
if [ "${1:-}" = --partitions ]; then
  DRIVER=test_partition.py
  shift
fi
RUN=$(mktemp -d /tmp/ensemble.XXXXXX)
cleanup() {
  python3 "$HERE/cluster.py" kill-run "$RUN"
  if [ "${KEEP_RUN_DIR:-0}" = 1 ] || [ "${status:-1}" != 0 ]; then
    echo "run dir kept (member logs, clients.log, history.jsonl): $RUN"
  else
    rm -rf "$RUN"
  fi
}
trap cleanup EXIT
# 170 s: the stage bounds every wait itself; this only catches a driver that hangs.
timeout -k 10 170 python3 "$HERE/$DRIVER" --run-dir "$RUN" "$@" 2>&1 | tee "$RUN/stage.log"
status=${PIPESTATUS[0]}
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$RUN/stage.log"; then
  echo "$DRIVER ended without a result (exit $status)"
  echo "0 passed, 1 failed"
  status=1
fi
[ "$status" = 0 ]
