// "seed-groupnorm": the GroupNorm module of the project's seed material.
//
// What the original does, in our words: it holds a per-channel weight and bias shaped
// (1, C, 1, 1) and, given an (N, C, H, W) tensor, views it as (N, G, C/G, H, W), takes
// the mean and the var() of each (n, g) slab over its last three dims, subtracts the mean and
// divides by sqrt(var + eps), views the result back to (N, C, H, W), multiplies by the weight and
// adds the bias. var() is called with the library's default, which applies Bessel's correction:
// the slab's sum of squared deviations is divided by m - 1, not m (m = C/G * H * W). Everything is
// the library's float32 ops; gradients come from autograd, so there is no backward of its own.
//
// How that differs from the frameworks' GroupNorm (biased variance): with v the population
// variance, the output is (x - mean) / sqrt(v * m/(m-1) + eps), i.e. the framework's xhat times
// sqrt((v + eps) / (v * m/(m-1) + eps)), about 1 - 1/(2m): 6.5% low for m = 8, 1.2e-4 for
// m = 4096. A single-element slab gives 0/0 = NaN, as the original does.
#include <cmath>
#include <span>
#include <string>

#include "impls/seeds/internal.h"
#include "impls/seeds/seeds.h"

namespace normcheck::impls {
namespace {

using seeds_detail::dense_copy;
using seeds_detail::mean_of;
using seeds_detail::store_dense;
using seeds_detail::var_of;

/// The forward pass with every intermediate in T (float, or double for float64 data).
/// Scalar math, per set (n, g) with M = C/G * HxW elements X[0..M) and channel c(i):
///   mean = sum(X) / M;  var = sum((X - mean)^2) / (M - 1)
///   Y[i] = (X[i] - mean) / sqrt(var + eps) * gamma[c(i)] + beta[c(i)]
template <class T>
void forward(const Geometry& g, double eps, const Inputs& in, const TensorView& y) {
  const std::vector<T> x = dense_copy<T>(in.x);
  const std::vector<T> gamma = dense_copy<T>(*in.weight);
  const std::vector<T> beta = dense_copy<T>(*in.bias);
  const std::int64_t channels_per_group = g.C / g.G;
  const std::int64_t M = g.set_size, HxW = g.S;
  const T eps_t = static_cast<T>(eps);
  std::vector<T> out(x.size()), scratch;
  for (std::int64_t set = 0; set < g.num_sets; ++set) {
    // Set (n, g) is one contiguous run of the logical (N, G, C/G * HxW) view.
    const std::int64_t begin = set * M;
    const std::span<const T> xs(x.data() + begin, static_cast<std::size_t>(M));
    const T mean = mean_of(xs);
    const T var = var_of(xs, mean, /*correction=*/1, scratch);
    const T denom = std::sqrt(var + eps_t);
    const std::int64_t c0 = (set % g.G) * channels_per_group;
    for (std::int64_t i = 0; i < M; ++i) {
      const std::int64_t c = c0 + i / HxW;
      const T xhat = (xs[static_cast<std::size_t>(i)] - mean) / denom;
      const T scaled = xhat * gamma[static_cast<std::size_t>(c)];
      out[static_cast<std::size_t>(begin + i)] = scaled + beta[static_cast<std::size_t>(c)];
    }
  }
  store_dense<T>(y, out);
}

class SeedGroupNorm final : public Implementation {
 public:
  std::string_view name() const override { return "seed-groupnorm"; }
  std::string_view description() const override {
    return "GroupNorm module from the seed material: normalizes with the unbiased (m - 1) variance; "
           "float32 tensor-library arithmetic, forward only";
  }
  const Capabilities& capabilities() const override { return caps_; }

  std::optional<std::string> supports(const Problem& p) const override {
    if (p.op != Op::kGroupNorm) return caps_.refuses(p, Device::kCPU);
    if (p.direction != Direction::kForward)
      return "direction " + std::string(normcheck::name(p.direction)) +
             " not supported: seed-groupnorm has no backward of its own (the original relies on autograd)";
    if (auto why = caps_.refuses(p, Device::kCPU)) return why;
    if (p.shape.size() != 4)
      return "seed-groupnorm reshapes (N, C, H, W): rank " + std::to_string(p.shape.size()) +
             " not supported";
    if (!p.affine) return "seed-groupnorm always applies its weight and bias: affine=0 not supported";
    if (!p.bias) return "seed-groupnorm always adds its bias: bias=0 not supported";
    return std::nullopt;
  }

  Status run(const Problem& p, const Inputs& in, Outputs& out) override {
    if (auto why = supports(p)) return Status::error(*why);
    Expected<Geometry> g = geometry(p);
    if (!g) return g.status();
    if (!in.weight || !in.bias)
      return Status::error("Expected weight and bias of shape (" + std::to_string(g->C) +
                           ") for seed-groupnorm, but got none");
    if (p.dtype == DType::kFloat64) {
      forward<double>(*g, effective_eps(p), in, out.y);
    } else {
      forward<float>(*g, effective_eps(p), in, out.y);
    }
    return Status();
  }

 private:
  Capabilities caps_{.ops = {Op::kGroupNorm},
                     .dtypes = {DType::kFloat64, DType::kFloat32, DType::kFloat16, DType::kBFloat16},
                     .layouts = {Layout::kContiguous, Layout::kChannelsLast},
                     .modes = {Mode::kTrain, Mode::kEval},
                     .directions = {Direction::kForward},
                     .profiles = {Profile::kPyTorch, Profile::kKeras, Profile::kOnnx},
                     .devices = {Device::kCPU},
                     .saves_stats = false};
};

}  // namespace

std::unique_ptr<Implementation> make_seed_groupnorm() { return std::make_unique<SeedGroupNorm>(); }

}  // namespace normcheck::impls
