#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fail when the modules' local #include graph has a cycle.

A module is a file stem: router/x.c and include/x.h are module x, and a
private header router/x_int.h belongs to module x too. x depends on y when
a file of x includes "y.h" (quoted includes only; <system> headers are not
modules). The layout is meant to be layered, so any cycle between two or
more modules is a back-arrow: this prints each one and exits 1.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def module_of(name):
    stem = os.path.splitext(os.path.basename(name))[0]
    return stem[:-4] if stem.endswith("_int") else stem


def graph(src):
    deps = {}
    for d, exts in (("router", (".c", ".h")), ("include", (".h",))):
        for f in sorted(os.listdir(os.path.join(src, d))):
            if not f.endswith(exts):
                continue
            with open(os.path.join(src, d, f), encoding="utf-8") as fp:
                text = fp.read()
            m = module_of(f)
            deps.setdefault(m, {})
            for inc in INCLUDE.findall(text):
                t = module_of(inc)
                if t != m:
                    deps[m].setdefault(t, ("%s/%s" % (d, f), inc))
    return deps


def cycles(deps):
    """Tarjan's strongly connected components of two or more modules."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in deps.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return out


def one_cycle(deps, comp):
    """A concrete path start -> ... -> start inside one component."""
    members = set(comp)
    start = comp[0]
    prev, todo = {start: None}, [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(deps.get(v, {})):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                path.reverse()
                return path + [start]
            if w not in prev:
                prev[w] = v
                todo.append(w)
    return comp


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    sys.setrecursionlimit(10000)
    deps = graph(src)
    found = cycles(deps)
    for comp in found:
        path = one_cycle(deps, comp)
        print("FAIL: include cycle between modules %s" % ", ".join(comp))
        for a, b in zip(path, path[1:]):
            print("  %s -> %s  (%s includes \"%s\")" % ((a, b) + deps[a][b]))
    if not found:
        print("ok: %d modules, no include cycle" % len(deps))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
