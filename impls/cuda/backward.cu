// Backward, with the forward's mean / rstd:
//
//   xhat = (X - mean) * rstd, g = dY * gamma[c]
//   dX = rstd * (g - c1 - xhat * c2),  c1 = sum_S g / M,  c2 = sum_S (g * xhat) / M  (rms_norm: c1 = 0)
//   dgamma[c] = sum dY * xhat, dbeta[c] = sum dY  (over the elements of channel c)
//   eval with running statistics (affine in X): dX = dY * gamma[c] * rstd
//
// The per-set and per-channel sums are reduced into per-block partials and merged by a second
// kernel in a fixed order: deterministic, no atomics.
#include "impls/cuda/kernels.cuh"

namespace normcheck::impls::cuda {
namespace detail {
namespace {

/// sum dY * w and sum dY * w * xhat, w = gamma[c] (weight) or 1.
template <class T>
struct GradF {
  using State = Sum2<Acc<T>>;
  const T* __restrict__ x;
  const T* __restrict__ dy;
  const T* __restrict__ gamma;  // null: 1
  const Acc<T>* __restrict__ mean;
  const Acc<T>* __restrict__ rstd;
  Map mp;
  bool weight;
  template <int W>
  __device__ __forceinline__ void add(State& st, i64 off, i64 b, i64 r, i64 i) const {
    using A = Acc<T>;
    A xv[W], dv[W];
    load_n<W>(x + off, xv);
    load_n<W>(dy + off, dv);
    // Scalar math: xhat = (X - mean[k]) * rstd[k]; sum_a += dY * w; sum_b += dY * w * xhat
#pragma unroll
    for (int u = 0; u < W; ++u) {
      const i64 c = mp.c_inner ? i + u : r, s = mp.c_inner ? r : i + u;
      const i64 k = set_index(mp, b, c, s);
      const A xhat = (xv[u] - mean[k]) * rstd[k];
      const A gw = weight && gamma ? dv[u] * to_acc(gamma[c]) : dv[u];
      st.a += gw;
      st.b += gw * xhat;
    }
  }
};

template <class T>
struct GradWriter {  // per channel: dbeta = sum dY, dgamma = sum dY * xhat
  T* dgamma;
  T* dbeta;
  __device__ void operator()(i64 c, const Sum2<Acc<T>>& s) const {
    if (dbeta) dbeta[c] = from_acc<T>(s.a);
    if (dgamma) dgamma[c] = from_acc<T>(s.b);
  }
};

template <class A>
struct SetSumsWriter {  // per set: c1 = sum g / M (rms_norm: 0), c2 = sum g * xhat / M
  A* c1;
  A* c2;
  i64 M;
  bool rms;
  __device__ void operator()(i64 k, const Sum2<A>& s) const {
    c1[k] = rms ? A(0) : s.a / static_cast<A>(M);
    c2[k] = s.b / static_cast<A>(M);
  }
};

template <class T>
struct BatchNormWriter {  // batch_norm: channel c is set c, so both at once
  GradWriter<T> grads;
  const T* gamma;
  Acc<T>* c1;  // null with running statistics
  Acc<T>* c2;
  i64 M;
  __device__ void operator()(i64 c, const Sum2<Acc<T>>& s) const {
    using A = Acc<T>;
    grads(c, s);
    if (!c1) return;
    // Scalar math: c1 = gamma[c] * sum dY / M; c2 = gamma[c] * sum dY * xhat / M
    const A gm = gamma ? to_acc(gamma[c]) : A(1);
    c1[c] = gm * s.a / static_cast<A>(M);
    c2[c] = gm * s.b / static_cast<A>(M);
  }
};

template <class A>
struct StoreWriter {
  Sum2<A>* out;
  __device__ void operator()(i64 k, const Sum2<A>& s) const { out[k] = s; }
};

/// Group (n, g) of instance/group norm: entry j is channel c = g * Cg + j, weighted by gamma[c].
template <class T>
struct GroupLoader {
  const Sum2<Acc<T>>* uv;  // per (n, c): sum dY, sum dY * xhat
  const T* gamma;
  i64 C, G, Cg;
  __device__ Sum2<Acc<T>> operator()(i64 k, i64 j) const {
    using A = Acc<T>;
    const i64 n = k / G, c = (k % G) * Cg + j;
    const A gm = gamma ? to_acc(gamma[c]) : A(1);
    const Sum2<A> s = uv[n * C + c];
    return {gm * s.a, gm * s.b};
  }
};

/// Layer norms whose set fits in registers: X and dY read once, dX written once.
/// V > 1: 128-bit accesses (precondition: M % V == 0, 16-byte aligned pointers).
template <class T, int V>
__global__ void __launch_bounds__(kFusedMaxThreads)
    fused_backward_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx,
                          const T* __restrict__ gamma, const Acc<T>* __restrict__ mean,
                          const Acc<T>* __restrict__ rstd, i64 num_sets, i64 M, bool rms) {
  using A = Acc<T>;
  constexpr int IPT = kElems / V;
  __shared__ A smem[kFusedMaxThreads / 32];
  const int TX = static_cast<int>(blockDim.x), tx = static_cast<int>(threadIdx.x);
  const i64 TY = blockDim.y;
  for (i64 k0 = static_cast<i64>(blockIdx.x) * TY; k0 < num_sets; k0 += static_cast<i64>(gridDim.x) * TY) {
    const i64 k = k0 + threadIdx.y;
    const bool active = k < num_sets;
    const i64 base = (active ? k : 0) * M;
    const A mu = active ? mean[k] : A(0), rs = active ? rstd[k] : A(0);
    A xh[kElems], gv[kElems];
    // Scalar math: xhat[e] = (X[e] - mean) * rstd; g[e] = dY[e] * gamma[e]
#pragma unroll
    for (int j = 0; j < IPT; ++j) {
      const i64 e = (static_cast<i64>(j) * TX + tx) * V;
      if (active && e < M) {
        A gm[V];
        load_n<V>(x + base + e, xh + j * V);
        load_n<V>(dy + base + e, gv + j * V);
        if (gamma) load_n<V>(gamma + e, gm);
#pragma unroll
        for (int u = 0; u < V; ++u) {
          xh[j * V + u] = (xh[j * V + u] - mu) * rs;
          if (gamma) gv[j * V + u] *= gm[u];
        }
      } else {
#pragma unroll
        for (int u = 0; u < V; ++u) xh[j * V + u] = gv[j * V + u] = A(0);
      }
    }
    // Scalar math: c1 = sum_e g[e] / M; c2 = sum_e g[e] * xhat[e] / M   (padding is 0)
    A s1 = A(0), s2 = A(0);
#pragma unroll
    for (int j = 0; j < kElems; ++j) {
      s1 += gv[j];
      s2 += gv[j] * xh[j];
    }
    s1 = group_sum(s1, smem);
    s2 = group_sum(s2, smem);
    const A c1 = rms ? A(0) : s1 / static_cast<A>(M), c2 = s2 / static_cast<A>(M);
    if (!active) continue;
    // Scalar math: dX[e] = rstd * (g[e] - c1 - xhat[e] * c2)
#pragma unroll
    for (int j = 0; j < IPT; ++j) {
      const i64 e = (static_cast<i64>(j) * TX + tx) * V;
      if (e >= M) continue;
      A o[V];
#pragma unroll
      for (int u = 0; u < V; ++u) o[u] = rs * (gv[j * V + u] - c1 - xh[j * V + u] * c2);
      store_n<V>(dx + base + e, o);
    }
  }
}

/// dX over the rows of the [B][R][I] view; c1 == null: running statistics.
template <class T, int V>
__global__ void __launch_bounds__(kThreads)
    dx_kernel(const T* __restrict__ x, const T* __restrict__ dy, T* __restrict__ dx, const T* __restrict__ gamma,
              const Acc<T>* __restrict__ mean, const Acc<T>* __restrict__ rstd, const Acc<T>* __restrict__ c1,
              const Acc<T>* __restrict__ c2, Map mp) {
  using A = Acc<T>;
  const i64 rows = mp.B * mp.R, TY = blockDim.y;
  const int tx = static_cast<int>(threadIdx.x), TX = static_cast<int>(blockDim.x);
  for (i64 row = static_cast<i64>(blockIdx.x) * TY + threadIdx.y; row < rows; row += static_cast<i64>(gridDim.x) * TY) {
    const i64 b = row / mp.R, r = row % mp.R, base = row * mp.I;
    for_range<V>(base, 0, mp.I, tx, TX, [&](auto width, i64 i) {
      constexpr int W = decltype(width)::value;
      A xv[W], dv[W], o[W];
      if (c1) load_n<W>(x + base + i, xv);
      load_n<W>(dy + base + i, dv);
#pragma unroll
      for (int u = 0; u < W; ++u) {
        const i64 c = mp.c_inner ? i + u : r, s = mp.c_inner ? r : i + u;
        const i64 k = set_index(mp, b, c, s);
        const A g = gamma ? dv[u] * to_acc(gamma[c]) : dv[u];
        if (!c1) {
          // Scalar math: dX = dY * gamma[c] * rstd[c]
          o[u] = g * rstd[k];
          continue;
        }
        // Scalar math: dX = rstd[k] * (dY * gamma[c] - c1[k] - (X - mean[k]) * rstd[k] * c2[k])
        const A xhat = (xv[u] - mean[k]) * rstd[k];
        o[u] = rstd[k] * (g - c1[k] - xhat * c2[k]);
      }
      store_n<W>(dx + base + i, o);
    });
  }
}

template <class T>
struct Ptrs {
  const T* x;
  const T* dy;
  const T* gamma;
  const Acc<T>* mean;
  const Acc<T>* rstd;
};

/// Row reduction of GradF over `nrows` rows of length I of the view mp, Q splits, into out.
template <class T>
Status grad_rows(const Ptrs<T>& p, const Map& mp, bool weight, i64 nrows, i64 I, i64 Q, Sum2<Acc<T>>* out,
                 cudaStream_t stream) {
  const GradF<T> f{p.x, p.dy, p.gamma, p.mean, p.rstd, mp, weight};
  const i64 chunk = round_up(ceil_div(I, Q), kVec<T>);
  const unsigned grid = grid_1d(nrows * Q);
  if (aligned16({p.x, p.dy})) {
    row_partial_kernel<kVec<T>><<<grid, kThreads, 0, stream>>>(f, nrows, mp.R, I, Q, chunk, out);
  } else {
    row_partial_kernel<1><<<grid, kThreads, 0, stream>>>(f, nrows, mp.R, I, Q, chunk, out);
  }
  return launch_status("row_partial_kernel");
}

/// Column reduction of GradF over the [B][R][I] view mp, Q splits, into out[(b * Q + q) * I + i].
template <class T>
Status grad_cols(const Ptrs<T>& p, const Map& mp, bool weight, i64 Q, Sum2<Acc<T>>* out, cudaStream_t stream) {
  const GradF<T> f{p.x, p.dy, p.gamma, p.mean, p.rstd, mp, weight};
  const dim3 block(kColX, kColY), grid(grid_1d(mp.B * ceil_div(mp.I, kColX)), static_cast<unsigned>(Q));
  col_partial_kernel<<<grid, block, 0, stream>>>(f, mp.B, mp.R, mp.I, ceil_div(mp.R, Q), out);
  return launch_status("col_partial_kernel");
}

template <class S, class Loader, class Writer>
Status merge(i64 keys, i64 len, const Loader& ld, const Writer& wr, cudaStream_t stream) {
  if (keys <= 0) return {};
  merge_kernel<S><<<grid_1d(ceil_div(keys, kMergeWarps)), dim3(32, kMergeWarps), 0, stream>>>(keys, len, ld, wr);
  return launch_status("merge_kernel");
}

template <class T>
Status backward_t(const Desc& d, const BackwardArgs& a, Workspace& ws, cudaStream_t stream) {
  using A = Acc<T>;
  using S = Sum2<A>;
  const Geometry& g = d.g;
  const Ptrs<T> p{static_cast<const T*>(a.x), static_cast<const T*>(a.dy), static_cast<const T*>(a.gamma),
                  static_cast<const A*>(a.mean), static_cast<const A*>(a.rstd)};
  T* dx = static_cast<T*>(a.dx);
  T* dgamma = static_cast<T*>(a.dgamma);
  T* dbeta = static_cast<T*>(a.dbeta);
  const bool grads = dgamma || dbeta;
  const bool rms = d.op == Op::kRmsNorm;
  const bool running = d.use_running;
  const i64 N = g.N, C = g.C, K = g.num_sets, M = g.set_size;
  const Map mp = set_map(d);
  const GradWriter<T> gw{dgamma, dbeta};
  const bool layer = d.op == Op::kLayerNorm || d.op == Op::kRmsNorm || d.op == Op::kLayerNorm2d;
  const bool rows = sets_are_rows(d) && layer;
  const bool fused = rows && M <= kFusedMaxSet;

  // Scratch: c1 / c2 per set, the partials of the two reductions, per (n, c) sums.
  const i64 Qs = rows ? (fused ? 0 : row_splits(K, M, kVec<T>)) : 0;
  Map gcols = rows_map(d);  // layer norms, sets as rows: per channel over the rows
  const i64 Qg = rows && grads ? col_splits(1, K, C) : 0;
  Map cols = mp;  // the column view of the set / channel sums
  if (d.op == Op::kBatchNorm) cols.B = 1, cols.R = N * g.S;
  const bool by_rows = d.order == Order::kNCS;  // non-layer ops and layer_norm_2d NCS: rows (n, c) along s
  const i64 Qr = !rows ? row_splits(N * C, g.S, kVec<T>) : 0;
  const i64 Qc = !rows ? col_splits(cols.B, cols.R, cols.I) : 0;
  A *c1 = nullptr, *c2 = nullptr;
  S *part = nullptr, *part2 = nullptr, *uv = nullptr;
  auto carve = [&](Carver& cv) {
    const bool need_c = !running && !fused;
    c1 = need_c ? cv.take<A>(K) : nullptr;
    c2 = need_c ? cv.take<A>(K) : nullptr;
    if (rows) {
      part = cv.take<S>(K * Qs);
      part2 = cv.take<S>(Qg * C);
      return;
    }
    if (d.op == Op::kLayerNorm2d) {  // NCS: set sums by columns, channel sums by rows
      part = cv.take<S>(cols.B * Qc * cols.I);
      part2 = cv.take<S>(grads ? N * C * Qr : 0);
      return;
    }
    part = cv.take<S>(by_rows ? N * C * Qr : cols.B * Qc * cols.I);
    if (d.op == Op::kInstanceNorm || d.op == Op::kGroupNorm) uv = cv.take<S>(N * C);
  };
  Carver sizing;
  carve(sizing);
  NC_RETURN_IF_ERROR(ws.reserve(sizing.used));
  Carver cv{static_cast<char*>(ws.data()), 0};
  carve(cv);

  if (rows) {
    // Layer norms with contiguous sets: per-set sums (weighted by gamma) and dX, then per channel.
    if (fused) {
      const bool vec = M % kVec<T> == 0 && aligned16({p.x, p.dy, dx, p.gamma});
      int TX, TY;
      fused_shape(M, TX, TY);
      const dim3 block(static_cast<unsigned>(TX), static_cast<unsigned>(TY));
      const unsigned grid = grid_1d(ceil_div(K, TY));
      if (vec) {
        fused_backward_kernel<T, kVec<T>><<<grid, block, 0, stream>>>(p.x, p.dy, dx, p.gamma, p.mean, p.rstd, K, M, rms);
      } else {
        fused_backward_kernel<T, 1><<<grid, block, 0, stream>>>(p.x, p.dy, dx, p.gamma, p.mean, p.rstd, K, M, rms);
      }
      NC_RETURN_IF_ERROR(launch_status("fused_backward_kernel"));
    } else {
      NC_RETURN_IF_ERROR(grad_rows<T>(p, gcols, true, K, M, Qs, part, stream));
      NC_RETURN_IF_ERROR(merge<S>(K, Qs, per_row_list(part, Qs), SetSumsWriter<A>{c1, c2, M, rms}, stream));
    }
    if (grads) {
      NC_RETURN_IF_ERROR(grad_cols<T>(p, gcols, false, Qg, part2, stream));
      NC_RETURN_IF_ERROR(merge<S>(C, Qg, column_list(part2, Qg, C, 1), gw, stream));
    }
  } else if (d.op == Op::kLayerNorm2d) {
    // NCS, S > 1: sets (n, s) are columns of the (c, s) matrix of each n.
    NC_RETURN_IF_ERROR(grad_cols<T>(p, cols, true, Qc, part, stream));
    NC_RETURN_IF_ERROR(merge<S>(K, Qc, column_list(part, Qc, cols.I, 1), SetSumsWriter<A>{c1, c2, M, false}, stream));
    if (grads) {
      NC_RETURN_IF_ERROR(grad_rows<T>(p, mp, false, N * C, g.S, Qr, part2, stream));
      NC_RETURN_IF_ERROR(merge<S>(C, N * Qr, over_n_list(part2, C, Qr), gw, stream));
    }
  } else if (d.op == Op::kBatchNorm) {
    // Channel c is set c: its two sums give dbeta, dgamma and c1, c2 together.
    const BatchNormWriter<T> bw{gw, p.gamma, c1, c2, M};
    if (by_rows) {
      NC_RETURN_IF_ERROR(grad_rows<T>(p, mp, false, N * C, g.S, Qr, part, stream));
      NC_RETURN_IF_ERROR(merge<S>(C, N * Qr, over_n_list(part, C, Qr), bw, stream));
    } else {
      NC_RETURN_IF_ERROR(grad_cols<T>(p, cols, false, Qc, part, stream));
      NC_RETURN_IF_ERROR(merge<S>(C, Qc, column_list(part, Qc, C, 1), bw, stream));
    }
  } else {
    // instance / group norm: per (n, c) sums, then per channel (over n) and per group (over its
    // channels, weighted by gamma).
    if (by_rows) {
      NC_RETURN_IF_ERROR(grad_rows<T>(p, mp, false, N * C, g.S, Qr, part, stream));
      NC_RETURN_IF_ERROR(merge<S>(N * C, Qr, per_row_list(part, Qr), StoreWriter<A>{uv}, stream));
    } else {
      NC_RETURN_IF_ERROR(grad_cols<T>(p, cols, false, Qc, part, stream));
      NC_RETURN_IF_ERROR(merge<S>(N * C, Qc, column_list(part, Qc, C, 1), StoreWriter<A>{uv}, stream));
    }
    if (grads) NC_RETURN_IF_ERROR(merge<S>(C, N, PartialList<S>{uv, C, 0, 1, 1, C, 0}, gw, stream));
    if (!running) {
      const i64 G = d.op == Op::kGroupNorm ? g.G : C, Cg = C / G;
      NC_RETURN_IF_ERROR(
          merge<S>(K, Cg, GroupLoader<T>{uv, p.gamma, C, G, Cg}, SetSumsWriter<A>{c1, c2, M, false}, stream));
    }
  }

  if (fused) return {};
  const bool vec = mp.I >= kVec<T> && aligned16({p.x, p.dy, dx});
  int TX, TY;
  rows_shape(mp.I, vec ? kVec<T> : 1, TX, TY);
  const dim3 block(static_cast<unsigned>(TX), static_cast<unsigned>(TY));
  const unsigned grid = grid_1d(ceil_div(mp.B * mp.R, TY));
  if (vec) {
    dx_kernel<T, kVec<T>><<<grid, block, 0, stream>>>(p.x, p.dy, dx, p.gamma, p.mean, p.rstd, c1, c2, mp);
  } else {
    dx_kernel<T, 1><<<grid, block, 0, stream>>>(p.x, p.dy, dx, p.gamma, p.mean, p.rstd, c1, c2, mp);
  }
  return launch_status("dx_kernel");
}

}  // namespace
}  // namespace detail

Status backward(const Desc& d, const BackwardArgs& a, Workspace& ws, cudaStream_t stream) {
  if (d.g.N * d.g.C * d.g.S <= 0) return Status::error("internal: cuda::backward on an empty problem");
  switch (d.dtype) {
    case DType::kFloat64: return detail::backward_t<double>(d, a, ws, stream);
    case DType::kFloat32: return detail::backward_t<float>(d, a, ws, stream);
    case DType::kFloat16: return detail::backward_t<__half>(d, a, ws, stream);
    case DType::kBFloat16: return detail::backward_t<__nv_bfloat16>(d, a, ws, stream);
  }
  return Status::error("internal: unknown dtype");
}

}  // namespace normcheck::impls::cuda
