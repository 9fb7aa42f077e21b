#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# integration.sh PKVM_IOMMUD [FAKE_POLKIT]: pkvm-iommud on the simulation backend, on a
# private dbus-daemon, driven with busctl as a client would. Prints one
# "ok - NAME" / "not ok - NAME" line per check and "N passed, N failed".
set -uo pipefail
daemon=$1
fake_polkit=${2:-}
# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
checks_init pkvm-iommud-it
failure_logs=("$work/daemon.log")
dpid='' ppid=''
private_bus

mkdir -p "$work/etc" "$work/state"
cat >"$work/etc/policy.json" <<'EOF'
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" } ],
  "split_policy": { "mode": "auto" } }
EOF

start_daemon
check daemon-starts $? "pkvm-iommud --backend=sim on a private bus"

v=$("${B[@]}" get-property "${M[@]}" Backend)
[[ $v == 's "sim"' ]]; check prop-backend $? "Backend = $v"
v=$("${B[@]}" get-property "${M[@]}" AbiVersion)
[[ $v == "u 1" ]]; check prop-abi $? "AbiVersion = $v"
v=$("${B[@]}" get-property "${M[@]}" SmmuCount)
[[ $v == "u 1" ]]; check prop-smmus $? "SmmuCount = $v"
v=$("${B[@]}" get-property "${M[@]}" IommufdStatus)
[[ $v == 's "not probed: simulation backend"' ]]; check prop-iommufd $? "IommufdStatus = $v"
v=$("${B[@]}" get-property "${M[@]}" SplitPolicy)
[[ $v == 's "auto"' ]]; check prop-split $? "SplitPolicy = $v"
v=$("${B[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0/stream8 \
	org.pkvm.Iommu1.Stream Policy 2>&1)
[[ $v == 's "isolate"' ]]; check policy-applied $? "stream 8 from the policy file: $v"
v=$("${B[@]}" call "${M[@]}" GetCounters 2>&1)
[[ $v == *'"table_pages"'* && $v == *'"events_ingested"'* ]]
check get-counters $? "$(echo "$v" | cut -c1-80)..."
[[ $v == *'"hook_transitions" 0 '* && $v == *'"hook_ns" 0 '* && $v == *'"hook_max_ns" 0 '* &&
	$v == *'"seed_ns" 0 '* ]]
check get-counters-hook $? "pKVM's hook and seed counters named, 0 on the sim backend"

# Changes as root, refused for an unprivileged caller.
"${B[@]}" call "${M[@]}" SetStreamPolicy uus 0 16 isolate >/dev/null 2>&1
check set-stream-root $? "SetStreamPolicy 0 16 isolate as root"
grep -q '"sid": 16' "$work/state/policy.json" 2>/dev/null
check persisted $? "runtime change in $work/state/policy.json, not in etc/"
! grep -q '"sid": 16' "$work/etc/policy.json"
check etc-untouched $? "the policy file itself is unchanged"
v=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"${B[@]}" call "${M[@]}" SetSplitPolicy su bbm 0 2>&1)
[[ $v == *"ccess denied"* || $v == *AccessDenied* ]]
check refused-unprivileged $? "uid 65534: ${v:0:70}"
# With polkit on the bus, its answer decides for callers that are not root.
if [[ -n $fake_polkit ]]; then
	"$fake_polkit" "$addr" 65534 >"$work/polkit.log" 2>&1 &
	ppid=$!
	reap "$ppid"
	wait_for 30 grep -q ready "$work/polkit.log"
	v=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		"${B[@]}" call "${M[@]}" SetSplitPolicy su bbm 0 2>&1)
	check polkit-allows $? "uid 65534 authorized by polkit: SetSplitPolicy bbm ${v:+($v)}"
	grep -q "uid 65534 action org.pkvm.iommu1.manage -> yes" "$work/polkit.log"
	check polkit-asked $? "$(grep -c fake-polkit: "$work/polkit.log") line(s) in the polkit log"
	v=$(setpriv --reuid=1 --regid=1 --clear-groups \
		"${B[@]}" call "${M[@]}" SetSplitPolicy su hitless 0 2>&1)
	[[ $v == *"ccess denied"* ]]; check polkit-denies $? "uid 1 (not the allowed 65534): ${v:0:60}"
	kill "$ppid"
	wait "$ppid" 2>/dev/null
	# A polkit that takes 3 s to answer (a password typed): the daemon keeps
	# serving everyone else meanwhile, then completes the change.
	"$fake_polkit" "$addr" 65534 3000 >"$work/polkit-slow.log" 2>&1 &
	ppid=$!
	reap "$ppid"
	wait_for 30 grep -q ready "$work/polkit-slow.log"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"${B[@]}" --timeout=10 call "${M[@]}" SetSplitPolicy su presplit 2 \
		>"$work/slow-call.out" 2>&1 &
	cpid=$!
	# Measured from when polkit has the question (it prints it, then thinks).
	wait_for 30 grep -q "uid 65534 action" "$work/polkit-slow.log"
	t0=$(date +%s%N)
	v=$("${B[@]}" --timeout=1 get-property "${M[@]}" SplitPolicy 2>&1)
	ms=$((($(date +%s%N) - t0) / 1000000))
	[[ $v == 's "bbm"' ]] && ((ms < 1000))
	check polkit-async $? "while polkit thinks: SplitPolicy read in $ms ms ($v)"
	wait "$cpid"
	rc=$?
	v=$("${B[@]}" get-property "${M[@]}" SplitPolicy 2>&1)
	((rc == 0)) && [[ $v == 's "presplit"' ]]
	check polkit-async-completes $? "the slow-authorized call: exit $rc, SplitPolicy $v"
	kill "$ppid"
	wait "$ppid" 2>/dev/null
	ppid=
	"${B[@]}" call "${M[@]}" SetSplitPolicy su auto 0 >/dev/null 2>&1
