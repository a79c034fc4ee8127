#pragma once
/// ExactSum: a fixed-point accumulator wide enough to hold any sum of doubles, of products of two
/// doubles, and of products of three doubles, exactly (no rounding ever happens).
///
/// Every double is M * 2^e with an integer M < 2^53 and e >= -1074, so a product of three is an
/// integer (< 2^159) times 2^e with e >= -3222 and below 2^3072. The accumulator keeps 32-bit
/// digits in int64 slots from 2^kMinExp upward ("carry-save": a slot absorbs 2^31 additions
/// before carries must be propagated), so adding one term touches 3 to 6 slots and costs a few
/// integer operations (Neal's small superaccumulator, Collange et al.'s "long accumulator").
#include <array>

#include "normcheck/status.h"
#include <cstdint>

#include <boost/multiprecision/cpp_int.hpp>

namespace normcheck::reference {

using BigInt = boost::multiprecision::cpp_int;
/// GCC/Clang's 128-bit integer (__extension__: not ISO C++, hence the pedantic opt-out).
__extension__ typedef unsigned __int128 U128;

/// An exact dyadic number mantissa * 2^exponent.
struct Dyadic {
  BigInt mantissa;
  int exponent = 0;
};

class ExactSum {
 public:
  static constexpr int kMinExp = -3264;  ///< below 3 * -1074 (the least significant bit of a triple product)
  static constexpr int kMaxExp = 3200;   ///< above 3 * 1024 plus headroom for 2^64 terms
  static constexpr int kDigits = (kMaxExp - kMinExp) / 32 + 1;
  static constexpr std::int64_t kNormalizeEvery = std::int64_t{1} << 30;  ///< additions between carries

  ExactSum() { digit_.fill(0); }
  void clear();

  /// Adds x / a*b / a*b*c exactly. Non-finite terms switch the sum to NaN/inf like IEEE does.
  void add(double x);
  void add_product(double a, double b);
  void add_product(double a, double b, double c);
  void add(const ExactSum& other);

  /// Adds x to this sum and x * x to squares: the moments of a set in one pass, splitting x once.
  void add_with_square(double x, ExactSum& squares);
  /// Adds (negative ? -1 : 1) * mag * 2^exponent, for callers that pre-sum integer mantissas
  /// (exponent >= kMinExp, and the term below 2^kMaxExp).
  void add_scaled(bool negative, U128 mag, int exponent) { add_magnitude(negative, mag, exponent); }

  bool is_finite() const { return nonfinite_ == 0; }
  /// The IEEE value of a sum with a non-finite term (+inf, -inf or NaN; inf + -inf is NaN).
  double nonfinite_value() const;
  bool is_zero() const;
  /// The exact value (precondition: is_finite()), with the mantissa's trailing zeros moved into
  /// the exponent (zero is mantissa 0).
  Dyadic value() const;

 private:
  void add_magnitude(bool negative, std::uint64_t mag, int exponent);  // the common, 3-slot case
  void add_magnitude(bool negative, U128 mag, int exponent);
  // Propagates carries so that every slot is in [0, 2^32) except the top one, which keeps the
  // sign. It does not change the value, so const readers may call it (the state is mutable).
  void normalize() const;

  mutable std::array<std::int64_t, kDigits> digit_;
  mutable int lo_ = kDigits, hi_ = -1;  // the range of slots that may be nonzero
  mutable std::int64_t pending_ = 0;    // additions since the last normalize
  int nonfinite_ = 0;           // bit 0: +inf seen, bit 1: -inf seen, bit 2: NaN seen
};

// Inline: the hot path of every exact sum.
inline void ExactSum::add_magnitude(bool negative, std::uint64_t mag, int exponent) {
  const int pos = exponent - kMinExp;
  NC_CHECK(pos >= 0 && pos / 32 + 3 < kDigits, "ExactSum term out of range");
  const int k = pos >> 5, r = pos & 31;
  // Shifted into place the term spans up to 96 bits: three 32-bit chunks.
  const std::uint64_t low = mag << r;
  const std::uint64_t top = r == 0 ? 0 : mag >> (64 - r);
  const std::int64_t sign = negative ? -1 : 1;
  std::int64_t* slot = &digit_[k];
  slot[0] += sign * static_cast<std::int64_t>(low & 0xffffffffu);
  slot[1] += sign * static_cast<std::int64_t>(low >> 32);
  slot[2] += sign * static_cast<std::int64_t>(top);
  if (k < lo_) lo_ = k;
  if (k + 2 > hi_) hi_ = k + 2;
  if (++pending_ >= kNormalizeEvery) normalize();  // keeps every slot below 2^63
}

}  // namespace normcheck::reference
