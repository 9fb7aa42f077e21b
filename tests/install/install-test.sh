#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# install-test.sh MESON BUILDDIR SRCDIR POLICY_CHECK: `meson install` of
# BUILDDIR into a DESTDIR, then what a Debian system would do with the
# files: the exact file list, systemd-analyze verify and security on the
# installed unit, a system-bus dbus-daemon on the installed bus policy
# with the installed daemon on it, the polkit action and the default
# policy file. One "ok - NAME: ..." / "not ok - NAME: ..." line per check.
set -uo pipefail
meson=$1 build=$2 src=$3 policy_check=$4
here=$src/tests/install
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"
checks_init pkvm-install-test
dest=$work/dest
dpid='' npid=''
finish() { checks_finish; }

# ---- meson install -------------------------------------------------------

for tool in systemd-analyze:systemd dbus-daemon:dbus dbus-send:dbus busctl:systemd \
	setpriv:util-linux; do
	command -v "${tool%%:*}" >/dev/null
	check "tool-${tool%%:*}" $? "${tool%%:*} present (Debian package ${tool#*:}, see ./dev deps)"
done
((fail == 0)) || finish

# The expected list is Debian's layout, which needs prefix /usr (sysconfdir
# /etc follows): the project's default, but a build directory set up before
# that default keeps what it had.
opts=$("$meson" introspect "$build" --buildoptions | python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o["prefix"], o["sysconfdir"])')
if [[ $opts == "/usr /etc" ]]; then
	check layout 0 "prefix and sysconfdir of $build: $opts"
else
	check layout 1 "prefix and sysconfdir of $build: $opts, want /usr /etc; fix with:
	meson configure $build -Dprefix=/usr -Dsysconfdir=/etc -Dlocalstatedir=/var"
	finish
fi

out=$("$meson" install -C "$build" --destdir "$dest" --no-rebuild --quiet 2>&1)
rc=$?
check meson-install $rc "meson install --destdir into $dest${out:+: $out}"
((rc == 0)) || finish

# ---- the file list --------------------------------------------------------

(cd "$dest" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort) >"$work/installed"
diff=$(LC_ALL=C diff "$here/expected-files.txt" "$work/installed" |
	sed -n 's/^< /missing: /p; s/^> /unexpected: /p')
[[ -z $diff ]]
check file-list $? "$(wc -l <"$work/installed") files, exactly tests/install/expected-files.txt${diff:+
$diff}"

# A page added to man/ but not to man/meson.build's list.
for page in "$src"/man/*.[1-8]; do
	name=$(basename "$page")
	f=$dest/usr/share/man/man${name##*.}/$name
	cmp -s "$page" "$f"
	check "man-installed-$name" $? "$f is man/$name"
done

unit=$dest/lib/systemd/system/pkvm-iommud.service
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[[ $exec_start == /usr/sbin/pkvm-iommud && -x $dest$exec_start ]]
check exec-start $? "ExecStart=$exec_start, installed and executable"
v=$("$dest$exec_start" --version 2>&1)
[[ $v == "pkvm-iommud $("$meson" introspect "$build" --projectinfo |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')" ]]
check installed-daemon-runs $? "$exec_start --version: $v"

grep -qx 'SystemdService=pkvm-iommud.service' "$dest/usr/share/dbus-1/system-services/org.pkvm.Iommu1.service" &&
	[[ -f $dest/lib/systemd/system/pkvm-iommud.service ]]
check activation-unit $? "the D-Bus activation file names the installed unit"
grep -qx 'BusName=org.pkvm.Iommu1' "$unit"
check bus-name $? "the unit's BusName= is the daemon's name"

# ---- systemd-analyze -------------------------------------------------------

# The root systemd-analyze checks: this host's units (for sysinit.target,
# dbus.socket, ...) with the DESTDIR on top, as the host would look with the
# package installed. Commands the unit takes from the base system (kill)
# come from the host; ExecStart must come from the DESTDIR (checked above).
root=$work/root
mkdir -p "$root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
if [[ ! /lib/systemd/system -ef /usr/lib/systemd/system ]]; then	# not merged /usr
	mkdir -p "$root/lib/systemd"
	cp -a /lib/systemd/system "$root/lib/systemd/"
fi
cp -a "$dest/." "$root/"
for cmd in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit"); do
	if [[ ! -e $root$cmd && -x $cmd ]]; then
		mkdir -p "$root$(dirname "$cmd")"
		cp "$cmd" "$root$cmd"
	fi
done
# Documentation= pages must be the installed ones.
out=$(MANPATH=$dest/usr/share/man SYSTEMD_LOG_COLOR=0 systemd-analyze verify \
	--root="$root" pkvm-iommud.service 2>&1)
rc=$?
[[ $rc == 0 && -z $out ]]
check systemd-analyze-verify $? "exit $rc, ${out:-no warnings}"

# systemd 252's bands (src/analyze/analyze-security.c, exposure x10):
# PERFECT 0, SAFE 1..9, OK 10..49, MEDIUM 50..74, EXPOSED 75..89,
# UNSAFE 90..99, DANGEROUS 100. --threshold=49 fails anything above OK.
out=$(LC_ALL=C systemd-analyze security --offline=yes --threshold=49 --no-pager \
	--root="$root" pkvm-iommud.service 2>&1)
rc=$?
line=$(grep -o 'Overall exposure level for pkvm-iommud.service: [0-9.]* [A-Z]*' <<<"$out")
score=$(awk '{ print $(NF-1) }' <<<"$line")
rating=$(awk '{ print $NF }' <<<"$line")
echo "# systemd-analyze security pkvm-iommud.service: $score $rating"
[[ $rc == 0 && $score =~ ^[0-4]\.[0-9]$ && $rating =~ ^(OK|SAFE|PERFECT)$ ]]
check systemd-analyze-security $? "exposure $score $rating (exit $rc; OK or better is below 5.0)"
[[ $rc == 0 ]] || echo "$out"

# ---- polkit and the default policy ----------------------------------------

# The action the daemon asks polkit for, as the source defines it (common/).
action=$(sed -n 's/^#define DAEMON_POLKIT_ACTION[[:space:]]*"\([^"]*\)".*/\1/p' "$src/common/bus_names.h")
grep -q 'DAEMON_POLKIT_ACTION' "$src/daemon/bus_auth.c"
check polkit-action-used $? "bus_auth.c asks for DAEMON_POLKIT_ACTION = '$action'"
out=$(python3 - "$dest/usr/share/polkit-1/actions/org.pkvm.iommu1.policy" "$action" <<'PY' 2>&1
import sys
import xml.etree.ElementTree as ET
path, want = sys.argv[1], sys.argv[2]
root = ET.parse(path).getroot()
assert root.tag == "policyconfig", f"root element {root.tag}, not policyconfig"
ids = [a.get("id") for a in root.findall("action")]
assert ids == [want], f"actions {ids}, want [{want!r}]"
a = root.find("action")
assert a.findtext("description") and a.findtext("message"), "description and message needed"
auth = ("no", "yes", "auth_self", "auth_admin", "auth_self_keep", "auth_admin_keep")
d = {e.tag: e.text for e in a.find("defaults")}
assert all(v in auth for v in d.values()), f"bad defaults {d}"
assert d.get("allow_active") == "auth_admin_keep", f"allow_active {d.get('allow_active')}"
print(f"{ids[0]}: {d}")
PY
)
check polkit-action $? "$out"

