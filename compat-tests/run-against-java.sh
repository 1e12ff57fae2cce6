#!/usr/bin/env bash
# run-against-java.sh - start the real Java ZooKeeper 3.8 on a free loopback port in a temp dir,
# run every compat suite against it (run.sh), stop it. Exit status is run.sh's.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK="$HERE/.work"
mkdir -p "$WORK"
DIR=$(mktemp -d "$WORK/javazk.XXXXXX")
cleanup() { "$HERE/lib/java-zk.sh" stop "$DIR" || true; rm -rf "$DIR"; }
trap cleanup EXIT INT TERM
read -r PID PORT < <("$HERE/lib/java-zk.sh" start "$DIR")
[ -n "${PORT:-}" ] || { echo "run-against-java: could not start Java ZooKeeper" >&2; exit 1; }
echo "run-against-java: Java ZooKeeper pid $PID on 127.0.0.1:$PORT ($DIR)"
set +e
ZK_CONNECT="127.0.0.1:$PORT" "$HERE/run.sh" "$@"
rc=$?
set -e
exit $rc
