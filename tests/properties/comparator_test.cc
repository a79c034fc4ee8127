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

}  // namespace
}  // namespace normcheck::properties
