// The comparator: the reference's own values pass; an element beyond its bound, a NaN where a
// number belongs, a different infinity or a wrong num_batches_tracked fail, naming the element.
#include "properties/comparator.h"

#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <cmath>
#include <limits>
#include <random>

namespace normcheck::properties {
namespace {

using ::testing::HasSubstr;

struct Case {
  Problem p;
  Tensor x, w, b, rm, rv;
  reference::Result want;
};

Case batch_norm_case() {
  Case c;
  c.p = default_problem(Op::kBatchNorm, {4, 3, 5});
  std::mt19937_64 rng(5);
  std::normal_distribution<double> normal(2, 3);
  std::vector<double> xs(60);
  for (double& v : xs) v = normal(rng);
  c.x = Tensor::from_values(DType::kFloat32, c.p.shape, xs);
  c.w = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{0.5, -1.5, 2});
  c.b = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{1, 0, -1});
  c.rm = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{0, 0, 0});
  c.rv = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{1, 1, 1});
  Inputs in;
  in.x = c.x.view();
  in.weight = c.w.view();
  in.bias = c.b.view();
  in.running_mean = c.rm.view();
  in.running_var = c.rv.view();
  c.want = std::move(*reference::evaluate(c.p, in));
  return c;
}

/// Outputs holding copies of the reference's own values.
struct Got {
  Tensor y, running_mean, running_var;
  impls::Outputs views;
};
Got copy_of_reference(const reference::Result& r) {
  Got g{Tensor::copy_of(r.y.view()), Tensor::copy_of(r.running_mean->view()), Tensor::copy_of(r.running_var->view()),
        {}};
  g.views.y = g.y.view();
  g.views.running_mean = g.running_mean.view();
  g.views.running_var = g.running_var.view();
  g.views.num_batches_tracked = r.num_batches_tracked;
  return g;
}

TEST(Comparator, TheReferenceAgreesWithItself) {
  const Case c = batch_norm_case();
  const Got g = copy_of_reference(c.want);
  const Agreement a = compare(c.p, c.want, g.views);
  EXPECT_TRUE(a.ok()) << a.summary();
  ASSERT_EQ(a.outputs.size(), 3u);  // y, running_mean, running_var: what the implementation wrote
  for (const OutputAgreement& o : a.outputs) {
    EXPECT_EQ(o.failures, 0);
    EXPECT_EQ(o.max_ulp, 0);
    EXPECT_GT(o.compared, 0);
  }
}

TEST(Comparator, AnElementBeyondItsBoundFailsAndIsNamed) {
  const Case c = batch_norm_case();
  Got g = copy_of_reference(c.want);
  const double bound = c.want.y_bound.values()[7];
  g.views.y.set_linear(7, g.views.y.get_linear(7) + 4 * bound);
  Agreement a = compare(c.p, c.want, g.views);
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.outputs[0].failures, 1);
  EXPECT_EQ(a.outputs[0].worst_index, 7);
  EXPECT_GT(a.outputs[0].max_bound_fraction, 3);
  EXPECT_THAT(a.outputs[0].first_failure, HasSubstr("y[7]"));
  // The same error passes under a policy multiplier that covers it.
  EXPECT_TRUE(compare(c.p, c.want, g.views, 5.0).ok());
}

TEST(Comparator, NaNInfinityAndTheBatchCounterMustMatchExactly) {
  const Case c = batch_norm_case();
  Got g = copy_of_reference(c.want);
  g.views.y.set_linear(3, std::numeric_limits<double>::quiet_NaN());
  EXPECT_FALSE(compare(c.p, c.want, g.views, 1e30).ok()) << "no multiplier excuses a NaN";
  g = copy_of_reference(c.want);
  g.views.running_var->set_linear(0, std::numeric_limits<double>::infinity());
  EXPECT_FALSE(compare(c.p, c.want, g.views, 1e30).ok());
  g = copy_of_reference(c.want);
  g.views.num_batches_tracked += 1;
  const Agreement a = compare(c.p, c.want, g.views);
  EXPECT_FALSE(a.ok());
  EXPECT_THAT(a.summary(), HasSubstr("num_batches_tracked"));
}

TEST(Comparator, AnUndecidedElementPassesWhateverItHoldsAndIsCountedApart) {
  Case c = batch_norm_case();
  std::vector<double> bound = c.want.y_bound.values();
  bound[3] = reference::kUndecided;
  c.want.y_bound = Tensor::from_values(DType::kFloat64, c.p.shape, bound);
  const double kInf = std::numeric_limits<double>::infinity();
  for (double v : {std::numeric_limits<double>::quiet_NaN(), kInf, -kInf, 1e30, -0.0}) {
    Got g = copy_of_reference(c.want);
    g.views.y.set_linear(3, v);
    const Agreement a = compare(c.p, c.want, g.views);
    EXPECT_TRUE(a.ok()) << v << ": " << a.summary();
    EXPECT_EQ(a.outputs[0].undecided, 1);
    EXPECT_EQ(a.outputs[0].compared, 59) << "the undecided element is not a comparison";
    EXPECT_THAT(a.summary(), HasSubstr("1 undecided"));
    // Its neighbours are judged exactly as before: NaN must meet NaN, inf the same inf.
    if (std::isfinite(v)) continue;
    g.views.y.set_linear(4, v);
    EXPECT_FALSE(compare(c.p, c.want, g.views, 1e30).ok()) << v;
  }
}

