#!/usr/bin/env python3
"""A case exported by `normcheck repro ... --save DIR`, read back in NumPy with the three lines of
its case.json's "load" note (docs/gate.md, "Export a case"): every file loads, with the dtype and
shape case.json lists; the inputs have the descriptor's dtype, x its shape; float16 files are
'<f2' and bounds float64; the verdict's worst element is the one in the loaded arrays.

Usage: case_load_numpy_test.py NORMCHECK_BINARY. Exit 0 pass, 1 fail, 77 skipped (no numpy)."""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIPPED: numpy is not installed for " + sys.executable + " (Debian: python3-numpy)")
    sys.exit(77)

CASES = [
    # float16 backward with running statistics: every input and output there is.
    ("batch_norm shape=2x3x4 dtype=float16 direction=backward seed=3 "
     "impl=mutant-backward-no-mean-term property=differential", 1),
    ("layer_norm shape=3x8 normalized_shape=8 dtype=float32 seed=1 "
     "impl=mutant-unbiased-output-variance property=differential", 1),
]

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def header_descr(path):
    with open(path, "rb") as f:
        np.lib.format.read_magic(f)
        return np.lib.format.read_array_header_1_0(f)[2].str


def check_case(normcheck, line, want_exit, work):
    save = os.path.join(work, "case")
    run = subprocess.run([normcheck, "repro", line, "--save", save], capture_output=True, text=True)
    check(run.returncode == want_exit, f"{line}: exit {run.returncode}, want {want_exit}: {run.stderr}")
    with open(os.path.join(save, "case.json")) as f:
        case = json.load(f)
    check(len(case["load"]) == 3, "three load lines")
    scope = {}
    exec("\n".join(case["load"]), scope)  # the three lines, as a user pastes them
    a = scope["a"]
    check(sorted(a) == sorted(case["files"]), "every listed file loaded")
    params = case["params"]
    shape = tuple(int(s) for s in params["shape"].split("x"))
    for key, f in case["files"].items():
        check(a[key].dtype.name == f["dtype"], f"{key}: dtype {a[key].dtype.name}, case.json {f['dtype']}")
        check(list(a[key].shape) == f["shape"], f"{key}: shape {a[key].shape}, case.json {f['shape']}")
        if key.startswith("inputs/"):
            check(a[key].dtype.name == params["dtype"], f"{key}: dtype {a[key].dtype.name}, descriptor {params['dtype']}")
        if key.endswith("_bound"):
            check(a[key].dtype == np.float64, f"{key}: bounds are float64")
        if f["dtype"] == "float16":
            check(header_descr(os.path.join(save, key + ".npy")) == "<f2", f"{key}: float16 is '<f2'")
    check(a["inputs/x"].shape == shape, f"x shape {a['inputs/x'].shape}, descriptor {shape}")
    worst = case["verdict"]["worst"]
    out, i = worst["output"], worst["index"]
    got = a["implementation/" + out].reshape(-1)[i]
    want = a["reference/" + out].reshape(-1)[i]
    check(float(got) == float(worst["got"]), f"{out}[{i}]: file {got}, case.json got {worst['got']}")
    check(float(want) == float(worst["want"]), f"{out}[{i}]: file {want}, case.json want {worst['want']}")
    check(tuple(worst["position"]) == np.unravel_index(i, a["reference/" + out].shape), "position unravels index")


def main():
    normcheck = sys.argv[1]
    for line, want_exit in CASES:
        with tempfile.TemporaryDirectory() as work:
            check_case(normcheck, line, want_exit, work)
    for f in failures:
        print("FAILED: " + f)
    print(f"{len(CASES)} cases, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
