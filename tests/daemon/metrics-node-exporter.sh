#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# metrics-node-exporter.sh PKVM_IOMMUD: the metrics file of pkvm-iommud read
# back through Debian's prometheus-node-exporter (textfile collector) on
# loopback. The daemon runs on the simulation backend on a private
# dbus-daemon with metrics.path in a temporary textfile directory and
# metrics.interval_s 1; donations are made over D-Bus. Checks: node_exporter
# loads the file without a scrape error; every pkvm_iommu_ sample it serves
# equals GetMetrics, and the counters equal GetCounters; the file is replaced
# by rename (new inode each interval, never a half file under repeated
# scrapes, no temp file left); GetPolicy is the effective policy; a reload
# without metrics stops the writes and keeps the file; a daemon whose policy
# has no metrics writes no file.
# Prints "ok - NAME" / "not ok - NAME" per check; exit 77 (skip) when
# prometheus-node-exporter is missing (./dev deps unpacks it).
set -uo pipefail
daemon=$1
# shellcheck source=../lib/node-exporter.sh
. "$(dirname "$0")/../lib/node-exporter.sh"
# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
checks_init pkvm-metrics-ne
failure_logs=("$work/daemon.log" "$work/ne.log")
dpid='' npid=''
finish() { checks_finish; }
private_bus

textdir=$work/textfile
prom=$textdir/pkvm-iommu.prom
mkdir -p "$work/etc" "$work/state" "$textdir"
write_policy() {	# write_policy [METRICS-JSON]
	cat >"$work/etc/policy.json" <<EOF
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" } ]${1:+,
  \"metrics\": $1} }
EOF
}

inode() { stat -c %i "$1" 2>/dev/null; }

# Wait up to $2 seconds for the file to get another inode than $3.
wait_replaced() {
	for _ in $(seq $(($2 * 20))); do
		[[ -e $1 && $(inode "$1") != "$3" ]] && return 0
		sleep 0.05
	done
	return 1
}

# The one string a method returns ("s"), unquoted.
call_s() {
	"${B[@]}" --json=short call "${M[@]}" "$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0], end="")'
}

# ---- node_exporter on a free loopback port ----
exporter_start "$textdir"
up=$?
check exporter-starts $up "$(basename "$exporter") $("$exporter" --version 2>&1 | head -1 | cut -d' ' -f3) on 127.0.0.1:$port"
((up)) && finish

# Sample parser and comparisons, in one place: OpenMetrics or 0.0.4 text to
# {(name, sorted labels): value}; node_exporter sorts labels and renders
# floats its own way, so compare parsed, not as text.
cat >"$work/om.py" <<'EOF'
import json, re, sys

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

def parse(text, prefix="pkvm_iommu_"):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise SystemExit("unparsable line: %r" % line)
        name, labels = m.group(1), tuple(sorted(LABEL.findall(m.group(3) or "")))
        if name.startswith(prefix):
            out[(name, labels)] = float(m.group(4))
    return out

def fmt(k):
    return k[0] + "{" + ",".join('%s="%s"' % l for l in k[1]) + "}"

def load(path):
    with open(path) as f:
        return f.read()

