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
#                  wait_daemon           (until the Manager answers)
#                  checks_finish         (summary; exit 1 on any failure)

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

bus_start() {
	dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile 2>/dev/null &
	reap $!
	for _ in $(seq 50); do [[ -S $work/bus ]] && break; sleep 0.1; done
	chmod 666 "$work/bus"
}

private_bus() {
	bus_config
	bus_start
}

wait_daemon() {	# wait_daemon: 0 once the Manager answers, 1 after 10 s
	for _ in $(seq 100); do
		"${B[@]}" --timeout=1 get-property "${M[@]}" Backend >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
