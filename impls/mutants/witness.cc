// The witness problems' inputs (impls/mutants/witness.h).
#include "impls/mutants/witness.h"

#include <limits>
#include <random>
#include <vector>

namespace normcheck::impls {

WitnessInputs make_witness_inputs(const Problem& p, const WitnessData& data) {
  std::mt19937_64 rng(p.seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto values = [&](std::int64_t n, double lo, double hi) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& e : v) e = lo + (hi - lo) * (u(rng) + 1) / 2;
    return v;
  };
  WitnessInputs o;
  const std::int64_t numel = numel_of(p.shape);
  std::vector<double> x(static_cast<std::size_t>(numel), data.offset);
  if (!data.constant)
    for (double& e : x) e = data.offset + data.spread * u(rng);
  if (data.nan_at >= 0 && data.nan_at < numel)
    x[static_cast<std::size_t>(data.nan_at)] = std::numeric_limits<double>::quiet_NaN();
  o.x = Tensor::from_values(p.dtype, p.shape, x, p.layout);
  o.inputs.x = o.x.view();
  const std::vector<std::int64_t> ashape = affine_shape(p);
  const std::int64_t an = numel_of(ashape);
  if (p.affine) {
    o.weight = Tensor::from_values(p.dtype, ashape, values(an, 0.5, 1.5));
    o.inputs.weight = o.weight.view();
    if (p.bias) {
      o.bias = Tensor::from_values(p.dtype, ashape, values(an, -1, 1));
      o.inputs.bias = o.bias.view();
    }
  }
  if (tracks_running_stats(p)) {
    const std::int64_t C = p.shape[1];
    o.running_mean = Tensor::from_values(p.dtype, {C}, values(C, -1, 1));
    o.running_var = Tensor::from_values(p.dtype, {C}, values(C, 0.5, 1.5));
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

}  // namespace normcheck::impls
