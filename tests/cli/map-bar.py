#!/usr/bin/env python3
# map-bar.py LEDGER WIDTH [ADDR...]: the bar `pkvm-iommuctl map --width=WIDTH`
# must draw, worked out from GetLedger's reply (busctl --json=short, in the
# file LEDGER) by the rule pkvm-iommuctl(1) states, independently of the C
# code: the span runs from the first run's address to the last run's end;
# cell i starts at start + floor(span * i / WIDTH); a cell shows the state
# other than plain host memory with most bytes in it (ties: the first in
# address order), '.' only when it holds nothing else; '#' hypervisor, '='
# shared host pages, guests 2..9 their digit, other guests a..z then A..Z in
# owner order. Prints the bar, then the cell of each ADDR, one per line.
import json
import sys

with open(sys.argv[1]) as f:
    runs = json.load(f)["data"][0]
width = int(sys.argv[2])
start, end = runs[0][0], runs[-1][0] + runs[-1][1]
span = end - start


def cell_start(i):
    return start + span * i // width


letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
others = sorted({o for _, _, o, _ in runs if o > 9})
sym = {o: letters[i] if i < len(letters) else "?" for i, o in enumerate(others)}


def symbol(owner, shared):
    if owner == 0:
        return "=" if shared else "."
    if owner == 1:
        return "#"
    return str(owner) if owner <= 9 else sym[owner]


bar = ""
for i in range(width):
    cs, ce = cell_start(i), cell_start(i + 1)
    held = {}  # insertion order is address order
    for addr, length, owner, shared in runs:
        overlap = min(addr + length, ce) - max(addr, cs)
        if overlap > 0 and symbol(owner, shared) != ".":
            s = symbol(owner, shared)
            held[s] = held.get(s, 0) + overlap
    best = "."
    for s, n in held.items():
        if best == "." or n > held[best]:
            best = s
    bar += best
print(bar)
for a in sys.argv[3:]:
    a = int(a, 0)
    print(next(i for i in range(width) if cell_start(i) <= a < cell_start(i + 1)))
