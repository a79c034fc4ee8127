// Undecided elements (docs/tolerances.md): where the error model lets a correct implementation
// get another kind (NaN, +-inf, finite) than the exact value, the reference's bound is
// kUndecided; everywhere else it stays finite (or 0 for an exact NaN or inf), so the mark is no
// wider than the model. One test per class: eps = 0 with a variance within its error of 0 (a
// constant set, a nearly constant one, deviations whose squares underflow), accumulators that
// may overflow (the squares, the sum), values within their bound of the overflow threshold, and
// what the mark reaches (saved statistics, running statistics, gradients).
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
using Dims = std::vector<std::int64_t>;

reference::Result evaluate(const Case& c) {
  testing::OwnedInputs in = testing::make_inputs(c);
  Expected<reference::Result> r = reference::evaluate(c.problem, in.inputs);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? std::move(*r) : reference::Result{};
}

/// A forward case of problem line `line` with x = xs (weight 1, bias 0 where the problem has them).
Case make_case(const std::string& line, std::vector<double> xs) {
  Case c;
  Expected<Problem> p = parse_problem(line);
  EXPECT_TRUE(p.ok()) << p.message();
  c.problem = *p;
  const Problem& q = c.problem;
  c.x = std::move(xs);
  for (double& v : c.x) v = round_to(q.dtype, v);
  const std::int64_t a = numel_of(affine_shape(q));
  if (q.affine) c.weight.assign(static_cast<std::size_t>(a), 1.0);
  if (q.bias) c.bias.assign(static_cast<std::size_t>(a), 0.0);
  if (tracks_running_stats(q)) {
    c.running_mean.assign(static_cast<std::size_t>(q.shape[1]), 0.0);
    c.running_var.assign(static_cast<std::size_t>(q.shape[1]), 1.0);
  }
  if (q.direction == Direction::kBackward) {
    std::mt19937_64 rng(3);
    for (std::size_t i = 0; i < c.x.size(); ++i)
      c.grad_output.push_back(round_to(q.dtype, std::normal_distribution<double>()(rng)));
  }
  return c;
}

std::vector<double> normal(std::size_t n, double mean, double sd, unsigned seed = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = d(rng);
  return v;
}

std::int64_t count_undecided(const Tensor& bound) {
  std::int64_t n = 0;
  for (double b : bound.values()) n += reference::is_undecided(b);
  return n;
}
/// Every bound finite (an exact NaN or inf has bound 0): nothing marked.
void expect_decided(const char* what, const Tensor& bound) {
  EXPECT_EQ(count_undecided(bound), 0) << what;
  for (double b : bound.values()) EXPECT_TRUE(std::isfinite(b)) << what;
}

// The case: every value rounds to 1e7 in float32, so with eps = 0 the exact y is
// 0 * inf = NaN, while a float32 mean 1 ulp off (within E_mean) gives a finite y.
TEST(Undecided, Eps0ConstantSetLeavesYAndRstdUndecidedButNotTheMean) {
  const Case c = make_case("instance_norm shape=2x1x5x3x7 dtype=float32 eps=0", normal(210, 1e7, 0.01));
  for (double v : c.x) ASSERT_EQ(v, 1e7);
  const reference::Result r = evaluate(c);
  for (double y : r.y.values()) EXPECT_TRUE(std::isnan(y)) << "the exact value stays NaN";
  EXPECT_EQ(count_undecided(r.y_bound), 210);
  EXPECT_EQ(count_undecided(*r.rstd_bound), 2);
  expect_decided("mean", *r.mean_bound);
}

// All zeros: every algorithm's mean and variance are exactly 0, so NaN is the only outcome.
TEST(Undecided, Eps0ZeroSetIsDecidedNan) {
  for (const char* line :
       {"layer_norm shape=2x8 dtype=float32 eps=0", "rms_norm shape=2x8 dtype=float32 eps=0"}) {
    const reference::Result r = evaluate(make_case(line, std::vector<double>(16, 0.0)));
    for (double y : r.y.values()) EXPECT_TRUE(std::isnan(y)) << line;
    expect_decided(line, r.y_bound);
  }
}

