// The reference's gradients against central finite differences of the forward definition alone,
// in 100-digit arithmetic. The reference (and the oracle) differentiate analytically, with one
// derivation each; a mistake shared by that derivation (the mean's term, the variance's term, the
// unbiased / biased choice, rms_norm's missing mean) would not show between them, but shows here.
//
// With L(x) = sum_i dy_i y_i(x), dx_j = dL/dx_j, dgamma_c = dL/dgamma_c, dbeta_c = dL/dbeta_c.
// The central difference (L(v + h) - L(v - h)) / 2h errs by h^2 |L'''| / 6; with h = 1e-30 times
// the scale and 100 digits, both that and the cancellation stay near 1e-40 of the value, far below
// half an ulp of float64. So every correctly rounded reference output lies within half an ulp
// (plus that 1e-40) of the difference quotient.
#include <gtest/gtest.h>

#include <boost/multiprecision/cpp_bin_float.hpp>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"
#include "tests/reference/harness.h"
#include "tests/reference/oracle.h"

namespace normcheck {
namespace {

using Real = boost::multiprecision::cpp_bin_float_100;
using oracle::Case;
using Dims = std::vector<std::int64_t>;

/// The forward definition (docs/semantics.md), nothing else: per set S,
///   y_i = (x_i - mean_S) / sqrt(var_S + eps) * gamma + beta   (var biased; rms_norm: no mean,
///   mean square), or with running statistics y_i = (x_i - rm_c) / sqrt(rv_c + eps) * gamma + beta.
struct Forward {
  const Problem& p;
  const oracle::Structure& st;
  std::vector<Real> dy, running_mean, running_var;
  Real eps;

  Real loss(const std::vector<Real>& x, const std::vector<Real>& gamma, const std::vector<Real>& beta) const {
    Real L = 0;
    const bool rms = p.op == Op::kRmsNorm, running = uses_running_stats(p);
    for (std::int64_t k = 0; k < st.num_sets; ++k) {
      const std::vector<std::int64_t>& set = st.members[static_cast<std::size_t>(k)];
      if (set.empty()) continue;
      Real mean = 0, var = 0;
      if (!running) {
        if (!rms) {
          for (const std::int64_t i : set) mean += x[static_cast<std::size_t>(i)];
          mean /= static_cast<double>(set.size());
        }
        for (const std::int64_t i : set) var += (x[static_cast<std::size_t>(i)] - mean) * (x[static_cast<std::size_t>(i)] - mean);
        var /= static_cast<double>(set.size());
      }
      for (const std::int64_t i : set) {
        const auto u = static_cast<std::size_t>(i);
        const auto c = static_cast<std::size_t>(st.channel_of[u]);
        const Real m = running ? running_mean[c] : mean, v = running ? running_var[c] : var;
        const auto a = static_cast<std::size_t>(st.affine_of[u]);
        const Real g = p.affine ? gamma[a] : Real(1), b = p.bias ? beta[a] : Real(0);
        L += dy[u] * ((x[u] - m) / sqrt(v + eps) * g + b);
      }
    }
    return L;
  }
};

std::vector<Real> reals(const std::vector<double>& v) { return {v.begin(), v.end()}; }

/// d loss / d v_j for every j, by central differences.
std::vector<Real> difference_quotients(std::vector<Real>& v, const std::function<Real()>& loss) {
  std::vector<Real> out;
  for (Real& vj : v) {
    const Real keep = vj, h = Real("1e-30") * (1 + abs(keep));
    vj = keep + h;
    const Real up = loss();
    vj = keep - h;
    const Real down = loss();
    vj = keep;
    out.push_back((up - down) / (2 * h));
  }
  return out;
}

/// The correctly rounded value `got` (in dtype t) lies within half an ulp of `want`, plus 1e-40
/// of the scale for the difference quotient's own error.
void expect_rounded_from(const std::vector<double>& got, const std::vector<Real>& want, DType t, const std::string& what,
                         double scale, std::int64_t& compared) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const Real err = abs(Real(got[i]) - want[i]);
    const Real allowed = Real(ulp(t, got[i])) / 2 + Real("1e-40") * scale;
    if (!(err <= allowed) && ++reported <= 5)
      ADD_FAILURE() << what << "[" << i << "]: reference " << got[i] << ", finite differences "
                    << want[i].convert_to<double>() << " (off by " << (err / Real(ulp(t, got[i]))).convert_to<double>()
                    << " ulp)";
    ++compared;
  }
}

