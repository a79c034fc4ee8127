// Closed forms the reference must reproduce exactly: a two-element set normalizes to
// +-sqrt(v / (v + eps)) (v = ((a - b) / 2)^2), a constant set gives exactly beta, and the seed
// example (BatchNorm2d training with momentum 1) stores the batch mean and the unbiased batch
// variance, correctly rounded.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"
#include "tests/reference/harness.h"
#include "tests/reference/oracle.h"

namespace normcheck {
namespace {

using oracle::Case;
using oracle::exact;
using Q = oracle::Rational;
using testing::make_inputs;
using testing::same_value;
using testing::show;
using Dims = std::vector<std::int64_t>;

/// The ops with a mean, each with a shape whose sets are exactly two elements (x[0], x[1]).
struct TwoElementShape {
  Op op;
  Dims shape;
};
const std::vector<TwoElementShape> kTwoElementShapes = {
    {Op::kBatchNorm, {2, 1}},          // channel 0 over n = 0, 1
    {Op::kLayerNorm, {1, 2}},          // one row of two
    {Op::kInstanceNorm, {1, 1, 2}},    // one (n, c) with two spatial positions
    {Op::kGroupNorm, {1, 2, 1}},       // one group of two channels
    {Op::kLayerNorm2d, {1, 2, 1, 1}},  // one (n, h, w) across two channels
};

Problem problem_for(Op op, const Dims& shape, DType t) {
  Problem p = default_problem(op, shape);
  p.dtype = t;
  if (op == Op::kBatchNorm) p.track_running_stats = false;
  return p;
}

TEST(ClosedForms, TwoElementsNormalizeToPlusMinusSqrtOfVOverVPlusEps) {
  std::mt19937_64 rng(71);
  int checked = 0, exact_ones = 0;
  for (const TwoElementShape& s : kTwoElementShapes) {
    for (DType t : kAllDTypes) {
      for (int i = 0; i < 60; ++i) {
        Problem p = problem_for(s.op, s.shape, t);
        p.affine = p.bias = false;
        p.eps = std::vector<double>{1e-5, 1e-3, 0.0, 0.5}[i % 4];
        const double scale = std::ldexp(1.0, std::uniform_int_distribution<int>(-8, 8)(rng));
        const double a = round_to(t, scale * std::normal_distribution<double>()(rng));
        double b = round_to(t, scale * std::normal_distribution<double>()(rng));
        if (a == b) b = oracle::next_up(t, a);
        Case c;
        c.problem = p;
        c.x = {a, b};
        SCOPED_TRACE(to_string(p) + " x = [" + show(a) + ", " + show(b) + "]");
        testing::OwnedInputs in = make_inputs(c);
        const Expected<reference::Result> r = reference::evaluate(p, in.inputs);
        ASSERT_TRUE(r.ok()) << r.message();
        // sqrt(v / (v + eps)) = 1 / sqrt((v + eps) / v), v = ((a - b) / 2)^2.
        const Q half = (exact(a) - exact(b)) / 2, v = half * half;
        const double magnitude = oracle::round_sqrt_form(Q(1), (v + exact(oracle::eps_of(p))) / v, Q(0), t);
        const double sign = a > b ? 1.0 : -1.0;
        const std::vector<double> y = r->y.values();
        EXPECT_TRUE(same_value(y[0], sign * magnitude))
            << "y[0] = " << show(y[0]) << ", closed form " << show(sign * magnitude);
        EXPECT_TRUE(same_value(y[1], -sign * magnitude)) << "y[1] = " << show(y[1]);
        exact_ones += *p.eps == 0;
        if (*p.eps == 0) {
          EXPECT_EQ(std::fabs(y[0]), 1.0) << "eps = 0: exactly +-1";
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 5 * 4 * 60);
  EXPECT_GT(exact_ones, 0);
}

TEST(ClosedForms, TwoElementsWithAffineAreGammaTimesTheClosedFormPlusBeta) {
  std::mt19937_64 rng(72);
  int checked = 0;
  for (const TwoElementShape& s : kTwoElementShapes) {
    // layer_norm's affine is per position, group_norm's and layer_norm_2d's per channel: there
    // the two elements have different gammas and betas, which the closed form allows too.
    for (DType t : kAllDTypes) {
      for (int i = 0; i < 40; ++i) {
        Problem p = problem_for(s.op, s.shape, t);
        p.affine = p.bias = true;
        const double a = round_to(t, std::normal_distribution<double>()(rng));
        double b = round_to(t, std::normal_distribution<double>()(rng));
        if (a == b) b = oracle::next_up(t, a);
        Case c;
        c.problem = p;
        c.x = {a, b};
        const std::int64_t asize = numel_of(affine_shape(p));
        for (std::int64_t k = 0; k < asize; ++k) {
          c.weight.push_back(round_to(t, std::uniform_real_distribution<double>(-2, 2)(rng)));
          c.bias.push_back(round_to(t, std::normal_distribution<double>()(rng)));
        }
        SCOPED_TRACE(to_string(p) + " x = [" + show(a) + ", " + show(b) + "]");
        testing::OwnedInputs in = make_inputs(c);
        const Expected<reference::Result> r = reference::evaluate(p, in.inputs);
        ASSERT_TRUE(r.ok()) << r.message();
        const Q half = (exact(a) - exact(b)) / 2, v = half * half, W = (v + exact(oracle::eps_of(p))) / v;
        const std::vector<double> y = r->y.values();
        for (int e = 0; e < 2; ++e) {
          const std::size_t k = asize == 1 ? 0 : static_cast<std::size_t>(e);
          const double sign = (a > b) == (e == 0) ? 1.0 : -1.0;
          const double want = oracle::round_sqrt_form(sign * exact(c.weight[k]), W, exact(c.bias[k]), t);
          EXPECT_TRUE(same_value(y[e], want))
              << "y[" << e << "] = " << show(y[e]) << ", closed form " << show(want);
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 5 * 4 * 40);
}

// Found by the property suite (nonfinite_stays_in_its_set on layer_norm_2d 1x1x1x2, eps=0): with
// eps = 0 a constant set's rstd is 1/0 and y is NaN, but its saved mean is still the set's value.
TEST(ClosedForms, EpsZeroConstantSetKeepsItsSavedMean) {
  Problem p = default_problem(Op::kLayerNorm, {2, 3});
  p.eps = 0.0;
  p.affine = p.bias = false;
  Case c;
  c.problem = p;
  c.x = {2.5, 2.5, 2.5, 1, 2, 3};
  testing::OwnedInputs in = testing::make_inputs(c);
  const Expected<reference::Result> r = reference::evaluate(p, in.inputs);
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r->mean->values(), (std::vector<double>{2.5, 2.0}));
  EXPECT_TRUE(std::isnan(r->y.values()[0]));
  EXPECT_EQ(r->y.values()[3], round_to(DType::kFloat32, -std::sqrt(1.5)));  // (1 - 2) / sqrt(2/3)

  // ... and its running statistics move toward that mean and a variance of 0 (keras: the old
  // value weighted by momentum; x = 2 over one value, running 1 and 1, momentum 0.99).
  Problem bn = *parse_problem("batch_norm shape=1x1 eps=0 momentum=0.99 profile=keras");
  Case cb;
  cb.problem = bn;
  cb.x = {2};
  cb.weight = {1};
  cb.bias = {0};
  cb.running_mean = {1};
  cb.running_var = {1};
  testing::OwnedInputs bin = testing::make_inputs(cb);
  const Expected<reference::Result> rb = reference::evaluate(bn, bin.inputs);
  ASSERT_TRUE(rb) << rb.message();
  EXPECT_EQ(rb->running_mean->values()[0], round_to(DType::kFloat32, 0.99 * 1 + 0.01 * 2));
  EXPECT_EQ(rb->running_var->values()[0], round_to(DType::kFloat32, 0.99));
  EXPECT_TRUE(std::isnan(rb->y.values()[0]));
}

TEST(ClosedForms, AConstantSetGivesExactlyBeta) {
  std::mt19937_64 rng(73);
  struct OpShape {
    Op op;
    Dims shape;
    Dims normalized;
    std::int64_t groups;
  };
  const std::vector<OpShape> shapes = {{Op::kBatchNorm, {4, 3, 5}, {}, 1},
                                       {Op::kLayerNorm, {3, 2, 4}, {2, 4}, 1},
                                       {Op::kInstanceNorm, {2, 3, 7}, {}, 1},
                                       {Op::kGroupNorm, {2, 6, 3}, {}, 3},
                                       {Op::kLayerNorm2d, {2, 5, 2, 3}, {}, 1}};
  int checked = 0;
  for (const OpShape& s : shapes) {
    for (DType t : kAllDTypes) {
      std::vector<double> offsets{1234.5, 0.0, -7.75};
      if (t != DType::kFloat16) offsets.push_back(1e30);
      for (double offset : offsets) {
        for (Profile profile : kAllProfiles) {
          for (Direction dir : {Direction::kForward, Direction::kBackward}) {
            Problem p = default_problem(s.op, s.shape, profile);
            p.dtype = t;
            p.direction = dir;
            p.affine = p.bias = true;
            if (!s.normalized.empty()) p.normalized_shape = s.normalized;
            p.num_groups = s.groups;
            Case c;
            c.problem = p;
            c.x.assign(static_cast<std::size_t>(numel_of(s.shape)), round_to(t, offset));
            const oracle::Structure st = oracle::structure_of(p);
            for (std::int64_t k = 0; k < st.affine_size; ++k) {
              c.weight.push_back(round_to(t, std::uniform_real_distribution<double>(-3, 3)(rng)));
              c.bias.push_back(round_to(t, std::normal_distribution<double>()(rng)));
            }
            if (tracks_running_stats(p)) {
              c.running_mean.assign(static_cast<std::size_t>(s.shape[1]), 0.0);
              c.running_var.assign(static_cast<std::size_t>(s.shape[1]), 1.0);
            }
            if (dir == Direction::kBackward) {
              for (std::int64_t i = 0; i < numel_of(s.shape); ++i) {
                c.grad_output.push_back(round_to(t, std::normal_distribution<double>()(rng)));
              }
            }
            SCOPED_TRACE(to_string(p) + " offset " + show(offset));
            testing::OwnedInputs in = make_inputs(c);
            const Expected<reference::Result> r = reference::evaluate(p, in.inputs);
            ASSERT_TRUE(r.ok()) << r.message();
            const std::vector<double> y = r->y.values();
            for (std::size_t i = 0; i < y.size(); ++i) {
              ASSERT_TRUE(same_value(y[i], c.bias[st.affine_of[i]])) << "y[" << i << "] = " << show(y[i]);
            }
            // The saved statistics: the offset itself and 1 / sqrt(eps), correctly rounded.
            const DType sdt = reference::stats_dtype(t);
            for (double m : r->mean->values()) EXPECT_EQ(m, round_to(sdt, round_to(t, offset)));
            const double rstd = oracle::round_sqrt_form(Q(1), exact(oracle::eps_of(p)), Q(0), sdt);
            for (double v : r->rstd->values()) EXPECT_EQ(v, rstd);
            if (dir == Direction::kBackward) {
              // xhat = 0: dweight = 0 exactly.
              for (double dw : r->dweight->values()) EXPECT_EQ(dw, 0.0);
            }
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 5 * (3 * 4 + 3) * 3 * 2);
}

TEST(ClosedForms, SeedExampleBatchNorm2dMomentumOneStoresTheBatchStatistics) {
  // BatchNorm2d(3, momentum=1) on (N=2, C=3, H=2, W=2) in training: running_mean is the batch
  // mean and running_var the unbiased batch variance, each correctly rounded to the dtype.
  std::mt19937_64 rng(74);
  int checked = 0;
  for (DType t : kAllDTypes) {
    for (int trial = 0; trial < 20; ++trial) {
      Problem p = default_problem(Op::kBatchNorm, {2, 3, 2, 2});
      p.dtype = t;
      p.momentum = 1.0;
      Case c;
      c.problem = p;
      const double offset = trial % 2 ? 100.0 : 0.0;
      for (int i = 0; i < 24; ++i)
        c.x.push_back(round_to(t, offset + std::normal_distribution<double>()(rng)));
      for (int k = 0; k < 3; ++k) {
        c.weight.push_back(1.0);
        c.bias.push_back(0.0);
        c.running_mean.push_back(round_to(t, std::normal_distribution<double>()(rng)));
        c.running_var.push_back(round_to(t, std::uniform_real_distribution<double>(0.5, 2)(rng)));
      }
      c.num_batches_tracked = trial;
      SCOPED_TRACE(to_string(p) + " trial " + std::to_string(trial));
      testing::OwnedInputs in = make_inputs(c);
      const Expected<reference::Result> r = reference::evaluate(p, in.inputs);
      ASSERT_TRUE(r.ok()) << r.message();
      const std::vector<double> rm = r->running_mean->values(), rv = r->running_var->values();
      for (int ch = 0; ch < 3; ++ch) {
        std::vector<Q> xs;
        for (int n = 0; n < 2; ++n) {
          for (int s = 0; s < 4; ++s)
            xs.push_back(exact(c.x[static_cast<std::size_t>((n * 3 + ch) * 4 + s)]));
        }
        Q sum = 0;
        for (const Q& x : xs) sum += x;
        const Q mean = sum / 8;
        Q sq = 0;
        for (const Q& x : xs) sq += (x - mean) * (x - mean);
        EXPECT_EQ(rm[ch], oracle::round_rational(mean, t)) << "channel " << ch;
        EXPECT_EQ(rv[ch], oracle::round_rational(sq / 7, t)) << "channel " << ch << ": unbiased";
      }
      EXPECT_EQ(r->num_batches_tracked, trial + 1);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 80);
}

}  // namespace
}  // namespace normcheck
