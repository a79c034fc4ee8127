// The backward pass: the per-set and per-channel sums, then dx, all in double.
//
//   xhat = (x - mean) * rstd, g = dy * gamma
//   dbeta[c] = sum dy, dgamma[c] = sum dy * xhat (over the elements of channel c)
//   dx = (g - sum_S g / m - xhat * sum_S (g * xhat) / m) * rstd
#include <algorithm>
#include <vector>

#include "impls/cpu/convert-inl.h"
#include "impls/cpu/kernels.h"
#include "impls/cpu/simd-inl.h"

namespace normcheck::impls::cpu {
namespace {

constexpr std::int64_t kMaxParts = 16;
constexpr std::int64_t kTransposeRows = 64;  // positions per task of the transposing dx pass

/// Sums along one row: sum dy and sum dy * xhat, into one accumulator (the row is one (n, c)) or,
/// KA, into one per element (the row runs along c; mean/rstd vary with it). Reductions keep four
/// lanes (element i in lane i % 4, lanes combined in order), the same for any stride.
template <class T, bool KA>
__attribute__((target_clones("avx2", "default"))) void row_sums(const T* x, std::int64_t xst, const T* dy,
                                                                std::int64_t dst, std::int64_t L,
                                                                const double* M, const double* Lo,
                                                                const double* R, double* sdy, double* sdyx) {
  // Scalar math: sum_dy += dY[i]; sum_dyx += dY[i] * ((X[i] - mean) - mean_lo) * rstd
  if constexpr (KA) {
    std::int64_t i = 0;
    if constexpr (kVectorizable<T>) {
      if (xst == 1 && dst == 1) {  // one accumulator per element: lane-wise, the same bits
        for (; i + 4 <= L; i += 4) {
          const V4d d = load4(dy + i);
          const V4d xhat = ((load4(x + i) - load4(M + i)) - load4(Lo + i)) * load4(R + i);
          store4(sdy + i, load4(sdy + i) + d);
          store4(sdyx + i, load4(sdyx + i) + d * xhat);
        }
      }
    }
    for (; i < L; ++i) {
      const double d = to_double(dy[i * dst]);
      const double xhat = ((to_double(x[i * xst]) - M[i]) - Lo[i]) * R[i];
      sdy[i] += d;
      sdyx[i] += d * xhat;
    }
  } else {
    double a[4] = {}, b[4] = {};
    std::int64_t i = 0;
    if constexpr (kVectorizable<T>) {
      if (xst == 1 && dst == 1) {
        V4d av = {}, bv = {};
        const V4d m = splat(M[0]), lo = splat(Lo[0]), r = splat(R[0]);
        for (; i + 4 <= L; i += 4) {
          const V4d d = load4(dy + i);
          av += d;
          bv += d * (((load4(x + i) - m) - lo) * r);
        }
        store4(a, av);
        store4(b, bv);
      }
    }
    for (; i < L; ++i) {
      const double d = to_double(dy[i * dst]);
      a[i % 4] += d;
      b[i % 4] += d * (((to_double(x[i * xst]) - M[0]) - Lo[0]) * R[0]);
    }
    *sdy += ((a[0] + a[1]) + a[2]) + a[3];
    *sdyx += ((b[0] + b[1]) + b[2]) + b[3];
  }
}

/// One row along c that is one whole set (layer/rms norm, channels-last layer_norm_2d):
/// dbeta[c] += dy, dgamma[c] += dy * xhat, and the set's sum g, sum g * xhat (four lanes as above).
template <class T>
__attribute__((target_clones("avx2", "default"))) void set_row_sums(const T* x, std::int64_t xst, const T* dy,
                                                                    std::int64_t dst, std::int64_t C,
                                                                    double M, double Lo, double R,
                                                                    const double* gamma, double* db,
                                                                    double* dg, double* sg, double* sgx) {
  // Scalar math: xhat = ((X[c] - mean) - mean_lo) * rstd; dbeta[c] += dY[c]; dgamma[c] += dY[c] * xhat;
  //              sum_g += dY[c] * gamma[c]; sum_gxhat += dY[c] * gamma[c] * xhat
  double a[4] = {}, b[4] = {};
  std::int64_t c = 0;
  if constexpr (kVectorizable<T>) {
    if (xst == 1 && dst == 1) {
      V4d av = {}, bv = {};
      const V4d m = splat(M), lo = splat(Lo), r = splat(R);
      for (; c + 4 <= C; c += 4) {
        const V4d d = load4(dy + c);
        const V4d xhat = ((load4(x + c) - m) - lo) * r;
        const V4d dxh = d * xhat;
        store4(db + c, load4(db + c) + d);
        store4(dg + c, load4(dg + c) + dxh);
        const V4d gv = d * load4(gamma + c);
        av += gv;
        bv += gv * xhat;
      }
      store4(a, av);
      store4(b, bv);
    }
  }
  for (; c < C; ++c) {
    const double d = to_double(dy[c * dst]);
    const double xhat = ((to_double(x[c * xst]) - M) - Lo) * R;
    db[c] += d;
    dg[c] += d * xhat;
    const double gv = d * gamma[c];
    a[c % 4] += gv;
    b[c % 4] += gv * xhat;
  }
  *sg += ((a[0] + a[1]) + a[2]) + a[3];
  *sgx += ((b[0] + b[1]) + b[2]) + b[3];
}

template <class T>
void backward_sums_t(Op op, const Geometry& g, const Strided3& xs, const Strided3& ds, const SetParams& sp,
                     const double* gamma, double* dgamma, double* dbeta, std::vector<double>& sum_g,
                     std::vector<double>& sum_gx) {
  const T* x = static_cast<const T*>(xs.data);
  const T* dy = static_cast<const T*>(ds.data);
  const std::int64_t N = g.N, C = g.C, S = g.S;
  const double* M = sp.mean.data();
  const double* Lo = sp.mean_lo.data();
  const double* R = sp.rstd.data();
  const std::size_t Cz = static_cast<std::size_t>(C);
  const bool s_inner = is_ncs(xs, g) && !(S <= 1 && C > 1);
  if (op == Op::kBatchNorm || op == Op::kInstanceNorm || op == Op::kGroupNorm) {
    // U[n][c] = sum_s dy, V[n][c] = sum_s dy * xhat; each n belongs to one thread.
    std::vector<double> U(static_cast<std::size_t>(N) * Cz, 0.0), V(U.size(), 0.0);
#pragma omp parallel for schedule(static)
    for (std::int64_t n = 0; n < N; ++n) {
      const std::int64_t k0 = op == Op::kBatchNorm ? 0 : n * C;
      if (s_inner) {
        for (std::int64_t c = 0; c < C; ++c)
          row_sums<T, false>(x + n * xs.sn + c * xs.sc, xs.ss, dy + n * ds.sn + c * ds.sc, ds.ss, S,
                             M + k0 + c, Lo + k0 + c, R + k0 + c, &U[n * C + c], &V[n * C + c]);
      } else {
        for (std::int64_t s = 0; s < S; ++s)
          row_sums<T, true>(x + n * xs.sn + s * xs.ss, xs.sc, dy + n * ds.sn + s * ds.ss, ds.sc, C, M + k0,
                            Lo + k0, R + k0, &U[n * C], &V[n * C]);
      }
    }
    for (std::int64_t c = 0; c < C; ++c) {
      double a = 0, b = 0;
      for (std::int64_t n = 0; n < N; ++n) {
        a += U[n * C + c];
        b += V[n * C + c];
      }
      dbeta[c] = a;
      dgamma[c] = b;
    }
    if (op == Op::kBatchNorm) {
      sum_g.assign(Cz, 0.0);
      sum_gx.assign(Cz, 0.0);
      for (std::int64_t c = 0; c < C; ++c) {
        sum_g[c] = gamma[c] * dbeta[c];
        sum_gx[c] = gamma[c] * dgamma[c];
      }
      return;
    }
    sum_g.assign(U.size(), 0.0);
    sum_gx.assign(U.size(), 0.0);
    for (std::int64_t i = 0; i < N * C; ++i) {
      sum_g[i] = gamma[i % C] * U[i];
      sum_gx[i] = gamma[i % C] * V[i];
    }
    return;
  }
  // Layer norms: the sets lie inside one n; channel sums per fixed part of n, merged in order.
  const std::int64_t nsets = static_cast<std::int64_t>(sp.mean.size());
  sum_g.assign(static_cast<std::size_t>(nsets), 0.0);
  sum_gx.assign(static_cast<std::size_t>(nsets), 0.0);
  const std::int64_t parts = std::clamp<std::int64_t>(N, 1, kMaxParts);
  std::vector<double> pdb(static_cast<std::size_t>(parts) * Cz, 0.0), pdg(pdb.size(), 0.0);
  const bool ln = op == Op::kLayerNorm || op == Op::kRmsNorm;
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < parts; ++q) {
    double* db = &pdb[q * C];
    double* dg = &pdg[q * C];
    for (std::int64_t n = N * q / parts; n < N * (q + 1) / parts; ++n) {
      if (ln || !s_inner) {  // rows along c: one set per row, channels along the row
        const std::int64_t rows = ln ? 1 : S;
        for (std::int64_t s = 0; s < rows; ++s) {
          const std::int64_t k = ln ? n : n * S + s;
          const T* xr = x + n * xs.sn + (ln ? 0 : s * xs.ss);
          const T* dr = dy + n * ds.sn + (ln ? 0 : s * ds.ss);
          set_row_sums(xr, xs.sc, dr, ds.sc, C, M[k], Lo[k], R[k], gamma, db, dg, &sum_g[k], &sum_gx[k]);
        }
      } else {  // layer_norm_2d NCHW: rows (n, c) along s, sets along the row
        for (std::int64_t c = 0; c < C; ++c) {
          const T* xr = x + n * xs.sn + c * xs.sc;
          const T* dr = dy + n * ds.sn + c * ds.sc;
          double a = 0, b = 0;
          for (std::int64_t s = 0; s < S; ++s) {
            const std::int64_t k = n * S + s;
            const double d = to_double(dr[s * ds.ss]);
            const double xhat = ((to_double(xr[s * xs.ss]) - M[k]) - Lo[k]) * R[k];
            a += d;
            b += d * xhat;
            sum_g[k] += d * gamma[c];
            sum_gx[k] += d * gamma[c] * xhat;
          }
          db[c] += a;
          dg[c] += b;
        }
      }
    }
  }
  for (std::int64_t c = 0; c < C; ++c) {
    double a = 0, b = 0;
    for (std::int64_t q = 0; q < parts; ++q) {
      a += pdb[q * C + c];
      b += pdg[q * C + c];
    }
    dbeta[c] = a;
    dgamma[c] = b;
  }
}

/// dx along one row. KA: set params vary along the row; GA: gamma varies along the row.
template <class T, bool KA, bool GA>
__attribute__((target_clones("avx2", "default"))) void dx_row_running(const T* dy, std::int64_t dst, T* dx,
                                                                      std::int64_t ost, std::int64_t L,
                                                                      const double* R, const double* G) {
  // Scalar math: dX[i] = dY[i] * gamma * rstd (eval with running statistics: affine in x)
  std::int64_t i = 0;
  if constexpr (kVectorizable<T>) {
    if (dst == 1 && ost == 1) {
      for (; i + 4 <= L; i += 4) {
        const V4d gm = GA ? load4(G + i) : splat(G[0]), r = KA ? load4(R + i) : splat(R[0]);
        store4(dx + i, load4(dy + i) * gm * r);
      }
    }
  }
  for (; i < L; ++i)
    dx[i * ost] = from_double<T>(to_double(dy[i * dst]) * G[GA ? i : 0] * R[KA ? i : 0]);
}

template <class T, bool KA, bool GA>
__attribute__((target_clones("avx2", "default"))) void dx_row(
    const T* x, std::int64_t xst, const T* dy, std::int64_t dst, T* dx, std::int64_t ost, std::int64_t L,
    const double* M, const double* Lo, const double* R, const double* C1, const double* C2, const double* G,
    bool stream) {
  // Scalar math: dX[i] = (dY[i] * gamma - c1 - ((X[i] - mean) - mean_lo) * rstd * c2) * rstd
  auto element = [&](std::int64_t i) {
    const std::int64_t k = KA ? i : 0;
    const double r = R[k];
    const double xhat = ((to_double(x[i * xst]) - M[k]) - Lo[k]) * r;
    const double gi = to_double(dy[i * dst]) * G[GA ? i : 0];
    dx[i * ost] = from_double<T>((gi - C1[k] - xhat * C2[k]) * r);
  };
  std::int64_t i = 0;
  if constexpr (std::is_same_v<T, float>) {
    if (stream && xst == 1 && dst == 1 && ost == 1) {  // dx past the caches: aligned non-temporal stores
      for (; i < L && reinterpret_cast<std::uintptr_t>(dx + i) % 16 != 0; ++i) element(i);
      for (; i + 4 <= L; i += 4) {
        const V4d r = KA ? load4(R + i) : splat(R[0]);
        const V4d m = KA ? load4(M + i) : splat(M[0]), lo = KA ? load4(Lo + i) : splat(Lo[0]);
        const V4d c1 = KA ? load4(C1 + i) : splat(C1[0]), c2 = KA ? load4(C2 + i) : splat(C2[0]);
        const V4d gm = GA ? load4(G + i) : splat(G[0]);
        const V4d xhat = ((load4(x + i) - m) - lo) * r;
        const V4d gi = load4(dy + i) * gm;
        store4_stream(dx + i, ((gi - c1) - xhat * c2) * r);
      }
      for (; i < L; ++i) element(i);
      return;  // the caller fences once per thread (stream_fence)
    }
  }
  if constexpr (kVectorizable<T>) {
    if (xst == 1 && dst == 1 && ost == 1) {
      for (; i + 4 <= L; i += 4) {
        const V4d r = KA ? load4(R + i) : splat(R[0]);
        const V4d m = KA ? load4(M + i) : splat(M[0]), lo = KA ? load4(Lo + i) : splat(Lo[0]);
        const V4d c1 = KA ? load4(C1 + i) : splat(C1[0]), c2 = KA ? load4(C2 + i) : splat(C2[0]);
        const V4d gm = GA ? load4(G + i) : splat(G[0]);
        const V4d xhat = ((load4(x + i) - m) - lo) * r;
        const V4d gi = load4(dy + i) * gm;
        store4(dx + i, ((gi - c1) - xhat * c2) * r);
      }
    }
  }
  for (; i < L; ++i) element(i);
}

/// dx for positions [0, P) of channels-last x and dy (position p at x + p * xp, dy + p * dp,
/// channels contiguous) into a dx with s innermost (channel c at dx + c * oc): the layouts'
/// transpose, as dx_row (dx_row_running when RUN) on each position, four positions x four
/// channels at a time, transposed in registers and stored along s (the same bits). KA: set
/// params per channel (else per position, M[p]); gamma per channel.
template <class T, bool KA, bool RUN>
__attribute__((target_clones("avx2", "default"))) void dx_rows_transposed(
    const T* x, std::int64_t xp, const T* dy, std::int64_t dp, T* dx, std::int64_t oc, std::int64_t P,
    std::int64_t C, const double* M, const double* Lo, const double* R, const double* C1, const double* C2,
    const double* G) {
  // Scalar math: dX[c][p] = (dY[p][c] * gamma - c1 - ((X[p][c] - mean) - mean_lo) * rstd * c2) * rstd;
  //              RUN: dX[c][p] = dY[p][c] * gamma * rstd
  auto scalar = [&](std::int64_t p, std::int64_t c) {
    const std::int64_t k = KA ? c : p;
    const double r = R[k], gi = to_double(dy[p * dp + c]) * G[c];
    if constexpr (RUN) {
      dx[c * oc + p] = from_double<T>(gi * r);
    } else {
      const double xhat = ((to_double(x[p * xp + c]) - M[k]) - Lo[k]) * r;
      dx[c * oc + p] = from_double<T>((gi - C1[k] - xhat * C2[k]) * r);
    }
  };
  std::int64_t p = 0;
  if constexpr (kVectorizable<T>) {
    for (; p + 4 <= P; p += 4) {
      std::int64_t c = 0;
      for (; c + 4 <= C; c += 4) {
        const V4d gm = load4(G + c);
        V4d v[4];
        for (int q = 0; q < 4; ++q) {
          const std::int64_t k = p + q;
          const V4d r = KA ? load4(R + c) : splat(R[k]);
          const V4d gi = load4(dy + k * dp + c) * gm;
          if constexpr (RUN) {
            v[q] = gi * r;
          } else {
            const V4d m = KA ? load4(M + c) : splat(M[k]), lo = KA ? load4(Lo + c) : splat(Lo[k]);
            const V4d c1 = KA ? load4(C1 + c) : splat(C1[k]), c2 = KA ? load4(C2 + c) : splat(C2[k]);
            const V4d xhat = ((load4(x + k * xp + c) - m) - lo) * r;
            v[q] = ((gi - c1) - xhat * c2) * r;
          }
        }
        transpose4(v);
        for (int i = 0; i < 4; ++i) store4(dx + (c + i) * oc + p, v[i]);
      }
      for (; c < C; ++c)
        for (int q = 0; q < 4; ++q) scalar(p + q, c);
    }
  }
  for (; p < P; ++p)
    for (std::int64_t c = 0; c < C; ++c) scalar(p, c);
}

/// Layer/rms norm (each row n one set): the row's sums, then its dx while the row is in cache.
/// The same operations in the same order as backward_sums_t followed by backward_dx_t.
template <class T>
void backward_rows_fused_t(Op op, const Geometry& g, const Strided3& xs, const Strided3& ds, const Strided3& os,
                           const SetParams& sp, const double* gamma, double* dgamma, double* dbeta) {
  const T* x = static_cast<const T*>(xs.data);
  const T* dy = static_cast<const T*>(ds.data);
  T* dx = static_cast<T*>(os.data);
  const std::int64_t N = g.N, C = g.C;
  const double* M = sp.mean.data();
  const double* Lo = sp.mean_lo.data();
  const double* R = sp.rstd.data();
  const double m = static_cast<double>(g.set_size);
  const bool rms = op == Op::kRmsNorm;
  const std::int64_t parts = std::clamp<std::int64_t>(N, 1, kMaxParts);
  std::vector<double> pdb(static_cast<std::size_t>(parts * C), 0.0), pdg(pdb.size(), 0.0);
#pragma omp parallel
  {
#pragma omp for schedule(static) nowait
    for (std::int64_t q = 0; q < parts; ++q) {
      for (std::int64_t n = N * q / parts; n < N * (q + 1) / parts; ++n) {
        // Scalar math: c1 = sum_g / m (0 for rms_norm), c2 = sum_gxhat / m; then dx of the row
        double sum_g = 0, sum_gx = 0;
        set_row_sums(x + n * xs.sn, xs.sc, dy + n * ds.sn, ds.sc, C, M[n], Lo[n], R[n], gamma, &pdb[q * C],
                     &pdg[q * C], &sum_g, &sum_gx);
        const double c1 = rms ? 0.0 : sum_g / m, c2 = sum_gx / m;
        dx_row<T, false, true>(x + n * xs.sn, xs.sc, dy + n * ds.sn, ds.sc, dx + n * os.sn, os.sc, C, M + n,
                               Lo + n, R + n, &c1, &c2, gamma, os.stream);
      }
    }
    if (os.stream) stream_fence();  // this thread's non-temporal stores, before the barrier
  }
  for (std::int64_t c = 0; c < C; ++c) {
    double a = 0, b = 0;
    for (std::int64_t q = 0; q < parts; ++q) {
      a += pdb[q * C + c];
      b += pdg[q * C + c];
    }
    dbeta[c] = a;
    dgamma[c] = b;
  }
}

template <class T>
void backward_dx_t(Op op, const Geometry& g, const Strided3& xs, const Strided3& ds, const Strided3& os,
                   const SetParams& sp, const std::vector<double>& c1, const std::vector<double>& c2,
                   const double* gamma, bool running) {
  const T* x = static_cast<const T*>(xs.data);
  const T* dy = static_cast<const T*>(ds.data);
  T* dx = static_cast<T*>(os.data);
  const std::int64_t N = g.N, C = g.C, S = g.S;
  const double* M = sp.mean.data();
  const double* Lo = sp.mean_lo.data();
  const double* R = sp.rstd.data();
  const double* A = c1.data();
  const double* B = c2.data();
  if (op == Op::kLayerNorm || op == Op::kRmsNorm) {
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
      for (std::int64_t n = 0; n < N; ++n)
        dx_row<T, false, true>(x + n * xs.sn, xs.sc, dy + n * ds.sn, ds.sc, dx + n * os.sn, os.sc, C, M + n,
                               Lo + n, R + n, A + n, B + n, gamma, os.stream);
      if (os.stream) stream_fence();  // this thread's non-temporal stores, before the barrier
    }
    return;
  }
  const bool s_inner = is_ncs(xs, g) && !(S <= 1 && C > 1);
  if (s_inner) {
#pragma omp parallel
    {
#pragma omp for schedule(static) nowait
      for (std::int64_t r = 0; r < N * C; ++r) {
        const std::int64_t n = r / C, c = r % C;
        const T* xr = x + n * xs.sn + c * xs.sc;
        const T* dr = dy + n * ds.sn + c * ds.sc;
        T* orow = dx + n * os.sn + c * os.sc;
        if (op == Op::kLayerNorm2d) {
          const std::int64_t k = n * S;
          dx_row<T, true, false>(xr, xs.ss, dr, ds.ss, orow, os.ss, S, M + k, Lo + k, R + k, A + k, B + k,
                                 gamma + c, os.stream);
        } else {
          const std::int64_t k = op == Op::kBatchNorm ? c : n * C + c;
          if (running) {
            dx_row_running<T, false, false>(dr, ds.ss, orow, os.ss, S, R + k, gamma + c);
            continue;
          }
          dx_row<T, false, false>(xr, xs.ss, dr, ds.ss, orow, os.ss, S, M + k, Lo + k, R + k, A + k, B + k,
                                  gamma + c, os.stream);
        }
      }
      if (os.stream) stream_fence();  // this thread's non-temporal stores, before the barrier
    }
    return;
  }
  if (C > 1 && xs.sc == 1 && ds.sc == 1 && os.sc != 1 && (S <= 1 || os.ss == 1)) {
    // channels-last x and dy, s-innermost dx: blocks of kTransposeRows positions of one n.
    const std::int64_t blocks = (S + kTransposeRows - 1) / kTransposeRows;
#pragma omp parallel for schedule(static)
    for (std::int64_t t = 0; t < N * blocks; ++t) {
      const std::int64_t n = t / blocks, s0 = (t % blocks) * kTransposeRows;
      const std::int64_t P = std::min(kTransposeRows, S - s0);
      const T* xr = x + n * xs.sn + s0 * xs.ss;
      const T* dr = dy + n * ds.sn + s0 * ds.ss;
      T* orow = dx + n * os.sn + s0;
      if (op == Op::kLayerNorm2d) {
        const std::int64_t k = n * S + s0;
        dx_rows_transposed<T, false, false>(xr, xs.ss, dr, ds.ss, orow, os.sc, P, C, M + k, Lo + k, R + k, A + k,
                                            B + k, gamma);
        continue;
      }
      const std::int64_t k = op == Op::kBatchNorm ? 0 : n * C;
      if (running) {
        dx_rows_transposed<T, true, true>(xr, xs.ss, dr, ds.ss, orow, os.sc, P, C, M + k, Lo + k, R + k, A + k,
                                          B + k, gamma);
        continue;
      }
      dx_rows_transposed<T, true, false>(xr, xs.ss, dr, ds.ss, orow, os.sc, P, C, M + k, Lo + k, R + k, A + k,
                                         B + k, gamma);
    }
    return;
  }
#pragma omp parallel
  {
#pragma omp for schedule(static) nowait
    for (std::int64_t r = 0; r < N * S; ++r) {
      const std::int64_t n = r / S, s = r % S;
      const T* xr = x + n * xs.sn + s * xs.ss;
      const T* dr = dy + n * ds.sn + s * ds.ss;
      T* orow = dx + n * os.sn + s * os.ss;
      if (op == Op::kLayerNorm2d) {
        dx_row<T, false, true>(xr, xs.sc, dr, ds.sc, orow, os.sc, C, M + r, Lo + r, R + r, A + r, B + r,
                               gamma, os.stream);
      } else {
        const std::int64_t k = op == Op::kBatchNorm ? 0 : n * C;
        if (running) {
          dx_row_running<T, true, true>(dr, ds.sc, orow, os.sc, C, R + k, gamma);
          continue;
        }
        dx_row<T, true, true>(xr, xs.sc, dr, ds.sc, orow, os.sc, C, M + k, Lo + k, R + k, A + k, B + k, gamma,
                              os.stream);
      }
    }
    if (os.stream) stream_fence();  // this thread's non-temporal stores, before the barrier
  }
}

}  // namespace

