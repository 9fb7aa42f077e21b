#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The pKVM shadow kernel (issue 11) is the bench's one kernel
# (../build-kernel.sh: ../kernel.config with kmod/pkvm/patches applied and
# this checkout's kmod/hyp built into the hypervisor, rebuilt incrementally
# when they change). Prints the path of its kernel.env (run.sh:
# PKVM_VM_KERNEL_ENV), like daemon/kernel.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

vm_kernel
