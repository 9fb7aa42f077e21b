#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# The meson 'vm_system' test (issue 13, item 2): the bench's one kernel
# booting a Debian bookworm arm64 root file system whose PID 1 is systemd
# (build-rootfs.sh, cached configured), twice, from a per-run copy of it:
# boot 1 installs the project's arm64 .debs (build-pkg.sh) with dpkg -i,
# boot 2 is the next cold boot of that system (module from modules-load.d,
# the enabled unit, the daemon's checks, dpkg --purge). The checks
# (guest/*) are on a payload disk that pkvm-system-checks.service runs once
# multi-user.target is reached. Prints the guest's check lines, the
# measured figures and the wall time; saves `systemd-analyze security` as
# run in the guest to OUTDIR/systemd-analyze-security.txt. Exits 0 on a
# clean pass, 1 on any failure, 77 (meson's SKIP) only when the host cannot
# run the bench.
#
# usage: vm-system-test.sh OUTDIR [ARM64_BUILDDIR]  (meson: build/tests/vm/system,
#        build/build-arm64-pkg; the cross build dir defaults to OUTDIR/build-arm64-pkg)
# env: PKVM_VM_KERNEL_ENV  a kernel.env to boot instead of the bench's own
#      PKVM_VM_TIMEOUT     each boot's timeout in s (default 900)
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

# The project's packages for arm64 (build-pkg.sh): the module against the
# kernel's tree first, which pkvm-iommu-modules-KRELEASE holds; shlibs from
# the root image's own libraries.
KDIR=$KDIR "$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build" ||
	vm_die "build-module.sh failed"
"$here/build-pkg.sh" "$out" "${2:-$out/build-arm64-pkg}" "$(dirname "$img")/packages.txt" \
	"$VM_CACHE/system/debs" "$KRELEASE" "$out/pkvm_iommu.ko" || vm_die "build-pkg.sh failed"
# The daemon test's guest helper: `pkvm-dtool fault` has edu DMA into a
# page it donated, the fault the daemon's journal fields are checked on.
vm_guest_cc "$out/pkvm-dtool" "$vm/daemon/pkvm-dtool.c" "$vm/guest/hw.c"
# This suite's own: a page that stays donated, and edu's DMA into it.
vm_guest_cc "$out/pkvm-systool" "$here/pkvm-systool.c" "$vm/guest/hw.c"
vm_log "module and packages ready ($((SECONDS - t0))s)"

# The payload: what this run checks and installs, on a disk of its own, so
# a change of either never invalidates the configured root image.
payload=$out/payload
rm -rf "$payload" "$out/payload.img"
mkdir -p "$payload"
install -m 0755 "$here/guest/system-checks" "$out/pkvm-dtool" "$out/pkvm-systool" "$payload/"
install -m 0644 "$here/guest/install-checks" "$here/guest/boot2-checks" \
	"$here/guest/daemon-checks" "$here/guest/purge-checks" "$payload/"
cp -a "$out/debs" "$payload/debs"
mkfs.ext4 -q -F -L pkvm-payload -d "$payload" "$out/payload.img" \
	"$(($(du -sm "$payload" | cut -f1) + 16))M" >/dev/null ||
	vm_die "mkfs.ext4 of the payload failed"

# Boot 1's installation must still be there on boot 2, a separate QEMU: a
# sparse copy of the cached image (about 1 s) is written instead of QEMU's
# throw-away overlay, and deleted afterwards.
root=$out/root.img
cp --sparse=always --reflink=auto "$img" "$root"
trap 'rm -f "$root"' EXIT

problems=()
qemu_s=0
for n in 1 2; do
	rc=0
	b0=$SECONDS
	"$here/boot.sh" -w -k "$KIMAGE" -r "$root" -p "$out/payload.img" -l "$out/console$n.log" \
		-t "${PKVM_VM_TIMEOUT:-900}" || rc=$?
	qemu_s=$((qemu_s + SECONDS - b0))
	tr -d '\r' <"$out/console$n.log" >"$out/console$n.txt"
	case $rc in
	0) ;;
	124 | 137) problems+=("boot $n: timeout after ${PKVM_VM_TIMEOUT:-900}s") ;;
	*) problems+=("boot $n: qemu exited with status $rc") ;;
	esac
	vm_log "boot $n: QEMU ran $((SECONDS - b0)) s"
done
clean=$out/console.txt
cat "$out/console1.txt" "$out/console2.txt" >"$clean"
# User space prints to this console too: only the kernel's WARNING forms,
# a WARN_ON's "WARNING: CPU" and lockdep's reports (kernel/locking/lockdep.c).
if vm_kernel_problems "$clean" "$out/kernel-problems.txt" \
	'WARNING: (CPU|possible|suspicious RCU|inconsistent lock|bad unlock|held lock|lock held|Nested lock|.*lock order)'; then
	problems+=("kernel reported a problem: $(head -n1 "$out/kernel-problems.txt")")
fi
grep -qx 'pkvm-system: boot 1 done' "$out/console1.txt" || problems+=("boot 1 did not finish its checks")
sed -n 's/^security| //p' "$clean" >"$out/systemd-analyze-security.txt"
grep -E '^(not )?ok - |^measured - |^[0-9]+ passed, [0-9]+ failed$' "$clean" || true
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$clean" | tail -n1 || true)
if [ -z "$summary" ]; then
	problems+=("no 'N passed, M failed' line from the guest")
else
	nfailed=${summary#*, }
	[ "${nfailed%% *}" -eq 0 ] || problems+=("$summary")
fi
grep -qx 'pkvm-system: checks done' "$out/console2.txt" || problems+=("boot 2 did not finish its checks")
echo "QEMU ran ${qemu_s} s (two boots); wall time $((SECONDS - t0)) s"
if [ "${#problems[@]}" -gt 0 ]; then
	for p in "${problems[@]}"; do
		vm_log "FAILED: $p"
	done
	vm_log "console log: $clean"
	exit 1
fi