void backward_sums(Op op, const Geometry& g, const Strided3& x, const Strided3& dy, const SetParams& sp,
                   const double* gamma, double* dgamma, double* dbeta, std::vector<double>& sum_g,
                   std::vector<double>& sum_gxhat) {
  switch (x.dtype) {
    case DType::kFloat64:
      return backward_sums_t<double>(op, g, x, dy, sp, gamma, dgamma, dbeta, sum_g, sum_gxhat);
    case DType::kFloat32:
      return backward_sums_t<float>(op, g, x, dy, sp, gamma, dgamma, dbeta, sum_g, sum_gxhat);
    case DType::kFloat16:
      return backward_sums_t<Half>(op, g, x, dy, sp, gamma, dgamma, dbeta, sum_g, sum_gxhat);
    case DType::kBFloat16:
      return backward_sums_t<BF16>(op, g, x, dy, sp, gamma, dgamma, dbeta, sum_g, sum_gxhat);
  }
}

void backward_rows_fused(Op op, const Geometry& g, const Strided3& x, const Strided3& dy, const Strided3& dx,
                         const SetParams& sp, const double* gamma, double* dgamma, double* dbeta) {
  switch (x.dtype) {
    case DType::kFloat64:
      return backward_rows_fused_t<double>(op, g, x, dy, dx, sp, gamma, dgamma, dbeta);
    case DType::kFloat32:
      return backward_rows_fused_t<float>(op, g, x, dy, dx, sp, gamma, dgamma, dbeta);
    case DType::kFloat16:
      return backward_rows_fused_t<Half>(op, g, x, dy, dx, sp, gamma, dgamma, dbeta);
    case DType::kBFloat16:
      return backward_rows_fused_t<BF16>(op, g, x, dy, dx, sp, gamma, dgamma, dbeta);
  }
}

void backward_dx(Op op, const Geometry& g, const Strided3& x, const Strided3& dy, const Strided3& dx,
                 const SetParams& sp, const std::vector<double>& c1, const std::vector<double>& c2,
                 const double* gamma, bool running) {
  switch (x.dtype) {
    case DType::kFloat64:
      return backward_dx_t<double>(op, g, x, dy, dx, sp, c1, c2, gamma, running);
    case DType::kFloat32:
      return backward_dx_t<float>(op, g, x, dy, dx, sp, c1, c2, gamma, running);
    case DType::kFloat16:
      return backward_dx_t<Half>(op, g, x, dy, dx, sp, c1, c2, gamma, running);
    case DType::kBFloat16:
      return backward_dx_t<BF16>(op, g, x, dy, dx, sp, c1, c2, gamma, running);
  }
}

}  // namespace normcheck::impls::cpu
