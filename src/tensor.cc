#include "normcheck/tensor.h"

#include <dlpack/dlpack.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

namespace normcheck {
namespace {

constexpr std::size_t kAlignment = 64;  // a cache line, and enough for any SIMD load

char* byte_address(const TensorView& v, std::int64_t element_offset) {
  return static_cast<char*>(v.data) + element_offset * static_cast<std::int64_t>(size_of(v.dtype));
}

/// True when the dims taken in memory order (innermost first) are dense with these strides;
/// size-1 dims may have any stride, since it is never multiplied by a nonzero index.
bool dense_in_order(const TensorView& v, std::span<const int> innermost_first) {
  if (v.numel() == 0) return true;
  std::int64_t expected = 1;
  for (const int d : innermost_first) {
    const auto i = static_cast<std::size_t>(d);
    if (v.shape[i] == 1) continue;
    if (v.strides[i] != expected) return false;
    expected *= v.shape[i];
  }
  return true;
}

Expected<DType> dtype_from_dlpack(DLDataType t) {
  if (t.lanes == 1 && t.code == kDLFloat && t.bits == 64) return DType::kFloat64;
  if (t.lanes == 1 && t.code == kDLFloat && t.bits == 32) return DType::kFloat32;
  if (t.lanes == 1 && t.code == kDLFloat && t.bits == 16) return DType::kFloat16;
  if (t.lanes == 1 && t.code == kDLBfloat && t.bits == 16) return DType::kBFloat16;
  return Status::error(
      "Expected a DLPack dtype of float64/float32/float16/bfloat16 with 1 lane, but got code=" +
      std::to_string(t.code) + " bits=" + std::to_string(t.bits) + " lanes=" + std::to_string(t.lanes));
}

DLDataType dtype_to_dlpack(DType t) {
  const auto bits = static_cast<std::uint8_t>(8 * size_of(t));
  const auto code = static_cast<std::uint8_t>(t == DType::kBFloat16 ? kDLBfloat : kDLFloat);
  return DLDataType{code, bits, 1};
}

Expected<Device> device_from_dlpack(DLDevice d) {
  // Only memory the device itself owns: pinned (kDLCUDAHost) and managed memory would need a
  // decision about which side reads them, so they are refused rather than guessed.
  if (d.device_type == kDLCPU) return Device::kCPU;
  if (d.device_type == kDLCUDA) return Device::kCUDA;
  return Status::error("Expected a DLPack device of kDLCPU (1) or kDLCUDA (2), but got device_type=" +
                       std::to_string(static_cast<int>(d.device_type)));
}

/// Checks that the dims are non-negative and that their product (with 0 counted as 1, as in
/// contiguous_strides) fits in int64, so numel and compact strides cannot overflow.
Status check_shape(std::span<const std::int64_t> shape) {
  std::int64_t product = 1;
  for (const std::int64_t d : shape) {
    if (d < 0) return Status::error("Expected non-negative DLPack dims, but got shape " + bracketed(shape));
    if (__builtin_mul_overflow(product, std::max<std::int64_t>(d, 1), &product)) {
      return Status::error("Expected a DLPack shape whose element count fits in int64, but got shape " +
                           bracketed(shape));
    }
  }
  return {};
}

/// Checks that every element's byte offset from data fits in int64 (the view's arithmetic assumes
/// so), so hostile strides get a message instead of overflow.
Status check_strides(const TensorView& v) {
  std::int64_t reach = 0;  // sum of (dim - 1) * |stride|: the farthest element from data
  bool overflow = false;
  for (std::size_t i = 0; i < v.shape.size(); ++i) {
    const std::int64_t dim = v.shape[i];
    const std::int64_t stride = v.strides[i];
    if (dim == 0) return {};  // no element at all
    std::int64_t step = 0;
    overflow |= stride == std::numeric_limits<std::int64_t>::min();
    overflow |= __builtin_mul_overflow(dim - 1, stride < 0 ? -stride : stride, &step);
    overflow |= __builtin_add_overflow(reach, step, &reach);
  }
  std::int64_t bytes = 0;
  overflow |= __builtin_add_overflow(reach, 1, &bytes);
  overflow |= __builtin_mul_overflow(bytes, static_cast<std::int64_t>(size_of(v.dtype)), &bytes);
  if (!overflow) return {};
  return Status::error("Expected DLPack strides whose byte offsets fit in int64, but got shape " +
                       bracketed(v.shape) + " with strides " + bracketed(v.strides));
}

/// Owns what a DLManagedTensor from to_dlpack points at: a Tensor (sharing the storage) and
/// mutable copies of shape and strides. The managed tensor lives inside, so deleting this frees all.
struct DLPackContext {
  DLManagedTensor managed{};
  Tensor owner;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
};

void delete_dlpack_context(DLManagedTensor* self) { delete static_cast<DLPackContext*>(self->manager_ctx); }

}  // namespace

std::string_view name(Layout l) {
  switch (l) {
    case Layout::kContiguous: return "contiguous";
    case Layout::kChannelsLast: return "channels_last";
    case Layout::kPermuted: return "permuted";
    case Layout::kStrided: return "strided";
  }
  return "contiguous";
}

std::optional<Layout> parse_layout(std::string_view s) {
  for (const Layout l : kAllLayouts)
    if (s == name(l)) return l;
  return std::nullopt;
}

std::vector<std::int64_t> contiguous_strides(std::span<const std::int64_t> shape) {
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= std::max<std::int64_t>(shape[i], 1);  // as PyTorch: a 0 dim keeps strides distinct
  }
  return strides;
}

