#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The meson 'vm_pkvm' test (issue 11): the bench's kernel with the shadow
# (kernel.sh), pkvm_iommu.ko against it, the guest programs (edu-probe,
# shadow-state, ../pvm/pkvm-pvm), then one boot under pKVM (run.sh -p)
# running guest-test-pkvm: edu's real DMA against the memory pKVM moves.
# Prints the guest's check lines, the measured figures, the boot time and
# the wall time. Exits 0 on a clean pass, 1 on any failure, and 77 (meson's
# SKIP) only when this host cannot run the bench at all, saying why.
#
# usage: vm-pkvm-test.sh OUTDIR
# env: PKVM_VM_KERNEL_ENV  a kernel.env to boot instead of building the
#                          bench's one (its KDIR is then the module's tree)
#      PKVM_VM_PKVM_MODULE a prebuilt pkvm_iommu.ko for that kernel, instead
#                          of building one against KDIR (build-module.sh)
#      PKVM_VM_TIMEOUT     the boot's timeout in s (default 1800)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

out=$(vm_outdir "${1:?usage: $0 OUTDIR}")

vm_host_or_skip "$out"

t0=$SECONDS
env=$(vm_kernel_env) || exit 1
vm_log "pKVM shadow kernel ready ($((SECONDS - t0))s)"
if [ -n "${PKVM_VM_PKVM_MODULE:-}" ]; then
	cp "$PKVM_VM_PKVM_MODULE" "$out/pkvm_iommu.ko" || vm_die "no module at $PKVM_VM_PKVM_MODULE"
else
	# shellcheck source=/dev/null
	KDIR=$(. "$env" && echo "$KDIR") \
		"$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build" ||
		vm_die "build-module.sh failed"
fi
vm_guest_cc "$out/pkvm-pvm" -I"$vm/pvm" "$vm/pvm/pkvm-pvm.c" "$vm/guest/hw.c"
vm_guest_cc "$out/edu-probe" "$here/edu-probe.c" "$vm/guest/hw.c" "$vm/guest/genl.c"
vm_guest_cc "$out/shadow-state" "$here/shadow-state.c" "$vm/guest/hw.c" "$vm/guest/genl.c"
cp "$here/guest-test-pkvm" "$out/guest-test"
vm_log "module and guest programs ready ($((SECONDS - t0))s)"

rc=0
PKVM_VM_KERNEL_ENV=$env PKVM_VM_RUNDIR=$out/run PKVM_VM_LOG=$out/console.log \
	"$vm/run.sh" -p -t "${PKVM_VM_TIMEOUT:-1800}" "$out/guest-test" "$out/pkvm-pvm" \
	"$out/edu-probe" "$out/shadow-state" "$out/pkvm_iommu.ko" 2>"$out/run.err" || rc=$?

clean=$out/run/console.txt
grep -E '^(not )?ok - |^measured - |^[0-9]+ passed, [0-9]+ failed$' "$clean" || true
# Boot time: the guest's uptime when its test starts (kernel and pKVM up).
boot=$(sed -n 's/^pkvm-vm: guest-test start: uptime \([0-9.]*\) s$/\1/p' "$clean" | head -n1)
end=$(sed -n 's/^pkvm-vm: guest-test end: uptime \([0-9.]*\) s$/\1/p' "$clean" | head -n1)
# run.sh's stage lines: seconds since it started, at the boot and at the exit.
b0=$(sed -n 's/^\[vm\] booting .* (\([0-9]*\)s)$/\1/p' "$out/run.err" | head -n1)
b1=$(sed -n 's/^\[vm\] guest exited with .* (\([0-9]*\)s)$/\1/p' "$out/run.err" | head -n1)
echo "boot: ${boot:-?} s to the guest test (guest uptime); guest test done at ${end:-?} s; QEMU ran $((${b1:-0} - ${b0:-0})) s; wall time $((SECONDS - t0)) s"
if [ "$rc" -ne 0 ]; then
	grep -F '[vm]' "$out/run.err" >&2 || cat "$out/run.err" >&2
	vm_log "console log: $out/console.log"
fi
exit "$rc"
