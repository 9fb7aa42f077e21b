#!/usr/bin/env bash
# check-man.sh SRCDIR: every page in man/ renders without a groff warning,
# every ioctl and netlink command of the uapi header is in pkvm_iommu(4), and
# every policy key the daemon's parser knows is in pkvm-iommu.json(5).
set -euo pipefail
src=$1
fail=0
for page in "$src"/man/*.[1-8]; do
	rc=0
	warn=$(LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null) || rc=$?
	if [[ -n $warn || $rc != 0 ]]; then
		echo "not ok - $(basename "$page") renders with warnings:"
		echo "$warn"
		fail=1
	else
		echo "ok - $(basename "$page") renders cleanly"
	fi
done
# Names as the page writes them: PKVM_IOMMU_IOC_RECLAIM may appear as _RECLAIM
# in a list that starts with the full name, so accept either form.
for name in $(grep -oE 'PKVM_IOMMU_(IOC|CMD)_[A-Z_]+' "$src/uapi/linux/pkvm_iommu.h" |
	grep -vE '_(MAGIC|UNSPEC|MAX)$' | sort -u); do
	short=_${name##PKVM_IOMMU_IOC_}
	[[ $name == PKVM_IOMMU_CMD_* ]] && short=_${name##PKVM_IOMMU_CMD_EVT_}
	if grep -qE "(^|[^A-Z_])(${name}|\\${short})([^A-Z_]|$)" "$src/man/pkvm_iommu.4"; then
		echo "ok - $name documented"
	else
		echo "not ok - $name missing from man/pkvm_iommu.4"
		fail=1
	fi
done
# The keys as the parser lists them for its unknown-key check (the
# NULL-terminated arrays of daemon/policy_schema.c), each the subject of a
# .B/.BR/.BI line of the page, as the KEYS section writes them.
keys=$(awk '/static const char \*const [a-z_]+\[\] = \{/ { on = 1 }
	on { print } on && /NULL *\};/ { on = 0 }' "$src/daemon/policy_schema.c" |
	grep -o '"[^"]*"' | tr -d '"' | sort -u)
if (($(wc -w <<<"$keys") < 10)); then
	echo "not ok - policy keys: found only '$keys' in daemon/policy_schema.c; has the parser changed shape?"
	fail=1
fi
for key in $keys; do
	if grep -qE "^\.(B|BR|BI) \"?${key}\"?( |$)" "$src/man/pkvm-iommu.json.5"; then
		echo "ok - policy key $key documented"
	else
		echo "not ok - policy key $key missing from man/pkvm-iommu.json.5"
		fail=1
	fi
done
# Every subcommand pkvm-iommuctl dispatches (the VERB() and SUBVERB() entries
# of cli/, as cli/ctl.h asks) and every long option of cli/main.c is the
# subject of a .B/.BR/.BI line of pkvm-iommuctl(1).
ctl_page=$(sed 's/\\-/-/g' "$src/man/pkvm-iommuctl.1")
verbs=$( (grep -ohE '^\s*VERB\("[a-z-]+"' "$src"/cli/*.c | grep -oE '"[a-z-]+"'
	grep -ohE '^\s*SUBVERB\("[a-z-]+", "[a-z-]+"' "$src"/cli/*.c | grep -oE '"[a-z-]+", "[a-z-]+"' |
		sed 's/", "/ /') | tr -d '"' | sort -u)
options=$(grep -oE '\{ "[a-z-]+", (no|required|optional)_argument' "$src/cli/main.c" |
	grep -oE '"[a-z-]+"' | tr -d '"' | sort -u)
if (($(wc -l <<<"$verbs") < 10 || $(wc -l <<<"$options") < 5)); then
	echo "not ok - pkvm-iommuctl: found only commands '$verbs' and options '$options' in cli/"
	fail=1
fi
while read -r verb; do
	if grep -qE "^\.(B|BR|BI) \"?${verb}( |\"|$)" <<<"$ctl_page"; then
		echo "ok - pkvm-iommuctl $verb documented"
	else
		echo "not ok - pkvm-iommuctl $verb missing from man/pkvm-iommuctl.1"
		fail=1
	fi
done <<<"$verbs"
for opt in $options; do
	if grep -qE "^\.(B|BR|BI) .*--${opt}([^a-z-]|$)" <<<"$ctl_page"; then
		echo "ok - pkvm-iommuctl --$opt documented"
	else
		echo "not ok - pkvm-iommuctl --$opt missing from man/pkvm-iommuctl.1"
		fail=1
	fi
done
exit $fail
