#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# What the shadow adds to a real pKVM transition (issue 11's numbers), as a
# table with ratios from one run: the bench's kernel booted twice under pKVM,
# once with the shadow on (pkvm_iommu.ko loaded with transport=pkvm) and
# once with kvm-arm.pkvm_iommu=off, each boot running RUNS protected and
# RUNS normal VMs of PAGES pages interleaved (tests/vm/pvm/pkvm-pvm). A
# normal VM's data pages never leave the host, so protected/normal within a
# boot cancels TCG's boot-to-boot speed; the shadow's cost is that ratio with
# the shadow on over the ratio with it off. The hook's own time per
# transition comes from the hyp core's counters (../shadow-state stats), read before
# and after the runs. Not part of `meson test`: `./dev bench-pkvm`.
#
# usage: bench-shadow.sh [-n PAGES] [-r RUNS] [-j] OUTDIR
#   -j   print the table as one JSON object instead
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vm=$(cd "$here/../.." && pwd)
root=$(cd "$vm/../.." && pwd)
# shellcheck source=../../lib.sh
. "$vm/lib.sh"

pages=256
runs=5
json=0
while getopts n:r:j opt; do
	case $opt in
	n) pages=$OPTARG ;;
	r) runs=$OPTARG ;;
	j) json=1 ;;
	*) vm_die "usage: $0 [-n PAGES] [-r RUNS] [-j] OUTDIR" ;;
	esac
done
shift $((OPTIND - 1))
out=${1:?usage: $0 [-n PAGES] [-r RUNS] [-j] OUTDIR}
case $pages:$runs in *[!0-9:]* | :* | *:) vm_die "-n and -r take positive integers" ;; esac
if [ "$pages" -eq 0 ] || [ "$runs" -eq 0 ]; then vm_die "-n and -r take positive integers"; fi
out=$(vm_outdir "$out")

kenv=$(vm_kernel)
# shellcheck source=/dev/null
KDIR=$(. "$kenv" && echo "$KDIR") \
	"$vm/build-module.sh" -o "$out/pkvm_iommu.ko" -b "$out/module-build" >&2
vm_guest_cc "$out/pkvm-pvm" -I"$vm/pvm" "$vm/pvm/pkvm-pvm.c" "$vm/guest/hw.c"
vm_guest_cc "$out/shadow-state" "$here/../shadow-state.c" "$vm/guest/hw.c" "$vm/guest/genl.c"

for shadow in on off; do
	append="pvm.pages=$pages pvm.runs=$runs"
	[ "$shadow" = on ] || append="$append kvm-arm.pkvm_iommu=off"
	t0=$SECONDS
	PKVM_VM_KERNEL_ENV=$kenv PKVM_VM_APPEND=$append PKVM_VM_RUNDIR=$out/run-$shadow \
		PKVM_VM_LOG=$out/run-$shadow/console.log \
		"$vm/run.sh" -p "$here/guest-test" "$out/pkvm-pvm" "$out/shadow-state" \
		"$out/pkvm_iommu.ko" >"$out/run-$shadow.log" 2>&1 ||
		vm_die "shadow=$shadow boot failed: $(grep -E '^not ok|error' "$out/run-$shadow.log" | head -n5 | tr '\n' '|') (log: $out/run-$shadow/console.txt)"
	vm_log "shadow=$shadow boot done ($((SECONDS - t0))s)"
done

# Counter names by index, from the header the module was built with.
awk '/^enum pkvm_iommu_stat \{/ { on = 1; next }
     on && /^\};/ { exit }
     on && /^\tPKVM_IOMMU_STAT_[A-Z0-9_]*,/ { sub(/^\tPKVM_IOMMU_STAT_/, ""); sub(/,.*/, ""); print i++ " " tolower($0) }' \
	"$root/uapi/linux/pkvm_iommu.h" >"$out/stat-names"

cat "$out"/run-on/console.txt "$out"/run-off/console.txt |
	awk -v json="$json" -v pages="$pages" -v runs="$runs" -v names="$out/stat-names" '
function median(key,   n, i, j, t, a) {
	n = cnt[key]
	for (i = 1; i <= n; i++) a[i] = v[key, i]
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return n ? a[int((n + 1) / 2)] : 0
}
BEGIN { while ((getline l < names) > 0) { split(l, f, " "); name[f[1]] = f[2] } }
/^bench-time / {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
	k = r["shadow"] " " r["mode"]; v[k, ++cnt[k]] = r["per_page_ns"]
}
/^bench-stats-(before|after) pkvm-stat / {
	split($3, a, "="); split($4, b, "=")
	st[$1, name[a[2]]] = b[2]
}
END {
	mo = median("on protected"); no = median("on normal")
	mf = median("off protected"); nf = median("off normal")
	if (!mo || !no || !mf || !nf) { print "bench-shadow: missing runs" > "/dev/stderr"; exit 1 }
	ron = mo / no; roff = mf / nf
	tr = st["bench-stats-after", "hook_transitions"] - st["bench-stats-before", "hook_transitions"]
	ns = st["bench-stats-after", "hook_ns"] - st["bench-stats-before", "hook_ns"]
	mx = st["bench-stats-after", "hook_max_ns"]
	sy = st["bench-stats-after", "syncs"] - st["bench-stats-before", "syncs"]
	dw = st["bench-stats-after", "desc_writes"] - st["bench-stats-before", "desc_writes"]
	seed = st["bench-stats-before", "seed_ns"]
	if (json) {
		printf "{\"pages\":%d,\"runs\":%d,\"on_protected_ns_per_page\":%d,\"on_normal_ns_per_page\":%d,\"off_protected_ns_per_page\":%d,\"off_normal_ns_per_page\":%d,\"ratio_on\":%.3f,\"ratio_off\":%.3f,\"shadow_cost\":%.3f,\"hook_transitions\":%d,\"hook_ns_per_transition\":%d,\"hook_max_ns\":%d,\"syncs\":%d,\"desc_writes\":%d,\"seed_ns\":%d}\n", pages, runs, mo, no, mf, nf, ron, roff, ron / roff, tr, tr ? ns / tr : 0, mx, sy, dw, seed
		exit 0
	}
	printf "%-8s %-10s %5s %18s\n", "shadow", "VM", "runs", "median ns/page"
	printf "%-8s %-10s %5d %18d\n", "on", "protected", cnt["on protected"], mo
	printf "%-8s %-10s %5d %18d\n", "on", "normal", cnt["on normal"], no
	printf "%-8s %-10s %5d %18d\n", "off", "protected", cnt["off protected"], mf
	printf "%-8s %-10s %5d %18d\n", "off", "normal", cnt["off normal"], nf
	printf "\nprotected/normal, shadow on:  %.3f\n", ron
	printf "protected/normal, shadow off: %.3f\n", roff
	printf "shadow cost on a protected fault-in (on/off of the above): %.3f\n", ron / roff
	printf "INIT seeding the shadow from pKVM'"'"'s ownership (shadow on): %d ns\n", seed
	printf "hook (shadow on, all %d VMs): %d transitions, %d ns each on average, longest %d ns; %d SMMU syncs, %d descriptor writes\n", 2 * runs, tr, tr ? ns / tr : 0, mx, sy, dw
}'
