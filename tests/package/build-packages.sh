#!/usr/bin/env bash
# build-packages.sh SRCDIR OUTDIR: the Debian packages (debian/) built with
# `dpkg-buildpackage -us -uc -b` in a clean copy of SRCDIR, never in
# SRCDIR itself (no build directory, object or debian/tmp left there, and
# none of SRCDIR's build directories leaks into the package). The copy is
# what git tracks plus new files git does not ignore, as they are in the
# work tree, so uncommitted changes are built too; outside git, SRCDIR
# minus build*/ and .git. The .debs, .changes and .buildinfo go to OUTDIR,
# with the source package (.dsc, .tar.xz) of the same copy, for lintian's
# source checks.
# env: PKVM_PACKAGE_JOBS (default 2), DEB_BUILD_OPTIONS (added to).
set -euo pipefail
src=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
jobs=${PKVM_PACKAGE_JOBS:-2}

command -v dpkg-buildpackage >/dev/null || {
	echo "build-packages: dpkg-buildpackage missing (Debian package dpkg-dev; ./dev deps)" >&2
	exit 77
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pkvm-iommu-package.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# dpkg-buildpackage -b writes its results next to the source directory.
copy=$tmp/pkvm-iommu
mkdir "$copy"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Files deleted in the work tree but still in the index are skipped.
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		(cd "$src" && while IFS= read -r -d '' f; do
			[[ -e $f || -L $f ]] && printf '%s\0' "$f"
		done) | tar -C "$src" --null -T - -cf - | tar -C "$copy" -xf -
else
	tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$copy" -xf -
fi

# Before the build, which would leave its objects in the copy.
(cd "$tmp" && dpkg-source --build pkvm-iommu >&2)
echo "build-packages: dpkg-buildpackage -us -uc -b in $copy (parallel=$jobs)" >&2
(cd "$copy" && DEB_BUILD_OPTIONS="parallel=$jobs${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}" \
	dpkg-buildpackage -us -uc -b)
made=()
for f in "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$tmp"/*.dsc "$tmp"/*.tar.*; do
	[[ -f $f ]] && mv -f "$f" "$out/" && made+=("${f##*/}")
done
echo "build-packages: ${made[*]} in $out" >&2
