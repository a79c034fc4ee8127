// The forward elementwise pass: y = ((x - mean) - mean_lo) * (rstd * gamma) + beta in double,
// rounded once (mean + mean_lo: the set's mean as a pair, see kernels.h).
#include <algorithm>
#include <cstring>

#include "impls/cpu/convert-inl.h"
#include "impls/cpu/kernels.h"
#include "impls/cpu/simd-inl.h"

namespace normcheck::impls::cpu {
namespace {

constexpr std::int64_t kTransposeRows = 64;  // positions per task of the transposing pass

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
