#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# policy-hostile.sh PKVM_IOMMUD PKVM_IOMMUCTL: policy files a hostile user
# or a bad day leaves at the daemon's policy path (issue 14), against
# pkvm-iommud on the simulation backend on a private dbus-daemon:
#   - a document that is only null: refused by "policy check" and by
#     ReloadPolicy, the policy in force unchanged;
#   - invalid UTF-8 (overlong, surrogate, cut, above U+10FFFF) in
#     metrics.path and in a key: ReloadPolicy answers within 5 s with an
#     error naming the JSON path, its text strict UTF-8; "policy check
#     --json" prints strict UTF-8; GetPolicy and "policy show" keep working;
#   - a FIFO at the policy path: ReloadPolicy answers within 5 s, refusing
#     a file that is not regular, and the daemon keeps serving;
#   - a --policy path that is not UTF-8: a second daemon refuses to start,
#     naming the option and showing the path escaped.
# Prints "ok - NAME: DETAIL" / "not ok - NAME: DETAIL" per check (bytes
# that are not UTF-8 in a detail shown by cat -v) and "N passed, N failed".
set -uo pipefail
daemon=$1
ctl_bin=$2
# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
checks_init pkvm-policy-hostile
failure_logs=("$work/daemon.log")
dpid=''
private_bus
C=("$ctl_bin" --bus="$addr")
policy=$work/etc/policy.json

mkdir -p "$work/etc" "$work/state"
good() {
	cat >"$policy" <<EOF
{ "version": 1, "default_stream_action": "isolate",
  "streams": [ { "sid": 8, "action": "isolate" } ],
  "split_policy": { "mode": "bbm" },
  "metrics": { "path": "$work/m.prom", "interval_s": 60 } }
EOF
}
good
start_daemon
check daemon-starts $? "pkvm-iommud --backend=sim with split bbm, default isolate, sid 8 isolate"
[[ -n $dpid ]] || checks_finish

# strict_utf8 FILE: the file decodes as strict UTF-8 (Python refuses
# overlongs, surrogates and code points above U+10FFFF) without a C0 control
# other than newline and tab; prints why not.
strict_utf8() {
	python3 - "$1" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
try:
    t = b.decode("utf-8", errors="strict")
except UnicodeDecodeError as e:
    print("not UTF-8: %s" % e)
    sys.exit(1)
bad = [c for c in t if ord(c) < 0x20 and c not in "\n\t"]
if bad:
    print("control characters: %r" % bad)
    sys.exit(1)
EOF
}

# The policy in force, by what the daemon says (one line, for details).
in_force() {
	printf '%s %s %s' \
		"$("${B[@]}" get-property "${M[@]}" SplitPolicy)" \
		"$("${B[@]}" get-property "${M[@]}" DefaultStreamAction)" \
		"$("${B[@]}" get-property org.pkvm.Iommu1 /org/pkvm/Iommu1/smmu0/stream8 \
			org.pkvm.Iommu1.Stream Policy)"
}
want_force='s "bbm" s "isolate" s "isolate"'
v=$(in_force)
[[ $v == "$want_force" ]]; check policy-at-start $? "$v"

# reload NAME: ReloadPolicy with a 5 s bound; $rc, $ms, the reply in
# $work/NAME.reply (busctl's stderr: the error text).
reload() {
	local t0
	t0=$(date +%s%N)
	timeout 10 "${B[@]}" --timeout=5 call "${M[@]}" ReloadPolicy >"$work/$1.reply" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
}

# ---- defect 1: a document that is only null ----
printf 'null\n' >"$policy"
"${C[@]}" policy check "$policy" >"$work/null.out" 2>"$work/null.err"
rc=$?
((rc == 5)) && grep -qF "$policy: \$: expected an object, got null" "$work/null.err"
check null-check $? "policy check: exit $rc, $(head -c 120 "$work/null.err" | cat -v)"
reload null
((rc != 0 && rc != 124)) && grep -qF 'expected an object, got null' "$work/null.reply"
check null-reload-refused $? "exit $rc in $ms ms: $(head -c 120 "$work/null.reply" | cat -v)"
v=$(in_force)
[[ $v == "$want_force" ]]; check null-keeps-policy $? "$v"

# ---- defects 3 and 4: invalid UTF-8 in metrics.path and in a key ----
declare -A bad=(
	[overlong]='\xc0\xaf' [surrogate]='\xed\xa0\x80'
	[truncated]='\xe2\x82' [above-10ffff]='\xf4\x90\x80\x80'
)
for name in overlong surrogate truncated above-10ffff; do
	# shellcheck disable=SC2059 # the format is the bytes
	printf "{ \"version\": 1, \"metrics\": { \"path\": \"$work/x${bad[$name]}.prom\" } }\n" >"$policy"
	reload "$name"
	grep -q 'InvalidPolicy\|invalid utf-8' "$work/$name.reply" &&
		grep -qF '$.metrics.path: ' "$work/$name.reply" && grep -q 'byte offset' "$work/$name.reply" &&
		((rc != 0 && rc != 124 && ms < 5000))
	check "reload-$name-answers" $? "exit $rc in $ms ms: $(strict_utf8 "$work/$name.reply" &&
		head -c 150 "$work/$name.reply" | cat -v)"
	out=$(strict_utf8 "$work/$name.reply")
	check "reload-$name-error-utf8" $? "error text is strict UTF-8 ${out}"
	"${C[@]}" --json policy check "$policy" >"$work/$name.json" 2>&1
	rc=$?
	out=$(strict_utf8 "$work/$name.json") &&
		python3 -c 'import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
