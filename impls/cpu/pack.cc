// Views into the kernels' three strides, and the packed copy for views whose dims do not merge.
#include <cstdint>

#include "impls/cpu/kernels.h"

namespace normcheck::impls::cpu {
namespace {

/// The stride of dims [b, e) merged into one (row-major order), or nullopt when they do not merge.
/// Size-1 dims never matter; a group without a dim of size > 1 gets stride 1.
std::optional<std::int64_t> merged_stride(const TensorView& v, int b, int e) {
  std::optional<std::int64_t> inner;  // stride of the innermost dim of size > 1 seen so far
  std::int64_t inner_extent = 1;      // product of the sizes of the dims inside it
  for (int i = e - 1; i >= b; --i) {
    if (v.shape[i] == 1) continue;
    if (!inner) {
      inner = v.strides[i];
      inner_extent = v.shape[i];
      continue;
    }
    if (v.strides[i] != *inner * inner_extent) return std::nullopt;
    inner_extent *= v.shape[i];
  }
  return inner.value_or(1);
}

}  // namespace

std::optional<Strided3> as_strided3(const TensorView& v, const Problem& p) {
  const int r = v.rank();
  int c0, s0;  // dims [0, c0) are n, [c0, s0) are c, [s0, r) are s
  if (p.op == Op::kLayerNorm || p.op == Op::kRmsNorm) {
    c0 = r - static_cast<int>(p.normalized_shape.size());
    s0 = r;
  } else {
    c0 = 1;
    s0 = 2;
  }
  // An empty view addresses nothing: any (n, c, s) strides do, so take the dense NCS ones (a zero
  // dim keeps the strides from merging; the property suite's fixtures found the abort this caused).
  if (v.numel() == 0) {
    std::int64_t C = 1, S = 1;
    for (int d = c0; d < s0; ++d) C *= v.shape[static_cast<std::size_t>(d)];
    for (int d = s0; d < r; ++d) S *= v.shape[static_cast<std::size_t>(d)];
    const std::int64_t sc = S <= 1 ? 1 : S;  // what is_ncs expects of a set of S <= 1 values
    return Strided3{v.data, v.dtype, C * sc, sc, 1};
  }
  const auto sn = merged_stride(v, 0, c0), sc = merged_stride(v, c0, s0), ss = merged_stride(v, s0, r);
  if (!sn || !sc || !ss) return std::nullopt;
  return Strided3{v.data, v.dtype, *sn, *sc, *ss};
}

Tensor packed_copy(const TensorView& v) { return Tensor::copy_of(v); }

void unpack_into(const Tensor& dense, const TensorView& out) {
  const TensorView& d = dense.view();
  const std::int64_t n = d.numel();
  for (std::int64_t i = 0; i < n; ++i) out.set_linear(i, d.get_linear(i));
}

}  // namespace normcheck::impls::cpu
