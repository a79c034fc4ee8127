#include "normcheck/dtype.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <string>

namespace normcheck {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kFar = std::numeric_limits<std::int64_t>::max();

/// Same double, bit for bit (so -0 != +0 and any NaN equals only itself).
bool same_bits(double a, double b) {
  return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

// ---------------------------------------------------------------------------------------------
// The two 16-bit formats, tested exhaustively over all 65536 patterns.

struct Format16 {
  std::string name;
  DType dtype;
  int frac_bits;
  int bias;
  std::uint16_t (*encode)(double);
  double (*decode)(std::uint16_t);

  int exp_bits() const { return 15 - frac_bits; }
  std::uint16_t inf_bits() const { return static_cast<std::uint16_t>(((1u << exp_bits()) - 1) << frac_bits); }
  std::uint16_t max_finite_bits() const { return static_cast<std::uint16_t>(inf_bits() - 1); }
};

void PrintTo(const Format16& f, std::ostream* os) { *os << f.name; }

const Format16 kHalf{"float16", DType::kFloat16, 10, 15, half_bits_from_double, double_from_half_bits};
const Format16 kBF16{"bfloat16", DType::kBFloat16, 7, 127, bf16_bits_from_double, double_from_bf16_bits};

/// The independent oracle: the textbook value (-1)^s * 2^(e - bias) * 1.m, or 2^(1 - bias) * 0.m.
double oracle_value(const Format16& f, std::uint16_t bits) {
  const bool negative = bits & 0x8000;
  const int field = (bits >> f.frac_bits) & ((1 << f.exp_bits()) - 1);
  const int frac = bits & ((1 << f.frac_bits) - 1);
  double magnitude;
  if (field == (1 << f.exp_bits()) - 1) {
    magnitude = frac == 0 ? kInf : kNaN;
  } else if (field == 0) {
    magnitude = std::ldexp(static_cast<double>(frac), 1 - f.bias - f.frac_bits);
  } else {
    magnitude = std::ldexp(static_cast<double>((1 << f.frac_bits) | frac), field - f.bias - f.frac_bits);
  }
  return negative ? -magnitude : magnitude;
}

class Format16Test : public ::testing::TestWithParam<Format16> {};

TEST_P(Format16Test, DecodeMatchesLdexpOracleForEveryPattern) {
  const Format16& f = GetParam();
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const double got = f.decode(bits);
    const double want = oracle_value(f, bits);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got)) << "bits 0x" << std::hex << b;
      ASSERT_EQ(std::signbit(got), std::signbit(want)) << "bits 0x" << std::hex << b;
      continue;
    }
    ASSERT_TRUE(same_bits(got, want)) << "bits 0x" << std::hex << b << ": " << got << " vs " << want;
  }
}

TEST_P(Format16Test, EncodeOfDecodeIsTheSamePatternAndNaNStaysNaN) {
  const Format16& f = GetParam();
  for (std::uint32_t b = 0; b <= 0xffff; ++b) {
    const auto bits = static_cast<std::uint16_t>(b);
    const double v = f.decode(bits);
    const std::uint16_t back = f.encode(v);
    if (std::isnan(v)) {
      ASSERT_TRUE(std::isnan(f.decode(back))) << "bits 0x" << std::hex << b;
      ASSERT_EQ(back & 0x8000, bits & 0x8000) << "NaN sign, bits 0x" << std::hex << b;
      continue;
    }
    ASSERT_EQ(back, bits) << "bits 0x" << std::hex << b;
  }
}

