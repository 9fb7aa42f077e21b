#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# bus-hostile.sh PKVM_IOMMUD FAKE_POLKIT BUS_FLOOD PKVM_IOMMUCTL: pkvm-iommud
# on the simulation backend, on a private dbus-daemon, against what a
# hostile local user or a bad day does to its D-Bus side (issue 14):
#   - a second daemon on the same bus exits at once, saying why, before it
#     opens a backend or writes anything; the first keeps serving;
#   - a flood of changing calls from one unprivileged user cannot make an
#     authorized caller be refused: the excess is org.pkvm.Iommu1.Error.Busy;
#   - every refusal of Donate/Reclaim/Share/Unshare has its documented
#     error name (org.pkvm.Iommu1(5)) and names the argument;
#   - when the dbus-daemon goes away the daemon exits 1 with one log line.
# Prints "ok - NAME: DETAIL" / "not ok - NAME: DETAIL" per check and
# "N passed, N failed".
set -uo pipefail
daemon=$1
fake_polkit=$2
bus_flood=$3
ctl=$4
# shellcheck source=../lib/checks.sh
. "$(dirname "$0")/../lib/checks.sh"
checks_init pkvm-bus-hostile
failure_logs=("$work/daemon.log" "$work/second.log" "$work/polkit.log" "$work/flood.out")
dpid='' ppid=''
private_bus
# bus_start reaped the dbus-daemon last: the bus-loss checks kill it.
bus_pid=${reaped[-1]}

mkdir -p "$work/etc" "$work/state" "$work/metrics"
cat >"$work/etc/policy.json" <<'EOF'
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" } ],
  "split_policy": { "mode": "auto" } }
EOF
# The second daemon's policy writes a metrics file at once if it ever runs.
cat >"$work/etc/second.json" <<EOF
{ "version": 1, "split_policy": { "mode": "bbm" },
  "metrics": { "path": "$work/metrics/second.prom", "interval_s": 1 } }
EOF

start_daemon --sim-workload=churn --sim-rate=100
check daemon-starts $? "the first pkvm-iommud serves org.pkvm.Iommu1"
first_pid=$dpid

# dsend METHOD ARG...: dbus-send's reply, "Error NAME: MESSAGE" on failure.
dsend() {
	local m=$1
	shift
	dbus-send --bus="$addr" --print-reply --reply-timeout=30000 --dest=org.pkvm.Iommu1 \
		/org/pkvm/Iommu1 "org.pkvm.Iommu1.Manager.$m" "$@" 2>&1
}

# ---- 5: a second daemon on the same bus
gone() { ! kill -0 "$1" 2>/dev/null; }
second() {	# second ARG...: a second pkvm-iommud on $addr; sets $rc, $secs
	local t0=$SECONDS pid
	"$daemon" --bus="$addr" --state-dir="$work/state" "$@" >"$work/second.log" 2>&1 &
	pid=$!
	reap "$pid"
	wait_for 20 gone "$pid"
	secs=$((SECONDS - t0))
	if gone "$pid"; then
		wait "$pid"
		rc=$?
	else
		rc=running
	fi
}
# What a write of the first daemon's has in flight: a daemon that starts
# removes such files as left by a crash, a second one must not.
: >"$work/state/.policy.json.AbC123"
second --backend=sim --policy="$work/etc/second.json"
msg=$(head -n1 "$work/second.log")
[[ $rc == 1 ]]; check second-exits $? "second daemon (sim): exit ${rc} after ${secs} s"
[[ $msg == *"org.pkvm.Iommu1 is already owned on the bus"*"pid $first_pid"* ]]
check second-says-why $? "${msg:0:140}"
! grep -q serving "$work/second.log"; check second-never-serves $? \
	"$(grep -c serving "$work/second.log") 'serving' line(s) in its log"
[[ ! -e $work/metrics/second.prom && -e $work/state/.policy.json.AbC123 ]]
check second-wrote-nothing $? "its policy's metrics file $(test -e "$work/metrics/second.prom" &&
	echo exists || echo 'was never written'), the first's temp file $(test -e "$work/state/.policy.json.AbC123" &&
	echo 'is still there' || echo 'was removed')"
# On the kernel backend, the name comes before the device: the message is
# about the name, not about a missing /dev/pkvm-iommu.
second --backend=kernel --device="$work/no-such-device" --policy="$work/etc/second.json"
msg=$(head -n1 "$work/second.log")
[[ $rc == 1 && $msg == *"already owned"* && $(wc -l <"$work/second.log") == 1 ]]
check second-kernel-before-backend $? "exit $rc, $(wc -l <"$work/second.log") line(s): ${msg:0:100}"
v=$("${B[@]}" get-property "${M[@]}" SplitPolicy 2>&1)
kill -0 "$first_pid" && [[ $v == 's "auto"' ]]
check first-untouched $? "the first daemon still serves, SplitPolicy $v"

