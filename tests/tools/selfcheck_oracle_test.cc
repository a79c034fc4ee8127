// The self-check's oracle: exact comparisons of A / sqrt(V) + B with rationals, the RNE decision
// (ties, binade edges, subnormals, overflow) and the normalization sets of each op.
#include "tools/normcheck/selfcheck_oracle.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace normcheck::tool::oracle {
namespace {

/// n / d, built by division (boost's two-integer constructor trips GCC 12's -Wmaybe-uninitialized).
Rational ratio(std::int64_t n, std::int64_t d) { return Rational(n) / d; }

Rational pow2(int e) { return exact(std::ldexp(1.0, e)); }

TEST(Exact, IsTheDoublesValue) {
  EXPECT_EQ(exact(0.0), Rational(0));
  EXPECT_EQ(exact(-1.5), ratio(-3, 2));
  EXPECT_EQ(exact(0.1), ratio(3602879701896397, 36028797018963968));  // 0x1.999999999999ap-4
  EXPECT_EQ(exact(std::numeric_limits<double>::denorm_min()), pow2(-1074));
}

TEST(CompareSqrtForm, ComparesExactlyWithSigns) {
  // 1 / sqrt(4) = 1/2 exactly.
  EXPECT_EQ(compare_sqrt_form(1, 4, 0, ratio(1, 2)), 0);
  EXPECT_EQ(compare_sqrt_form(1, 4, 0, ratio(2, 5)), 1);
  EXPECT_EQ(compare_sqrt_form(1, 4, 0, ratio(3, 5)), -1);
  // -3 / sqrt(9) + 5 = 4.
  EXPECT_EQ(compare_sqrt_form(-3, 9, 5, 4), 0);
  EXPECT_EQ(compare_sqrt_form(-3, 9, 5, ratio(39, 10)), 1);
  EXPECT_EQ(compare_sqrt_form(-3, 9, 5, ratio(41, 10)), -1);
  // Different signs of A and q - B decide without squaring: -1/sqrt(2) < 0 < 1/sqrt(2).
  EXPECT_EQ(compare_sqrt_form(-1, 2, 0, 0), -1);
  EXPECT_EQ(compare_sqrt_form(1, 2, 0, 0), 1);
  EXPECT_EQ(compare_sqrt_form(0, 2, 7, 7), 0);
  // Squares alone would call -1/sqrt(2) and +1/sqrt(2) equal.
  EXPECT_EQ(compare_sqrt_form(-1, 2, 0, ratio(-7071, 10000)), -1);
  EXPECT_EQ(compare_sqrt_form(-1, 2, 0, ratio(-7072, 10000)), 1);
}

/// The neighbours of a positive value c of t (c < max_finite), from its ordinal.
double next_up(DType t, double c) { return c + ulp(t, c); }

TEST(IsCorrectlyRounded, AcceptsOnlyTheNearestValueOfSqrt2) {
  for (DType t : kAllDTypes) {
    SCOPED_TRACE(std::string(name(t)));
    const double c = round_to(t, std::sqrt(2.0));  // sqrt(2) is far from any midpoint in every format
    EXPECT_TRUE(is_correctly_rounded(c, t, Rational(1), ratio(1, 2), Rational(0)));
    EXPECT_FALSE(is_correctly_rounded(next_up(t, c), t, Rational(1), ratio(1, 2), Rational(0)));
    EXPECT_FALSE(is_correctly_rounded(c - ulp(t, c), t, Rational(1), ratio(1, 2), Rational(0)));
    EXPECT_TRUE(is_correctly_rounded(-c, t, Rational(-1), ratio(1, 2), Rational(0)));
    EXPECT_FALSE(is_correctly_rounded(c, t, Rational(-1), ratio(1, 2), Rational(0)));
  }
}

TEST(IsCorrectlyRounded, BreaksTiesToEven) {
  const DType t = DType::kFloat32;
  const double one_up = 1 + 0x1p-23;
  EXPECT_TRUE(is_correctly_rounded(1.0, t, exact(1 + 0x1p-24)));  // tie between 1 (even) and 1+2^-23
  EXPECT_FALSE(is_correctly_rounded(one_up, t, exact(1 + 0x1p-24)));
  EXPECT_TRUE(is_correctly_rounded(1 + 0x1p-22, t, exact(1 + 3 * 0x1p-24)));  // tie: 1+2^-22 is even
  EXPECT_FALSE(is_correctly_rounded(one_up, t, exact(1 + 3 * 0x1p-24)));
  EXPECT_TRUE(is_correctly_rounded(one_up, t, exact(1 + 3 * 0x1p-24) - pow2(-80)));
}

TEST(IsCorrectlyRounded, KnowsTheNarrowerSpacingBelowAPowerOfTwo) {
  const DType t = DType::kFloat32;
  // Below 1 the float32 spacing is 2^-24, so the midpoint to the value below is 1 - 2^-25.
  EXPECT_TRUE(is_correctly_rounded(1.0, t, exact(1 - 0x1p-25)));  // tie: 1 is even
  EXPECT_TRUE(is_correctly_rounded(1 - 0x1p-24, t, exact(1 - 0x1p-25) - pow2(-70)));
  EXPECT_FALSE(is_correctly_rounded(1.0, t, exact(1 - 0x1p-25) - pow2(-70)));
  EXPECT_TRUE(is_correctly_rounded(1.0, t, exact(1 - 0x1p-26)));
}

TEST(IsCorrectlyRounded, HandlesSubnormalsZeroAndOverflow) {
  const DType f32 = DType::kFloat32, f16 = DType::kFloat16;
  const double tiny = info(f32).min_subnormal;              // 2^-149
  EXPECT_TRUE(is_correctly_rounded(0.0, f32, pow2(-150)));  // tie: 0 is even
  EXPECT_FALSE(is_correctly_rounded(tiny, f32, pow2(-150)));
  EXPECT_TRUE(is_correctly_rounded(tiny, f32, pow2(-150) * 3 / 2));
  EXPECT_TRUE(is_correctly_rounded(-tiny, f32, -pow2(-150) * 3 / 2));
  EXPECT_TRUE(is_correctly_rounded(0.0, f32, Rational(0)));
  // float16: max 65504, spacing 32 there; 65520 is the overflow threshold (a tie that rounds to inf).
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(is_correctly_rounded(65504.0, f16, Rational(65519)));
  EXPECT_FALSE(is_correctly_rounded(65504.0, f16, Rational(65520)));
  EXPECT_TRUE(is_correctly_rounded(inf, f16, Rational(65520)));
  EXPECT_TRUE(is_correctly_rounded(-inf, f16, Rational(-70000)));
  EXPECT_FALSE(is_correctly_rounded(inf, f16, Rational(65519)));
  EXPECT_FALSE(is_correctly_rounded(std::nan(""), f16, Rational(0)));
  EXPECT_FALSE(is_correctly_rounded(1 + 0x1p-20, f16, exact(1 + 0x1p-20)));  // not a float16 value
}

Problem problem(Op op, std::vector<std::int64_t> shape) {
  Problem p = default_problem(op, std::move(shape));
  return p;
}

TEST(NormalizationSets, FollowTheSemanticsTable) {
  using Sets = std::vector<std::vector<std::int64_t>>;
  EXPECT_EQ(normalization_sets(problem(Op::kBatchNorm, {2, 3, 2})),
            (Sets{{0, 1, 6, 7}, {2, 3, 8, 9}, {4, 5, 10, 11}}));
  EXPECT_EQ(normalization_sets(problem(Op::kInstanceNorm, {2, 2, 2})),
            (Sets{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  Problem gn = problem(Op::kGroupNorm, {1, 4, 2});
  gn.num_groups = 2;
  EXPECT_EQ(normalization_sets(gn), (Sets{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  EXPECT_EQ(normalization_sets(problem(Op::kLayerNorm2d, {1, 2, 3})), (Sets{{0, 3}, {1, 4}, {2, 5}}));
  Problem ln = problem(Op::kLayerNorm, {2, 2, 3});
  ln.normalized_shape = {2, 3};
  EXPECT_EQ(normalization_sets(ln), (Sets{{0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}}));
  EXPECT_EQ(normalization_sets(problem(Op::kRmsNorm, {2, 2})), (Sets{{0, 1}, {2, 3}}));
}

TEST(AffineIndex, IsTheChannelOrTheTrailingPosition) {
  EXPECT_EQ(affine_index(problem(Op::kBatchNorm, {2, 3, 2}), 9), 1);
  EXPECT_EQ(affine_index(problem(Op::kGroupNorm, {1, 4, 2}), 7), 3);
  Problem ln = problem(Op::kLayerNorm, {2, 2, 3});
  ln.normalized_shape = {2, 3};
  EXPECT_EQ(affine_index(ln, 10), 4);
}

TEST(ExactStats, AreTheRationalMeanAndBiasedVariance) {
  const std::vector<double> x = {1, 2, 4, 100};
  const ExactStats st = exact_stats(x, {0, 1, 2}, /*rms=*/false);
  EXPECT_EQ(st.mean, ratio(7, 3));
  EXPECT_EQ(st.var, ratio(14, 9));  // ((4/3)^2 + (1/3)^2 + (5/3)^2) / 3
  const ExactStats rms = exact_stats(x, {0, 1, 2}, /*rms=*/true);
  EXPECT_EQ(rms.mean, Rational(0));
  EXPECT_EQ(rms.var, Rational(7));  // (1 + 4 + 16) / 3
}

}  // namespace
}  // namespace normcheck::tool::oracle
