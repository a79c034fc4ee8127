#pragma once
/// Partial statistics of a normalization set and their merge (Chan, Golub, LeVeque, "Updating
/// formulae and a pairwise algorithm for computing sample variances", 1979): sharded and
/// synchronized BatchNorm is defined by this merge. Held exactly, as rationals.
#include <cstdint>
#include <span>

#include "reference/exact_sum.h"
#include "reference/rounding.h"

namespace normcheck::reference {

/// count, mean and M2 = sum (x - mean)^2 of a set of values, exactly.
struct PartialStats {
  std::int64_t count = 0;
  Rational mean = 0;
  Rational m2 = 0;

  /// The statistics of the values, from exact sums (no floating-point loop).
  static PartialStats of(std::span<const double> values);
  /// Chan et al.'s merge: n = na + nb, delta = mean_b - mean_a,
  ///   mean = mean_a + delta * nb / n,   M2 = M2_a + M2_b + delta^2 * na * nb / n.
  static PartialStats merge(const PartialStats& a, const PartialStats& b);
  Rational biased_var() const { return count > 0 ? m2 / count : Rational(0); }
  Rational unbiased_var() const { return count > 1 ? m2 / (count - 1) : Rational(0); }
  bool operator==(const PartialStats&) const = default;
};

/// count, mean, M2 from the exact sums S1 = sum x and S2 = sum x^2:
///   mean = S1 / m,   M2 = S2 - S1^2 / m   (exact: no cancellation error in rationals).
PartialStats stats_from_sums(std::int64_t count, const ExactSum& s1, const ExactSum& s2);

}  // namespace normcheck::reference