out=$("$policy_check" --defaults "$dest/etc/pkvm-iommu/policy.json" 2>&1 >/dev/null)
check default-policy $? "/etc/pkvm-iommu/policy.json parses and equals the daemon's defaults${out:+: $out}"
out=$("$dest/usr/bin/pkvm-iommuctl" policy check "$dest/etc/pkvm-iommu/policy.json" 2>&1)
rc=$?
[[ $rc == 0 && $out == "$dest/etc/pkvm-iommu/policy.json: valid" ]]
check default-policy-ctl $? "installed pkvm-iommuctl policy check: exit $rc, $out"

# ---- the installed bus policy on a system bus ------------------------------

# system.conf's default policy (deny own, deny method calls, ...) with the
# DESTDIR's system.d and system-services instead of the host's.
busconf() {	# busconf SOCKET [INCLUDE-DESTDIR]
	cat <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$1</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
${2:+  <servicedir>$dest/usr/share/dbus-1/system-services</servicedir>
  <includedir>$dest/usr/share/dbus-1/system.d</includedir>}
</busconfig>
EOF
}

start_bus() {	# start_bus NAME [INCLUDE] -> pid in $REPLY
	busconf "$work/$1" "${2:-}" >"$work/$1.conf"
	dbus-daemon --config-file="$work/$1.conf" --nofork --nopidfile 2>>"$work/dbus.log" &
	REPLY=$!
	reap "$REPLY"
	wait_for 30 test -S "$work/$1"
	chmod 666 "$work/$1"
}

chmod 755 "$work"
dbus_call() {	# dbus_call ADDRESS busctl-call-args: the bus driver itself
	local addr=$1
	shift
	busctl --address="$addr" --timeout=5 call org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus "$@"
}
# dbus-send, not busctl, where the error text matters: busctl prints every
# AccessDenied as "Access denied", hiding who refused (the bus or the daemon).
send=(dbus-send --print-reply --reply-timeout=5000)
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# Control: the same bus without the installed files refuses the name to root.
start_bus control
cpid=$REPLY
out=$("${send[@]}" --bus="unix:path=$work/control" --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.RequestName string:org.pkvm.Iommu1 uint32:4 2>&1)
[[ $out == *"not allowed to own"* ]]
check control-bus $? "without the installed policy root may not own it: ${out:0:90}"
kill "$cpid"
wait "$cpid" 2>/dev/null

