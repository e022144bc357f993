#!/usr/bin/env bash
# run-fuzzer.sh FUZZER SEED_CORPUS SECONDS COVERAGE_FILE
# 1. Replays the committed seed corpus and fails if the coverage it reaches ("cov:" of libFuzzer's
#    INITED line) is below the figure recorded for this fuzzer in COVERAGE_FILE: a harness that
#    returns early, or a parser cut off from its input, cannot pass.
# 2. Fuzzes for SECONDS (new inputs go to a scratch directory, never into the repository) and
#    fails on any crash, sanitizer report, leak or timeout.
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3 coverage_file=$4
name=$(basename "$fuzzer")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
want=$(awk -v n="$name" '$1 == n { print $2 }' "$coverage_file")
[ -n "$want" ] || { echo "$name: no coverage figure in $coverage_file"; exit 1; }
"$fuzzer" -runs=0 "$seeds" >"$work/replay.log" 2>&1 || { cat "$work/replay.log"; exit 1; }
got=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$work/replay.log" | tail -1)
echo "$name: seed corpus coverage $got (recorded minimum $want)"
[ -n "$got" ] && [ "$got" -ge "$want" ] || { echo "$name: coverage fell below $want"; exit 1; }
mkdir "$work/corpus"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" "$seeds" >"$work/fuzz.log" 2>&1 || {
  tail -60 "$work/fuzz.log"
  for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
    [ -e "$a" ] && { echo "artifact $(basename "$a"):"; od -c "$a" | head -20; }
  done
  exit 1
}
grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|cov:" "$work/fuzz.log" | tail -3
