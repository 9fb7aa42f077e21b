#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The meson 'vm_system' test (issue 13, item 2): the bench's one kernel
# booting a Debian bookworm arm64 root file system whose PID 1 is systemd
# (build-rootfs.sh, cached configured), with the checks
# (guest/system-checks) on a payload disk that pkvm-system-checks.service
# runs once multi-user.target is reached. Prints the guest's check lines,
# the measured figures and the wall time. Exits 0 on a clean pass, 1 on
# any failure, 77 (meson's SKIP) only when the host cannot run the bench.
#
# usage: vm-system-test.sh OUTDIR [ARM64_BUILDDIR]  (meson: build/tests/vm/system,
#        build/build-arm64-pkg; the cross build dir defaults to OUTDIR/build-arm64-pkg)
# env: PKVM_VM_KERNEL_ENV  a kernel.env to boot instead of the bench's own
#      PKVM_VM_TIMEOUT     the boot's timeout in s (default 900)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/.." && pwd)
# shellcheck source=../lib.sh
. "$vm/lib.sh"

out=$(vm_outdir "${1:?usage: $0 OUTDIR}")
vm_host_or_skip "$out"

t0=$SECONDS
env=$(vm_kernel_env) || exit 1
# shellcheck source=/dev/null
. "$env"
vm_log "kernel $KRELEASE ready ($((SECONDS - t0))s)"

img=$("$here/build-rootfs.sh" "$KIMAGE") || vm_die "build-rootfs.sh failed"
vm_log "root image ready ($((SECONDS - t0))s): $img"

# The project's files: the module against the kernel's tree, and the files
# of packages pkvm-iommud and pkvm-iommuctl for arm64 (build-pkg.sh).
KDIR=$KDIR "$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build" ||
	vm_die "build-module.sh failed"
"$here/build-pkg.sh" "$out" "${2:-$out/build-arm64-pkg}" || vm_die "build-pkg.sh failed"
# The daemon test's guest helper: `pkvm-dtool fault` has edu DMA into a
# page it donated, the fault the daemon's journal fields are checked on.
vm_guest_cc "$out/pkvm-dtool" "$vm/daemon/pkvm-dtool.c" "$vm/guest/hw.c"
vm_log "module and package files ready ($((SECONDS - t0))s)"

# The payload: what this run checks and installs, on a disk of its own, so
# a change of either never invalidates the configured root image.
payload=$out/payload
rm -rf "$payload" "$out/payload.img"
mkdir -p "$payload"
install -m 0755 "$here/guest/system-checks" "$payload/"
install -m 0644 "$here/guest/daemon-checks" "$out/pkvm_iommu.ko" "$payload/"
install -m 0755 "$out/pkvm-dtool" "$payload/"
cp -a "$out/pkg" "$payload/pkg"
mkfs.ext4 -q -F -L pkvm-payload -d "$payload" "$out/payload.img" \
	"$(($(du -sm "$payload" | cut -f1) + 16))M" >/dev/null ||
	vm_die "mkfs.ext4 of the payload failed"

rc=0
b0=$SECONDS
"$here/boot.sh" -k "$KIMAGE" -r "$img" -p "$out/payload.img" -l "$out/console.log" \
	-t "${PKVM_VM_TIMEOUT:-900}" || rc=$?
qemu_s=$((SECONDS - b0))
clean=$out/console.txt
tr -d '\r' <"$out/console.log" >"$clean"

problems=()
case $rc in
0) ;;
124 | 137) problems+=("timeout after ${PKVM_VM_TIMEOUT:-900}s") ;;
*) problems+=("qemu exited with status $rc") ;;
esac
if grep -nE 'Oops|BUG:|kernel BUG|WARNING: CPU|Kernel panic|Unable to handle kernel|Internal error:|Call trace:|cut here \]' \
	"$clean" >"$out/kernel-problems.txt"; then
	problems+=("kernel reported a problem: $(head -n1 "$out/kernel-problems.txt")")
fi
grep -E '^(not )?ok - |^measured - |^[0-9]+ passed, [0-9]+ failed$' "$clean" || true
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$clean" | tail -n1 || true)
if [ -z "$summary" ]; then
	problems+=("no 'N passed, M failed' line from the guest")
else
	nfailed=${summary#*, }
	[ "${nfailed%% *}" -eq 0 ] || problems+=("$summary")
fi
grep -qx 'pkvm-system: checks done' "$clean" || problems+=("the checks did not finish")
echo "QEMU ran ${qemu_s} s; wall time $((SECONDS - t0)) s"
if [ "${#problems[@]}" -gt 0 ]; then
	for p in "${problems[@]}"; do
		vm_log "FAILED: $p"
	done
	vm_log "console log: $clean"
	exit 1
fi
