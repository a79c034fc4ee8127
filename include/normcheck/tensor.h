#pragma once
/// Tensors: an owning CPU tensor and a strided, non-owning view, both convertible to and from
/// DLPack's DLTensor (the ecosystem's tensor ABI), so that contiguous, channels-last, sliced and
/// permuted inputs are all expressible. Strides are in elements, as in PyTorch and DLPack.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// Included, not forward-declared: DLPack's DLTensor is a typedef of an anonymous struct.
#include <dlpack/dlpack.h>

#include "normcheck/dtype.h"
#include "normcheck/status.h"

namespace normcheck {

enum class Device : std::uint8_t { kCPU, kCUDA };

/// The memory formats a problem names. Channels-last puts dim 1 (C) innermost for rank >= 3:
/// (N, C, L) -> memory order N, L, C; (N, C, H, W) -> N, H, W, C; (N, C, D, H, W) -> N, D, H, W, C.
/// Permuted is dense with the dims in reverse memory order (dim 0 innermost: the transpose a
/// kernel that assumes row-major gets wrong). Strided is a slice of a larger buffer, x[1:, 1:, ...]
/// of a tensor one larger in every dim: no dim is dense and the data does not start at the buffer.
enum class Layout : std::uint8_t { kContiguous, kChannelsLast, kPermuted, kStrided };
inline constexpr Layout kAllLayouts[] = {Layout::kContiguous, Layout::kChannelsLast, Layout::kPermuted,
                                         Layout::kStrided};

std::string_view name(Layout l);  ///< "contiguous", "channels_last", "permuted", "strided"
std::optional<Layout> parse_layout(std::string_view s);

/// "[2, 3, 4]": a shape in an error message.
std::string bracketed(std::span<const std::int64_t> dims);

std::vector<std::int64_t> contiguous_strides(std::span<const std::int64_t> shape);
/// Precondition: rank >= 2 (rank 2 is the same as contiguous).
std::vector<std::int64_t> channels_last_strides(std::span<const std::int64_t> shape);
/// Dense strides with dim 0 innermost (rank <= 1: contiguous).
std::vector<std::int64_t> permuted_strides(std::span<const std::int64_t> shape);
/// The strides of layout l for shape (strided: those of the padded buffer, one larger per dim).
std::vector<std::int64_t> strides_for(Layout l, std::span<const std::int64_t> shape);

/// The product of the dims; 1 for rank 0. Precondition: validated not to overflow.
std::int64_t numel_of(std::span<const std::int64_t> shape);

/// A strided view of elements of one dtype. data points at the element with all indices 0;
/// strides may be any integers (negative too, as DLPack allows), in elements.
struct TensorView {
  void* data = nullptr;
  DType dtype = DType::kFloat32;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
  Device device = Device::kCPU;

  int rank() const { return static_cast<int>(shape.size()); }
  std::int64_t numel() const { return numel_of(shape); }
  /// Element offset (from data) of a multi-index.
  std::int64_t offset(std::span<const std::int64_t> index) const;
  /// Element offset of the i-th element in logical row-major order.
  std::int64_t offset_of_linear(std::int64_t i) const;
  /// CPU only: the element at a multi-index / at logical row-major position i, as a double.
  double get(std::span<const std::int64_t> index) const;
  double get_linear(std::int64_t i) const;
  void set_linear(std::int64_t i, double v) const;
  bool is_contiguous() const;
  bool is_channels_last() const;
};

/// An owning CPU tensor: 64-byte aligned storage of numel elements, dense in the given layout
/// (for Layout::kStrided: a view into storage one larger in every dim, at offset (1, 1, ...)).
class Tensor {
 public:
  Tensor() = default;
  static Tensor empty(DType dtype, std::vector<std::int64_t> shape, Layout layout = Layout::kContiguous);
  /// Values in logical row-major order, each correctly rounded to dtype.
  static Tensor from_values(DType dtype, std::vector<std::int64_t> shape, std::span<const double> values,
                            Layout layout = Layout::kContiguous);
  /// A dense copy of any CPU view, in the given layout.
  static Tensor copy_of(const TensorView& v, Layout layout = Layout::kContiguous);

  const TensorView& view() const { return view_; }
  DType dtype() const { return view_.dtype; }
  const std::vector<std::int64_t>& shape() const { return view_.shape; }
  std::int64_t numel() const { return view_.numel(); }
  void* data() const { return view_.data; }
  bool defined() const { return storage_ != nullptr || view_.numel() == 0; }
  /// All elements in logical row-major order, as doubles.
  std::vector<double> values() const;
  void fill(double v) const;

 private:
  std::shared_ptr<void> storage_;
  TensorView view_;
};

/// Validates and wraps a DLTensor (CPU or CUDA; float64/32/16 and bfloat16; lanes 1) as a view.
/// Null strides mean compact row-major, as DLPack specifies; byte_offset is honoured.
Expected<TensorView> from_dlpack(const DLTensor& t);
/// A DLManagedTensor that shares the tensor's storage (kept alive until the deleter runs).
DLManagedTensor* to_dlpack(const Tensor& t);
/// A non-owning DLTensor describing v; shape/strides point into v, which must outlive the result.
DLTensor as_dltensor(const TensorView& v);

}  // namespace normcheck
