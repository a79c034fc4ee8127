// Numbers that mean what they say (issue 14, item 3) and the kind of each failure (item 2): ULPs
// in the output's own dtype, no ULP figure where none means anything (NaN against a number, a
// sign change across zero), "input" only for elementwise outputs, and the output and kind every
// failed case carries for the report's causes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "impls/registry.h"
#include "properties/run_case.h"

namespace normcheck::properties {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(UlpBetween, CountsInTheGivenDtype) {
  // issue 14: a bfloat16 case's float32 saved mean, got 316, want 316.227753, printed "0 ulp"
  // because it was counted in bfloat16 (whose spacing at 316 is 2). In float32 (spacing 2^-15
  // in [256, 512)) the distance is the rounded want's offset from 316 in those steps.
  const double want = 316.227753;
  const double float32_ulps = std::round((static_cast<double>(static_cast<float>(want)) - 316.0) / 0x1p-15);
  EXPECT_EQ(ulp_between(DType::kFloat32, 316.0, want).ulps, float32_ulps);
  EXPECT_GT(float32_ulps, 7000);
  EXPECT_EQ(ulp_between(DType::kBFloat16, 316.0, want).ulps, 0);  // the misleading old figure
  EXPECT_EQ(ulp_between(DType::kFloat32, 316.0, want).text(), "7463 ulp");
}

TEST(UlpBetween, NoDistanceForNaNAgainstANumberSaidInWords) {
  for (const auto& [got, want] : {std::pair{kNaN, 1.5}, std::pair{1.5, kNaN}}) {
    const UlpDistance d = ulp_between(DType::kFloat32, got, want);
    EXPECT_FALSE(d.defined());
    EXPECT_TRUE(std::isnan(d.ulps));
    EXPECT_EQ(d.text(), "no ULP distance: NaN against a number");
  }
  // ulp_distance's saturated figure, which the reports used to print as 9.22e18.
  EXPECT_EQ(ulp_distance(DType::kFloat32, kNaN, 1.5), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(ulp_between(DType::kFloat32, kNaN, kNaN).text(), "0 ulp");
}

TEST(UlpBetween, NoDistanceFromZeroToANormalNumber) {
  // The passing cpu row's "max ULP 4.4e+18" (issue 14): constant_cotangent_gives_zero_dx's dx,
  // exactly 0, computed as 1e-17: every float64 binade below 1e-17 lies between.
  EXPECT_GT(static_cast<double>(ulp_distance(DType::kFloat64, 1e-17, 0.0)), 4e18);
  const UlpDistance d = ulp_between(DType::kFloat64, 1e-17, 0.0);
  EXPECT_FALSE(d.defined());
  EXPECT_EQ(d.text(), "no ULP distance: zero against a normal number");
  EXPECT_FALSE(ulp_between(DType::kFloat32, 0.0, -0.5).defined());
  EXPECT_FALSE(ulp_between(DType::kFloat16, 0x1p-14, 0.0).defined());  // float16's smallest normal
  EXPECT_EQ(ulp_between(DType::kFloat16, 0x1p-15, 0.0).ulps, 512);     // a subnormal: 2^-15 / 2^-24
}

TEST(UlpBetween, NoDistanceBetweenValuesMoreThanAFactorOfTwoApart) {
  // instance_norm shift_invariance on cpu, passing: near-zero y of two runs within their absolute
  // bound, 1e-10 against 1e-7, were 2e11 float64 ulps apart.
  EXPECT_GT(static_cast<double>(ulp_distance(DType::kFloat64, 1e-10, 1e-7)), 1e11);
  EXPECT_EQ(ulp_between(DType::kFloat64, 1e-10, 1e-7).text(), "no ULP distance: more than a factor of 2 apart");
  EXPECT_EQ(ulp_between(DType::kFloat32, 1.0, 2.0).ulps, 1 << 23);  // a factor of 2: one binade
  EXPECT_FALSE(ulp_between(DType::kFloat32, 1.0, 2.0000002).defined());
  EXPECT_EQ(ulp_between(DType::kFloat16, INFINITY, 65504).ulps, 1);  // max_finite, then infinity
  EXPECT_FALSE(ulp_between(DType::kFloat16, INFINITY, 1).defined());
}

TEST(UlpBetween, NoDistanceAcrossZero) {
  // Two small float64 values of opposite sign, +-1e-160, are ~4.4e18 ordinals apart: the "max ULP
  // 4.4e+18" a passing cpu row showed. Their distance counts two half-lines, not the error.
  EXPECT_GT(static_cast<double>(ulp_distance(DType::kFloat64, -1e-160, 1e-160)), 4e18);
  const UlpDistance d = ulp_between(DType::kFloat64, -1e-160, 1e-160);
  EXPECT_FALSE(d.defined());
  EXPECT_EQ(d.text(), "no ULP distance: a sign change across zero");
  EXPECT_FALSE(ulp_between(DType::kFloat32, -INFINITY, INFINITY).defined());
  // Zero has no sign to change: 0 against a subnormal is a count of the (evenly spaced) subnormals.
  EXPECT_EQ(ulp_between(DType::kFloat32, 0.0, 1e-44).ulps, 7);
  EXPECT_TRUE(ulp_between(DType::kFloat32, -0.0, 1e-44).defined());
  EXPECT_EQ(ulp_between(DType::kFloat32, -2.0, -2.0000002384185791).ulps, 1);
}

/// Two runs' y of one element each, related within `bound` each side.
CaseResult relate(double a, double b, double bound) {
  const Tensor ta = Tensor::from_values(DType::kFloat64, {1}, std::vector<double>{a});
  const Tensor tb = Tensor::from_values(DType::kFloat64, {1}, std::vector<double>{b});
  const Tensor bounds = Tensor::from_values(DType::kFloat64, {1}, std::vector<double>{bound});
  return compare_runs("y", ta.view(), tb.view(), bounds, bounds, {}, CheckOptions{});
}

TEST(CompareRuns, ASignChangeWithinTheBoundPassesWithoutAHugeUlpFigure) {
  const CaseResult r = relate(-1e-300, 1e-300, 1e-10);
  EXPECT_TRUE(r.passed()) << r.detail;
  EXPECT_EQ(r.max_ulp, 0);  // not 4.4e18
  EXPECT_EQ(r.no_ulp, 1);
  for (const std::int64_t n : r.ulp_histogram) EXPECT_EQ(n, 0);
}

TEST(CompareRuns, AFailureNamesItsOutputAndKindAndSaysWhyThereIsNoUlpFigure) {
  const CaseResult r = relate(-1.0, 1.0, 1e-10);
  ASSERT_EQ(r.outcome, Outcome::kFailed);
  EXPECT_EQ(r.kind, FailureKind::kAccuracy);
  EXPECT_EQ(r.output, "y");
  EXPECT_THAT(r.detail, HasSubstr("no ULP distance: a sign change across zero"));
  ASSERT_TRUE(r.worst);
  EXPECT_EQ(r.worst->no_ulp, "a sign change across zero");
}

TEST(DescribeWorst, InputOnlyForElementwiseOutputs) {
  const Worst y{"y", 5, 1.5, 0.2500001, 0.25, 3, "", 1.7};
  EXPECT_EQ(describe(y), "y[5] at input 1.5: got 0.25, want 0.2500001 (3 ulp, 1.7 bounds)");
  const Worst mean{"mean", 0, kNaN, 316.227753, 316, 7463, "", 2615};
  EXPECT_EQ(describe(mean), "mean[0]: got 316, want 316.227753 (7463 ulp, 2615 bounds)");
  const Worst nan{"rstd", 1, kNaN, 2, kNaN, kNaN, "NaN against a number", INFINITY};
  EXPECT_EQ(describe(nan), "rstd[1]: got nan, want 2 (no ULP distance: NaN against a number, inf bounds)");
}

TEST(FailureKind, RunningStatisticsAndConventionsApartFromAccuracy) {
  EXPECT_EQ(value_kind("running_var"), FailureKind::kRunningStatistics);
  EXPECT_EQ(value_kind("num_batches_tracked"), FailureKind::kRunningStatistics);
  EXPECT_EQ(value_kind("mean"), FailureKind::kAccuracy);
  for (const FailureKind k : {FailureKind::kRefused, FailureKind::kNotRefused, FailureKind::kNanWhereNumber,
                              FailureKind::kNumberWhereNan, FailureKind::kRunningStatistics})
    EXPECT_TRUE(is_convention(k)) << name(k);
  for (const FailureKind k : {FailureKind::kAccuracy, FailureKind::kCrash, FailureKind::kTimeout, FailureKind::kOther})
    EXPECT_FALSE(is_convention(k)) << name(k);
}

TEST(JudgeRefusal, KindsOfAWrongAnswerToARefusal) {
  const Status want = Status::refusal("Expected more than 1 value per channel when training");
  EXPECT_EQ(judge_refusal(want, Status()).kind, FailureKind::kNotRefused);
  EXPECT_EQ(judge_refusal(want, Status::error("plugin error 3: no")).kind, FailureKind::kNotRefused);
  EXPECT_EQ(judge_refusal(want, Status::error("plugin crashed: signal 11 (SIGSEGV)")).kind, FailureKind::kCrash);
  EXPECT_EQ(judge_refusal(want, Status::error("plugin timed out after 10 s")).kind, FailureKind::kTimeout);
  EXPECT_TRUE(judge_refusal(want, Status::refusal("Expected more than 1 value per channel")).passed());
}

/// A bfloat16 layer_norm run by the cpu implementation, both sides evaluated.
Problem bfloat16_problem() {
  Problem p = default_problem(Op::kLayerNorm, {2, 8});
  p.dtype = DType::kBFloat16;
  return p;
}
struct Bf16LayerNorm {
  Problem p = bfloat16_problem();
  Expected<GeneratedInputs> in = make_inputs(p);
  Evaluated e = evaluate_both(*impls::make_implementation("cpu"), p, *in);
  const TensorView& x() const { return in->views.x; }
};

TEST(Judge, ASavedStatisticOfBfloat16DataIsMeasuredInFloat32Ulps) {
  Bf16LayerNorm r;
  ASSERT_TRUE(r.e.want && r.e.got.status.ok()) << r.e.got.status.message();
  ASSERT_TRUE(r.e.got.out.views.mean);
  TensorView mean = *r.e.got.out.views.mean;
  ASSERT_EQ(mean.dtype, DType::kFloat32);
  // 64 float32 ulps off: within one bfloat16 ulp, far beyond the saved mean's bound.
  float off = static_cast<float>(r.e.want->mean->values()[0]);
  for (int i = 0; i < 64; ++i) off = std::nextafter(off, INFINITY);
  mean.set_linear(0, off);
  const CaseResult c = judge(r.p, r.e, r.x(), CheckOptions{});
  ASSERT_EQ(c.outcome, Outcome::kFailed) << c.detail;
  EXPECT_EQ(c.kind, FailureKind::kAccuracy);
  EXPECT_EQ(c.output, "mean");
  ASSERT_TRUE(c.worst);
  EXPECT_EQ(c.worst->ulp, static_cast<double>(ulp_distance(DType::kFloat32, off, r.e.want->mean->values()[0])));
  EXPECT_GE(c.worst->ulp, 63);
  EXPECT_TRUE(std::isnan(c.worst->input)) << "the saved mean is not elementwise in x";
  EXPECT_THAT(c.detail, Not(HasSubstr(" 0 ulp")));
}

TEST(Judge, AnUnwrittenOutputIsNaNWhereANumberIsDue) {
  Bf16LayerNorm r;
  ASSERT_TRUE(r.e.want && r.e.got.status.ok());
  r.e.got.out.views.rstd->set_linear(1, kNaN);
  const CaseResult c = judge(r.p, r.e, r.x(), CheckOptions{});
  ASSERT_EQ(c.outcome, Outcome::kFailed);
  EXPECT_EQ(c.kind, FailureKind::kNanWhereNumber);
  EXPECT_EQ(c.output, "rstd");
  EXPECT_THAT(c.detail, HasSubstr("no ULP distance: NaN against a number"));
  EXPECT_LT(c.max_ulp, 1e6) << "the NaN counts apart, not as an infinite ULP figure";
  EXPECT_GE(c.no_ulp, 1);
  const std::optional<CaseResult> s = settled(r.p, r.e, r.x(), CheckOptions{});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind, FailureKind::kNanWhereNumber);
  EXPECT_EQ(s->output, "rstd");
}

TEST(Judge, AnErrorWhereAnAnswerIsDueIsRefused) {
  Bf16LayerNorm r;
  r.e.got.status = Status::error("plugin error 3: out of memory");
  EXPECT_EQ(judge(r.p, r.e, r.x(), CheckOptions{}).kind, FailureKind::kRefused);
  r.e.got.status = Status::error("plugin crashed: signal 11 (SIGSEGV)");
  EXPECT_EQ(judge(r.p, r.e, r.x(), CheckOptions{}).kind, FailureKind::kCrash);
}

}  // namespace
}  // namespace normcheck::properties