std::vector<std::int64_t> channels_last_strides(std::span<const std::int64_t> shape) {
  if (shape.size() <= 2) return contiguous_strides(shape);
  // Memory order, innermost first: C (dim 1), then the last spatial dim down to dim 2, then N.
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t stride = 1;
  strides[1] = stride;
  stride *= std::max<std::int64_t>(shape[1], 1);
  for (std::size_t i = shape.size() - 1; i >= 2; --i) {
    strides[i] = stride;
    stride *= std::max<std::int64_t>(shape[i], 1);
  }
  strides[0] = stride;
  return strides;
}

std::vector<std::int64_t> permuted_strides(std::span<const std::int64_t> shape) {
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    strides[i] = stride;
    stride *= std::max<std::int64_t>(shape[i], 1);
  }
  return strides;
}

namespace {
std::vector<std::int64_t> padded_shape(std::span<const std::int64_t> shape) {
  std::vector<std::int64_t> padded(shape.begin(), shape.end());
  for (std::int64_t& d : padded) d += 1;
  return padded;
}
}  // namespace

std::vector<std::int64_t> strides_for(Layout l, std::span<const std::int64_t> shape) {
  switch (l) {
    case Layout::kChannelsLast: return channels_last_strides(shape);
    case Layout::kPermuted: return permuted_strides(shape);
    case Layout::kStrided: return contiguous_strides(padded_shape(shape));
    case Layout::kContiguous: break;
  }
  return contiguous_strides(shape);
}

std::int64_t numel_of(std::span<const std::int64_t> shape) {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) n *= d;
  return n;
}

std::int64_t TensorView::offset(std::span<const std::int64_t> index) const {
  NC_CHECK(index.size() == shape.size(),
           "index rank " + std::to_string(index.size()) + " vs tensor rank " + std::to_string(shape.size()));
  std::int64_t off = 0;
  for (std::size_t i = 0; i < index.size(); ++i) off += index[i] * strides[i];
  return off;
}

std::int64_t TensorView::offset_of_linear(std::int64_t i) const {
  // Peel row-major digits off i from the innermost dim outward.
  std::int64_t off = 0;
  for (std::size_t d = shape.size(); d-- > 0;) {
    off += (i % shape[d]) * strides[d];
    i /= shape[d];
  }
  return off;
}

double TensorView::get(std::span<const std::int64_t> index) const {
  NC_CHECK(device == Device::kCPU, "get() reads host memory");
  return load(dtype, byte_address(*this, offset(index)));
}

double TensorView::get_linear(std::int64_t i) const {
  NC_CHECK(device == Device::kCPU, "get_linear() reads host memory");
  return load(dtype, byte_address(*this, offset_of_linear(i)));
}

void TensorView::set_linear(std::int64_t i, double v) const {
  NC_CHECK(device == Device::kCPU, "set_linear() writes host memory");
  store(dtype, byte_address(*this, offset_of_linear(i)), v);
}

