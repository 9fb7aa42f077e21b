#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Builds the guest kernel (Image + modules + a tree for out-of-tree modules)
# from Debian's linux-source package and kernel.config, once per distinct
# input: the result is cached under a key of the fragment, the source
# package version and the cross compiler.
#
# usage: build-kernel.sh [-e]   (-e: print the path of this build's own
#        kernel.env on stdout, which no other checkout's build rewrites)
#
# On success writes $VM_CACHE/kernel.env (and the build's own kernel.env)
# with KDIR (build tree for
# `make -C $KDIR M=...`), KIMAGE, KMODROOT (modules_install root) and
# KRELEASE, and points $VM_CACHE/kernel/current at the build.
#
# Every build applies the project's patch series (kmod/pkvm/patches) and
# builds this checkout's kmod/hyp and uapi into the hypervisor: one kernel
# serves every VM suite, and the series is inert unless the kernel boots with
# kvm-arm.mode=protected. The patches and those sources are the build's
# inputs, not part of its key: a change re-applies or re-copies only what
# changed and rebuilds the same O= tree incrementally (a kmod/hyp edit costs
# seconds, not a kernel build).
# env: PKVM_VM_PATCHES (another folder of *.patch, git format-patch output),
#      PKVM_VM_HYP_ROOT (another checkout whose kmod/hyp and uapi to build in).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
print_env=0
[ "${1:-}" != -e ] || print_env=1

fragment=$here/kernel.config
[ -e "$VM_CACHE/fetch.env" ] || "$here/fetch.sh"
# shellcheck source=/dev/null
. "$VM_CACHE/fetch.env"

mk=(make -s ARCH=arm64 "CROSS_COMPILE=$VM_CROSS")
cc_ver=$("${VM_CROSS}gcc" -dumpfullversion)
# The compiler is part of the key as well: modules built later against the
# tree must be compiled by the same gcc as the kernel they load into.
root=$(cd "$here/../.." && pwd)
patches=${PKVM_VM_PATCHES:-$root/kmod/pkvm/patches}
hyp_root=${PKVM_VM_HYP_ROOT:-$root}
[ -d "$patches" ] || vm_die "no patch series at $patches"
[ -d "$hyp_root/kmod/hyp" ] || vm_die "no kmod/hyp in $hyp_root"
key=$({
	cat "$fragment"
	printf '%s\n' "$LINUX_SOURCE_PKG" "$LINUX_SOURCE_VERSION" "$cc_ver"
	echo patched
} | sha256sum | cut -c1-16)
# What a patched build is made of besides the key: the series and the
# sources it builds in. The stamp holds their hash.
inputs=$({
	for f in "$patches"/*.patch "$hyp_root"/kmod/hyp/*.[ch] \
		"$hyp_root"/uapi/linux/*.h; do
		printf '%s\n' "${f##*/}"
		cat "$f"
	done
} | sha256sum | cut -c1-16)

kroot=$VM_CACHE/kernel
mkdir -p "$kroot"
# Two checkouts (a clean clone's CI run, a worktree) share the cache: one
# build at a time in it, the second then finds the result or rebuilds
# incrementally for its own inputs.
exec 9>"$kroot/.lock"
if ! flock -n 9; then
	vm_log "waiting for another kernel build in $kroot"
	flock 9
fi
out=$kroot/build-$key
stamp=$out/.pkvm-built

write_env() {
	local rel
	rel=$(cat "$out/include/config/kernel.release")
	ln -sfn "build-$key" "$kroot/current"
	cat >"$out/kernel.env.new" <<EOT
KERNEL_KEY=$key
KDIR=$out
KIMAGE=$out/arch/arm64/boot/Image
KMODROOT=$out/modroot
KRELEASE=$rel
EOT
	mv "$out/kernel.env.new" "$out/kernel.env"
	cp "$out/kernel.env" "$VM_CACHE/kernel.env.$$"
	mv "$VM_CACHE/kernel.env.$$" "$VM_CACHE/kernel.env"
	[ "$print_env" = 0 ] || printf '%s\n' "$out/kernel.env"
}

if [ -e "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
	vm_log "kernel $key cached ($LINUX_SOURCE_PKG $LINUX_SOURCE_VERSION): skipping build"
	write_env
	exit 0
fi

# One pristine source tree per package version, shared by every build key;
# builds go to separate O= trees so the source never gets a .config (which
# would make kbuild refuse O= builds from it).
src=$kroot/src-$(printf '%s' "$LINUX_SOURCE_VERSION" | tr -c 'A-Za-z0-9._+-' _)
if [ ! -e "$src/.pkvm-unpacked" ]; then
	vm_log "unpacking $LINUX_SOURCE_PKG $LINUX_SOURCE_VERSION"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	dpkg-deb --fsys-tarfile "$LINUX_SOURCE_DEB" |
		tar -xO "./usr/src/$LINUX_SOURCE_PKG.tar.xz" |
		tar -xJ -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.pkvm-unpacked"
	mv "$src.tmp" "$src"
fi

# The patched tree: a copy of the pristine one made of hard links, in which
# every file the series touches (now or last time) is a file of its own
# before anything writes it, so the pristine tree is never changed. Files
# the series touches get a new mtime, so make rebuilds what depends on them.
# The project's hyp core is then copied in where the series' Makefile looks
# for it (nvhe/pkvm-iommu/), a file only when its content changed.
series_files() {
	local p
	for p in "$patches"/*.patch; do
		(cd "$1" && git apply --numstat "$p") | cut -f3
	done | sort -u
}

unlink_from_pristine() {
	local f
	while IFS= read -r f; do
		[ -f "$1/$f" ] || continue
		cp -p "$1/$f" "$1/$f.pkvm-unlink"
		mv "$1/$f.pkvm-unlink" "$1/$f"
	done
}

# sync_files FROM TO GLOB: TO holds exactly FROM's files matching GLOB.
sync_files() {
	local from=$1 to=$2 glob=$3 f
	mkdir -p "$to"
	for f in "$from"/$glob; do
		cmp -s "$f" "$to/${f##*/}" || cp "$f" "$to/${f##*/}"
	done
	for f in "$to"/*; do
		[ -e "$from/${f##*/}" ] || rm -f "$f"
	done
}

