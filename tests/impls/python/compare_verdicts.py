#!/usr/bin/env python3
"""Compares two normcheck reports row by row: the verdict of each (op, property) row of one
implementation in A against the same row in B. Used to cross-check two routes to the same library
(docs/properties.md, "Two routes to PyTorch"):

    normcheck run --impl torch --op layer_norm ... --out cpp
    normcheck gate --python examples/plugin/python/torch_functional.py:TorchFunctional ... --out py
    compare_verdicts.py cpp/results.json py/results.json

Prints a Markdown table (the rows present in both, with each side's outcome and, where they
differ, each side's reason) and the rows present in only one. Exit status: 0 when every common
row has the same outcome, 1 when some differ, 2 on bad input.
"""
import json
import sys


def rows_of(path):
    """{(op, property): row} of the report's first implementation."""
    with open(path) as f:
        doc = json.load(f)
    return {(r["op"], r["property"]): r for r in doc["results"]}, doc["implementations"][0]["name"]


def short(text, width=160):
    text = " ".join(str(text or "").split())
    return text if len(text) <= width else text[:width - 3] + "..."


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    a, name_a = rows_of(argv[1])
    b, name_b = rows_of(argv[2])
    common = [k for k in a if k in b]
    differ = [k for k in common if a[k]["outcome"] != b[k]["outcome"]]
    print(f"| op | property | {name_a} | {name_b} | |")
    print("|---|---|---|---|---|")
    for k in common:
        same = a[k]["outcome"] == b[k]["outcome"]
        print(f"| {k[0]} | {k[1]} | {a[k]['outcome']} | {b[k]['outcome']} | {'same' if same else 'DIFFERENT'} |")
    for k in differ:
        print(f"\n{k[0]} {k[1]}:\n  {name_a}: {a[k]['outcome']} {short(a[k].get('reason'))}"
              f"\n  {name_b}: {b[k]['outcome']} {short(b[k].get('reason'))}")
    for side, rows, other in ((name_a, a, b), (name_b, b, a)):
        only = [k for k in rows if k not in other]
        if only:
            print(f"\nonly in {side}: " + ", ".join(f"{op} {prop}" for op, prop in only))
    print(f"\n{len(common)} common rows, {len(common) - len(differ)} with the same verdict, {len(differ)} different")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
