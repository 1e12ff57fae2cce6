#!/usr/bin/env bash
# capture.sh - (re)make the reference captures in java-3.8.0/ from Debian's Java ZooKeeper
# 3.8.0: one server with 4lw.commands.whitelist=* for every word, one with the default
# whitelist for the refusals. Loopback only; both servers are stopped at the end.
#
#   compat-tests/fourletter/capture.sh [OUTDIR]      (default: compat-tests/fourletter/java-3.8.0)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LIB="$HERE/../lib/java-zk.sh"
OUT=${1:-$HERE/java-3.8.0}
WORK="$HERE/../.work"
mkdir -p "$WORK"
D1=$(mktemp -d "$WORK/capture-all.XXXXXX")
D2=$(mktemp -d "$WORK/capture-default.XXXXXX")
cleanup() { "$LIB" stop "$D1" || true; "$LIB" stop "$D2" || true; rm -rf "$D1" "$D2"; }
trap cleanup EXIT INT TERM

read -r _ PORT1 < <("$LIB" start "$D1")
ZK_CONNECT="127.0.0.1:$PORT1" python3 "$HERE/capture.py" "$OUT"

read -r _ PORT2 < <(JAVA_ZK_4LW_WHITELIST=default "$LIB" start "$D2")
ZK_CONNECT="127.0.0.1:$PORT2" python3 "$HERE/capture.py" --refused "$OUT"
