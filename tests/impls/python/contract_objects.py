"""Python objects that each break (or keep) one clause of the Python plugin contract
(docs/python-plugin.md), for python_gate_test.cc. Each is gated on one case (`gate --repro`)."""
import os
import time

import numpy as np

import normcheck


def layer_norm(x, eps):
    """float64 LayerNorm over the last axis, no affine: the correct answer these objects start from."""
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=-1, keepdims=True)
    return (x64 - mean) / np.sqrt(((x64 - mean) ** 2).mean(axis=-1, keepdims=True) + eps)


class LayerNormOnly:
    """supports(): last-axis layer_norm, float32, no affine, contiguous (what the cases below are)."""

    def supports(self, p):
        if p.op != "layer_norm" or p.dtype != "float32" or p.affine or p.bias or p.normalized_ndim != 1:
            return "last-axis float32 layer_norm without affine only"
        return True


class WritesInPlace(LayerNormOnly):
    """Correct: writes y through the writable NumPy view."""

    def forward(self, p, tensors):
        t = tensors.numpy()
        t.y[...] = layer_norm(t.x, p.eps)


class ReadsThroughFromDlpack(LayerNormOnly):
    """Correct: reads x with numpy.from_dlpack (zero copy), returns y."""

    def forward(self, p, tensors):
        return {"y": layer_norm(np.from_dlpack(tensors.x), p.eps).astype(np.float32)}


class WritesNothing(LayerNormOnly):
    """Returns without writing: y stays the poison (NaN)."""

    def forward(self, p, tensors):
        pass


class ReturnsWrongDtype(LayerNormOnly):
    """Returns y in float64 for float32 data."""

    def forward(self, p, tensors):
        return {"y": layer_norm(np.from_dlpack(tensors.x), p.eps)}


class ReturnsWrongShape(LayerNormOnly):
    def forward(self, p, tensors):
        return {"y": layer_norm(np.from_dlpack(tensors.x), p.eps).astype(np.float32).T.copy()}


class ReturnsUnknownOutput(LayerNormOnly):
    def forward(self, p, tensors):
        return {"z": np.zeros(p.shape, np.float32)}


def divide(a, b):
    return a / b


class Raises(LayerNormOnly):
    """An uncaught exception two frames deep."""

    def forward(self, p, tensors):
        divide(1, 0)


class RaisesInputError(LayerNormOnly):
    """Refuses every input as the framework would (NC_ERROR_INPUT)."""

    def supports(self, p):
        return True

    def forward(self, p, tensors):
        raise normcheck.InputError("Expected more than 1 value per channel when training, got input size "
                                   f"[{', '.join(map(str, p.shape))}]")


class RaisesUnsupported(LayerNormOnly):
    def forward(self, p, tensors):
        raise normcheck.UnsupportedError("changed my mind")


class SupportsRaises(WritesInPlace):
    def supports(self, p):
        raise RuntimeError("supports is broken")


class RefusesWithReason(WritesInPlace):
    def supports(self, p):
        return "no layer norms today"


class Aborts(LayerNormOnly):
    def forward(self, p, tensors):
        os.abort()


class Hangs(LayerNormOnly):
    def forward(self, p, tensors):
        time.sleep(60)


class KeepsTensors(WritesInPlace):
    """Keeps call 1's x and reads it in call 2, when its memory is no longer mapped."""

    kept = None

    def forward(self, p, tensors):
        if KeepsTensors.kept is not None:
            np.from_dlpack(KeepsTensors.kept)
        KeepsTensors.kept = tensors.x
        super().forward(p, tensors)


class NoForward:
    def supports(self, p):
        return True


class BadName(WritesInPlace):
    name = "has spaces"


class AllocatesTooMuch(LayerNormOnly):
    """Reserves 4 GiB (untouched: free without a limit), past a 1 GiB address-space limit."""

    def forward(self, p, tensors):
        np.empty(1 << 29)
