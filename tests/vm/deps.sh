#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Installs the host tools the bench needs. Quiet and quick when everything is
# already there, so run.sh can call it every time.
#
# usage: deps.sh [-c]
#   -c   check only: list what is missing, exit 1 if anything is
# exit 77: QEMU >= 10 is offered neither by the host's apt nor by its
#          release's backports, so this host cannot run the bench
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

check_only=0
while getopts c opt; do
	case $opt in
	c) check_only=1 ;;
	*) vm_die "usage: $0 [-c]" ;;
	esac
done

# kmod: modules_install needs depmod to write modules.dep, which busybox
# modprobe in the guest relies on. gcc/libc6-dev: kconfig and other host
# programs of the kernel build. libc6-dev-arm64-cross: libc.a for the static
# guest test program (build-guest.sh).
pkgs=(gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross make bc flex
	bison libssl-dev libelf-dev cpio xz-utils gzip kmod coreutils)
# bookworm's QEMU 7.2 has no stage-2 SMMUv3 (arm-smmuv3.stage arrived in
# 8.1); 10 is the version the bench is validated with.
qemu_min=10

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

qemu_ok() {
	local v
	installed qemu-system-arm || return 1
	v=$(dpkg-query -W -f='${Version}' qemu-system-arm)
	v=${v#*:}
	[ "${v%%.*}" -ge "$qemu_min" ]
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ "$check_only" = 1 ]; then
	qemu_ok || missing+=("qemu-system-arm>=$qemu_min")
	[ "${#missing[@]}" -eq 0 ] && exit 0
	vm_log "missing: ${missing[*]}"
	exit 1
fi
if [ "${#missing[@]}" -gt 0 ]; then
	vm_log "installing ${missing[*]}"
	vm_as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! qemu_ok; then
	host_cand=$(apt-cache policy qemu-system-arm |
		awk '/^  Candidate:/ { print $2; exit }')
	host_cand=${host_cand#*:}
	if [ "${host_cand%%.*}" -ge "$qemu_min" ] 2>/dev/null; then
		vm_log "installing qemu-system-arm $host_cand"
		vm_as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
	else
		# The host's release has an older QEMU. Rather than adding
		# backports to the host's sources (which would then offer
		# backports upgrades to everything), fetch just the three QEMU
		# packages through a private apt config and install the files;
		# their library dependencies all exist in the host's release.
		codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
		arch=$(dpkg --print-architecture)
		vm_papt_init "deps-$codename" "$arch" "$codename-backports"
		vm_papt_update
		bp_cand=$(vm_papt_candidate qemu-system-arm)
		bp_cand=${bp_cand#*:}
		if ! [ "${bp_cand%%.*}" -ge "$qemu_min" ] 2>/dev/null; then
			vm_log "no qemu-system-arm >= $qemu_min for this host: apt offers '${host_cand:-none}', $codename-backports '${bp_cand:-none}'"
			exit 77
		fi
		dir=$VM_CACHE/host-debs
		mkdir -p "$dir"
		cd "$dir"
		files=()
		for p in qemu-system-arm qemu-system-common qemu-system-data; do
			files+=("./$(vm_papt_download "$p")")
		done
		vm_log "installing ${files[*]#./} from $codename-backports"
		# Through a world-readable copy: apt hands local .debs to _apt,
		# which cannot read them under root's home.
		tmp=$(mktemp -d)
		trap 'rm -rf "$tmp"' EXIT
		cp "${files[@]}" "$tmp/"
		chmod 755 "$tmp"
		vm_as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends \
			"${files[@]/#./$tmp}" >/dev/null
	fi
	qemu_ok || vm_die "qemu-system-arm >= $qemu_min did not get installed"
fi
