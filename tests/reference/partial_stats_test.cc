// PartialStats: of() equals the two-pass definition in exact rationals, and Chan et al.'s merge of
// any split equals of() of the whole, exactly; the merge is associative and commutative and
// empty parts are its identity.
#include "reference/partial_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "tests/reference/oracle.h"

namespace normcheck::reference {
namespace {

using oracle::exact;
using Q = oracle::Rational;

/// count, mean and M2 by the definition: two passes over exact values.
PartialStats by_definition(std::span<const double> xs) {
  PartialStats p;
  p.count = static_cast<std::int64_t>(xs.size());
  if (xs.empty()) return p;
  Q sum = 0;
  for (double x : xs) sum += exact(x);
  p.mean = sum / p.count;
  for (double x : xs) p.m2 += (exact(x) - p.mean) * (exact(x) - p.mean);
  return p;
}

std::vector<double> random_values(std::mt19937_64& rng, int n) {
  std::vector<double> xs;
  const double offset = std::vector<double>{0.0, 1e4, -3e8, 1e-200, 1e200}[rng() % 5];
  const double spread = std::vector<double>{1.0, 1e-6, 1e3, 1e-210, 1e190}[rng() % 5];
  for (int i = 0; i < n; ++i) xs.push_back(offset + spread * std::normal_distribution<double>()(rng));
  return xs;
}

TEST(PartialStats, OfEqualsTheTwoPassDefinition) {
  std::mt19937_64 rng(61);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::vector<double> xs = random_values(rng, 1 + static_cast<int>(rng() % 60));
    const PartialStats got = PartialStats::of(xs), want = by_definition(xs);
    ASSERT_EQ(got.count, want.count);
    ASSERT_EQ(got.mean, want.mean) << "trial " << trial;
    ASSERT_EQ(got.m2, want.m2) << "trial " << trial;
    EXPECT_EQ(got.biased_var(), want.m2 / want.count);
    if (want.count > 1) {
      EXPECT_EQ(got.unbiased_var(), want.m2 / (want.count - 1));
    }
    EXPECT_GE(got.m2, 0);
    ++checked;
  }
  EXPECT_EQ(checked, 300);
}

TEST(PartialStats, MergeOfAnySplitEqualsTheWhole) {
  std::mt19937_64 rng(62);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const int n = static_cast<int>(rng() % 80);
    const std::vector<double> xs = random_values(rng, n);
    const PartialStats whole = PartialStats::of(xs);
    // Split into up to 6 contiguous parts (some empty) and fold them left to right.
    std::vector<int> cuts{0, n};
    for (int k = 0; k < 5; ++k) cuts.push_back(n == 0 ? 0 : static_cast<int>(rng() % (n + 1)));
    std::sort(cuts.begin(), cuts.end());
    PartialStats folded;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
      const std::span<const double> part(xs.data() + cuts[k],
                                         static_cast<std::size_t>(cuts[k + 1] - cuts[k]));
      folded = PartialStats::merge(folded, PartialStats::of(part));
    }
    ASSERT_EQ(folded, whole) << "trial " << trial << ", n = " << n;
    ++checked;
  }
  EXPECT_EQ(checked, 300);
}

TEST(PartialStats, MergeIsAssociativeAndCommutative) {
  std::mt19937_64 rng(63);
  for (int trial = 0; trial < 200; ++trial) {
    const PartialStats a = PartialStats::of(random_values(rng, 1 + static_cast<int>(rng() % 20)));
    const PartialStats b = PartialStats::of(random_values(rng, 1 + static_cast<int>(rng() % 20)));
    const PartialStats c = PartialStats::of(random_values(rng, 1 + static_cast<int>(rng() % 20)));
    const PartialStats left = PartialStats::merge(PartialStats::merge(a, b), c);
    const PartialStats right = PartialStats::merge(a, PartialStats::merge(b, c));
    ASSERT_EQ(left, right) << "trial " << trial;
    ASSERT_EQ(PartialStats::merge(a, b), PartialStats::merge(b, a)) << "trial " << trial;
  }
}

TEST(PartialStats, EmptyPartsAreTheIdentity) {
  const PartialStats empty = PartialStats::of(std::span<const double>());
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.mean, 0);
  EXPECT_EQ(empty.m2, 0);
  EXPECT_EQ(empty.biased_var(), 0);
  EXPECT_EQ(empty.unbiased_var(), 0);
  const std::vector<double> xs{1.5, -2.25, 1e10, 3e-300};
  const PartialStats p = PartialStats::of(xs);
  EXPECT_EQ(PartialStats::merge(empty, p), p);
  EXPECT_EQ(PartialStats::merge(p, empty), p);
  EXPECT_EQ(PartialStats::merge(empty, empty), empty);
  // A single value: mean is the value, M2 zero.
  const std::vector<double> one{7.125};
  const PartialStats single = PartialStats::of(one);
  EXPECT_EQ(single.count, 1);
  EXPECT_EQ(single.mean, Q(57, 8));
  EXPECT_EQ(single.m2, 0);
  EXPECT_EQ(single.unbiased_var(), 0);
}

TEST(PartialStats, StatsFromSumsCancelsExactly) {
  // S2 - S1^2 / m without cancellation error: a constant set at a huge offset has M2 exactly 0,
  // and offset + {-1, +1} has M2 exactly 2.
  for (double offset : {1e8, 1e15, 1234.5, 1e300}) {
    const std::vector<double> constant(17, offset);
    EXPECT_EQ(PartialStats::of(constant).m2, 0) << offset;
    const double lo = std::nextafter(offset, 0.0), hi = std::nextafter(offset, 2 * offset);
    const std::vector<double> pair{lo, hi};
    const Q d = exact(hi) - exact(lo);
    EXPECT_EQ(PartialStats::of(pair).m2, d * d / 2) << offset;
  }
}

}  // namespace
}  // namespace normcheck::reference
