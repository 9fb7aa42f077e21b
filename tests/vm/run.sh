#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The VM bench's single entry point: host tools, Debian packages, the cached
# guest kernel, an initramfs, then one boot of an arm64 QEMU virt machine with
# an emulated stage-2 SMMUv3 and the edu DMA device behind it. Exits non-zero
# unless the guest test reported results with no failures on a clean kernel log.
#
# usage: run.sh [-v] [-p] [-t SECONDS] [FILE...]
#   -v       echo the console while it runs (it is always saved to the log)
#   -p       boot at EL2 with pKVM (kvm-arm.mode=protected) instead of
#            plain EL1; the module's host mode works either way
#   -t       boot timeout, default $PKVM_VM_TIMEOUT or 600
#   FILE     extra files for the guest's /opt/pkvm/; a file named guest-test
#            replaces the placeholder in guest/
# env: PKVM_VM_CACHE (cache root), PKVM_VM_LOG (console log path),
#      PKVM_VM_KERNEL_ENV (boot the kernel of this kernel.env instead of the
#      bench's own, e.g. a frozen copy), PKVM_VM_SYSROOT (a tree merged
#      into the initramfs root, see mkinitramfs.sh), PKVM_VM_RUNDIR (where the
#      initramfs and console files go, default $PKVM_VM_CACHE/run; a caller
#      that may run beside another boot gives its own), PKVM_VM_APPEND (extra
#      kernel command-line words, e.g. a switch of the kernel under test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

verbose=0
pkvm=0
timeout_s=${PKVM_VM_TIMEOUT:-600}
while getopts vpt: opt; do
	case $opt in
	v) verbose=1 ;;
	p) pkvm=1 ;;
	t) timeout_s=$OPTARG ;;
	*) vm_die "usage: $0 [-v] [-p] [-t SECONDS] [FILE...]" ;;
	esac
done
shift $((OPTIND - 1))

t0=$SECONDS
stage() { vm_log "$1 ($((SECONDS - t0))s)"; }

"$here/deps.sh"
"$here/fetch.sh"
# A caller that names its kernel.env built it (or froze a copy of one).
if [ -n "${PKVM_VM_KERNEL_ENV:-}" ]; then
	# shellcheck source=/dev/null
	. "$PKVM_VM_KERNEL_ENV"
else
	"$here/build-kernel.sh"
	# shellcheck source=/dev/null
	. "$VM_CACHE/kernel.env"
fi
stage "kernel $KRELEASE ready"

rundir=${PKVM_VM_RUNDIR:-$VM_CACHE/run}
mkdir -p "$rundir"
log=${PKVM_VM_LOG:-$rundir/console.log}
initrd=$rundir/initramfs.cpio.gz
"$here/mkinitramfs.sh" -o "$initrd" -m "$KMODROOT" "$here/guest/guest-test" "$@"
stage "initramfs ready"

# iommu=smmuv3 puts one SMMUv3 in front of the whole PCIe root complex, so a
# device on pcie.0 translates through it; stage=2 matches what pKVM programs.
# gic-version=3 for an ITS, as on the hardware pKVM targets. edu's default
# 28-bit DMA mask would keep the kernel's DMA inside low memory; the full mask
# lets tests reach any page.
# The machine type is pinned to virt-9.1: from 9.2 on, virt sets the SMMU's
# stage property to "nested" itself (S1P and S2P both advertised), which
# overrides -global arm-smmuv3.stage=2; 9.1 and older leave it to -global.
machine=virt-9.1,iommu=smmuv3,gic-version=3
append="console=ttyAMA0 panic=-1 oops=panic"
if [ "$pkvm" = 1 ]; then
	# virtualization=on starts the kernel at EL2, which pKVM needs to
	# install its hypervisor before dropping the host to EL1.
	machine=$machine,virtualization=on
	append="$append kvm-arm.mode=protected"
fi
append="$append${PKVM_VM_APPEND:+ $PKVM_VM_APPEND}"
qemu=(qemu-system-aarch64
	-M "$machine"
	-global arm-smmuv3.stage=2
	-cpu max -m 1G -smp 2
	-nographic -no-reboot
	# No default virtio NIC: edu should be the only device behind the
	# SMMU, and the NIC's option ROM is in a package we do not install.
	-nic none
	-kernel "$KIMAGE" -initrd "$initrd"
	# panic=-1 reboots at once on a panic, which -no-reboot turns into a
	# QEMU exit; oops=panic makes an oops end the run instead of hanging.
	-append "$append"
	-device "edu,bus=pcie.0,dma_mask=0xffffffffffffffff")
# Extra QEMU options for debugging, e.g. PKVM_VM_QEMU_ARGS='-d guest_errors
# -trace smmuv3_*' (QEMU's own messages then land in the console log).
if [ -n "${PKVM_VM_QEMU_ARGS:-}" ]; then
	read -r -a extra <<<"$PKVM_VM_QEMU_ARGS"
	qemu+=("${extra[@]}")
fi

stage "booting (timeout ${timeout_s}s, log $log)"
rc=0
if [ "$verbose" = 1 ]; then
	timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$log" || rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$log" 2>&1 || rc=$?
fi
stage "guest exited with $rc"

# The serial console ends lines with CR LF.
clean=$rundir/console.txt
tr -d '\r' <"$log" >"$clean"

problems=()
case $rc in
0) ;;
124 | 137) problems+=("timeout after ${timeout_s}s") ;;
*) problems+=("qemu exited with status $rc") ;;
esac
# Anything the kernel considers a bug in itself or a driver, whether or not
# it stopped the test.
if vm_kernel_problems "$clean" "$rundir/kernel-problems.txt" 'WARNING:'; then
	problems+=("kernel reported a problem: $(head -n1 "$rundir/kernel-problems.txt")")
fi
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$clean" | tail -n1 || true)
if [ -z "$summary" ]; then
	problems+=("no 'N passed, M failed' result line")
else
	nfailed=${summary#*, }
	nfailed=${nfailed%% *}
	[ "$nfailed" -eq 0 ] || problems+=("$summary")
fi
exit_line=$(grep -E '^pkvm-vm: guest-test exit [0-9]+$' "$clean" | tail -n1 || true)
if [ -n "$exit_line" ] && [ "${exit_line##* }" -ne 0 ]; then
	problems+=("${exit_line#pkvm-vm: }")
fi
leaks=$(grep -E '^pkvm-vm: kmemleak [0-9]+ suspected leaks$' "$clean" | tail -n1 || true)
if [ -n "$leaks" ]; then
	leaks=${leaks#pkvm-vm: kmemleak }
	[ "${leaks%% *}" -eq 0 ] || problems+=("kmemleak: $leaks")
fi

grep -E '^(PASS|FAIL): |^(not )?ok - |^[0-9]+ passed, [0-9]+ failed$|^pkvm-vm: ' "$clean" >&2 || true
if [ "${#problems[@]}" -gt 0 ]; then
	for p in "${problems[@]}"; do
		vm_log "FAILED: $p"
	done
	vm_log "console log: $log"
	exit 1
fi
stage "passed: $summary"
