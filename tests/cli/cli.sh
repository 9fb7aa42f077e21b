#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# cli.sh PKVM_IOMMUD PKVM_IOMMUCTL POLICY_DIR: pkvm-iommuctl against pkvm-iommud
# on the simulation backend, on a private dbus-daemon. Every subcommand's
# table and --json output is checked for content against what the daemon
# says over D-Bus (read with busctl), as are the errors: no daemon, a change
# refused to an unprivileged caller, invalid policies. Prints one
# "ok - NAME" / "not ok - NAME" line per check and "N passed, N failed".
set -uo pipefail
daemon=$1
ctl_bin=$2
policies=$3
# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
checks_init pkvm-iommuctl-test
failure_logs=("$work/daemon.log")
dpid='' mpid='' tpid='' gpid='' gtpid=''

# run CMD...: stdout in $out, stderr in $err, exit status in $rc.
run() {
	out=$("$@" 2>"$work/stderr")
	rc=$?
	err=$(<"$work/stderr")
}

# py EXPR [ARG...]: EXPR in Python with a[0], a[1], ... the parsed arguments:
# an ARG is one JSON text, or @FILE for the list of the JSON lines of FILE
# (output that grows with time goes through a file, never through argv);
# prints its value, exits 1 when it is False or raises.
py() {
	python3 -c '
import json, sys
def arg(x):
    if x.startswith("@"):
        with open(x[1:]) as f:
            return [json.loads(l) for l in f if l.strip()]
    return json.loads(x)
a = [arg(x) for x in sys.argv[2:]]
v = eval("(" + sys.argv[1] + ")")
if v is False: sys.exit(1)
if v is not True: print(v if isinstance(v, str) else json.dumps(v))
' "$@"
}

# A bus anyone on this machine may use: the daemon itself refuses uid 65534.
bus_config
C=("$ctl_bin" --bus="$addr")
BJ=(busctl --address="$addr" --json=short)
mkdir -p "$work/etc" "$work/state"
cat >"$work/etc/policy.json" <<'EOF'
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" }, { "sid": 3, "action": "block" } ],
  "split_policy": { "mode": "auto" },
  "invalidation": { "batch_max_ops": 32, "batch_window_us": 250 },
  "fault_limit": { "faults": 20, "seconds": 60, "quarantine": true } }
EOF

# ---- no bus, then a bus without the daemon ----
run "$ctl_bin" --bus="$addr" status
[[ $rc == 3 && $err == *"cannot connect to the bus at $addr"* && $err == *"--bus"* ]]
check no-bus $? "exit $rc: ${err:0:110}"
bus_start
run "${C[@]}" status
[[ $rc == 3 && $err == *"pkvm-iommud is not running: org.pkvm.Iommu1 is not on the bus at $addr"* &&
	$err == *"systemctl start pkvm-iommud"* && -z $out ]]
check no-daemon $? "exit $rc: ${err:0:120}"
run "${C[@]}" map
[[ $rc == 3 && $err == *"pkvm-iommud is not running: org.pkvm.Iommu1 is not on the bus at $addr"* &&
	-z $out ]]
check map-no-daemon $? "exit $rc: ${err:0:100}"
run env DBUS_SYSTEM_BUS_ADDRESS="$addr" "$ctl_bin" streams
[[ $rc == 3 && $err == *"not on the system bus (DBUS_SYSTEM_BUS_ADDRESS=$addr)"* ]]
check no-daemon-system-bus $? "exit $rc: ${err:0:120}"

start_daemon

# ---- map before any change: the hypervisor's run alone, at a page a cell ----
ledger0=$("${BJ[@]}" call "${M[@]}" GetLedger)
run "${C[@]}" map --width=4096 --no-legend
pages=$(py 'a[0]["data"][0][0][1] // 4096' "$ledger0")
py 'len(a[0]["data"][0]) == 1 and a[0]["data"][0][0][2] == 1' "$ledger0" &&
	[[ $rc == 0 && $pages -lt 4096 && $out == "$(printf '%*s' "$pages" '' | tr ' ' '#')" ]]
check map-page-a-cell $? "GetLedger ${ledger0:0:80}: ${#out} cells of '#' for $pages pages, not 4096"

# ---- --help, usage errors ----
run "$ctl_bin" --help
verbs=$(sed -n '/^Commands:/,/^$/p' <<<"$out" | grep -oE '^  [a-z]+( [a-z]+)?' |
	sed 's/^  //; s/ \(FILE\|COMMAND\)$//' | sort -u)
[[ $rc == 0 && $(wc -l <<<"$verbs") -ge 10 ]]; check help $? "$(tr '\n' ',' <<<"$verbs")"
bad=
while read -r v; do
	# shellcheck disable=SC2086 # "policy show" is two words
	run "$ctl_bin" $v --help
	[[ $rc == 0 && $out == "Usage: pkvm-iommuctl [OPTIONS] $v"* ]] || bad+="$v($rc) "
