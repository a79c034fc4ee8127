// seed-groupnorm reproduces the seed material's GroupNorm, unbiased variance included: it agrees
// with that formula evaluated exactly, and every profile's group_norm flags it by the predicted
// factor sqrt((v + eps) / (v * m/(m-1) + eps)).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "impls/seeds/seeds.h"
#include "tests/impls/seeds/harness.h"

namespace normcheck::testing {
namespace {

Problem group_norm(std::vector<std::int64_t> shape, std::int64_t groups, Profile profile = Profile::kPyTorch,
                   DType dtype = DType::kFloat32, Layout layout = Layout::kContiguous) {
  Problem p = default_problem(Op::kGroupNorm, std::move(shape), profile);
  p.num_groups = groups;
  p.dtype = dtype;
  p.layout = layout;
  return p;
}

/// Per set: the exact (long double) population variance v and the predicted ratio of the seed's
/// xhat to the framework's: sqrt((v + eps) / (v * m/(m-1) + eps)).
struct SetPrediction {
  long double mean = 0, var = 0, factor = 1;
};

/// The seed's formula in long double: y = (x - mean) / sqrt(v * m/(m-1) + eps) * w + b, with the
/// predictions per set. x and the affine come from the case's (already rounded) tensors.
std::vector<long double> unbiased_formula(const OwnedCase& c, std::vector<SetPrediction>& sets) {
  const Geometry g = *geometry(c.p);
  const std::vector<double> x = c.x.values(), w = c.weight.values(), b = c.bias.values();
  const long double eps = effective_eps(c.p), M = static_cast<long double>(g.set_size);
  std::vector<long double> y(x.size());
  sets.assign(static_cast<std::size_t>(g.num_sets), {});
  for (std::int64_t s = 0; s < g.num_sets; ++s) {
    SetPrediction& sp = sets[static_cast<std::size_t>(s)];
    const std::size_t begin = static_cast<std::size_t>(s * g.set_size), end = begin + g.set_size;
    for (std::size_t i = begin; i < end; ++i) sp.mean += x[i];
    sp.mean /= M;
    for (std::size_t i = begin; i < end; ++i) sp.var += (x[i] - sp.mean) * (x[i] - sp.mean);
    sp.var /= M;
    const long double unbiased = sp.var * M / (M - 1);
    sp.factor = std::sqrt((sp.var + eps) / (unbiased + eps));
    for (std::size_t i = begin; i < end; ++i) {
      const std::size_t ch = static_cast<std::size_t>((s % g.G) * (g.C / g.G) + (i - begin) / g.S);
      y[i] = (x[i] - sp.mean) / std::sqrt(unbiased + eps) * w[ch] + b[ch];
    }
  }
  return y;
}

TEST(SeedGroupNorm, AgreesWithTheUnbiasedFormulaItReproducesWithinTheFloat32Bound) {
  const auto impl = impls::make_seed_groupnorm();
  struct Shape {
    std::vector<std::int64_t> shape;
    std::int64_t groups;
  };
  const Shape shapes[] = {{{2, 4, 2, 2}, 2}, {{2, 6, 3, 5}, 3}, {{3, 8, 8, 8}, 2}, {{1, 4, 32, 32}, 1}};
  for (DType t : kAllDTypes) {
    double max_ulp = 0;
    for (Layout layout : {Layout::kContiguous, Layout::kChannelsLast}) {
      for (const Shape& sh : shapes) {
        const OwnedCase c = make_case(group_norm(sh.shape, sh.groups, Profile::kPyTorch, t, layout), 11);
        const impls::OwnedOutputs got = run_impl(*impl, c);
        // The reference's bound for the (biased) framework problem on the same inputs: the error a
        // float32-accumulating implementation may show. The seed's own formula is as well
        // conditioned (its variance is only larger), so twice that bound is generous.
        const reference::Result ref = reference_of(c.p, c);
        std::vector<SetPrediction> sets;
        const std::vector<long double> want = unbiased_formula(c, sets);
        const std::vector<double> bound = ref.y_bound.values();
        const std::vector<double> weight = c.weight.values(), bias = c.bias.values();
        const Geometry geo = *geometry(c.p);
        for (std::size_t i = 0; i < want.size(); ++i) {
          const double w = round_to(t, static_cast<double>(want[i]));
          const double g = got.views.y.get_linear(static_cast<std::int64_t>(i));
          ASSERT_LE(std::fabs(g - w), 2 * bound[i])
              << "y[" << i << "]: got " << g << ", want " << w << "\n  problem: " << to_string(c.p);
          // In ulps of the output's scale |gamma| + |beta| + |y| (an output near 0 after beta
          // cancels xhat * gamma has a tiny ulp of its own that says nothing about the arithmetic).
          const std::size_t ch = static_cast<std::size_t>((i / static_cast<std::size_t>(geo.S)) % geo.C);
          const double scale = std::fabs(weight[ch]) + std::fabs(bias[ch]) + std::fabs(w);
          max_ulp = std::max(max_ulp, std::fabs(g - w) / ulp(t, scale));
        }
      }
    }
    std::printf("seed-groupnorm vs its own formula, %s: max %.3g ulp of the output's scale\n",
                std::string(name(t)).c_str(), max_ulp);
    // Each of the ~6 steps rounds once in float32 (float64 for float64 data), and the sums carry
    // O(log m) roundings: a few ulp at the output's scale (centred data: no cancellation in the
    // mean). 16-bit outputs round a float32 value once more: within one of their ulp.
    EXPECT_LE(max_ulp, t == DType::kFloat16 || t == DType::kBFloat16 ? 1.0 : 8.0) << name(t);
  }
}

TEST(SeedGroupNorm, EveryProfileFlagsItByThePredictedFactor) {
  const auto impl = impls::make_seed_groupnorm();
  struct Size {
    std::vector<std::int64_t> shape;
    std::int64_t groups, m;
    double min_fraction;  // the least worst-element bound fraction asserted (measured: see the printout)
  };
  const Size sizes[] = {
      {{4, 4, 2, 2}, 2, 8, 1e3}, {{2, 8, 4, 4}, 2, 64, 1e2}, {{2, 16, 32, 32}, 4, 4096, 1.0}};
  for (Profile profile : kAllProfiles) {
    for (const Size& sz : sizes) {
      Draw draw;
      draw.zero_bias = true;  // y = xhat * w, so got / want is the xhat ratio
      const OwnedCase c = make_case(group_norm(sz.shape, sz.groups, profile), 5, draw);
      ASSERT_EQ(geometry(c.p)->set_size, sz.m);
      const impls::OwnedOutputs got = run_impl(*impl, c);
      const reference::Result ref = reference_of(c.p, c);
      const properties::Agreement a = properties::compare(c.p, ref, got.views);
      const properties::OutputAgreement* y = find_output(a, "y");
      ASSERT_NE(y, nullptr);
      std::printf(
          "seed-groupnorm vs %s group_norm, m = %lld: %lld of %lld beyond the bound, worst %.4g of the "
          "bound, %.4g ulp\n",
          std::string(name(profile)).c_str(), static_cast<long long>(sz.m),
          static_cast<long long>(y->failures), static_cast<long long>(y->compared), y->max_bound_fraction,
          y->max_ulp);
      EXPECT_GT(y->failures, 0) << a.summary();
      EXPECT_GT(y->max_bound_fraction, sz.min_fraction) << a.summary();

      // The ratio got / want per element is the set's factor, to float32 rounding.
      std::vector<SetPrediction> sets;
      (void)unbiased_formula(c, sets);
      const std::vector<double> want = ref.y.values();
      const double tol = 16 * std::numeric_limits<float>::epsilon();
      for (std::size_t i = 0; i < want.size(); ++i) {
        if (std::fabs(want[i]) < 0.25) continue;  // small outputs: the ratio amplifies their rounding
        const long double factor = sets[i / static_cast<std::size_t>(sz.m)].factor;
        const double ratio = got.views.y.get_linear(static_cast<std::int64_t>(i)) / want[i];
        ASSERT_NEAR(ratio, static_cast<double>(factor), tol) << "y[" << i << "], m = " << sz.m;
        ASSERT_LT(factor, 1.0L);
      }
    }
  }
}

TEST(SeedGroupNorm, EvalIsTrainingBitForBit) {
  const auto impl = impls::make_seed_groupnorm();
  Problem p = group_norm({2, 6, 3, 3}, 3);
  const OwnedCase train = make_case(p, 3);
  p.mode = Mode::kEval;
  OwnedCase eval = make_case(p, 3);
  const impls::OwnedOutputs a = run_impl(*impl, train), b = run_impl(*impl, eval);
  for (std::int64_t i = 0; i < a.views.y.numel(); ++i)
    ASSERT_EQ(a.views.y.get_linear(i), b.views.y.get_linear(i));
}

TEST(SeedGroupNorm, WritesThroughTheCallersOutputStrides) {
  const auto impl = impls::make_seed_groupnorm();
  const OwnedCase c = make_case(group_norm({2, 6, 3, 4}, 2), 9);
  const impls::OwnedOutputs dense = run_impl(*impl, c);
  impls::OwnedOutputs strided = run_impl(*impl, c);
  const Tensor y_cl = Tensor::empty(c.p.dtype, c.p.shape, Layout::kChannelsLast);
  y_cl.fill(std::nan(""));
  strided.views.y = y_cl.view();
  ASSERT_TRUE(impl->run(c.p, c.in, strided.views).ok());
  for (std::int64_t i = 0; i < y_cl.numel(); ++i)
    ASSERT_EQ(dense.views.y.get_linear(i), y_cl.view().get_linear(i));
}

TEST(SeedGroupNorm, SingleElementGroupsGiveNaNAsTheOriginalDoes) {
  // var() with Bessel's correction divides 0 by m - 1 = 0; the frameworks give y = beta here.
  const auto impl = impls::make_seed_groupnorm();
  const OwnedCase c = make_case(group_norm({2, 4, 1, 1}, 4), 1);
  const impls::OwnedOutputs got = run_impl(*impl, c);
  for (std::int64_t i = 0; i < got.views.y.numel(); ++i) ASSERT_TRUE(std::isnan(got.views.y.get_linear(i)));
  const properties::Agreement a = properties::compare(c.p, reference_of(c.p, c), got.views);
  EXPECT_EQ(find_output(a, "y")->failures, 8) << a.summary();
}

TEST(SeedGroupNorm, RefusesWhatTheOriginalCannotDoAndSaysWhy) {
  const auto impl = impls::make_seed_groupnorm();
  EXPECT_EQ(impl->supports(group_norm({2, 4, 3, 3}, 2)), std::nullopt);
  EXPECT_EQ(
      impl->supports(group_norm({2, 4, 3, 3}, 2, Profile::kOnnx, DType::kBFloat16, Layout::kChannelsLast)),
      std::nullopt);
  EXPECT_EQ(impl->supports(group_norm({2, 4, 5}, 2)),
            "seed-groupnorm reshapes (N, C, H, W): rank 3 not supported");
  EXPECT_EQ(impl->supports(group_norm({2, 4, 2, 2, 2}, 2)),
            "seed-groupnorm reshapes (N, C, H, W): rank 5 not supported");
  Problem p = group_norm({2, 4, 3, 3}, 2);
  p.affine = false;
  p.bias = false;
  EXPECT_EQ(impl->supports(p), "seed-groupnorm always applies its weight and bias: affine=0 not supported");
  p.affine = true;
  EXPECT_EQ(impl->supports(p), "seed-groupnorm always adds its bias: bias=0 not supported");
  p.bias = true;
  p.direction = Direction::kBackward;
  EXPECT_EQ(
      impl->supports(p),
      "direction backward not supported: seed-groupnorm has no backward of its own (the original relies on "
      "autograd)");
  EXPECT_EQ(impl->supports(default_problem(Op::kBatchNorm, {2, 4, 3, 3})), "op batch_norm not supported");

  // run() on a refused problem returns the reason rather than writing anything.
  const OwnedCase c = make_case(group_norm({2, 4, 5}, 2), 1);
  impls::Outputs out;
  const Status s = impl->run(c.p, c.in, out);
  EXPECT_EQ(s.message(), "seed-groupnorm reshapes (N, C, H, W): rank 3 not supported");
}

}  // namespace
}  // namespace normcheck::testing
