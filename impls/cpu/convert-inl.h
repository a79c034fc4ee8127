#pragma once
/// Element types of the kernels and their conversions to and from double (the accumulator).
/// Loads are exact; stores round once, correctly (RNE), from double to the element type.
#include <cmath>
#include <cstdint>
#include <cstring>

namespace normcheck::impls::cpu {

using Half = _Float16;  // GCC/Clang on x86-64: conversions from double are correctly rounded
struct BF16 {
  std::uint16_t bits;
};

inline double to_double(double v) { return v; }
inline double to_double(float v) { return v; }
inline double to_double(Half v) { return static_cast<double>(v); }
inline double to_double(BF16 v) {
  const std::uint32_t b = static_cast<std::uint32_t>(v.bits) << 16;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

template <class T>
T from_double(double v);
template <>
inline double from_double<double>(double v) {
  return v;
}
template <>
inline float from_double<float>(double v) {
  return static_cast<float>(v);
}
template <>
inline Half from_double<Half>(double v) {
  return static_cast<Half>(v);
}
/// double -> float with round-to-odd (exact when representable, otherwise the truncation with its
/// last bit set), then float -> bfloat16 RNE: 16 extra bits make the double rounding correct.
/// Branch-free (the comparisons become flags), so the loops around it stay fast.
template <>
inline BF16 from_double<BF16>(double v) {
  const double a = std::fabs(v);
  const float f = static_cast<float>(a);  // RNE; overflow gives inf, NaN stays NaN
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  const double back = f;
  b -= static_cast<std::uint32_t>(back > a);   // rounded up: step back to the truncation (inf - 1 = max)
  b |= static_cast<std::uint32_t>(back != a);  // inexact: set the sticky last bit
  const bool special = (b & 0x7f800000u) == 0x7f800000u;  // inf or NaN: no rounding carry
  b += special ? 0u : 0x7fffu + ((b >> 16) & 1u);
  std::uint16_t h = static_cast<std::uint16_t>(b >> 16);
  if (a != a) h = 0x7fc0;  // NaN: one quiet NaN (the sign below keeps the input's)
  std::uint64_t vbits;
  std::memcpy(&vbits, &v, 8);
  return BF16{static_cast<std::uint16_t>(h | ((vbits >> 48) & 0x8000u))};
}

}  // namespace normcheck::impls::cpu
