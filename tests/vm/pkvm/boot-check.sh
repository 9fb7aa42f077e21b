#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Manual boot check of the pKVM shadow kernel (issue 11), not part of
# `meson test` (it needs a kernel build): builds the patched kernel
# (kernel.sh), pkvm_iommu.ko against it and the guest test, then boots it
# under pKVM (run.sh -p) and runs the guest test with transport=pkvm.
#
# usage: boot-check.sh OUTDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

out=$(vm_outdir "${1:?usage: $0 OUTDIR}")

t0=$SECONDS
env=$("$here/kernel.sh")
vm_log "pKVM shadow kernel ready ($((SECONDS - t0))s)"
# shellcheck source=/dev/null
KDIR=$(. "$env" && echo "$KDIR") \
	"$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build"
"$vm/build-guest.sh" -o "$out/pkvm-guest-test"
PKVM_VM_KERNEL_ENV=$env PKVM_VM_RUNDIR=$out/run PKVM_VM_LOG=$out/console.log \
	"$vm/run.sh" -p "$here/guest-test" "$out/pkvm-guest-test" "$out/pkvm_iommu.ko"
