// The forward elementwise pass: y = ((x - mean) - mean_lo) * (rstd * gamma) + beta in double,
// rounded once (mean + mean_lo: the set's mean as a pair, see kernels.h).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "impls/cpu/convert-inl.h"
#include "impls/cpu/kernels.h"
#include "impls/cpu/simd-inl.h"

namespace normcheck::impls::cpu {
namespace {

constexpr std::int64_t kTransposeRows = 64;  // positions per task of the transposing pass

/// The float fast path of a bfloat16 row whose mean, rstd, gamma and beta are constant along it
/// (batch_norm, instance_norm, group_norm rows along s). The double path's value is
///   y = ((x - mean) - mean_lo) * k + beta,  k = rstd * gamma,
/// rounded once to bfloat16. In float, with mean_f, k_f, beta_f the floats nearest mean + mean_lo,
/// k and beta,
///   y_f = (x - mean_f) * k_f + beta_f
/// (x is exact in float) is within 2^-24 (|k mean| + 3 |k (x - mean)| + |y| + |beta|) of y
/// (six roundings: three constants, three operations), and |k (x - mean)| <= |y| + |beta|; so
///   |y_f - y| <= E = e0 + e1 |y_f|,  e0 = 2^-23 (|k mean| + 2 |beta|) * 1.25,  e1 = 2^-22 * 1.25
/// with a quarter to spare for the double path's own roundings and for |y| vs |y_f|. A lane whose
/// y_f is farther than E from the bfloat16 midpoint of its interval (and finite, normal, E far
/// below its bfloat16 spacing) rounds to the bfloat16 y rounds to: the double path's bits.
/// Groups of 8 with any other lane take the double path.
struct Bf16FastRow {
  V8f m, k, b, e0, e1;
  bool usable = false;
};
inline Bf16FastRow bf16_fast_row(double mean, double mean_lo, double k, double beta) {
  Bf16FastRow r;
  const double full = mean + mean_lo;
  const double e0 = (std::fabs(k * full) + 2 * std::fabs(beta)) * 0x1p-23 * 1.25;
  // Beyond these the analysis' float range assumptions stop holding: the double path decides.
  r.usable = std::fabs(full) < 0x1p100 && std::fabs(k) < 0x1p100 && std::fabs(beta) < 0x1p100 && e0 < 0x1p100;
  if (!r.usable) return r;
  const float mf = static_cast<float>(full), kf = static_cast<float>(k), bf = static_cast<float>(beta);
  const float e0f = std::nextafter(static_cast<float>(e0), 1e30f) + 0x1p-126f;  // rounded up
  r.m = V8f{mf, mf, mf, mf, mf, mf, mf, mf};
  r.k = V8f{kf, kf, kf, kf, kf, kf, kf, kf};
  r.b = V8f{bf, bf, bf, bf, bf, bf, bf, bf};
  r.e0 = V8f{e0f, e0f, e0f, e0f, e0f, e0f, e0f, e0f};
  const float e1 = 0x1p-22f * 1.25f;
  r.e1 = V8f{e1, e1, e1, e1, e1, e1, e1, e1};
  return r;
}

/// Eight bfloat16 of x into y by the fast path; false (nothing stored) when a lane fails its test.
__attribute__((always_inline)) inline bool bf16_fast8(const BF16* x, BF16* y, const Bf16FastRow& r) {
  V8h h;
  std::memcpy(&h, x, sizeof h);
  const V8f xf = (V8f)(__builtin_convertvector(h, V8u) << 16);
  const V8f yf = (xf - r.m) * r.k + r.b;
  const V8u fb = (V8u)yf;
  const V8f ay = (V8f)(fb & 0x7fffffffu);
  const V8f mid = (V8f)((fb & 0xffff0000u) | 0x8000u);  // same sign and exponent as y_f
  const V8f dist = (V8f)(((V8u)(yf - mid)) & 0x7fffffffu);  // exact (Sterbenz)
  const V8f err = r.e0 + r.e1 * ay;
  // NaN fails every comparison; 2^-100 keeps away from subnormals, 2^126 from overflow.
  const V8u good = (V8u)((dist > err) & (ay >= 0x1p-100f) & (ay < 0x1p126f) & (err < ay * 0x1p-12f));
  typedef unsigned long long V4ul_ __attribute__((vector_size(32)));
  const V4ul_ g = (V4ul_)~good;
  if ((g[0] | g[1] | g[2] | g[3]) != 0) return false;
  const V8h out = bf16_rne(fb);
  std::memcpy(y, &out, sizeof out);
  return true;
}

/// One row of L elements, x contiguous. MR: mean/rstd vary along the row (else M[0], R[0]);
/// GB: gamma/beta vary along the row (else G[0], B[0]).
template <class TI, class TO, bool MR, bool GB>
__attribute__((target_clones("avx2", "default"))) void norm_row_unit(const TI* x, TO* y, std::int64_t L,
                                                                     const double* M, const double* Lo,
                                                                     const double* R, const double* G,
                                                                     const double* B, bool stream) {
  // Scalar math: Y[i] = ((X[i] - mean) - mean_lo) * (rstd * gamma) + beta, T_ACC = double, one rounding to TO
  auto element = [&](std::int64_t i) {
    const double k = R[MR ? i : 0] * G[GB ? i : 0];
    y[i] = from_double<TO>(((to_double(x[i]) - M[MR ? i : 0]) - Lo[MR ? i : 0]) * k + B[GB ? i : 0]);
  };
  std::int64_t i = 0;
  if constexpr (std::is_same_v<TI, float> && std::is_same_v<TI, TO>) {
    if (stream) {  // y past the caches: aligned non-temporal stores (no read of y's lines first)
      for (; i < L && reinterpret_cast<std::uintptr_t>(y + i) % 16 != 0; ++i) element(i);
      for (; i + 4 <= L; i += 4) {
        const V4d m = MR ? load4(M + i) : splat(M[0]), lo = MR ? load4(Lo + i) : splat(Lo[0]);
        const V4d r = MR ? load4(R + i) : splat(R[0]);
        const V4d g = GB ? load4(G + i) : splat(G[0]), b = GB ? load4(B + i) : splat(B[0]);
        store4_stream(y + i, ((load4(x + i) - m) - lo) * (r * g) + b);
      }
      for (; i < L; ++i) element(i);
      return;  // the caller fences once per thread (stream_fence)
    }
  }
  if constexpr (std::is_same_v<TI, BF16> && std::is_same_v<TI, TO>) {
    // Loop invariants hoisted (y's stores may alias the parameter arrays as far as the compiler
    // knows): same values, same arithmetic.
    const V4d m0 = splat(M[0]), lo0 = splat(Lo[0]), r0 = splat(R[0]), g0 = splat(G[0]), b0 = splat(B[0]);
    const V4d k0 = r0 * g0;
    if constexpr (!MR && !GB) {
      const Bf16FastRow fast = bf16_fast_row(M[0], Lo[0], R[0] * G[0], B[0]);
      if (fast.usable) {
        for (; i + 8 <= L; i += 8) {
          if (bf16_fast8(x + i, y + i, fast)) continue;
          V4d out[2];  // the double path for these eight
          for (int h = 0; h < 2; ++h) out[h] = ((load4(x + i + 4 * h) - m0) - lo0) * k0 + b0;
          store4(y + i, out[0]);
          store4(y + i + 4, out[1]);
        }
      }
    }
    for (; i + 16 <= L; i += 16) {
      V4d out[4];
      for (int h = 0; h < 4; ++h) {
        const std::int64_t j = i + 4 * h;
        const V4d m = MR ? load4(M + j) : m0, lo = MR ? load4(Lo + j) : lo0;
        const V4d k = MR || GB ? (MR ? load4(R + j) : r0) * (GB ? load4(G + j) : g0) : k0;
        const V4d b = GB ? load4(B + j) : b0;
        out[h] = ((load4(x + j) - m) - lo) * k + b;
      }
      store16(y + i, out);
    }
  }
  if constexpr (kVectorizable<TI> && std::is_same_v<TI, TO>) {
    for (; i + 4 <= L; i += 4) {
      const V4d m = MR ? load4(M + i) : splat(M[0]), lo = MR ? load4(Lo + i) : splat(Lo[0]);
      const V4d r = MR ? load4(R + i) : splat(R[0]);
      const V4d g = GB ? load4(G + i) : splat(G[0]), b = GB ? load4(B + i) : splat(B[0]);
      const V4d k = r * g;
      store4(y + i, ((load4(x + i) - m) - lo) * k + b);
    }
  }
  for (; i < L; ++i) element(i);
}

/// The same with a strided y (a different layout for the output): same arithmetic, same bits.
template <class TI, class TO, bool MR, bool GB>
void norm_row_strided(const TI* x, TO* y, std::int64_t ys, std::int64_t L, const double* M, const double* Lo,
                      const double* R, const double* G, const double* B) {
  for (std::int64_t i = 0; i < L; ++i) {
    const double k = R[MR ? i : 0] * G[GB ? i : 0];
    y[i * ys] = from_double<TO>(((to_double(x[i]) - M[MR ? i : 0]) - Lo[MR ? i : 0]) * k + B[GB ? i : 0]);
  }
}

/// Positions [0, P) of channels-last x (position p at x + p * xp, channels contiguous) into a y
/// with s innermost (channel c at y + c * yc, positions contiguous): the layouts' transpose, as
/// norm_row_strided on each position but four positions x four channels at a time, computed
/// along c, transposed in registers and stored along s (same arithmetic, same rounding: the
/// same bits). MR: mean/rstd per channel (else per position, M[p]); GB: gamma/beta per channel.
template <class T, bool MR, bool GB>
__attribute__((target_clones("avx2", "default"))) void norm_rows_transposed(const T* x, std::int64_t xp, T* y,
                                                                            std::int64_t yc, std::int64_t P,
                                                                            std::int64_t C, const double* M,
                                                                            const double* Lo, const double* R,
                                                                            const double* G, const double* B) {
  // Scalar math: Y[c][p] = ((X[p][c] - mean) - mean_lo) * (rstd * gamma) + beta
  auto scalar = [&](std::int64_t p, std::int64_t c) {
    const std::int64_t k = MR ? c : p, j = GB ? c : 0;
    y[c * yc + p] = from_double<T>(((to_double(x[p * xp + c]) - M[k]) - Lo[k]) * (R[k] * G[j]) + B[j]);
  };
  std::int64_t p = 0;
  if constexpr (kVectorizable<T>) {
    for (; p + 4 <= P; p += 4) {
      std::int64_t c = 0;
      for (; c + 4 <= C; c += 4) {
        const V4d g = GB ? load4(G + c) : splat(G[0]), b = GB ? load4(B + c) : splat(B[0]);
        V4d v[4];
        for (int q = 0; q < 4; ++q) {
          const std::int64_t k = p + q;
          const V4d m = MR ? load4(M + c) : splat(M[k]), lo = MR ? load4(Lo + c) : splat(Lo[k]);
          const V4d r = MR ? load4(R + c) : splat(R[k]);
          v[q] = ((load4(x + k * xp + c) - m) - lo) * (r * g) + b;
        }
        transpose4(v);
        for (int i = 0; i < 4; ++i) store4(y + (c + i) * yc + p, v[i]);
      }
      for (; c < C; ++c)
        for (int q = 0; q < 4; ++q) scalar(p + q, c);
    }
  }
  for (; p < P; ++p)
    for (std::int64_t c = 0; c < C; ++c) scalar(p, c);
}

template <class TI, class TO, bool MR, bool GB>
void norm_row(const TI* x, TO* y, std::int64_t ys, std::int64_t L, const double* M, const double* Lo,
              const double* R, const double* G, const double* B, bool stream) {
  if (ys == 1) return norm_row_unit<TI, TO, MR, GB>(x, y, L, M, Lo, R, G, B, stream);
  norm_row_strided<TI, TO, MR, GB>(x, y, ys, L, M, Lo, R, G, B);
}

template <class T>
void normalize_t(Op op, const Geometry& g, const Strided3& xs, const Strided3& ys, const SetParams& sp,
                 const double* gamma, const double* beta) {
  const T* x = static_cast<const T*>(xs.data);
  T* y = static_cast<T*>(ys.data);
  const std::int64_t N = g.N, C = g.C, S = g.S;
  const double* M = sp.mean.data();
  const double* Lo = sp.mean_lo.data();
  const double* R = sp.rstd.data();
  if (op == Op::kLayerNorm || op == Op::kRmsNorm) {  // rows n, along c
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
      for (std::int64_t n = 0; n < N; ++n)
        norm_row<T, T, false, true>(x + n * xs.sn, y + n * ys.sn, ys.sc, C, M + n, Lo + n, R + n, gamma, beta,
                                    ys.stream);
      if (ys.stream) stream_fence();  // this thread's non-temporal stores, before the barrier
    }
    return;
  }
  const bool s_inner = is_ncs(xs, g) && !(S <= 1 && C > 1);
  if (s_inner) {  // rows (n, c), along s
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
      for (std::int64_t r = 0; r < N * C; ++r) {
        const std::int64_t n = r / C, c = r % C;
        const T* xr = x + n * xs.sn + c * xs.sc;
        T* yr = y + n * ys.sn + c * ys.sc;
        if (op == Op::kLayerNorm2d) {
          norm_row<T, T, true, false>(xr, yr, ys.ss, S, M + n * S, Lo + n * S, R + n * S, gamma + c, beta + c,
                                      ys.stream);
        } else {
          const std::int64_t k = op == Op::kBatchNorm ? c : n * C + c;
          norm_row<T, T, false, false>(xr, yr, ys.ss, S, M + k, Lo + k, R + k, gamma + c, beta + c,
                                       ys.stream);
        }
      }
      if (ys.stream) stream_fence();  // this thread's non-temporal stores, before the barrier
    }
    return;
  }
  if (C > 1 && xs.sc == 1 && ys.sc != 1 && (S <= 1 || ys.ss == 1)) {
    // channels-last x, s-innermost y: blocks of kTransposeRows positions of one n.
    const std::int64_t blocks = (S + kTransposeRows - 1) / kTransposeRows;
#pragma omp parallel for schedule(static)
    for (std::int64_t t = 0; t < N * blocks; ++t) {
      const std::int64_t n = t / blocks, s0 = (t % blocks) * kTransposeRows;
      const std::int64_t P = std::min(kTransposeRows, S - s0);
      const T* xr = x + n * xs.sn + s0 * xs.ss;
      T* yr = y + n * ys.sn + s0;
      if (op == Op::kLayerNorm2d) {
        const std::int64_t r = n * S + s0;
        norm_rows_transposed<T, false, true>(xr, xs.ss, yr, ys.sc, P, C, M + r, Lo + r, R + r, gamma, beta);
      } else {
        const std::int64_t k = op == Op::kBatchNorm ? 0 : n * C;
        norm_rows_transposed<T, true, true>(xr, xs.ss, yr, ys.sc, P, C, M + k, Lo + k, R + k, gamma, beta);
      }
    }
    return;
  }
  // rows (n, s), along c (channels-last)
#pragma omp parallel
  {
#pragma omp for schedule(static) nowait
    for (std::int64_t r = 0; r < N * S; ++r) {
      const std::int64_t n = r / S, s = r % S;
      const T* xr = x + n * xs.sn + s * xs.ss;
      T* yr = y + n * ys.sn + s * ys.ss;
      if (op == Op::kLayerNorm2d) {
        norm_row<T, T, false, true>(xr, yr, ys.sc, C, M + r, Lo + r, R + r, gamma, beta, ys.stream);
      } else {
        const std::int64_t k = op == Op::kBatchNorm ? 0 : n * C;
        norm_row<T, T, true, true>(xr, yr, ys.sc, C, M + k, Lo + k, R + k, gamma, beta, ys.stream);
      }
    }
    if (ys.stream) stream_fence();  // this thread's non-temporal stores, before the barrier
  }
}