build_src=$kroot/patched-$key
series=$(cat "$patches"/*.patch | sha256sum | cut -c1-16)
if [ "$(cat "$build_src/.pkvm-series" 2>/dev/null)" != "$series" ]; then
	vm_log "applying $(find "$patches" -name '*.patch' | wc -l) patches from $patches"
	rm -rf "$build_src.new"
	cp -al "$src/." "$build_src.new"
	rm -f "$build_src.new/.pkvm-unpacked"
	touched=$({
		cat "$build_src/.pkvm-touched" 2>/dev/null || true
		series_files "$build_src.new"
	} | sort -u)
	unlink_from_pristine "$build_src.new" <<<"$touched"
	for p in "$patches"/*.patch; do
		(cd "$build_src.new" && git apply "$p") ||
			vm_die "patch does not apply: $p"
	done
	(cd "$build_src.new" && while IFS= read -r f; do
		[ ! -e "$f" ] || touch "$f"
	done <<<"$touched")
	printf '%s\n' "$touched" >"$build_src.new/.pkvm-touched"
	printf '%s\n' "$series" >"$build_src.new/.pkvm-series"
	rm -rf "$build_src"
	mv "$build_src.new" "$build_src"
fi
dst=$build_src/arch/arm64/kvm/hyp/nvhe/pkvm-iommu
[ -d "$dst" ] || vm_die "the series has no arch/arm64/kvm/hyp/nvhe/pkvm-iommu/"
sync_files "$hyp_root/kmod/hyp" "$dst/core" '*.[ch]'
sync_files "$hyp_root/uapi/linux" "$dst/uapi/linux" '*.h'

# An existing tree without the stamp is an interrupted build of the same
# inputs: reconfiguring it in place lets make resume instead of restarting.
# A patched tree whose configuration was checked keeps it, so that new
# inputs rebuild only what they touch.
mkdir -p "$out"
log=$out/build.log
: >"$log"
if [ -e "$out/.pkvm-configured" ]; then
	vm_log "kernel $key: rebuilding with new inputs"
else
	vm_log "configuring kernel $key"
	# -m: merge only; olddefconfig then resolves dependencies and defaults
	# of everything the fragment switched on. && as in the build below.
	{
		"${mk[@]}" -C "$build_src" "O=$out" allnoconfig &&
			"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$fragment" &&
			"${mk[@]}" -C "$build_src" "O=$out" olddefconfig
	} >"$log" 2>&1 || { tail -n 30 "$log" >&2; vm_die "kernel configuration failed (log: $log)"; }

	# Kconfig silently drops a symbol whose dependencies are not met; a bench
	# built without, say, ARM_SMMU_V3=m would pass for the wrong reasons.
	bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			sym=${line%%=*}
			want=${line#*=}
			;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			want=n
			;;
		*) continue ;;
		esac
		have=$(grep -E "^$sym=" "$out/.config" | cut -d= -f2- || true)
		[ -n "$have" ] || have=n
		if [ "$have" != "$want" ]; then
			printf '[vm] error: %s: fragment wants %s, .config has %s\n' \
				"$sym" "$want" "$have" >&2
			bad=1
		fi
	done <"$fragment"
	[ "$bad" = 0 ] || vm_die "kernel.config did not apply (see above; Kconfig dependencies?)"
	touch "$out/.pkvm-configured"
fi

vm_log "building kernel $key with -j$(nproc) (log: $log)"
start=$SECONDS
# && and not two lines: errexit does not apply inside a group that is the
# left side of ||, so a failed "Image modules" followed by a successful
# modules_install would stamp a stale Image as built (and a failed
# allnoconfig above would go on with the previous .config).
{
	"${mk[@]}" -C "$build_src" "O=$out" -j"$(nproc)" Image modules &&
		"${mk[@]}" -C "$build_src" "O=$out" INSTALL_MOD_PATH="$out/modroot" modules_install
} >>"$log" 2>&1 || { tail -n 40 "$log" >&2; vm_die "kernel build failed (log: $log)"; }
[ -s "$out/Module.symvers" ] || vm_die "no Module.symvers in $out"
[ -s "$out/arch/arm64/boot/Image" ] || vm_die "no Image in $out"
printf '%s\n' "$inputs" >"$stamp"
write_env
vm_log "kernel $key built in $((SECONDS - start))s: $(cat "$out/include/config/kernel.release")"
