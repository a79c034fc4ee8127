// Forward: each set's statistics (fused with the normalize pass where the set fits in
// registers), the normalize pass, the running statistics.
//
//   mean = sum_S X / M,  var = sum_S (X - mean)^2 / M  (biased),  rstd = 1 / sqrt(var + eps)
//   Y = (X - mean) * rstd * gamma[c] + beta[c]
//   rms_norm: mean = 0, var = sum_S X^2 / M
//
// Never E[X^2] - E[X]^2: sets held on chip take two passes over the registers, longer sets
// Welford within a thread and Chan's merge across threads, blocks and splits.
#include "impls/cuda/kernels.cuh"

namespace normcheck::impls::cuda {
namespace detail {
namespace {

/// How the fused kernel finds the affine index c of element e of set k:
/// per_element: c = e (layer norms); else c = (k % kmod) * cmul + e / sdiv (instance/group norm,
/// batch norm with N = 1, NCS).
struct RowAffine {
  bool per_element = true;
  i64 kmod = 1, cmul = 0, sdiv = 1;
};

template <class A>
struct SetStats {
  A mean, var, rstd;
};

// Scalar math: rstd = 1 / sqrt(var + eps); a set with a NaN or an inf (non-finite mean or var)
// gets mean = sum / M as IEEE arithmetic gives it and var = rstd = NaN; an empty set NaN.
// rms_norm: a set holding +-inf (no NaN) has mean(x^2) = inf and rstd = rsqrt(inf) = 0, as PyTorch.
template <class A>
__device__ __forceinline__ SetStats<A> finish(A mean, A var, A eps, bool rms) {
  if (finite(mean) && finite(var)) return {mean, var, A(1) / sqrt(var + eps)};
  if (rms && var == var) return {A(0), var, A(1) / sqrt(var + eps)};
  return {rms ? A(0) : mean, nan_of<A>(), nan_of<A>()};
}

/// One set per group of TX threads (TY sets per block), the whole set in registers: one read of
/// X, an exact two-pass mean / variance on the registers, one write of Y.
/// V > 1: 128-bit accesses (precondition: M % V == 0 and 16-byte aligned pointers).
template <class T, int V>
__global__ void __launch_bounds__(kFusedMaxThreads)
    fused_forward_kernel(const T* __restrict__ x, T* __restrict__ y, const T* __restrict__ gamma,
                         const T* __restrict__ beta, Acc<T>* __restrict__ mean_out, Acc<T>* __restrict__ rstd_out,
                         Acc<T>* __restrict__ var_out, i64 num_sets, i64 M, RowAffine aff, Acc<T> eps, bool rms) {
  using A = Acc<T>;
  constexpr int IPT = kElems / V;
  __shared__ A smem[kFusedMaxThreads / 32];
  const int TX = static_cast<int>(blockDim.x), tx = static_cast<int>(threadIdx.x);
  const i64 TY = blockDim.y;
  for (i64 k0 = static_cast<i64>(blockIdx.x) * TY; k0 < num_sets; k0 += static_cast<i64>(gridDim.x) * TY) {
    const i64 k = k0 + threadIdx.y;
    const bool active = k < num_sets;
    const T* xs = x + (active ? k : 0) * M;
    A v[kElems];
#pragma unroll
    for (int j = 0; j < IPT; ++j) {
      const i64 e = (static_cast<i64>(j) * TX + tx) * V;
      if (active && e < M) {
        load_n<V>(xs + e, v + j * V);
      } else {
#pragma unroll
        for (int u = 0; u < V; ++u) v[j * V + u] = A(0);
      }
    }
    // Scalar math: mean = sum_{e < M} X[e] / M   (rms_norm: 0)
    A s = A(0);
#pragma unroll
    for (int j = 0; j < kElems; ++j) s += v[j];  // padding is +0
    s = group_sum(s, smem);
    const A mean = rms ? A(0) : s / static_cast<A>(M);
    // Scalar math: var = sum_{e < M} (X[e] - mean)^2 / M   (second pass, on the registers)
    A q = A(0);
#pragma unroll
    for (int j = 0; j < IPT; ++j) {
      const i64 e = (static_cast<i64>(j) * TX + tx) * V;
      if (e < M) {
#pragma unroll
        for (int u = 0; u < V; ++u) {
          const A dlt = v[j * V + u] - mean;
          q += dlt * dlt;
        }
      }
    }
    q = group_sum(q, smem);
    const SetStats<A> st = finish(mean, q / static_cast<A>(M), eps, rms);
    if (active) {
      T* ys = y + k * M;
      const i64 c0 = aff.per_element ? 0 : (k % aff.kmod) * aff.cmul;
      // Scalar math: Y[e] = (X[e] - mean) * rstd * gamma[c] + beta[c]
#pragma unroll
      for (int j = 0; j < IPT; ++j) {
        const i64 e = (static_cast<i64>(j) * TX + tx) * V;
        if (e >= M) continue;
        A gm[V], bt[V], o[V];
        if (aff.per_element) {
          if (gamma) load_n<V>(gamma + e, gm);
          if (beta) load_n<V>(beta + e, bt);
        }
#pragma unroll
        for (int u = 0; u < V; ++u) {
          if (!aff.per_element) {
            const i64 c = c0 + (e + u) / aff.sdiv;
            gm[u] = gamma ? to_acc(gamma[c]) : A(1);
            bt[u] = beta ? to_acc(beta[c]) : A(0);
          } else {
            if (!gamma) gm[u] = A(1);
            if (!beta) bt[u] = A(0);
          }
          o[u] = (v[j * V + u] - st.mean) * st.rstd * gm[u] + bt[u];
        }
        store_n<V>(ys + e, o);
      }
      if (tx == 0) {
        mean_out[k] = st.mean;
        rstd_out[k] = st.rstd;
        if (var_out) var_out[k] = st.var;
      }
    }
  }
}

template <class T>
struct StatsF {  // Welford over X
  using State = Welford<Acc<T>>;
  const T* __restrict__ x;
  template <int W>
  __device__ __forceinline__ void add(State& st, i64 off, i64, i64, i64) const {
    Acc<T> v[W];
    load_n<W>(x + off, v);
#pragma unroll
    for (int u = 0; u < W; ++u) welford_add(st, v[u]);
  }
};

template <class T>
struct SquaresF {  // rms_norm: sum X^2
  using State = Sum2<Acc<T>>;
  const T* __restrict__ x;
  template <int W>
  __device__ __forceinline__ void add(State& st, i64 off, i64, i64, i64) const {
    Acc<T> v[W];
    load_n<W>(x + off, v);
    // Scalar math: sum_sq += X * X
#pragma unroll
    for (int u = 0; u < W; ++u) st.a += v[u] * v[u];
  }
};

template <class A>
struct WelfordWriter {  // merged statistics -> mean, rstd (and var for the running update)
  A* mean;
  A* rstd;
  A* var;
  A eps;
  __device__ void operator()(i64 k, const Welford<A>& s) const {
    SetStats<A> st;
    if (s.count == 0) {
      st = {nan_of<A>(), nan_of<A>(), nan_of<A>()};
    } else if (finite(s.mean) && finite(s.m2)) {
      st = finish(s.mean, s.m2 / static_cast<A>(s.count), eps, false);
    } else {
      st = finish(s.sum / static_cast<A>(s.count), nan_of<A>(), eps, false);
    }
    mean[k] = st.mean;
    rstd[k] = st.rstd;
    if (var) var[k] = st.var;
  }
};

template <class A>
struct SquaresWriter {  // rms_norm: ms = sum X^2 / M
  A* mean;
  A* rstd;
  A eps;
  i64 M;
  __device__ void operator()(i64 k, const Sum2<A>& s) const {
    const SetStats<A> st = finish(A(0), s.a / static_cast<A>(M), eps, true);
    mean[k] = A(0);
    rstd[k] = st.rstd;
  }
};

/// The elementwise pass over rows of the [B][R][I] view: per element its set k and channel c.
template <class T, int V>
__global__ void __launch_bounds__(kThreads)
    normalize_kernel(const T* __restrict__ x, T* __restrict__ y, const T* __restrict__ gamma,
                     const T* __restrict__ beta, const Acc<T>* __restrict__ mean, const Acc<T>* __restrict__ rstd,
                     Map mp) {
  using A = Acc<T>;
  const i64 rows = mp.B * mp.R, TY = blockDim.y;
  const int tx = static_cast<int>(threadIdx.x), TX = static_cast<int>(blockDim.x);
  for (i64 row = static_cast<i64>(blockIdx.x) * TY + threadIdx.y; row < rows; row += static_cast<i64>(gridDim.x) * TY) {
    const i64 b = row / mp.R, r = row % mp.R, base = row * mp.I;
    for_range<V>(base, 0, mp.I, tx, TX, [&](auto width, i64 i) {
      constexpr int W = decltype(width)::value;
      A v[W], o[W];
      load_n<W>(x + base + i, v);
      // Scalar math: Y = (X - mean[k]) * rstd[k] * gamma[c] + beta[c]
#pragma unroll
      for (int u = 0; u < W; ++u) {
        const i64 c = mp.c_inner ? i + u : r, s = mp.c_inner ? r : i + u;
        const i64 k = set_index(mp, b, c, s);
        const A gm = gamma ? to_acc(gamma[c]) : A(1), bt = beta ? to_acc(beta[c]) : A(0);
        o[u] = (v[u] - mean[k]) * rstd[k] * gm + bt;
      }
      store_n<W>(y + base + i, o);
    });
  }
}

/// Eval with running statistics: the per-channel mean / rstd the normalize pass uses.
template <class T>
__global__ void running_params_kernel(const T* __restrict__ running_mean, const T* __restrict__ running_var,
                                      Acc<T>* __restrict__ mean, Acc<T>* __restrict__ rstd, i64 C, Acc<T> eps) {
  using A = Acc<T>;
  // Scalar math: mean[c] = running_mean[c]; rstd[c] = 1 / sqrt(running_var[c] + eps)
  for (i64 c = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; c < C;
       c += static_cast<i64>(gridDim.x) * blockDim.x) {
    mean[c] = to_acc(running_mean[c]);
    rstd[c] = A(1) / sqrt(to_acc(running_var[c]) + eps);
  }
}

/// Training with track_running_stats, per channel, in double, rounded once to T.
template <class T>
__global__ void running_update_kernel(T* __restrict__ running_mean, T* __restrict__ running_var,
                                      const Acc<T>* __restrict__ mean, const Acc<T>* __restrict__ var, i64 C,
                                      i64 instances, double keep, double take, double bessel) {
  // Scalar math: batch_mean = mean_n mean[n][c]; batch_var = mean_n var[n][c] * bessel (bessel = M / (M - 1)
  //              for PyTorch's unbiased estimate, else 1); new = keep * old + take * batch
  for (i64 c = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; c < C;
       c += static_cast<i64>(gridDim.x) * blockDim.x) {
    // Pairwise over n (instance_norm averages N instances; a running sum of N terms errs by up to
    // (N - 1) u, beyond the tolerance model's gamma_N): after term i, a binary counter merges the
    // partial sums of equal size, so at most log2 N + 1 of them are pending.
    double pm[64], pv[64];
    int top = 0;
    for (i64 n = 0; n < instances; ++n) {
      double sm = static_cast<double>(mean[n * C + c]);
      double sv = static_cast<double>(var[n * C + c]) * bessel;
      for (i64 k = n + 1; (k & 1) == 0; k >>= 1) {
        --top;
        sm = pm[top] + sm;
        sv = pv[top] + sv;
      }
      pm[top] = sm;
      pv[top] = sv;
      ++top;
    }
    double bm = 0, bv = 0;
    for (int i = top - 1; i >= 0; --i) {
      bm = pm[i] + bm;
      bv = pv[i] + bv;
    }
    bm /= static_cast<double>(instances);
    bv /= static_cast<double>(instances);
    const double old_m = static_cast<double>(to_acc(running_mean[c]));
    const double old_v = static_cast<double>(to_acc(running_var[c]));
    running_mean[c] = from_double<T>(keep * old_m + take * bm);
    running_var[c] = from_double<T>(keep * old_v + take * bv);
  }
}

// Scalar math: u = splitmix64(seed + i) / 2^64; X[i] = lo + (hi - lo) * u
template <class T>
__global__ void fill_uniform_kernel(T* __restrict__ dst, i64 n, double lo, double hi, std::uint64_t seed) {
  for (i64 i = static_cast<i64>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += static_cast<i64>(gridDim.x) * blockDim.x) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
    dst[i] = from_double<T>(lo + (hi - lo) * u);
  }
}

template <class T>
Status fill_t(void* dst, i64 n, double lo, double hi, std::uint64_t seed, cudaStream_t stream) {
  if (n <= 0) return {};
  fill_uniform_kernel<T><<<grid_1d(ceil_div(n, kThreads), 65536), kThreads, 0, stream>>>(static_cast<T*>(dst), n, lo, hi, seed);
  return launch_status("fill_uniform_kernel");
}

template <class T>
Status normalize_pass(const Desc& d, const T* x, T* y, const T* gamma, const T* beta, const Acc<T>* mean,
                      const Acc<T>* rstd, cudaStream_t stream) {
  const Map mp = set_map(d);
  const bool vec = mp.I >= kVec<T> && aligned16({x, y});
  int TX, TY;
  rows_shape(mp.I, vec ? kVec<T> : 1, TX, TY);
  const dim3 block(static_cast<unsigned>(TX), static_cast<unsigned>(TY));
  const unsigned grid = grid_1d(ceil_div(mp.B * mp.R, TY));
  if (vec) {
    normalize_kernel<T, kVec<T>><<<grid, block, 0, stream>>>(x, y, gamma, beta, mean, rstd, mp);
  } else {
    normalize_kernel<T, 1><<<grid, block, 0, stream>>>(x, y, gamma, beta, mean, rstd, mp);
  }
  return launch_status("normalize_kernel");
}

template <class T>
Status forward_t(const Desc& d, const ForwardArgs& a, Workspace& ws, cudaStream_t stream) {
  using A = Acc<T>;
  const Geometry& g = d.g;
  const T* x = static_cast<const T*>(a.x);
  T* y = static_cast<T*>(a.y);
  const T* gamma = static_cast<const T*>(a.gamma);
  const T* beta = static_cast<const T*>(a.beta);
  A* mean = static_cast<A*>(a.mean);
  A* rstd = static_cast<A*>(a.rstd);
  const A eps = static_cast<A>(d.eps);
  const bool rms = d.op == Op::kRmsNorm;
  const unsigned small_grid = grid_1d(ceil_div(g.C, kThreads), 4096);

  if (d.use_running) {
    running_params_kernel<T><<<small_grid, kThreads, 0, stream>>>(static_cast<const T*>(a.running_mean),
                                                                   static_cast<const T*>(a.running_var), mean, rstd,
                                                                   g.C, eps);
    NC_RETURN_IF_ERROR(launch_status("running_params_kernel"));
    return normalize_pass<T>(d, x, y, gamma, beta, mean, rstd, stream);
  }

  const i64 K = g.num_sets, M = g.set_size;
  const bool rows = sets_are_rows(d);
  const bool fused = rows && M <= kFusedMaxSet;
  // Partials: rows -> per (set, split); batch_norm NCS -> per ((n, c), split); else per column.
  i64 Q = 1, partials = 0;
  Map cm;  // the column view
  i64 width = 1;
  const bool bn_ncs = !rows && d.op == Op::kBatchNorm && d.order == Order::kNCS;
  if (rows && !fused) {
    Q = row_splits(K, M, kVec<T>);
    partials = K * Q;
  } else if (bn_ncs) {
    Q = row_splits(g.N * g.C, g.S, kVec<T>);
    partials = g.N * g.C * Q;
  } else if (!rows) {
    cm = set_map(d);
    if (d.op == Op::kBatchNorm) cm.B = 1, cm.R = g.N * g.S;  // NSC: one column per channel over (n, s)
    if (d.op == Op::kGroupNorm) width = g.C / g.G;
    Q = col_splits(cm.B, cm.R, cm.I);
    partials = cm.B * Q * cm.I;
  }
  Welford<A>* wp = nullptr;
  Sum2<A>* sp = nullptr;
  A* var = nullptr;
  auto carve = [&](Carver& cv) {
    wp = cv.take<Welford<A>>(rms ? 0 : partials);
    sp = cv.take<Sum2<A>>(rms ? partials : 0);
    var = d.update_running ? cv.take<A>(K) : nullptr;
  };
  Carver sizing;
  carve(sizing);
  NC_RETURN_IF_ERROR(ws.reserve(sizing.used));
  Carver cv{static_cast<char*>(ws.data()), 0};
  carve(cv);

  if (fused) {
    RowAffine aff;
    if (d.op == Op::kInstanceNorm || d.op == Op::kBatchNorm) aff = {false, g.C, 1, g.S};
    if (d.op == Op::kGroupNorm) aff = {false, g.G, g.C / g.G, g.S};
    const bool vec = M % kVec<T> == 0 && aligned16({x, y}) && (!aff.per_element || aligned16({gamma, beta}));
    int TX, TY;
    fused_shape(M, TX, TY);
    const dim3 block(static_cast<unsigned>(TX), static_cast<unsigned>(TY));
    const unsigned grid = grid_1d(ceil_div(K, TY));
    if (vec) {
      fused_forward_kernel<T, kVec<T>><<<grid, block, 0, stream>>>(x, y, gamma, beta, mean, rstd, var, K, M, aff, eps, rms);
    } else {
      fused_forward_kernel<T, 1><<<grid, block, 0, stream>>>(x, y, gamma, beta, mean, rstd, var, K, M, aff, eps, rms);
    }
    NC_RETURN_IF_ERROR(launch_status("fused_forward_kernel"));
  } else {
    const dim3 mblock(32, kMergeWarps);
    const unsigned mgrid = grid_1d(ceil_div(K, kMergeWarps));
    if (rows || bn_ncs) {
      const i64 nrows = rows ? K : g.N * g.C, I = rows ? M : g.S;
      const i64 chunk = round_up(ceil_div(I, Q), kVec<T>);
      const bool vec = aligned16({x});
      const unsigned grid = grid_1d(nrows * Q);
      if (rms) {
        if (vec) row_partial_kernel<kVec<T>><<<grid, kThreads, 0, stream>>>(SquaresF<T>{x}, nrows, nrows, I, Q, chunk, sp);
        else row_partial_kernel<1><<<grid, kThreads, 0, stream>>>(SquaresF<T>{x}, nrows, nrows, I, Q, chunk, sp);
      } else {
        if (vec) row_partial_kernel<kVec<T>><<<grid, kThreads, 0, stream>>>(StatsF<T>{x}, nrows, nrows, I, Q, chunk, wp);
        else row_partial_kernel<1><<<grid, kThreads, 0, stream>>>(StatsF<T>{x}, nrows, nrows, I, Q, chunk, wp);
      }
      NC_RETURN_IF_ERROR(launch_status("row_partial_kernel"));
      if (rms) {
        merge_kernel<Sum2<A>><<<mgrid, mblock, 0, stream>>>(K, Q, per_row_list(sp, Q), SquaresWriter<A>{mean, rstd, eps, M});
      } else if (rows) {
        merge_kernel<Welford<A>><<<mgrid, mblock, 0, stream>>>(K, Q, per_row_list(wp, Q), WelfordWriter<A>{mean, rstd, var, eps});
      } else {
        merge_kernel<Welford<A>><<<mgrid, mblock, 0, stream>>>(K, g.N * Q, over_n_list(wp, g.C, Q),
                                                               WelfordWriter<A>{mean, rstd, var, eps});
      }
      NC_RETURN_IF_ERROR(launch_status("merge_kernel"));
    } else {
      const i64 rchunk = ceil_div(cm.R, Q);
      const dim3 block(kColX, kColY), grid(grid_1d(cm.B * ceil_div(cm.I, kColX)), static_cast<unsigned>(Q));
      col_partial_kernel<<<grid, block, 0, stream>>>(StatsF<T>{x}, cm.B, cm.R, cm.I, rchunk, wp);
      NC_RETURN_IF_ERROR(launch_status("col_partial_kernel"));
      merge_kernel<Welford<A>><<<mgrid, mblock, 0, stream>>>(K, Q * width, column_list(wp, Q, cm.I, width),
                                                             WelfordWriter<A>{mean, rstd, var, eps});
      NC_RETURN_IF_ERROR(launch_status("merge_kernel"));
    }
    NC_RETURN_IF_ERROR(normalize_pass<T>(d, x, y, gamma, beta, mean, rstd, stream));
  }

  if (d.update_running) {
    const i64 instances = d.op == Op::kBatchNorm ? 1 : g.N;
    const double bessel = d.unbiased ? static_cast<double>(M) / static_cast<double>(M - 1) : 1.0;
    running_update_kernel<T><<<small_grid, kThreads, 0, stream>>>(static_cast<T*>(a.running_mean),
                                                                   static_cast<T*>(a.running_var), mean, var, g.C,
                                                                   instances, d.keep, d.take, bessel);
    NC_RETURN_IF_ERROR(launch_status("running_update_kernel"));
  }
  return {};
}

}  // namespace
}  // namespace detail