cmd = sys.argv[1]
if cmd == "same":	# same SCRAPE GETMETRICS: the samples are equal
    a, b = parse(load(sys.argv[2])), parse(load(sys.argv[3]))
    diff = [fmt(k) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    for k in diff[:10]:
        print("  differs:", k)
    print(len(a), "samples")
    sys.exit(1 if diff or not a else 0)
elif cmd == "value":	# value FILE NAME [LABEL=VALUE...]: one sample's value
    s = parse(load(sys.argv[2]), prefix="")
    key = (sys.argv[3], tuple(sorted(tuple(x.split("=", 1)) for x in sys.argv[4:])))
    print("%.17g" % s[key] if key in s else "missing")
elif cmd == "counters":	# counters GETCOUNTERS-JSON SCRAPE: every counter under its name
    names = {
        "donate": "donations_total", "reclaim": "reclaims_total", "share": "shares_total",
        "unshare": "unshares_total", "errors": "operation_errors_total",
        "desc_writes": "descriptor_writes_total", "tlbi_ranges": "tlbi_ranges_total",
        "tlbi_full": "tlbi_full_total", "syncs": "syncs_total", "splits": "block_splits_total",
        "folds": "table_folds_total", "bbm_breaks": "bbm_breaks_total",
        "table_pages": "table_bytes", "pool_free": "pool_free_bytes",
        "mem_pages": "memory_bytes", "hook_transitions": "hook_transitions_total",
        "hook_ns": "hook_seconds_total", "hook_max_ns": "hook_max_seconds",
        "seed_ns": "seed_seconds", "table_fills": "table_fill_writes_total",
        "compactions": "compactions_total", "compact_folds": "compact_folds_total",
        "pressure_reliefs": "pressure_reliefs_total", "events_ingested": "events_ingested_total",
        "faults": "faults_total", "resyncs": "resyncs_total",
        "lost_pages": "resync_lost_pages_total", "quarantines": "quarantines_total",
        "policy_reloads": "policy_reloads_total", "policy_errors": "policy_errors_total",
        "metrics_errors": "metrics_export_errors_total",
    }
    pages = {"table_pages", "pool_free", "mem_pages"}
    ns = {"hook_ns", "hook_max_ns", "seed_ns"}
    data = json.loads(load(sys.argv[2]))["data"][0]
    s = parse(load(sys.argv[3]))
    bad = 0
    for k, v in data.items():
        want = v * (4096 if k in pages else 1) / (1e9 if k in ns else 1)
        got = s.get(("pkvm_iommu_" + names.get(k, "?" + k), ()))
        if got != want:
            print("  %s = %s: pkvm_iommu_%s is %s" % (k, want, names.get(k, "(no name)"), got))
            bad += 1
    print(len(data), "counters")
    sys.exit(1 if bad or len(data) < len(names) else 0)
EOF
om() { python3 "$work/om.py" "$@"; }

# ---- a daemon that writes the file ----
write_policy "{ \"path\": \"$prom\", \"interval_s\": 1 }"
start_daemon
check daemon-starts $? "pkvm-iommud --backend=sim, metrics.path in $textdir, interval 1 s"
[[ -n $dpid ]] || finish
wait_for 30 test -s "$prom"
[[ -s $prom ]]; check file-written-at-start $? "$(basename "$prom") present right after start"

"${B[@]}" call "${M[@]}" Donate ttu 0x90000000 0x4000 3 &&
	"${B[@]}" call "${M[@]}" Donate ttu 0x90200000 0x200000 4 &&
	"${B[@]}" call "${M[@]}" Reclaim ttu 0x90200000 0x100000 4 &&
	"${B[@]}" call "${M[@]}" Share tt 0x90800000 0x2000 &&
	"${B[@]}" call "${M[@]}" SetStreamPolicy uus 0 9 isolate
check test-mode-calls $? "Donate x2, Reclaim, Share, SetStreamPolicy over D-Bus"
gen=$("${B[@]}" get-property "${M[@]}" Generation | cut -d' ' -f2)

# The file catches up within an interval or two, replaced, not rewritten.
ino=$(inode "$prom")
wait_replaced "$prom" 3 "$ino"
check file-replaced $? "inode $ino -> $(inode "$prom") within 3 s"
file_at_generation() { [[ $(om value "$prom" pkvm_iommu_ledger_generation) == "$1" ]]; }
wait_for 30 file_at_generation "$gen"
check file-current $? "file shows generation $gen"

# Repeated scrapes while the file is replaced: never an error, never half.
bad=0
for _ in $(seq 25); do
	scrape >"$work/scrape.txt" || { bad=1; break; }
	[[ $(om value "$work/scrape.txt" node_textfile_scrape_error) == 0 ]] || { bad=1; break; }
	om value "$work/scrape.txt" pkvm_iommu_range_latency_seconds_count | grep -qx 4 || { bad=1; break; }
	sleep 0.1
done
check scrapes-whole $bad "25 scrapes over 2.5 s: node_textfile_scrape_error 0, whole file each time"

scrape >"$work/scrape.txt"
call_s GetMetrics >"$work/getmetrics.txt"
"${B[@]}" --json=short call "${M[@]}" GetCounters >"$work/counters.json"
v=$(om value "$work/scrape.txt" node_textfile_scrape_error)
[[ $v == 0 ]]; check scrape-error-0 $? "node_textfile_scrape_error $v"
tail -n1 "$work/getmetrics.txt" | grep -qx '# EOF'
check getmetrics-eof $? "GetMetrics ends with # EOF"
out=$(om same "$work/scrape.txt" "$work/getmetrics.txt")
check exporter-equals-getmetrics $? "every pkvm_iommu_ sample node_exporter serves equals GetMetrics ($out)"
out=$(om counters "$work/counters.json" "$work/scrape.txt")
check exporter-equals-getcounters $? "GetCounters through node_exporter ($out)"
v=$(om value "$work/scrape.txt" pkvm_iommu_ledger_pages owner=3)
w=$(om value "$work/scrape.txt" pkvm_iommu_ledger_bytes owner=4)
[[ $v == 4 && $w == $((256 * 4096)) ]]
check ledger-by-owner $? "owner 3: $v pages; owner 4: $w bytes (0x4000 and 0x200000 - 0x100000)"
v=$(om value "$work/scrape.txt" pkvm_iommu_ledger_shared_pages)
[[ $v == 2 ]]; check ledger-shared $? "shared pages $v"
v=$(om value "$work/scrape.txt" pkvm_iommu_donations_total)
w=$(om value "$work/scrape.txt" pkvm_iommu_range_latency_seconds_bucket le=+Inf)
[[ $v != missing && $w == 4 ]]
check counters-and-histogram $? "donations_total $v, latency +Inf bucket $w (4 timed calls)"
v=$(om value "$work/scrape.txt" pkvm_iommu_stream_isolated smmu=0 sid=9)
[[ $v == 1 ]]; check stream-labels $? "stream_isolated{smmu=0,sid=9} $v"
grep -qx '# TYPE pkvm_iommu_range_latency_seconds histogram' "$work/scrape.txt" &&
	grep -qx '# TYPE pkvm_iommu_ledger_bytes gauge' "$work/scrape.txt" &&
	grep -q '^pkvm_iommu_range_latency_seconds_bucket{le="1.023e-06"} ' "$work/scrape.txt"
check exporter-types $? "histogram and gauge types kept, le values as node_exporter renders them"

# GetPolicy: the file plus the runtime change, in the file's schema.
call_s GetPolicy >"$work/getpolicy.json"
python3 - "$work/getpolicy.json" "$prom" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["version"] == 1, p
assert p["metrics"] == {"path": sys.argv[2], "interval_s": 1}, p["metrics"]
rules = {(r.get("smmu", 0), r["sid"]): r["action"] for r in p["streams"]}
assert rules == {(0, 8): "isolate", (0, 9): "isolate"}, rules
assert p["default_stream_action"] == "block" and p["split_policy"]["mode"] == "auto", p
EOF
check getpolicy $? "GetPolicy: schema 1, metrics of the file, sid 8 from the file and sid 9 from SetStreamPolicy"

# A reload without metrics: the writes stop, the file stays.
write_policy
"${B[@]}" call "${M[@]}" ReloadPolicy
check reload-off $? "ReloadPolicy with no metrics key"
ino=$(inode "$prom")
! wait_replaced "$prom" 3 "$ino" && [[ -s $prom ]]
check writes-stop $? "file kept and not replaced for 3 s"

stop_daemon
left=$(cd "$textdir" && ls -A)
[[ $left == pkvm-iommu.prom ]]
check no-temp-left $? "after the daemon stopped the directory holds: $left"

# A daemon whose policy has no metrics writes nothing.
rm -f "$prom"
start_daemon
check daemon-restarts $? "pkvm-iommud without metrics in the policy"
"${B[@]}" call "${M[@]}" Donate ttu 0x90000000 0x4000 3
sleep 2.5
left=$(cd "$textdir" && ls -A)
[[ -z $left ]]; check no-metrics-no-file $? "textfile directory after 2.5 s: '${left}'"
scrape >"$work/scrape.txt"
v=$(om value "$work/scrape.txt" node_textfile_scrape_error)
! grep -q '^pkvm_iommu_' "$work/scrape.txt" && [[ $v == 0 ]]
check exporter-empty $? "node_exporter serves no pkvm_iommu_ sample, scrape error $v"
stop_daemon

finish
