#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The daemon test's guest kernel: the bench's kernel.config plus this
# folder's kernel.config (AF_UNIX for D-Bus), built in a cache of its own,
# $VM_CACHE/daemon-kernel (vm_private_kernel in ../lib.sh).
# Prints the path of the kernel.env to use (run.sh: PKVM_VM_KERNEL_ENV).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

"$vm/deps.sh" >&2
"$vm/fetch.sh" >&2
vm_private_kernel daemon-kernel "$here/kernel.config"
