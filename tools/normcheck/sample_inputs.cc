#include "tools/normcheck/sample_inputs.h"

#include <cmath>
#include <numbers>
#include <vector>

namespace normcheck::tool {
namespace {

Tensor random_tensor(DType t, std::vector<std::int64_t> shape, std::mt19937_64& rng, double center,
                     double scale) {
  std::vector<double> v(static_cast<std::size_t>(numel_of(shape)));
  for (double& e : v) e = center + scale * standard_normal(rng);
  return Tensor::from_values(t, std::move(shape), v);
}

}  // namespace

Expected<InputSet> make_sample_inputs(const Problem& p, const SampleSpec& spec) {
  NC_RETURN_IF_ERROR(validate(p));
  std::mt19937_64 rng(spec.seed);
  const DType t = p.dtype;
  InputSet in;
  in.x = random_tensor(t, p.shape, rng, spec.offset, spec.spread);
  if (p.affine) in.weight = random_tensor(t, affine_shape(p), rng, 1.0, 0.25);
  if (p.bias) in.bias = random_tensor(t, affine_shape(p), rng, 0.0, 0.25);
  if (tracks_running_stats(p)) {
    const std::vector<std::int64_t> c_shape{p.shape[1]};
    in.running_mean = random_tensor(t, c_shape, rng, spec.offset, 1.0);
    std::vector<double> var(static_cast<std::size_t>(p.shape[1]));
    for (double& v : var) v = spec.spread * spec.spread * (0.5 + uniform01(rng));
    in.running_var = Tensor::from_values(t, c_shape, var);
  }
  if (p.direction == Direction::kBackward) in.grad_output = random_tensor(t, p.shape, rng, 0.0, 1.0);
  return in;
}

}  // namespace normcheck::tool
