#!/bin/bash
# shellcheck source-path=SCRIPTDIR
# Cross-compiles the guest test program (guest/*.c) into one static aarch64
# binary for the VM's /opt/pkvm/. The output is named guest-test by default,
# which is the name run.sh's /init executes.
#
# usage: build-guest.sh [-o OUT]     (default: ./guest-test)
# env: CROSS_COMPILE (default aarch64-linux-gnu-), GUEST_CFLAGS (extra flags)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

out=guest-test
while getopts o: opt; do
	case $opt in
	o) out=$OPTARG ;;
	*) vm_die "usage: $0 [-o OUT]" ;;
	esac
done

# shellcheck disable=SC2086 # GUEST_CFLAGS is a list of flags
vm_guest_cc "$out" ${GUEST_CFLAGS:-} "$here"/guest/*.c
