#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# package-test.sh SRCDIR OUTDIR: the Debian packages built from a clean copy
# of SRCDIR (build-packages.sh: dpkg-buildpackage -us -uc -b, the .debs
# left in OUTDIR), then checked as Debian would: lintian with no error and
# no warning that is not overridden (each override with its reason, and
# used); each package's files against tests/package/*.files; the conffiles;
# the maintainer scripts run against stubs (enable on install, restart on
# upgrade, stop only on remove, purge removes the unit's state directory);
# the DKMS tree: dkms.conf as dkms reads it, and every file Kbuild needs
# present (kbuild-files.py; no kernel is built against, no module loaded).
# Nothing is installed on this machine. One "ok - NAME: ..." /
# "not ok - NAME: ..." line per check; exit 77 only without
# dpkg-buildpackage.
set -uo pipefail
src=$(cd "$1" && pwd)
out=$2
here=$src/tests/package
command -v dpkg-buildpackage >/dev/null || {
	echo "skip: dpkg-buildpackage missing (Debian package dpkg-dev; ./dev deps installs it)"
	exit 77
}
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"
checks_init pkvm-package-test
finish() { checks_finish; }
failure_logs=("$work/build.log")

for tool in dpkg-deb lintian fakeroot dh:debhelper dh_dkms:dh-dkms python3; do
	command -v "${tool%%:*}" >/dev/null
	check "tool-${tool%%:*}" $? "${tool%%:*} present (Debian package ${tool#*:}, see ./dev deps)"
done
((fail == 0)) || finish

# ---- the build ------------------------------------------------------------

version=$(sed -n "s/^[[:space:]]*version: '\([^']*\)'.*/\1/p" "$src/meson.build" | head -1)
deb_version=$(cd "$src" && dpkg-parsechangelog -S Version)
[[ -n $version && $deb_version == "$version" ]]
check version $? "debian/changelog $deb_version, meson.build's project version $version"

rm -rf "$out"
mkdir -p "$out"
t0=$(date +%s)
"$here/build-packages.sh" "$src" "$out" >"$work/build.log" 2>&1
rc=$?
secs=$(($(date +%s) - t0))
echo "# package build: $secs s (dpkg-buildpackage, parallel=${PKVM_PACKAGE_JOBS:-2})"
check build $rc "build-packages.sh: exit $rc in $secs s$( ((rc)) && echo ": $(tail -5 "$work/build.log")")"
((rc == 0)) || finish

arch=$(dpkg-architecture -qDEB_HOST_ARCH)
declare -A deb=(
	[pkvm-iommud]=$out/pkvm-iommud_${deb_version}_$arch.deb
	[pkvm-iommuctl]=$out/pkvm-iommuctl_${deb_version}_$arch.deb
	[pkvm-iommu-dkms]=$out/pkvm-iommu-dkms_${deb_version}_all.deb
)
changes=$out/pkvm-iommu_${deb_version}_$arch.changes
dsc=$out/pkvm-iommu_${deb_version}.dsc
# Every binary package debian/control names, and nothing else (debug
# symbol packages aside).
built=$(cd "$out" && find . -name '*.deb' ! -name '*-dbgsym_*' -printf '%f\n' | sed 's/_.*//' | sort | tr '\n' ' ')
[[ $built == "pkvm-iommu-dkms pkvm-iommuctl pkvm-iommud " && -f $changes && -f $dsc ]]
check packages $? "built: $built+ $(basename "$changes"), $(basename "$dsc")"

# ---- lintian --------------------------------------------------------------

