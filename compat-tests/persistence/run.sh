#!/usr/bin/env bash
# run.sh - the persistence suite: ZooKeeper's on-disk format, migration and crash recovery.
#
#   run.sh [--server-a java|fk] [--server-b java|fk] [--crash-server java|fk]
#          [--only harness|migration|crash]... [--fk-bin PATH] [--rounds N]
#          [--load-seconds S] [--writers N] [--snap-count N] [--seed N]
#          [--workdir DIR] [--keep] [-- PYTEST-ARGS...]
#
#   --server-a K      writes the data set and is stopped (default java)
#   --server-b K      restarts on A's directories (default java)
#   --crash-server K  the server kill -9'd in the crash test (default: --server-b)
#   --only SUITE      run only harness / migration / crash (repeatable; default all)
#   --fk-bin PATH     FerroKeeper binary (default $FK_BIN, else <repo>/target/release/ferrokeeper)
#   --rounds N        crash rounds (default 10); --load-seconds S max load before a kill (2.0)
#   --writers N       concurrent writers (4); --snap-count N snapCount of every server (100)
#   --seed N          random seed (default time-based; printed in the header for replay)
#   --workdir DIR     data dirs, zoo.cfg files, server logs (default compat-tests/.work/
#                     persistence/<timestamp>; removed after a fully passing run)
#   --keep            keep the work directory even when everything passed
#
# Last line: "N passed, M failed". Exit 0 only if nothing failed (2: bad usage).
# Java (JDK + Debian `zookeeper` jars) is needed for every run: it is the reference server
# and runs ZooKeeper's own file tools. A server that cannot start, or Java missing, is a
# failure, never a skip.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
args=()
only=()
usage() { sed -n '2,26p' "$0"; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --server-a|--server-b|--crash-server)
      [ $# -ge 2 ] || usage
      case "$2" in java|fk) ;; *) echo "run.sh: $1 must be java or fk" >&2; exit 2 ;; esac
      args+=("$1" "$2"); shift 2 ;;
    --fk-bin|--rounds|--load-seconds|--writers|--snap-count|--seed|--workdir)
      [ $# -ge 2 ] || usage
      v=$2
      if [ "$1" = --fk-bin ] || [ "$1" = --workdir ]; then
        case "$v" in /*) ;; *) v="$PWD/$v" ;; esac
      fi
      args+=("$1" "$v"); shift 2 ;;
    --keep) args+=(--keep); shift ;;
    --only)
      [ $# -ge 2 ] || usage
      case "$2" in harness|migration|crash) only+=("test_$2.py") ;;
        *) echo "run.sh: --only harness|migration|crash" >&2; exit 2 ;; esac
      shift 2 ;;
    -h|--help) usage ;;
    --) shift; args+=("$@"); break ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
  esac
done
[ ${#only[@]} -gt 0 ] || only=(test_harness.py test_migration.py test_crash.py)

cd "$HERE"
mkdir -p "$HERE/../.work"
XML=$(mktemp "$HERE/../.work/persistence-junit.XXXXXX.xml")
trap 'rm -f "$XML"' EXIT
start=$(date +%s)
# -c/--rootdir/--confcutdir: this directory only (compat-tests/conftest.py is for the
# ZK_CONNECT suites and must not load here)
timeout "${PERSIST_SUITE_TIMEOUT:-900}" "$PY" -m pytest -c pytest.ini --rootdir=. --confcutdir=. \
  -p no:cacheprovider --junitxml="$XML" "${only[@]}" "${args[@]}"
status=$?
"$PY" - "$XML" "$status" "$start" <<'PY'
import sys, time, xml.etree.ElementTree as ET
path, status, start = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
passed = failed = 0
try:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root)
    for s in suites:
        n = int(s.get("tests", 0))
        bad = int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped = int(s.get("skipped", 0))
        failed += bad + skipped          # a skip is never a pass here
        passed += n - bad - skipped
except Exception as e:
    print("run.sh: no test results (%s)" % e)
if status not in (0, 1) and failed == 0:
    failed = 1  # pytest crashed, timed out, or collected nothing
if passed + failed == 0:
    failed = 1
print("persistence suite took %d s" % (time.time() - start))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
