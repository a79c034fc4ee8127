"""A broken variant of numpy_norms.py, for the gate to catch: the one-pass variance
E[x^2] - E[x]^2 in the data's precision, which cancels catastrophically when the mean is large
against the spread (a shifted input loses every digit of the variance).

    normcheck gate --python examples/plugin/python/numpy_norms_one_pass.py:OnePassVariance
    -> NOT CONFORMING, with a REPRO line that replays the failing case
"""
import numpy as np

from numpy_norms import NumpyNorms


class OnePassVariance(NumpyNorms):
    name = "numpy-norms-one-pass-variance"
    description = "numpy_norms.py with the one-pass variance E[x^2] - E[x]^2 (broken on purpose)"

    def stats(self, x, axes):
        mean = x.mean(axis=axes, keepdims=True, dtype=x.dtype)
        var = (x * x).mean(axis=axes, keepdims=True, dtype=x.dtype) - mean * mean
        return mean.astype(np.float64), var.astype(np.float64)
