# shellcheck shell=bash
# Shared helpers for the VM test bench; sourced, never executed.

# One cache root for everything the bench downloads or builds, so a `rm -rf`
# of it is a complete reset and nothing leaks into /etc or the repo.
VM_CACHE=${PKVM_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pkvm-iommu/vm}
# shellcheck disable=SC2034 # used by the sourcing scripts
VM_DEBS=$VM_CACHE/debs
VM_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
VM_MIRROR=${PKVM_VM_MIRROR:-http://deb.debian.org/debian}
# shellcheck disable=SC2034
VM_CROSS=aarch64-linux-gnu-

# vm_outdir DIR: creates DIR and prints its absolute path, so a script's
# OUTDIR argument works from any directory the script later cd's into.
vm_outdir() {
	mkdir -p "$1" && (cd "$1" && pwd)
}
vm_log() { printf '[vm] %s\n' "$*" >&2; }
vm_die() { printf '[vm] error: %s\n' "$*" >&2; exit 1; }

VM_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# vm_guest_cc OUT ARG...: a static arm64 program for the guest from the
# sources and extra flags in ARG, with the one set of warnings every guest
# program is built with (uapi and guest/ on the include path). OUT is
# replaced only by a complete binary.
vm_guest_cc() {
	local out=$1 cc=${CROSS_COMPILE:-$VM_CROSS}gcc sysroot libc_a
	shift
	command -v "$cc" >/dev/null || vm_die "$cc not found (tests/vm/deps.sh installs gcc-aarch64-linux-gnu)"
	# -static needs the target's libc.a: libc6-dev-arm64-cross.
	sysroot=$("$cc" -print-sysroot 2>/dev/null || true)
	libc_a=$("$cc" -print-file-name=libc.a)
	[ -f "$libc_a" ] || vm_die "$cc has no libc.a${sysroot:+ in $sysroot} (install libc6-dev-arm64-cross; tests/vm/deps.sh does)"
	mkdir -p "$(dirname "$out")"
	"$cc" -static -std=gnu11 -O2 -g -D_GNU_SOURCE \
		-Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wformat=2 -Wno-format-truncation -Wvla \
		-I"$VM_SRC/uapi" -I"$VM_SRC/tests/vm/guest" "$@" -o "$out.tmp"
	mv "$out.tmp" "$out"
}

# vm_host_or_skip OUTDIR [EXTRA_DEPS_SCRIPT...]: exit 77 (meson's SKIP),
# saying why, only when this host cannot run the bench at all; else install
# the bench's host tools (deps.sh). Everything else (a failing download,
# build or check) is a failure, never a skip. Extra deps scripts are only
# checked here (-c); their owners install them.
vm_host_or_skip() {
	local out=$1 vm d rc=0 missing=0
	shift
	vm=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	_vm_skip() {
		echo "SKIP: $*"
		vm_log "skipped: $*"
		exit 77
	}
	if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
		_vm_skip "not a Debian-like host: the bench installs its tools with apt and downloads the kernel source and busybox with apt-get"
	fi
	[ "$(uname -s)" = Linux ] || _vm_skip "not a Linux host"
	: >"$out/deps-missing.txt"
	for d in "$vm/deps.sh" "$@"; do
		"$d" -c >>"$out/deps-missing.txt" 2>&1 || missing=1
	done
	if [ "$missing" = 1 ] && [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
		_vm_skip "host packages missing ($(sed 's/^\[vm\] missing: //' "$out/deps-missing.txt" | tr '\n' ' ')) and no root or password-less sudo to install them; run ${*:+$* and }tests/vm/deps.sh once as root"
	fi
	"$vm/deps.sh" || rc=$?
	case $rc in
	0) ;;
	77) _vm_skip "no qemu-system-aarch64 >= 10 installable (see the deps.sh line above)" ;;
	*) vm_die "deps.sh failed ($rc)" ;;
	esac
}

# Runs a command as root: deps.sh is the only script that needs it, and it
# must still work for a developer who is not root but has sudo.
vm_as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		vm_die "need root (or sudo) to run: $*"
	fi
}