# ---- 11: refusals of the test-mode ownership calls, named
# expect NAME WANT-ERROR WANT-TEXT METHOD ARG...: the call fails with
# WANT-ERROR and its message holds WANT-TEXT.
expect() {
	local name=$1 err=$2 text=$3 v
	shift 3
	v=$(dsend "$@" | tr '\n' ' ')
	[[ $v == "Error $err: "*"$text"* ]]; check "$name" $? "$1 ${*:2}: ${v:0:150}"
}
t=uint64 o=uint32
expect err-owner-zero org.freedesktop.DBus.Error.InvalidArgs "owner 0:" \
	Donate $t:0x90000000 $t:0x4000 $o:0
expect err-owner-big org.freedesktop.DBus.Error.InvalidArgs "owner 65536:" \
	Donate $t:0x90000000 $t:0x4000 $o:65536
expect err-addr-unaligned org.freedesktop.DBus.Error.InvalidArgs "addr 0x90000800:" \
	Donate $t:0x90000800 $t:0x1000 $o:3
expect err-len-zero org.freedesktop.DBus.Error.InvalidArgs "len 0:" \
	Donate $t:0x90000000 $t:0 $o:3
expect err-hole org.pkvm.Iommu1.Error.OutOfRange "0x100000000+0x1000:" \
	Donate $t:0x100000000 $t:0x1000 $o:3
expect err-beyond org.pkvm.Iommu1.Error.OutOfRange "beyond" \
	Donate $t:0xfffffffff000 $t:0x1000 $o:3
dsend Donate $t:0x90000000 $t:0x4000 $o:3 >/dev/null
check err-setup-donate $? "Donate 0x90000000+0x4000 to owner 3"
expect err-reclaim-owner org.pkvm.Iommu1.Error.WrongOwner "owner 3" \
	Reclaim $t:0x90000000 $t:0x4000 $o:4
expect err-reclaim-host org.pkvm.Iommu1.Error.WrongOwner "the host" \
	Reclaim $t:0x91000000 $t:0x1000 $o:3
expect err-donate-owned org.pkvm.Iommu1.Error.WrongOwner "owner 3" \
	Donate $t:0x90001000 $t:0x1000 $o:5
expect err-share-owned org.pkvm.Iommu1.Error.WrongOwner "owner 3" \
	Share $t:0x90000000 $t:0x1000
dsend Share $t:0x92000000 $t:0x1000 >/dev/null
check err-setup-share $? "Share 0x92000000+0x1000"
expect err-share-twice org.pkvm.Iommu1.Error.Shared "already shared" \
	Share $t:0x92000000 $t:0x1000
expect err-donate-shared org.pkvm.Iommu1.Error.Shared "shared" \
	Donate $t:0x92000000 $t:0x1000 $o:3
expect err-unshare-not org.pkvm.Iommu1.Error.NotShared "not shared" \
	Unshare $t:0x93000000 $t:0x1000
dsend Unshare $t:0x92000000 $t:0x1000 >/dev/null &&
	dsend Reclaim $t:0x90000000 $t:0x4000 $o:3 >/dev/null
check err-cleanup $? "Unshare and Reclaim what the checks changed"
v=$(setpriv --reuid=1 --regid=1 --clear-groups dbus-send --bus="$addr" --print-reply \
	--dest=org.pkvm.Iommu1 /org/pkvm/Iommu1 org.pkvm.Iommu1.Manager.Donate \
	$t:0x90000000 $t:0x1000 $o:3 2>&1 | tr '\n' ' ')
[[ $v == "Error org.freedesktop.DBus.Error.AccessDenied: "* ]]
check err-denied-stays $? "uid 1 without polkit: ${v:0:90}"

