#pragma once
/// Device-side building blocks shared by forward.cu and backward.cu: dtype conversions, 128-bit
/// packs, the reduction states (Welford/Chan statistics, pairs of sums) with their warp and block
/// reductions, the element -> set map, and the three generic reduction kernels (along rows, along
/// columns, merging lists of partials). Every reduction runs in a fixed order fixed by the shape
/// alone (never by timing, never by the device's SM count), so a result has the same bits on every
/// run and every GPU: no atomics anywhere.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "impls/cuda/launch.h"

namespace normcheck::impls::cuda::detail {

using i64 = std::int64_t;
constexpr unsigned kFullMask = 0xffffffffu;
/// Work items the partial reductions aim for, a constant (not the SM count) so that the split of
/// every reduction, and therefore its bits, depends on the shape only.
constexpr i64 kTargetBlocks = 1024;
constexpr int kThreads = 256;

template <int N>
using Int = std::integral_constant<int, N>;

// ---------------------------------------------------------------------------------------------
// Types and conversions

template <class T>
struct AccOf {
  using type = float;  // float32, float16, bfloat16 data: float32 accumulation (PyTorch's)
};
template <>
struct AccOf<double> {
  using type = double;
};
template <class T>
using Acc = typename AccOf<T>::type;

/// Elements per 128-bit access.
template <class T>
inline constexpr int kVec = static_cast<int>(16 / sizeof(T));

__device__ __forceinline__ float to_acc(float v) { return v; }
__device__ __forceinline__ double to_acc(double v) { return v; }
__device__ __forceinline__ float to_acc(__half v) { return __half2float(v); }
__device__ __forceinline__ float to_acc(__nv_bfloat16 v) { return __bfloat162float(v); }

/// Acc -> T, round to nearest even.
template <class T, class A>
__device__ __forceinline__ T from_acc(A v) {
  if constexpr (std::is_same_v<T, __half>) {
    return __float2half_rn(v);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __float2bfloat16_rn(v);
  } else {
    return static_cast<T>(v);
  }
}

/// double -> T with ONE rounding (never via float for the 16-bit types).
template <class T>
__device__ __forceinline__ T from_double(double v) {
  if constexpr (std::is_same_v<T, __half>) {
    return __double2half(v);
  } else if constexpr (std::is_same_v<T, __nv_bfloat16>) {
    return __double2bfloat16(v);
  } else {
    return static_cast<T>(v);
  }
}

template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

/// V consecutive elements at p (V > 1: one 128-bit load; p must be 16-byte aligned).
template <int V, class T>
__device__ __forceinline__ void load_n(const T* __restrict__ p, Acc<T>* out) {
  if constexpr (V == 1) {
    out[0] = to_acc(p[0]);
  } else {
    const Pack<T, V> pk = *reinterpret_cast<const Pack<T, V>*>(p);
#pragma unroll
    for (int j = 0; j < V; ++j) out[j] = to_acc(pk.v[j]);
  }
}

template <int V, class T>
__device__ __forceinline__ void store_n(T* __restrict__ p, const Acc<T>* in) {
  if constexpr (V == 1) {
    p[0] = from_acc<T>(in[0]);
  } else {
    Pack<T, V> pk;
#pragma unroll
    for (int j = 0; j < V; ++j) pk.v[j] = from_acc<T>(in[j]);
    *reinterpret_cast<Pack<T, V>*>(p) = pk;
  }
}

/// Whether every pointer is 16-byte aligned (null pointers do not count).
inline bool aligned16(std::initializer_list<const void*> ps) {
  for (const void* p : ps)
    if (p != nullptr && reinterpret_cast<std::uintptr_t>(p) % 16 != 0) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reduction states. Plain aggregates (value-initialized S{} is the identity) so that they can
// live in __shared__ memory.

/// count / mean / M2 of a set of values (Welford within a thread, Chan's merge across), plus
/// their plain IEEE sum: the mean of a set that holds a NaN or an inf is sum / count (+-inf or
/// NaN), as the reference defines it.
template <class A>
struct Welford {
  A mean, m2, sum;
  i64 count;
};

// Scalar math: count += 1; delta = X - mean; mean += delta / count; M2 += delta * (X - mean)
template <class A>
__device__ __forceinline__ void welford_add(Welford<A>& s, A x) {
  s.count += 1;
  const A delta = x - s.mean;
  s.mean += delta / static_cast<A>(s.count);
  s.m2 += delta * (x - s.mean);
  s.sum += x;
}

// Scalar math (Chan et al.): n = na + nb; delta = mean_b - mean_a; mean = mean_a + delta * nb / n;
//              M2 = M2_a + M2_b + delta^2 * na * nb / n
template <class A>
__device__ __forceinline__ Welford<A> merge(const Welford<A>& a, const Welford<A>& b) {
  if (b.count == 0) return a;
  if (a.count == 0) return b;
  Welford<A> r;
  r.count = a.count + b.count;
  const A nb_over_n = static_cast<A>(b.count) / static_cast<A>(r.count);
  const A delta = b.mean - a.mean;
  r.mean = a.mean + delta * nb_over_n;
  r.m2 = (a.m2 + b.m2) + delta * delta * static_cast<A>(a.count) * nb_over_n;
  r.sum = a.sum + b.sum;
  return r;
}

template <class A>
__device__ __forceinline__ Welford<A> shfl_down(const Welford<A>& s, int off) {
  Welford<A> r;
  r.mean = __shfl_down_sync(kFullMask, s.mean, off);
  r.m2 = __shfl_down_sync(kFullMask, s.m2, off);
  r.sum = __shfl_down_sync(kFullMask, s.sum, off);
  r.count = __shfl_down_sync(kFullMask, static_cast<long long>(s.count), off);
  return r;
}

/// Two sums reduced together (backward: sum dY * w and sum dY * w * xhat; rms_norm: sum X^2).
template <class A>
struct Sum2 {
  A a, b;
};

template <class A>
__device__ __forceinline__ Sum2<A> merge(const Sum2<A>& x, const Sum2<A>& y) {
  return Sum2<A>{x.a + y.a, x.b + y.b};
}

template <class A>
__device__ __forceinline__ Sum2<A> shfl_down(const Sum2<A>& s, int off) {
  return Sum2<A>{__shfl_down_sync(kFullMask, s.a, off), __shfl_down_sync(kFullMask, s.b, off)};
}

/// Warp tree (lane 0 gets merge over lanes in a fixed order).
template <class S>
__device__ __forceinline__ S warp_reduce(S v) {
  const int lane = static_cast<int>(threadIdx.x & 31);
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    const S o = shfl_down(v, off);
    if (lane + off < 32) v = merge(v, o);
  }
  return v;
}

/// Block reduction for a 1-D block whose size is a multiple of 32 (at most 1024): warp trees, then
/// the warps' results merged by warp 0 in warp order. The result is valid in thread 0.
template <class S>
__device__ __forceinline__ S block_reduce(S v, S* smem /* >= 32 entries */) {
  const int lane = static_cast<int>(threadIdx.x & 31), warp = static_cast<int>(threadIdx.x >> 5);
  const int nwarps = static_cast<int>((blockDim.x + 31) >> 5);
  v = warp_reduce(v);
  __syncthreads();  // smem may still be read by the previous call
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < nwarps ? smem[lane] : S{};
    v = warp_reduce(v);
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// Geometry on the device: a dense tensor viewed as [B][R][I] (I innermost), and the map from an
// element to its set k and its affine index c:
//   c = c_inner ? i : r,   s = c_inner ? r : i,   k = b * kb + (c / cdiv) * kc + s * ks

struct Map {
  i64 B = 1, R = 1, I = 1;
  bool c_inner = false;
  i64 kb = 0, kc = 0, cdiv = 1, ks = 0;
};

__device__ __forceinline__ i64 set_index(const Map& m, i64 b, i64 c, i64 s) {
  return b * m.kb + (m.cdiv == 1 ? c : c / m.cdiv) * m.kc + s * m.ks;
}

/// Elements [i0, i1) of a row whose element i0 sits at memory offset off0, split among nt threads
/// (this is thread t): scalar head up to a 16-byte boundary, 128-bit body, scalar tail. fn(Int<W>,
/// i) handles elements i .. i + W - 1. Each thread visits its elements in increasing order.
template <int V, class Fn>
__device__ __forceinline__ void for_range(i64 off0, i64 i0, i64 i1, int t, int nt, Fn&& fn) {
  i64 rest = i0;
  if constexpr (V > 1) {
    const i64 mis = off0 % V;
    i64 head = mis == 0 ? i0 : i0 + (V - mis);
    if (head > i1) head = i1;
    for (i64 i = i0 + t; i < head; i += nt) fn(Int<1>{}, i);
    const i64 body_end = head + (i1 - head) / V * V;
    for (i64 i = head + static_cast<i64>(t) * V; i < body_end; i += static_cast<i64>(nt) * V) fn(Int<V>{}, i);
    rest = body_end;
  }
  for (i64 i = rest + t; i < i1; i += nt) fn(Int<1>{}, i);
}

// ---------------------------------------------------------------------------------------------
// Generic reductions. A functor F has `using State`, and
//   template <int W> void add(State& st, i64 off, i64 b, i64 r, i64 i) const
// which folds the W elements at memory offset off (indices (b, r, i .. i + W - 1)) into st.

/// Along rows: work item w = row * Q + q reduces elements [q * chunk, (q + 1) * chunk) of row
/// `row` (= b * R + r) of the [B][R][I] view into out[w]. 1-D blocks of kThreads.
template <int V, class F>
__global__ void __launch_bounds__(kThreads) row_partial_kernel(F f, i64 rows, i64 R, i64 I, i64 Q, i64 chunk,
                                                              typename F::State* __restrict__ out) {
  using S = typename F::State;
  __shared__ S smem[32];
  for (i64 w = blockIdx.x; w < rows * Q; w += gridDim.x) {
    const i64 row = w / Q, q = w % Q;
    const i64 b = row / R, r = row % R;
    const i64 i0 = q * chunk;
    const i64 i1 = i0 + chunk < I ? i0 + chunk : I;
    const i64 base = row * I;
    S st{};
    if (i0 < i1)
      for_range<V>(base + i0, i0, i1, static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x),
                   [&](auto width, i64 i) { f.template add<decltype(width)::value>(st, base + i, b, r, i); });
    st = block_reduce(st, smem);
    if (threadIdx.x == 0) out[w] = st;
  }
}

constexpr int kColX = 32, kColY = 8;

/// Along columns: block (kColX, kColY); work item (b, column tile) x split q = blockIdx.y reduces
/// rows [q * rchunk, (q + 1) * rchunk) of every column i of the tile into out[(b * Q + q) * I + i].
/// Thread (x, y) folds rows y, y + kColY, ... (coalesced across x); the kColY partials are merged
/// in y order.
template <class F>
__global__ void __launch_bounds__(kColX* kColY) col_partial_kernel(F f, i64 B, i64 R, i64 I, i64 rchunk,
                                                                  typename F::State* __restrict__ out) {
  using S = typename F::State;
  __shared__ S sh[kColY][kColX];
  const i64 tiles = (I + kColX - 1) / kColX;
  const i64 Q = gridDim.y, q = blockIdx.y;
  const int tx = static_cast<int>(threadIdx.x), ty = static_cast<int>(threadIdx.y);
  for (i64 w = blockIdx.x; w < B * tiles; w += gridDim.x) {
    const i64 b = w / tiles, i = (w % tiles) * kColX + tx;
    const i64 r0 = q * rchunk;
    const i64 r1 = r0 + rchunk < R ? r0 + rchunk : R;
    S st{};
    if (i < I)
      for (i64 r = r0 + ty; r < r1; r += kColY) f.template add<1>(st, (b * R + r) * I + i, b, r, i);
    sh[ty][tx] = st;
    __syncthreads();
    if (ty == 0 && i < I) {
      S acc = sh[0][tx];
#pragma unroll
      for (int y = 1; y < kColY; ++y) acc = merge(acc, sh[y][tx]);
      out[(b * Q + q) * I + i] = acc;
    }
    __syncthreads();
  }
}

/// A list of partials per key: entry j of key k is
///   p[(k / Kin) * A + (k % Kin) * Bk + (j / n2) * J1 + (j % n2) * J2].
template <class S>
struct PartialList {
  const S* p;
  i64 Kin, A, Bk, n2, J1, J2;
  __device__ S operator()(i64 k, i64 j) const {
    return p[(k / Kin) * A + (k % Kin) * Bk + (j / n2) * J1 + (j % n2) * J2];
  }
};

constexpr int kMergeWarps = 4;

/// One warp per key merges the key's `len` entries (lane l takes l, l + 32, ... in order, then
/// the warp tree) and hands the result to wr(k, state) on lane 0.
template <class S, class Loader, class Writer>
__global__ void __launch_bounds__(32 * kMergeWarps) merge_kernel(i64 keys, i64 len, Loader ld, Writer wr) {
  const int lane = static_cast<int>(threadIdx.x);
  for (i64 k = static_cast<i64>(blockIdx.x) * kMergeWarps + threadIdx.y; k - threadIdx.y < keys;
       k += static_cast<i64>(gridDim.x) * kMergeWarps) {
    // The loop bound is uniform per block; keys past the end only take part in the shuffles.
    S st{};
    if (k < keys)
      for (i64 j = lane; j < len; j += 32) st = merge(st, ld(k, j));
    st = warp_reduce(st);
    if (lane == 0 && k < keys) wr(k, st);
  }
}

// ---------------------------------------------------------------------------------------------
// Host-side helpers

/// The Status of the launch just made: CUDA's error name and string, with the kernel's name.
inline Status launch_status(const char* kernel) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return {};
  return Status::error(std::string("CUDA launch of ") + kernel + " failed: " + cudaGetErrorName(e) + " (" +
                       cudaGetErrorString(e) + ")");
}

