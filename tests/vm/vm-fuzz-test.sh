#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The kernel side fuzzed in the guest (meson 'vm_fuzz', and `./dev fuzz-vm`):
# the bench's one kernel (KASAN, UBSAN, lockdep, kmemleak: kernel.config),
# pkvm_iommu.ko built against it, and guest/kfuzz/ as the guest's program,
# which fuzzes /dev/pkvm-iommu and the pkvm_iommu genl family for SECONDS
# and then checks the module is still whole (guest/kfuzz/main.c). Fails on
# any "not ok", any kernel report in the console (run.sh) or a kmemleak
# finding after the module is gone. Exits 77 (SKIP) only when this host
# cannot run the bench at all.
#
# usage: vm-fuzz-test.sh OUTDIR [SECONDS [SEED]]
#   SECONDS  how long the guest fuzzes (default $PKVM_KFUZZ_SECONDS or 90)
#   SEED     the run's seed (default $PKVM_KFUZZ_SEED or 1); the console's
#            first kfuzz line names it, the same seed replays the same calls
#            per thread
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out=$(vm_outdir "${1:?usage: $0 OUTDIR [SECONDS [SEED]]}")
secs=${2:-${PKVM_KFUZZ_SECONDS:-90}}
seed=${3:-${PKVM_KFUZZ_SEED:-1}}
case $secs$seed in
*[!0-9]*) vm_die "SECONDS and SEED are decimal numbers" ;;
esac

vm_host_or_skip "$out"

t0=$SECONDS
kenv=$(vm_kernel_env)
# shellcheck source=/dev/null
KDIR=$(. "$kenv" && echo "$KDIR") \
	"$here/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build"
# The fuzzer's own sources and the guest helpers it shares with the bench's
# test (genl.c, hw.c); run.sh's /init runs whatever is named guest-test.
vm_guest_cc "$out/kfuzz/guest-test" -pthread "$here"/guest/kfuzz/*.c \
	"$here/guest/genl.c" "$here/guest/hw.c"
vm_log "module and fuzzer built ($((SECONDS - t0))s); fuzzing ${secs}s, seed $seed"

# Boot, module load and the checks after the run take about two minutes
# under TCG with the sanitizers; the rest of the bound is the fuzzing.
rc=0
PKVM_VM_KERNEL_ENV=$kenv PKVM_VM_LOG=$out/console.log PKVM_VM_RUNDIR=$out/run \
	PKVM_VM_APPEND="KFUZZ_SECONDS=$secs KFUZZ_SEED=$seed" \
	"$here/run.sh" -t "$((secs + 600))" "$out/kfuzz/guest-test" "$out/pkvm_iommu.ko" || rc=$?
# The per-call counts, whichever way it went.
grep -E '^kfuzz: ' "$out/run/console.txt" >&2 || true
if [ "$rc" != 0 ]; then
	vm_log "fuzz run failed; reproduce with: ./dev fuzz-vm $secs $seed (console: $out/console.log)"
fi
exit "$rc"
