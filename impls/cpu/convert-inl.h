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
template <>
inline BF16 from_double<BF16>(double v) {
  if (v != v) return BF16{0x7fc0};
  const double a = v < 0 ? -v : v;
  float f = static_cast<float>(a);
  std::uint32_t b;
  if (static_cast<double>(f) != a) {
    std::memcpy(&b, &f, 4);
    if (static_cast<double>(f) > a) --b;  // truncate toward zero (f is finite or inf: inf-1 = max)
    b |= 1u;
  } else {
    std::memcpy(&b, &f, 4);
  }
  if ((b & 0x7f800000u) != 0x7f800000u) b += 0x7fffu + ((b >> 16) & 1u);
  std::uint16_t h = static_cast<std::uint16_t>(b >> 16);
  if (v < 0 || (v == 0 && std::signbit(v))) h |= 0x8000u;
  return BF16{h};
}

}  // namespace normcheck::impls::cpu
