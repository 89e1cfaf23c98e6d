#!/usr/bin/env python3
"""The files of lib/ call each other without a cycle (issue 8).

usage: lib-graph.py BUILD [-v]

An edge a -> b means lib/a.c uses a function or object that lib/b.c
defines, as nm reads it from BUILD/lib/*.o. A cycle between files makes
each the other's dependency; there must be none. -v prints every edge.
Exits 1 and names the files of each cycle when there is one.
"""
import os
import subprocess
import sys


def symbols(obj):
    defined, used = set(), set()
    out = subprocess.run(["nm", obj], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBR":
            defined.add(f[2])
        elif len(f) == 2 and f[0] == "U":
            used.add(f[1])
    return defined, used


def graph(build):
    names = sorted(n[:-2] for n in os.listdir("lib") if n.endswith(".c"))
    owner, uses = {}, {}
    for n in names:
        defined, uses[n] = symbols(os.path.join(build, "lib", n + ".o"))
        for s in defined:
            owner[s] = n
    return {n: sorted({owner[s] for s in uses[n] if s in owner} - {n})
            for n in names}


def cycles(edges):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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

    for v in edges:
        if v not in index:
            visit(v)
    return out


def main():
    edges = graph(sys.argv[1])
    if "-v" in sys.argv:
        for a, bs in edges.items():
            print(f"{a} -> {' '.join(bs)}")
    found = cycles(edges)
    for c in found:
        print("lib/ files that depend on each other: " +
              ", ".join(n + ".c" for n in c))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
