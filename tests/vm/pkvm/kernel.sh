#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The pKVM shadow kernel (issue 11): the bench's kernel.config plus this
# folder's kernel.config, with the patch series of kmod/pkvm/patches applied
# and this checkout's kmod/hyp built into the hypervisor, built by the
# bench's own build-kernel.sh (a copy, run next to the combined fragment)
# into a cache of its own, $VM_CACHE/pkvm-kernel, so that the module
# bench's kernel.env and kernel/current are never touched. The bench's
# fetch.env and unpacked source are shared (linked), never written.
# A change of the series or of kmod/hyp rebuilds the same tree
# incrementally. Prints the path of the kernel.env to use
# (run.sh: PKVM_VM_KERNEL_ENV). Not part of `meson test`: a kernel build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
root=$(cd "$vm/../.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

"$vm/deps.sh" >&2
"$vm/fetch.sh" >&2
# shellcheck source=/dev/null
. "$VM_CACHE/fetch.env"
[ -e "$VM_CACHE/kernel/src-$(printf '%s' "$LINUX_SOURCE_VERSION" | tr -c 'A-Za-z0-9._+-' _)/.pkvm-unpacked" ] ||
	vm_die "the bench's source tree is not unpacked yet: run tests/vm/build-kernel.sh once"
kc=$VM_CACHE/pkvm-kernel
mkdir -p "$kc/kernel"
cp "$VM_CACHE/fetch.env" "$kc/fetch.env"
for s in "$VM_CACHE"/kernel/src-*; do
	[ -d "$s" ] && [ ! -e "$kc/kernel/$(basename "$s")" ] && ln -s "$s" "$kc/kernel/"
done
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
cp "$vm/build-kernel.sh" "$vm/lib.sh" "$tools/"
cat "$vm/kernel.config" "$here/kernel.config" >"$tools/kernel.config"
PKVM_VM_CACHE=$kc PKVM_VM_PATCHES=$root/kmod/pkvm/patches PKVM_VM_HYP_ROOT=$root \
	"$tools/build-kernel.sh" >&2
printf '%s\n' "$kc/kernel.env"