inline i64 ceil_div(i64 a, i64 b) { return (a + b - 1) / b; }
inline unsigned grid_1d(i64 items, i64 cap = i64{1} << 20) {
  return static_cast<unsigned>(items < 1 ? 1 : (items < cap ? items : cap));
}
inline i64 round_up(i64 a, i64 b) { return ceil_div(a, b) * b; }

/// Splits of a row reduction: enough work items for the GPU, at least 4 vectors per thread.
inline i64 row_splits(i64 rows, i64 I, int V) {
  const i64 want = ceil_div(kTargetBlocks, rows < 1 ? 1 : rows);
  const i64 most = I / (static_cast<i64>(kThreads) * V * 4);
  i64 q = want < most ? want : most;
  return q < 1 ? 1 : q;
}

/// Splits of a column reduction: enough blocks, at least 64 rows per split (8 per thread).
inline i64 col_splits(i64 B, i64 R, i64 I) {
  const i64 blocks = B * ceil_div(I, kColX);
  const i64 want = ceil_div(kTargetBlocks, blocks < 1 ? 1 : blocks);
  const i64 most = R / 64;
  i64 q = want < most ? want : most;
  if (q > 65535) q = 65535;
  return q < 1 ? 1 : q;
}

/// Carves aligned sub-buffers out of one workspace; first run with base == nullptr to size it.
struct Carver {
  char* base = nullptr;
  std::size_t used = 0;
  template <class U>
  U* take(i64 n) {
    used = (used + 255) / 256 * 256;
    U* p = base ? reinterpret_cast<U*>(base + used) : nullptr;
    used += static_cast<std::size_t>(n < 0 ? 0 : n) * sizeof(U);
    return p;
  }
};

}  // namespace normcheck::impls::cuda::detail