done <<<"$verbs"
[[ -z $bad ]]; check help-every-command $? "COMMAND --help: ${bad:-all print their usage}"
run "$ctl_bin" --version
[[ $rc == 0 && $out == "pkvm-iommuctl "[0-9]* ]]; check version $? "$out"
run "${C[@]}" frobnicate
[[ $rc == 2 && $err == *"unknown command 'frobnicate'"* ]]; check usage-command $? "exit $rc: $err"
run "${C[@]}" --frobnicate status
[[ $rc == 2 && $err == *"--frobnicate"* ]]; check usage-option $? "exit $rc: $err"
run "${C[@]}" status --owner=3
[[ $rc == 2 && $err == *"--owner does not apply to 'status'"* ]]; check usage-owner $? "exit $rc: $err"
run "${C[@]}" metrics --json
[[ $rc == 2 && $err == *"--json does not apply to 'metrics'"* ]]; check usage-metrics-json $? "exit $rc: $err"
run "$ctl_bin" --bus=nonsense status
[[ $rc == 2 && $err == *"--bus: 'nonsense'"* ]]; check usage-bus $? "exit $rc: $err"

# ---- status ----
"${B[@]}" call "${M[@]}" Donate ttu 0x90000000 0x4000 3 >/dev/null
"${B[@]}" call "${M[@]}" Share tt 0x91000000 0x2000 >/dev/null
run "${C[@]}" status
gen=$("${B[@]}" get-property "${M[@]}" Generation | cut -d' ' -f2)
donated=$("${B[@]}" get-property "${M[@]}" DonatedPages | cut -d' ' -f2)
[[ $rc == 0 && $out == *"Backend: sim"* && $out == *"SMMUs: 1"* &&
	$out == *"Streams: 2 known, 0 quarantined"* && $out == *"Split policy: auto"* &&
	$out == *"Invalidation: up to 32 changes per sync, window 250 us"* &&
	$out == *"Generation: $gen"* && $out == *"Donated: $donated pages"* &&
	$out == *"Shared: 2 pages (8.0K)"* && $out == *"guest 3        4 pages (16.0K)"* &&
	$out == *"iommufd: not probed: simulation backend"* && $out == *"Health: ok"* ]]
check status-table $? "generation $gen, $donated pages donated, health ok"
run "${C[@]}" --json status
totals=$("${BJ[@]}" get-property "${M[@]}" LedgerTotals)
py 'a[0]["backend"] == "sim" and a[0]["smmu_count"] == 1 and a[0]["test_mode"] is True and
    a[0]["generation"] == '"$gen"' and a[0]["donated_pages"] == '"$donated"' and
    a[0]["shared_pages"] == 2 and a[0]["streams"] == {"known": 2, "quarantined": 0} and
    a[0]["batch_max_ops"] == 32 and a[0]["batch_window_us"] == 250 and
    [[t["owner"], t["pages"]] for t in a[0]["ledger_totals"]] == a[1]["data"] and
    a[0]["iommufd"] == {"status": "not probed: simulation backend", "devices": []} and
    a[0]["policy_path"] == "'"$work/etc/policy.json"'" and
    a[0]["health"] == "ok" and a[0]["problems"] == []' "$out" "$totals" >/dev/null
check status-json $? "$(cut -c1-100 <<<"$out")..."
run env DBUS_SYSTEM_BUS_ADDRESS="$addr" "$ctl_bin" --json status
py 'a[0]["generation"] == '"$gen" "$out"
check system-bus-env $? "DBUS_SYSTEM_BUS_ADDRESS without --bus: exit $rc"

# ---- smmus, streams ----
smmu=$("${BJ[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0 org.pkvm.Iommu1.Smmu \
	Base Idr Features SidSize Oas Bbml | python3 -c 'import json,sys; print(json.dumps([json.loads(l)["data"] for l in sys.stdin]))')
run "${C[@]}" --json smmus
py 'len(a[0]) == 1 and [a[0][0][k] for k in ("base", "idr", "features", "sid_bits", "oas_bits",
    "bbml")] == a[1] and a[0][0]["index"] == 0' "$out" "$smmu"
check smmus-json $? "equal to smmu0's properties: $smmu"
run "${C[@]}" smmus
base=$(py 'hex(a[0][0])' "$smmu")
[[ $rc == 0 && $(sed -n 2p <<<"$out") =~ ^\ +0\ $base\ +$(py 'a[0][3]' "$smmu")\ +$(py 'a[0][4]' "$smmu")\ +$(py 'a[0][5]' "$smmu")\ +0\ +0\ s1\ s2 &&
	$out == *"1 SMMU."* ]]
check smmus-table $? "$(sed -n 2p <<<"$out")"

"${B[@]}" call "${M[@]}" SetStreamPolicy uus 0 16 isolate >/dev/null
run "${C[@]}" streams
[[ $rc == 0 && $(sed -n 1p <<<"$out") =~ ^SMMU\ SID\ POLICY\ +SOURCE\ +FAULTS\ QUARANTINED$ &&
	$(sed -n 2p <<<"$out") =~ ^\ +0\ +3\ block\ +policy\ +0\ no$ &&
	$(sed -n 3p <<<"$out") =~ ^\ +0\ +8\ isolate\ policy\ +0\ no$ &&
	$(sed -n 4p <<<"$out") =~ ^\ +0\ +16\ isolate\ runtime\ +0\ no$ &&
	$out == *"3 streams, 0 quarantined; other streams: block"* ]]
