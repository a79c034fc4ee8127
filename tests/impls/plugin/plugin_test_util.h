#pragma once
/// What the plugin tests share: where the test plugins are, seeded inputs for a problem, and one
/// call of an implementation into poisoned outputs.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "impls/plugin/plugin_impl.h"
#include "impls/registry.h"
#include "normcheck/problem.h"
#include "normcheck/tensor.h"
#include "tests/impls/harness.h"

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

/// x = offset + U(-1, 1) in x_layout (and dy), the rest as tests/impls/harness.h makes them.
inline OwnedInputs make_inputs(const Problem& p, std::uint64_t seed, double offset = 0,
                               Layout x_layout = Layout::kContiguous) {
  return make_inputs(p, DataSpec{.offset = offset, .spread = 1, .constant = false, .seed = seed}, x_layout);
}

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