# vm_papt_init NAME ARCH SUITE...
# Sets up a private apt configuration under $VM_CACHE/apt/NAME and fills the
# array PAPT with the options that select it. The host's sources, pins and
# dpkg status are all masked, so that looking at trixie or backports here can
# never change what the host's own apt would install.
vm_papt_init() {
	local name=$1 arch=$2 suite
	shift 2
	local root=$VM_CACHE/apt/$name
	mkdir -p "$root/state/lists/partial" "$root/cache/archives/partial" \
		"$root/prefs.d"
	[ -e "$root/status" ] || : >"$root/status"
	{
		for suite in "$@"; do
			printf 'deb [arch=%s signed-by=%s] %s %s main\n' \
				"$arch" "$VM_KEYRING" "$VM_MIRROR" "$suite"
		done
	} >"$root/sources.list.new"
	# Rewriting the list unconditionally would make apt think the sources
	# changed; only replace it when it really did.
	if cmp -s "$root/sources.list.new" "$root/sources.list"; then
		rm -f "$root/sources.list.new"
	else
		mv "$root/sources.list.new" "$root/sources.list"
		rm -f "$root/state/lists/"*_Release "$root/state/lists/"*_InRelease
	fi
	PAPT_ROOT=$root
	PAPT=(
		-o "Dir::Etc::sourcelist=$root/sources.list"
		-o "Dir::Etc::sourceparts=-"
		-o "Dir::Etc::preferences=$root/prefs.d/none"
		-o "Dir::Etc::preferencesparts=$root/prefs.d"
		-o "Dir::State=$root/state"
		-o "Dir::State::status=$root/status"
		-o "Dir::Cache=$root/cache"
		-o "APT::Architecture=$arch"
		-o "APT::Architectures=$arch"
		# apt drops privileges to _apt, which cannot write into a cache
		# under root's home; the sandbox buys nothing for a download.
		-o "APT::Sandbox::User=$(id -un)"
		-q
	)
}

# Refreshes the private indexes at most once a day (PKVM_VM_REFRESH=1 forces):
# a cached run should not depend on the mirror being reachable.
vm_papt_update() {
	local stamp=$PAPT_ROOT/updated
	if [ "${PKVM_VM_REFRESH:-0}" != 1 ] && [ -e "$stamp" ] &&
		[ -n "$(find "$stamp" -mmin -1440)" ] &&
		[ "$stamp" -nt "$PAPT_ROOT/sources.list" ]; then
		return 0
	fi
	vm_log "apt-get update ($(basename "$PAPT_ROOT"))"
	apt-get "${PAPT[@]}" -qq update >/dev/null || vm_die "apt-get update failed"
	touch "$stamp"
}

# Prints the candidate version of a package in the private config, or
# nothing if there is none.
vm_papt_candidate() {
	apt-cache "${PAPT[@]}" policy "$1" 2>/dev/null |
		awk '/^  Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# Prints the name of PKG's .deb at version VER in the current directory, or
# fails if there is none.
vm_deb_file() {
	local f
	# apt names files with the epoch colon escaped as %3a.
	for f in "${1%%:*}_${2/:/%3a}_"*.deb; do
		[ -e "$f" ] && printf '%s\n' "$f" && return 0
	done
	return 1
}

# Downloads PKG at its candidate version into the current directory unless
# that exact file is already there; prints the file name.
vm_papt_download() {
	local pkg=$1 ver
	ver=$(vm_papt_candidate "$pkg")
	[ -n "$ver" ] || vm_die "no candidate for $pkg in $(basename "$PAPT_ROOT")"
	if ! vm_deb_file "$pkg" "$ver"; then
		apt-get "${PAPT[@]}" -qq download "$pkg=$ver" >/dev/null ||
			vm_die "apt-get download $pkg=$ver failed"
		vm_deb_file "$pkg" "$ver" || vm_die "apt-get download left no file for $pkg"
	fi
}

# vm_kernel: the bench's one guest kernel (build-kernel.sh; cached, rebuilt
# incrementally when the patch series or kmod/hyp change), with its host
# tools and sources; prints the path of its kernel.env (run.sh:
# PKVM_VM_KERNEL_ENV). Every VM suite boots this kernel.
vm_kernel() {
	local vm
	vm=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	"$vm/deps.sh" >&2
	"$vm/fetch.sh" >&2
	"$vm/build-kernel.sh" -e
}

# vm_kernel_env: the kernel.env a suite boots: the caller's
# PKVM_VM_KERNEL_ENV when it names one, else the bench's one kernel
# (vm_kernel); dies when there is none.
vm_kernel_env() {
	local env=${PKVM_VM_KERNEL_ENV:-}

	if [ -z "$env" ]; then
		env=$(vm_kernel) || vm_die "the bench's kernel failed to build"
	fi
	[ -f "$env" ] || vm_die "no kernel.env at $env"
	printf '%s\n' "$env"
}

# vm_kernel_problems CONSOLE OUT WARNINGS: the console's lines where the
# kernel reports a bug in itself or a driver, into OUT; true if there are
# any. The sanitizers of kernel.config report as "BUG: KASAN: ...",
# "UBSAN: ..." and lockdep's "WARNING: ..." (DEBUG_LOCKS_WARN_ON once it
# has turned itself off). WARNINGS is the ERE for the kernel's WARNING
# lines: an initramfs console may take every "WARNING:"; a system whose
# user space prints to the same console names the kernel's forms.
vm_kernel_problems() {
	grep -nE "Oops|BUG:|kernel BUG|Kernel panic|Unable to handle kernel|Internal error:|Call trace:|cut here \]|UBSAN:|KASAN:|DEBUG_LOCKS_WARN_ON|$3" \
		"$1" >"$2"
}
