#pragma once
/// Four doubles at a time with GCC vector extensions: the AVX2 clone of a function gets one ymm
/// register per vector, the default clone two SSE2 halves; the arithmetic (and so every bit) is
/// the same as the scalar formula's, element by element.
#include <cstring>
#include <type_traits>

#include "impls/cpu/convert-inl.h"

namespace normcheck::impls::cpu {

typedef double V4d __attribute__((vector_size(32)));
typedef float V4f __attribute__((vector_size(16)));

/// float and double load/store four at a time; the 16-bit types go element by element.
template <class T>
inline constexpr bool kVectorizable = std::is_same_v<T, float> || std::is_same_v<T, double>;

__attribute__((always_inline)) inline V4d splat(double v) { return V4d{v, v, v, v}; }
__attribute__((always_inline)) inline V4d load4(const double* p) {
  V4d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline V4d load4(const float* p) {
  V4f f;
  std::memcpy(&f, p, sizeof f);
  return __builtin_convertvector(f, V4d);
}
__attribute__((always_inline)) inline void store4(double* p, V4d v) { std::memcpy(p, &v, sizeof v); }
/// double -> float in the current rounding mode (nearest-even), as static_cast<float> does.
__attribute__((always_inline)) inline void store4(float* p, V4d v) {
  const V4f f = __builtin_convertvector(v, V4f);
  std::memcpy(p, &f, sizeof f);
}

}  // namespace normcheck::impls::cpu
