#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Host side of the VM daemon test: the arm64 (Debian multiarch) development
# packages the daemon links against, so that it can be cross-built with
# aarch64-linux-gnu-gcc. Idempotent: silent when everything is there.
# This adds the arm64 architecture to the host's dpkg (the host's own
# sources then also serve arm64); nothing else about apt is changed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
. "$here/lib.sh"

# check:arm64 only because the top-level build configures tests/ (Check) too.
pkgs=(libjson-c-dev:arm64 libnl-genl-3-dev:arm64 libsystemd-dev:arm64 check:arm64
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross pkg-config)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "${1:-}" = -c ]; then
	printf '%s\n' "${missing[@]}"
	exit 1
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
	vm_log "dpkg --add-architecture arm64"
	vm_as_root dpkg --add-architecture arm64
fi
vm_log "installing ${missing[*]}"
vm_as_root apt-get -qq update >/dev/null
vm_as_root env DEBIAN_FRONTEND=noninteractive apt-get -qq -y install "${missing[@]}" >/dev/null