/// Checks one pair of neighbours lo < hi (patterns b, b+1 of the same sign, hi may be infinity,
/// standing for max_finite + one ulp): the midpoint ties to the even pattern, one double either
/// side of it goes to the nearer neighbour.
void expect_ties_to_even(const Format16& f, std::uint16_t b, double lo, double hi_value_for_midpoint) {
  const double mid = (lo + hi_value_for_midpoint) / 2;  // exact: few significant bits, no underflow
  const auto hi_bits = static_cast<std::uint16_t>(b + 1);
  const std::uint16_t even = (b & 1) == 0 ? b : hi_bits;
  ASSERT_EQ(f.encode(mid), even) << "midpoint " << mid << " of pattern 0x" << std::hex << b;
  ASSERT_EQ(f.encode(std::nextafter(mid, 0.0)), b) << "just below midpoint " << mid;
  ASSERT_EQ(f.encode(std::nextafter(mid, kInf)), hi_bits) << "just above midpoint " << mid;
  // And mirrored on the negative side.
  ASSERT_EQ(f.encode(-mid), even | 0x8000) << "midpoint " << -mid;
  ASSERT_EQ(f.encode(-std::nextafter(mid, 0.0)), b | 0x8000);
  ASSERT_EQ(f.encode(-std::nextafter(mid, kInf)), hi_bits | 0x8000);
}

TEST_P(Format16Test, MidpointsOfEveryAdjacentPairTieToEven) {
  const Format16& f = GetParam();
  for (std::uint16_t b = 0; b < f.max_finite_bits(); ++b) {
    expect_ties_to_even(f, b, f.decode(b), f.decode(static_cast<std::uint16_t>(b + 1)));
  }
  // The last pair: max_finite and the first value past it (max_finite + one ulp), i.e. infinity.
  const double max_finite = f.decode(f.max_finite_bits());
  expect_ties_to_even(f, f.max_finite_bits(), max_finite, max_finite + ulp(f.dtype, max_finite));
}

TEST_P(Format16Test, RoundingIsMonotoneAndGoesToANeighbour) {
  const Format16& f = GetParam();
  std::int64_t previous = 0;
  for (std::uint16_t b = 0; b < f.max_finite_bits(); ++b) {
    const double lo = f.decode(b);
    const double hi = f.decode(static_cast<std::uint16_t>(b + 1));
    for (int k = 0; k <= 16; ++k) {
      const double x = lo + (hi - lo) * k / 16;  // exact: (hi - lo) is one ulp of lo's binade
      const std::uint16_t r = f.encode(x);
      ASSERT_TRUE(r == b || r == b + 1) << "x=" << x << " between patterns 0x" << std::hex << b;
      ASSERT_GE(static_cast<std::int64_t>(r), previous) << "x=" << x;
      if (k < 8) {
        ASSERT_EQ(r, b) << "x=" << x << " is nearer the lower neighbour";
      }
      if (k > 8) {
        ASSERT_EQ(r, b + 1) << "x=" << x << " is nearer the upper neighbour";
      }
      ASSERT_EQ(f.encode(-x), r | 0x8000) << "rounding is symmetric in the sign, x=" << x;
      previous = r;
    }
  }
}

TEST_P(Format16Test, OverflowGoesToInfinityAtTheHalfUlpPastMaxFinite) {
  const Format16& f = GetParam();
  const double max_finite = info(f.dtype).max_finite;
  const double half_ulp = ulp(f.dtype, max_finite) / 2;
  EXPECT_EQ(f.encode(max_finite), f.max_finite_bits());
  EXPECT_EQ(f.encode(max_finite + half_ulp), f.inf_bits());  // the tie goes to even: infinity
  EXPECT_EQ(f.encode(std::nextafter(max_finite + half_ulp, 0.0)), f.max_finite_bits());
  EXPECT_EQ(f.encode(-(max_finite + half_ulp)), f.inf_bits() | 0x8000);
  EXPECT_EQ(f.encode(1e300), f.inf_bits());
  EXPECT_EQ(f.encode(std::numeric_limits<double>::max()), f.inf_bits());
  EXPECT_EQ(f.encode(kInf), f.inf_bits());
  EXPECT_EQ(f.encode(-kInf), f.inf_bits() | 0x8000);
}

