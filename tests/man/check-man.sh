#!/usr/bin/env bash
# check-man.sh SRCDIR: every page in man/ renders without a groff warning,
# and every ioctl and netlink command of the uapi header is in pkvm_iommu(4).
set -euo pipefail
src=$1
fail=0
for page in "$src"/man/*.[1-8]; do
	warn=$(LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null || true)
	if [[ -n $warn ]]; then
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
exit $fail