check streams-table $? "$(sed -n 2,4p <<<"$out" | tr -s ' ' | tr '\n' ';')"
s8=$("${BJ[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0/stream8 \
	org.pkvm.Iommu1.Stream Smmu Sid Policy Source Faults Quarantined |
	python3 -c 'import json,sys; print(json.dumps([json.loads(l)["data"] for l in sys.stdin]))')
run "${C[@]}" --json streams
py '[s["sid"] for s in a[0]] == [3, 8, 16] and
    [a[0][1][k] for k in ("smmu", "sid", "policy", "source", "faults", "quarantined")] == a[1]' \
	"$out" "$s8"
check streams-json $? "stream 8 equal to its properties: $s8"
run "${C[@]}" --no-legend streams
[[ $rc == 0 && $(wc -l <<<"$out") == 3 && $out != *SMMU* && $out != *"streams,"* ]]
check no-legend $? "$(wc -l <<<"$out") lines, no header or footer"

# ---- donations ----
ledger=$("${BJ[@]}" call "${M[@]}" GetLedger)
run "${C[@]}" --json donations
py '[[r["addr"], r["len"], r["owner"], r["shared"]] for r in a[0]] == a[1]["data"][0] and
    {"addr": 0x90000000, "len": 0x4000, "owner": 3, "shared": False} in a[0]' "$out" "$ledger"
check donations-json $? "equal to GetLedger: $(cut -c1-90 <<<"$out")..."
run "${C[@]}" donations --owner=3
[[ $rc == 0 && $(sed -n 2p <<<"$out") =~ ^0x90000000\ +0x4000\ +16.0K\ 3\ \(guest\ 3\)\ +no$ &&
	$(wc -l <<<"$out") == 4 && $out == *"1 run: 4 pages donated, 0 pages shared."* ]]
check donations-owner $? "$(sed -n 2p <<<"$out" | tr -s ' ')"
run "${C[@]}" donations
[[ $rc == 0 && $out == *"0x91000000"*"0x2000"*"0 (host)"*yes* &&
	$out == *"3 runs: $donated pages donated, 2 pages shared."* ]]
check donations-table $? "$(tail -1 <<<"$out")"
run "${C[@]}" --json donations --history --owner=3
# The daemon's resync at start concerns every owner, so --owner keeps it.
py '[e["op"] for e in a[0]] == ["resync", "donate"] and a[0][1]["addr"] == 0x90000000 and
    a[0][1]["len"] == 0x4000 and a[0][1]["owner"] == 3 and a[0][1]["generation"] == 1 and
    a[0][1]["realtime_usec"] > 1.6e15' "$out"
check history-json $? "$out"
run "${C[@]}" donations --history
[[ $rc == 0 && $out =~ [0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:.]+\ +1\ donate\ +0x90000000\ 0x4000\ 3\ \(guest\ 3\) &&
	$out == *" share "*"0x91000000"* ]]
check history-table $? "$(grep donate <<<"$out" | tr -s ' ')"

# ---- stats ----
counters=$("${BJ[@]}" call "${M[@]}" GetCounters)
hist=$("${BJ[@]}" call "${M[@]}" GetLatencyHistogram)
run "${C[@]}" --json stats
py 'a[0]["counters"] == a[1]["data"][0] and
    [[b["upper_ns"] if b["upper_ns"] is not None else 2**64 - 1, b["count"]]
     for b in a[0]["latency"]] == a[2]["data"][0] and
    a[0]["counters"]["donate"] >= 1 and sum(b["count"] for b in a[0]["latency"]) >= 2' \
	"$out" "$counters" "$hist"
check stats-json $? "counters and histogram equal to GetCounters, GetLatencyHistogram"
run "${C[@]}" stats
calls=$(py 'sum(b[1] for b in a[0]["data"][0])' "$hist")
[[ $rc == 0 && $out =~ (^|$'\n')share\ +1($'\n') &&
	$out =~ (^|$'\n')donate\ +$(py 'a[0]["data"][0]["donate"]' "$counters")($'\n') &&
	$out == *"$calls calls; p50 < "* ]]
check stats-table $? "donate $(py 'a[0]["data"][0]["donate"]' "$counters"), $calls timed calls"
# pKVM's hook and seed counters: listed, and 0 on the sim backend.
bad=''
for k in hook_transitions hook_ns hook_max_ns seed_ns; do
	[[ $out =~ (^|$'\n')$k\ +0($'\n') ]] || bad+=" $k"
done
[[ -z $bad ]]; check stats-hook-counters $? "hook_*, seed_ns at 0${bad:+; not so:$bad}"

# ---- metrics: the daemon's text, as it came ----
want=$("${BJ[@]}" call "${M[@]}" GetMetrics | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0], end="")')
run "${C[@]}" metrics
[[ $rc == 0 && -n $out && $out == "$want" && $out == *"# EOF" && $out == *pkvm_iommu_* ]]
check metrics $? "$(grep -c '^pkvm_iommu_' <<<"$out") samples, equal to GetMetrics, ends with # EOF"

