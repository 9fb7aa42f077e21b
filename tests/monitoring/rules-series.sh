#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# rules-series.sh SRCDIR PKVM_IOMMUD: the alerting rules against what the
# daemon really exports. pkvm-iommud runs on the simulation backend (churn
# traffic whose DMA from stream 8 faults, a low fault_limit so the stream
# is quarantined) with its metrics file in a textfile directory that
# Debian's node_exporter serves on loopback, as in
# tests/daemon/metrics-node-exporter.sh. Checks: every pkvm_iommu_ and
# node_textfile_ name monitoring/pkvm-iommu.rules.yml mentions is a sample
# name in the scrape (a renamed metric breaks this test); then the scrape,
# held constant and with the file's mtime frozen, is given to promtool as
# the input series of a generated test: exactly the quarantine of stream 8
# (the daemon's own smmu/sid labels) and the staleness of the real file
# path fire, nothing else (the sim's pool, counters, presence are healthy).
# One "ok - NAME: DETAIL" line per check, then "N passed, N failed"; 77
# without promtool or node_exporter (./dev deps unpacks both).
set -uo pipefail
# Absolute: the generated test names the rules from another directory.
src=$(cd "$1" && pwd) daemon=$2
rules=$src/monitoring/pkvm-iommu.rules.yml
# shellcheck source=promtool.sh
. "$(dirname "$0")/promtool.sh"
# shellcheck source=../lib/node-exporter.sh
. "$src/tests/lib/node-exporter.sh"
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"
checks_init pkvm-rules-series
failure_logs=("$work/daemon.log" "$work/ne.log")
dpid='' npid=''
private_bus

textdir=$work/textfile
prom=$textdir/pkvm-iommu.prom
mkdir -p "$work/etc" "$textdir"
cat >"$work/etc/policy.json" <<EOF
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" } ],
  "fault_limit": { "faults": 3, "seconds": 60, "quarantine": true },
  "metrics": { "path": "$prom", "interval_s": 1 } }
EOF

exporter_start "$textdir"
up=$?
check exporter-starts $up "$(basename "$exporter") on 127.0.0.1:$port"
((up)) && checks_finish

start_daemon --sim-workload=churn --sim-rate=20000
check daemon-starts $? "pkvm-iommud --backend=sim --sim-workload=churn, metrics in $textdir every 1 s"
[[ -n $dpid ]] || checks_finish

# Quarantined in the daemon, then in the file node_exporter serves.
quarantined() {
	scrape >"$work/scrape.txt" 2>/dev/null &&
		grep -qx 'pkvm_iommu_stream_quarantined{sid="8",smmu="0"} 1' "$work/scrape.txt"
}
wait_for 60 quarantined
check stream-quarantined $? "node_exporter serves pkvm_iommu_stream_quarantined{sid=\"8\",smmu=\"0\"} 1"
stop_daemon
scrape >"$work/scrape.txt"
v=$(grep -m1 '^node_textfile_scrape_error ' "$work/scrape.txt")
[[ $v == 'node_textfile_scrape_error 0' ]]
check scrape-clean $? "${v:-no node_textfile_scrape_error}, $(grep -c '^pkvm_iommu_' "$work/scrape.txt") pkvm_iommu_ samples"

# ---- every name the rules use is served ----------------------------------
grep -o '\b\(pkvm_iommu\|node_textfile\)_[a-z0-9_]*[a-z0-9]\b' "$rules" | sort -u >"$work/names"
sed -n 's/^\([a-zA-Z_:][a-zA-Z0-9_:]*\)[{ ].*/\1/p' "$work/scrape.txt" | sort -u >"$work/served"
missing=$(comm -23 "$work/names" "$work/served" | tr '\n' ' ')
[[ -s $work/names && -z $missing ]]
check names-served $? "$(wc -l <"$work/names") names in $(basename "$rules"), all in the scrape${missing:+; not served: $missing}"
grep -qx 'pkvm_iommu_stream_quarantined' "$work/names" &&
	grep -qx 'node_textfile_mtime_seconds' "$work/names"
check names-found $? "the list holds the quarantine gauge and the textfile mtime: $(tr '\n' ' ' <"$work/names")"

# ---- the real scrape as promtool's input ---------------------------------
# Written with python's json (JSON is YAML), label values escaped; every
# value held for 20 minutes, the file's mtime frozen at the epoch (so 10
# minutes old at the evaluation), target labels as a node job adds them.
python3 - "$work/scrape.txt" "$rules" "$prom" >"$work/series.test.yml" <<'PY'
import json, re, sys
scrape, rules, prom = sys.argv[1:]
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
target = {"instance": "host1:9100", "job": "node"}

def sel(name, labels):
    return name + "{" + ",".join("%s=%s" % (k, json.dumps(v)) for k, v in sorted(labels.items())) + "}"

def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), v)

series = [{"series": sel("up", target), "values": "1x20"}]
for line in open(scrape):
    m = SAMPLE.match(line.strip())
    if not m:
        continue
    name = m.group(1)
    if name.startswith("pkvm_iommu_"):
        value = m.group(4)
    elif name == "node_textfile_mtime_seconds":
        value = "0"
    else:
        continue
    labels = {k: unescape(v) for k, v in LABEL.findall(m.group(3) or "")}
    series.append({"series": sel(name, {**labels, **target}), "values": "%sx20" % value})

def firing(name, severity, **labels):
    return {"labels": sel("ALERTS", {"alertname": name, "alertstate": "firing",
                                     "severity": severity, **target, **labels}), "value": 1}

print(json.dumps({
    "rule_files": [rules],
    "evaluation_interval": "1m",
    "tests": [{
        "interval": "1m",
        "input_series": series,
        "promql_expr_test": [{
            "eval_time": "10m",
            "expr": 'ALERTS{alertstate="firing"}',
            "exp_samples": [
                firing("PkvmIommuStreamQuarantined", "critical", smmu="0", sid="8"),
                firing("PkvmIommuMetricsStale", "critical", file=prom),
            ],
        }],
    }],
}, indent=1))
PY
check series-written $? "$(grep -c '"series"' "$work/series.test.yml") input series from the scrape"
"$promtool" test rules "$work/series.test.yml" >"$work/series.out" 2>&1
rc=$?
cat "$work/series.out"
grep -qx '  SUCCESS' "$work/series.out" && ((rc == 0))
check alerts-on-real-series $? "firing at 10m: exactly PkvmIommuStreamQuarantined{smmu=0,sid=8} and PkvmIommuMetricsStale{file=$prom}"

checks_finish
