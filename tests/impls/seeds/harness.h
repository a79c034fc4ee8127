#pragma once
/// Helpers the seed tests share: random owned inputs for a problem, one call of an implementation
/// through allocate_outputs + run(), and the reference's answer for the same inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

#include "impls/registry.h"
#include "normcheck/problem.h"
#include "normcheck/tensor.h"
#include "properties/comparator.h"
#include "reference/reference.h"

namespace normcheck::testing {

/// How the random inputs are drawn: x = offset + per-channel shift + spread * U(-1, 1).
struct Draw {
  double offset = 0, spread = 1, channel_shift = 0;
  bool zero_bias = false;
};

/// A problem's inputs, owned (x in p.layout; everything in p.dtype), and the views of them.
struct OwnedCase {
  Problem p;
  Tensor x, weight, bias, running_mean, running_var;
  Inputs in;
};

inline OwnedCase make_case(const Problem& p, std::uint64_t seed, const Draw& draw = {}) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  OwnedCase c;
  c.p = p;
  const std::int64_t n = numel_of(p.shape), C = p.shape[1], S = n / std::max<std::int64_t>(1, p.shape[0] * C);
  std::vector<double> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    x[static_cast<std::size_t>(i)] =
        draw.offset + draw.channel_shift * static_cast<double>((i / S) % C) + draw.spread * u(rng);
  c.x = Tensor::from_values(p.dtype, p.shape, x, p.layout);
  c.in.x = c.x.view();
  std::vector<double> w(static_cast<std::size_t>(C)), b(w.size()), rm(w.size()), rv(w.size());
  for (std::size_t i = 0; i < w.size(); ++i) {
    w[i] = 1.0 + 0.5 * u(rng);
    b[i] = draw.zero_bias ? 0.0 : 0.25 * u(rng);
    rm[i] = u(rng);
    rv[i] = 1.25 + 0.75 * u(rng);
  }
  if (p.affine) {
    c.weight = Tensor::from_values(p.dtype, {C}, w);
    c.in.weight = c.weight.view();
  }
  if (p.affine && p.bias) {
    c.bias = Tensor::from_values(p.dtype, {C}, b);
    c.in.bias = c.bias.view();
  }
  if ((p.op == Op::kBatchNorm || p.op == Op::kInstanceNorm) && p.track_running_stats) {
    c.running_mean = Tensor::from_values(p.dtype, {C}, rm);
    c.running_var = Tensor::from_values(p.dtype, {C}, rv);
    c.in.running_mean = c.running_mean.view();
    c.in.running_var = c.running_var.view();
    c.in.num_batches_tracked = 3;
  }
  return c;
}

/// Allocates the outputs for impl (poisoned, running buffers copied in) and runs it; a failed
/// allocation or run fails the calling test.
inline impls::OwnedOutputs run_impl(impls::Implementation& impl, const OwnedCase& c) {
  Expected<impls::OwnedOutputs> o = impls::allocate_outputs(c.p, c.in, impl.capabilities());
  EXPECT_TRUE(o) << o.message();
  if (!o) return {};
  const Status s = impl.run(c.p, c.in, o->views);
  EXPECT_TRUE(s.ok()) << s.message() << "\n  problem: " << to_string(c.p);
  return std::move(*o);
}

/// The reference's answer for c's inputs under problem p (which may differ from c.p in fields
/// that do not change the inputs: profile, momentum, eps).
inline reference::Result reference_of(const Problem& p, const OwnedCase& c) {
  Expected<reference::Result> r = reference::evaluate(p, c.in);
  EXPECT_TRUE(r) << r.message() << "\n  problem: " << to_string(p);
  if (!r) return {};
  return std::move(*r);
}

/// The comparator's line for one output (or nullptr when it was not compared).
inline const properties::OutputAgreement* find_output(const properties::Agreement& a, std::string_view name) {
  for (const properties::OutputAgreement& o : a.outputs) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

}  // namespace normcheck::testing
