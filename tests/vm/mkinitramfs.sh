#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Builds the guest's initramfs: static busybox, an /init that runs
# /opt/pkvm/guest-test and powers off, the kernel's modules, and any extra
# files (test binaries, .ko files) under /opt/pkvm/.
#
# usage: mkinitramfs.sh -o OUT.cpio.gz [-m MODROOT] [FILE...]
#   MODROOT  an INSTALL_MOD_PATH from `make modules_install` (lib/modules/...)
#   FILE     copied to /opt/pkvm/<basename>, mode kept; a later FILE with the
#            same basename replaces an earlier one
# env: PKVM_VM_SYSROOT  optional directory tree (e.g. Debian arm64 libraries
#            and programs) merged into the root before the modules and FILEs,
#            so dynamically linked guest programs find their ld.so and libs
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out='' modroot=''
while getopts o:m: opt; do
	case $opt in
	o) out=$OPTARG ;;
	m) modroot=$OPTARG ;;
	*) vm_die "usage: $0 -o OUT.cpio.gz [-m MODROOT] [FILE...]" ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$out" ] || vm_die "usage: $0 -o OUT.cpio.gz [-m MODROOT] [FILE...]"
[ -e "$VM_CACHE/fetch.env" ] || "$here/fetch.sh"
# shellcheck source=/dev/null
. "$VM_CACHE/fetch.env"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
# The initramfs itself stays mounted as a writable root (a tmpfs since
# kernel.config builds TMPFS for vm_system's systemd), so /tmp needs no
# mount of its own.
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc,opt/pkvm}

dpkg-deb -x "$BUSYBOX_DEB" "$tmp/bb"
install -m 0755 "$tmp/bb/bin/busybox" "$root/bin/busybox"

# No /dev/console node here: the kernel's built-in default initramfs
# (usr/default_cpio_list) already provides it, and ours is unpacked on top.
# That keeps this script free of mknod and root.
cat >"$root/init" <<'EOT'
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
export PATH=/opt/pkvm:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
echo "pkvm-vm: init on $(uname -r)"
if [ -x /opt/pkvm/guest-test ]; then
	/opt/pkvm/guest-test
	echo "pkvm-vm: guest-test exit $?"
else
	echo "pkvm-vm: no /opt/pkvm/guest-test"
fi
# A leak in a module shows only after it is gone, so the scan runs last,
# twice: kmemleak ignores objects it first saw less than 5 s ago.
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	n=$(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak)
	cat /sys/kernel/debug/kmemleak
	echo "pkvm-vm: kmemleak $n suspected leaks"
fi
echo "pkvm-vm: poweroff"
poweroff -f
EOT
chmod 0755 "$root/init"

if [ -n "${PKVM_VM_SYSROOT:-}" ]; then
	[ -d "$PKVM_VM_SYSROOT" ] || vm_die "PKVM_VM_SYSROOT $PKVM_VM_SYSROOT is not a directory"
	# -a keeps the library symlinks; our /bin, /lib, ... are real
	# directories, so the tree's entries land inside them.
	cp -a "$PKVM_VM_SYSROOT/." "$root/"
fi

if [ -n "$modroot" ]; then
	[ -d "$modroot/lib/modules" ] || vm_die "$modroot/lib/modules missing"
	# build/source are links to the host's build tree, useless in the guest.
	cp -a "$modroot/lib" "$root/"
	find "$root/lib/modules" -maxdepth 2 \( -name build -o -name source \) -type l -delete
fi

for f in "$@"; do
	[ -f "$f" ] || vm_die "no such file: $f"
	cp -L --preserve=mode "$f" "$root/opt/pkvm/$(basename "$f")"
done

mkdir -p "$(dirname "$out")"
# Sorted, root-owned, fixed mtimes: the same inputs give the same image.
(
	cd "$root"
	find . -mindepth 1 -exec touch -h -d @0 {} +
	find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --reproducible --quiet
) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
