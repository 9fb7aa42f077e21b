#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The daemon suites' kernel is the bench's one kernel (../build-kernel.sh;
# ../kernel.config has the AF_UNIX D-Bus needs and the SMMUv3 driver's
# iommufd support for the iommufd boot). Prints the path of its kernel.env
# (run.sh: PKVM_VM_KERNEL_ENV), like pkvm/kernel.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

vm_kernel