Status forward(const Desc& d, const ForwardArgs& a, Workspace& ws, cudaStream_t stream) {
  if (d.g.N * d.g.C * d.g.S <= 0) return Status::error("internal: cuda::forward on an empty problem");
  if (d.update_running && d.unbiased && d.g.set_size < 2)
    return Status::error("internal: an unbiased running variance needs more than 1 value per set");
  switch (d.dtype) {
    case DType::kFloat64: return detail::forward_t<double>(d, a, ws, stream);
    case DType::kFloat32: return detail::forward_t<float>(d, a, ws, stream);
    case DType::kFloat16: return detail::forward_t<__half>(d, a, ws, stream);
    case DType::kBFloat16: return detail::forward_t<__nv_bfloat16>(d, a, ws, stream);
  }
  return Status::error("internal: unknown dtype");
}

Status fill_uniform(void* dst, DType t, std::int64_t n, double lo, double hi, std::uint64_t seed,
                    cudaStream_t stream) {
  switch (t) {
    case DType::kFloat64: return detail::fill_t<double>(dst, n, lo, hi, seed, stream);
    case DType::kFloat32: return detail::fill_t<float>(dst, n, lo, hi, seed, stream);
    case DType::kFloat16: return detail::fill_t<__half>(dst, n, lo, hi, seed, stream);
    case DType::kBFloat16: return detail::fill_t<__nv_bfloat16>(dst, n, lo, hi, seed, stream);
  }
  return Status::error("internal: unknown dtype");
}

}  // namespace normcheck::impls::cuda
