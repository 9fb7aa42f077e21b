#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The meson 'vm' suite: host tools, the cached guest kernel, pkvm_iommu.ko
# built against it (build-module.sh), the static guest test program
# (build-guest.sh), then one boot of the bench (run.sh) with both. Exits 0 on
# a clean pass, 1 on any failure, and 77 (meson's SKIP) only when this host
# cannot run the bench at all, saying why.
#
# usage: vm-test.sh OUTDIR     (meson passes its build directory for tests/vm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out=${1:?usage: $0 OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

skip() {
	echo "SKIP: $*"
	vm_log "skipped: $*"
	exit 77
}

# Reasons this host cannot run the bench at all. Everything else (a
# download that fails, a build error, a failing check) is a failure.
if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
	skip "not a Debian-like host: the bench installs its tools with apt and downloads the kernel source and busybox with apt-get"
fi
[ "$(uname -s)" = Linux ] || skip "not a Linux host"
if ! "$here/deps.sh" -c 2>"$out/deps-missing.txt"; then
	if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
		skip "host packages missing ($(sed 's/^\[vm\] missing: //' "$out/deps-missing.txt")) and no root or password-less sudo to install them; run tests/vm/deps.sh once as root"
	fi
fi
rc=0
"$here/deps.sh" || rc=$?
case $rc in
0) ;;
77) skip "no qemu-system-aarch64 >= 10 installable (see the deps.sh line above)" ;;
*) vm_die "deps.sh failed ($rc)" ;;
esac

t0=$SECONDS
# run.sh does these too; the module needs the kernel tree first. Both are
# no-ops once cached.
"$here/fetch.sh"
"$here/build-kernel.sh"
"$here/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build"
"$here/build-guest.sh" -o "$out/guest-test"
vm_log "module and guest test built ($((SECONDS - t0))s)"
PKVM_VM_LOG=$out/console.log "$here/run.sh" "$out/guest-test" "$out/pkvm_iommu.ko"