# ---- policy ----
run "${C[@]}" --json policy show
py 'a[0]["version"] == 1 and a[0]["default_stream_action"] == "block" and
    {"smmu": 0, "sid": 16, "action": "isolate"} in a[0]["streams"] and
    {"smmu": 0, "sid": 8, "action": "isolate"} in a[0]["streams"] and
    a[0]["fault_limit"] == {"faults": 20, "seconds": 60, "quarantine": True}' "$out"
check policy-show-json $? "$(cut -c1-100 <<<"$out")..."
run "${C[@]}" policy show
[[ $rc == 0 && $out == *"File: $work/etc/policy.json"* && $out == *"Default action: block"* &&
	$out == *"Fault limit: 20 faults in 60 s, then quarantine"* &&
	$out =~ $'\n'\ +0\ +16\ -\ +isolate ]]
check policy-show-table $? "$(grep -c isolate <<<"$out") isolate rules"

run "${C[@]}" policy check "$policies/good-full.json"
[[ $rc == 0 && $out == "$policies/good-full.json: valid" ]]; check check-good $? "exit $rc: $out"
run "${C[@]}" policy check "$policies/bad-multi.json"
[[ $rc == 5 && $err == *"bad-multi.json: \$.streams[0].sid: expected an integer"* &&
	$err == *"bad-multi.json: \$.split_policy.level: only valid with mode \"presplit\""* ]]
check check-bad $? "exit $rc: $(wc -l <<<"$err") messages, $(sed -n 3p <<<"$err")"
run "${C[@]}" --json policy check "$policies/bad-sid-string.json"
py 'a[0]["valid"] is False and a[0]["errors"] == ["$.streams[1].sid: expected an integer 0..4294967295, got string \"x\""]' "$out"
check check-bad-json $? "exit $rc: $out"
[[ $rc == 5 ]]; check check-bad-json-exit $? "exit $rc"
run env -u DBUS_SYSTEM_BUS_ADDRESS "$ctl_bin" --bus=unix:path=/nonexistent policy check "$policies/good-presplit.json"
[[ $rc == 0 ]]; check check-offline $? "no bus needed: exit $rc, $out"
run "${C[@]}" policy check "$work/missing.json"
[[ $rc == 1 && $err == *"missing.json"*"No such file"* ]]; check check-missing $? "exit $rc: $err"

