#pragma once
/// NarrowMoments: the exact sums S1 = sum x and S2 = sum x^2 of values that have at most 24
/// significant bits (float32, float16 and bfloat16 data), an order of magnitude faster than
/// adding each value to an ExactSum.
///
/// Such an x, held as a double, is +-M * 2^(E - 1046) with M = its 53-bit significand >> 29
/// (below 2^24: the low 29 bits are zero) and E its biased double exponent. So values that share
/// E are integers on one scale: their M add exactly in an int64 slot (2^39 of them before it
/// could overflow) and their M^2 < 2^48 in a 128-bit slot. flush() moves the slots into ExactSums.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>

#include "reference/exact_sum.h"

namespace normcheck::reference {

class NarrowMoments {
 public:
  NarrowMoments() {
    sum_.fill(0);
    sum_sq_.fill(0);
  }

  /// Precondition: x has at most 24 significant bits (any finite float32/16/bf16 value, or not
  /// finite: those are counted apart and make flush() report the set as non-finite).
  void add(double x) {
    const auto bits = std::bit_cast<std::uint64_t>(x);
    const int e = static_cast<int>((bits >> 52) & 0x7ff);
    const auto m = static_cast<std::int64_t>(((bits & kFraction) | kHidden) >> 29);
    // Zero has e = 0 and contributes 0 * 2^-1046: slot 0 holds only zeros (no float32 value is a
    // double subnormal), so the hidden bit it gets there is removed by skipping slot 0 in flush.
    sum_[e] += (bits >> 63) ? -m : m;
    sum_sq_[e] += static_cast<U128>(m * m);
    if (e < lo_) lo_ = e;
    if (e > hi_) hi_ = e;
  }

  /// Adds the slots' contents to s1 and s2 (exactly) and empties the slots. Returns false when a
  /// NaN or inf was added (then s1, s2 get nothing: the caller evaluates that set the IEEE way).
  bool flush(ExactSum& s1, ExactSum& s2) {
    const bool finite = hi_ < 0x7ff;
    for (int e = std::max(lo_, 1); e <= hi_ && finite; ++e) {
      if (sum_sq_[e] == 0) continue;  // no value with this exponent
      const std::int64_t s = sum_[e];
      const std::uint64_t magnitude = s < 0 ? 0 - static_cast<std::uint64_t>(s) : static_cast<std::uint64_t>(s);
      s1.add_scaled(s < 0, magnitude, e - 1046);
      s2.add_scaled(false, sum_sq_[e], 2 * e - 2092);
    }
    for (int e = lo_; e <= hi_; ++e) {
      sum_[e] = 0;
      sum_sq_[e] = 0;
    }
    lo_ = kSlots;
    hi_ = -1;
    return finite;
  }

 private:
  static constexpr int kSlots = 2048;
  static constexpr std::uint64_t kFraction = (std::uint64_t{1} << 52) - 1, kHidden = std::uint64_t{1} << 52;
  std::array<std::int64_t, kSlots> sum_;
  std::array<U128, kSlots> sum_sq_;
  int lo_ = kSlots, hi_ = -1;
};

}  // namespace normcheck::reference
