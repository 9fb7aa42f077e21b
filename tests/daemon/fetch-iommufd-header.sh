#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Provides the iommufd and VFIO uapi headers the daemon's iommufd probe
# needs (IOMMU_GET_HW_INFO, IOMMU_HW_INFO_TYPE_ARM_SMMUV3,
# VFIO_DEVICE_BIND_IOMMUFD): bookworm's linux-libc-dev (6.1) lacks them.
# Downloads Debian's linux-libc-dev from trixie-backports (the kernel series
# of the VM bench, PKVM_VM_KERNEL_SERIES, default 7.3, when there is one),
# else from trixie, through the VM bench's private apt configuration, and
# copies include/linux/{iommufd,vfio}.h to OUTDIR/linux/.
#
# usage: fetch-iommufd-header.sh OUTDIR
# Prints OUTDIR (absolute) on success; pass it with -I before the system
# headers. Idempotent: the .deb is cached under
# ${XDG_CACHE_HOME:-~/.cache}/pkvm-iommu/iommufd-headers and the headers are
# only rewritten when they change. Never touches the host's apt sources.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/vm/lib.sh
. "$here/../vm/lib.sh"

die() { printf '[iommufd-header] error: %s\n' "$*" >&2; exit 1; }
log() { printf '[iommufd-header] %s\n' "$*" >&2; }

if [ $# -ne 1 ] || [ -z "$1" ]; then die "usage: $0 OUTDIR"; fi
mkdir -p "$1/linux" || die "cannot create $1/linux"
out=$(cd "$1" && pwd)

series=${PKVM_VM_KERNEL_SERIES:-7.3}
cache=${PKVM_IOMMUFD_HEADER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pkvm-iommu/iommufd-headers}
mkdir -p "$cache"
# Headers under include/linux/ do not depend on the architecture; arm64 is
# the bench's guest architecture.
arch=arm64

# Each header and a symbol it must define for the probe to build.
need=(
	"iommufd.h IOMMU_GET_HW_INFO"
	"iommufd.h IOMMU_HW_INFO_TYPE_ARM_SMMUV3"
	"vfio.h VFIO_DEVICE_BIND_IOMMUFD"
)

headers_ok() { # DIR: the headers there define everything the probe needs
	local n h s
	for n in "${need[@]}"; do
		h=${n% *} s=${n#* }
		grep -qw "$s" "$1/$h" 2>/dev/null || return 1
	done
}

extract() { # DEB: copy its headers into $out/linux, or fail naming the gap
	local deb=$1 tmp n h s
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" RETURN
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" ./usr/include/linux/iommufd.h ./usr/include/linux/vfio.h 2>/dev/null ||
		die "$(basename "$deb") has no usr/include/linux/{iommufd,vfio}.h"
	for n in "${need[@]}"; do
		h=${n% *} s=${n#* }
		grep -qw "$s" "$tmp/usr/include/linux/$h" ||
			die "$(basename "$deb"): linux/$h lacks $s (kernel too old)"
	done
	for h in iommufd.h vfio.h; do
		# Unchanged headers keep their mtime, so nothing rebuilds.
		if ! cmp -s "$tmp/usr/include/linux/$h" "$out/linux/$h"; then
			cp "$tmp/usr/include/linux/$h" "$out/linux/$h.new"
			mv -f "$out/linux/$h.new" "$out/linux/$h"
		fi
	done
	headers_ok "$out/linux" || die "could not install headers into $out/linux"
	dpkg-deb -f "$deb" Version >"$out/linux/.version.new"
	cmp -s "$out/linux/.version.new" "$out/linux/.linux-libc-dev-version" ||
		mv -f "$out/linux/.version.new" "$out/linux/.linux-libc-dev-version"
	rm -f "$out/linux/.version.new"
}

# fetch SUITE: download linux-libc-dev from SUITE into $cache and print its
# file name; prints nothing if SUITE has no usable version.
fetch() {
	local suite=$1
	vm_papt_init "iommufd-headers-$suite" "$arch" "$suite"
	# apt-get update exits 0 when the mirror is unreachable (it only
	# warns); make that an error so it is reported as one.
	PAPT+=(-o APT::Update::Error-Mode=any)
	# Prefer the VM kernel's series; any other version still qualifies.
	printf 'Package: linux-libc-dev\nPin: version %s.*\nPin-Priority: 990\n' \
		"$series" >"$PAPT_ROOT/prefs.d/series.pref"
	if ! (vm_papt_update) 2>/dev/null; then
		# A cached download is still good without the mirror.
		local f
		f=$(find "$cache" -maxdepth 1 -name 'linux-libc-dev_*.deb' | sort -V | tail -n1)
		if [ -n "$f" ]; then
			log "cannot reach $VM_MIRROR ($suite); using cached $(basename "$f")"
			printf '%s\n' "$f"
			return 0
		fi
		die "cannot reach Debian's archive $VM_MIRROR (apt-get update of $suite failed) and nothing is cached in $cache"
	fi
	[ -n "$(vm_papt_candidate linux-libc-dev)" ] || return 0
	(cd "$cache" && vm_papt_download linux-libc-dev) | sed "s|^|$cache/|"
}

deb=$(fetch trixie-backports)
if [ -z "$deb" ]; then
	log "trixie-backports has no linux-libc-dev; trying trixie"
	deb=$(fetch trixie)
fi
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
	die "no linux-libc-dev in trixie-backports or trixie"
fi
extract "$deb"
log "linux/iommufd.h, linux/vfio.h from $(basename "$deb")"
printf '%s\n' "$out"
