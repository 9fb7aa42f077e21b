#!/bin/sh
# Prints the Linux tree --compare builds io-pgtable-arm.c from, or nothing.
# Looks, never fetches: $1 (-Dlinux_source), $PKVM_LINUX_SOURCE, then the
# newest tree tests/vm/build-kernel.sh unpacked into the VM cache.
set -eu
want=drivers/iommu/io-pgtable-arm.c
for d in "${1:-}" "${PKVM_LINUX_SOURCE:-}"; do
	[ -n "$d" ] || continue
	if [ -f "$d/$want" ]; then
		(cd "$d" && pwd)
		exit 0
	fi
	echo "no $want under $d" >&2
	exit 1
done
cache=${PKVM_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pkvm-iommu/vm}
# The marker is written after the unpack completed, so a half tree is skipped.
[ -d "$cache/kernel" ] || exit 0
d=$(find "$cache/kernel" -mindepth 2 -maxdepth 2 -path '*/src-*/.pkvm-unpacked' |
	sed 's|/.pkvm-unpacked$||' | sort -rV | while IFS= read -r d; do
		[ -f "$d/$want" ] && { echo "$d"; break; }
	done)
[ -z "$d" ] || echo "$d"
