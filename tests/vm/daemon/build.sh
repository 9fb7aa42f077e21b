#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Builds what the VM daemon test puts into the guest, into OUTDIR:
#   pkvm-iommud   the daemon, cross-built for arm64 by meson (aarch64.cross)
#                 in BUILDDIR (default OUTDIR/build-arm64), linked dynamically
#   pkvm-iommud-bench  the daemon's benchmark (tests/bench), same build; the
#                 guest runs its --backend kernel mode
#   pkvm-iommuctl the daemon's command-line client (cli/), same build
#   pkvm-dtool    static guest helper (pkvm-dtool.c + ../guest/hw.c)
#   sysroot/      the daemon's shared libraries, dbus-daemon and dbus-send,
#                 from Debian bookworm arm64 .debs (private apt of lib.sh),
#                 merged into the initramfs root by mkinitramfs.sh
#                 (PKVM_VM_SYSROOT)
#
# usage: build.sh OUTDIR [BUILDDIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
src=$(cd "$vm/../.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

[ $# -ge 1 ] || vm_die "usage: $0 OUTDIR [BUILDDIR]"
mkdir -p "$1"
out=$(cd "$1" && pwd)
bdir=${2:-$out/build-arm64}

"$here/deps.sh"

# 1. The daemon. fuzz stays 'auto': with 'disabled', tests/fuzz/meson.build
# reads an undefined variable (src) and the configure fails; nothing of the
# fuzz targets is built here anyway, only the daemon target.
if [ ! -e "$bdir/build.ninja" ]; then
	meson setup --cross-file "$here/aarch64.cross" -Ddaemon=enabled \
		"$bdir" "$src" >"$out/meson-setup.log" 2>&1 ||
		{ tail -n 20 "$out/meson-setup.log" >&2; vm_die "meson setup of $bdir failed"; }
fi
ninja -C "$bdir" daemon/pkvm-iommud tests/bench/pkvm-iommud-bench cli/pkvm-iommuctl \
	>"$out/ninja.log" 2>&1 ||
	{ tail -n 30 "$out/ninja.log" >&2; vm_die "cross build of pkvm-iommud, pkvm-iommud-bench or pkvm-iommuctl failed"; }
install -m 0755 "$bdir/daemon/pkvm-iommud" "$out/pkvm-iommud"
install -m 0755 "$bdir/tests/bench/pkvm-iommud-bench" "$out/pkvm-iommud-bench"
install -m 0755 "$bdir/cli/pkvm-iommuctl" "$out/pkvm-iommuctl"

# 2. The guest helper, static like the module's guest test.
"${VM_CROSS}gcc" -static -std=gnu11 -O2 -g -D_GNU_SOURCE \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wno-format-truncation -Wvla \
	-I"$src/uapi" -I"$vm/guest" \
	-o "$out/pkvm-dtool" "$here/pkvm-dtool.c" "$vm/guest/hw.c"

# 3. The sysroot. The host's multiarch -dev packages are bookworm's, so the
# runtime libraries come from bookworm too (same sonames and versions).
# The list is the shared-library closure of the programs (checked
# below, so a missing one fails the build rather than the boot).
pkgs=(libc6 libgcc-s1
	libjson-c5 libnl-3-200 libnl-genl-3-200
	libsystemd0 libcap2 libgcrypt20 libgpg-error0 liblz4-1 liblzma5 libzstd1
	dbus-daemon dbus-bin libdbus-1-3 libexpat1 libapparmor1 libaudit1
	libcap-ng0 libselinux1 libpcre2-8-0)
vm_papt_init daemon-sysroot arm64 bookworm
vm_papt_update
debs=$VM_CACHE/daemon-debs
mkdir -p "$debs"
files=()
for p in "${pkgs[@]}"; do
	files+=("$(cd "$debs" && vm_papt_download "$p")")
done
root=$out/sysroot
rm -rf "$root" "$root.tmp"
mkdir -p "$root.tmp"
for f in "${files[@]}"; do
	dpkg-deb -x "$debs/$f" "$root.tmp"
done
# Only programs and libraries: no docs, locales, gconv, audit/systemd units.
rm -rf "$root.tmp/usr/share" "$root.tmp/usr/lib/aarch64-linux-gnu/gconv" \
	"$root.tmp/usr/libexec" "$root.tmp/lib/systemd" "$root.tmp/usr/lib/systemd" \
	"$root.tmp/etc" "$root.tmp/var" "$root.tmp/usr/include"
# Every NEEDED of the programs and libraries must be in the sysroot.
need=$(find "$root.tmp" "$out/pkvm-iommud" "$out/pkvm-iommud-bench" "$out/pkvm-iommuctl" -type f \( -perm -u+x -o -name '*.so*' \) \
	-exec "${VM_CROSS}readelf" -d {} + 2>/dev/null |
	sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
for n in $need; do
	[ -n "$(find "$root.tmp" -name "$n" -print -quit)" ] ||
		vm_die "sysroot: $n (NEEDED) is in none of: ${pkgs[*]}"
done
mv "$root.tmp" "$root"
vm_log "daemon test files in $out: pkvm-iommud pkvm-iommud-bench pkvm-iommuctl pkvm-dtool sysroot/ ($(du -sh "$root" | cut -f1))"
