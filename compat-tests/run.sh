#!/usr/bin/env bash
# run.sh - run the ZooKeeper 3.8 compatibility suites against the server at $ZK_CONNECT.
#
#   ZK_CONNECT=127.0.0.1:PORT compat-tests/run.sh [SUITE...]
#                                       SUITE: zkcli kazoo cclient curator fourletter
#
# Prints one line per suite and, last, exactly "N passed, M failed"; exits 1 if anything failed
# (a suite that crashes, times out or runs no test counts as a failure), 2 on usage errors.
# Needs the packages that install-deps.sh installs. Scratch files go to compat-tests/.work/.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${ZK_CONNECT:-}" ]; then
  echo "run.sh: set ZK_CONNECT=HOST:PORT of the server to test" >&2
  exit 2
fi
export ZK_CONNECT
PY=${PYTHON:-python3}
SUITE_TIMEOUT=${COMPAT_SUITE_TIMEOUT:-240}
ALL=(zkcli kazoo cclient curator fourletter)
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=("${ALL[@]}")
RES="$HERE/.work/results"
mkdir -p "$RES"

missing=()
[ -x /usr/share/zookeeper/bin/zkCli.sh ] || missing+=(zkCli.sh)
[ -x /usr/lib/zookeeper/bin/cli_mt ] || missing+=(cli_mt)
command -v javac >/dev/null || missing+=(javac)
"$PY" -c 'import kazoo, pytest' 2>/dev/null || missing+=("python kazoo/pytest")
if [ ${#missing[@]} -gt 0 ]; then
  echo "run.sh: missing ${missing[*]}: run compat-tests/install-deps.sh first" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

total_pass=0
total_fail=0
start_all=$(date +%s)

# junit xml -> "passed failed skipped"
junit_counts() {
  "$PY" - "$1" <<'PY'
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
}

run_pytest_suite() { # NAME
  local name=$1 xml="$RES/$1.xml" log="$RES/$1.log" rc p f s
  rm -f "$xml"
  ( cd "$HERE" && timeout -k 10 "$SUITE_TIMEOUT" "$PY" -m pytest -q -rfEs --junitxml="$xml" "$name" ) >"$log" 2>&1
  rc=$?
  read -r p f s < <(junit_counts "$xml")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    # crashed, timed out (124) or collected nothing (5): count it as a failure
    echo "  $name: pytest exit status $rc without a failing test (see $log)"
    f=1
  fi
  if [ "$f" -gt 0 ]; then grep -E "^(FAILED|ERROR) " "$log" | sed 's/^/  /' | head -40; fi
  [ "$s" -gt 0 ] && grep -E "^SKIPPED " "$log" | sed 's/^/  /'
  echo "$name: $p passed, $f failed, $s skipped"
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

run_curator() {
  local log="$RES/curator.log" rc p f
  timeout -k 10 "$SUITE_TIMEOUT" "$HERE/curator/run.sh" >"$log" 2>&1
  rc=$?
  p=$(grep -c '^PASS ' "$log")
  f=$(grep -c '^FAIL ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "  curator: exit status $rc without a FAIL line (see $log)"
    tail -5 "$log" | sed 's/^/    /'
    f=1
  fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  grep '^FAIL ' "$log" | sed 's/^/  /'
  echo "curator: $p passed, $f failed"
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

echo "compat-tests against ZK_CONNECT=$ZK_CONNECT"
for s in "${SUITES[@]}"; do
  t0=$(date +%s)
  case "$s" in
    zkcli | kazoo | cclient | fourletter) run_pytest_suite "$s" ;;
    curator) run_curator ;;
    *) echo "run.sh: unknown suite '$s' (known: ${ALL[*]})" >&2; total_fail=$((total_fail + 1)) ;;
  esac
  echo "  ($s took $(( $(date +%s) - t0 )) s)"
done
echo "total time $(( $(date +%s) - start_all )) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
