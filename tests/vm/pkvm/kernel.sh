#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The pKVM shadow kernel (issue 11): the bench's kernel.config plus this
# folder's kernel.config, with the patch series of kmod/pkvm/patches applied
# and this checkout's kmod/hyp built into the hypervisor, in a cache of its
# own, $VM_CACHE/pkvm-kernel (vm_private_kernel in ../lib.sh). A change of
# the series or of kmod/hyp rebuilds the same tree incrementally. Prints
# the path of the kernel.env to use (run.sh: PKVM_VM_KERNEL_ENV). Not part
# of `meson test`: it costs a kernel build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
root=$(cd "$vm/../.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

"$vm/deps.sh" >&2
"$vm/fetch.sh" >&2
vm_private_kernel pkvm-kernel "$here/kernel.config" \
	PKVM_VM_PATCHES="$root/kmod/pkvm/patches" PKVM_VM_HYP_ROOT="$root"
