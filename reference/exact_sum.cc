#include "reference/exact_sum.h"

#include <bit>
#include <cmath>
#include <limits>

#include "normcheck/status.h"

namespace normcheck::reference {
namespace {

/// x = (negative ? -1 : 1) * mantissa * 2^exponent, mantissa < 2^53 (x finite, nonzero).
struct Parts {
  bool negative;
  std::uint64_t mantissa;
  int exponent;
};

/// The odd mantissa form: trailing zeros moved into the exponent, so that a float32 value has a
/// mantissa below 2^24 and its square fits in 64 bits (the fast path of add_magnitude).
Parts split(double x) {
  const auto bits = std::bit_cast<std::uint64_t>(x);
  const int biased = static_cast<int>((bits >> 52) & 0x7ff);
  const std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  Parts p{(bits >> 63) != 0, fraction, -1074};  // subnormal
  if (biased != 0) p = {(bits >> 63) != 0, fraction | (std::uint64_t{1} << 52), biased - 1075};
  const int tz = std::countr_zero(p.mantissa);  // x != 0, so the mantissa is nonzero
  return {p.negative, p.mantissa >> tz, p.exponent + tz};
}


}  // namespace

void ExactSum::clear() {
  // Slots outside [lo_, hi_] are zero (the constructor zeroes them all; normalize keeps it so).
  for (int i = lo_; i <= hi_; ++i) digit_[i] = 0;
  lo_ = kDigits;
  hi_ = -1;
  pending_ = 0;
  nonfinite_ = 0;
}

void ExactSum::add_magnitude(bool negative, U128 mag, int exponent) {
  if (static_cast<std::uint64_t>(mag >> 64) == 0) return add_magnitude(negative, static_cast<std::uint64_t>(mag), exponent);
  const int pos = exponent - kMinExp;
  NC_CHECK(pos >= 0 && pos / 32 + 5 < kDigits, "ExactSum term out of range");
  const int k = pos >> 5, r = pos & 31;
  // The term shifted into place spans up to 160 bits: four chunks from the low 128, one from the
  // top; each goes into its slot with the term's sign (branch-free: chunks of zero add nothing).
  const U128 low = mag << r;
  const std::uint64_t top = r == 0 ? 0 : static_cast<std::uint64_t>(mag >> (128 - r));
  const std::int64_t sign = negative ? -1 : 1;
  std::int64_t* slot = &digit_[k];
  slot[0] += sign * static_cast<std::int64_t>(static_cast<std::uint64_t>(low) & 0xffffffffu);
  slot[1] += sign * static_cast<std::int64_t>(static_cast<std::uint64_t>(low >> 32) & 0xffffffffu);
  slot[2] += sign * static_cast<std::int64_t>(static_cast<std::uint64_t>(low >> 64) & 0xffffffffu);
  slot[3] += sign * static_cast<std::int64_t>(static_cast<std::uint64_t>(low >> 96) & 0xffffffffu);
  slot[4] += sign * static_cast<std::int64_t>(top);
  if (k < lo_) lo_ = k;
  if (k + 4 > hi_) hi_ = k + 4;
  if (++pending_ >= kNormalizeEvery) normalize();
}

void ExactSum::add(double x) {
  if (!std::isfinite(x)) {
    nonfinite_ |= std::isnan(x) ? 4 : (x > 0 ? 1 : 2);
    return;
  }
  if (x == 0) return;
  const Parts p = split(x);
  add_magnitude(p.negative, std::uint64_t{p.mantissa}, p.exponent);
}

void ExactSum::add_with_square(double x, ExactSum& squares) {
  if (!std::isfinite(x)) {
    add(x);
    squares.add(x * x);
    return;
  }
  if (x == 0) return;
  const Parts p = split(x);
  add_magnitude(p.negative, std::uint64_t{p.mantissa}, p.exponent);
  if (p.mantissa < (std::uint64_t{1} << 32)) {  // float32 and narrower data: the square fits 64 bits
    squares.add_magnitude(false, p.mantissa * p.mantissa, 2 * p.exponent);
  } else {
    squares.add_magnitude(false, static_cast<U128>(p.mantissa) * p.mantissa, 2 * p.exponent);
  }
}

void ExactSum::add_product(double a, double b) {
  if (!std::isfinite(a) || !std::isfinite(b)) return add(a * b);  // inf, or NaN for inf * 0
  if (a == 0 || b == 0) return;
  const Parts pa = split(a), pb = split(b);
  const U128 m = static_cast<U128>(pa.mantissa) * pb.mantissa;  // < 2^106
  add_magnitude(pa.negative != pb.negative, m, pa.exponent + pb.exponent);
}

void ExactSum::add_product(double a, double b, double c) {
  if (!std::isfinite(a) || !std::isfinite(b) || !std::isfinite(c)) return add(a * b * c);
  if (a == 0 || b == 0 || c == 0) return;
  const Parts pa = split(a), pb = split(b), pc = split(c);
  const bool negative = (pa.negative != pb.negative) != pc.negative;
  const int e = pa.exponent + pb.exponent + pc.exponent;
  // (Ma*Mb) * Mc = (hi * 2^64 + lo) * Mc, each partial product below 2^117.
  const U128 ab = static_cast<U128>(pa.mantissa) * pb.mantissa;
  const auto ab_lo = static_cast<std::uint64_t>(ab), ab_hi = static_cast<std::uint64_t>(ab >> 64);
  add_magnitude(negative, static_cast<U128>(ab_lo) * pc.mantissa, e);
  add_magnitude(negative, static_cast<U128>(ab_hi) * pc.mantissa, e + 64);
}

void ExactSum::add(const ExactSum& other) {
  nonfinite_ |= other.nonfinite_;
  if (other.hi_ < other.lo_) return;
  normalize();
  const ExactSum& copy = other;
  copy.normalize();
  for (int i = copy.lo_; i <= copy.hi_; ++i) digit_[i] += copy.digit_[i];
  if (copy.lo_ < lo_) lo_ = copy.lo_;
  if (copy.hi_ > hi_) hi_ = copy.hi_;
  pending_ = 2;
  normalize();
}

void ExactSum::normalize() const {
  pending_ = 0;
  if (hi_ < lo_) return;
  // Carries move up; the top slot keeps the sign, so extend the range by two slots of headroom.
  const int top = std::min(hi_ + 2, kDigits - 1);
  for (int i = lo_; i < top; ++i) {
    const std::int64_t carry = digit_[i] >> 32;  // arithmetic shift: floor division by 2^32
    digit_[i] -= carry * (std::int64_t{1} << 32);
    digit_[i + 1] += carry;
  }
  hi_ = top;
  while (hi_ >= lo_ && digit_[hi_] == 0) --hi_;
  while (lo_ <= hi_ && digit_[lo_] == 0) ++lo_;
  if (hi_ < lo_) {
    lo_ = kDigits;
    hi_ = -1;
  }
}

double ExactSum::nonfinite_value() const {
  if ((nonfinite_ & 4) || nonfinite_ == 3) return std::numeric_limits<double>::quiet_NaN();
  if (nonfinite_ == 1) return std::numeric_limits<double>::infinity();
  if (nonfinite_ == 2) return -std::numeric_limits<double>::infinity();
  return 0;
}

bool ExactSum::is_zero() const {
  normalize();
  return hi_ < lo_;
}

Dyadic ExactSum::value() const {
  NC_CHECK(is_finite(), "ExactSum::value of a non-finite sum");
  normalize();
  const ExactSum& copy = *this;
  Dyadic d;
  if (copy.hi_ < copy.lo_) return d;
  // Every slot below the top is a digit in [0, 2^32); the top one carries the sign.
  d.mantissa = copy.digit_[copy.hi_];
  for (int i = copy.hi_ - 1; i >= copy.lo_; --i) {
    d.mantissa <<= 32;
    d.mantissa += copy.digit_[i];
  }
  d.exponent = kMinExp + 32 * copy.lo_;
  const auto tz = static_cast<int>(boost::multiprecision::lsb(boost::multiprecision::abs(d.mantissa)));
  d.mantissa >>= tz;  // exact: the low tz bits are zero (for negative values too: magnitude shifts)
  d.exponent += tz;
  return d;
}

}  // namespace normcheck::reference
