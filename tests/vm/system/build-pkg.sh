#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The project's Debian packages for arm64, made by debhelper itself from
# debian/, into OUTDIR/debs/: pkvm-iommud, pkvm-iommuctl, pkvm-iommu-dkms,
# and pkvm-iommu-modules-KRELEASE (the module built outside, see below).
#
# usage: build-pkg.sh OUTDIR BUILDDIR PACKAGES_TXT DEBDIR KRELEASE MODULE
#   BUILDDIR      the arm64 meson build directory (made if missing)
#   PACKAGES_TXT  "name version" of the root image's packages, DEBDIR their
#                 .debs: the guest's libraries, for dpkg-shlibdeps
#   MODULE        pkvm_iommu.ko built against KRELEASE's tree
#
# Why not `dpkg-buildpackage -aarm64 -b`: it works on a host where
# ../daemon/deps.sh added arm64 (dpkg-checkbuilddeps -aarm64 is content),
# but from a clean copy every run, so it cross-builds the whole project,
# every test program included, each time. The suite keeps its incremental
# arm64 build directory instead, so the build half is ours and
# the binary half is debhelper's own:
# 1. meson cross build (../daemon/aarch64.cross), prefix /usr, sysconfdir
#    /etc, `meson install` into what becomes debian/tmp (dh_auto_install's
#    job in a package build);
# 2. in a copy of debian/ (with kmod/ and uapi/ for the DKMS tree), under
#    dpkg-architecture -aarm64, every command `dh binary --no-act` lists
#    after the build stamp, in its order, with debian/rules' overrides,
#    except dh_auto_install (step 1). So the maintainer scripts (the
#    dh_installsystemd enable/start/restart snippets, dh_dkms's, our
#    postrm with #DEBHELPER# filled), conffiles (dh_installdeb), md5sums
#    and the control files (dh_gencontrol: Architecture arm64) are exactly
#    what a native build makes;
# 3. dh_shlibdeps gets the guest's libraries as package build directories
#    (dpkg-shlibdeps -S: each library package extracted with its DEBIAN/
#    symbols), since the host's dpkg knows no arm64 library.
# The module: DKMS would build it in the guest, which needs a compiler and
# a kernel tree whose host programs run on arm64 there (tests/vm/README.md,
# "DKMS"). Instead pkvm-iommu-modules-KRELEASE holds the module built by
# build-module.sh where DKMS would install it (dkms.conf's
# DEST_MODULE_LOCATION, updates/dkms) and pkvm-iommu-dkms's modules-load.d
# file: what `dkms mkbmdeb` makes of a DKMS package, written by hand here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
src=$(cd "$vm/../.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"
[ $# -eq 6 ] || vm_die "usage: $0 OUTDIR BUILDDIR PACKAGES_TXT DEBDIR KRELEASE MODULE"
out=$(vm_outdir "$1")
bdir=$2 pkgs_txt=$3 debdir=$4 krelease=$5 module=$6

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

w=$out/pkg-work
rm -rf "$w" "$out/debs"
mkdir -p "$w/pkvm-iommu" "$out/debs"
tree=$w/pkvm-iommu
cp -a "$src/debian" "$src/kmod" "$src/uapi" "$tree/"
meson install -C "$bdir" --no-rebuild --destdir "$w/destdir" >"$out/pkg-install.log" 2>&1 ||
	{ tail -n 20 "$out/pkg-install.log" >&2; vm_die "meson install of $bdir failed"; }

# The guest's libraries the binaries need, one package build directory
# each (files + DEBIAN/ with its symbols or shlibs file).
needed=$(find "$w/destdir" -type f -perm -u+x -exec aarch64-linux-gnu-readelf -d {} + 2>/dev/null |
	sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' | sort -u)
[ -n "$needed" ] || vm_die "no NEEDED library in the arm64 binaries"
re="/($(tr '\n' '|' <<<"$needed" | sed 's/|$//; s/\./\\./g'))\$"
shlib_dirs=()
while read -r name ver; do
	case $name in lib*) ;; *) continue ;; esac
	f=$(cd "$debdir" && vm_deb_file "$name" "$ver") || continue
	dpkg-deb -c "$debdir/$f" | awk '{print $6}' | grep -E "$re" >/dev/null || continue
	d=$w/shlibs/$name
	mkdir -p "$d"
	dpkg-deb -x "$debdir/$f" "$d"
	dpkg-deb -e "$debdir/$f" "$d/DEBIAN"
	shlib_dirs+=("-S$d")
done <"$pkgs_txt"
[ "${#shlib_dirs[@]}" -gt 0 ] || vm_die "none of $pkgs_txt's packages holds $(tr '\n' ' ' <<<"$needed")"

# debhelper, as `dh binary` runs it after the build, for arm64.
eval "$(dpkg-architecture -aarm64 -s 2>/dev/null)"
export DEB_BUILD_OPTIONS="noautodbgsym nocheck"
# debian/rules exports it for the DKMS lines of pkvm-iommu-dkms.install.
DEB_VERSION_UPSTREAM=$(cd "$tree" && dpkg-parsechangelog -S Version)
DEB_VERSION_UPSTREAM=${DEB_VERSION_UPSTREAM%-*}
export DEB_VERSION_UPSTREAM
seq=$(cd "$tree" && dh binary --buildsystem=meson --no-act | sed -n '/create-stamp/,$p' | sed 1d)
log=$out/pkg-debhelper.log
: >"$log"
while read -r c args; do
	read -r -a argv <<<"$args"
	case $c in
	dh_auto_install) cmd=(mv "$w/destdir" "$tree/debian/tmp") ;;
	dh_shlibdeps) cmd=("$c" "${argv[@]}" -- "${shlib_dirs[@]}") ;;
	debian/rules) cmd=(make -f debian/rules "${argv[@]}") ;;
	*) cmd=("$c" "${argv[@]}") ;;
	esac
	printf '+ %s\n' "${cmd[*]}" >>"$log"
	(cd "$tree" && "${cmd[@]}") >>"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; vm_die "debhelper step failed: ${cmd[*]} (log: $log)"; }
