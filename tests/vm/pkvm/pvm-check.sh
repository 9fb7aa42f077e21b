#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Manual check of the shadow hook (issue 11), not part of `meson test` (it
# needs a kernel build): boots the pKVM shadow kernel, loads the module with
# transport=pkvm and has edu DMA a page a protected VM holds (it must fault
# in the SMMU) and the same page after the VM is destroyed (it must work).
#
# usage: pvm-check.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

out=${1:?usage: $0 OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

env=$("$here/kernel.sh")
# shellcheck source=/dev/null
KDIR=$(. "$env" && echo "$KDIR") \
	"$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build"
vm_guest_cc "$out/pkvm-pvm" -I"$vm/pvm" "$vm/pvm/pkvm-pvm.c" "$vm/guest/hw.c"
vm_guest_cc "$out/edu-probe" "$here/edu-probe.c" "$vm/guest/hw.c" "$vm/guest/genl.c"
cp "$here/pvm-guest-test" "$out/guest-test"
PKVM_VM_KERNEL_ENV=$env PKVM_VM_RUNDIR=$out/run PKVM_VM_LOG=$out/console.log \
	"$vm/run.sh" -p "$out/guest-test" "$out/pkvm-pvm" "$out/edu-probe" "$out/pkvm_iommu.ko"