# ---- 6: a flood of changing calls from one unprivileged user
# polkit is stopped (SIGSTOP) while the flood comes, so its questions stay
# unanswered for as long as the checks need: before the fix they piled up
# to dbus-daemon's max_replies_per_connection (128) for the daemon's
# connection, and the next question, an authorized caller's, was refused.
# polkit DELAY-MS LOG: the fake authority (uid 65534 allowed), until ready.
polkit() {
	"$fake_polkit" "$addr" 65534 "$1" >"$2" 2>&1 &
	ppid=$!
	reap "$ppid"
	wait_for 30 grep -q ready "$2"
}
polkit_stop() {
	kill "$ppid"
	wait "$ppid" 2>/dev/null
	ppid=
}
polkit 100 "$work/polkit.log"
check polkit-up $? "fake polkit: uid 65534 authorized, 0.1 s an answer"
kill -STOP "$ppid"
setpriv --reuid=1 --regid=1 --clear-groups "$bus_flood" "$addr" 400 >"$work/flood.out" 2>&1 &
fpid=$!
reap "$fpid"
# The flood is in once dbus-daemon refused what the flooder may not have
# waiting (128, max_replies_per_connection): the rest reached the daemon.
outstanding() { sed -n 's/^outstanding //p' "$work/flood.out" | tail -n1; }
# shellcheck disable=SC2317 # called by wait_for
flood_in() { local k; k=$(outstanding); [[ -n $k ]] && ((k <= 128)); }
wait_for 30 flood_in
check flood-sent $? "uid 1 sent 400 SetSplitPolicy calls on one connection, $(outstanding) wait"
# The same user again, on another connection, while its questions wait:
# refused at once with the distinct error, which the CLI tells apart.
t0=$(date +%s%N)
v=$(setpriv --reuid=1 --regid=1 --clear-groups "$ctl" --bus="$addr" policy set split hitless 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
((rc == 6)) && [[ $v == *"busy"* ]]
check flood-same-user-busy $? "uid 1's CLI in $ms ms: exit $rc: ${v:0:120}"
# An authorized user: its question goes to polkit behind the flood's 8,
# and is answered once polkit runs again (before the fix: refused at once,
# the flood's 128 questions held the daemon's connection).
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"${B[@]}" --timeout=60 call "${M[@]}" SetSplitPolicy su hitless 0 >"$work/auth.out" 2>&1 &
apid=$!
reap "$apid"
# All of the flood refused but the user's share, which waits for polkit.
wait_for 30 grep -qx 'outstanding 8' "$work/flood.out"
[[ $(outstanding) == 8 ]]; check flood-held $? "the flood's calls still waiting for polkit: $(outstanding) (a user's share: 8)"
kill -CONT "$ppid"
wait "$apid"
rc=$?
v=$(cat "$work/auth.out")
s=$("${B[@]}" get-property "${M[@]}" SplitPolicy 2>&1)
((rc == 0)) && [[ $s == 's "hitless"' ]]
check flood-authorized-succeeds $? "uid 65534 (polkit: yes) during the flood: exit $rc ${v:+($v)}, SplitPolicy $s"
wait_for 60 gone "$fpid"
wait "$fpid"
frc=$?
# dbus-daemon itself refuses the flooder's calls past 128 waiting ones
# (LimitsExceeded); of those that reach the daemon, at most 8 (a user's
# share) are put to polkit, which says no, the others are Busy.
busy=$(sed -n 's/^reply org.pkvm.Iommu1.Error.Busy //p' "$work/flood.out")
denied=$(sed -n 's/^reply org.freedesktop.DBus.Error.AccessDenied //p' "$work/flood.out")
limits=$(sed -n 's/^reply org.freedesktop.DBus.Error.LimitsExceeded //p' "$work/flood.out")
((frc == 0 && ${busy:-0} > 0 && ${denied:-0} <= 8 &&
	${busy:-0} + ${denied:-0} + ${limits:-0} == 400)) && ! grep -q '^reply ok' "$work/flood.out"
check flood-refused-busy $? "the flood's 400 calls: ${busy:-0} Busy, ${denied:-0} AccessDenied (polkit: no), ${limits:-0} LimitsExceeded (the bus's own cap), none done, exit $frc"
n=$(grep -c 'polkit CheckAuthorization' "$work/daemon.log")
((n == 0)); check flood-polkit-not-overrun $? "$n failed polkit question(s) in the daemon's log"
polkit_stop
# Five users with 8 questions each, more than polkit is asked at once (32):
# the rest wait their turn in the daemon and are all answered, and an
# authorized caller's answer comes after theirs.
polkit 100 "$work/polkit2.log"
check polkit-fast-up $? "fake polkit: 0.1 s an answer"
fpids=()
for u in 2 3 4 5 6; do
	setpriv --reuid=$u --regid=$u --clear-groups "$bus_flood" "$addr" 8 \
		>"$work/flood$u.out" 2>&1 &
	fpids+=($!)
	reap $!
done
for u in 2 3 4 5 6; do
	wait_for 30 grep -q '^sent' "$work/flood$u.out"
done
v=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	"${B[@]}" --timeout=60 call "${M[@]}" SetSplitPolicy su bbm 0 2>&1)
rc=$?
s=$("${B[@]}" get-property "${M[@]}" SplitPolicy 2>&1)
((rc == 0)) && [[ $s == 's "bbm"' ]]
check queue-authorized-succeeds $? "uid 65534 behind 40 questions of 5 users: exit $rc ${v:+($v)}, SplitPolicy $s"
for p in "${fpids[@]}"; do
	wait_for 60 gone "$p"
done
n=$(cat "$work"/flood[2-6].out | grep -c '^reply org.freedesktop.DBus.Error.AccessDenied 8$')
q=$(grep -c ' -> ' "$work/polkit2.log")
((n == 5 && q == 41)); check queue-all-answered $? "$n of 5 users got polkit's 8 answers, polkit was asked $q times (want 41)"
polkit_stop

# ---- 12: the dbus-daemon goes away
lines=$(wc -l <"$work/daemon.log")
kill -9 "$bus_pid"
wait_for 10 gone "$first_pid"
check bus-lost-exits $? "pkvm-iommud $(gone "$first_pid" && echo exited || echo 'still runs') within 10 s of the bus's end"
if gone "$first_pid"; then
	wait "$first_pid"
	rc=$?
else
	rc=running
fi
after=$(tail -n +$((lines + 1)) "$work/daemon.log")
n=$(grep -c . <<<"$after")
[[ $rc == 1 ]]; check bus-lost-code $? "exit status $rc (systemd's Restart=on-failure restarts it)"
((n == 1)) && [[ $after == *"lost the D-Bus connection"* ]]
check bus-lost-one-line $? "$n log line(s) after the bus went: ${after:0:120}"
dpid=
checks_finish
