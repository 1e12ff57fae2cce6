#!/usr/bin/env bash
# The election and quorum ports' bytes against a live Java ensemble: two Debian Java
# ZooKeeper 3.8.0 members (server.1, server.2) and examples/quorum_probe as server.3,
# all on loopback with free ports. See README.md for what is checked and what Java sent.
# Builds nothing: takes the probe binary. Prints "N passed, M failed" last.
#   compat-tests/quorum-wire/run.sh [PROBE_BINARY]
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PROBE=${1:-$REPO/target/release/examples/quorum_probe}
[ -x "$PROBE" ] || PROBE=$REPO/target/debug/examples/quorum_probe
JAVAZK="$HERE/../lib/javazk.py"
if [ ! -x "$PROBE" ]; then
  echo "no probe binary at $PROBE (cargo build --release --examples)"
  echo "0 passed, 1 failed"
  exit 1
fi
TMP=$(mktemp -d /tmp/quorum-wire.XXXXXX)
cleanup() {
  # Every Java member the driver spawned, by the pid it wrote, even if the driver died.
  for d in "$TMP"/java*; do [ -d "$d" ] && python3 "$JAVAZK" kill "$d"; done
  rm -rf "$TMP"
}
trap cleanup EXIT
timeout 110 python3 "$HERE/driver.py" "$PROBE" "$TMP" 2>&1 | tee "$TMP/driver.log"
status=${PIPESTATUS[0]}
if ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$TMP/driver.log"; then
  echo "driver ended without a result (exit $status)"
  echo "0 passed, 1 failed"
  status=1
fi
[ "$status" = 0 ]