/// instance_norm in float32 as a correct kernel may compute it: the mean as sum * (1 / m) (here
/// one ulp above the correctly rounded one, within E_mean), the biased variance by two passes,
/// rstd = 1 / sqrt(var + eps); `eps_used` lets a wrong kernel drop eps.
struct Float32InstanceNorm {
  Tensor y, mean, rstd;
  impls::Outputs views;
};
Float32InstanceNorm float32_instance_norm(const Problem& p, const std::vector<double>& xs, double eps_used,
                                          int mean_ulps_off) {
  const std::int64_t sets = p.shape[0] * p.shape[1], m = static_cast<std::int64_t>(xs.size()) / sets;
  std::vector<double> y(xs.size()), mean(static_cast<std::size_t>(sets)),
      rstd(static_cast<std::size_t>(sets));
  for (std::int64_t k = 0; k < sets; ++k) {
    float sum = 0;
    for (std::int64_t i = k * m; i < (k + 1) * m; ++i) sum += static_cast<float>(xs[i]);
    float mu = sum / static_cast<float>(m);
    for (int u = 0; u < mean_ulps_off; ++u) mu = std::nextafter(mu, INFINITY);
    float sq = 0;
    for (std::int64_t i = k * m; i < (k + 1) * m; ++i)
      sq += (static_cast<float>(xs[i]) - mu) * (static_cast<float>(xs[i]) - mu);
    const float r = 1.0f / std::sqrt(sq / static_cast<float>(m) + static_cast<float>(eps_used));
    for (std::int64_t i = k * m; i < (k + 1) * m; ++i) y[i] = (static_cast<float>(xs[i]) - mu) * r;
    mean[k] = mu;
    rstd[k] = r;
  }
  Float32InstanceNorm out{Tensor::from_values(DType::kFloat32, p.shape, y),
                          Tensor::from_values(DType::kFloat32, {sets}, mean),
                          Tensor::from_values(DType::kFloat32, {sets}, rstd),
                          {}};
  out.views.y = out.y.view();
  out.views.mean = out.mean.view();
  out.views.rstd = out.rstd.view();
  return out;
}

/// The issue's case, `instance_norm shape=2x1x5x3x7 dtype=float32 eps=0 values=normal:1e7:0.01`:
/// every value rounds to 1e7, the exact y is 0/0 = NaN, and a correct float32 kernel whose mean
/// is one ulp off gets y = -1: both pass, the y elements counted as undecided.
Agreement judge_instance_norm(double eps, double offset, double sd, double eps_used, int mean_ulps_off) {
  Problem p = default_problem(Op::kInstanceNorm, {2, 1, 5, 3, 7});
  p.eps = eps;
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal(offset, sd);
  std::vector<double> xs(210);
  for (double& v : xs) v = static_cast<float>(normal(rng));
  const Tensor x = Tensor::from_values(DType::kFloat32, p.shape, xs);
  Inputs in;
  in.x = x.view();
  const reference::Result want = *reference::evaluate(p, in);
  const Float32InstanceNorm got = float32_instance_norm(p, xs, eps_used, mean_ulps_off);
  return compare(p, want, got.views);
}

TEST(Comparator, TheIssuesInstanceNormCaseWithAMeanOneUlpOffPasses) {
  const Agreement exact_mean = judge_instance_norm(0, 1e7, 0.01, 0, 0);
  EXPECT_TRUE(exact_mean.ok()) << exact_mean.summary();
  const Agreement off = judge_instance_norm(0, 1e7, 0.01, 0, 1);
  EXPECT_TRUE(off.ok()) << off.summary();
  ASSERT_EQ(off.outputs.size(), 3u);
  EXPECT_EQ(off.outputs[0].name, "y");
  EXPECT_EQ(off.outputs[0].undecided, 210);
  EXPECT_EQ(off.outputs[1].compared, 2) << "the saved mean is still judged";
}

TEST(Comparator, AWrongKernelStillFailsNextToTheUndecidedClass) {
  // eps dropped on a set with spread 0.01 (var 1e-4 against eps 1e-5): rstd 5% off.
  const Agreement dropped = judge_instance_norm(1e-5, 0, 0.01, 0, 0);
  EXPECT_FALSE(dropped.ok()) << dropped.summary();
  // eps = 0 on the same spread: decided, and the kernel that gets it right passes with nothing undecided.
  const Agreement spread = judge_instance_norm(0, 0, 0.01, 0, 0);
  EXPECT_TRUE(spread.ok()) << spread.summary();
  EXPECT_EQ(spread.outputs[0].undecided, 0);
  // A kernel that adds a large eps where the problem says 0 fails there.
  EXPECT_FALSE(judge_instance_norm(0, 0, 0.01, 1e-3, 0).ok());
}

}  // namespace
}  // namespace normcheck::properties
