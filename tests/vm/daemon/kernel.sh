#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The daemon test's guest kernel: the bench's kernel.config plus this
# folder's kernel.config (AF_UNIX for D-Bus), built by the bench's own
# build-kernel.sh (a copy, run next to the combined fragment) into a cache
# of its own, $VM_CACHE/daemon-kernel, so that the module bench's kernel.env
# and kernel/current are never touched. The bench's fetch.env and unpacked
# source are shared (linked), not downloaded or unpacked again.
# Prints the path of the kernel.env to use (run.sh: PKVM_VM_KERNEL_ENV).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

"$vm/deps.sh" >&2
"$vm/fetch.sh" >&2
# shellcheck source=/dev/null
. "$VM_CACHE/fetch.env"
kc=$VM_CACHE/daemon-kernel
mkdir -p "$kc/kernel"
cp "$VM_CACHE/fetch.env" "$kc/fetch.env"
# The pristine source, unpacked once by the bench: link it if it is there.
for s in "$VM_CACHE"/kernel/src-*; do
	[ -d "$s" ] && [ ! -e "$kc/kernel/$(basename "$s")" ] && ln -s "$s" "$kc/kernel/"
done
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
cp "$vm/build-kernel.sh" "$vm/lib.sh" "$tools/"
cat "$vm/kernel.config" "$here/kernel.config" >"$tools/kernel.config"
PKVM_VM_CACHE=$kc "$tools/build-kernel.sh" >&2
printf '%s\n' "$kc/kernel.env"