run "${C[@]}" policy set split bbm
v=$("${B[@]}" get-property "${M[@]}" SplitPolicy)
[[ $rc == 0 && $v == 's "bbm"' ]]; check set-split-root $? "exit $rc, SplitPolicy $v"
run "${C[@]}" policy set stream 0 0x20 block
v=$("${B[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0/stream32 org.pkvm.Iommu1.Stream Policy Source | tr '\n' ' ')
[[ $rc == 0 && $v == 's "block" s "runtime" ' ]]; check set-stream-root $? "exit $rc, stream 0x20: $v"
run setpriv --reuid=65534 --regid=65534 --clear-groups "${C[@]}" policy set split hitless
v=$("${B[@]}" get-property "${M[@]}" SplitPolicy)
[[ $rc == 4 && $err == *"SetSplitPolicy: permission denied"* && $err == *org.pkvm.iommu1.manage* &&
	$v == 's "bbm"' ]]
check set-refused-unprivileged $? "uid 65534: exit $rc, SplitPolicy still $v: ${err:0:80}"
run setpriv --reuid=65534 --regid=65534 --clear-groups "${C[@]}" --json status
py 'a[0]["split_policy"] == "bbm"' "$out"; check read-unprivileged $? "uid 65534 reads status: exit $rc"
run "${C[@]}" policy set split presplit
[[ $rc == 1 && $err == *"SetSplitPolicy: invalid argument: level"* ]]
check set-daemon-refuses $? "exit $rc: $err"
run "${C[@]}" policy set split presplit two
[[ $rc == 2 && $err == *"LEVEL must be a number, not 'two'"* ]]; check set-usage $? "exit $rc: ${err%%$'\n'*}"
"${B[@]}" call "${M[@]}" SetSplitPolicy su auto 0 >/dev/null

# ---- the fold policy ----
run "${C[@]}" status
[[ $rc == 0 && $out == *"Fold: lazy, compacted 8 tables a call after 100 ms idle"* ]]
check status-fold $? "$(grep Fold: <<<"$out")"
run "${C[@]}" policy set fold eager
v=$("${B[@]}" get-property "${M[@]}" FoldMode CompactBudget CompactIdleMsec | tr '\n' ' ')
[[ $rc == 0 && $v == 's "eager" u 8 u 100 ' ]]; check set-fold-mode $? "exit $rc, $v"
run "${C[@]}" policy set fold lazy 16 250
v=$("${B[@]}" get-property "${M[@]}" FoldMode CompactBudget CompactIdleMsec | tr '\n' ' ')
[[ $rc == 0 && $v == 's "lazy" u 16 u 250 ' ]]; check set-fold-all $? "exit $rc, $v"
run "${C[@]}" policy set fold lazy 1
v=$("${B[@]}" get-property "${M[@]}" CompactBudget CompactIdleMsec | tr '\n' ' ')
[[ $rc == 0 && $v == 'u 1 u 250 ' ]]; check set-fold-keeps-idle $? "exit $rc, $v"
run "${C[@]}" policy set fold lazy 16 0
run "${C[@]}" status
[[ $rc == 0 && $out == *"Fold: lazy, no idle compaction (pool pressure only)"* ]]
check status-fold-no-idle $? "$(grep Fold: <<<"$out")"
run "${C[@]}" policy set fold lazy 16 250
run "${C[@]}" --json status
fold=$("${BJ[@]}" get-property "${M[@]}" FoldMode CompactBudget CompactIdleMsec |
	python3 -c 'import json,sys; print(json.dumps([json.loads(l)["data"] for l in sys.stdin]))')
py '[a[0]["fold_mode"], a[0]["compact_budget"], a[0]["compact_idle_ms"]] == a[1] == ["lazy", 16, 250]' \
	"$out" "$fold"
check status-fold-json $? "exit $rc, D-Bus $fold"
run "${C[@]}" --json policy show
py 'a[0]["fold"] == {"mode": "lazy", "compact_budget": 16, "idle_ms": 250}' "$out"
check policy-show-fold-json $? "exit $rc"
run "${C[@]}" policy show
[[ $rc == 0 && $out == *"Fold: lazy, compacted 16 tables a call after 250 ms idle"* ]]
check policy-show-fold $? "$(grep Fold: <<<"$out")"
grep -q '"idle_ms": 250' "$work/state/policy.json"
check set-fold-persisted $? "the change is in $work/state/policy.json"
run "${C[@]}" policy set fold sometimes
[[ $rc == 1 && $err == *'SetFoldPolicy: mode "sometimes": expected "eager" or "lazy"'* ]]
check set-fold-bad-mode $? "exit $rc: $err"
run "${C[@]}" policy set fold lazy 0
[[ $rc == 1 && $err == *"SetFoldPolicy: compact_budget 0: expected 1..4096"* ]]
check set-fold-bad-budget $? "exit $rc: $err"
run "${C[@]}" policy set fold lazy 8 600001
[[ $rc == 1 && $err == *"SetFoldPolicy: idle_ms 600001: expected 0..600000"* ]]
check set-fold-bad-idle $? "exit $rc: $err"
run "${C[@]}" policy set fold lazy 8 soon
[[ $rc == 2 && $err == *"IDLE_MS must be a number, not 'soon'"* ]]
check set-fold-usage $? "exit $rc: ${err%%$'\n'*}"
run "${C[@]}" policy set fold lazy 8 100 7
[[ $rc == 2 && $err == *"too many arguments"* ]]
check set-fold-usage-extra $? "exit $rc: ${err%%$'\n'*}"
run setpriv --reuid=65534 --regid=65534 --clear-groups "${C[@]}" policy set fold eager 8 100
v=$("${B[@]}" get-property "${M[@]}" FoldMode)
[[ $rc == 4 && $err == *"SetFoldPolicy: permission denied"* && $err == *org.pkvm.iommu1.manage* &&
	$v == 's "lazy"' ]]
check set-fold-refused-unprivileged $? "uid 65534: exit $rc, FoldMode still $v: ${err:0:80}"
v=$("${B[@]}" get-property "${M[@]}" FoldMode CompactBudget CompactIdleMsec | tr '\n' ' ')
[[ $v == 's "lazy" u 16 u 250 ' ]]; check set-fold-nothing-changed $? "after the refusals: $v"
"${B[@]}" call "${M[@]}" SetFoldPolicy suu lazy 8 100 >/dev/null

cp "$work/etc/policy.json" "$work/etc/good.json"
echo '{ "version": 1, "streams": [ { "sid": "x", "action": "block" } ] }' >"$work/etc/policy.json"
run "${C[@]}" policy reload
[[ $rc == 5 && $err == *"ReloadPolicy: invalid policy: $work/etc/policy.json: \$.streams[0].sid"* ]]
check reload-invalid $? "exit $rc: ${err:0:120}"
cp "$work/etc/good.json" "$work/etc/policy.json"
run "${C[@]}" policy reload
reloads=$(py 'a[0]["data"][0]["policy_reloads"]' "$("${BJ[@]}" call "${M[@]}" GetCounters)")
[[ $rc == 0 && -z $out ]]; check reload-good $? "exit $rc, policy_reloads $reloads"

# ---- monitor: a donation made while it runs ----
"${C[@]}" --json monitor >"$work/mon.json" 2>"$work/mon.err" &
mpid=$!
reap "$mpid"
"${C[@]}" monitor >"$work/mon.txt" 2>"$work/mon-txt.err" &
tpid=$!
reap "$tpid"
monitoring() { grep -q Monitoring "$1" && grep -q Monitoring "$2"; }
wait_for 60 monitoring "$work/mon.err" "$work/mon-txt.err"
"${B[@]}" call "${M[@]}" Donate ttu 0x94000000 0x2000 4 >/dev/null
"${B[@]}" call "${M[@]}" Reclaim ttu 0x94000000 0x2000 4 >/dev/null
two_lines() { (($(wc -l <"$1") >= 2 && $(wc -l <"$2") >= 2)); }
wait_for 60 two_lines "$work/mon.json" "$work/mon.txt"
kill -INT "$mpid"
wait "$mpid"
rc=$?
mpid=
kill -TERM "$tpid"
wait "$tpid"
trc=$?
gen=$("${B[@]}" get-property "${M[@]}" Generation | cut -d' ' -f2)
[[ $trc == 0 && $(sed -n 1p "$work/mon.txt") =~ ^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\ donate\ +0x94000000\ \+0x2000\ \(8\.0K\)\ owner\ 4\ \(guest\ 4\),\ generation\ $((gen - 1))$ &&
	$(sed -n 2p "$work/mon.txt") == *" reclaim    0x94000000 +0x2000 (8.0K) owner 4 (guest 4), generation $gen" ]]
check monitor-text $? "exit $trc after SIGTERM: $(head -1 "$work/mon.txt")"
py '[(e["event"], e["addr"], e["len"], e["owner"]) for e in a[0][0:2]] ==
    [("donate", 0x94000000, 0x2000, 4), ("reclaim", 0x94000000, 0x2000, 4)] and
    a[0][1]["generation"] == a[0][0]["generation"] + 1 and a[0][0]["time_usec"] > 1.6e15' \
	@"$work/mon.json"
check monitor-json $? "$(head -1 "$work/mon.json")"
[[ $rc == 0 ]]; check monitor-sigint $? "exit $rc after SIGINT"

# ---- colour: only on a terminal, never with NO_COLOR ----
run "${C[@]}" streams
[[ $out != *$'\033'* ]]; check no-color-pipe $? "no escape codes into a pipe"
tty_out=$(script -qec "$(printf '%q ' "${C[@]}") streams" /dev/null </dev/null)
[[ $tty_out == *$'\033[1;4m'SMMU* && $tty_out == *$'\033[0;33m'block* ]]
check color-tty $? "header and blocked streams coloured on a terminal"
tty_out=$(NO_COLOR=1 script -qec "$(printf '%q ' "${C[@]}") streams" /dev/null </dev/null)
[[ $tty_out != *$'\033'* && $tty_out == *SMMU* ]]; check no-color-env $? "NO_COLOR=1 on a terminal"

# ---- map: the ledger as a bar ----
# A guest's 16 MiB at the span's end, and one page of guest 12 alone in a
# cell of megabytes of host memory, beside guest 3's and the shared pages.
"${B[@]}" call "${M[@]}" Donate ttu 0x98000000 0x1000000 5 >/dev/null
"${B[@]}" call "${M[@]}" Donate ttu 0x88000000 0x1000 12 >/dev/null
"${BJ[@]}" call "${M[@]}" GetLedger >"$work/ledger.json"
mapfile -t want < <("$(dirname "$0")/map-bar.py" "$work/ledger.json" 64 \
	0x80100000 0x88000000 0x90000000 0x91000000 0x98ffffff)
run "${C[@]}" map --width=64
bar=$(sed -n 1p <<<"$out")
[[ $rc == 0 && $bar == "${want[0]}" && ${#bar} == 64 && ${bar:${want[1]}:1} == '#' &&
	${bar:${want[2]}:1} == a && ${bar:${want[3]}:1} == 3 && ${bar:${want[4]}:1} == = &&
	${bar:${want[5]}:1} == 5 && ${want[5]} == 63 ]]
check map-bar $? "$bar; # at ${want[1]}, a at ${want[2]}, 3 at ${want[3]}, = at ${want[4]}, 5 at ${want[5]}"
span=$(py '[a[0][0]["data"][0][0][0], a[0][0]["data"][0][-1][0] + a[0][0]["data"][0][-1][1]]' \
	@"$work/ledger.json")
mid=$(py 'hex(a[0][0] + (a[0][1] - a[0][0]) * 32 // 64)' "$span")
ticks=$(sed -n 2p <<<"$out")
[[ $ticks == "|$(printf '%31s' '')|$(printf '%30s' '')|" &&
	$(sed -n 3p <<<"$out") =~ ^$(py 'hex(a[0][0])' "$span")\ +$mid\ +$(py 'hex(a[0][1])' "$span")$ &&
	$(sed -n 3p <<<"$out" | grep -bo "$mid" | cut -d: -f1) == 32 ]]
check map-ticks $? "$(sed -n 3p <<<"$out" | tr -s ' ')"
# The legend: every symbol with its owner, and pages equal to the ledger's.
totals=$("${BJ[@]}" get-property "${M[@]}" LedgerTotals)
shared=$("${B[@]}" get-property "${M[@]}" SharedPages | cut -d' ' -f2)
legend=$(sed -n '/^SYMBOL STATE/,/^$/p' <<<"$out" | sed '1d;$d' |
	sed -E 's/^(.) +(.+[^ ]) +([0-9]+) +[0-9.]+[BKMGTPE]$/\1|\2|\3/')
expect=$(py '"\n".join(["|".join([s, n, str(p)]) for s, n, p in
    [(".", "host (not in the ledger)", (a[1][1] - a[1][0]) // 4096 - sum(t[1] for t in a[0]["data"]) - a[2])] +
    [({1: "#", 3: "3", 5: "5", 12: "a"}[o], "hypervisor" if o == 1 else "guest %d" % o, p)
     for o, p in a[0]["data"]] + [("=", "shared (host pages)", a[2])]])' "$totals" "$span" "$shared")
[[ -n $legend && $legend == "$expect" ]]
check map-legend $? "$(tr '\n' ';' <<<"$legend")"
[[ $out == *"in 64 cells of "* && $out == *"memory in all: 4.0G."* &&
	$out == *"drawn as host memory"* ]]
check map-footer $? "$(grep -m1 ^Span <<<"$out")"
# One page in a cell of megabytes still shows, and nowhere else.
cell=$(py '(a[0][1] - a[0][0]) // 64' "$span")
[[ ${bar//[^a]/} == a && $cell -gt $((1000 * 4096)) ]]
check map-tiny-donation $? "guest 12's one page shows as 'a' at cell ${want[2]} of $cell bytes"
# Guest 3's 4 pages and the 2 shared pages 16 MiB apart in one cell of 25 MiB:
# the larger shows.
mapfile -t want16 < <("$(dirname "$0")/map-bar.py" "$work/ledger.json" 16 0x90000000 0x91000000)
run "${C[@]}" map --width=16 --no-legend
[[ $rc == 0 && $out == "${want16[0]}" && ${want16[1]} == "${want16[2]}" &&
	${out:${want16[1]}:1} == 3 && $out != *=* ]]
check map-mixed-cell $? "$out: cell ${want16[1]} holds guest 3 and shared pages, shows 3"
run "${C[@]}" --json map --width=64
mem=$(py 'a[0]["data"][0]["mem_pages"] * 4096' "$("${BJ[@]}" call "${M[@]}" GetCounters)")
py '[[r["addr"], r["len"], r["owner"], r["shared"]] for r in a[0]["runs"] if r["state"] != "host"]
    == a[1][0]["data"][0] and
    all(r["owner"] == 0 and not r["shared"] for r in a[0]["runs"] if r["state"] == "host") and
    all(x["addr"] + x["len"] == y["addr"] for x, y in zip(a[0]["runs"], a[0]["runs"][1:])) and
    [a[0]["start"], a[0]["end"]] == a[2] == [a[0]["runs"][0]["addr"],
                                            a[0]["runs"][-1]["addr"] + a[0]["runs"][-1]["len"]] and
    a[0]["width"] == 64 and a[0]["bytes_per_cell"] == (a[2][1] - a[2][0]) // 64 and
    a[0]["memory_bytes"] == '"$mem"' and
    [r["state"] for r in a[0]["runs"] if r["state"] != "host"] ==
    ["hypervisor", "guest", "guest", "shared", "guest"]' "$out" @"$work/ledger.json" "$span"
check map-json $? "runs equal GetLedger with host between, span $span, memory $mem"
run env COLUMNS=50 "${C[@]}" map --no-legend
[[ $rc == 0 && $out == "$("$(dirname "$0")/map-bar.py" "$work/ledger.json" 50)" ]]
check map-columns $? "COLUMNS=50, not a terminal: $out"
run env -u COLUMNS "${C[@]}" map --no-legend
[[ $rc == 0 && ${#out} == 80 ]]; check map-default-width $? "no terminal, no COLUMNS: ${#out} cells"
run env COLUMNS=wide "${C[@]}" map --no-legend
[[ $rc == 0 && ${#out} == 80 ]]; check map-bad-columns $? "COLUMNS=wide ignored: ${#out} cells"
tty_out=$(COLUMNS=50 script -qec "stty cols 72; $(printf '%q ' "${C[@]}") map --no-legend" /dev/null </dev/null)
plain=$(sed -E $'s/\033\\[[0-9;]*m//g; s/\r//g' <<<"$tty_out")
[[ $plain == "$("$(dirname "$0")/map-bar.py" "$work/ledger.json" 72)" &&
	$tty_out == *$'\033[1;31m#'* && $tty_out == *$'\033[0;33m='* ]]
check map-terminal $? "the terminal's 72 columns over COLUMNS=50, coloured: $plain"
tty_out=$(NO_COLOR=1 script -qec "$(printf '%q ' "${C[@]}") map --width=64" /dev/null </dev/null)
[[ $tty_out != *$'\033'* && $tty_out == "${want[0]}"* ]]; check map-no-color $? "NO_COLOR=1 on a terminal"
bad=''
for w in 0 7 4097 64x ''; do
	run "${C[@]}" map --width="$w"
	[[ $rc == 2 && $err == "pkvm-iommuctl: --width='$w': expected a number of columns 8..4096." &&
		-z $out ]] || bad+=" '$w'($rc)"
done
run "${C[@]}" status --width=64
[[ $rc == 2 && $err == *"--width does not apply to 'status'"* ]] || bad+=" status($rc)"
[[ -z $bad ]]; check map-bad-width $? "exit 2 naming --width for 0, 7, 4097, 64x, '', status${bad:+; not so:$bad}"

# ---- faults and quarantine, seen by monitor, streams and status ----
# The workload's DMA goes only to isolating streams. Both are blocked while
# the daemon starts and the monitors subscribe, and isolated once both say
# they are listening: on a loaded machine the faults would otherwise reach
# quarantine before a monitor is there to see them.
"${C[@]}" policy set stream 0 8 block >/dev/null
"${C[@]}" policy set stream 0 16 block >/dev/null
stop_daemon
start_daemon --sim-workload=churn --sim-rate=20000
# The workload donates and reclaims 20,000 times a second for as long as the
# streams take to reach quarantine, which depends on the machine: only the
# fault and quarantine events are kept (filtered through a FIFO, so that
# every kept line is written before it is read), bounded by the fault limit.
mkfifo "$work/mon2.fifo" "$work/mon2-txt.fifo"
grep --line-buffered -E '"event": ?"(fault|quarantine)"' <"$work/mon2.fifo" >"$work/mon2.json" &
gpid=$!
reap "$gpid"
grep --line-buffered -E '^[0-9:.]+ (fault|quarantine) ' <"$work/mon2-txt.fifo" >"$work/mon2.txt" &
gtpid=$!
reap "$gtpid"
"${C[@]}" --json monitor >"$work/mon2.fifo" 2>"$work/mon2.err" &
mpid=$!
reap "$mpid"
"${C[@]}" monitor >"$work/mon2-txt.fifo" 2>"$work/mon2-txt.err" &
tpid=$!
reap "$tpid"
monitors_listening() {
	grep -q '^Monitoring ' "$work/mon2.err" && grep -q '^Monitoring ' "$work/mon2-txt.err"
}
wait_for 60 monitors_listening
"${C[@]}" policy set stream 0 8 isolate >/dev/null
"${C[@]}" policy set stream 0 16 isolate >/dev/null
# The workload's DMA takes the isolating streams in turn, so in the end both
# are quarantined and the faults stop.
both_quarantined() {
	run "${C[@]}" --json streams
	py '[s["sid"] for s in a[0] if s["quarantined"]] == [8, 16]' "$out"
}
wait_for 120 both_quarantined
quarantined=$(py '[s["sid"] for s in a[0] if s["quarantined"]]' "$out")
two_quarantines() { (($(grep -c '"quarantine"' "$work/mon2.json") >= 2)); }
wait_for 60 two_quarantines
kill "$mpid" "$tpid"
wait "$mpid" "$tpid"
wait "$gpid" "$gtpid"
mpid='' tpid=''
py 'any(e["event"] == "fault" for e in a[0]) and
    all(e["smmu"] == 0 and e["type"] == 16 and e["type_name"] == "F_TRANSLATION" and
        e["stage2"] is True and e["write"] == bool(e["flags"] & 1) for e in a[0]
        if e["event"] == "fault") and
    sorted(e["sid"] for e in a[0] if e["event"] == "quarantine") == a[1] and
    8 in a[1] and
    all(e["faults"] == 20 for e in a[0] if e["event"] == "quarantine")' \
	@"$work/mon2.json" "$quarantined"
check monitor-fault-quarantine $? "$(grep -c '"fault"' "$work/mon2.json") faults, quarantined sids $quarantined: $(grep '"quarantine"' "$work/mon2.json" | head -1)"
[[ $(grep -m1 ' fault ' "$work/mon2.txt") =~ ^[0-9:.]{12}\ fault\ +smmu\ 0\ sid\ (8|16)\ addr\ 0x[0-9a-f]+\ F_TRANSLATION\ \(0x10\)\ (read|write)\ stage-2$ &&
	$(grep -m1 ' quarantine ' "$work/mon2.txt") =~ \ quarantine\ smmu\ 0\ sid\ (8|16)\ blocked\ after\ 20\ faults$ ]]
check monitor-text-fault $? "$(grep -m1 ' fault ' "$work/mon2.txt"); $(grep -m1 ' quarantine ' "$work/mon2.txt")"
run "${C[@]}" streams
[[ $out =~ $'\n'\ +0\ +8\ block\ +quarantine\ +[0-9]+\ yes ]]
check streams-quarantined $? "$(grep ' 8 ' <<<"$out" | tr -s ' ')"
nq=$(py 'len(a[0])' "$quarantined")
run "${C[@]}" status
[[ $rc == 0 && $out == *"Streams: "*" known, $nq quarantined"* &&
	$out =~ Health:\ degraded:\ $nq\ streams?\ quarantined ]]
check status-degraded $? "$(grep Health <<<"$out" | tr -s ' ')"
run "${C[@]}" --json status
py 'a[0]["health"] == "degraded" and a[0]["streams"]["quarantined"] == '"$nq"' and
    a[0]["faults"] >= 20 * '"$nq" "$out"
check status-degraded-json $? "$(py 'a[0]["problems"]' "$out")"

checks_finish
