"""Gate torch.nn.functional's normalization layers with normcheck: an adapter written against
PyTorch's public API only (torch.from_dlpack, torch.nn.functional, torch.autograd.grad), so it
runs unchanged on PyTorch 1.13 and every 2.x, on the CPU and, for a problem whose device is cuda,
on the GPU.

    normcheck gate --python examples/plugin/python/torch_functional.py:TorchFunctional

It is also the template for gating your own torch module, custom op or Triton kernel: replace
`compute` (one call of the layer on x, weight, bias, running buffers) and keep the rest.

Ops: layer_norm, batch_norm, instance_norm, group_norm, and rms_norm where torch has it (2.4+).
What the installed torch cannot compute (float16 on the CPU in 1.13, ...) is found by running the
op once on a tiny tensor and refused in supports() with torch's own message.
"""
import torch
import torch.nn.functional as F

import normcheck

_DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
_OPS = ("layer_norm", "batch_norm", "instance_norm", "group_norm") + (("rms_norm",) if hasattr(F, "rms_norm") else ())


class TorchFunctional:
    name = "torch-functional"
    description = f"torch.nn.functional {torch.__version__} (normcheck's Python adapter)"

    def __init__(self):
        self._can_run = {}  # (op, dtype, device, direction) -> None, or torch's error message

    # ---- the layer: one call of torch.nn.functional ----

    def compute(self, p, x, weight, bias, running_mean, running_var):
        """y for problem p; the running buffers are updated in place when p trains with them."""
        momentum = self.momentum(p)
        # Batch statistics when training or when no running statistics are tracked (nn.BatchNorm's rule).
        batch_stats = p.training or not p.track_running_stats
        if p.op == "layer_norm":
            return F.layer_norm(x, p.normalized_shape, weight, bias, p.eps)
        if p.op == "rms_norm":
            return F.rms_norm(x, p.normalized_shape, weight, None if p.eps_is_none else p.eps)
        if p.op == "group_norm":
            return F.group_norm(x, p.num_groups, weight, bias, p.eps)
        if p.op == "batch_norm":
            return F.batch_norm(x, running_mean, running_var, weight, bias, batch_stats, momentum, p.eps)
        return F.instance_norm(x, running_mean, running_var, weight, bias, batch_stats, momentum, p.eps)

    @staticmethod
    def momentum(p):
        """What torch.nn's modules pass as momentum. momentum=None is nn.BatchNorm's cumulative
        average (1 / num_batches_tracked when it updates, else unused: 0.0). nn.InstanceNorm passes
        None on, which F.instance_norm refuses (a float is required); that refusal is the profile's
        where the momentum matters (training with running statistics) and is kept there only."""
        if p.momentum is not None:
            return p.momentum
        if not p.updates_running_stats:
            return 0.0
        return 1.0 / p.num_batches_tracked if p.op == "batch_norm" else None

    # ---- the contract ----

    def supports(self, p):
        if p.op not in _OPS:
            return f"torch {torch.__version__} has no torch.nn.functional.{p.op}"
        if p.profile != "pytorch":
            return "torch.nn.functional follows PyTorch's conventions only"
        if p.op == "rms_norm" and p.bias:
            return "torch.nn.functional.rms_norm has no bias"
        if p.device == "cuda" and not torch.cuda.is_available():
            return "torch.cuda.is_available() is False"
        why = self._probe(p)
        return True if why is None else f"torch {torch.__version__} cannot run it: {why}"

    def _probe(self, p):
        """torch's error on a tiny problem of this op, dtype, device and direction, or None."""
        key = (p.op, p.dtype, p.device, p.direction)
        if key not in self._can_run:
            shape = (2, 4, 3)
            tiny = normcheck.Problem(**{**vars(p), "shape": shape, "num_groups": 2 if p.op == "group_norm" else 1,
                                        "normalized_ndim": 1 if p.op in ("layer_norm", "rms_norm") else 0,
                                        "training": True, "track_running_stats": False, "mode": "train"})
            dtype, device = _DTYPES[p.dtype], p.device
            x = torch.randn(shape, dtype=torch.float64).to(dtype=dtype, device=device)
            affine = (shape[-1],) if tiny.normalized_ndim else (shape[1],)
            w = torch.ones(affine, dtype=dtype, device=device)
            try:
                x.requires_grad_(p.direction == "backward")
                y = self.compute(tiny, x, w, None, None, None)
                if p.direction == "backward":
                    y.sum().backward()
                self._can_run[key] = None
            except (RuntimeError, TypeError, ValueError) as e:
                self._can_run[key] = " ".join(str(e).split())[:200]
        return self._can_run[key]

    def _inputs(self, p, tensors, grad):
        """The call's inputs as torch tensors on the problem's device (views on the CPU)."""
        device = "cuda" if p.device == "cuda" else "cpu"

        def view(t, requires_grad=False):
            if t is None:
                return None
            v = torch.from_dlpack(t).to(device)
            return v.detach().requires_grad_(True) if requires_grad else v

        # torch gets the running buffers themselves, as from an nn module (F.instance_norm writes
        # them back even in eval: the mean of N copies of each value, which can move it by an ulp,
        # and the gate reports that). Backward, which re-runs forward, gets clones: it must not
        # update them a second time.
        rm, rv = view(tensors.running_mean), view(tensors.running_var)
        if rm is not None and grad:
            rm, rv = rm.clone(), rv.clone()
        return view(tensors.x, grad), view(tensors.weight, grad), view(tensors.bias, grad), rm, rv

    @staticmethod
    def _torch(f, *args):
        """f(*args), a call into torch, whose exceptions are torch's refusal of the input."""
        try:
            return f(*args)
        except (RuntimeError, TypeError, ValueError) as e:
            raise normcheck.InputError(" ".join(str(e).split())) from e

    def _call(self, p, *args):
        return self._torch(self.compute, p, *args)

    def forward(self, p, tensors):
        if p.updates_running_stats and p.op == "batch_norm":
            p.num_batches_tracked += 1  # nn.BatchNorm counts its training steps; nn.InstanceNorm does not
        x, w, b, rm, rv = self._inputs(p, tensors, grad=False)
        with torch.no_grad():
            y = self._call(p, x, w, b, rm, rv)
            torch.from_dlpack(tensors.y).copy_(y)
            for name, buffer in (("running_mean", rm), ("running_var", rv)):
                target = getattr(tensors, name)
                if buffer is not None and buffer.device.type != "cpu":
                    torch.from_dlpack(target).copy_(buffer)  # updated on the GPU: bring it back

    def backward(self, p, tensors):
        # Stateless: forward again under autograd (on clones of the running buffers), then its gradient.
        x, w, b, rm, rv = self._inputs(p, tensors, grad=True)
        y = self._call(p, x, w, b, rm, rv)
        wanted = [(name, v) for name, v in (("dx", x), ("dweight", w), ("dbias", b)) if v is not None]
        dy = torch.from_dlpack(tensors.grad_output).to(y.device)
        grads = self._torch(torch.autograd.grad, y, [v for _, v in wanted], dy)
        for (name, _), g in zip(wanted, grads):
            torch.from_dlpack(getattr(tensors, name)).copy_(g)
