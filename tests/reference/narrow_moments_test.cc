// NarrowMoments: the fast exact sums of float32/float16/bfloat16 data equal the general
// ExactSum's (which exact_sum_test checks against rationals), for every kind of value, and a
// NaN or inf makes flush() refuse.
#include "reference/narrow_moments.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "normcheck/dtype.h"

namespace normcheck::reference {
namespace {

/// Random values of dtype t over its whole range: subnormals, zeros of both signs, the largest.
std::vector<double> values_of(DType t, std::mt19937_64& rng, int n) {
  std::vector<double> v;
  const DTypeInfo& f = info(t);
  std::uniform_int_distribution<int> exponent(f.emin - f.precision, f.emax);
  std::uniform_real_distribution<double> mantissa(1, 2);
  for (int i = 0; i < n; ++i) {
    switch (rng() % 8) {
      case 0: v.push_back(rng() % 2 ? 0.0 : -0.0); break;
      case 1: v.push_back((rng() % 2 ? 1 : -1) * f.max_finite); break;
      case 2: v.push_back((rng() % 2 ? 1 : -1) * f.min_subnormal * static_cast<double>(rng() % 8)); break;
      default: {
        const double x = round_to(t, (rng() % 2 ? 1 : -1) * std::ldexp(mantissa(rng), exponent(rng)));
        v.push_back(std::isinf(x) ? std::copysign(f.max_finite, x) : x);  // finite values only
      }
    }
  }
  return v;
}

bool same_value(const ExactSum& a, const ExactSum& b) {
  const Dyadic x = a.value(), y = b.value();
  return x.mantissa == y.mantissa && (x.mantissa == 0 || x.exponent == y.exponent);
}

TEST(NarrowMoments, EqualsTheGeneralExactSumForEveryNarrowDtype) {
  std::mt19937_64 rng(11);
  NarrowMoments moments;  // reused across sets, as the reference does: flush must empty it
  int sets = 0;
  for (DType t : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
    for (int n : {1, 2, 7, 100, 5000}) {
      for (int rep = 0; rep < 20; ++rep) {
        const std::vector<double> v = values_of(t, rng, n);
        ExactSum s1, s2, want1, want2;
        for (double x : v) {
          moments.add(x);
          want1.add_with_square(x, want2);
        }
        ASSERT_TRUE(moments.flush(s1, s2));
        ASSERT_TRUE(same_value(s1, want1)) << name(t) << " n=" << n;
        ASSERT_TRUE(same_value(s2, want2)) << name(t) << " n=" << n;
        ++sets;
      }
    }
  }
  EXPECT_EQ(sets, 3 * 5 * 20);
}

TEST(NarrowMoments, CancellationToExactlyZero) {
  NarrowMoments moments;
  ExactSum s1, s2;
  for (double x : {3.5f, -3.5f, 1e30f, -1e30f, 1e-40f, -1e-40f}) moments.add(x);
  ASSERT_TRUE(moments.flush(s1, s2));
  EXPECT_TRUE(s1.is_zero());
  EXPECT_FALSE(s2.is_zero());
}

TEST(NarrowMoments, ANaNOrInfMakesFlushRefuseAndStillEmptiesTheSlots) {
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    NarrowMoments moments;
    ExactSum s1, s2;
    moments.add(1.0);
    moments.add(bad);
    EXPECT_FALSE(moments.flush(s1, s2));
    // The next set starts empty.
    ExactSum t1, t2;
    moments.add(2.0);
    ASSERT_TRUE(moments.flush(t1, t2));
    EXPECT_TRUE(t1.value().mantissa == 1);  // (EXPECT_EQ would print a cpp_int: a GCC 12 -Wrestrict false alarm)
    EXPECT_EQ(t1.value().exponent, 1);
  }
}

}  // namespace
}  // namespace normcheck::reference