Case random_case(const Problem& p, std::mt19937_64& rng) {
  Case c;
  c.problem = p;
  std::normal_distribution<double> normal;
  for (std::int64_t i = 0; i < numel_of(p.shape); ++i) {
    c.x.push_back(round_to(p.dtype, 3 + normal(rng)));
    c.grad_output.push_back(round_to(p.dtype, normal(rng)));
  }
  for (std::int64_t i = 0; i < numel_of(affine_shape(p)); ++i) {
    c.weight.push_back(round_to(p.dtype, 1 + 0.5 * normal(rng)));
    c.bias.push_back(round_to(p.dtype, normal(rng)));
  }
  if (tracks_running_stats(p)) {
    for (std::int64_t i = 0; i < p.shape[1]; ++i) {
      c.running_mean.push_back(round_to(p.dtype, 3 + 0.1 * normal(rng)));
      c.running_var.push_back(round_to(p.dtype, 0.5 + std::fabs(normal(rng))));
    }
  }
  return c;
}

/// Every backward output of c's problem against the finite differences; returns how many values
/// were compared.
std::int64_t check_case(const Case& c) {
  const Problem& p = c.problem;
  testing::OwnedInputs in = testing::make_inputs(c);
  const Expected<reference::Result> r = reference::evaluate(p, in.inputs);
  EXPECT_TRUE(r.ok()) << to_string(p) << ": " << r.message();
  if (!r.ok()) return 0;
  const oracle::Structure st = oracle::structure_of(p);
  Forward f{p, st, reals(c.grad_output), reals(c.running_mean), reals(c.running_var), Real(effective_eps(p))};
  std::vector<Real> x = reals(c.x), gamma = reals(c.weight), beta = reals(c.bias);
  const auto loss = [&] { return f.loss(x, gamma, beta); };
  // The scale of the gradients: |dy| |gamma| / std is at most a few hundred here.
  const double scale = 1e3;
  std::int64_t compared = 0;
  const std::string where = " of " + to_string(p);
  expect_rounded_from(r->dx->values(), difference_quotients(x, loss), p.dtype, "dx" + where, scale, compared);
  if (p.affine)
    expect_rounded_from(r->dweight->values(), difference_quotients(gamma, loss), p.dtype, "dweight" + where, scale,
                        compared);
  if (p.bias)
    expect_rounded_from(r->dbias->values(), difference_quotients(beta, loss), p.dtype, "dbias" + where, scale,
                        compared);
  return compared;
}

struct Shape {
  Op op;
  Dims shape;
  std::int64_t groups = 0;
  Dims normalized{};
};

TEST(GradientsByFiniteDifferences, EveryOpProfileModeAndDtype) {
  const Shape shapes[] = {
      {Op::kBatchNorm, {3, 2, 4}},     {Op::kBatchNorm, {5, 3}},          {Op::kInstanceNorm, {2, 3, 5}},
      {Op::kLayerNorm, {3, 2, 4}, 0, {2, 4}}, {Op::kLayerNorm, {4, 7}, 0, {7}}, {Op::kGroupNorm, {2, 6, 3}, 3},
      {Op::kGroupNorm, {2, 4, 2, 2}, 1}, {Op::kRmsNorm, {3, 8}, 0, {8}},  {Op::kLayerNorm2d, {2, 3, 2, 2}},
  };
  std::mt19937_64 rng(2026);
  std::int64_t compared = 0;
  for (const Shape& s : shapes) {
    for (const Profile profile : {Profile::kPyTorch, Profile::kKeras}) {
      for (const DType t : {DType::kFloat64, DType::kFloat32}) {
        for (const Mode mode : {Mode::kTrain, Mode::kEval}) {
          Problem p = default_problem(s.op, s.shape, profile);
          p.dtype = t, p.mode = mode, p.direction = Direction::kBackward;
          p.affine = p.bias = true;
          if (s.groups) p.num_groups = s.groups;
          if (!s.normalized.empty()) p.normalized_shape = s.normalized;
          if (s.op == Op::kBatchNorm || s.op == Op::kInstanceNorm) p.track_running_stats = true;
          if (s.op == Op::kRmsNorm) p.eps = 1e-6;
          ASSERT_TRUE(validate(p).ok()) << to_string(p) << ": " << validate(p).message();
          compared += check_case(random_case(p, rng));
        }
      }
    }
  }
  std::printf("[ fd       ] %lld reference gradient values within half an ulp of the difference quotients\n",
              static_cast<long long>(compared));
  EXPECT_GT(compared, 2000);
}

// A small eps and a set of two values: the variance's term of dx is as large as the rest.
TEST(GradientsByFiniteDifferences, TwoValueSetsWithASmallEps) {
  std::mt19937_64 rng(7);
  std::int64_t compared = 0;
  for (const Op op : {Op::kBatchNorm, Op::kLayerNorm, Op::kInstanceNorm}) {
    Problem p = default_problem(op, op == Op::kBatchNorm ? Dims{2, 3} : Dims{3, 2, 2});
    if (op == Op::kLayerNorm) p.normalized_shape = {2};
    p.direction = Direction::kBackward, p.dtype = DType::kFloat64, p.eps = 1e-9;
    p.affine = p.bias = true;
    p.track_running_stats = false;
    compared += check_case(random_case(p, rng));
  }
  EXPECT_GT(compared, 20);
}

}  // namespace
}  // namespace normcheck
