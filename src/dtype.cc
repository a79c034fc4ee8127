#include "normcheck/dtype.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "normcheck/status.h"

namespace normcheck {
namespace {

// Double's layout: 1 sign bit, 11 exponent bits (bias 1023), 52 fraction bits.
constexpr int kDoubleFracBits = 52;
constexpr int kDoubleBias = 1023;
constexpr std::uint64_t kDoubleSignMask = std::uint64_t{1} << 63;
constexpr std::uint64_t kDoubleFracMask = (std::uint64_t{1} << kDoubleFracBits) - 1;
constexpr std::uint64_t kDoubleExpMask = std::uint64_t{0x7ff} << kDoubleFracBits;

/// A 16-bit IEEE-style format: 1 sign bit, exp_bits exponent bits, frac_bits fraction bits.
struct Format16 {
  int frac_bits;
  int bias;
  std::uint16_t exp_mask() const { return static_cast<std::uint16_t>(0x7fff & ~((1u << frac_bits) - 1)); }
  std::uint16_t quiet_bit() const { return static_cast<std::uint16_t>(1u << (frac_bits - 1)); }
  int emin() const { return 1 - bias; }
  int emax() const { return bias; }
};

constexpr Format16 kHalfFormat{10, 15};
constexpr Format16 kBFloat16Format{7, 127};

/// Rounds x to the format with a single RNE rounding on the double's integer significand.
std::uint16_t bits_from_double(const Format16& f, double x) {
  const auto bits = std::bit_cast<std::uint64_t>(x);
  const auto sign = static_cast<std::uint16_t>((bits & kDoubleSignMask) ? 0x8000 : 0);
  const std::uint64_t frac = bits & kDoubleFracMask;
  const int biased_exp = static_cast<int>((bits & kDoubleExpMask) >> kDoubleFracBits);

  if (biased_exp == 0x7ff) {
    if (frac == 0) return sign | f.exp_mask();  // infinity
    // NaN: keep the top payload bits and force quiet, so the result is never mistaken for inf.
    const auto payload = static_cast<std::uint16_t>(frac >> (kDoubleFracBits - f.frac_bits));
    return sign | f.exp_mask() | f.quiet_bit() | payload;
  }
  // Double subnormals (and zeros) are far below half the smallest 16-bit subnormal.
  if (biased_exp == 0) return sign;

  const int e = biased_exp - kDoubleBias;  // x = sig * 2^(e - 52), 2^52 <= sig < 2^53
  if (e > f.emax()) return sign | f.exp_mask();
  const std::uint64_t sig = frac | (std::uint64_t{1} << kDoubleFracBits);

  // Bits of sig below the target's last place; below emin the target's last place stays at
  // 2^(emin - frac_bits), so more bits go (gradual underflow).
  int shift = kDoubleFracBits - f.frac_bits;
  if (e < f.emin()) shift += f.emin() - e;
  // sig < 2^53 is then below a quarter of the smallest subnormal: rounds to zero.
  if (shift > 54) return sign;

  std::uint64_t kept = sig >> shift;
  const std::uint64_t rest = sig & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t half = std::uint64_t{1} << (shift - 1);
  if (rest > half || (rest == half && (kept & 1))) ++kept;

  if (e < f.emin()) {
    // Subnormal: the field is the significand itself; a carry to 2^frac_bits is min_normal.
    return sign | static_cast<std::uint16_t>(kept);
  }
  // Normal: kept includes the hidden bit, so adding it to (biased exponent - 1) lets a rounding
  // carry bump the exponent, up to the infinity pattern when max_finite rounds up.
  const auto biased = static_cast<std::uint64_t>(e + f.bias - 1);
  return sign | static_cast<std::uint16_t>((biased << f.frac_bits) + kept);
}

/// Builds the double's bits directly (exact: every 16-bit value is a double).
double double_from_bits(const Format16& f, std::uint16_t bits) {
  const std::uint64_t sign = (bits & 0x8000) ? kDoubleSignMask : 0;
  const std::uint64_t frac_mask = (std::uint64_t{1} << f.frac_bits) - 1;
  std::uint64_t frac = bits & frac_mask;
  const int field = (bits & 0x7fff) >> f.frac_bits;
  const int frac_shift = kDoubleFracBits - f.frac_bits;

  if (field == (f.exp_mask() >> f.frac_bits)) {
    if (frac == 0) return std::bit_cast<double>(sign | kDoubleExpMask);
    // NaN: payload moved to the top of the double's fraction, quiet bit set.
    return std::bit_cast<double>(sign | kDoubleExpMask | (frac << frac_shift) |
                                 (std::uint64_t{1} << (kDoubleFracBits - 1)));
  }
  int e = field - f.bias;
  if (field == 0) {
    if (frac == 0) return std::bit_cast<double>(sign);
    // Subnormal: normalize so the leading one becomes the hidden bit.
    const int lead = std::bit_width(frac) - 1;  // frac = 2^lead + ...
    e = f.emin() - (f.frac_bits - lead);
    frac = (frac << (f.frac_bits - lead)) & frac_mask;
  }
  const auto biased = static_cast<std::uint64_t>(e + kDoubleBias);
  return std::bit_cast<double>(sign | (biased << kDoubleFracBits) | (frac << frac_shift));
}

/// Sign-magnitude bits -> a monotone integer with +0 and -0 both 0.
std::int64_t signed_magnitude(std::uint64_t bits, int sign_bit) {
  const std::uint64_t sign_mask = std::uint64_t{1} << sign_bit;
  const auto magnitude = static_cast<std::int64_t>(bits & (sign_mask - 1));
  return (bits & sign_mask) ? -magnitude : magnitude;
}

}  // namespace

const DTypeInfo& info(DType t) {
  static constexpr DTypeInfo kFloat64Info{.name = "float64",
                                          .bytes = 8,
                                          .precision = 53,
                                          .emin = -1022,
                                          .emax = 1023,
                                          .max_finite = 0x1.fffffffffffffp1023,
                                          .min_normal = 0x1p-1022,
                                          .min_subnormal = 0x1p-1074,
                                          .epsilon = 0x1p-52};
  static constexpr DTypeInfo kFloat32Info{.name = "float32",
                                          .bytes = 4,
                                          .precision = 24,
                                          .emin = -126,
                                          .emax = 127,
                                          .max_finite = 0x1.fffffep127,
                                          .min_normal = 0x1p-126,
                                          .min_subnormal = 0x1p-149,
                                          .epsilon = 0x1p-23};
  static constexpr DTypeInfo kFloat16Info{.name = "float16",
                                          .bytes = 2,
                                          .precision = 11,
                                          .emin = -14,
                                          .emax = 15,
                                          .max_finite = 0x1.ffcp15,  // 65504
                                          .min_normal = 0x1p-14,
                                          .min_subnormal = 0x1p-24,
                                          .epsilon = 0x1p-10};
  static constexpr DTypeInfo kBFloat16Info{.name = "bfloat16",
                                           .bytes = 2,
                                           .precision = 8,
                                           .emin = -126,
                                           .emax = 127,
                                           .max_finite = 0x1.fep127,
                                           .min_normal = 0x1p-126,
                                           .min_subnormal = 0x1p-133,
                                           .epsilon = 0x1p-7};
  switch (t) {
    case DType::kFloat64:
      return kFloat64Info;
    case DType::kFloat32:
      return kFloat32Info;
    case DType::kFloat16:
      return kFloat16Info;
    case DType::kBFloat16:
      return kBFloat16Info;
  }
  NC_CHECK(false, "unknown DType " + std::to_string(static_cast<int>(t)));
}

std::optional<DType> parse_dtype(std::string_view s) {
  if (s == "float64" || s == "f64" || s == "double") return DType::kFloat64;
  if (s == "float32" || s == "f32" || s == "float") return DType::kFloat32;
  if (s == "float16" || s == "f16" || s == "half") return DType::kFloat16;
  if (s == "bfloat16" || s == "bf16") return DType::kBFloat16;
  return std::nullopt;
}

std::uint16_t half_bits_from_double(double x) { return bits_from_double(kHalfFormat, x); }
std::uint16_t bf16_bits_from_double(double x) { return bits_from_double(kBFloat16Format, x); }
double double_from_half_bits(std::uint16_t bits) { return double_from_bits(kHalfFormat, bits); }
double double_from_bf16_bits(std::uint16_t bits) { return double_from_bits(kBFloat16Format, bits); }

double round_to(DType t, double x) {
  switch (t) {
    case DType::kFloat64:
      return x;
    case DType::kFloat32:
      return static_cast<double>(static_cast<float>(x));  // RNE in SSE
    case DType::kFloat16:
      return double_from_half_bits(half_bits_from_double(x));
    case DType::kBFloat16:
      return double_from_bf16_bits(bf16_bits_from_double(x));
  }
  NC_CHECK(false, "unknown DType " + std::to_string(static_cast<int>(t)));
}

double load(DType t, const void* p) {
  switch (t) {
    case DType::kFloat64: {
      double v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case DType::kFloat32: {
      float v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      std::uint16_t bits;
      std::memcpy(&bits, p, sizeof bits);
      return t == DType::kFloat16 ? double_from_half_bits(bits) : double_from_bf16_bits(bits);
    }
  }
  NC_CHECK(false, "unknown DType " + std::to_string(static_cast<int>(t)));
}

void store(DType t, void* p, double x) {
  switch (t) {
    case DType::kFloat64:
      std::memcpy(p, &x, sizeof x);
      return;
    case DType::kFloat32: {
      const auto v = static_cast<float>(x);
      std::memcpy(p, &v, sizeof v);
      return;
    }
    case DType::kFloat16:
    case DType::kBFloat16: {
      const std::uint16_t bits = t == DType::kFloat16 ? half_bits_from_double(x) : bf16_bits_from_double(x);
      std::memcpy(p, &bits, sizeof bits);
      return;
    }
  }
  NC_CHECK(false, "unknown DType " + std::to_string(static_cast<int>(t)));
}

std::int64_t ordinal(DType t, double x) {
  // Sign-magnitude bit patterns are ordered by magnitude, and infinity's pattern is one past
  // max_finite's, so the magnitude bits are already the position on the line. (A NaN, outside the
  // precondition, lands past infinity.)
  switch (t) {
    case DType::kFloat64:
      return signed_magnitude(std::bit_cast<std::uint64_t>(x), 63);
    case DType::kFloat32:
      return signed_magnitude(std::bit_cast<std::uint32_t>(static_cast<float>(x)), 31);
    case DType::kFloat16:
      return signed_magnitude(half_bits_from_double(x), 15);
    case DType::kBFloat16:
      return signed_magnitude(bf16_bits_from_double(x), 15);
  }
  NC_CHECK(false, "unknown DType " + std::to_string(static_cast<int>(t)));
}

std::int64_t ulp_distance(DType t, double a, double b) {
  constexpr std::int64_t kFar = std::numeric_limits<std::int64_t>::max();
  const bool a_nan = std::isnan(a);
  const bool b_nan = std::isnan(b);
  if (a_nan && b_nan) return 0;
  if (a_nan || b_nan) return kFar;
  const std::int64_t oa = ordinal(t, a);
  const std::int64_t ob = ordinal(t, b);
  // float64 ordinals span about +-2^63, so the difference can exceed int64: saturate.
  std::int64_t d;
  if (__builtin_sub_overflow(oa, ob, &d)) return kFar;
  if (d == std::numeric_limits<std::int64_t>::min()) return kFar;
  return d < 0 ? -d : d;
}

double ulp(DType t, double x) {
  if (std::isnan(x)) return x;
  const DTypeInfo& i = info(t);
  const double ax = std::fabs(x);
  // ilogb is exact for every double, subnormals included; zero takes the subnormal spacing.
  const int e = ax >= i.max_finite ? i.emax : ax == 0 ? i.emin : std::ilogb(ax);
  return std::ldexp(1.0, std::max(e, i.emin) - i.precision + 1);
}

}  // namespace normcheck
