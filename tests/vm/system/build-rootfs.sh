#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The vm_system suite's root file system: Debian bookworm arm64 with systemd
# as PID 1, as an ext4 image, configured by dpkg inside the guest on its
# first boot and cached. Prints the configured image's path.
#
# usage: build-rootfs.sh KIMAGE
#   KIMAGE  the kernel the first boot runs (the bench's one kernel)
#
# 1. apt resolves the package set's closure (PACKAGES below + Essential:
#    yes) in a private configuration of lib.sh against an empty dpkg
#    status, and downloads it: no hand-written closure.
# 2. dpkg-deb extracts every package into a staging tree with merged /usr
#    (as debootstrap and mmdebstrap do), which is then enough for dpkg
#    itself to run; the .debs are copied in; mkfs.ext4 -d makes the image
#    (no loop device, no mount, no root needed for the image itself).
# 3. One boot with init=/sbin/pkvm-firstboot installs them properly with
#    `dpkg --install` (maintainer scripts, dpkg's database) and powers off.
# The result is cached under $VM_CACHE/system/image-KEY/, KEY hashing the
# resolved package versions, this script and rootfs/: a warm run only boots
# it (with writes kept in an overlay, see boot.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"
[ $# -eq 1 ] || vm_die "usage: $0 KIMAGE"
kimage=$1

# What the checks need beyond Essential: systemd as init with udev and
# logind (libpam-systemd), the system bus, real polkit (polkitd; pkexec for
# its action), the tools the checks call, and the shared libraries of the
# cross-built pkvm-iommud and pkvm-iommuctl (libsystemd0 comes with systemd),
# which are what package pkvm-iommud's Depends would pull in.
PACKAGES=(systemd systemd-sysv udev dbus libpam-systemd polkitd pkexec
	passwd util-linux procps iproute2 kmod
	libjson-c5 libnl-3-200 libnl-genl-3-200)

vm_papt_init system-bookworm arm64 bookworm
vm_papt_update
# apt-get reads the host's dpkg lock unless told not to; nothing is
# installed here, only resolved and downloaded into the suite's own cache.
apt_opts=("${PAPT[@]}" -o Debug::NoLocking=1 -o APT::Install-Recommends=false
	-o "Dir::Cache::archives=$VM_CACHE/system/debs")
mkdir -p "$VM_CACHE/system/debs/partial"
# "Inst PKG (VERSION ...)" lines, in apt's unpack order.
resolved=$(apt-get "${apt_opts[@]}" -s install '?essential' "${PACKAGES[@]}" |
	sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) .*/\1 \2/p')
[ -n "$resolved" ] || vm_die "apt resolved no packages for: ${PACKAGES[*]}"
key=$({
	printf '%s\n' "$resolved"
	cat "$0" "$here"/rootfs/*
} | sha256sum | cut -c1-16)
dir=$VM_CACHE/system/image-$key
img=$dir/configured.img
if [ -e "$img" ]; then
	vm_log "root image $key cached ($(wc -l <<<"$resolved") packages)"
	printf '%s\n' "$img"
	exit 0
fi

vm_log "root image $key: downloading $(wc -l <<<"$resolved") packages"
apt-get "${apt_opts[@]}" -qq -y --download-only install '?essential' "${PACKAGES[@]}" >/dev/null ||
	vm_die "apt-get --download-only failed"

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp"
stage=$dir.tmp/root
mkdir -p "$stage"
# Merged /usr before anything is extracted, and tar told to keep those
# links: bookworm's packages still ship /bin, /sbin, /lib paths.
for d in bin sbin lib; do
	mkdir -p "$stage/usr/$d"
	ln -s "usr/$d" "$stage/$d"
done
mkdir -p "$stage/var/cache/pkvm-debs"
: >"$stage/var/cache/pkvm-debs/order"
# base-passwd first: its preinst writes /etc/passwd and /etc/group, which
# other packages' scripts look names up in.
order=$(grep '^base-passwd ' <<<"$resolved"; grep -v '^base-passwd ' <<<"$resolved")
while read -r pkg ver; do
	f=$(cd "$VM_CACHE/system/debs" && vm_deb_file "$pkg" "$ver") ||
		vm_die "no .deb for $pkg $ver after the download"
	dpkg-deb --fsys-tarfile "$VM_CACHE/system/debs/$f" |
		tar -x --keep-directory-symlink -C "$stage"
	cp "$VM_CACHE/system/debs/$f" "$stage/var/cache/pkvm-debs/"
	printf '%s\n' "$f" >>"$stage/var/cache/pkvm-debs/order"
done <<<"$order"

# dpkg's database starts empty; the first boot fills it.
mkdir -p "$stage/var/lib/dpkg/info" "$stage/var/lib/dpkg/updates"
: >"$stage/var/lib/dpkg/status"
install -m 0755 "$here/rootfs/pkvm-firstboot" "$stage/sbin/pkvm-firstboot"
printf 'pkvm-guest\n' >"$stage/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tpkvm-guest\n' >"$stage/etc/hosts"
printf '/dev/vda\t/\text4\trw\t0\t1\n' >"$stage/etc/fstab"
mkdir -p "$stage/opt/pkvm"
units=$stage/etc/systemd/system
mkdir -p "$units/multi-user.target.wants"
install -m 0644 "$here/rootfs/pkvm-system-checks.service" "$units/"
ln -s ../pkvm-system-checks.service "$units/multi-user.target.wants/"
# The checks own the console; a login prompt on it would interleave.
ln -s /dev/null "$units/serial-getty@ttyAMA0.service"

# Room for the installation (dpkg unpacks every package once more) and
# for what the checks write; the file is sparse.
size_mb=$(($(du -sm "$stage" | cut -f1) * 2 + 1024))
mkfs.ext4 -q -F -L pkvm-root -d "$stage" "$dir.tmp/configured.img" "${size_mb}M" >/dev/null ||
	vm_die "mkfs.ext4 -d failed"
rm -rf "$stage"

vm_log "root image $key: first boot (dpkg --install in the guest)"
start=$SECONDS
rc=0
"$here/boot.sh" -w -k "$kimage" -r "$dir.tmp/configured.img" -l "$dir.tmp/firstboot.log" \
	-t "${PKVM_VM_FIRSTBOOT_TIMEOUT:-2400}" -- init=/sbin/pkvm-firstboot || rc=$?
tr -d '\r' <"$dir.tmp/firstboot.log" >"$dir.tmp/firstboot.txt"
grep '^pkvm-system: ' "$dir.tmp/firstboot.txt" >&2 || true
for want in 'dpkg --install exit 0' 'dpkg --configure exit 0' 'dpkg --audit lines 0' \
	'/ read-only' configured; do
	grep -qx "pkvm-system: $want" "$dir.tmp/firstboot.txt" ||
		vm_die "first boot (exit $rc) did not report '$want' (console: $dir.tmp/firstboot.txt)"
done
printf '%s\n' "$((SECONDS - start))" >"$dir.tmp/firstboot-seconds"
printf '%s\n' "$resolved" >"$dir.tmp/packages.txt"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
vm_log "root image $key configured in $(cat "$dir/firstboot-seconds")s"
printf '%s\n' "$img"
