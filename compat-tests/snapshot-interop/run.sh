#!/usr/bin/env bash
# run.sh — snapshot interop between Debian's Java ZooKeeper 3.8 and FerroKeeper, both ways:
#   test_java_writes_ferrokeeper_reads.py  Java writes (none/gz/snappy), our reader decodes
#   test_ferrokeeper_writes_java_reads.py  our writer, Java's SnapshotFormatter and server read
# Builds the two example programs (release), runs pytest, prints "N passed, M failed" last.
# Java missing is a failure, never a skip. Needs compat-tests/install-deps.sh's packages.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PY=${PYTHON:-python3}
RES="$HERE/../.work/results"
mkdir -p "$RES"

if ! (cd "$REPO" && cargo build --release --examples -q); then
  echo "persistence: building the examples failed"
  echo "0 passed, 1 failed"
  exit 1
fi

xml="$RES/persistence.xml"
rm -f "$xml"
# --confcutdir: these tests start their own servers; compat-tests/conftest.py wants ZK_CONNECT.
( cd "$HERE" && timeout -k 10 "${PERSISTENCE_TIMEOUT:-600}" "$PY" -m pytest -q -rfEs \
    --confcutdir="$HERE" --junitxml="$xml" . )
rc=$?
read -r p f s < <("$PY" - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 0 0"); sys.exit()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = f = s = 0
for su in suites:
    t += int(su.get("tests", 0)); s += int(su.get("skipped", 0))
    f += int(su.get("failures", 0)) + int(su.get("errors", 0))
print(t - f - s, f, s)
PY
)
# A crash, a timeout or no test collected counts as a failure; so does any skip.
if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
f=$((f + s))
[ "$p" -eq 0 ] && [ "$f" -eq 0 ] && f=1
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
