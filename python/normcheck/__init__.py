"""Write a normalization implementation in Python and gate it with normcheck.

    import numpy as np
    import normcheck

    class MyLayerNorm:
        name = "my-layer-norm"                      # the name in reports ([A-Za-z0-9._-], <= 64)
        def supports(self, p):
            return p.op == "layer_norm" and p.dtype == "float32" or "layer_norm float32 only"
        def forward(self, p, t):
            t = t.numpy()                           # numpy views of normcheck's shared memory, no copy
            ...
            t.y[...] = y                            # write the outputs in place,
            # or: return {"y": y}                   # or return them (same dtype and shape)

    $ normcheck gate --python my_norms.py:MyLayerNorm --op layer_norm --dtype float32

The object (or a class, instantiated without arguments) is imported once per worker process and
called one case at a time. The contract mirrors the C ABI (docs/plugin-abi.md); the details are
in docs/python-plugin.md:

  supports(problem)          -> True, or a reason string (False: refused without a reason)
  forward(problem, tensors)  -> None (outputs written) or {name: array} to copy in; sets
                                problem.num_batches_tracked when it updates running statistics
  backward(problem, tensors) -> as forward, for dx / dweight / dbias (optional method)
  raise InputError(message)   the framework's own refusal of the input (NC_ERROR_INPUT)
  raise UnsupportedError(msg) cannot do it after all (NC_ERROR_UNSUPPORTED; refuse in supports())
  any other exception         an internal error: the case FAILS with the traceback's last lines
"""
from dataclasses import dataclass, field
from typing import Optional, Tuple

__all__ = ["InputError", "UnsupportedError", "Problem", "Tensors", "OPS", "DTYPES", "LAYOUTS", "PROFILES"]

# The ABI's enumerations (impls/plugin/normcheck_plugin.h), by value; append only.
OPS = ("batch_norm", "layer_norm", "instance_norm", "group_norm", "rms_norm", "layer_norm_2d")
DTYPES = ("float64", "float32", "float16", "bfloat16")
LAYOUTS = ("contiguous", "channels_last", "permuted", "strided")
MODES = ("train", "eval")
DIRECTIONS = ("forward", "backward")
DEVICES = ("cpu", "cuda")
PROFILES = ("pytorch", "keras", "onnx")


class InputError(Exception):
    """The framework's own refusal of an input, e.g. PyTorch's "Expected more than 1 value per
    channel when training, got input size [1, 3]": normcheck compares it with the refusal the
    profile requires (NC_ERROR_INPUT)."""


class UnsupportedError(Exception):
    """The implementation cannot do this problem after all (NC_ERROR_UNSUPPORTED): the case FAILS,
    since supports() said yes. Refuse in supports() instead."""


@dataclass
class Problem:
    """One normalization problem (nc_problem and nc_params), enums as strings."""

    op: str
    dtype: str
    layout: str
    mode: str
    direction: str
    device: str
    profile: str
    shape: Tuple[int, ...]
    eps: float  # the descriptor's eps (eps=none resolved to the dtype's epsilon), not rounded
    eps_is_none: bool
    momentum: Optional[float]  # None: PyTorch's cumulative moving average
    num_groups: int
    normalized_ndim: int
    affine: bool
    bias: bool
    track_running_stats: bool
    training: bool
    num_batches_tracked: int  # in/out: forward stores the new value
    descriptor: str

    @property
    def normalized_shape(self) -> Tuple[int, ...]:
        """layer_norm / rms_norm: the trailing dims that are normalized; () otherwise."""
        return self.shape[len(self.shape) - self.normalized_ndim:] if self.normalized_ndim else ()

    @property
    def uses_running_stats(self) -> bool:
        """Eval mode with tracked running statistics: they replace the batch statistics."""
        return self.track_running_stats and not self.training

    @property
    def updates_running_stats(self) -> bool:
        """Training with tracked running statistics: forward updates them in place."""
        return self.track_running_stats and self.training

    @classmethod
    def _from_fields(cls, f: dict) -> "Problem":
        return cls(op=OPS[f["op"]], dtype=DTYPES[f["dtype"]], layout=LAYOUTS[f["layout"]], mode=MODES[f["mode"]],
                   direction=DIRECTIONS[f["direction"]], device=DEVICES[f["device"]],
                   profile=PROFILES[f["profile"]], shape=tuple(f["shape"]), eps=f["eps"],
                   eps_is_none=bool(f["eps_is_none"]), momentum=f["momentum"] if f["has_momentum"] else None,
                   num_groups=f["num_groups"], normalized_ndim=f["normalized_ndim"], affine=bool(f["affine"]),
                   bias=bool(f["bias"]), track_running_stats=bool(f["track_running_stats"]),
                   training=bool(f["training"]), num_batches_tracked=f["num_batches_tracked"],
                   descriptor=f["descriptor"])


_TENSOR_NAMES = ("x", "weight", "bias", "running_mean", "running_var", "grad_output",
                 "y", "mean", "rstd", "dx", "dweight", "dbias")


@dataclass
class Tensors:
    """The tensors of one call (nc_tensors): each None when not part of the problem, else an
    object with __dlpack__ viewing normcheck's shared memory (valid during the call only).
    numpy.from_dlpack(t.x) and torch.from_dlpack(t.x) view it without a copy."""

    x: object = None
    weight: object = None
    bias: object = None
    running_mean: object = None
    running_var: object = None
    grad_output: object = None
    y: object = None
    mean: object = None
    rstd: object = None
    dx: object = None
    dweight: object = None
    dbias: object = None

    def numpy(self) -> "Tensors":
        """The same tensors as writable numpy arrays (views through __array_interface__: NumPy's
        own from_dlpack marks its views read-only, so outputs could not be written through them)."""
        import numpy as np
        return Tensors(**{k: None if getattr(self, k) is None else np.asarray(getattr(self, k))
                          for k in _TENSOR_NAMES})

    def torch(self) -> "Tensors":
        """The same tensors as torch tensors (views, on the CPU)."""
        import torch
        return Tensors(**{k: None if getattr(self, k) is None else torch.from_dlpack(getattr(self, k))
                          for k in _TENSOR_NAMES})
