# shellcheck shell=bash
# Debian's prometheus-node-exporter for the shell tests that read the
# daemon's metrics file through it (tests/daemon/metrics-node-exporter.sh,
# tests/monitoring/rules-series.sh). ./dev deps unpacks its binary into the
# cache rather than installing the package (which would start a service on
# every interface); with neither, sourcing this skips the test (exit 77).
# Uses checks.sh (reap, wait_for, $work):
#   exporter_start TEXTDIR  the textfile collector on TEXTDIR alone, on a
#                           free loopback port ($port), its output in
#                           $work/ne.log, $npid reaped; 0 once it answers
#   scrape                  what it serves on /metrics, on stdout
exporter=$(command -v prometheus-node-exporter) ||
	exporter=${XDG_CACHE_HOME:-$HOME/.cache}/pkvm-iommu/node-exporter/usr/bin/prometheus-node-exporter
[[ -x $exporter ]] || {
	echo "skip: prometheus-node-exporter is neither installed nor unpacked (./dev deps)"
	exit 77
}

scrape() {
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")' \
		"http://127.0.0.1:$port/metrics"
}

scrapes() { scrape >/dev/null 2>&1; }

exporter_start() {	# exporter_start TEXTDIR
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	# shellcheck disable=SC2154 # $work is checks.sh's
	"$exporter" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$1" >"$work/ne.log" 2>&1 &
	npid=$!
	reap "$npid"
	wait_for 60 scrapes
}
