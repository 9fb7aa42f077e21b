#!/usr/bin/env python3
"""kbuild-files.py TREE SRCDIR: is the DKMS tree TREE (/usr/src/pkvm-iommu-V
as unpacked) self-contained for kmod/host/Kbuild, without a kernel to build
against? From the Kbuild: the module's objects (each needs its .c) and
ccflags-y's -I directories; from every source reached, its #include lines,
resolved the way the compiler would ("x" next to the file first, then the
-I directories). An include that resolves nowhere in TREE is a kernel
header only if SRCDIR has no file by that name under kmod/ or uapi/
either: otherwise the tree lost one of ours. Prints one line per problem
and a summary; exit 1 on any problem, including a file in TREE that the
Kbuild never reads."""
import os
import re
import sys

tree, src = sys.argv[1], sys.argv[2]
host = os.path.join(tree, "kmod/host")
problems = []

with open(os.path.join(host, "Kbuild")) as f:
    kbuild = f.read().replace("\\\n", " ")
obj_m = re.search(r"^obj-m\s*:=\s*(\S+)\.o\s*$", kbuild, re.M).group(1)
objs = re.search(r"^%s-y\s*:=(.*)$" % re.escape(obj_m), kbuild, re.M).group(1).split()
flags = re.search(r"^ccflags-y\s*:=(.*)$", kbuild, re.M).group(1).split()
incdirs = [os.path.normpath(os.path.join(host, f[2:].replace("$(src)", ".")))
           for f in flags if f.startswith("-I")]

ours = set()  # our headers by include name, as the source tree has them
for top in ("kmod", "uapi"):
    for d, _, files in os.walk(os.path.join(src, top)):
        for n in files:
            if n.endswith(".h"):
                ours.add(n)
                ours.add(os.path.relpath(os.path.join(d, n), os.path.join(src, "uapi")))

reached, todo = set(), []
for o in objs:
    c = os.path.normpath(os.path.join(host, o[:-2] + ".c"))
    if os.path.isfile(c):
        todo.append(c)
    else:
        problems.append(f"missing: {os.path.relpath(c, tree)} (object {o} of the Kbuild)")

inc_re = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
kernel_headers = set()
while todo:
    path = todo.pop()
    if path in reached:
        continue
    reached.add(path)
    with open(path, errors="replace") as f:
        text = f.read()
    for kind, name in inc_re.findall(text):
        dirs = ([os.path.dirname(path)] if kind == '"' else []) + incdirs
        hit = next((os.path.join(d, name) for d in dirs
                    if os.path.isfile(os.path.join(d, name))), None)
        if hit:
            todo.append(os.path.normpath(hit))
        elif name in ours or (kind == '"' and os.path.basename(name) in ours):
            problems.append(f"missing: {name}, included by {os.path.relpath(path, tree)}")
        else:
            kernel_headers.add(name)

shipped = set()
for d, _, files in os.walk(tree):
    for n in files:
        shipped.add(os.path.normpath(os.path.join(d, n)))
extra = shipped - reached - {os.path.join(host, "Kbuild"), os.path.join(tree, "dkms.conf")}
for p in sorted(extra):
    problems.append(f"unused: {os.path.relpath(p, tree)} (the Kbuild never reads it)")

for p in problems:
    print(p)
print(f"module {obj_m}: {len(objs)} objects, {len(reached)} sources and headers reached "
      f"from them in the tree, {len(kernel_headers)} kernel headers, "
      f"{len(problems)} problems")
sys.exit(1 if problems else 0)