template <class T>
void normalize_set_t(Op op, const Geometry& g, const Strided3& xs, const Strided3& ys, const SetParams& sp,
                     const double* gamma, const double* beta, std::int64_t k) {
  const T* x = static_cast<const T*>(xs.data);
  T* y = static_cast<T*>(ys.data);
  const std::int64_t N = g.N, C = g.C, S = g.S;
  const double* M = sp.mean.data();
  const double* Lo = sp.mean_lo.data();
  const double* R = sp.rstd.data();
  switch (op) {
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      return norm_row<T, T, false, true>(x + k * xs.sn, y + k * ys.sn, ys.sc, C, M + k, Lo + k, R + k, gamma,
                                         beta, ys.stream);
    case Op::kLayerNorm2d: {
      const std::int64_t n = k / S, s = k % S;
      return norm_row<T, T, false, true>(x + n * xs.sn + s * xs.ss, y + n * ys.sn + s * ys.ss, ys.sc, C,
                                         M + k, Lo + k, R + k, gamma, beta, ys.stream);
    }
    case Op::kInstanceNorm:
    case Op::kGroupNorm: {  // rows (n, c) of the group, along s; SetParams per (n, c)
      const std::int64_t G = op == Op::kInstanceNorm ? C : g.G, Cg = C / G, n = k / G;
      for (std::int64_t c = (k % G) * Cg; c < (k % G + 1) * Cg; ++c) {
        const std::int64_t i = n * C + c;
        norm_row<T, T, false, false>(x + n * xs.sn + c * xs.sc, y + n * ys.sn + c * ys.sc, ys.ss, S, M + i,
                                     Lo + i, R + i, gamma + c, beta + c, ys.stream);
      }
      return;
    }
    case Op::kBatchNorm:  // rows (n, k) along s
      for (std::int64_t n = 0; n < N; ++n)
        norm_row<T, T, false, false>(x + n * xs.sn + k * xs.sc, y + n * ys.sn + k * ys.sc, ys.ss, S, M + k,
                                     Lo + k, R + k, gamma + k, beta + k, ys.stream);
      return;
  }
}

}  // namespace