done <<<"$seq"
mv "$w"/*.deb "$out/debs/"

# pkvm-iommu-modules-KRELEASE: the module DKMS would have installed.
version=$DEB_VERSION_UPSTREAM
m=$w/modules
mkdir -p "$m/DEBIAN" "$m/lib/modules/$krelease/updates/dkms"
install -m 0644 "$module" "$m/lib/modules/$krelease/updates/dkms/pkvm_iommu.ko"
dpkg-deb -x "$out/debs/pkvm-iommu-dkms_${version}_all.deb" "$w/dkms-root"
install -D -m 0644 "$w/dkms-root/usr/lib/modules-load.d/pkvm-iommu.conf" \
	"$m/usr/lib/modules-load.d/pkvm-iommu.conf"
cat >"$m/DEBIAN/control" <<EOF
Package: pkvm-iommu-modules-$krelease
Source: pkvm-iommu
Version: $version
Architecture: arm64
Maintainer: $(sed -n 's/^Maintainer: //p' "$src/debian/control")
Depends: kmod
Conflicts: pkvm-iommu-dkms
Section: kernel
Priority: optional
Description: pkvm_iommu module for Linux $krelease (test bench build)
 The pkvm_iommu module built outside DKMS against the bench kernel's tree,
 with pkvm-iommu-dkms's modules-load.d entry; what dkms mkbmdeb would make.
EOF
# What DKMS runs after installing or removing a module.
for s in postinst postrm; do
	printf '#!/bin/sh\nset -e\ndepmod -a %s\n' "$krelease" >"$m/DEBIAN/$s"
	chmod 0755 "$m/DEBIAN/$s"
done
(cd "$m" && find lib usr -type f -exec md5sum {} +) >"$m/DEBIAN/md5sums"
dpkg-deb --root-owner-group --build "$m" "$out/debs/pkvm-iommu-modules-${krelease}_${version}_arm64.deb" \
	>>"$log" 2>&1 || vm_die "dpkg-deb --build of pkvm-iommu-modules-$krelease failed"
rm -rf "$w"
vm_log "arm64 packages in $out/debs: $(cd "$out/debs" && echo *.deb)"
