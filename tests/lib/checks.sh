# shellcheck shell=bash
# Shared by the shell tests (tests/daemon, tests/cli, tests/install): one
# "ok - NAME: DETAIL" / "not ok - NAME: DETAIL" line per check, a summary
# "N passed, N failed", a work directory and the processes a test started,
# both removed at exit whatever happens, and a private dbus-daemon.
#
# Source it, then: checks_init PREFIX   (sets $work)
#                  check NAME EXIT-STATUS DETAIL
#                  reap PID              (killed at exit)
#                  private_bus           (sets $addr, B=(busctl ...), M=(...);
#                                         or bus_config, then bus_start)
#                  wait_for SECONDS CMD...  (poll CMD until it succeeds)
#                  start_daemon [ARG...] (pkvm-iommud on $addr; sets $dpid)
#                  stop_daemon
#                  wait_daemon           (until the Manager answers)
#                  checks_finish         (summary; exit 1 on any failure)
#
# Waits are for conditions, with deadlines generous enough for a machine
# several times slower or busier than the one a test was written on: a
# slow machine only makes a wait longer, never changes its outcome.

pass=0
fail=0
work=
reaped=()
# Printed on failure by checks_finish: logs worth reading.
failure_logs=()

checks_cleanup() {
	local pid
	for pid in "${reaped[@]}"; do
		kill -9 "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	[[ -n $work ]] && rm -rf "$work"
}

checks_init() {	# checks_init PREFIX
	work=$(mktemp -d "/tmp/$1.XXXXXX")
	trap checks_cleanup EXIT
}

reap() {	# reap PID...
	reaped+=("$@")
}

check() {	# check NAME EXIT-STATUS DETAIL
	if [[ $2 == 0 ]]; then
		echo "ok - $1: $3"
		pass=$((pass + 1))
	else
		echo "not ok - $1: $3"
		fail=$((fail + 1))
	fi
}

checks_finish() {
	local f
	echo "$pass passed, $fail failed"
	if ((fail)); then
		for f in "${failure_logs[@]}"; do
			[[ -f $f ]] || continue
			echo "--- $f" >&2
			tail -n 40 "$f" >&2
		done
		exit 1
	fi
	exit 0
}

# A bus anyone on this machine may use, so an unprivileged client is
# refused by the daemon itself rather than by the bus. bus_config only
# writes its configuration and sets $addr, B and M (a test may first check
# what happens with no bus); bus_start starts it; private_bus does both.
bus_config() {
	cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
	chmod 755 "$work"
	addr=unix:path=$work/bus
	B=(busctl --address="$addr")
	M=(org.pkvm.Iommu1 /org/pkvm/Iommu1 org.pkvm.Iommu1.Manager)
}

# wait_for SECONDS CMD...: CMD every 0.1 s until it succeeds (status 0) or
# SECONDS have passed (status 1).
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

bus_start() {
	dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile 2>/dev/null &
	reap $!
	wait_for 30 test -S "$work/bus"
	chmod 666 "$work/bus"
}

private_bus() {
	bus_config
	bus_start
}

manager_answers() {
	busctl --address="$addr" --timeout=5 get-property "${M[@]}" Backend >/dev/null 2>&1
}

wait_daemon() {	# wait_daemon: 0 once the Manager answers, 1 after 60 s
	wait_for 60 manager_answers
}

# start_daemon [ARG...]: $daemon (the test's pkvm-iommud) on the simulation
# backend on $addr, with $work/etc/policy.json and the state in $work/state
# (a later --policy among ARGs wins), its output appended to
# $work/daemon.log; $dpid is its pid. Returns wait_daemon's status.
start_daemon() {
	# shellcheck disable=SC2154 # $daemon is the sourcing test's
	mkdir -p "$work/state"
	"$daemon" --backend=sim --bus="$addr" --policy="$work/etc/policy.json" \
		--state-dir="$work/state" "$@" >>"$work/daemon.log" 2>&1 &
	dpid=$!
	reap "$dpid"
	wait_daemon
}

stop_daemon() {	# stop_daemon [SIGNAL]: the daemon of start_daemon, waited for
	kill "-${1:-TERM}" "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	dpid=
}
