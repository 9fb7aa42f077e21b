#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The meson 'vm' suite: host tools, the cached guest kernel, pkvm_iommu.ko
# built against it (build-module.sh), the static guest test program
# (build-guest.sh), then one boot of the bench (run.sh) with both. Exits 0 on
# a clean pass, 1 on any failure, and 77 (meson's SKIP) only when this host
# cannot run the bench at all, saying why.
#
# usage: vm-test.sh OUTDIR     (meson passes its build directory for tests/vm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out=$(vm_outdir "${1:?usage: $0 OUTDIR}")

vm_host_or_skip "$out"

t0=$SECONDS
# The module needs the kernel tree first; a no-op once cached.
kenv=$(vm_kernel)
# shellcheck source=/dev/null
KDIR=$(. "$kenv" && echo "$KDIR") \
	"$here/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build"
"$here/build-guest.sh" -o "$out/guest-test"
vm_log "module and guest test built ($((SECONDS - t0))s)"
PKVM_VM_KERNEL_ENV=$kenv PKVM_VM_LOG=$out/console.log "$here/run.sh" "$out/guest-test" "$out/pkvm_iommu.ko"