// eps > 0: var_hat + eps >= eps > 0, so a constant set's y is finite for every correct algorithm.
TEST(Undecided, PositiveEpsConstantSetIsDecided) {
  const reference::Result r =
      evaluate(make_case("instance_norm shape=2x1x5x3x7 dtype=float32 eps=1e-05", normal(210, 1e7, 0.01)));
  expect_decided("y", r.y_bound);
  expect_decided("rstd", *r.rstd_bound);
}

// A nearly constant set with eps = 0: var = (1 - 1/m) / m > 0 (exact y finite) is within E_var of
// 0 at this offset, so var_hat = 0 (y NaN or inf) is within reach; a set with spread is not.
TEST(Undecided, Eps0NearlyConstantSetIsUndecidedAndASpreadSetIsNot) {
  std::vector<double> x(16, 1e7);
  x[3] = 1e7 + 1;
  const reference::Result near = evaluate(make_case("layer_norm shape=2x8 dtype=float32 eps=0", x));
  for (std::size_t i = 0; i < 8; ++i) EXPECT_TRUE(std::isfinite(near.y.values()[i]));
  EXPECT_EQ(count_undecided(near.y_bound), 16);
  const reference::Result spread =
      evaluate(make_case("layer_norm shape=2x8 dtype=float32 eps=0", normal(16, 0, 1)));
  expect_decided("y", spread.y_bound);
  expect_decided("rstd", *spread.rstd_bound);
}

// Deviations of subnormal size: the float32 squares underflow to 0 (each by at most eta), so
// var_hat = 0 is within reach although var > E_var; normal-sized deviations are decided.
TEST(Undecided, Eps0SquaresThatUnderflowAreUndecided) {
  const reference::Result tiny =
      evaluate(make_case("layer_norm shape=1x4 dtype=float32 eps=0", {1e-40, 2e-40, 1e-40, 2e-40}));
  EXPECT_EQ(count_undecided(tiny.y_bound), 4);
  const reference::Result small =
      evaluate(make_case("layer_norm shape=1x4 dtype=float32 eps=0", {1e-20, 2e-20, 1e-20, 2e-20}));
  expect_decided("y", small.y_bound);
}

// float32 squares of 1e20 overflow the accumulator (m var > FLT_MAX): rstd_hat = 0 or NaN.
TEST(Undecided, SquaresThatMayOverflowTheAccumulatorAreUndecided) {
  for (const char* line : {"layer_norm shape=2x8 dtype=float32", "rms_norm shape=2x8 dtype=float32"}) {
    const reference::Result big = evaluate(make_case(line, normal(16, 0, 1e20)));
    EXPECT_EQ(count_undecided(big.y_bound), 16) << line;
    EXPECT_EQ(count_undecided(*big.rstd_bound), 2) << line;
    const reference::Result fine = evaluate(make_case(line, normal(16, 0, 1e15)));
    expect_decided(line, fine.y_bound);
  }
}

// The sum of four values of 1e38 overflows float32: mean_hat may be inf, and so may everything.
TEST(Undecided, ASumThatMayOverflowLeavesTheMeanUndecided) {
  const reference::Result r =
      evaluate(make_case("layer_norm shape=1x4 dtype=float32", {1e38, 1.5e38, 1.25e38, 1e38}));
  EXPECT_EQ(count_undecided(*r.mean_bound), 1);
  EXPECT_EQ(count_undecided(r.y_bound), 4);
}

// gamma = 3e37 on values near 100 with spread 1: y is about xhat * 3e37, finite, but the folded
// form's x * scale = x * rstd * gamma is about 3e39, beyond FLT_MAX, and inf - inf = NaN.
// gamma = 3e35 keeps x * scale below FLT_MAX.
TEST(Undecided, AnIntermediateThatMayOverflowIsUndecided) {
  for (double gamma : {3e37, 3e35}) {
    Case c = make_case("layer_norm shape=1x8 dtype=float32", normal(8, 100, 1));
    c.weight.assign(8, gamma);
    const reference::Result r = evaluate(c);
    for (double y : r.y.values()) EXPECT_TRUE(std::isfinite(y));
    if (gamma > 1e36) {
      EXPECT_EQ(count_undecided(r.y_bound), 8);
    } else {
      expect_decided("y", r.y_bound);
    }
  }
}

