#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The files of Debian packages pkvm-iommud and pkvm-iommuctl, for arm64,
# laid out as the packages install them, into OUTDIR/pkg/.
#
# usage: build-pkg.sh OUTDIR BUILDDIR
#
# dpkg-buildpackage cannot build them for arm64 here: a cross build needs
# the arm64 architecture added to the host's dpkg and apt (`dpkg
# --add-architecture`), which the bench never does to the host. What
# debian/rules does is reproduced instead: meson with prefix /usr and
# sysconfdir /etc (dh_auto_configure's), cross-compiled with
# ../daemon/aarch64.cross, `meson install` into a staging tree (debian/tmp
# in a package build), and from it exactly the paths
# debian/pkvm-iommud.install and debian/pkvm-iommuctl.install name, plus
# pkvm-iommu-dkms's modules-load.d file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
src=$(cd "$vm/../.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"
[ $# -eq 2 ] || vm_die "usage: $0 OUTDIR BUILDDIR"
out=$(vm_outdir "$1")
bdir=$2

"$vm/daemon/deps.sh"
# fuzz stays 'auto', as in ../daemon/build.sh.
if [ ! -e "$bdir/build.ninja" ]; then
	meson setup --cross-file "$vm/daemon/aarch64.cross" --prefix=/usr --sysconfdir=/etc \
		-Ddaemon=enabled "$bdir" "$src" >"$out/pkg-setup.log" 2>&1 ||
		{ tail -n 20 "$out/pkg-setup.log" >&2; vm_die "meson setup of $bdir failed"; }
fi
# Only what the packages hold is built; --no-rebuild then installs it
# without building the test programs for arm64.
ninja -C "$bdir" daemon/pkvm-iommud cli/pkvm-iommuctl >"$out/pkg-ninja.log" 2>&1 ||
	{ tail -n 30 "$out/pkg-ninja.log" >&2; vm_die "cross build of pkvm-iommud/pkvm-iommuctl failed"; }
tmp=$out/pkg-destdir
rm -rf "$tmp" "$out/pkg"
meson install -C "$bdir" --no-rebuild --destdir "$tmp" >"$out/pkg-install.log" 2>&1 ||
	{ tail -n 20 "$out/pkg-install.log" >&2; vm_die "meson install of $bdir failed"; }
n=0
# A line with one path is a file of meson's install; pkvm-iommu-dkms's
# two-field lines are module sources for DKMS, which the guest does not
# build (the module comes prebuilt, see README.md): of that package only
# its modules-load.d file is taken.
for list in "$src/debian/pkvm-iommud.install" "$src/debian/pkvm-iommuctl.install" \
	"$src/debian/pkvm-iommu-dkms.install"; do
	while read -r path dest; do
		case $path in '' | '#'*) continue ;; esac
		[ -z "$dest" ] || continue
		[ -e "$tmp/$path" ] || vm_die "${list##*/} names $path, which meson did not install"
		install -D -m "$(stat -c %a "$tmp/$path")" "$tmp/$path" "$out/pkg/$path"
		n=$((n + 1))
	done <"$list"
done
rm -rf "$tmp"
vm_log "package files for arm64: $n in $out/pkg"
