#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Cross-compiles the guest test program (guest/*.c) into one static aarch64
# binary for the VM's /opt/pkvm/. The output is named guest-test by default,
# which is the name run.sh's /init executes.
#
# usage: build-guest.sh [-o OUT]     (default: ./guest-test)
# env: CROSS_COMPILE (default aarch64-linux-gnu-), GUEST_CFLAGS (extra flags)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out=guest-test
while getopts o: opt; do
	case $opt in
	o) out=$OPTARG ;;
	*) vm_die "usage: $0 [-o OUT]" ;;
	esac
done

cc=${CROSS_COMPILE:-$VM_CROSS}gcc
command -v "$cc" >/dev/null || vm_die "$cc not found (tests/vm/deps.sh installs gcc-aarch64-linux-gnu)"
# -static needs the target's libc.a: libc6-dev-arm64-cross.
sysroot=$("$cc" -print-sysroot 2>/dev/null || true)
libc_a=$("$cc" -print-file-name=libc.a)
[ -f "$libc_a" ] || vm_die "$cc has no libc.a${sysroot:+ in $sysroot} (install libc6-dev-arm64-cross; tests/vm/deps.sh does)"

mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2086 # GUEST_CFLAGS is a list of flags
"$cc" -static -std=gnu11 -O2 -g -D_GNU_SOURCE \
	-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-truncation -Wvla \
	-I"$src/uapi" -I"$here/guest" ${GUEST_CFLAGS:-} \
	-o "$out.tmp" "$here"/guest/*.c
mv "$out.tmp" "$out"
