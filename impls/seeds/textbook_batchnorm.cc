// "textbook-batchnorm": the batch_norm function of the project's seed material (a textbook's
// from-scratch batch normalization).
//
// What the original does, in our words: it takes X, gamma, beta, the moving mean and variance,
// eps and momentum, and accepts only 2-D (N, C) input (statistics over dim 0) or 4-D
// (N, C, H, W) input (statistics over dims 0, 2, 3 per channel). Outside training it normalizes
// with the moving statistics: (X - moving_mean) / sqrt(moving_var + eps). In training it takes
// the batch mean and the batch variance as the mean of squared deviations (the BIASED,
// population variance), normalizes with them, and updates
//     moving_mean = momentum * moving_mean + (1 - momentum) * mean
//     moving_var  = momentum * moving_var  + (1 - momentum) * var
// (momentum weights the OLD value, as in Keras and ONNX; PyTorch weights the batch). Either way
// the output is gamma * X_hat + beta. It keeps no batch counter. Everything is the library's
// float32 ops; gradients come from autograd, so there is no backward of its own.
//
// So against the keras and onnx profiles (same momentum value) it should agree; against pytorch,
// with the problem's momentum f used as ITS momentum, the running mean differs by
// (2f - 1) * (old - mean), the running variance by that swap plus the missing m/(m-1), and
// num_batches_tracked stays where it was.
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

/// The forward pass (and the moving-statistics update in training) with every intermediate in T.
/// Scalar math, per channel c with the M = N * HxW elements X[n][c][s]:
///   train: mean = sum(X) / M;  var = sum((X - mean)^2) / M
///          moving_mean = momentum * moving_mean + (1 - momentum) * mean   (same for var)
///   eval:  mean = moving_mean; var = moving_var
///   Y = gamma[c] * ((X - mean) / sqrt(var + eps)) + beta[c]
template <class T>
void forward(const Problem& p, const Geometry& g, const Inputs& in, Outputs& out) {
  const std::vector<T> x = dense_copy<T>(in.x);
  const std::vector<T> gamma = dense_copy<T>(*in.weight);
  const std::vector<T> beta = dense_copy<T>(*in.bias);
  std::vector<T> moving_mean = dense_copy<T>(*out.running_mean);
  std::vector<T> moving_var = dense_copy<T>(*out.running_var);
  const bool training = p.mode == Mode::kTrain;
  const T eps = static_cast<T>(effective_eps(p));
  // The scalars as the library sees them: momentum and (1.0 - momentum) computed in double,
  // each converted to the tensors' type.
  const T keep = static_cast<T>(*p.momentum), take = static_cast<T>(1.0 - *p.momentum);
  const std::int64_t N = g.N, C = g.C, HxW = g.S, M = N * HxW;
  std::vector<T> y(x.size()), xs(static_cast<std::size_t>(M)), scratch;
  for (std::int64_t c = 0; c < C; ++c) {
    const auto at = [&](std::int64_t n, std::int64_t s) {
      return static_cast<std::size_t>((n * C + c) * HxW + s);
    };
    for (std::int64_t n = 0; n < N; ++n) {
      for (std::int64_t s = 0; s < HxW; ++s) xs[static_cast<std::size_t>(n * HxW + s)] = x[at(n, s)];
    }
    const std::size_t ci = static_cast<std::size_t>(c);
    T mean = moving_mean[ci], var = moving_var[ci];
    if (training) {
      mean = mean_of(std::span<const T>(xs));
      var = var_of(std::span<const T>(xs), mean, /*correction=*/0, scratch);
      moving_mean[ci] = keep * moving_mean[ci] + take * mean;
      moving_var[ci] = keep * moving_var[ci] + take * var;
    }
    const T denom = std::sqrt(var + eps);
    for (std::int64_t n = 0; n < N; ++n) {
      for (std::int64_t s = 0; s < HxW; ++s) {
        const T xhat = (x[at(n, s)] - mean) / denom;
        const T scaled = gamma[ci] * xhat;
        y[at(n, s)] = scaled + beta[ci];
      }
    }
  }
  store_dense<T>(out.y, y);
  if (training) {
    store_dense<T>(*out.running_mean, moving_mean);
    store_dense<T>(*out.running_var, moving_var);
  }
}

class TextbookBatchNorm final : public Implementation {
 public:
  std::string_view name() const override { return "textbook-batchnorm"; }
  std::string_view description() const override {
    return "batch_norm function from the seed material: Keras-style momentum on the old value, biased "
           "moving variance, no batch counter; float32 tensor-library arithmetic, forward only";
  }
  const Capabilities& capabilities() const override { return caps_; }

  std::optional<std::string> supports(const Problem& p) const override {
    if (p.op != Op::kBatchNorm) return caps_.refuses(p, Device::kCPU);
    if (p.direction != Direction::kForward)
      return "direction " + std::string(normcheck::name(p.direction)) +
             " not supported: textbook-batchnorm has no backward of its own (the original relies on "
             "autograd)";
    if (auto why = caps_.refuses(p, Device::kCPU)) return why;
    if (p.shape.size() != 2 && p.shape.size() != 4)
      return "textbook-batchnorm handles (N, C) and (N, C, H, W) only: rank " +
             std::to_string(p.shape.size()) + " not supported";
    if (!p.track_running_stats)
      return "textbook-batchnorm always keeps moving statistics: track_running_stats=0 not supported";
    if (!p.momentum)
      return "textbook-batchnorm needs a momentum value: momentum=none (cumulative average) not supported";
    if (!p.affine) return "textbook-batchnorm always applies gamma and beta: affine=0 not supported";
    if (!p.bias) return "textbook-batchnorm always adds beta: bias=0 not supported";
    return std::nullopt;
  }

  Status run(const Problem& p, const Inputs& in, Outputs& out) override {
    if (auto why = supports(p)) return Status::error(*why);
    Expected<Geometry> g = geometry(p);
    if (!g) return g.status();
    const std::string c = std::to_string(g->C);
    if (!in.weight || !in.bias)
      return Status::error("Expected gamma and beta of shape (" + c +
                           ") for textbook-batchnorm, but got none");
    if (!out.running_mean || !out.running_var)
      return Status::error("Expected moving_mean and moving_var buffers of shape (" + c +
                           ") for textbook-batchnorm, but got none");
    if (p.dtype == DType::kFloat64) {
      forward<double>(p, *g, in, out);
    } else {
      forward<float>(p, *g, in, out);
    }
    // The textbook function has no batch counter: out.num_batches_tracked keeps its value.
    return Status();
  }

 private:
  Capabilities caps_{.ops = {Op::kBatchNorm},
                     .dtypes = {DType::kFloat64, DType::kFloat32, DType::kFloat16, DType::kBFloat16},
                     .layouts = {Layout::kContiguous, Layout::kChannelsLast},
                     .modes = {Mode::kTrain, Mode::kEval},
                     .directions = {Direction::kForward},
                     .profiles = {Profile::kPyTorch, Profile::kKeras, Profile::kOnnx},
                     .devices = {Device::kCPU},
                     .saves_stats = false};
};

}  // namespace

std::unique_ptr<Implementation> make_textbook_batchnorm() { return std::make_unique<TextbookBatchNorm>(); }

}  // namespace normcheck::impls
