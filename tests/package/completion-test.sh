#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# completion-test.sh PKVM_IOMMUD PKVM_IOMMUCTL SRCDIR: the bash completion
# of pkvm-iommuctl (cli/completion/pkvm-iommuctl.bash) as bash runs it on
# <TAB>: COMP_LINE/COMP_POINT/COMP_WORDS set, the function called, COMPREPLY
# compared. Commands, subcommands and options from the words alone; SMMU
# indexes, stream ids and owners from pkvm-iommud on the simulation backend
# on a private dbus-daemon (a policy naming streams 3 and 8, a donation to
# owner 3), reached through the --bus of the line being completed. One
# "ok - NAME: ..." / "not ok - NAME: ..." line per check.
set -uo pipefail
daemon=$1
ctl_bin=$2
src=$3
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"
checks_init pkvm-completion-test
failure_logs=("$work/daemon.log")
dpid=''

private_bus
mkdir -p "$work/etc" "$work/bin"
cat >"$work/etc/policy.json" <<'EOF'
{ "version": 1, "default_stream_action": "block",
  "streams": [ { "sid": 8, "action": "isolate" }, { "sid": 3, "action": "block" } ] }
EOF
start_daemon
check daemon $? "pkvm-iommud (sim backend) on $addr"
"${B[@]}" call "${M[@]}" Donate ttu 0x90000000 0x4000 3 >/dev/null
check donate $? "Donate 0x90000000 0x4000 to owner 3 over D-Bus"
# The completion runs "pkvm-iommuctl" from PATH, as it would when installed.
ln -s "$ctl_bin" "$work/bin/pkvm-iommuctl"

# complete LINE: COMPREPLY for the cursor at the end of LINE, sorted, one
# line, in $got; bash splits COMP_WORDS itself (at '=' too).
complete_line() {
	got=$(PATH=$work/bin:$PATH bash -c '
		. "$1"
		COMP_LINE=$2 COMP_POINT=${#2}
		read -ra COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_pkvm_iommuctl
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' _ \
		"$src/cli/completion/pkvm-iommuctl.bash" "$1" 2>&1)
	got=${got% }
}
# want NAME LINE EXPECTED
want() {
	complete_line "$2"
	[[ $got == "$3" ]]
	check "$1" $? "'$2<TAB>' -> '$got'$( [[ $got == "$3" ]] || echo ", want '$3'")"
}

bus="--bus=$addr"
want commands "pkvm-iommuctl " "donations help map metrics monitor policy smmus stats status streams"
want command-prefix "pkvm-iommuctl st" "stats status streams"
want policy "pkvm-iommuctl policy " "check reload set show"
want help-command "pkvm-iommuctl help po" "policy"
want options "pkvm-iommuctl --" "--bus= --help --json --json= --no-auto-start --no-legend --version"
want donations-options "pkvm-iommuctl donations --" "--bus= --help --history --json --json= --no-auto-start --no-legend --owner= --version"
want json-values "pkvm-iommuctl --json=" "pretty short"
want bus-values "pkvm-iommuctl --bus=s" "session system"
want set-what "pkvm-iommuctl policy set " "fold split stream"
want fold-modes "pkvm-iommuctl policy set fold " "eager lazy"
want map-options "pkvm-iommuctl map --" "--bus= --help --json --json= --no-auto-start --no-legend --version --width="
want split-modes "pkvm-iommuctl policy set split " "auto bbm hitless presplit"
want presplit-levels "pkvm-iommuctl policy set split presplit " "1 2 3"
want smmu-ids "pkvm-iommuctl $bus policy set stream " "0"
want stream-ids "pkvm-iommuctl $bus policy set stream 0 " "3 8"
want stream-ids-prefix "pkvm-iommuctl $bus policy set stream 0 8" "8"
want stream-actions "pkvm-iommuctl $bus policy set stream 0 8 " "block isolate"
want owners "pkvm-iommuctl $bus donations --owner=" "0 1 3"
want no-daemon-no-ids "pkvm-iommuctl --bus=unix:path=$work/none policy set stream 0 " ""
touch "$work/etc/other.json"
want check-files "pkvm-iommuctl policy check $work/etc/" "$work/etc/other.json $work/etc/policy.json"

# Completion never starts a stopped daemon. A second private bus whose
# activation file for org.pkvm.Iommu1 only leaves a mark: the CLI without
# --no-auto-start must leave it (the activation is real), completion not.
mkdir -p "$work/services"
printf '#!/bin/sh\necho started >>"%s/activated"\n' "$work" >"$work/activate.sh"
chmod +x "$work/activate.sh"
printf '[D-BUS Service]\nName=org.pkvm.Iommu1\nExec=%s/activate.sh\n' "$work" \
	>"$work/services/org.pkvm.Iommu1.service"
sed -e "s|unix:path=$work/bus<|unix:path=$work/bus2<|" \
	-e "s|<auth>EXTERNAL</auth>|<auth>EXTERNAL</auth><servicedir>$work/services</servicedir>|" \
	"$work/bus.conf" >"$work/bus2.conf"
dbus-daemon --config-file="$work/bus2.conf" --nofork --nopidfile >"$work/bus2.log" 2>&1 &
reap $!
wait_for 10 test -S "$work/bus2"
check activation-bus $? "a second private dbus-daemon with an activation file, at $work/bus2"
want no-activation "pkvm-iommuctl --bus=unix:path=$work/bus2 policy set stream " ""
[[ ! -e $work/activated ]]
check completion-starts-nothing $? "after completing stream ids: $([[ -e $work/activated ]] && echo "the activation ran" || echo "no activation")"
"$ctl_bin" --bus="unix:path=$work/bus2" --no-auto-start status >/dev/null 2>"$work/noauto.err"
rc=$?
[[ $rc == 3 && ! -e $work/activated ]] && grep -q -- '--no-auto-start' "$work/noauto.err"
check no-auto-start-exit $? "status --no-auto-start: exit $rc (want 3): $(head -c 200 "$work/noauto.err"); $([[ -e $work/activated ]] && echo "activation ran" || echo "no activation")"
timeout 20 "$ctl_bin" --bus="unix:path=$work/bus2" status >/dev/null 2>&1
wait_for 10 test -e "$work/activated"
check activation-real $? "status without --no-auto-start: the activation ran (so the setup does activate)"

checks_finish
