#pragma once
/// Four doubles at a time with GCC vector extensions: the AVX2 clone of a function gets one ymm
/// register per vector, the default clone two SSE2 halves; the arithmetic (and so every bit) is
/// the same as the scalar formula's, element by element.
#include <xmmintrin.h>

#include <cstring>
#include <type_traits>

#include "impls/cpu/convert-inl.h"

namespace normcheck::impls::cpu {

typedef double V4d __attribute__((vector_size(32)));
typedef float V4f __attribute__((vector_size(16)));

typedef unsigned short V4h __attribute__((vector_size(8)));
typedef unsigned int V4u __attribute__((vector_size(16)));
typedef int V4i __attribute__((vector_size(16)));
typedef unsigned long long V4ul __attribute__((vector_size(32)));

/// All four element types load/store four at a time: the 16-bit types convert lane-wise with the
/// same (exact load, correctly rounded store) bits as to_double / from_double.
template <class T>
inline constexpr bool kVectorizable = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                                      std::is_same_v<T, BF16> || std::is_same_v<T, Half>;

__attribute__((always_inline)) inline V4d splat(double v) { return V4d{v, v, v, v}; }
/// float -> double lane-wise (exact); built element by element because GCC 12 lowers
/// __builtin_convertvector(V4f -> V4d) to two 128-bit conversions and an insert.
__attribute__((always_inline)) inline V4d widen(V4f f) { return V4d{f[0], f[1], f[2], f[3]}; }
__attribute__((always_inline)) inline V4d load4(const double* p) {
  V4d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
__attribute__((always_inline)) inline V4d load4(const float* p) {
  V4f f;
  std::memcpy(&f, p, sizeof f);
  return widen(f);
}
__attribute__((always_inline)) inline void store4(double* p, V4d v) { std::memcpy(p, &v, sizeof v); }
/// double -> float in the current rounding mode (nearest-even), as static_cast<float> does.
__attribute__((always_inline)) inline void store4(float* p, V4d v) {
  const V4f f = __builtin_convertvector(v, V4f);
  std::memcpy(p, &f, sizeof f);
}

/// store4 past the caches (movntps; p 16-byte aligned): for an output larger than the last-level
/// cache, whose lines a cached store would first read from memory. The same bits as store4.
__attribute__((always_inline)) inline void store4_stream(float* p, V4d v) {
  _mm_stream_ps(p, (__m128)__builtin_convertvector(v, V4f));
}
/// Orders the non-temporal stores before whatever follows (another thread reading the output).
__attribute__((always_inline)) inline void stream_fence() { _mm_sfence(); }

/// bfloat16 -> double: the bits shifted into a float (exact), as to_double(BF16).
__attribute__((always_inline)) inline V4d load4(const BF16* p) {
  typedef unsigned short V8h_ __attribute__((vector_size(16)));
  V4h h;
  std::memcpy(&h, p, sizeof h);
  const V4h z = {0, 0, 0, 0};
  const V8h_ w = __builtin_shufflevector(z, h, 0, 4, 1, 5, 2, 6, 3, 7);  // each lane: h << 16
  return widen((V4f)w);
}
/// float16 -> double, exact: sign | exponent-mantissa << 13 as a float, scaled by 2^112 (exact for
/// normals and subnormals); inf/NaN keep their payload with the float's all-ones exponent.
__attribute__((always_inline)) inline V4d load4(const Half* p) {
  V4h h;
  std::memcpy(&h, p, sizeof h);
  const V4u w = __builtin_convertvector(h, V4u);
  const V4u em = w & 0x7fffu;
  const V4u sign = (w & 0x8000u) << 16;
  const V4i special = (V4i)(em >= 0x7c00u);
  const V4u fin_bits = em << 13;
  V4f fin;
  std::memcpy(&fin, &fin_bits, sizeof fin);
  fin = fin * 0x1p112f;
  V4u fb;
  std::memcpy(&fb, &fin, sizeof fb);
  const V4u spec_bits = (em << 13) | 0x7f800000u;
  const V4u bits = ((fb & ~(V4u)special) | (spec_bits & (V4u)special)) | sign;
  return widen((V4f)bits);
}
typedef float V8f __attribute__((vector_size(32)));
typedef unsigned int V8u __attribute__((vector_size(32)));
typedef unsigned short V8h __attribute__((vector_size(16)));

/// Lane-wise from_double<BF16>: round-to-odd double -> float, then RNE float -> bfloat16 (the
/// integer steps in 64-bit lanes, so the double comparisons' masks apply without narrowing).
__attribute__((always_inline)) inline void store4_exact(BF16* p, V4d v) {
  V4ul vb;
  std::memcpy(&vb, &v, sizeof vb);
  const V4ul ab = vb & 0x7fffffffffffffffull;
  V4d a;
  std::memcpy(&a, &ab, sizeof a);
  const V4f f = __builtin_convertvector(a, V4f);  // RNE; overflow gives inf, NaN stays NaN
  V4u fb;
  std::memcpy(&fb, &f, sizeof fb);
  V4ul b = __builtin_convertvector(fb, V4ul);
  const V4d back = widen(f);
  b += (V4ul)(back > a);        // rounded up (so f > 0): step back to the truncation
  b |= (V4ul)(back != a) & 1u;  // inexact (or NaN): sticky last bit
  const V4ul special = (V4ul)((b & 0x7f800000u) == 0x7f800000u);
  b += ~special & (0x7fffu + ((b >> 16) & 1u));
  V4ul h = (b >> 16) & 0xffffu;
  const V4ul nan = (V4ul)(a != a);
  h = (h & ~nan) | (0x7fc0u & nan);
  h |= (vb >> 48) & 0x8000u;
  const V4h out = __builtin_convertvector(h, V4h);
  std::memcpy(p, &out, sizeof out);
}
/// Fast path of from_double<BF16>: f = RNE float of v, then RNE float -> bfloat16 on f's bits.
/// The bfloat16 values and the midpoints between them are floats, so (RNE to float being monotone)
/// this double rounding is correct unless f lands on a midpoint (low 16 bits 0x8000); those lanes,
/// and inf/NaN ones (f's exponent all ones), send the whole group to store4_exact: same bits.
__attribute__((always_inline)) inline V8u bf16_bad(V8u fb) {
  return ((fb & 0xffffu) == 0x8000u) | ((fb & 0x7f800000u) == 0x7f800000u);
}
__attribute__((always_inline)) inline V8h bf16_rne(V8u fb) {
  typedef unsigned short V16h __attribute__((vector_size(32)));
  const V8u t = fb + 0x7fffu + ((fb >> 16) & 1u);  // the result is t's upper half
  const V16h t16 = (V16h)t;
  return __builtin_shufflevector(t16, t16, 1, 3, 5, 7, 9, 11, 13, 15);
}
__attribute__((always_inline)) inline V8u float_bits8(V4d v0, V4d v1) {
  const V4f f0 = __builtin_convertvector(v0, V4f), f1 = __builtin_convertvector(v1, V4f);
  return (V8u)__builtin_shufflevector(f0, f1, 0, 1, 2, 3, 4, 5, 6, 7);
}
/// Sixteen bfloat16 stores from four vectors of doubles (same bits as from_double<BF16> lane-wise).
__attribute__((always_inline)) inline void store16(BF16* p, const V4d* v) {
  const V8u a = float_bits8(v[0], v[1]), b = float_bits8(v[2], v[3]);
  const V8u bad = bf16_bad(a) | bf16_bad(b);
  const V4u bad4 = __builtin_shufflevector(bad, bad, 0, 1, 2, 3) | __builtin_shufflevector(bad, bad, 4, 5, 6, 7);
  typedef unsigned long long V2ul __attribute__((vector_size(16)));
  const V2ul bad2 = (V2ul)bad4;
  if (__builtin_expect((bad2[0] | bad2[1]) != 0, 0)) {
    for (int q = 0; q < 4; ++q) store4_exact(p + 4 * q, v[q]);
    return;
  }
  const V8h ha = bf16_rne(a), hb = bf16_rne(b);
  std::memcpy(p, &ha, sizeof ha);
  std::memcpy(p + 8, &hb, sizeof hb);
}
/// Four bfloat16 stores: the fast path above, else store4_exact.
__attribute__((always_inline)) inline void store4(BF16* p, V4d v) {
  const V4f f = __builtin_convertvector(v, V4f);
  V4u fb;
  std::memcpy(&fb, &f, sizeof fb);
  const V4u bad = ((fb & 0xffffu) == 0x8000u) | ((fb & 0x7f800000u) == 0x7f800000u);
  unsigned long long w[2];
  std::memcpy(w, &bad, sizeof w);
  if (__builtin_expect((w[0] | w[1]) != 0, 0)) return store4_exact(p, v);
  const V4u h = (fb + 0x7fffu + ((fb >> 16) & 1u)) >> 16;
  const V4h out = __builtin_convertvector(h, V4h);
  std::memcpy(p, &out, sizeof out);
}

/// Four rows of a 4 x 4 block of doubles (v[q][i]: row q, column i) into its four columns
/// (v[i][q]), in registers: the layouts' transpose for a channels-last input written to an
/// s-innermost output (exact: values are only moved).
__attribute__((always_inline)) inline void transpose4(V4d* v) {
  const V4d t0 = __builtin_shufflevector(v[0], v[1], 0, 4, 2, 6), t1 = __builtin_shufflevector(v[0], v[1], 1, 5, 3, 7);
  const V4d t2 = __builtin_shufflevector(v[2], v[3], 0, 4, 2, 6), t3 = __builtin_shufflevector(v[2], v[3], 1, 5, 3, 7);
  v[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
  v[1] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
  v[2] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
  v[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
}

/// Lane-wise from_double<Half>. Fast path as for bfloat16: f = RNE float of v, then RNE float ->
/// float16 on f's bits; correct (the float16 values and their midpoints are floats) while |f| is
/// in float16's normal range below the overflow midpoint 65520 and f is no midpoint (low 13 bits
/// 0x1000). Otherwise (zeros, subnormals, overflow, inf, NaN, midpoints) the four lanes go
/// through from_double<Half> one by one.
__attribute__((always_inline)) inline void store4(Half* p, V4d v) {
  const V4f f = __builtin_convertvector(v, V4f);
  const V4u fb = (V4u)f;
  const V4i ab = (V4i)(fb & 0x7fffffffu);
  const V4i bad = (ab < 0x38800000) | (ab >= 0x477ff000) | ((ab & 0x1fff) == 0x1000);
  typedef unsigned long long V2ul __attribute__((vector_size(16)));
  const V2ul bad2 = (V2ul)bad;
  if (__builtin_expect((bad2[0] | bad2[1]) != 0, 0)) {
    for (int l = 0; l < 4; ++l) p[l] = from_double<Half>(v[l]);
    return;
  }
  const V4u h = ((((V4u)ab - (112u << 23)) + 0xfffu + (((V4u)ab >> 13) & 1u)) >> 13) | ((fb >> 16) & 0x8000u);
  typedef unsigned short V8h_ __attribute__((vector_size(16)));
  const V8h_ h16 = (V8h_)h;
  const V4h out = __builtin_shufflevector(h16, h16, 0, 2, 4, 6);
  std::memcpy(p, &out, sizeof out);
}

}  // namespace normcheck::impls::cpu