# The overrides: each one with a comment saying why, just above it.
ovr_bad=
for f in "$src"/debian/*.lintian-overrides "$src"/debian/source/lintian-overrides; do
	[[ -f $f ]] || continue
	ovr_bad+=$(awk -v f="${f#"$src"/}" '
		/^[[:space:]]*$/ { prev = ""; next }
		/^#/ { prev = "#"; next }
		prev != "#" { printf "%s:%d has no reason above it; ", f, NR }
		{ prev = "o" }' "$f")
done
[[ -z $ovr_bad ]]
check overrides-have-reasons $? "${ovr_bad:-every override in debian/ has a comment above it}"

# As root lintian warns about itself on stderr; the tags are on stdout.
lintian --pedantic --display-info --show-overrides "$dsc" "$changes" >"$work/lintian" 2>"$work/lintian.err"
lrc=$?
echo "# lintian --pedantic --display-info --show-overrides (exit $lrc):"
sed 's/^/#   /' "$work/lintian"
sev() { grep -c "^$1: " "$work/lintian"; }
summary="E $(sev E), W $(sev W), I $(sev I), P $(sev P), X $(sev X), overridden $(sev O)"
[[ $(sev E) == 0 ]]
check lintian-errors $? "$summary${lrc:+ (lintian exit $lrc)}"
[[ $(sev W) == 0 ]]
check lintian-warnings $? "no warning that is not overridden: $(grep '^W: ' "$work/lintian" | head -3 | tr '\n' ' ')"
# An override lintian no longer needs is a reason gone stale.
unused=$(grep -E 'unused-override|mismatched-override' "$work/lintian")
[[ -z $unused ]]
check lintian-overrides-used $? "${unused:-every override matched a tag}"

# ---- the files of each package --------------------------------------------

# "MODE OWNER PATH" of every non-directory, the version written VERSION so
# the lists outlive a release.
for p in pkvm-iommud pkvm-iommuctl pkvm-iommu-dkms; do
	dpkg-deb -c "${deb[$p]}" | awk '$1 !~ /^d/ { p = $6; for (i = 7; i <= NF; i++) p = p " " $i; print $1, $2, p }' |
		sed "s|^\(.* \)\./|\1/|; s|-$deb_version/|-VERSION/|" | LC_ALL=C sort -k3 >"$work/$p.files"
	diff=$(LC_ALL=C diff "$here/$p.files" "$work/$p.files" | sed -n 's/^< /missing: /p; s/^> /unexpected: /p')
	[[ -z $diff ]]
	check "files-$p" $? "$(wc -l <"$work/$p.files") files, exactly tests/package/$p.files${diff:+
$diff}"
	echo "# $p:"
	sed 's/^/#   /' "$work/$p.files"
	mkdir -p "$work/root/$p" "$work/control/$p"
	dpkg-deb -x "${deb[$p]}" "$work/root/$p"
	dpkg-deb -e "${deb[$p]}" "$work/control/$p"
done

# What meson installs, all of it, in exactly one package (the completion
# and the man pages included); only the DKMS tree, /usr/share/doc and the
# lintian overrides are the packaging's own.
(cd "$work/root" && find . ! -type d | sed 's|^\./[^/]*||' | grep -v -e '^/usr/src/' -e '^/usr/share/doc/' -e '^/usr/share/lintian/' |
	sed 's/\.gz$//' | LC_ALL=C sort) >"$work/packaged"
diff=$(LC_ALL=C diff "$src/tests/install/expected-files.txt" "$work/packaged" |
	sed -n 's/^< /not packaged: /p; s/^> /not from meson: /p')
[[ -z $diff ]]
check meson-install-split $? "the packages hold tests/install/expected-files.txt, each file once${diff:+
$diff}"

r=$work/root
cmp -s "$src/cli/completion/pkvm-iommuctl.bash" "$r/pkvm-iommuctl/usr/share/bash-completion/completions/pkvm-iommuctl" &&
	bash -n "$r/pkvm-iommuctl/usr/share/bash-completion/completions/pkvm-iommuctl"
check completion-packaged $? "pkvm-iommuctl ships cli/completion/pkvm-iommuctl.bash where bash-completion loads it, and it parses"
v=$("$r/pkvm-iommuctl/usr/bin/pkvm-iommuctl" --version 2>&1)
[[ $v == *"$version"* ]]
check ctl-version $? "packaged pkvm-iommuctl --version: $v"
v=$("$r/pkvm-iommud/usr/sbin/pkvm-iommud" --version 2>&1)
[[ $v == "pkvm-iommud $version" ]]
check daemon-version $? "packaged pkvm-iommud --version: $v"

# ---- conffiles -------------------------------------------------------------

for p in pkvm-iommud pkvm-iommuctl pkvm-iommu-dkms; do
	want=
	[[ $p == pkvm-iommud ]] && want=/etc/pkvm-iommu/policy.json
	got=$(dpkg-deb -I "${deb[$p]}" conffiles 2>/dev/null)
	[[ $got == "$want" ]]
	check "conffiles-$p" $? "conffiles: ${got:-none}${want:+, want $want}"
done
cmp -s "$src/units/policy.json" "$r/pkvm-iommud/etc/pkvm-iommu/policy.json"
check conffile-content $? "/etc/pkvm-iommu/policy.json is units/policy.json"

# ---- maintainer scripts ----------------------------------------------------

# The scripts run for real, as dpkg would call them, with every command
# that would touch this machine replaced by a stub that records its
# arguments, and systemd's runtime directory and deb-systemd-helper's
# absolute path pointed into the work directory.
unit=$r/pkvm-iommud/lib/systemd/system/pkvm-iommud.service
state=$(sed -n 's/^StateDirectory=\([^ ]*\).*/\1/p' "$unit")
[[ -n $state && $state != */* ]]
check state-directory $? "the unit's StateDirectory=$state, so /var/lib/$state"
stubs=$work/stubs
mkdir -p "$stubs" "$work/run-systemd-system"
for cmd in rm deb-systemd-helper deb-systemd-invoke systemctl dkms; do
	printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$cmd" "$work/calls" >"$stubs/$cmd"
	chmod +x "$stubs/$cmd"
done
# run_script PACKAGE SCRIPT ARG...: the calls it made, one per line, in $calls.
run_script() {
	local p=$1 s=$2
	shift 2
	: >"$work/calls"
	sed -e "s|/run/systemd/system|$work/run-systemd-system|g" \
		-e "s|/usr/bin/deb-systemd-helper|$stubs/deb-systemd-helper|g" \
		"$work/control/$p/$s" >"$work/script"
	PATH=$stubs:$PATH DPKG_MAINTSCRIPT_PACKAGE=$p sh -e "$work/script" "$@" >/dev/null 2>&1
	rc=$?
	calls=$(sed 's/ *$//' "$work/calls")
}
has() { grep -qx -- "$1" <<<"$calls"; }
hasnot() { ! grep -q -- "$1" <<<"$calls"; }

run_script pkvm-iommud postinst configure
((rc == 0)) && has 'deb-systemd-helper enable pkvm-iommud.service' &&
	has 'deb-systemd-invoke start pkvm-iommud.service' && hasnot restart
check postinst-install $? "postinst configure (first install): $(tr '\n' ';' <<<"$calls")"
run_script pkvm-iommud postinst configure 0.0.9
((rc == 0)) && has 'deb-systemd-invoke restart pkvm-iommud.service' && hasnot 'invoke start'
check postinst-upgrade $? "postinst configure 0.0.9 (upgrade): $(tr '\n' ';' <<<"$calls")"
run_script pkvm-iommud prerm upgrade "$deb_version"
((rc == 0)) && hasnot stop
check prerm-upgrade $? "prerm upgrade: no stop, the new postinst restarts it (calls: ${calls:-none})"
run_script pkvm-iommud prerm remove
((rc == 0)) && has 'deb-systemd-invoke stop pkvm-iommud.service'
check prerm-remove $? "prerm remove: $(tr '\n' ';' <<<"$calls")"
run_script pkvm-iommud postrm remove
((rc == 0)) && hasnot "^rm "
check postrm-remove-keeps-state $? "postrm remove keeps /var/lib/$state: $(tr '\n' ';' <<<"$calls")"
run_script pkvm-iommud postrm purge
((rc == 0)) && has "rm -rf /var/lib/$state" && has 'deb-systemd-helper purge pkvm-iommud.service'
check postrm-purge $? "postrm purge: $(tr '\n' ';' <<<"$calls")"

# ---- DKMS ------------------------------------------------------------------

tree=$r/pkvm-iommu-dkms/usr/src/pkvm-iommu-$deb_version
# dkms.conf is a shell fragment dkms sources with these set.
conf=$(cd "$tree" && kernel_source_dir=/K dkms_tree=/D bash -c '
	set -u; . ./dkms.conf
	echo "$PACKAGE_NAME|$PACKAGE_VERSION|${BUILT_MODULE_NAME[0]}|${BUILT_MODULE_LOCATION[0]}|${MAKE[0]}|${AUTOINSTALL:-}|${BUILD_EXCLUSIVE_ARCH:-}"' 2>&1)
IFS='|' read -r name ver mod loc make auto excl <<<"$conf"
kbuild_mod=$(sed -n 's/^obj-m[[:space:]]*:=[[:space:]]*\(.*\)\.o[[:space:]]*$/\1/p' "$src/kmod/host/Kbuild")
[[ $name == pkvm-iommu && $ver == "$deb_version" && $mod == "$kbuild_mod" && -f $tree/${loc}Kbuild &&
	$make == "make -C /K M=/D/pkvm-iommu/$deb_version/build/${loc%/} modules" && $auto == yes ]]
check dkms-conf $? "PACKAGE $name $ver, module $mod (Kbuild's obj-m: $kbuild_mod) built in ${loc}, MAKE: $make, AUTOINSTALL=$auto"
[[ aarch64 =~ $excl && ! x86_64 =~ $excl ]]
check dkms-arch $? "BUILD_EXCLUSIVE_ARCH=$excl: aarch64 only"
load=$(grep -v '^#' "$r/pkvm-iommu-dkms/usr/lib/modules-load.d/pkvm-iommu.conf")
[[ $load == "$mod" ]]
check modules-load $? "modules-load.d/pkvm-iommu.conf loads '$load', the module DKMS builds"
out=$(python3 "$here/kbuild-files.py" "$tree" "$src" 2>&1)
check dkms-tree-self-contained $? "$(tr '\n' ';' <<<"$out")"
grep -q "dkms add\|common.postinst" "$work/control/pkvm-iommu-dkms/postinst" &&
	grep -q 'dkms remove' "$work/control/pkvm-iommu-dkms/prerm"
check dkms-scripts $? "dh_dkms's postinst (common.postinst: add, build, install) and prerm (dkms remove)"

finish
