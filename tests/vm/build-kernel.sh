#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Builds the guest kernel (Image + modules + a tree for out-of-tree modules)
# from Debian's linux-source package and kernel.config, once per distinct
# input: the result is cached under a key of the fragment, the source
# package version and the cross compiler.
#
# On success writes $VM_CACHE/kernel.env with KDIR (build tree for
# `make -C $KDIR M=...`), KIMAGE, KMODROOT (modules_install root) and
# KRELEASE, and points $VM_CACHE/kernel/current at the build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

fragment=$here/kernel.config
[ -e "$VM_CACHE/fetch.env" ] || "$here/fetch.sh"
# shellcheck source=/dev/null
. "$VM_CACHE/fetch.env"

mk=(make -s ARCH=arm64 "CROSS_COMPILE=$VM_CROSS")
cc_ver=$("${VM_CROSS}gcc" -dumpfullversion)
# The compiler is part of the key as well: modules built later against the
# tree must be compiled by the same gcc as the kernel they load into.
key=$({
	cat "$fragment"
	printf '%s\n' "$LINUX_SOURCE_PKG" "$LINUX_SOURCE_VERSION" "$cc_ver"
} | sha256sum | cut -c1-16)

kroot=$VM_CACHE/kernel
out=$kroot/build-$key
stamp=$out/.pkvm-built

write_env() {
	local rel
	rel=$(cat "$out/include/config/kernel.release")
	ln -sfn "build-$key" "$kroot/current"
	cat >"$VM_CACHE/kernel.env.new" <<EOT
KERNEL_KEY=$key
KDIR=$out
KIMAGE=$out/arch/arm64/boot/Image
KMODROOT=$out/modroot
KRELEASE=$rel
EOT
	mv "$VM_CACHE/kernel.env.new" "$VM_CACHE/kernel.env"
}

if [ -e "$stamp" ]; then
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

# An existing tree without the stamp is an interrupted build of the same
# inputs: reconfiguring it in place lets make resume instead of restarting.
mkdir -p "$out"
log=$out/build.log
: >"$log"
vm_log "configuring kernel $key"
{
	"${mk[@]}" -C "$src" "O=$out" allnoconfig
	# -m: merge only; olddefconfig then resolves dependencies and defaults
	# of everything the fragment switched on.
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$fragment"
	"${mk[@]}" -C "$src" "O=$out" olddefconfig
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

vm_log "building kernel $key with -j$(nproc) (log: $log)"
start=$SECONDS
{
	"${mk[@]}" -C "$src" "O=$out" -j"$(nproc)" Image modules
	"${mk[@]}" -C "$src" "O=$out" INSTALL_MOD_PATH="$out/modroot" modules_install
} >>"$log" 2>&1 || { tail -n 40 "$log" >&2; vm_die "kernel build failed (log: $log)"; }
[ -s "$out/Module.symvers" ] || vm_die "no Module.symvers in $out"
[ -s "$out/arch/arm64/boot/Image" ] || vm_die "no Image in $out"
touch "$stamp"
write_env
vm_log "kernel $key built in $((SECONDS - start))s: $(cat "$out/include/config/kernel.release")"
