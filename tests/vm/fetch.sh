#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Downloads the Debian packages the guest is built from (kernel source,
# static busybox) through a private apt configuration, and records their
# versions in $VM_CACHE/fetch.env for the other scripts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

series=${PKVM_VM_KERNEL_SERIES:-7.3}
ksrc=linux-source-$series

# Kernel sources come from trixie-backports (the newest Debian-patched tree);
# busybox-static from bookworm, which matches the host and is enough for an
# /init shell. Both are fetched as arm64 so the busybox binary runs in the guest
# (linux-source is arch:all and is listed under every architecture).
vm_papt_init fetch arm64 trixie-backports bookworm
vm_papt_update

if [ -z "$(vm_papt_candidate "$ksrc")" ]; then
	avail=$(apt-cache "${PAPT[@]}" search --names-only '^linux-source-[0-9]' |
		cut -d' ' -f1 | sort -V | tr '\n' ' ')
	vm_die "$ksrc not found; available: ${avail:-none}. Set PKVM_VM_KERNEL_SERIES."
fi

mkdir -p "$VM_DEBS"
cd "$VM_DEBS"
kdeb=$(vm_papt_download "$ksrc")
bdeb=$(vm_papt_download busybox-static)

kver=$(dpkg-deb -f "$kdeb" Version)
bver=$(dpkg-deb -f "$bdeb" Version)
# Stable names let the other scripts find the files without repeating the
# version logic.
ln -sfn "$kdeb" linux-source.deb
ln -sfn "$bdeb" busybox-static.deb
cat >"$VM_CACHE/fetch.env.new" <<EOT
LINUX_SOURCE_PKG=$ksrc
LINUX_SOURCE_VERSION=$kver
LINUX_SOURCE_DEB=$VM_DEBS/$kdeb
BUSYBOX_VERSION=$bver
BUSYBOX_DEB=$VM_DEBS/$bdeb
EOT
mv "$VM_CACHE/fetch.env.new" "$VM_CACHE/fetch.env"
vm_log "$ksrc $kver, busybox-static $bver"
