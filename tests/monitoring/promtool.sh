# shellcheck shell=bash
# Sourced by the tests here: $promtool is Debian's promtool, installed or
# unpacked by ./dev deps into the cache (the prometheus package would start
# a server); without it the test is skipped (77).
promtool=$(command -v promtool) ||
	promtool=${XDG_CACHE_HOME:-$HOME/.cache}/pkvm-iommu/prometheus/usr/bin/promtool
[[ -x $promtool ]] || {
	echo "skip: promtool is neither installed nor unpacked (./dev deps)"
	exit 77
}