start_bus bus include
addr=unix:path=$work/bus
dbus_call "$addr" GetId >/dev/null 2>&1
rc=$?
check dbus-daemon-loads $rc "dbus-daemon (system bus) with $dest/usr/share/dbus-1/system.d$(
	((rc)) && echo ": $(cat "$work/dbus.log")")"
out=$(dbus_call "$addr" ListActivatableNames 2>&1)
[[ $out == *'"org.pkvm.Iommu1"'* ]]
check activatable $? "org.pkvm.Iommu1 in ListActivatableNames (from system-services/)"

out=$("${nobody[@]}" "${send[@]}" --bus="$addr" --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	org.freedesktop.DBus.RequestName string:org.pkvm.Iommu1 uint32:4 2>&1)
[[ $out == *"not allowed to own"* ]]
check nobody-cannot-own $? "uid 65534 RequestName org.pkvm.Iommu1: ${out:0:90}"

# What systemd would hear from the daemon (Type=notify, WatchdogSec=).
python3 - "$work/notify" "$work/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "w", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace").replace("\n", " | ") + "\n")
PY
npid=$!
reap "$npid"
wait_for 30 test -S "$work/notify"

daemon=$dest/usr/sbin/pkvm-iommud
M=(org.pkvm.Iommu1 /org/pkvm/Iommu1 org.pkvm.Iommu1.Manager)
NOTIFY_SOCKET=$work/notify WATCHDOG_USEC=200000 \
	start_daemon --policy="$dest/etc/pkvm-iommu/policy.json"
owner=$(dbus_call "$addr" GetNameOwner s org.pkvm.Iommu1 2>&1 | sed -n 's/^s "\(.*\)"$/\1/p')
uid=$(dbus_call "$addr" GetConnectionUnixUser s "$owner" 2>&1)
[[ -n $owner && $uid == "u 0" ]]
check root-owns $? "the installed pkvm-iommud owns org.pkvm.Iommu1 as ${owner:-nobody} ($uid)$(
	[[ -z $owner ]] && echo ": $(tail -3 "$work/daemon.log")")"

# Polled, not slept: a loaded machine may delay the daemon's timer.
v=$(grep -m1 '^READY=1 | STATUS=sim backend' "$work/notify.log")
check notify-ready $? "on \$NOTIFY_SOCKET: ${v:0:70}"
t0=$(date +%s%N)
pings() {
	n=$(grep -c '^WATCHDOG=1$' "$work/notify.log")
	((n >= $1))
}
wait_for 30 pings 3
ms=$((($(date +%s%N) - t0) / 1000000))
((n >= 3))
check watchdog $? "$n WATCHDOG=1 pings for a 0.2 s WATCHDOG_USEC (waited $ms ms)"
kill -HUP "$dpid"
reloaded() {
	v=$(grep -E '^(RELOADING|READY)=1' "$work/notify.log" | tail -2 | cut -d' ' -f1 | tr '\n' ' ')
	[[ $v == "RELOADING=1 READY=1 " ]]
}
wait_for 30 reloaded
[[ $v == "RELOADING=1 READY=1 " ]] && kill -0 "$dpid"
check reload-sighup $? "ExecReload's SIGHUP: the last reports are $v(still running)"

v=$("${nobody[@]}" busctl --address="$addr" --timeout=5 get-property "${M[@]}" SplitPolicy 2>&1)
[[ $v == 's "auto"' ]]
check nobody-reads $? "uid 65534 reads SplitPolicy = $v (the installed policy's)"
v=$("${nobody[@]}" busctl --address="$addr" --timeout=5 call "${M[@]}" GetCounters 2>&1)
[[ $v == *'"events_ingested"'* ]]
check nobody-calls $? "uid 65534 calls GetCounters: ${v:0:60}..."
# Changes reach the daemon, which refuses them itself (no polkit here) ...
v=$("${nobody[@]}" "${send[@]}" --bus="$addr" --dest=org.pkvm.Iommu1 /org/pkvm/Iommu1 \
	org.pkvm.Iommu1.Manager.SetSplitPolicy string:bbm uint32:0 2>&1)
[[ $v == *"needs root, or the polkit action $action"* ]]
check nobody-refused-by-daemon $? "uid 65534 SetSplitPolicy: ${v:0:80}"
# ... while what no interface allows stops at the bus.
v=$("${nobody[@]}" "${send[@]}" --bus="$addr" --dest=org.pkvm.Iommu1 /org/pkvm/Iommu1 \
	org.freedesktop.DBus.Properties.Set string:org.pkvm.Iommu1.Manager \
	string:SplitPolicy variant:string:bbm 2>&1)
[[ $v == *"Rejected send message"* ]]
check nobody-set-denied-by-bus $? "uid 65534 Properties.Set: ${v:0:80}"
v=$(busctl --address="$addr" --timeout=5 call "${M[@]}" SetSplitPolicy su bbm 0 2>&1 &&
	busctl --address="$addr" --timeout=5 get-property "${M[@]}" SplitPolicy 2>&1)
[[ $v == 's "bbm"' ]]
check root-changes $? "root SetSplitPolicy bbm, then SplitPolicy = $v"

finish
