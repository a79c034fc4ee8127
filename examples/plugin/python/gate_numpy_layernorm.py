#!/usr/bin/env python3
"""Gate a Python implementation with normcheck's golden .npy files, no plugin needed.

The implementation under test here is a numpy float32 LayerNorm (`numpy_layer_norm` below);
put yours in its place. The script reads a case's inputs and the reference's correctly rounded
outputs with their per-element error bounds, runs the implementation, and judges each output as
normcheck's comparator does: NaN must meet NaN and inf the same inf; a finite element passes when
|got - want| <= bound (bit-equal always passes). Exit status 0: every case passed; 1: a case
failed; 2: bad usage or files.

A case comes in one of two forms (examples/plugin/README.md):

  gate_numpy_layernorm.py --manifest fixtures/golden/<name>/manifest.json
      the golden fixtures' JSON manifest: {"problem": "<descriptor>", "inputs": {"x": "x.npy", ...},
      "outputs": {"y": {"value": "y.npy", "bound": "y_bound.npy"}, ...}}, paths relative to it

  gate_numpy_layernorm.py --problem '<descriptor>' --inputs DIR --reference DIR
      what `normcheck gen-sample --out DIR` and `normcheck reference --out DIR` write today:
      DIR/x.npy, weight.npy, bias.npy ... and DIR/y.npy, y_bound.npy, mean.npy, mean_bound.npy ...

Needs numpy only (bfloat16 files also need ml_dtypes). Documentation, not part of the test suite.
"""
import argparse
import json
import os
import sys

import numpy as np


def parse_descriptor(line):
    """The few fields of normcheck's one-line descriptor this implementation needs."""
    words = line.split()
    fields = {"op": words[0]}
    for w in words[1:]:
        key, _, value = w.partition("=")
        fields[key] = value
    dims = lambda s: tuple(int(d) for d in s.split("x")) if s else ()
    return {
        "op": fields["op"],
        "shape": dims(fields.get("shape", "")),
        "dtype": fields.get("dtype", "float32"),
        "eps": None if fields.get("eps", "1e-05") == "none" else float(fields.get("eps", "1e-05")),
        "affine": fields.get("affine", "1") == "1",
        "bias": fields.get("bias", "1") == "1",
        "normalized_shape": dims(fields.get("normalized_shape", "")),
        "direction": fields.get("direction", "forward"),
    }


def numpy_layer_norm(problem, inputs):
    """The implementation under test: LayerNorm in float32 with numpy's own reductions.

    Returns the outputs it computes, by normcheck's names (y, mean, rstd)."""
    x = inputs["x"].astype(np.float32)
    k = len(problem["normalized_shape"])
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True, dtype=np.float32)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True, dtype=np.float32)
    rstd = np.float32(1) / np.sqrt(var + np.float32(problem["eps"]))
    y = (x - mean) * rstd
    if problem["affine"]:
        y = y * inputs["weight"]
        if problem["bias"]:
            y = y + inputs["bias"]
    return {"y": y.astype(np.float32), "mean": mean.reshape(-1), "rstd": rstd.reshape(-1)}


def judge(name, got, want, bound):
    """normcheck's rule per element; returns (failures, a line describing the worst element)."""
    got = np.asarray(got, dtype=np.float64).reshape(want.shape)
    want = want.astype(np.float64)
    bound = bound.astype(np.float64)
    nan_ok = np.isnan(got) == np.isnan(want)
    inf_ok = np.where(np.isinf(want) | np.isinf(got), got == want, True)
    finite = np.isfinite(got) & np.isfinite(want)
    err = np.where(finite, np.abs(got - want), 0.0)
    within = np.where(finite, (err <= bound) | (got == want), True)
    ok = nan_ok & inf_ok & within
    failures = int(np.count_nonzero(~ok))
    worst = int(np.argmax(np.where(bound > 0, err / np.where(bound > 0, bound, 1), err)))
    line = "%s: %d compared, %d beyond the bound; worst [%d] got %.9g want %.9g (bound %.3g)" % (
        name, want.size, failures, worst, got.flat[worst], want.flat[worst], bound.flat[worst])
    return failures, line


def load_case(args):
    """(descriptor, inputs {name: array}, outputs {name: (value, bound)})."""
    if args.manifest:
        with open(args.manifest) as f:
            m = json.load(f)
        base = os.path.dirname(os.path.abspath(args.manifest))
        inputs = {k: np.load(os.path.join(base, v)) for k, v in m["inputs"].items()}
        outputs = {k: (np.load(os.path.join(base, v["value"])), np.load(os.path.join(base, v["bound"])))
                   for k, v in m["outputs"].items()}
        return m["problem"], inputs, outputs
    inputs = {f[:-4]: np.load(os.path.join(args.inputs, f)) for f in os.listdir(args.inputs) if f.endswith(".npy")}
    outputs = {}
    for f in os.listdir(args.reference):
        if f.endswith(".npy") and not f.endswith("_bound.npy"):
            stem = f[:-4]
            outputs[stem] = (np.load(os.path.join(args.reference, f)),
                             np.load(os.path.join(args.reference, stem + "_bound.npy")))
    return args.problem, inputs, outputs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest")
    ap.add_argument("--problem")
    ap.add_argument("--inputs")
    ap.add_argument("--reference")
    args = ap.parse_args()
    if not args.manifest and not (args.problem and args.inputs and args.reference):
        ap.error("give --manifest, or --problem, --inputs and --reference")
    try:
        line, inputs, outputs = load_case(args)
    except (OSError, KeyError, ValueError) as e:
        print("Expected a readable case, but got: %s" % e, file=sys.stderr)
        return 2
    problem = parse_descriptor(line)
    if problem["op"] != "layer_norm" or problem["dtype"] != "float32" or problem["direction"] != "forward":
        print("SKIPPED %s: this implementation does float32 layer_norm forward only" % line)
        return 0
    got = numpy_layer_norm(problem, inputs)
    failed = False
    for name, (want, bound) in sorted(outputs.items()):
        if name not in got:
            continue  # an output this implementation does not produce
        failures, summary = judge(name, got[name], want, bound)
        failed |= failures > 0
        print(summary)
    print("%s %s" % ("FAILED" if failed else "PASSED", line))
    if failed:
        print("REPRO: normcheck repro '%s'" % line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