fi
v=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"${B[@]}" get-property "${M[@]}" Backend 2>&1)
[[ $v == 's "sim"' ]]; check read-unprivileged $? "uid 65534 reads Backend: $v"

# A bad policy file is refused and the old one stays.
cp "$work/etc/policy.json" "$work/etc/good.json"
echo '{ "version": 1, "streams": [ { "sid": "x" } ] }' >"$work/etc/policy.json"
v=$("${B[@]}" call "${M[@]}" ReloadPolicy 2>&1)
[[ $v == *'$.streams[0]'* ]]; check reload-bad-refused $? "${v:0:90}"
v=$("${B[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0/stream8 \
	org.pkvm.Iommu1.Stream Policy 2>&1)
[[ $v == 's "isolate"' ]]; check reload-bad-keeps-old $? "stream 8 still $v"
cp "$work/etc/good.json" "$work/etc/policy.json"

# Test-mode donation through the daemon, seen in the ledger.
"${B[@]}" call "${M[@]}" Donate ttu 0x90000000 0x4000 3 >/dev/null 2>&1
check donate $? "Donate 0x90000000+0x4000 to owner 3"
ledger_has() {
	v=$("${B[@]}" call "${M[@]}" GetLedger 2>&1)
	[[ $v == *"$1"* ]]
}
wait_for 30 ledger_has "2415919104 16384 3 false"
[[ $v == *"2415919104 16384 3 false"* ]]; check ledger-has-donation $? "${v:0:90}"

# kill -9 and restart: the runtime change survives.
stop_daemon KILL
start_daemon
check restart $? "restarted after kill -9"
v=$("${B[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0/stream16 \
	org.pkvm.Iommu1.Stream Policy 2>&1)
[[ $v == 's "isolate"' ]]; check persisted-after-kill $? "stream 16 after restart: $v"

# A burst of a million simulated donations: the ledger, fed only by events
# (and repaired by dumps when the event queue overflows), must equal the
# backend's own dump at the end.
stop_daemon
start_daemon --sim-workload=churn --sim-rate=2000000
donations=0
million_donated() {
	v=$("${B[@]}" --timeout=5 call "${M[@]}" GetCounters 2>/dev/null)
	donations=$(sed -n 's/.*"donate" \([0-9]*\).*/\1/p' <<<"$v")
	((${donations:-0} >= 1000000))
}
wait_for 200 million_donated
((${donations:-0} >= 1000000)); check burst-million $? "${donations:-0} donations made by the sim workload"
v=$("${B[@]}" --timeout=30 call "${M[@]}" CheckLedger 2>&1)
[[ $v == "btt true "* ]]; check burst-ledger-equals-dump $? "CheckLedger: $v"
# The churn workload's DMA from stream 8 hits donated pages: past the default
# fault limit (100 in 10 s) the stream is switched to block.
v=$("${B[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0/stream8 \
	org.pkvm.Iommu1.Stream Quarantined Policy Source Faults 2>&1 | tr '\n' ' ')
[[ $v == 'b true s "block" s "quarantine" t '* ]]
check quarantine $? "stream 8 after the burst: $v"
# Logged (stderr: openlog's LOG_PERROR), with the journal fields' numbers in
# the text: the quarantine once, faults once per stream per fault window
# (10 s), not once per fault.
nq=$(grep -c 'smmu 0 stream 8: [0-9]* faults in 10 s: quarantined (blocked)' "$work/daemon.log")
nf=$(grep -c 'smmu 0 stream 8: fault (event 0x[0-9a-f]*, \(read\|write\)) at 0x[0-9a-f]*, a page the host gave away' "$work/daemon.log")
faults=$(sed -n 's/^t //p' <<<"${v##*\"quarantine\" }")
faults=${faults%% *}
((nq == 1 && nf >= 1 && nf <= 1 + SECONDS / 10 && nf < ${faults:-0}))
check fault-log-lines $? "$nq quarantine line(s) (want 1), $nf fault line(s) for ${faults:-?} faults (want one a 10 s window)"
v=$("${B[@]}" call "${M[@]}" GetCounters 2>/dev/null)
echo "# $(grep -o '"events_ingested" [0-9]*\|"resyncs" [0-9]*\|"lost_pages" [0-9]*' <<<"$v" | tr '\n' ' ')"

# Invalidation batching from the policy: the workload's changes share
# syncs (64 to a group), and the ledger still equals the dump.
stop_daemon
sed 's/^{/{ "invalidation": { "batch_max_ops": 64, "batch_window_us": 200 },/' \
	"$work/etc/good.json" >"$work/etc/batch.json"
start_daemon --sim-workload=churn --sim-rate=200000 --policy="$work/etc/batch.json"
changes=0
many_changes() {
	v=$("${B[@]}" --timeout=5 call "${M[@]}" GetCounters 2>/dev/null)
	d=$(sed -n 's/.*"donate" \([0-9]*\).*/\1/p' <<<"$v")
	r=$(sed -n 's/.*"reclaim" \([0-9]*\).*/\1/p' <<<"$v")
	syncs=$(sed -n 's/.*"syncs" \([0-9]*\).*/\1/p' <<<"$v")
	changes=$((${d:-0} + ${r:-0}))
	((changes >= 100000))
}
wait_for 120 many_changes
((changes >= 100000 && ${syncs:-0} > 0 && ${syncs:-0} * 16 < changes))
check batched-syncs $? "batch_max_ops 64: ${syncs:-?} syncs for $changes changes"
v=$("${B[@]}" --timeout=30 call "${M[@]}" CheckLedger 2>&1)
[[ $v == "btt true "* ]]; check batched-ledger-equals-dump $? "CheckLedger: $v"


# The fold section from the policy: lazy with a short idle time, so the
# daemon compacts the sim's table after a donation is given back, one
# table a COMPACT call, until table_pages is what it was before.
stop_daemon
sed 's/^{/{ "fold": { "mode": "lazy", "compact_budget": 1, "idle_ms": 20 },/' \
	"$work/etc/good.json" >"$work/etc/fold.json"
start_daemon --policy="$work/etc/fold.json"
v=$("${B[@]}" get-property "${M[@]}" FoldMode CompactBudget CompactIdleMsec | tr '\n' ' ')
[[ $v == 's "lazy" u 1 u 20 ' ]]; check fold-from-policy $? "FoldMode CompactBudget CompactIdleMsec: $v"
counter() {	# counter NAME: its value from GetCounters
	"${B[@]}" call "${M[@]}" GetCounters 2>/dev/null | grep -o "\"$1\" [0-9]*" | cut -d' ' -f2
}
t0=$(counter table_pages) c0=$(counter compactions) f0=$(counter compact_folds)
"${B[@]}" call "${M[@]}" Donate ttu 0x8c0500000 0x1000 2 >/dev/null &&
	"${B[@]}" call "${M[@]}" Reclaim ttu 0x8c0500000 0x1000 2 >/dev/null
compacted() { [[ $(counter table_pages) == "$t0" ]] && (($(counter compactions) > c0)); }
wait_for 30 compacted
check fold-idle-compaction $? "table_pages $(counter table_pages) (was $t0), compactions $c0 -> $(counter compactions)"
(($(counter compact_folds) - f0 >= 2)); check fold-compact-folds $? "compact_folds $f0 -> $(counter compact_folds)"
sed -i 's/"mode": "lazy", "compact_budget": 1, "idle_ms": 20/"mode": "eager"/' "$work/etc/fold.json"
kill -HUP "$dpid"
fold_mode_is() { [[ $("${B[@]}" get-property "${M[@]}" FoldMode) == "s \"$1\"" ]]; }
wait_for 30 fold_mode_is eager
check fold-reload $? "SIGHUP: FoldMode $("${B[@]}" get-property "${M[@]}" FoldMode)"
checks_finish
