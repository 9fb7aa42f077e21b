#!/usr/bin/env bash
# run-fuzz.sh FUZZER SEED_CORPUS WORKDIR [libFuzzer options...]
# libFuzzer adds what it finds to the first corpus directory it is given:
# that is WORKDIR (a copy of the seeds), never the source tree. Crashes are
# written to WORKDIR/crashes/. Prints the seed, executions, edges (libFuzzer's
# cov) and findings; later options override the defaults (-seed=0: a random one).
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
shift 3
# Findings of earlier runs were reported then; count this run's only.
rm -rf "$work/crashes"
mkdir -p "$work/corpus" "$work/crashes"
cp -n "$seeds"/* "$work/corpus/" 2>/dev/null || true
log=$work/fuzz.log
rc=0
"$fuzzer" "$work/corpus" -seed=1 -print_final_stats=1 \
	-artifact_prefix="$work/crashes/" "$@" >"$log" 2>&1 || rc=$?
grep -E '^(INFO: Seed:|Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
crashes=$(find "$work/crashes" -type f | wc -l)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
# The last status line's cov: is the run's edge count.
edges=$(grep -oE ' cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
echo "corpus: $(find "$work/corpus" -type f | wc -l) inputs, findings: $crashes"
echo "executions: ${execs:-?}, edges: ${edges:-?}, findings: $crashes (in $work/crashes/)"
if ((rc != 0 || crashes != 0)); then
	tail -40 "$log" >&2
	exit 1
fi
