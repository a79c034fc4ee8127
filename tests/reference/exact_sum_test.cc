// ExactSum: every sum of doubles, of products of two and of three doubles, equals the same sum
// computed in exact rationals (boost::multiprecision::cpp_rational); merges, clear() and the IEEE
// rules for non-finite terms.
#include "reference/exact_sum.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "tests/reference/oracle.h"

namespace normcheck::reference {
namespace {

using oracle::exact;
using Q = oracle::Rational;
namespace mp = boost::multiprecision;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kMax = std::numeric_limits<double>::max();
constexpr double kMinSub = std::numeric_limits<double>::denorm_min();

/// The exact value of a Dyadic, computed here (not with reference::to_rational).
Q value_of(const Dyadic& d) { return Q(d.mantissa) * oracle::pow2(d.exponent); }

Q value_of(const ExactSum& s) {
  EXPECT_TRUE(s.is_finite());
  return value_of(s.value());
}

/// Random finite doubles over every binade, subnormals and zeros included: a uniform biased
/// exponent field 0..2046 and random fraction bits and sign.
class AnyDouble {
 public:
  explicit AnyDouble(std::uint64_t seed) : rng_(seed) {}
  double operator()() {
    const std::uint64_t sign = rng_() & 1;
    const std::uint64_t exponent = std::uniform_int_distribution<std::uint64_t>(0, 2046)(rng_);
    std::uint64_t fraction = rng_() & ((std::uint64_t{1} << 52) - 1);
    if (rng_() % 8 == 0) fraction &= ~((std::uint64_t{1} << 40) - 1);  // some short significands
    return std::bit_cast<double>((sign << 63) | (exponent << 52) | fraction);
  }
  /// Doubles in one region: |x| in [2^lo, 2^hi).
  double in(int lo, int hi) {
    const int e = std::uniform_int_distribution<int>(lo, hi - 1)(rng_);
    const double m = std::uniform_real_distribution<double>(1, 2)(rng_);
    return (rng_() & 1 ? -1 : 1) * std::ldexp(m, e);
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

TEST(ExactSum, EmptySumIsZero) {
  ExactSum s;
  EXPECT_TRUE(s.is_finite());
  EXPECT_TRUE(s.is_zero());
  EXPECT_EQ(s.value().mantissa, 0);
  s.add(0.0);
  s.add(-0.0);
  s.add_product(0.0, kMax);
  s.add_product(kMinSub, 0.0, kMax);
  EXPECT_TRUE(s.is_zero());
}

TEST(ExactSum, SumsOfDoublesOfEveryMagnitudeAreExact) {
  AnyDouble gen(1);
  int trials = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = 1 + static_cast<int>(gen.rng()() % 200);
    ExactSum s;
    Q expected = 0;
    for (int i = 0; i < n; ++i) {
      const double x = gen();
      s.add(x);
      expected += exact(x);
    }
    ASSERT_EQ(value_of(s), expected) << "trial " << trial;
    EXPECT_EQ(s.is_zero(), expected == 0);
    ++trials;
  }
  EXPECT_EQ(trials, 300);
}

TEST(ExactSum, SubnormalOnlySumsAreExact) {
  AnyDouble gen(2);
  for (int trial = 0; trial < 100; ++trial) {
    ExactSum s;
    Q expected = 0;
    for (int i = 0; i < 50; ++i) {
      const double x = std::bit_cast<double>((gen.rng()() & 0x800fffffffffffffULL));  // exponent field 0
      s.add(x);
      expected += exact(x);
    }
    ASSERT_EQ(value_of(s), expected);
  }
}

TEST(ExactSum, CancellationLeavesTheSmallTermsExactly) {
  {
    ExactSum s;
    s.add(1e300);
    s.add(1.0);
    s.add(-1e300);
    EXPECT_EQ(value_of(s), Q(1));
  }
  {
    ExactSum s;
    s.add(kMax);
    s.add(kMax);  // beyond the double range: the accumulator still holds it
    s.add(kMinSub);
    s.add(-kMax);
    s.add(-kMax);
    EXPECT_EQ(value_of(s), exact(kMinSub));
  }
  {
    // Pairs x, -x of every magnitude around one small term: the small term survives.
    AnyDouble gen(3);
    ExactSum s;
    s.add(0x1p-1000);
    std::vector<double> xs;
    for (int i = 0; i < 500; ++i) xs.push_back(gen());
    for (double x : xs) s.add(x);
    for (double x : xs) s.add(-x);
    EXPECT_EQ(value_of(s), exact(0x1p-1000));
  }
  {
    ExactSum s;
    AnyDouble gen(4);
    std::vector<double> xs;
    for (int i = 0; i < 300; ++i) xs.push_back(gen());
    for (double x : xs) s.add(x);
    for (auto it = xs.rbegin(); it != xs.rend(); ++it) s.add(-*it);
    EXPECT_TRUE(s.is_zero());
    EXPECT_EQ(s.value().mantissa, 0);
  }
}

TEST(ExactSum, ProductsOfTwoDoublesAreExact) {
  AnyDouble gen(5);
  for (int trial = 0; trial < 200; ++trial) {
    ExactSum s;
    Q expected = 0;
    for (int i = 0; i < 40; ++i) {
      double a = gen(), b = gen();
      if (i % 5 == 0) a = std::bit_cast<double>(gen.rng()() & 0x800fffffffffffffULL);  // subnormal factor
      s.add_product(a, b);
      expected += exact(a) * exact(b);
      if (i % 7 == 0) {
        s.add(a);
        expected += exact(a);
      }
    }
    ASSERT_EQ(value_of(s), expected) << "trial " << trial;
  }
}

TEST(ExactSum, ProductsOfThreeDoublesAreExact) {
  AnyDouble gen(6);
  for (int trial = 0; trial < 200; ++trial) {
    ExactSum s;
    Q expected = 0;
    for (int i = 0; i < 40; ++i) {
      double a = gen(), b = gen(), c = gen();
      if (i % 4 == 0) b = std::bit_cast<double>(gen.rng()() & 0x800fffffffffffffULL);
      if (i % 9 == 0) c = std::bit_cast<double>(gen.rng()() & 0x800fffffffffffffULL);
      s.add_product(a, b, c);
      expected += exact(a) * exact(b) * exact(c);
    }
    ASSERT_EQ(value_of(s), expected) << "trial " << trial;
  }
}

TEST(ExactSum, ExtremeProductsStayInRange) {
  const double all_ones = std::bit_cast<double>(0x7fefffffffffffffULL);  // max: 53 one bits
  const double sub_ones = std::bit_cast<double>(0x000fffffffffffffULL);  // the largest subnormal
  struct Case {
    std::vector<double> f;
  };
  const std::vector<Case> cases = {{{kMax, kMax}},
                                   {{kMax, kMax, kMax}},
                                   {{-kMax, kMax, kMax}},
                                   {{kMinSub, kMinSub}},
                                   {{kMinSub, kMinSub, kMinSub}},
                                   {{sub_ones, sub_ones, sub_ones}},
                                   {{all_ones, sub_ones, kMinSub}},
                                   {{kMax, kMinSub, kMinSub}}};
  for (const Case& c : cases) {
    ExactSum s;
    Q expected = 1;
    for (double f : c.f) expected *= exact(f);
    if (c.f.size() == 2)
      s.add_product(c.f[0], c.f[1]);
    else
      s.add_product(c.f[0], c.f[1], c.f[2]);
    EXPECT_TRUE(s.is_finite());
    EXPECT_EQ(value_of(s), expected) << c.f.size() << " factors starting " << c.f[0];
  }
  // Both extremes in one sum: the largest and the smallest products together.
  ExactSum s;
  s.add_product(kMax, kMax, kMax);
  s.add_product(kMinSub, kMinSub, kMinSub);
  EXPECT_EQ(value_of(s),
            exact(kMax) * exact(kMax) * exact(kMax) + exact(kMinSub) * exact(kMinSub) * exact(kMinSub));
}

TEST(ExactSum, ManyFullSignificandTermsCarryCorrectly) {
  // 53-bit significands repeated: every slot fills and carries.
  const double x = std::bit_cast<double>(0x3fffffffffffffffULL);  // 2 - 2^-52
  const double y = -std::bit_cast<double>(0x3cafffffffffffffULL);
  ExactSum s;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    s.add(x);
    s.add_product(x, x);
    s.add(y);
  }
  EXPECT_EQ(value_of(s), n * (exact(x) + exact(x) * exact(x) + exact(y)));
}

TEST(ExactSum, NegativeSumsAndTheNormalizedDyadic) {
  AnyDouble gen(7);
  int negatives = 0;
  for (int trial = 0; trial < 200; ++trial) {
    ExactSum s;
    Q expected = 0;
    for (int i = 0; i < 20; ++i) {
      const double x = gen.in(-60, 60);
      s.add(x);
      expected += exact(x);
    }
    const Dyadic d = s.value();
    ASSERT_EQ(value_of(d), expected);
    negatives += expected < 0;
    if (d.mantissa != 0) {
      EXPECT_TRUE(mp::bit_test(mp::abs(d.mantissa), 0)) << "trailing zeros are moved into the exponent";
    }
  }
  EXPECT_GT(negatives, 50);
}

TEST(ExactSum, ClearStartsOver) {
  AnyDouble gen(8);
  ExactSum s;
  for (int round = 0; round < 20; ++round) {
    Q expected = 0;
    const int n = 1 + round * 7;
    for (int i = 0; i < n; ++i) {
      const double a = gen(), b = gen.in(-30, 30);
      s.add_product(a, b);
      expected += exact(a) * exact(b);
    }
    ASSERT_EQ(value_of(s), expected) << "round " << round;
    s.clear();
    EXPECT_TRUE(s.is_zero());
    EXPECT_TRUE(s.is_finite());
  }
  // clear() also forgets non-finite terms.
  s.add(kInf);
  s.add(-kInf);
  EXPECT_FALSE(s.is_finite());
  s.clear();
  EXPECT_TRUE(s.is_finite());
  s.add(3.5);
  EXPECT_EQ(value_of(s), Q(7, 2));
}

TEST(ExactSum, MergingPartsEqualsTheWhole) {
  AnyDouble gen(9);
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<double> xs;
    const int n = static_cast<int>(gen.rng()() % 100);
    for (int i = 0; i < n; ++i) xs.push_back(trial % 2 ? gen() : gen.in(-100, 100));
    ExactSum whole;
    for (double x : xs) whole.add(x);
    // Random split into three parts, merged in two orders.
    const auto cut1 = n == 0 ? 0 : static_cast<int>(gen.rng()() % (n + 1));
    const auto cut2 = cut1 + (n - cut1 == 0 ? 0 : static_cast<int>(gen.rng()() % (n - cut1 + 1)));
    ExactSum a, b, c;
    for (int i = 0; i < n; ++i) (i < cut1 ? a : i < cut2 ? b : c).add(xs[i]);
    ExactSum left = a;
    left.add(b);
    left.add(c);
    ExactSum bc = b;
    bc.add(c);
    ExactSum right = a;
    right.add(bc);
    EXPECT_EQ(value_of(left), value_of(whole)) << "trial " << trial;
    EXPECT_EQ(value_of(right), value_of(whole)) << "trial " << trial;
  }
  // Merging an empty sum, and into an empty sum.
  ExactSum empty, s;
  s.add(0x1p-1074);
  s.add(0x1p1000);
  ExactSum t = s;
  t.add(empty);
  EXPECT_EQ(value_of(t), value_of(s));
  ExactSum u;
  u.add(s);
  EXPECT_EQ(value_of(u), value_of(s));
  // A merge that cancels to zero.
  ExactSum neg;
  neg.add(-0x1p-1074);
  neg.add(-0x1p1000);
  u.add(neg);
  EXPECT_TRUE(u.is_zero());
}

TEST(ExactSum, NonFiniteTermsFollowIeee) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto result = [](auto fill) {
    ExactSum s;
    s.add(1.0);
    fill(s);
    return s;
  };
  ExactSum pos = result([](ExactSum& s) { s.add(kInf); });
  EXPECT_FALSE(pos.is_finite());
  EXPECT_EQ(pos.nonfinite_value(), kInf);
  ExactSum neg = result([](ExactSum& s) { s.add(-kInf); });
  EXPECT_EQ(neg.nonfinite_value(), -kInf);
  ExactSum both = result([](ExactSum& s) {
    s.add(kInf);
    s.add(-kInf);
  });
  EXPECT_TRUE(std::isnan(both.nonfinite_value())) << "inf + -inf = NaN";
  ExactSum with_nan = result([&](ExactSum& s) { s.add(nan); });
  EXPECT_TRUE(std::isnan(with_nan.nonfinite_value()));
  ExactSum inf_times_zero = result([](ExactSum& s) { s.add_product(kInf, 0.0); });
  EXPECT_TRUE(std::isnan(inf_times_zero.nonfinite_value())) << "inf * 0 = NaN";
  ExactSum inf_times_neg = result([](ExactSum& s) { s.add_product(kInf, -2.0); });
  EXPECT_EQ(inf_times_neg.nonfinite_value(), -kInf);
  ExactSum three = result([](ExactSum& s) { s.add_product(-1.0, kInf, -3.0); });
  EXPECT_EQ(three.nonfinite_value(), kInf);
  ExactSum three_nan = result([](ExactSum& s) { s.add_product(0.0, kInf, 3.0); });
  EXPECT_TRUE(std::isnan(three_nan.nonfinite_value()));
  // Products that overflow double but not the accumulator stay finite and exact.
  ExactSum big;
  big.add_product(1e300, 1e300);
  EXPECT_TRUE(big.is_finite());
  EXPECT_EQ(value_of(big), exact(1e300) * exact(1e300));
  // A merge carries the non-finite state, in both directions, and combines it.
  ExactSum finite;
  finite.add(2.0);
  finite.add(pos);
  EXPECT_EQ(finite.nonfinite_value(), kInf);
  finite.add(neg);
  EXPECT_TRUE(std::isnan(finite.nonfinite_value()));
}

}  // namespace
}  // namespace normcheck::reference
