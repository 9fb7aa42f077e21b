#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# One boot of the bench's kernel from a disk image instead of an initramfs:
# the vm_system suite's machine. Same virt machine, SMMUv3 and edu as run.sh
# (so the module and the daemon find what they find there), plus the root
# file system and an optional payload disk on virtio-blk.
#
# usage: boot.sh [-w] -k IMAGE -r ROOTIMG -l LOG -t SECONDS [-p PAYLOADIMG] [-- APPEND...]
#   -w   the root image is written (the first-boot configuration, and the
#        suite's per-run copy that boot 2 must find as boot 1 left it); without
#        it QEMU keeps every write in a temporary overlay (snapshot=on), so a
#        cached image is never changed by a test boot
# Exits with QEMU's status (124/137: timeout). The console goes to LOG.
#
# The disks are virtio-blk on virtio-mmio, not virtio-pci: iommu=smmuv3 puts
# the SMMU in front of the whole PCIe root complex, and once pkvm_iommu.ko
# takes the SMMU a PCI disk's DMA would go through the shadow stage 2. On
# the MMIO transport the disks stay outside it, as the initramfs does for
# the other suites.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

write=0 kimage='' root='' log='' timeout_s='' payload=''
while getopts wk:r:l:t:p: opt; do
	case $opt in
	w) write=1 ;;
	k) kimage=$OPTARG ;;
	r) root=$OPTARG ;;
	l) log=$OPTARG ;;
	t) timeout_s=$OPTARG ;;
	p) payload=$OPTARG ;;
	*) vm_die "usage: $0 [-w] -k IMAGE -r ROOTIMG -l LOG -t SECONDS [-p PAYLOADIMG] [-- APPEND...]" ;;
	esac
done
shift $((OPTIND - 1))
if [ -z "$kimage" ] || [ -z "$root" ] || [ -z "$log" ] || [ -z "$timeout_s" ]; then
	vm_die "boot.sh: -k, -r, -l and -t are required"
fi

snap=on
[ "$write" = 0 ] || snap=off
# panic=-1 + -no-reboot: a panic ends QEMU at once, as in run.sh.
append="console=ttyAMA0 root=/dev/vda rootfstype=ext4 rw panic=-1 oops=panic $*"
# shellcheck disable=SC2054 # the commas are QEMU option syntax
qemu=(qemu-system-aarch64
	-M "virt-9.1,iommu=smmuv3,gic-version=3"
	-global arm-smmuv3.stage=2
	-cpu max -m 1G -smp 2
	-nographic -no-reboot -nic none
	-kernel "$kimage" -append "$append"
	-device "edu,bus=pcie.0,dma_mask=0xffffffffffffffff"
	# virt probes its virtio-mmio slots from the top of the window down,
	# so the device given last is the first one the guest finds: the
	# payload goes first, the root disk last, to be /dev/vda.
)
if [ -n "$payload" ]; then
	# shellcheck disable=SC2054
	qemu+=(-drive "file=$payload,format=raw,if=none,id=payload,snapshot=on,readonly=on"
		-device virtio-blk-device,drive=payload)
fi
# shellcheck disable=SC2054
qemu+=(-drive "file=$root,format=raw,if=none,id=root,snapshot=$snap"
	-device virtio-blk-device,drive=root)
if [ -n "${PKVM_VM_QEMU_ARGS:-}" ]; then
	read -r -a extra <<<"$PKVM_VM_QEMU_ARGS"
	qemu+=("${extra[@]}")
fi
rc=0
timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$log" 2>&1 || rc=$?
exit "$rc"
