#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# rules-check.sh SRCDIR: monitoring/pkvm-iommu.rules.yml through Debian's
# promtool. "check rules" must accept it with one rule per "- alert:";
# "test rules" must pass pkvm-iommu.rules.test.yml (synthetic series); and
# that file must have, for every alert, at least one case where it fires
# and one where it must not (counted from the "alertname:" / "exp_alerts:"
# pairs the test file is written in). One "ok - NAME: DETAIL" line per
# check, then "N passed, N failed"; 77 without promtool.
set -uo pipefail
src=$1
rules=$src/monitoring/pkvm-iommu.rules.yml
tests=$src/tests/monitoring/pkvm-iommu.rules.test.yml
# shellcheck source=promtool.sh
. "$(dirname "$0")/promtool.sh"
# shellcheck source=../lib/checks.sh
. "$src/tests/lib/checks.sh"
checks_init pkvm-rules-check

version=$("$promtool" --version 2>&1 | head -1 | cut -d' ' -f3)
alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\) *$/\1/p' "$rules")
nr=$(wc -l <<<"$alerts")

# promtool's own words go to the log whole; a check line gets their gist.
"$promtool" check rules "$rules" >"$work/check.out" 2>&1
rc=$?
cat "$work/check.out"
grep -q "SUCCESS: $nr rules found" "$work/check.out" && ((rc == 0))
check check-rules $? "promtool $version check rules $(basename "$rules"): $(grep -m1 -o 'SUCCESS.*\|FAILED.*' "$work/check.out") (want $nr)"

"$promtool" test rules "$tests" >"$work/test.out" 2>&1
rc=$?
cat "$work/test.out"
grep -qx '  SUCCESS' "$work/test.out" && ((rc == 0))
check test-rules $? "promtool $version test rules $(basename "$tests"): $(grep -c 'eval_time:' "$tests") alert cases, $(grep -m1 -o 'SUCCESS\|FAILED' "$work/test.out")"

# Cases per alert: "exp_alerts: []" right after its alertname does not
# fire, "exp_alerts:" followed by a list fires.
python3 - "$tests" "$alerts" >"$work/cases" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
case = re.compile(r'^\s*alertname:\s*(\w+)\s*\n\s*exp_alerts:[ \t]*(\[\])?[ \t]*\n(\s*- exp_labels:)?', re.M)
n = {}
for m in case.finditer(text):
    fires = m.group(2) is None
    if fires and not m.group(3):
        sys.exit("exp_alerts of %s neither [] nor a list of exp_labels" % m.group(1))
    f, q = n.get(m.group(1), (0, 0))
    n[m.group(1)] = (f + fires, q + (not fires))
for a in sys.argv[2].split():
    print(a, *n.pop(a, (0, 0)))
for a in n:
    print(a, "unknown", 0)
PY
check case-format $? "every exp_alerts in $(basename "$tests") is [] or a list of exp_labels"
while read -r name fires quiet; do
	[[ $fires =~ ^[1-9] && $quiet -ge 1 ]]
	check "cases-$name" $? "$fires case(s) firing, $quiet not firing"
done <"$work/cases"
((nr >= 9)); check alert-count $? "$nr alerts: $(tr '\n' ' ' <<<"$alerts")"

checks_finish
