// The witness problems' inputs (impls/mutants/witness.h).
#include "impls/mutants/witness.h"

#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

namespace normcheck::impls {
namespace {

/// A uniform deviate in [-1, 1) from 53 random bits (portable: no std distribution).
double uniform_pm1(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-52 - 1.0; }

/// A standard normal deviate (Box-Muller, cosine branch; portable).
double standard_normal(std::mt19937_64& rng) {
  const double u1 = (static_cast<double>(rng() >> 11) + 1.0) * 0x1p-53;  // (0, 1]
  const double u2 = static_cast<double>(rng() >> 11) * 0x1p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace

Expected<WitnessInputs> make_witness_inputs(const Problem& p) {
  NC_RETURN_IF_ERROR(validate(p));
  std::mt19937_64 rng(p.seed);
  auto values = [&](std::int64_t n, double lo, double hi) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& e : v) e = lo + (hi - lo) * (uniform_pm1(rng) + 1) / 2;
    return v;
  };
  const std::int64_t numel = numel_of(p.shape);
  std::vector<double> x(static_cast<std::size_t>(numel));
  const Values& vals = p.values;
  switch (vals.kind) {
    case ValueKind::kNormal:
    case ValueKind::kNaN:
    case ValueKind::kInf:
      for (double& e : x) e = vals.offset + vals.spread * standard_normal(rng);
      break;
    case ValueKind::kUniform:
      for (double& e : x) e = vals.offset + vals.spread * uniform_pm1(rng);
      break;
    case ValueKind::kConstant:
      for (double& e : x) e = vals.offset;
      break;
    default:
      return Status::error("Expected values= normal, uniform, constant, nan or inf for a witness, but got " +
                           to_string(vals));
  }
  // nan / inf: one element, chosen by the seed, is NaN / +inf.
  if ((vals.kind == ValueKind::kNaN || vals.kind == ValueKind::kInf) && numel > 0)
    x[static_cast<std::size_t>(rng() % static_cast<std::uint64_t>(numel))] =
        vals.kind == ValueKind::kNaN ? std::numeric_limits<double>::quiet_NaN()
                                     : std::numeric_limits<double>::infinity();
  WitnessInputs o;
  o.x = Tensor::from_values(p.dtype, p.shape, x, p.layout);
  o.inputs.x = o.x.view();
  const std::vector<std::int64_t> ashape = affine_shape(p);
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
