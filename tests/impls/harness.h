#pragma once
/// What the implementation families' tests share: seeded uniform inputs for a problem, one call
/// of an implementation into guarded NaN-poisoned outputs, and a bitwise fingerprint of every
/// output. (The property suite generates its own inputs from the descriptor: properties/inputs.h.)
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <vector>

#include "impls/registry.h"
#include "normcheck/problem.h"
#include "normcheck/tensor.h"

namespace normcheck::testing {

struct OwnedInputs {
  Tensor x, weight, bias, running_mean, running_var, grad_output;
  Inputs inputs;
};

struct DataSpec {
  double offset = 0, spread = 1;
  bool constant = false;  ///< every x equal to `offset`
  std::uint64_t seed = 1;
};

/// x = offset + spread * U(-1, 1); gamma in [0.5, 1.5], beta in [-1, 1]; running_mean in
/// [-1, 1], running_var in [0.5, 1.5], num_batches_tracked 3; dy in [-1, 1]. x and dy in
/// `layout` (default: the problem's).
inline OwnedInputs make_inputs(const Problem& p, const DataSpec& d, std::optional<Layout> x_layout = {}) {
  std::mt19937_64 rng(d.seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto values = [&](std::int64_t n, double lo, double hi) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& e : v) e = lo + (hi - lo) * (u(rng) + 1) / 2;
    return v;
  };
  const Layout layout = x_layout.value_or(p.layout);
  OwnedInputs o;
  const std::int64_t numel = numel_of(p.shape);
  std::vector<double> xv(static_cast<std::size_t>(numel), d.offset);
  if (!d.constant)
    for (double& e : xv) e = d.offset + d.spread * u(rng);
  o.x = Tensor::from_values(p.dtype, p.shape, xv, layout);
  o.inputs.x = o.x.view();
  const auto ashape = affine_shape(p);
  const std::int64_t an = numel_of(ashape);
  if (p.affine) {
    o.weight = Tensor::from_values(p.dtype, ashape, values(an, 0.5, 1.5));
    o.inputs.weight = o.weight.view();
  }
  if (p.bias) {  // also without a weight (Keras' center=True, scale=False)
    o.bias = Tensor::from_values(p.dtype, ashape, values(an, -1, 1));
    o.inputs.bias = o.bias.view();
  }
  if (tracks_running_stats(p)) {
    o.running_mean = Tensor::from_values(p.dtype, {p.shape[1]}, values(p.shape[1], -1, 1));
    o.running_var = Tensor::from_values(p.dtype, {p.shape[1]}, values(p.shape[1], 0.5, 1.5));
    o.inputs.running_mean = o.running_mean.view();
    o.inputs.running_var = o.running_var.view();
    o.inputs.num_batches_tracked = 3;
  }
  if (p.direction == Direction::kBackward) {
    o.grad_output = Tensor::from_values(p.dtype, p.shape, values(numel, -1, 1), layout);
    o.inputs.grad_output = o.grad_output.view();
  }
  return o;
}

struct RunResult {
  Status status;
  impls::OwnedOutputs out;
};

/// allocate_outputs + run(); a write outside an output (its guard elements changed) turns an ok
/// status into that error.
inline RunResult run_impl(impls::Implementation& impl, const Problem& p, const Inputs& in) {
  RunResult r;
  auto o = impls::allocate_outputs(p, in, impl.capabilities());
  if (!o) {
    r.status = o.status();
    return r;
  }
  r.out = std::move(*o);
  r.status = impl.run(p, in, r.out.views);
  if (r.status.ok()) r.status = r.out.check_guards();
  return r;
}

/// Issue 12 item 3's case: onnx batch_norm training on x = [10000, 10000] (one channel) with
/// running_mean 0 and momentum 0.99. The new running_mean impl stores, or NaN if it refuses.
inline double onnx_momentum_case_running_mean(impls::Implementation& impl) {
  Problem p = default_problem(Op::kBatchNorm, {2, 1}, Profile::kOnnx);
  p.momentum = 0.99;
  OwnedInputs in = make_inputs(p, {.offset = 10000, .spread = 1, .constant = true, .seed = 1});
  in.running_mean.view().set_linear(0, 0.0);
  const RunResult r = run_impl(impl, p, in.inputs);
  return r.status.ok() ? r.out.views.running_mean->get_linear(0) : std::nan("");
}
/// ... and what ONNX Runtime stores there: its momentum is a float attribute, so
/// 10000 * (1 - float(0.99)) (exact in double) rounded once to float32: 99.99991, not 100.
inline double onnx_momentum_case_expected() {
  const double keep = static_cast<float>(0.99);
  return static_cast<float>(10000 * (1 - keep));
}

/// The bits of every element of a view in logical order (as doubles; NaN payloads aside).
inline std::vector<std::uint64_t> bits_of(const TensorView& v) {
  std::vector<std::uint64_t> b(static_cast<std::size_t>(v.numel()));
  for (std::int64_t i = 0; i < v.numel(); ++i) {
    const double d = v.get_linear(i);
    std::memcpy(&b[static_cast<std::size_t>(i)], &d, 8);
  }
  return b;
}

/// Every output of a run, bitwise, in a fixed order, and num_batches_tracked.
inline std::vector<std::uint64_t> all_bits(const impls::Outputs& o) {
  std::vector<std::uint64_t> all;
  auto add = [&](const std::optional<TensorView>& v) {
    if (!v) return;
    const auto b = bits_of(*v);
    all.insert(all.end(), b.begin(), b.end());
  };
  add(o.y);
  add(o.mean);
  add(o.rstd);
  add(o.running_mean);
  add(o.running_var);
  add(o.dx);
  add(o.dweight);
  add(o.dbias);
  all.push_back(static_cast<std::uint64_t>(o.num_batches_tracked));
  return all;
}

}  // namespace normcheck::testing
