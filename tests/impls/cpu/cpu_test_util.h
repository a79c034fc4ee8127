#pragma once
/// Helpers for the cpu implementation's tests: owning inputs for a problem (in its layout),
/// running the implementation into poisoned outputs, and bitwise comparison of outputs.
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "impls/cpu/cpu.h"
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

inline OwnedInputs make_inputs(const Problem& p, const DataSpec& d) {
  std::mt19937_64 rng(d.seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto values = [&](std::int64_t n, double lo, double hi) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& e : v) e = lo + (hi - lo) * (u(rng) + 1) / 2;
    return v;
  };
  OwnedInputs o;
  const std::int64_t numel = numel_of(p.shape);
  std::vector<double> xv(static_cast<std::size_t>(numel), d.offset);
  if (!d.constant)
    for (double& e : xv) e = d.offset + d.spread * u(rng);
  o.x = Tensor::from_values(p.dtype, p.shape, xv, p.layout);
  o.inputs.x = o.x.view();
  const auto ashape = affine_shape(p);
  const std::int64_t an = numel_of(ashape);
  if (p.affine) {
    o.weight = Tensor::from_values(p.dtype, ashape, values(an, 0.5, 1.5));
    o.inputs.weight = o.weight.view();
    if (p.bias) {
      o.bias = Tensor::from_values(p.dtype, ashape, values(an, -1, 1));
      o.inputs.bias = o.bias.view();
    }
  }
  if ((p.op == Op::kBatchNorm || p.op == Op::kInstanceNorm) && p.track_running_stats) {
    o.running_mean = Tensor::from_values(p.dtype, {p.shape[1]}, values(p.shape[1], -1, 1));
    o.running_var = Tensor::from_values(p.dtype, {p.shape[1]}, values(p.shape[1], 0.5, 1.5));
    o.inputs.running_mean = o.running_mean.view();
    o.inputs.running_var = o.running_var.view();
    o.inputs.num_batches_tracked = 3;
  }
  if (p.direction == Direction::kBackward) {
    o.grad_output = Tensor::from_values(p.dtype, p.shape, values(numel, -1, 1), p.layout);
    o.inputs.grad_output = o.grad_output.view();
  }
  return o;
}

inline std::unique_ptr<impls::Implementation> make_cpu() {
  std::vector<std::unique_ptr<impls::Implementation>> v;
  impls::add_cpu_implementations(v);
  return std::move(v.at(0));
}

struct RunResult {
  Status status;
  impls::OwnedOutputs out;
};

inline RunResult run_cpu(impls::Implementation& impl, const Problem& p, const Inputs& in) {
  RunResult r;
  auto o = impls::allocate_outputs(p, in, impl.capabilities());
  if (!o) {
    r.status = o.status();
    return r;
  }
  r.out = std::move(*o);
  r.status = impl.run(p, in, r.out.views);
  return r;
}

/// The bits of every element of a view in logical order (as doubles; NaN payloads aside).
inline std::vector<std::uint64_t> bits_of(const TensorView& v) {
  std::vector<std::uint64_t> b(static_cast<std::size_t>(v.numel()));
  for (std::int64_t i = 0; i < v.numel(); ++i) {
    const double d = v.get_linear(i);
    std::memcpy(&b[i], &d, 8);
  }
  return b;
}

/// Every output of a run, bitwise, in a fixed order.
inline std::vector<std::uint64_t> all_bits(const impls::Outputs& o) {
  std::vector<std::uint64_t> all;
  auto add = [&](const std::optional<TensorView>& v) {
    if (!v) return;
    auto b = bits_of(*v);
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
  return all;
}

}  // namespace normcheck::testing