// float16 y = xhat * gamma with xhat = -+1/sqrt(1 + eps) and gamma = 65504: both exact values
// (-+65503.67) are finite and within their bound (32, mostly float16's ulp there) of the
// overflow threshold 65520. With beta = 32, y[1] = 65535.67 is beyond it (exact inf) and a
// finite result within its bound, while y[0] = -65471.67 is decided. gamma = 30000 is far from it.
TEST(Undecided, YWithinItsBoundOfTheOverflowThresholdIsUndecided) {
  for (double beta : {0.0, 32.0}) {
    Case c = make_case("layer_norm shape=1x2 dtype=float16", {-1, 1});
    c.weight = {65504, 65504};
    c.bias = {beta, beta};
    const reference::Result r = evaluate(c);
    EXPECT_EQ(std::isinf(r.y.values()[1]), beta > 0) << r.y.values()[1];
    EXPECT_TRUE(reference::is_undecided(r.y_bound.values()[1])) << "beta " << beta;
    EXPECT_EQ(reference::is_undecided(r.y_bound.values()[0]), beta == 0) << "beta " << beta;
    c.weight = {30000, 30000};
    expect_decided("y", evaluate(c).y_bound);
  }
}

// The mark reaches what the set's statistics reach: dx and dweight (not dbias = sum dy), and
// the running variance of squares that may overflow (not the running mean).
TEST(Undecided, TheMarkReachesGradientsAndRunningStatistics) {
  const reference::Result bwd = evaluate(
      make_case("layer_norm shape=2x8 dtype=float32 eps=0 direction=backward", std::vector<double>(16, 1e7)));
  EXPECT_EQ(count_undecided(*bwd.dx_bound), 16);
  EXPECT_EQ(count_undecided(*bwd.dweight_bound), 8);
  expect_decided("dbias", *bwd.dbias_bound);
  const reference::Result bn = evaluate(make_case("batch_norm shape=8x2 dtype=float32", normal(16, 0, 1e20)));
  EXPECT_EQ(count_undecided(*bn.running_var_bound), 2);
  expect_decided("running_mean", *bn.running_mean_bound);
  const reference::Result bn_fine =
      evaluate(make_case("batch_norm shape=8x2 dtype=float32", normal(16, 0, 1e15)));
  expect_decided("running_var", *bn_fine.running_var_bound);
}

// float16 batch_norm with momentum 1: running_var = var m / (m - 1) = 2 a^2 for x = -+a. At
// a = 181 that is 65522, beyond float16's overflow threshold 65520 by less than its bound (an
// ulp of 32): inf exactly, a finite value within reach. a = 100 (20000) is far from it.
TEST(Undecided, ARunningVarianceWithinItsBoundOfTheOverflowThresholdIsUndecided) {
  for (double a : {181.0, 100.0}) {
    const reference::Result r = evaluate(make_case("batch_norm shape=2x1 dtype=float16 momentum=1", {-a, a}));
    const double rv = r.running_var->values()[0];
    EXPECT_EQ(std::isinf(rv), a > 150) << rv;
    EXPECT_EQ(reference::is_undecided(r.running_var_bound->values()[0]), a > 150) << "a = " << a;
    expect_decided("running_mean", *r.running_mean_bound);
  }
}

// dx = rstd / m (m g_i - ...) with g = dy * gamma: float32 dy = gamma = 1e20 make g = 1e40,
// beyond FLT_MAX in the accumulator (and dx itself beyond it); 1e10 each is far from it.
TEST(Undecided, AGradientWhoseTermsMayOverflowIsUndecided) {
  for (double scale : {1e20, 1e10}) {
    Case c = make_case("layer_norm shape=2x8 dtype=float32 direction=backward", normal(16, 0, 1));
    c.weight.assign(8, scale);
    for (double& g : c.grad_output) g = round_to(DType::kFloat32, g * scale);
    const reference::Result r = evaluate(c);
    if (scale > 1e15) {
      EXPECT_EQ(count_undecided(*r.dx_bound), 16);
    } else {
      expect_decided("dx", *r.dx_bound);
    }
    expect_decided("y", r.y_bound);
  }
}

}  // namespace
}  // namespace normcheck
