"""An example Python implementation gated by normcheck: LayerNorm and BatchNorm in NumPy,
float32 and float64, forward and backward, train and eval, any layout, PyTorch's conventions
(biased variance in the output, unbiased running variance, momentum or the cumulative average,
num_batches_tracked, the error for one value per channel). Statistics and outputs are computed
in float64 and rounded once to the data's dtype, as examples/plugin/c_norms.c does.

    normcheck gate --python examples/plugin/python/numpy_norms.py:NumpyNorms --op layer_norm

Per normalization set S of m elements (eps inside the square root):
    mean = sum(x) / m;  var = sum((x - mean)^2) / m;  rstd = 1 / sqrt(var + eps)
    y = (x - mean) * rstd * gamma + beta
    dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma,  xhat = (x - mean) * rstd
"""
import numpy as np

import normcheck


class NumpyNorms:
    name = "numpy-norms"
    description = f"Example Python implementation: LayerNorm and BatchNorm in NumPy {np.__version__}"
    saves_stats = True  # forward writes mean / rstd when they are asked for

    def supports(self, p):
        if p.op not in ("layer_norm", "batch_norm"):
            return "numpy-norms implements layer_norm and batch_norm only"
        if p.dtype not in ("float32", "float64"):
            return "numpy-norms computes float32 and float64 only"
        if p.profile != "pytorch":
            return "numpy-norms follows PyTorch's conventions only"
        if p.device != "cpu":
            return "numpy-norms runs on the CPU only"
        if 0 in p.shape:
            return "numpy-norms does not handle empty tensors"
        return True

    # ---- the geometry: which axes a set spans, how weight broadcasts ----

    @staticmethod
    def set_axes(p):
        """The axes reduced over: BatchNorm all but the channel axis, LayerNorm the trailing ones."""
        if p.op == "batch_norm":
            return (0,) + tuple(range(2, len(p.shape)))
        return tuple(range(len(p.shape) - p.normalized_ndim, len(p.shape)))

    @staticmethod
    def affine_shape(p):
        """weight / bias reshaped to broadcast against x."""
        if p.op == "batch_norm":
            return (1, p.shape[1]) + (1,) * (len(p.shape) - 2)
        return p.normalized_shape

    def stats(self, x, axes):
        """mean and biased variance per set, in float64, keeping the reduced axes."""
        x64 = x.astype(np.float64)
        mean = x64.mean(axis=axes, keepdims=True)
        return mean, ((x64 - mean) ** 2).mean(axis=axes, keepdims=True)

    def batch_or_running(self, p, t, x, axes):
        """The statistics forward and backward normalize with: running ones in eval with tracking."""
        if p.op == "batch_norm" and p.uses_running_stats:
            shape = self.affine_shape(p)
            return t.running_mean.astype(np.float64).reshape(shape), t.running_var.astype(np.float64).reshape(shape)
        return self.stats(x, axes)

    # ---- forward ----

    # NaN and inf inputs are part of the suite: IEEE's answers are intended, NumPy's warnings are not.
    @np.errstate(all="ignore")
    def forward(self, p, tensors):
        t = tensors.numpy()
        axes = self.set_axes(p)
        m = int(np.prod([p.shape[a] for a in axes]))
        running = p.op == "batch_norm" and p.uses_running_stats
        if p.op == "batch_norm" and not running and m == 1:
            raise normcheck.InputError("Expected more than 1 value per channel when training, got input size "
                                       f"[{', '.join(map(str, p.shape))}]")
        mean, var = self.batch_or_running(p, t, t.x, axes)
        rstd = 1.0 / np.sqrt(var + p.eps)
        y = (t.x.astype(np.float64) - mean) * rstd
        if t.weight is not None:
            y = y * t.weight.astype(np.float64).reshape(self.affine_shape(p))
        if t.bias is not None:
            y = y + t.bias.astype(np.float64).reshape(self.affine_shape(p))
        t.y[...] = y  # rounds once to the output's dtype, in the output's layout
        if t.mean is not None:
            t.mean[...] = mean.reshape(-1)
        if t.rstd is not None:
            t.rstd[...] = rstd.reshape(-1)
        if p.op == "batch_norm" and p.updates_running_stats:
            p.num_batches_tracked += 1
            f = p.momentum if p.momentum is not None else 1.0 / p.num_batches_tracked
            t.running_mean[...] = (1 - f) * t.running_mean.astype(np.float64) + f * mean.reshape(-1)
            t.running_var[...] = (1 - f) * t.running_var.astype(np.float64) + f * var.reshape(-1) * m / (m - 1)

    # ---- backward ----

    @np.errstate(all="ignore")
    def backward(self, p, tensors):
        t = tensors.numpy()
        axes = self.set_axes(p)
        mean, var = self.batch_or_running(p, t, t.x, axes)
        rstd = 1.0 / np.sqrt(var + p.eps)
        dy = t.grad_output.astype(np.float64)
        xhat = (t.x.astype(np.float64) - mean) * rstd
        gamma = 1.0 if t.weight is None else t.weight.astype(np.float64).reshape(self.affine_shape(p))
        g = dy * gamma
        if p.op == "batch_norm" and p.uses_running_stats:
            t.dx[...] = g * rstd  # y is affine in x: the statistics do not depend on it
        else:
            t.dx[...] = rstd * (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True))
        # dweight / dbias sum over everything the affine parameters are shared across.
        shared = tuple(a for a in range(len(p.shape)) if a not in axes) if p.op == "layer_norm" else axes
        if t.dweight is not None:
            t.dweight[...] = (dy * xhat).sum(axis=shared).reshape(t.dweight.shape)
        if t.dbias is not None:
            t.dbias[...] = dy.sum(axis=shared).reshape(t.dbias.shape)