TEST_P(Format16Test, UnderflowKeepsTheSignOfZero) {
  const Format16& f = GetParam();
  const double min_subnormal = info(f.dtype).min_subnormal;
  EXPECT_EQ(f.encode(0.0), 0x0000);
  EXPECT_EQ(f.encode(-0.0), 0x8000);
  EXPECT_EQ(f.encode(min_subnormal / 2), 0x0000);  // tie between 0 and the smallest: even is 0
  EXPECT_EQ(f.encode(-min_subnormal / 2), 0x8000);
  EXPECT_EQ(f.encode(min_subnormal / 4), 0x0000);
  EXPECT_EQ(f.encode(std::numeric_limits<double>::denorm_min()), 0x0000);
  EXPECT_EQ(f.encode(-std::numeric_limits<double>::denorm_min()), 0x8000);
  EXPECT_EQ(f.encode(std::numeric_limits<double>::min()), 0x0000);
  EXPECT_EQ(f.encode(1.5 * min_subnormal), 0x0002);  // tie between 1 and 2: even is 2
}

TEST_P(Format16Test, NaNIsQuietAndKeepsItsSign) {
  const Format16& f = GetParam();
  const std::uint16_t quiet = static_cast<std::uint16_t>(1u << (f.frac_bits - 1));
  for (const double nan : {kNaN, -kNaN, std::numeric_limits<double>::signaling_NaN(),
                           std::bit_cast<double>(std::uint64_t{0x7ff0000000000001})}) {
    const std::uint16_t bits = f.encode(nan);
    EXPECT_EQ(bits & f.inf_bits(), f.inf_bits()) << "exponent all ones";
    EXPECT_NE(bits & quiet, 0) << "quiet bit set";
    EXPECT_EQ((bits & 0x8000) != 0, std::signbit(nan));
    EXPECT_TRUE(std::isnan(f.decode(bits)));
    EXPECT_EQ(std::signbit(f.decode(bits)), std::signbit(nan));
    EXPECT_TRUE(std::isnan(round_to(f.dtype, nan)));
  }
}

TEST_P(Format16Test, OrdinalCountsPatternsAndIsAntisymmetric) {
  const Format16& f = GetParam();
  EXPECT_EQ(ordinal(f.dtype, 0.0), 0);
  EXPECT_EQ(ordinal(f.dtype, -0.0), 0);
  // Consecutive patterns from +0 up to infinity are consecutive integers.
  for (std::uint16_t b = 1; b <= f.inf_bits(); ++b) {
    const double v = f.decode(b);
    const std::int64_t o = ordinal(f.dtype, v);
    ASSERT_EQ(o, ordinal(f.dtype, f.decode(static_cast<std::uint16_t>(b - 1))) + 1)
        << "pattern 0x" << std::hex << b;
    ASSERT_EQ(ordinal(f.dtype, -v), -o) << "pattern 0x" << std::hex << b;
  }
  EXPECT_EQ(ordinal(f.dtype, kInf), ordinal(f.dtype, info(f.dtype).max_finite) + 1);
}

TEST_P(Format16Test, UlpIsTheGapToTheNextValue) {
  const Format16& f = GetParam();
  for (std::uint16_t b = 0; b < f.max_finite_bits(); ++b) {
    const double v = f.decode(b);
    const double gap = f.decode(static_cast<std::uint16_t>(b + 1)) - v;
    ASSERT_EQ(ulp(f.dtype, v), gap) << "value " << v;
    ASSERT_EQ(ulp(f.dtype, -v), gap) << "value " << -v;
  }
}

TEST_P(Format16Test, RoundToLoadAndStoreAgreeWithTheBitConversions) {
  const Format16& f = GetParam();
  for (const double x : {1.0 / 3, -2.0 / 3, 1e-6, 12345.678, -0.0, 1e-40, 7e4}) {
    const std::uint16_t bits = f.encode(x);
    EXPECT_TRUE(same_bits(round_to(f.dtype, x), f.decode(bits))) << x;
    std::uint16_t stored = 0;
    store(f.dtype, &stored, x);
    EXPECT_EQ(stored, bits) << x;
    EXPECT_TRUE(same_bits(load(f.dtype, &stored), f.decode(bits))) << x;
  }
}

