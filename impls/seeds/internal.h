#pragma once
/// What the two seeds share: the arithmetic of the tensor-library code they were written in.
///
/// The originals are elementwise ops and reductions on float32 tensors, so each step rounds to
/// float32 (float64 for float64 data). float16/bfloat16 data is upcast to float, as PyTorch's
/// CPU kernels do, and the output is rounded once when it is stored. Reductions are a pairwise
/// (cascade) sum in that type, as a framework's float32 reduction kernel would do; means divide
/// the sum by the count.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "normcheck/dtype.h"
#include "normcheck/tensor.h"

namespace normcheck::impls::seeds_detail {

/// Calls f(i, offset) for every element of v: i its logical row-major position, offset its
/// element offset from v.data. Walks the multi-index incrementally (no division per element).
template <class F>
void for_each_offset(const TensorView& v, F&& f) {
  const std::int64_t n = v.numel();
  if (n == 0) return;
  const std::size_t rank = v.shape.size();
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t off = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    f(i, off);
    for (std::size_t d = rank; d-- > 0;) {
      off += v.strides[d];
      if (++index[d] < v.shape[d]) break;
      off -= index[d] * v.strides[d];
      index[d] = 0;
    }
  }
}

inline void* address_of(const TensorView& v, std::int64_t offset) {
  return static_cast<char*>(v.data) + offset * static_cast<std::int64_t>(size_of(v.dtype));
}

/// The elements of v in logical row-major order, converted to T (exact: T = float for 16/32-bit
/// data, double for float64).
template <class T>
std::vector<T> dense_copy(const TensorView& v) {
  std::vector<T> out(static_cast<std::size_t>(v.numel()));
  for_each_offset(v, [&](std::int64_t i, std::int64_t off) {
    out[static_cast<std::size_t>(i)] = static_cast<T>(load(v.dtype, address_of(v, off)));
  });
  return out;
}

/// Stores values (logical row-major order) into v, each rounded once to v's dtype.
template <class T>
void store_dense(const TensorView& v, std::span<const T> values) {
  for_each_offset(v, [&](std::int64_t i, std::int64_t off) {
    store(v.dtype, address_of(v, off), static_cast<double>(values[static_cast<std::size_t>(i)]));
  });
}

/// Pairwise sum in T: blocks of at most 8 summed left to right, then halves added recursively
/// (the cascade a framework's reduction kernel uses to keep the error at O(u log n)).
template <class T>
T pairwise_sum(const T* x, std::int64_t n) {
  constexpr std::int64_t kBlock = 8;
  if (n <= kBlock) {
    T s = 0;
    for (std::int64_t i = 0; i < n; ++i) s += x[i];
    return s;
  }
  const std::int64_t half = (n / 2 + kBlock - 1) / kBlock * kBlock;
  return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

/// The library's mean: the pairwise sum divided by the count (0/0 = NaN for an empty set).
template <class T>
T mean_of(std::span<const T> x) {
  return pairwise_sum(x.data(), static_cast<std::int64_t>(x.size())) / static_cast<T>(x.size());
}

/// Two passes, like the library's var(): the pairwise sum of (x - mean)^2, each step rounded to T,
/// divided by (m - correction). correction 1 is Bessel's (unbiased), 0 the population variance.
template <class T>
T var_of(std::span<const T> x, T mean, int correction, std::vector<T>& scratch) {
  scratch.resize(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const T d = x[i] - mean;
    scratch[i] = d * d;
  }
  const T m = static_cast<T>(x.size());
  return pairwise_sum(scratch.data(), static_cast<std::int64_t>(x.size())) / (m - static_cast<T>(correction));
}

}  // namespace normcheck::impls::seeds_detail
