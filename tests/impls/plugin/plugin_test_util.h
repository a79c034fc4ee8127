#pragma once
/// What the plugin tests share: where the test plugins are, seeded inputs for a problem, and one
/// call of an implementation into poisoned outputs.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "impls/plugin/plugin_impl.h"
#include "impls/registry.h"
#include "normcheck/problem.h"
#include "normcheck/tensor.h"

namespace normcheck::testing {

/// A deliberately bad plugin from tests/impls/plugin/bad/ by its file's stem ("segfault").
inline std::string bad_plugin(const std::string& stem) {
  return std::string(NC_BAD_PLUGIN_DIR) + "/" + stem + ".so";
}
inline std::string example_plugin() { return NC_EXAMPLE_PLUGIN; }

/// The bad plugins misbehave on cases whose leading dim is this (bad/bad_plugin.h).
inline constexpr std::int64_t kTriggerDim = 13;

/// A float32 layer_norm over the last dim of (leading, 8).
inline Problem layer_norm_problem(std::int64_t leading) {
  Problem p = default_problem(Op::kLayerNorm, {leading, 8});
  p.normalized_shape = {8};
  return p;
}

struct OwnedInputs {
  Tensor x, weight, bias, running_mean, running_var, grad_output;
  Inputs inputs;
};

/// x = offset + U(-1, 1), gamma in [0.5, 1.5], beta, running stats and dy in [-1, 1] (var in [0.5, 1.5]).
inline OwnedInputs make_inputs(const Problem& p, std::uint64_t seed, double offset = 0,
                               Layout x_layout = Layout::kContiguous) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto values = [&](std::int64_t n, double lo, double hi) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (double& e : v) e = lo + (hi - lo) * (u(rng) + 1) / 2;
    return v;
  };
  OwnedInputs o;
  const std::int64_t n = numel_of(p.shape);
  o.x = Tensor::from_values(p.dtype, p.shape, values(n, offset - 1, offset + 1), x_layout);
  o.inputs.x = o.x.view();
  const auto ashape = affine_shape(p);
  if (p.affine) {
    o.weight = Tensor::from_values(p.dtype, ashape, values(numel_of(ashape), 0.5, 1.5));
    o.inputs.weight = o.weight.view();
    if (p.bias) {
      o.bias = Tensor::from_values(p.dtype, ashape, values(numel_of(ashape), -1, 1));
      o.inputs.bias = o.bias.view();
    }
  }
  if (tracks_running_stats(p)) {
    o.running_mean = Tensor::from_values(p.dtype, {p.shape[1]}, values(p.shape[1], -1, 1));
    o.running_var = Tensor::from_values(p.dtype, {p.shape[1]}, values(p.shape[1], 0.5, 1.5));
    o.inputs.running_mean = o.running_mean.view();
    o.inputs.running_var = o.running_var.view();
    o.inputs.num_batches_tracked = 3;
  }
  if (p.direction == Direction::kBackward) {
    o.grad_output = Tensor::from_values(p.dtype, p.shape, values(n, -1, 1), x_layout);
    o.inputs.grad_output = o.grad_output.view();
  }
  return o;
}

struct RunResult {
  Status status;
  impls::OwnedOutputs out;
};

/// allocate_outputs + run(); the guard elements around every output must be untouched.
inline RunResult run_case(impls::Implementation& impl, const Problem& p, const Inputs& in) {
  RunResult r;
  Expected<impls::OwnedOutputs> o = impls::allocate_outputs(p, in, impl.capabilities());
  EXPECT_TRUE(o.ok()) << o.message();
  if (!o) return r;
  r.out = std::move(*o);
  r.status = impl.run(p, in, r.out.views);
  const Status guards = r.out.check_guards();
  EXPECT_TRUE(guards.ok()) << guards.message();
  return r;
}

/// Loads a plugin that must load.
inline std::unique_ptr<impls::Implementation> load_ok(const std::string& path,
                                                      const impls::PluginOptions& o = {}) {
  Expected<std::unique_ptr<impls::Implementation>> impl = impls::load_plugin(path, o);
  EXPECT_TRUE(impl.ok()) << impl.message();
  return impl ? std::move(*impl) : nullptr;
}

}  // namespace normcheck::testing