bool TensorView::is_contiguous() const {
  std::vector<int> order(shape.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(order.size() - 1 - i);
  return dense_in_order(*this, order);
}

bool TensorView::is_channels_last() const {
  if (rank() <= 2) return is_contiguous();
  std::vector<int> order{1};
  for (int d = rank() - 1; d >= 2; --d) order.push_back(d);
  order.push_back(0);
  return dense_in_order(*this, order);
}

Tensor Tensor::empty(DType dtype, std::vector<std::int64_t> shape, Layout layout) {
  for (const std::int64_t d : shape) NC_CHECK(d >= 0, "negative dim in " + bracketed(shape));
  Tensor t;
  t.view_.dtype = dtype;
  t.view_.strides = strides_for(layout, shape);
  t.view_.shape = std::move(shape);
  const std::int64_t numel = t.view_.numel();
  if (numel == 0) return t;  // nothing to store: data stays null, as DLPack allows
  // Strided: the storage is the padded tensor; the view starts at its element (1, 1, ...).
  const std::int64_t stored = layout == Layout::kStrided ? numel_of(padded_shape(t.view_.shape)) : numel;
  std::int64_t start = 0;
  if (layout == Layout::kStrided)
    for (const std::int64_t s : t.view_.strides) start += s;
  const std::size_t bytes = static_cast<std::size_t>(stored) * size_of(dtype);
  // aligned_alloc wants a size that is a multiple of the alignment.
  const std::size_t padded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  void* p = std::aligned_alloc(kAlignment, padded);
  NC_CHECK(p != nullptr, "out of memory allocating " + std::to_string(padded) + " bytes");
  t.storage_ = std::shared_ptr<void>(p, std::free);
  t.view_.data = static_cast<char*>(p) + static_cast<std::size_t>(start) * size_of(dtype);
  return t;
}

Tensor Tensor::from_values(DType dtype, std::vector<std::int64_t> shape, std::span<const double> values,
                           Layout layout) {
  Tensor t = empty(dtype, std::move(shape), layout);
  NC_CHECK(static_cast<std::int64_t>(values.size()) == t.numel(),
           std::to_string(values.size()) + " values for " + std::to_string(t.numel()) + " elements");
  for (std::size_t i = 0; i < values.size(); ++i) t.view_.set_linear(static_cast<std::int64_t>(i), values[i]);
  return t;
}

Tensor Tensor::copy_of(const TensorView& v, Layout layout) {
  NC_CHECK(v.device == Device::kCPU, "copy_of() reads host memory");
  Tensor t = empty(v.dtype, v.shape, layout);
  // Bytes, not doubles: the copy is bit-exact, NaN payloads included.
  const std::size_t elem = size_of(v.dtype);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    std::memcpy(byte_address(t.view_, t.view_.offset_of_linear(i)), byte_address(v, v.offset_of_linear(i)),
                elem);
  }
  return t;
}

std::vector<double> Tensor::values() const {
  std::vector<double> out(static_cast<std::size_t>(numel()));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = view_.get_linear(static_cast<std::int64_t>(i));
  return out;
}

void Tensor::fill(double v) const {
  for (std::int64_t i = 0; i < numel(); ++i) view_.set_linear(i, v);
}

Expected<TensorView> from_dlpack(const DLTensor& t) {
  Expected<DType> dtype = dtype_from_dlpack(t.dtype);
  if (!dtype) return dtype.status();
  Expected<Device> device = device_from_dlpack(t.device);
  if (!device) return device.status();
  if (t.ndim < 0) return Status::error("Expected a DLPack ndim >= 0, but got ndim=" + std::to_string(t.ndim));
  if (t.ndim > 0 && t.shape == nullptr) {
    return Status::error("Expected a DLPack shape array for ndim=" + std::to_string(t.ndim) +
                         ", but got null");
  }

  TensorView v;
  v.dtype = *dtype;
  v.device = *device;
  v.shape.assign(t.shape, t.shape + t.ndim);
  NC_RETURN_IF_ERROR(check_shape(v.shape));
  // DLPack: null strides mean compact row-major.
  v.strides =
      t.strides ? std::vector<std::int64_t>(t.strides, t.strides + t.ndim) : contiguous_strides(v.shape);
  NC_RETURN_IF_ERROR(check_strides(v));

  const std::int64_t numel = v.numel();
  if (t.data == nullptr && numel != 0) {
    return Status::error("Expected a non-null DLPack data pointer for " + std::to_string(numel) +
                         " elements (shape " + bracketed(v.shape) + "), but got null");
  }
  v.data = t.data ? static_cast<char*>(t.data) + t.byte_offset : nullptr;
  return v;
}

DLManagedTensor* to_dlpack(const Tensor& t) {
  NC_CHECK(t.defined(), "to_dlpack() of an undefined Tensor");
  auto* ctx = new DLPackContext;
  ctx->owner = t;  // a copy shares the storage, keeping it alive until the deleter runs
  ctx->shape = t.view().shape;
  ctx->strides = t.view().strides;
  DLTensor& dl = ctx->managed.dl_tensor;
  dl = as_dltensor(t.view());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = delete_dlpack_context;
  return &ctx->managed;
}

DLTensor as_dltensor(const TensorView& v) {
  DLTensor dl{};
  dl.data = v.data;
  dl.device = DLDevice{v.device == Device::kCUDA ? kDLCUDA : kDLCPU, 0};
  dl.ndim = v.rank();
  dl.dtype = dtype_to_dlpack(v.dtype);
  // DLTensor's arrays are non-const in the C ABI; consumers only read them.
  dl.shape = const_cast<std::int64_t*>(v.shape.data());
  dl.strides = const_cast<std::int64_t*>(v.strides.data());
  dl.byte_offset = 0;
  return dl;
}

std::string bracketed(std::span<const std::int64_t> dims) {
  std::string out = "[";
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(dims[i]);
  }
  return out + "]";
}

}  // namespace normcheck
