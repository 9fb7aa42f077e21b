#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Builds pkvm_iommu.ko out of tree against a kernel build tree. kmod/ and
# uapi/ of the source tree are copied into a build directory first, so no
# object file ever lands in the source tree; kmod/host/Kbuild compiles
# ../hyp/*.c and includes ../../uapi, which the copy keeps in place.
#
# usage: build-module.sh [-o OUT.ko] [-b BUILDDIR] [-- MAKE_ARGS...]
#   OUT.ko    where the module goes (default ./pkvm_iommu.ko)
#   BUILDDIR  scratch directory for the copy and the objects (default
#             $PKVM_VM_CACHE/module-build); its kmod/ and uapi/ are replaced
#             on every run
# env: KDIR (kernel build tree with Module.symvers; default: the VM bench's
#      cached kernel from kernel.env), ARCH (default arm64), CROSS_COMPILE
#      (default aarch64-linux-gnu- when ARCH is arm64 and the host is not)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out=pkvm_iommu.ko
build=$VM_CACHE/module-build
while getopts o:b: opt; do
	case $opt in
	o) out=$OPTARG ;;
	b) build=$OPTARG ;;
	*) vm_die "usage: $0 [-o OUT.ko] [-b BUILDDIR] [-- MAKE_ARGS...]" ;;
	esac
done
shift $((OPTIND - 1))

[ -f "$src/kmod/host/Kbuild" ] ||
	vm_die "$src/kmod/host/Kbuild is missing: the kernel module (issue 4) is not in this tree yet, nothing to build"
[ -f "$src/uapi/linux/pkvm_iommu.h" ] || vm_die "$src/uapi/linux/pkvm_iommu.h is missing"

if [ -z "${KDIR:-}" ]; then
	[ -f "$VM_CACHE/kernel.env" ] ||
		vm_die "no KDIR given and no cached kernel ($VM_CACHE/kernel.env): run tests/vm/build-kernel.sh (or tests/vm/run.sh) first, or set KDIR"
	# shellcheck source=/dev/null
	. "$VM_CACHE/kernel.env"
fi
[ -f "$KDIR/Makefile" ] || vm_die "KDIR=$KDIR is not a kernel build tree (no Makefile)"
[ -f "$KDIR/Module.symvers" ] ||
	vm_log "warning: $KDIR/Module.symvers missing (was 'make modules' run?); modpost will warn about every kernel symbol"

arch=${ARCH:-arm64}
if [ -n "${CROSS_COMPILE+set}" ]; then
	cross=$CROSS_COMPILE
elif [ "$arch" = arm64 ] && [ "$(uname -m)" != aarch64 ]; then
	cross=$VM_CROSS
else
	cross=
fi

# Never build in the source tree: a fresh copy of exactly what Kbuild reads,
# minus anything a stray in-tree build may have left behind.
case $build in /*) ;; *) build=$PWD/$build ;; esac
case "$build/" in "$src/kmod/"* | "$src/uapi/"*) vm_die "BUILDDIR $build is inside the source tree's kmod/ or uapi/" ;; esac
mkdir -p "$build"
rm -rf "$build/kmod" "$build/uapi"
cp -a "$src/kmod" "$src/uapi" "$build/"
find "$build/kmod" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
	-o -name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \) -delete

vm_log "building pkvm_iommu.ko against $KDIR (ARCH=$arch CROSS_COMPILE=$cross) in $build/kmod/host"
make -C "$KDIR" M="$build/kmod/host" ARCH="$arch" CROSS_COMPILE="$cross" \
	-j"$(nproc)" "$@" modules

ko=$build/kmod/host/pkvm_iommu.ko
[ -f "$ko" ] || vm_die "make succeeded but left no $ko"
mkdir -p "$(dirname "$out")"
cp "$ko" "$out.tmp"
mv "$out.tmp" "$out"

# The module must match the tree it was built for.
release=$(cat "$KDIR/include/config/kernel.release" 2>/dev/null || true)
vermagic=$(modinfo -F vermagic "$out" 2>/dev/null || true)
if [ -n "$release" ] && [ -n "$vermagic" ] && [ "${vermagic%% *}" != "$release" ]; then
	vm_die "$out has vermagic '$vermagic', kernel tree is $release"
fi
vm_log "built $out (${vermagic:-vermagic unknown})"
