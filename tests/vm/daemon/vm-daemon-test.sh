#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The meson 'vm_daemon' test: pkvm-iommud on the kernel backend inside the VM
# bench. Host tools (../deps.sh, deps.sh), the daemon test's kernel
# (kernel.sh: the bench's config + AF_UNIX), pkvm_iommu.ko against it, the
# arm64 daemon, guest helper and sysroot (build.sh), then one boot of
# ../run.sh with guest-test (its last checks run pkvm-iommud-bench --backend
# kernel, whose table is printed here), then a second boot (iommufd/guest-test) in
# which the kernel's own SMMUv3 driver and vfio-pci let the daemon's
# iommufd probe ask IOMMU_GET_HW_INFO. Exits 0 on a clean pass, 1 on any failure, 77
# (SKIP) only when this host cannot run the VM bench at all.
#
# usage: vm-daemon-test.sh OUTDIR [ARM64_BUILDDIR]   (meson: build/tests/vm/daemon,
#        build/build-arm64; the cross build dir defaults to OUTDIR/build-arm64)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

out=$(vm_outdir "${1:?usage: $0 OUTDIR}")

vm_host_or_skip "$out" "$here/deps.sh"

t0=$SECONDS
kenv=$("$here/kernel.sh")
# shellcheck source=/dev/null
KDIR=$(. "$kenv" && echo "$KDIR") \
	"$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build"
"$here/build.sh" "$out" ${2:+"$2"}
vm_log "kernel, module, daemon and sysroot ready ($((SECONDS - t0))s)"
# The ABI pkvm-iommuctl status must report, from the header (not a copy).
src=$(cd "$vm/../.." && pwd)
sed -n 's/^#define PKVM_IOMMU_ABI_VERSION[[:space:]]*\([0-9][0-9]*\)$/\1/p' \
	"$src/uapi/linux/pkvm_iommu.h" >"$out/pkvm-abi-version"
[ -s "$out/pkvm-abi-version" ] || vm_die "no PKVM_IOMMU_ABI_VERSION in uapi/linux/pkvm_iommu.h"
rc=0
PKVM_VM_KERNEL_ENV=$kenv PKVM_VM_SYSROOT=$out/sysroot PKVM_VM_LOG=$out/console.log \
	"$vm/run.sh" "$here/guest-test" "$out/pkvm_iommu.ko" "$out/pkvm-iommud" "$out/pkvm-dtool" \
	"$out/pkvm-iommud-bench" "$out/pkvm-iommuctl" "$out/pkvm-abi-version" || rc=$?
# The benchmark's table from the guest (guest-test prefixes it "bench| ").
if grep -q '^bench| ' "$out/console.log"; then
	vm_log "pkvm-iommud-bench --backend kernel, in the guest (TCG):"
	sed -n 's/\r$//; s/^bench| /    /p' "$out/console.log" >&2
fi

# Second boot, same kernel: the kernel's own arm-smmu-v3 owns the SMMU, edu is
# bound to vfio-pci, and the daemon's iommufd probe (daemon/iommufd.c) asks
# IOMMU_GET_HW_INFO for real.
mkdir -p "$out/iommufd"
aarch64-linux-gnu-gcc -static -std=gnu11 -O2 -D_GNU_SOURCE \
	-I"$src/uapi" -I"$src/sim" -I"$src/kmod/hyp" -I"$src/daemon" \
	-o "$out/iommufd/iommufd-probe" "$src/tests/vm/guest/iommufd/iommufd-probe.c" \
	"$src/daemon/iommufd.c" "$src/kmod/hyp/smmu_probe.c"
PKVM_VM_KERNEL_ENV=$kenv PKVM_VM_LOG=$out/console-iommufd.log \
	"$vm/run.sh" "$here/iommufd/guest-test" "$out/iommufd/iommufd-probe" || rc=$?

# Third boot, same kernel under pKVM: only pKVM's own transitions (a
# protected VM's pages) change ownership, and the daemon must follow them.
mkdir -p "$out/pkvm"
vm_guest_cc "$out/pkvm/pkvm-pvm" -I"$vm/pvm" "$vm/pvm/pkvm-pvm.c" "$vm/guest/hw.c"
tp=$SECONDS
PKVM_VM_KERNEL_ENV=$kenv PKVM_VM_SYSROOT=$out/sysroot PKVM_VM_LOG=$out/console-pkvm.log \
	PKVM_VM_RUNDIR=$out/pkvm/run \
	"$vm/run.sh" -p -t 900 "$here/pkvm/guest-test" "$out/pkvm_iommu.ko" "$out/pkvm-iommud" \
	"$out/pkvm-iommuctl" "$out/pkvm-dtool" "$out/pkvm/pkvm-pvm" || rc=$?
# Boot time: the guest's uptime when its test starts (kernel and pKVM up).
boot=$(sed -n 's/^pkvm-vm: guest-test start: uptime \([0-9.]*\) s$/\1/p' "$out/pkvm/run/console.txt")
vm_log "pKVM boot: ${boot:-?} s to the guest test (guest uptime), $((SECONDS - tp)) s with the initramfs; suite $((SECONDS - t0)) s"
exit "$rc"