void normalize(Op op, const Geometry& g, const Strided3& x, const Strided3& y, const SetParams& sp,
               const double* gamma, const double* beta) {
  switch (x.dtype) {
    case DType::kFloat64:
      return normalize_t<double>(op, g, x, y, sp, gamma, beta);
    case DType::kFloat32:
      return normalize_t<float>(op, g, x, y, sp, gamma, beta);
    case DType::kFloat16:
      return normalize_t<Half>(op, g, x, y, sp, gamma, beta);
    case DType::kBFloat16:
      return normalize_t<BF16>(op, g, x, y, sp, gamma, beta);
  }
}

}  // namespace normcheck::impls::cpu

namespace normcheck::impls::cpu {

void normalize_set(Op op, const Geometry& g, const Strided3& x, const Strided3& y, const SetParams& sp,
                   const double* gamma, const double* beta, std::int64_t k) {
  switch (x.dtype) {
    case DType::kFloat64:
      return normalize_set_t<double>(op, g, x, y, sp, gamma, beta, k);
    case DType::kFloat32:
      return normalize_set_t<float>(op, g, x, y, sp, gamma, beta, k);
    case DType::kFloat16:
      return normalize_set_t<Half>(op, g, x, y, sp, gamma, beta, k);
    case DType::kBFloat16:
      return normalize_set_t<BF16>(op, g, x, y, sp, gamma, beta, k);
  }
}

}  // namespace normcheck::impls::cpu