INSTANTIATE_TEST_SUITE_P(Dtype, Format16Test, ::testing::Values(kHalf, kBF16),
                         [](const ::testing::TestParamInfo<Format16>& p) { return p.param.name; });

// ---------------------------------------------------------------------------------------------
// One rounding, directly from double.

/// What a float -> bfloat16 RNE conversion does (the usual (bits + 0x7fff + lsb) >> 16 trick).
std::uint16_t bf16_bits_via_float(double x) {
  const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(x));
  return static_cast<std::uint16_t>((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
}

TEST(Dtype, BFloat16RoundsOnceNotThroughFloat) {
  // Just above the midpoint of 1 and 1 + 2^-7: float drops the 2^-30 and lands on the midpoint,
  // which then ties to the even 1.0; the correctly rounded answer is the upper neighbour.
  const double above = 1.0 + 0x1p-8 + 0x1p-30;
  ASSERT_EQ(static_cast<float>(above), 1.0f + 0x1p-8f);
  EXPECT_EQ(bf16_bits_via_float(above), 0x3f80);
  EXPECT_EQ(bf16_bits_from_double(above), 0x3f81);
  EXPECT_EQ(round_to(DType::kBFloat16, above), 1.0 + 0x1p-7);

  // Just below the midpoint of 1 + 2^-7 (odd) and 1 + 2^-6: float rounds up onto the midpoint,
  // which ties to the even upper value; the correct answer is the lower one.
  const double below = 1.0 + 0x1p-7 + 0x1p-8 - 0x1p-30;
  ASSERT_EQ(static_cast<float>(below), 1.0f + 0x1p-7f + 0x1p-8f);
  EXPECT_EQ(bf16_bits_via_float(below), 0x3f82);
  EXPECT_EQ(bf16_bits_from_double(below), 0x3f81);
}

TEST(Dtype, HalfRoundsOnceNotThroughFloat) {
  const double above = 1.0 + 0x1p-11 + 0x1p-40;  // float lands on the midpoint of 1 and 1 + 2^-10
  const double via_float = static_cast<float>(above);
  ASSERT_EQ(via_float, 1.0 + 0x1p-11);
  EXPECT_EQ(half_bits_from_double(via_float), 0x3c00);
  EXPECT_EQ(half_bits_from_double(above), 0x3c01);
  // The same in the subnormal range: above the midpoint of 0 and 2^-24.
  const double tiny = 0x1p-25 + 0x1p-60;
  ASSERT_EQ(static_cast<double>(static_cast<float>(tiny)), 0x1p-25);
  EXPECT_EQ(half_bits_from_double(static_cast<float>(tiny)), 0x0000);
  EXPECT_EQ(half_bits_from_double(tiny), 0x0001);
}

// ---------------------------------------------------------------------------------------------
// float32 and float64.

TEST(Dtype, Float32RoundsToNearestEven) {
  const DType t = DType::kFloat32;
  const double max = std::numeric_limits<float>::max();
  const double min_sub = std::numeric_limits<float>::denorm_min();
  EXPECT_EQ(round_to(t, 1.0 + 0x1p-24), 1.0);                // tie, 1.0 is even
  EXPECT_EQ(round_to(t, 1.0 + 3 * 0x1p-24), 1.0 + 0x1p-22);  // tie, upper is even
  EXPECT_EQ(round_to(t, std::nextafter(1.0 + 0x1p-24, 2.0)), 1.0 + 0x1p-23);
  EXPECT_EQ(round_to(t, max), max);
  EXPECT_EQ(round_to(t, max + 0x1p103), kInf);  // half ulp past max
  EXPECT_EQ(round_to(t, std::nextafter(max + 0x1p103, 0.0)), max);
  EXPECT_EQ(round_to(t, -(max + 0x1p103)), -kInf);
  EXPECT_EQ(round_to(t, min_sub / 2), 0.0);  // tie, 0 is even
  EXPECT_TRUE(std::signbit(round_to(t, -min_sub / 2)));
  EXPECT_EQ(round_to(t, std::nextafter(min_sub / 2, 1.0)), min_sub);
  EXPECT_EQ(round_to(t, 3 * min_sub / 2), 2 * min_sub);   // tie, 2 is even
  EXPECT_EQ(round_to(t, 0x1p-140 + 0x1p-150), 0x1p-140);  // subnormal spacing 2^-149
  EXPECT_TRUE(std::isnan(round_to(t, kNaN)));
  EXPECT_TRUE(std::signbit(round_to(t, -0.0)));
}

TEST(Dtype, Float64IsTheIdentity) {
  for (const double x : {0.1, -0.0, std::numeric_limits<double>::denorm_min(),
                         std::numeric_limits<double>::max(), -kInf, kNaN}) {
    EXPECT_TRUE(same_bits(round_to(DType::kFloat64, x), x)) << x;
    double stored = 0;
    store(DType::kFloat64, &stored, x);
    EXPECT_TRUE(same_bits(load(DType::kFloat64, &stored), x)) << x;
  }
  float f = 0;
  store(DType::kFloat32, &f, 1.0 / 3);
  EXPECT_EQ(f, 1.0f / 3);
  EXPECT_EQ(load(DType::kFloat32, &f), static_cast<double>(1.0f / 3));
}

template <class T>
void expect_info_matches_limits(DType t) {
  using L = std::numeric_limits<T>;
  const DTypeInfo& i = info(t);
  EXPECT_EQ(i.bytes, static_cast<int>(sizeof(T)));
  EXPECT_EQ(i.precision, L::digits);
  EXPECT_EQ(i.emin, L::min_exponent - 1);  // numeric_limits counts exponents for 0.1xxx
  EXPECT_EQ(i.emax, L::max_exponent - 1);
  EXPECT_EQ(i.max_finite, static_cast<double>(L::max()));
  EXPECT_EQ(i.min_normal, static_cast<double>(L::min()));
  EXPECT_EQ(i.min_subnormal, static_cast<double>(L::denorm_min()));
  EXPECT_EQ(i.epsilon, static_cast<double>(L::epsilon()));
}

TEST(Dtype, InfoOfFloat64AndFloat32MatchesNumericLimits) {
  expect_info_matches_limits<double>(DType::kFloat64);
  expect_info_matches_limits<float>(DType::kFloat32);
}

TEST(Dtype, InfoOf16BitFormatsMatchesTheirBitPatterns) {
  for (const Format16& f : {kHalf, kBF16}) {
    const DTypeInfo& i = info(f.dtype);
    const double one = f.decode(f.encode(1.0));
    EXPECT_EQ(i.name, f.name);
    EXPECT_EQ(i.bytes, 2);
    EXPECT_EQ(i.precision, f.frac_bits + 1);
    EXPECT_EQ(i.emin, 1 - f.bias);
    EXPECT_EQ(i.emax, f.bias);
    EXPECT_EQ(i.max_finite, f.decode(f.max_finite_bits()));
    EXPECT_EQ(i.min_normal, f.decode(static_cast<std::uint16_t>(1u << f.frac_bits)));
    EXPECT_EQ(i.min_subnormal, f.decode(0x0001));
    EXPECT_EQ(i.epsilon, f.decode(static_cast<std::uint16_t>(f.encode(1.0) + 1)) - one);
  }
  EXPECT_EQ(info(DType::kFloat16).max_finite, 65504.0);
  EXPECT_EQ(info(DType::kBFloat16).max_finite, 0x1.fep127);
}

TEST(Dtype, NamesAndSizes) {
  EXPECT_EQ(name(DType::kFloat64), "float64");
  EXPECT_EQ(name(DType::kFloat32), "float32");
  EXPECT_EQ(name(DType::kFloat16), "float16");
  EXPECT_EQ(name(DType::kBFloat16), "bfloat16");
  EXPECT_EQ(size_of(DType::kFloat64), 8u);
  EXPECT_EQ(size_of(DType::kFloat32), 4u);
  EXPECT_EQ(size_of(DType::kFloat16), 2u);
  EXPECT_EQ(size_of(DType::kBFloat16), 2u);
}

TEST(Dtype, ParseAcceptsEveryDocumentedSpelling) {
  for (const DType t : kAllDTypes) EXPECT_EQ(parse_dtype(name(t)), t);
  EXPECT_EQ(parse_dtype("f64"), DType::kFloat64);
  EXPECT_EQ(parse_dtype("double"), DType::kFloat64);
  EXPECT_EQ(parse_dtype("f32"), DType::kFloat32);
  EXPECT_EQ(parse_dtype("float"), DType::kFloat32);
  EXPECT_EQ(parse_dtype("f16"), DType::kFloat16);
  EXPECT_EQ(parse_dtype("half"), DType::kFloat16);
  EXPECT_EQ(parse_dtype("bf16"), DType::kBFloat16);
}

TEST(Dtype, ParseRejectsEverythingElse) {
  for (const char* s : {"", "Float32", "fp32", "int8", "float8", "bfloat", " float32", "float32 ", "b16"}) {
    EXPECT_EQ(parse_dtype(s), std::nullopt) << '"' << s << '"';
  }
}

// ---------------------------------------------------------------------------------------------
// ordinal, ulp_distance, ulp for all four formats.

TEST(Dtype, OrdinalIsMonotoneAndAntisymmetricOnSamples) {
  for (const DType t : kAllDTypes) {
    const DTypeInfo& i = info(t);
    const double samples[] = {
        0.0, i.min_subnormal, 2 * i.min_subnormal, i.min_normal, 1.0, 1.0 + i.epsilon, 2.0, i.max_finite,
        kInf};
    for (std::size_t k = 0; k + 1 < std::size(samples); ++k) {
      EXPECT_LT(ordinal(t, samples[k]), ordinal(t, samples[k + 1])) << name(t) << " at " << samples[k];
      EXPECT_EQ(ordinal(t, -samples[k + 1]), -ordinal(t, samples[k + 1])) << name(t);
    }
    EXPECT_EQ(ordinal(t, -0.0), 0) << name(t);
    EXPECT_EQ(ordinal(t, i.min_subnormal), 1) << name(t);
    EXPECT_EQ(ordinal(t, 1.0 + i.epsilon), ordinal(t, 1.0) + 1) << name(t);
    EXPECT_EQ(ordinal(t, kInf), ordinal(t, i.max_finite) + 1) << name(t);
    // min_normal comes after the 2^(p-1) - 1 positive subnormals.
    EXPECT_EQ(ordinal(t, i.min_normal), std::int64_t{1} << (i.precision - 1)) << name(t);
  }
}

TEST(Dtype, UlpDistanceCountsRepresentableSteps) {
  for (const DType t : kAllDTypes) {
    const DTypeInfo& i = info(t);
    SCOPED_TRACE(std::string(name(t)));
    EXPECT_EQ(ulp_distance(t, 1.0, 1.0 + i.epsilon), 1);
    EXPECT_EQ(ulp_distance(t, 1.0 + i.epsilon, 1.0), 1);
    EXPECT_EQ(ulp_distance(t, 1.0, 1.0 - i.epsilon / 2), 1);  // the binade below is twice as dense
    EXPECT_EQ(ulp_distance(t, 1.0, 1.0), 0);
    EXPECT_EQ(ulp_distance(t, -0.0, 0.0), 0);
    EXPECT_EQ(ulp_distance(t, -i.min_subnormal, i.min_subnormal), 2);
    EXPECT_EQ(ulp_distance(t, i.max_finite, kInf), 1);
    EXPECT_EQ(ulp_distance(t, -kInf, -i.max_finite), 1);
    EXPECT_EQ(ulp_distance(t, kNaN, kNaN), 0);
    EXPECT_EQ(ulp_distance(t, kNaN, -kNaN), 0);
    EXPECT_EQ(ulp_distance(t, kNaN, 1.0), kFar);
    EXPECT_EQ(ulp_distance(t, 0.0, kNaN), kFar);
    EXPECT_EQ(ulp_distance(t, kInf, kNaN), kFar);
  }
  EXPECT_EQ(ulp_distance(DType::kFloat64, 1.0, std::nextafter(1.0, 2.0)), 1);
  EXPECT_EQ(ulp_distance(DType::kFloat64, 1.0, std::nextafter(1.0, 0.0)), 1);
  EXPECT_EQ(ulp_distance(DType::kFloat32, 1.0, std::nextafter(1.0f, 2.0f)), 1);
  EXPECT_EQ(ulp_distance(DType::kFloat32, -1.0, std::nextafter(-1.0f, 0.0f)), 1);
  // Each side is rounded first: these land on the same value.
  EXPECT_EQ(ulp_distance(DType::kFloat16, 1.0, 1.0 + 0x1p-12), 0);
  EXPECT_EQ(ulp_distance(DType::kFloat32, 1.0, 1.0 + 0x1p-30), 0);
  EXPECT_EQ(ulp_distance(DType::kBFloat16, 1.0, 1.0 + 0x1p-9), 0);
  // Whole-line distances: float16 has 0x7c00 steps from 0 to inf on each side.
  EXPECT_EQ(ulp_distance(DType::kFloat16, -kInf, kInf), 2 * 0x7c00);
  EXPECT_EQ(ulp_distance(DType::kFloat32, -kInf, kInf), std::int64_t{2} * 0x7f800000);
  // float64's line is longer than int64 can count: saturates.
  EXPECT_EQ(ulp_distance(DType::kFloat64, -kInf, kInf), kFar);
  EXPECT_EQ(ulp_distance(DType::kFloat64, -1.0, 1.0), std::int64_t{2} * 0x3ff0000000000000);
}

TEST(Dtype, UlpIsTheSpacingAtX) {
  EXPECT_EQ(ulp(DType::kFloat64, 1.0), std::numeric_limits<double>::epsilon());
  EXPECT_EQ(ulp(DType::kFloat64, std::numeric_limits<double>::denorm_min()),
            std::numeric_limits<double>::denorm_min());
  EXPECT_EQ(ulp(DType::kFloat64, kInf), 0x1p971);
  EXPECT_EQ(ulp(DType::kFloat32, 1.0), std::numeric_limits<float>::epsilon());
  EXPECT_EQ(ulp(DType::kFloat32, 0.0), std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(ulp(DType::kFloat32, 1e-40), std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(ulp(DType::kFloat32, 1e39), 0x1p104);
  EXPECT_EQ(ulp(DType::kFloat16, 1.0), 0x1p-10);
  EXPECT_EQ(ulp(DType::kFloat16, -1.5), 0x1p-10);
  EXPECT_EQ(ulp(DType::kFloat16, 2.0), 0x1p-9);
  EXPECT_EQ(ulp(DType::kFloat16, 0.0), 0x1p-24);
  EXPECT_EQ(ulp(DType::kFloat16, 0x1p-20), 0x1p-24);
  EXPECT_EQ(ulp(DType::kFloat16, 65504.0), 32.0);
  EXPECT_EQ(ulp(DType::kFloat16, 1e9), 32.0);
  EXPECT_EQ(ulp(DType::kFloat16, -kInf), 32.0);
  EXPECT_EQ(ulp(DType::kBFloat16, 1.0), 0x1p-7);
  EXPECT_EQ(ulp(DType::kBFloat16, 3.0), 0x1p-6);
  EXPECT_EQ(ulp(DType::kBFloat16, 0.0), 0x1p-133);
  EXPECT_EQ(ulp(DType::kBFloat16, kInf), 0x1p120);
  for (const DType t : kAllDTypes) EXPECT_TRUE(std::isnan(ulp(t, kNaN))) << name(t);
}

}  // namespace
}  // namespace normcheck
