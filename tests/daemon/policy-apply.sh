#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# policy-apply.sh PKVM_IOMMUD: what pkvm-iommud makes of a policy and of
# its state directory, as a client and an operator see it, on the
# simulation backend on a private dbus-daemon:
# - a reload without the rule for stream 8 puts stream 8 back to
#   default_stream_action, source "default" (it kept "isolate"/"policy");
# - a rule the module refuses (sid past the stream table, no such SMMU) is
#   named by its JSON path in the ReloadPolicy error, and nothing changes;
# - SetStreamPolicy that cannot be persisted (the state file's path is a
#   directory, so the rename fails, as root too) fails and changes nothing;
# - temp files a kill -9 left in the state directory are removed at start
#   (a symlink of the same pattern is not), and the log says how many.
# Prints "ok - NAME: DETAIL" / "not ok - NAME: DETAIL" and "N passed, N failed".
set -uo pipefail
daemon=$1
# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
checks_init pkvm-policy-apply
failure_logs=("$work/daemon.log")
dpid=''
private_bus
mkdir -p "$work/etc" "$work/state"

stream_prop() {	# stream_prop SID PROPERTY: the value busctl prints, or its error
	"${B[@]}" get-property org.pkvm.Iommu1 "/org/pkvm/Iommu1/smmu0/stream$1" \
		org.pkvm.Iommu1.Stream "$2" 2>&1
}

cat >"$work/etc/policy.json" <<'EOF'
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" } ] }
EOF
start_daemon
check daemon-starts $? "pkvm-iommud --backend=sim, stream 8 isolate by rule"
[[ -n $dpid ]] || checks_finish
v="$(stream_prop 8 Policy) $(stream_prop 8 Source)"
[[ $v == 's "isolate" s "policy"' ]]; check rule-applied $? "stream 8: $v"

# ---- 2: the rule removed ----
echo '{ "version": 1, "default_stream_action": "block" }' >"$work/etc/policy.json"
v=$("${B[@]}" call "${M[@]}" ReloadPolicy 2>&1)
check reload-without-rule $? "ReloadPolicy ${v:+($v)}"
v="$(stream_prop 8 Policy) $(stream_prop 8 Source)"
[[ $v == 's "block" s "default"' ]]
check removed-rule-resets $? "stream 8 after its rule went: $v"
echo '{ "version": 1, "default_stream_action": "isolate" }' >"$work/etc/policy.json"
"${B[@]}" call "${M[@]}" ReloadPolicy >/dev/null 2>&1
v="$(stream_prop 8 Policy) $(stream_prop 8 Source)"
[[ $v == 's "isolate" s "default"' ]]
check default-action-applied $? "default_stream_action isolate: stream 8 $v"

# ---- 10: rules the module refuses ----
cat >"$work/etc/policy.json" <<'EOF'
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 9, "action": "isolate" },
               { "sid": 70000, "action": "isolate" },
               { "smmu": 5, "sid": 1, "action": "block" } ] }
EOF
v=$("${B[@]}" call "${M[@]}" ReloadPolicy 2>&1)
rc=$?
((rc != 0)) && [[ $v == *'$.streams[1].sid: 70000 is outside the stream table of SMMU 0'* &&
	$v == *'$.streams[2].smmu: 5: no such SMMU'* ]]
check refused-rule-named $? "${v:0:200}"
v="$(stream_prop 8 Policy) $(stream_prop 8 Source) / $(stream_prop 9 Policy)"
[[ $v == 's "isolate" s "default" / '*'Unknown object'* ]]
check refused-nothing-applied $? "stream 8 $v"
v=$("${B[@]}" get-property "${M[@]}" DefaultStreamAction)
[[ $v == 's "isolate"' ]]; check refused-policy-stays $? "DefaultStreamAction $v"

# ---- 7: a runtime change that cannot be persisted ----
"${B[@]}" call "${M[@]}" SetStreamPolicy uus 0 11 isolate >/dev/null 2>&1
check set-persisted $? "SetStreamPolicy 0 11 isolate"
rm -f "$work/state/policy.json" && mkdir "$work/state/policy.json"
v=$("${B[@]}" call "${M[@]}" SetStreamPolicy uus 0 12 block 2>&1)
rc=$?
((rc != 0)); check set-unpersisted-fails $? "state file path a directory: ${v:0:100}"
v=$(stream_prop 12 Policy)
[[ $v == *'Unknown object'* ]]; check set-unpersisted-no-stream $? "stream 12: ${v:0:60}"
v=$("${B[@]}" call "${M[@]}" SetSplitPolicy su bbm 0 2>&1)
rc=$?
w=$("${B[@]}" get-property "${M[@]}" SplitPolicy)
((rc != 0)) && [[ $w == 's "auto"' ]]
check split-unpersisted-unchanged $? "SetSplitPolicy bbm: ${v:0:60}; SplitPolicy $w"
left=$(find "$work/state" -mindepth 1 -not -path "$work/state/policy.json" | wc -l)
[[ $left == 0 ]]; check no-temp-after-failure $? "$left stray entries in the state directory"
rmdir "$work/state/policy.json"

# ---- 9: what a kill -9 leaves ----
mkdir -p "$work/metrics"
cat >"$work/etc/policy.json" <<EOF
{ "version": 1, "default_stream_action": "block",
  "metrics": { "path": "$work/metrics/pkvm.prom", "interval_s": 60 } }
EOF
stop_daemon KILL
printf '{ "version": 1,' >"$work/state/.policy.json.Ab12Cd"
echo outside >"$work/target"
ln -s "$work/target" "$work/state/.policy.json.Lnk123"
# The metrics file's own temp files, and names that only look like them.
printf 'pkvm_iommu_up 1\n' >"$work/metrics/.pkvm.prom.Qr56St"
ln -s "$work/target" "$work/metrics/.pkvm.prom.Lnk456"
: >"$work/metrics/.pkvm.prom.short"
: >"$work/metrics/.other.prom.Qr56St"
start_daemon
check daemon-restarts $? "after kill -9, with a temp file left in the state directory"
[[ ! -e $work/state/.policy.json.Ab12Cd && -L $work/state/.policy.json.Lnk123 &&
	-f $work/target ]]
check stale-temp-removed $? "$(cd "$work/state" && ls -A | tr '\n' ' ')"
grep -q "removed 1 temp file an interrupted write left" "$work/daemon.log"
check stale-temp-logged $? "$(grep -o 'removed [0-9]* temp file[^,]*' "$work/daemon.log" | tail -1)"
# The first write follows the cleaning: wait for the file (bounded).
for _ in $(seq 100); do [[ -s $work/metrics/pkvm.prom ]] && break; sleep 0.1; done
[[ ! -e $work/metrics/.pkvm.prom.Qr56St && -L $work/metrics/.pkvm.prom.Lnk456 &&
	-e $work/metrics/.pkvm.prom.short && -e $work/metrics/.other.prom.Qr56St &&
	-s $work/metrics/pkvm.prom ]]
check metrics-stale-temp-removed $? "$(cd "$work/metrics" && ls -A | tr '\n' ' ')"
grep -q "metrics: $work/metrics: removed 1 temp file an interrupted write left" "$work/daemon.log"
check metrics-stale-temp-logged $? "$(grep -o 'metrics: [^ ]*: removed [0-9]* temp file[^,]*' "$work/daemon.log" | tail -1)"
stop_daemon

checks_finish
