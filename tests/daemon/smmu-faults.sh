#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# smmu-faults.sh PKVM_IOMMUD: each SMMU fault injected into the simulation
# backend ($PKVM_SIM_FAULT, backend_sim_inject()) shows up where an operator
# looks: the Fault signal, GetMetrics' per-SMMU counters, and a log line
# with its journal fields' numbers (stderr: openlog's LOG_PERROR). A CMD_SYNC
# that never completes and a refused command (CERROR_ILL) fail the Donate
# that hit them and the SMMU closed; an event queue overflow is counted and
# logged once, and the daemon does not take it for a stream's fault.
# Prints "ok - NAME: DETAIL" / "not ok - NAME: DETAIL" and "N passed, N failed".
set -uo pipefail
daemon=$1
# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
checks_init pkvm-smmu-faults
failure_logs=("$work/daemon.log" "$work/monitor.log")
dpid='' mpid=''
private_bus

mkdir -p "$work/etc"
cat >"$work/etc/policy.json" <<'EOF'
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" } ] }
EOF

call_s() {
	"${B[@]}" --json=short call "${M[@]}" "$1" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0], end="")'
}

# The value of one sample of GetMetrics (a name with its labels), or nothing.
metric() {
	call_s GetMetrics | awk -v k="$1" '$1 == k { print $2 }'
}

# The Fault signals the bus carries, from before the fault on.
monitor_start() {
	: >"$work/monitor.log"
	"${B[@]}" monitor --match="type='signal',member='Fault'" >>"$work/monitor.log" 2>&1 &
	mpid=$!
	reap "$mpid"
	wait_for 30 grep -q Monitoring "$work/monitor.log"
}

monitor_stop() {
	kill "$mpid" 2>/dev/null
	wait "$mpid" 2>/dev/null
}

# Fault signal of SMMU 0 for the whole SMMU (sid all ones) of TYPE with DETAIL.
signal_seen() {	# signal_seen TYPE DETAIL
	tr -d '\n' <"$work/monitor.log" |
		grep -q "UINT32 0;\s*UINT32 4294967295;\s*UINT64 $2;\s*UINT32 $1;"
}

# ---- a CMD_SYNC that never completes, and a refused command ----
# FAULT, the Donate's D-Bus error, the signals (type detail ...), the log line
for c in "sync-timeout|Connection timed out|256 110|failed closed (Connection timed out)" \
	"cmd-error|Input/output error|257 1 256 5|command refused (CERROR_ILL)"; do
	IFS='|' read -r fault err sigs logline <<<"$c"
	: >"$work/daemon.log"
	PKVM_SIM_FAULT=$fault start_daemon
	check "$fault-starts" $? "pkvm-iommud --backend=sim with PKVM_SIM_FAULT=$fault"
	monitor_start
	v=$("${B[@]}" call "${M[@]}" Donate ttu 0x90000000 0x1000 3 2>&1)
	[[ $v == *"$err"* ]]
	check "$fault-donate-fails" $? "Donate: $v"
	read -ra s <<<"$sigs"
	for ((i = 0; i < ${#s[@]}; i += 2)); do
		wait_for 30 signal_seen "${s[i]}" "${s[i + 1]}"
		check "$fault-signal-${s[i]}" $? "Fault(0, 0xffffffff, ${s[i + 1]}, ${s[i]}, 0) on the bus"
	done
	monitor_stop
	v=$(metric 'pkvm_iommu_smmu_failed{smmu="0"}')
	[[ $v == 1 ]]; check "$fault-metric-failed" $? "pkvm_iommu_smmu_failed{smmu=\"0\"} $v"
	if [[ $fault == sync-timeout ]]; then
		want=pkvm_iommu_smmu_sync_timeouts_total
	else
		want=pkvm_iommu_smmu_command_errors_total
	fi
	v=$(metric "$want{smmu=\"0\"}")
	[[ $v == 1 ]]; check "$fault-metric-count" $? "$want{smmu=\"0\"} $v"
	grep -q "smmu 0: $logline" "$work/daemon.log"
	check "$fault-log" $? "$(grep -m1 -o "smmu 0: .*" "$work/daemon.log" | grep -v '^smmu 0: fault' | tail -1)"
	# The change was made (pKVM could not undo it): the ledger has it.
	v=$("${B[@]}" --timeout=30 call "${M[@]}" CheckLedger 2>&1)
	[[ $v == "btt true "* ]]; check "$fault-ledger" $? "CheckLedger: $v"
	# The SMMU is out of the way: later changes succeed.
	v=$("${B[@]}" call "${M[@]}" Donate ttu 0x90010000 0x1000 3 2>&1)
	[[ -z $v ]]; check "$fault-later-donate" $? "a later Donate: ${v:-ok}"
	stop_daemon
done

# ---- the event queue overflows under the churn workload's faults ----
: >"$work/daemon.log"
PKVM_SIM_FAULT=evtq-overflow start_daemon --sim-workload=churn --sim-rate=20000
check evtq-starts $? "pkvm-iommud --backend=sim --sim-workload=churn with PKVM_SIM_FAULT=evtq-overflow"
monitor_start
overflowed() {
	v=$(metric 'pkvm_iommu_smmu_event_overflows_total{smmu="0"}')
	((${v:-0} >= 1))
}
wait_for 60 overflowed
check evtq-metric $? "pkvm_iommu_smmu_event_overflows_total{smmu=\"0\"} ${v:-?}"
lost_signal() { tr -d '\n' <"$work/monitor.log" | grep -q "UINT32 0;\s*UINT32 0;\s*UINT64 0;\s*UINT32 0;\s*UINT32 4;"; }
wait_for 30 lost_signal
check evtq-signal $? "Fault(0, 0, 0, 0, 4): records were lost"
monitor_stop
# One line per 10 s window, however many overflows.
n=$(grep -c "smmu 0: event queue overflowed: fault records were lost" "$work/daemon.log")
((n >= 1 && n <= 1 + SECONDS / 10)); check evtq-log $? "$n log line(s) in ${SECONDS} s"
# Lost records are no stream's fault: every record lost, no fault counted.
v=$(metric 'pkvm_iommu_faults_total')
[[ $v == 0 ]]; check evtq-no-fault $? "pkvm_iommu_faults_total $v"
v=$(metric 'pkvm_iommu_smmu_failed{smmu="0"}')
[[ $v == 0 ]]; check evtq-not-failed $? "pkvm_iommu_smmu_failed{smmu=\"0\"} $v"
stop_daemon

checks_finish