assert j["valid"] is False and j["errors"][0].startswith("$.metrics.path: "), j' "$work/$name.json"
	check "check-json-$name-utf8" $? "exit $rc: $(head -c 150 "$work/$name.json" | tr '\n' ' ' | cat -v) $out"
	((rc == 5)); check "check-json-$name-exit" $? "exit $rc"
done
# A file name that is not UTF-8 either: --json escapes it.
odd=$work/$'\xff\x1b'.json
printf '{ "version": 1 }\n' >"$odd"
"${C[@]}" --json policy check "$odd" >"$work/odd.json" 2>&1
rc=$?
out=$(strict_utf8 "$work/odd.json") &&
	python3 -c 'import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
assert j["valid"] is True and j["file"] == sys.argv[2] + "/\\xff\\u001b.json", j' "$work/odd.json" "$work"
check check-json-odd-name $? "exit $rc: $(head -c 120 "$work/odd.json" | cat -v) $out"
printf '{ "version": 1, "\xed\xa0\x80": 1, "fold": { "x\xc0\xaf": 1 } }\n' >"$policy"
reload key
grep -qF '$: line 1, column ' "$work/key.reply" && grep -qF '$.fold: line 1, column ' "$work/key.reply" &&
	strict_utf8 "$work/key.reply" && ((rc != 0 && rc != 124))
check reload-bad-keys $? "exit $rc in $ms ms: $(strict_utf8 "$work/key.reply" && head -c 200 "$work/key.reply" | cat -v)"
"${C[@]}" policy show >"$work/show.out" 2>&1
rc=$?
((rc == 0)) && grep -qF "Metrics: $work/m.prom every 60 s" "$work/show.out"
check show-after-bad-utf8 $? "policy show: exit $rc, $(grep Metrics "$work/show.out")"
"${B[@]}" --json=short call "${M[@]}" GetPolicy >"$work/getpolicy.json" 2>&1
python3 -c 'import json, sys
p = json.loads(json.load(open(sys.argv[1], encoding="utf-8"))["data"][0])
assert p["metrics"]["path"] == sys.argv[2], p["metrics"]' "$work/getpolicy.json" "$work/m.prom"
check getpolicy-after-bad-utf8 $? "GetPolicy: metrics.path still $work/m.prom"
v=$(in_force)
[[ $v == "$want_force" ]]; check bad-utf8-keeps-policy $? "$v"

# ---- defect 8: a FIFO at the policy path ----
rm -f "$policy"
mkfifo "$policy"
reload fifo
((rc != 0 && rc != 124 && ms < 5000)) && grep -qF "$policy: not a regular file (a FIFO)" "$work/fifo.reply"
check fifo-reload-answers $? "exit $rc in $ms ms: $(head -c 150 "$work/fifo.reply" | cat -v)"
# Not the content's fault: exit 1 from the CLI (PolicyUnreadable), not 5.
timeout 10 "${C[@]}" policy reload >"$work/fifo.ctl" 2>&1
rc=$?
((rc == 1)) && grep -qF "$policy: not a regular file (a FIFO)" "$work/fifo.ctl"
check fifo-reload-unreadable $? "policy reload: exit $rc, $(head -c 200 "$work/fifo.ctl" | cat -v)"
# The file named once: the message of a read error already names it.
n=$(grep -oF "$policy" "$work/fifo.reply" | wc -l)
((n == 1)); check fifo-reload-names-file-once $? "$n times in: $(head -c 200 "$work/fifo.reply" | cat -v)"
out=$("${B[@]}" --timeout=5 get-property "${M[@]}" Backend 2>&1)
[[ $out == 's "sim"' ]]; check fifo-daemon-serves $? "Backend after: $out"
timeout 10 "${C[@]}" policy check "$policy" >"$work/fifo.out" 2>&1
rc=$?
((rc == 1)) && grep -qF "not a regular file (a FIFO)" "$work/fifo.out"
check fifo-check $? "policy check: exit $rc, $(head -c 120 "$work/fifo.out" | cat -v)"
# A daemon stuck in a blocking open (the defect) is released by a writer,
# so the rest runs and the daemon stops; a fixed one has no reader there
# and the non-blocking open fails at once (ENXIO).
python3 -c 'import os, sys
try:
    os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK))
except OSError:
    pass' "$policy"
v=$(in_force)
[[ $v == "$want_force" ]]; check fifo-keeps-policy $? "$v"
rm -f "$policy"
good
reload good
((rc == 0)); check reload-good-after $? "exit $rc in $ms ms"

# A policy path that is not UTF-8 cannot travel as PolicyPath: refused at
# start, before the bus (the running daemon keeps its name), named escaped.
odd=$work/etc/$'\xff'.json
cp "$policy" "$odd"
timeout 10 "$daemon" --backend=sim --bus="$addr" --policy="$odd" --state-dir="$work/state" \
	>"$work/odd-start.out" 2>&1
rc=$?
((rc != 0 && rc != 124)) &&
	grep -qF "pkvm-iommud: --policy: '$work/etc/\xff.json' is not printable UTF-8" "$work/odd-start.out" &&
	strict_utf8 "$work/odd-start.out"
check odd-policy-path-refused $? "exit $rc: $(head -c 160 "$work/odd-start.out" | cat -v)"
v=$(in_force)
[[ $v == "$want_force" ]]; check odd-path-first-daemon-serves $? "$v"

stop_daemon
checks_finish
