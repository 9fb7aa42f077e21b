#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The pVM bench: cross-builds pkvm-pvm, boots the VM bench's guest kernel
# under pKVM (run.sh -p: virtualization=on, gic-version=3, -cpu max,
# kvm-arm.mode=protected) with pvm/guest-test as the guest test, and prints
# the guest's "ok - NAME: detail" / "not ok - ..." lines, "skip - ..." for
# a check this kernel cannot run, the
# "N passed, M failed" line and the fault-in times on stdout. Exits as
# run.sh does: non-zero unless every check passed on a clean kernel log.
#
# usage: run-pvm.sh [-v] [-t SECONDS] [-o DIR]
#   -o DIR   build and run directory (default $PKVM_VM_CACHE/run-pvm), so a
#            run beside another boot of the bench shares no files with it
# env: as run.sh: PKVM_VM_KERNEL_ENV boots another kernel (e.g. a patched
#      one), PKVM_VM_APPEND adds command-line words (e.g. the switch that
#      turns the shadow off, for the fault-in time without it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

runargs=(-p)
dir=$VM_CACHE/run-pvm
while getopts vt:o: opt; do
	case $opt in
	v) runargs+=(-v) ;;
	t) runargs+=(-t "$OPTARG") ;;
	o) dir=$OPTARG ;;
	*) vm_die "usage: $0 [-v] [-t SECONDS] [-o DIR]" ;;
	esac
done
mkdir -p "$dir"

# hw.c gives pagemap.
vm_guest_cc "$dir/pkvm-pvm" -I"$here" "$here/pkvm-pvm.c" "$vm/guest/hw.c"

rc=0
PKVM_VM_RUNDIR=$dir PKVM_VM_LOG=$dir/console.log \
	"$vm/run.sh" "${runargs[@]}" "$here/guest-test" "$dir/pkvm-pvm" 2>"$dir/run.err" || rc=$?

clean=$dir/console.txt
grep -E '^(not )?ok - |^skip - |^[0-9]+ passed, [0-9]+ failed$' "$clean" || true
# One line per VM: mode, pages, fault-in time, for the issue's numbers.
awk '/^pvm-vm / { mode = $2; n = $3 }
     /^pvm-time / { print "time - " mode " " n " " $2 " " $4 " " $5 }
     /^pvm-fault-in / { print "time - " $0 }
     /^pvm-cmdline / { print "time - " $0 }' "$clean" || true
# The guest code as the CPU will decode it, to check the hand encodings.
objdump=${CROSS_COMPILE:-$VM_CROSS}objdump
if command -v "$objdump" >/dev/null && grep -q '^pvm-code ' "$clean"; then
	awk '/^pvm-code / { sub("insn=0x", "", $3); print $3 } /^pvm-page / { exit }' "$clean" |
		perl -ne 'chomp; print pack("V", hex($_))' >"$dir/guest-code.bin"
	"$objdump" -D -b binary -m aarch64 "$dir/guest-code.bin" >"$dir/guest-code.txt" || true
fi
if [ "$rc" -ne 0 ]; then
	cat "$dir/run.err" >&2
	vm_log "console log: $dir/console.log"
fi
exit "$rc"
