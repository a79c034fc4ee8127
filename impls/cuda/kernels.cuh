#pragma once
/// Pieces forward.cu and backward.cu both use: the element -> set maps of each op and order, the
/// fused row kernels' limits and the group sums they reduce with, and the scalar constants.
#include <cmath>

#include "impls/cuda/common.cuh"

namespace normcheck::impls::cuda::detail {

/// Values of one set a thread of the fused row kernels keeps in registers, and their largest
/// group of threads per set: sets of up to kFusedMaxSet elements are read once and written once.
constexpr int kElems = 16;
constexpr int kFusedMaxThreads = 512;
constexpr i64 kFusedMaxSet = static_cast<i64>(kElems) * kFusedMaxThreads;

template <class A>
__device__ __forceinline__ A nan_of() {
  if constexpr (std::is_same_v<A, double>) {
    return __longlong_as_double(0x7ff8000000000000LL);
  } else {
    return __int_as_float(0x7fc00000);
  }
}

template <class A>
__device__ __forceinline__ bool finite(A v) {
  return isfinite(v);
}

/// The sum of v over the TX threads of each set's group (blockDim = (TX, TY), TX a power of two;
/// TX > 32: TX a multiple of 32). Every thread of the group gets the same bits: a butterfly within
/// the warp (IEEE addition commutes, so partners compute identical sums), then the warps' sums
/// added in warp order by every thread. All threads of the block must call it.
template <class A>
__device__ __forceinline__ A group_sum(A v, A* smem /* blockDim.x * blockDim.y / 32 */) {
  const int TX = static_cast<int>(blockDim.x), tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  const int width = TX < 32 ? TX : 32;
  for (int off = width / 2; off > 0; off >>= 1) v += __shfl_xor_sync(kFullMask, v, off, width);
  if (TX > 32) {
    const int nw = TX / 32;
    __syncthreads();
    if ((tx & 31) == 0) smem[ty * nw + tx / 32] = v;
    __syncthreads();
    v = smem[ty * nw];
    for (int w = 1; w < nw; ++w) v += smem[ty * nw + w];
  }
  return v;
}

/// Threads per set (TX, a power of two) and sets per block (TY) of the fused row kernels.
inline void fused_shape(i64 m, int& TX, int& TY) {
  const i64 need = ceil_div(m, kElems);
  TX = 1;
  while (TX < need) TX *= 2;
  TY = TX >= kThreads ? 1 : kThreads / TX;
}

/// The [B][R][I] view of the dense tensor in d.order and the map of each element to the set whose
/// mean / rstd normalize it (with running statistics: to its channel).
inline Map set_map(const Desc& d) {
  const Geometry& g = d.g;
  Map m;
  if (d.order == Order::kNCS) {
    m.B = g.N, m.R = g.C, m.I = g.S, m.c_inner = false;
  } else {
    m.B = g.N, m.R = g.S, m.I = g.C, m.c_inner = true;
  }
  switch (d.op) {
    case Op::kBatchNorm: m.kc = 1; break;
    case Op::kInstanceNorm: m.kb = g.C, m.kc = 1; break;
    case Op::kGroupNorm: m.kb = g.G, m.kc = 1, m.cdiv = g.C / g.G; break;
    case Op::kLayerNorm:
    case Op::kRmsNorm: m.kb = 1; break;
    case Op::kLayerNorm2d: m.kb = g.S, m.ks = 1; break;
  }
  if (d.use_running) m.kb = 0, m.kc = 1, m.cdiv = 1, m.ks = 0;
  return m;
}

/// Whether every set is one contiguous run of g.set_size elements, set k at k * set_size.
inline bool sets_are_rows(const Desc& d) {
  switch (d.op) {
    case Op::kLayerNorm:
    case Op::kRmsNorm: return true;
    case Op::kLayerNorm2d: return d.order == Order::kNSC;
    case Op::kInstanceNorm:
    case Op::kGroupNorm: return d.order == Order::kNCS;
    case Op::kBatchNorm: return d.order == Order::kNCS && d.g.N == 1;
  }
  return false;
}

/// The view of the "sets are rows" case as [1][num_sets][set_size] (c = i for the layer norms).
inline Map rows_map(const Desc& d) {
  Map m;
  m.B = 1, m.R = d.g.num_sets, m.I = d.g.set_size, m.c_inner = true, m.ks = 1;
  return m;
}

/// The kernels' launch geometry for an elementwise pass over the rows of a [B][R][I] view.
inline void rows_shape(i64 I, int V, int& TX, int& TY) {
  const i64 need = ceil_div(I, V);
  TX = 1;
  while (TX < need && TX < kThreads) TX *= 2;
  TY = kThreads / TX;
}

// Lists of partials (see PartialList).
template <class S>
PartialList<S> per_row_list(const S* p, i64 Q) {  // key = row, entries q
  return {p, 1, Q, 0, Q, 0, 1};
}
template <class S>
PartialList<S> over_n_list(const S* p, i64 C, i64 Q) {  // rows (n, c), key c, entries (n, q)
  return {p, C, 0, Q, Q, C * Q, 1};
}
template <class S>
PartialList<S> column_list(const S* p, i64 Q, i64 I, i64 width) {  // col partials (b, q, i), key (b, i / width)
  return {p, I / width, Q * I, width, width, I, 1};
}

}  // namespace normcheck::impls::cuda::detail
