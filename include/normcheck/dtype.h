#pragma once
/// The four floating-point formats normcheck works in, with exact conversions and ULP distances.
///
/// Every value of every format is exactly representable as a double, so the vocabulary moves
/// values around as doubles and rounds ONCE, correctly (round to nearest, ties to even, with
/// subnormals, overflow to inf, NaN preserved), when it stores into a narrower format.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace normcheck {

enum class DType : std::uint8_t { kFloat64, kFloat32, kFloat16, kBFloat16 };

inline constexpr DType kAllDTypes[] = {DType::kFloat64, DType::kFloat32, DType::kFloat16, DType::kBFloat16};

/// The format's parameters: p significand bits (with the hidden bit), the exponent of the smallest
/// normal (emin) and of the largest finite value (emax), as in IEEE 754 (x = m * 2^(e-p+1)).
struct DTypeInfo {
  std::string_view name;  ///< "float64", "float32", "float16", "bfloat16" (DLPack / NumPy spelling)
  int bytes;
  int precision;  ///< p: 53, 24, 11, 8
  int emin;       ///< -1022, -126, -14, -126
  int emax;       ///< 1023, 127, 15, 127
  double max_finite;
  double min_normal;
  double min_subnormal;
  double epsilon;  ///< 2^(1-p): the distance from 1 to the next larger value
};

const DTypeInfo& info(DType t);
inline std::string_view name(DType t) { return info(t).name; }
inline std::size_t size_of(DType t) { return static_cast<std::size_t>(info(t).bytes); }
/// Parses "float64|float32|float16|bfloat16" (also "f64", "f32", "f16", "bf16", "double", "float", "half").
std::optional<DType> parse_dtype(std::string_view s);

/// IEEE binary16 and bfloat16 as bit patterns (storage types; arithmetic happens in double/float).
struct Half {
  std::uint16_t bits;
};
struct BFloat16 {
  std::uint16_t bits;
};

/// Correctly rounded (RNE) conversions from double: one rounding, never via float for the 16-bit
/// types (double rounding through float is wrong for some inputs).
std::uint16_t half_bits_from_double(double x);
std::uint16_t bf16_bits_from_double(double x);
double double_from_half_bits(std::uint16_t bits);
double double_from_bf16_bits(std::uint16_t bits);

/// x rounded to the nearest value of format t (RNE), returned as the double that equals it.
double round_to(DType t, double x);

/// Reads / writes one element of format t at p.
double load(DType t, const void* p);
void store(DType t, void* p, double x);

/// The position of x on the ordered line of format t's values: consecutive representable values
/// (of t) get consecutive integers, +0 and -0 both map to 0, and ordering is preserved.
/// Precondition: x is representable in t (round first) and not NaN.
std::int64_t ordinal(DType t, double x);

/// Distance in units in the last place of format t between a and b, each first rounded to t:
/// |ordinal(a) - ordinal(b)|. Both NaN: 0. Exactly one NaN: INT64_MAX. Infinities are the values
/// one past max_finite, so inf vs max_finite is 1 ULP.
std::int64_t ulp_distance(DType t, double a, double b);

/// The spacing of format t's values at x: 2^(max(e, emin) - p + 1) where 2^e <= |x| < 2^(e+1).
/// For |x| >= max_finite it is the spacing at max_finite. For NaN, NaN.
double ulp(DType t, double x);

}  // namespace normcheck
