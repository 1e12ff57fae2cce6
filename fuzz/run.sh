#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time: fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 120). Not part of CI (needs nightly + cargo-fuzz:
# `rustup toolchain install nightly && cargo install cargo-fuzz`).
#
# Each target runs as ONE libFuzzer process (no -jobs/-workers: the machines this
# runs on are shared), optimised with AddressSanitizer (cargo-fuzz's default), and:
#   -max_len          largest input tried (per target, below)
#   -rss_limit_mb     whole-process memory ceiling: exceeding it is reported as an OOM
#   -malloc_limit_mb  any single allocation above this is a crash: a length field must
#                     never buy an allocation the input does not pay for
#   -timeout          one input taking longer is a crash (a hang)
# The corpus grows in fuzz/corpus/<target> (kept between runs); seeds are regenerated
# into fuzz/seeds/<target> by examples/fuzz_seeds.rs. Crashing inputs land in
# fuzz/artifacts/<target>/; reproduce with
#   cargo +nightly fuzz run -O <target> fuzz/artifacts/<target>/<file>
# and turn each into a regression test (jute/tests/fuzz_regressions.rs,
# tests/fuzz_regressions.rs).
#
# Prints, per target: execs, execs/s, coverage (edges), features, corpus size, peak
# RSS and any crash files. Exits 1 if any target found a crash, 2 on setup errors.
set -uo pipefail

SECS="${1:-120}"
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(jute_decode connection quorum_decode)
fi

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
cd "$ROOT" || exit 2

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "run.sh: needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz)" >&2
    exit 2
fi

# Per-target limits: largest input, and extra libFuzzer flags.
max_len() {
    case "$1" in
        jute_decode) echo 16384 ;; # snapshot/log seeds are ~1.3 KiB; room to grow
        connection) echo 4096 ;;   # a handshake plus a few dozen requests
        *) echo 4096 ;;
    esac
}
extra_flags() {
    case "$1" in
        # The server keeps state (tree, sessions) across inputs by design, which
        # LeakSanitizer would report as leaks.
        connection) echo "-detect_leaks=0" ;;
        *) echo "" ;;
    esac
}

echo "== generating seed corpora"
cargo run -q --example fuzz_seeds "$HERE/seeds" || exit 2

echo "== building fuzz targets (nightly, release + ASan)"
for t in "${TARGETS[@]}"; do
    cargo +nightly fuzz build -O "$t" >/dev/null || exit 2
done

failed=0
summary=()
for t in "${TARGETS[@]}"; do
    corpus="$HERE/corpus/$t"
    artifacts="$HERE/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    log="$HERE/artifacts/$t.log"
    before=$(find "$artifacts" -type f | wc -l)
    echo "== $t: ${SECS}s, -max_len=$(max_len "$t")"
    # shellcheck disable=SC2046
    cargo +nightly fuzz run -O "$t" "$corpus" "$HERE/seeds/$t" -- \
        -max_total_time="$SECS" \
        -max_len="$(max_len "$t")" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=256 \
        -timeout=30 \
        -print_final_stats=1 \
        -artifact_prefix="$artifacts/" \
        $(extra_flags "$t") >"$log" 2>&1
    status=$?
    # libFuzzer's last status line: "#N DONE cov: C ft: F corp: K/SIZE exec/s: E rss: RMb"
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    eps=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
    rss=$(grep -E '^stat::peak_rss_mb' "$log" | awk '{print $2}')
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    corp=$(sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p' <<<"$last")
    after=$(find "$artifacts" -type f | wc -l)
    line="$t: ${execs:-?} execs in ${SECS}s (${eps:-?}/s), cov ${cov:-?} edges, ft ${ft:-?}, corpus ${corp:-?}, peak RSS ${rss:-?} MB"
    if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ]; then
        failed=1
        line="$line — CRASH (exit $status); see $log"
        echo "$line"
        grep -E '^(==[0-9]+==ERROR|thread .* panicked|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -n 20
    else
        echo "$line"
    fi
    summary+=("$line")
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$failed"
