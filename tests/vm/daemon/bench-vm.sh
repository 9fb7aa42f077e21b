#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The kernel backend's ingest benchmark alone: the same kernel, module,
# arm64 build and sysroot as vm-daemon-test.sh, then one boot whose guest
# test (bench/guest-test) only loads pkvm_iommu.ko and runs
# `pkvm-iommud-bench --backend kernel --events N`. Prints the bench's table
# (and with -j its JSON line) on stdout; exit 0 only if the guest's check
# passed (every event ingested, no resync, ledger equal to the kernel's dump).
# Exit 77 as vm-daemon-test.sh when this host cannot run the VM bench.
#
# usage: bench-vm.sh [-e EVENTS] [-j] [OUTDIR [ARM64_BUILDDIR]]
#        (default OUTDIR build/tests/vm/daemon-bench, ARM64_BUILDDIR build/build-arm64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
src=$(cd "$vm/../.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

usage() { sed -n '11,12s/^# \{0,1\}//p' "$0"; }
events=20000 json=
while getopts e:jh opt; do
	case $opt in
	e) events=$OPTARG ;;
	j) json=--json ;;
	h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
case $events in
'' | *[!0-9]* | 0*) vm_die "-e $events: the number of events must be a positive even integer" ;;
esac
[ $((events % 2)) -eq 0 ] || vm_die "-e $events: must be even (every donation is reclaimed)"

out=$(vm_outdir "${1:-$src/build/tests/vm/daemon-bench}")
bdir=${2:-$src/build/build-arm64}

vm_host_or_skip "$out" "$here/deps.sh"
kenv=$("$here/kernel.sh")
# shellcheck source=/dev/null
# Build chatter to stderr: stdout is the bench's output only.
KDIR=$(. "$kenv" && echo "$KDIR") \
	"$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build" >&2
"$here/build.sh" "$out" "$bdir" >&2
echo "$events" >"$out/bench-events"
# The guest test reads the events from bench-events; --json goes the same way.
echo "$json" >"$out/bench-args"
rc=0
PKVM_VM_KERNEL_ENV=$kenv PKVM_VM_SYSROOT=$out/sysroot PKVM_VM_LOG=$out/console.log \
	"$vm/run.sh" "$here/bench/guest-test" "$out/pkvm_iommu.ko" "$out/pkvm-iommud-bench" \
	"$out/bench-events" "$out/bench-args" || rc=$?
sed -n 's/\r$//; s/^bench| //p' "$out/console.log"
exit "$rc"
