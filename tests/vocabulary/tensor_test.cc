#include "normcheck/tensor.h"

#include <dlpack/dlpack.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace normcheck {
namespace {

using Dims = std::vector<std::int64_t>;

std::vector<double> iota_values(std::int64_t n, double start = 0) {
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), start);
  return v;
}

/// A view of t's storage with other shape/strides and data advanced by `offset` elements.
TensorView view_of(const Tensor& t, Dims shape, Dims strides, std::int64_t offset = 0) {
  TensorView v = t.view();
  v.data = static_cast<char*>(t.data()) + offset * static_cast<std::int64_t>(size_of(t.dtype()));
  v.shape = std::move(shape);
  v.strides = std::move(strides);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Layouts and strides.

TEST(Tensor, ContiguousStridesAreRowMajor) {
  EXPECT_EQ(contiguous_strides(Dims{}), Dims{});
  EXPECT_EQ(contiguous_strides(Dims{7}), (Dims{1}));
  EXPECT_EQ(contiguous_strides(Dims{2, 3}), (Dims{3, 1}));
  EXPECT_EQ(contiguous_strides(Dims{2, 3, 4}), (Dims{12, 4, 1}));
  EXPECT_EQ(contiguous_strides(Dims{2, 3, 4, 5}), (Dims{60, 20, 5, 1}));
  EXPECT_EQ(contiguous_strides(Dims{2, 3, 4, 5, 6}), (Dims{360, 120, 30, 6, 1}));
}

TEST(Tensor, ChannelsLastStridesPutChannelsInnermost) {
  EXPECT_EQ(channels_last_strides(Dims{2, 3}), (Dims{3, 1}));                        // rank 2: contiguous
  EXPECT_EQ(channels_last_strides(Dims{2, 3, 4}), (Dims{12, 1, 3}));                 // N, L, C
  EXPECT_EQ(channels_last_strides(Dims{2, 3, 4, 5}), (Dims{60, 1, 15, 3}));          // N, H, W, C
  EXPECT_EQ(channels_last_strides(Dims{2, 3, 4, 5, 6}), (Dims{360, 1, 90, 18, 3}));  // N, D, H, W, C
}

TEST(Tensor, StrideFormulasHoldForRanksTwoToFive) {
  const Dims dims{2, 3, 4, 5, 6};
  for (std::size_t rank = 2; rank <= 5; ++rank) {
    const Dims shape(dims.begin(), dims.begin() + static_cast<std::ptrdiff_t>(rank));
    SCOPED_TRACE("rank " + std::to_string(rank));
    // Contiguous: each stride is the product of the dims after it.
    const Dims c = strides_for(Layout::kContiguous, shape);
    for (std::size_t d = 0; d < rank; ++d) {
      EXPECT_EQ(c[d], std::accumulate(shape.begin() + static_cast<std::ptrdiff_t>(d) + 1, shape.end(),
                                      std::int64_t{1}, std::multiplies<>()));
    }
    // Channels-last: memory order (innermost first) is 1, rank-1, ..., 2, 0 for rank >= 3.
    const Dims cl = strides_for(Layout::kChannelsLast, shape);
    std::vector<std::size_t> order;
    if (rank >= 3) {
      order.push_back(1);
      for (std::size_t d = rank - 1; d >= 2; --d) order.push_back(d);
      order.push_back(0);
    } else {
      order = {1, 0};
    }
    std::int64_t expected = 1;
    for (const std::size_t d : order) {
      EXPECT_EQ(cl[d], expected) << "dim " << d;
      expected *= shape[d];
    }
    EXPECT_TRUE(Tensor::empty(DType::kFloat32, shape, Layout::kChannelsLast).view().is_channels_last());
    EXPECT_TRUE(Tensor::empty(DType::kFloat32, shape).view().is_contiguous());
    EXPECT_EQ(Tensor::empty(DType::kFloat32, shape, Layout::kChannelsLast).view().is_contiguous(), rank == 2);
  }
}

TEST(Tensor, LayoutNamesParseBack) {
  for (const Layout l : kAllLayouts) EXPECT_EQ(parse_layout(name(l)), l);
  EXPECT_EQ(name(Layout::kChannelsLast), "channels_last");
  EXPECT_EQ(parse_layout("nhwc"), std::nullopt);
  EXPECT_EQ(parse_layout(""), std::nullopt);
}

TEST(Tensor, PermutedIsDenseWithDimZeroInnermost) {
  EXPECT_EQ(permuted_strides(std::vector<std::int64_t>{2, 3, 4}), (std::vector<std::int64_t>{1, 2, 6}));
  const std::vector<double> v{0, 1, 2, 3, 4, 5};
  const Tensor t = Tensor::from_values(DType::kFloat64, {2, 3}, v, Layout::kPermuted);
  EXPECT_FALSE(t.view().is_contiguous());
  EXPECT_EQ(t.values(), v);
  EXPECT_EQ(static_cast<const double*>(t.data())[1], 3.0);  // memory order: x[1][0] follows x[0][0]
}

TEST(Tensor, StridedIsASliceOfABufferOneLargerInEveryDim) {
  const std::vector<double> v{0, 1, 2, 3, 4, 5};
  const Tensor t = Tensor::from_values(DType::kFloat32, {2, 3}, v, Layout::kStrided);
  EXPECT_EQ(t.view().strides, (std::vector<std::int64_t>{4, 1}));  // the padded buffer is 3 x 4
  EXPECT_FALSE(t.view().is_contiguous());
  EXPECT_EQ(t.values(), v);
  EXPECT_EQ(Tensor::copy_of(t.view()).values(), v);
  // The view starts at element (1, 1) of the padded 3 x 4 buffer: x[0][1] is the next float.
  EXPECT_EQ(static_cast<const float*>(t.data())[1], 1.0f);
  EXPECT_EQ(static_cast<const float*>(t.data())[4], 3.0f);
  const Tensor empty = Tensor::empty(DType::kFloat32, {0, 3}, Layout::kStrided);
  EXPECT_EQ(empty.numel(), 0);
}

TEST(Tensor, NumelOfRankZeroIsOne) {
  EXPECT_EQ(numel_of(Dims{}), 1);
  EXPECT_EQ(numel_of(Dims{2, 0, 3}), 0);
  EXPECT_EQ(numel_of(Dims{2, 3, 4}), 24);
}

TEST(Tensor, SizeOneDimsStridesAreIrrelevantAndEmptyIsContiguous) {
  TensorView v;
  v.shape = {2, 1, 3};
  v.strides = {3, 999, 1};
  EXPECT_TRUE(v.is_contiguous());
  v.strides = {3, 1, 2};
  EXPECT_FALSE(v.is_contiguous());

  v.shape = {2, 0, 3};  // no element: any strides describe it
  v.strides = {5, 7, 11};
  EXPECT_TRUE(v.is_contiguous());
  EXPECT_TRUE(v.is_channels_last());

  v.shape = {2, 1, 4, 4};  // C == 1: contiguous and channels-last are the same memory
  v.strides = contiguous_strides(v.shape);
  EXPECT_TRUE(v.is_channels_last());
  v.strides = channels_last_strides(v.shape);
  EXPECT_TRUE(v.is_contiguous());

  v.shape = {2, 3, 4, 5};
  v.strides = {60, 1, 15, 3};
  EXPECT_TRUE(v.is_channels_last());
  EXPECT_FALSE(v.is_contiguous());
  v.strides = {60, 1, 3, 12};  // H and W swapped in memory: neither
  EXPECT_FALSE(v.is_channels_last());
  EXPECT_FALSE(v.is_contiguous());

  v.shape = {};
  v.strides = {};
  EXPECT_TRUE(v.is_contiguous());
  EXPECT_TRUE(v.is_channels_last());
}

// ---------------------------------------------------------------------------------------------
// Owning tensors.

TEST(Tensor, EmptyIsAlignedAndDenseInItsLayout) {
  for (const DType t : kAllDTypes) {
    for (const Layout l : {Layout::kContiguous, Layout::kChannelsLast}) {
      const Tensor x = Tensor::empty(t, {3, 5, 7, 2}, l);
      EXPECT_TRUE(x.defined());
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(x.data()) % 64, 0u);
      EXPECT_EQ(x.numel(), 210);
      EXPECT_EQ(x.dtype(), t);
      EXPECT_EQ(x.view().strides, strides_for(l, x.shape()));
    }
  }
  const Tensor none = Tensor::empty(DType::kFloat32, {4, 0});
  EXPECT_TRUE(none.defined());
  EXPECT_EQ(none.numel(), 0);
  EXPECT_TRUE(none.values().empty());
  EXPECT_FALSE(Tensor().defined());
}

TEST(Tensor, FromValuesRoundsEachValueOnce) {
  const std::vector<double> in{1.0 + 0x1p-12, 1.0 / 3, -65520.0, 1e-8};
  const Tensor h = Tensor::from_values(DType::kFloat16, {2, 2}, in);
  const std::vector<double> out = h.values();
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], round_to(DType::kFloat16, in[i])) << i;
  EXPECT_EQ(out[0], 1.0);
  EXPECT_EQ(out[2], -std::numeric_limits<double>::infinity());  // the tie past max_finite

  const Tensor d = Tensor::from_values(DType::kFloat64, {4}, in);
  EXPECT_EQ(d.values(), in);
}

TEST(Tensor, ChannelsLastStoresValuesInChannelsLastMemoryOrder) {
  // Logical (N=1, C=2, H=2, W=3) with value = c*100 + h*10 + w.
  std::vector<double> logical;
  for (int c = 0; c < 2; ++c)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 3; ++w) logical.push_back(c * 100 + h * 10 + w);
  const Tensor t = Tensor::from_values(DType::kFloat32, {1, 2, 2, 3}, logical, Layout::kChannelsLast);
  EXPECT_EQ(t.values(), logical);
  const auto* raw = static_cast<const float*>(t.data());
  // Memory order H, W, C: element 1 is (h=0, w=0, c=1), element 2 is (h=0, w=1, c=0).
  EXPECT_EQ(raw[0], 0.0f);
  EXPECT_EQ(raw[1], 100.0f);
  EXPECT_EQ(raw[2], 1.0f);
  EXPECT_EQ(raw[6], 10.0f);
  EXPECT_EQ(raw[11], 112.0f);
  EXPECT_EQ(t.view().get(Dims{0, 1, 1, 2}), 112.0);
}

TEST(Tensor, OffsetsFollowStrides) {
  const Tensor t = Tensor::empty(DType::kFloat64, {2, 3, 4}, Layout::kChannelsLast);  // strides 12, 1, 3
  EXPECT_EQ(t.view().offset(Dims{0, 0, 0}), 0);
  EXPECT_EQ(t.view().offset(Dims{1, 2, 3}), 12 + 2 + 9);
  EXPECT_EQ(t.view().offset_of_linear(0), 0);
  EXPECT_EQ(t.view().offset_of_linear(1), 3);        // (0, 0, 1)
  EXPECT_EQ(t.view().offset_of_linear(4), 1);        // (0, 1, 0)
  EXPECT_EQ(t.view().offset_of_linear(23), 23);      // (1, 2, 3)
  EXPECT_EQ(t.view().offset_of_linear(13), 12 + 3);  // (1, 0, 1)
}

TEST(Tensor, FillWritesEveryElementRounded) {
  const Tensor t = Tensor::empty(DType::kBFloat16, {3, 4, 5}, Layout::kChannelsLast);
  t.fill(1.0 / 3);
  for (const double v : t.values()) EXPECT_EQ(v, round_to(DType::kBFloat16, 1.0 / 3));
}

// ---------------------------------------------------------------------------------------------
// Views: permuted, sliced, reversed.

TEST(Tensor, PermutedViewReadsTheRightElements) {
  // base (2, 3, 4) contiguous, value = i*12 + j*4 + k; the view is base.permute(2, 0, 1).
  const Tensor base = Tensor::from_values(DType::kFloat32, {2, 3, 4}, iota_values(24));
  const TensorView p = view_of(base, {4, 2, 3}, {1, 12, 4});
  EXPECT_FALSE(p.is_contiguous());
  for (std::int64_t k = 0; k < 4; ++k)
    for (std::int64_t i = 0; i < 2; ++i)
      for (std::int64_t j = 0; j < 3; ++j)
        EXPECT_EQ(p.get(Dims{k, i, j}), static_cast<double>(i * 12 + j * 4 + k));
  EXPECT_EQ(p.get_linear(1), 4.0);   // (k=0, i=0, j=1)
  EXPECT_EQ(p.get_linear(3), 12.0);  // (k=0, i=1, j=0)
}

TEST(Tensor, SlicedViewWithOffsetReadsTheRightElements) {
  // base (4, 5), value = r*5 + c; the view is base[1:4, 1:5:2]: data advanced to (1, 1).
  const Tensor base = Tensor::from_values(DType::kFloat16, {4, 5}, iota_values(20));
  const TensorView s = view_of(base, {3, 2}, {5, 2}, 1 * 5 + 1);
  for (std::int64_t r = 0; r < 3; ++r)
    for (std::int64_t c = 0; c < 2; ++c)
      EXPECT_EQ(s.get(Dims{r, c}), static_cast<double>((1 + r) * 5 + 1 + 2 * c));
  s.set_linear(5, -1.0);  // (2, 1) is base (3, 3)
  EXPECT_EQ(base.view().get(Dims{3, 3}), -1.0);
}

TEST(Tensor, CopyOfMakesAnyViewDense) {
  const Tensor base = Tensor::from_values(DType::kBFloat16, {2, 3, 4}, iota_values(24));
  const TensorView p = view_of(base, {4, 2, 3}, {1, 12, 4});      // permuted
  const TensorView s = view_of(base, {2, 2, 2}, {12, 8, 2}, 1);   // sliced: [:, 0:3:2, 1:4:2]
  const TensorView r = view_of(base, {2, 3, 4}, {12, 4, -1}, 3);  // last dim reversed
  for (const TensorView* v : {&p, &s, &r}) {
    std::vector<double> expected;
    for (std::int64_t i = 0; i < v->numel(); ++i) expected.push_back(v->get_linear(i));
    for (const Layout l : {Layout::kContiguous, Layout::kChannelsLast}) {
      const Tensor c = Tensor::copy_of(*v, l);
      EXPECT_EQ(c.values(), expected);
      EXPECT_EQ(c.view().strides, strides_for(l, v->shape));
      EXPECT_NE(c.data(), base.data());
    }
  }
  EXPECT_EQ(s.get(Dims{1, 1, 1}), 12.0 + 8 + 3);
}

TEST(Tensor, NegativeStridesWork) {
  const Tensor base = Tensor::from_values(DType::kFloat64, {2, 3}, iota_values(6));
  // base[::-1, ::-1]: data points at the last element.
  const TensorView r = view_of(base, {2, 3}, {-3, -1}, 5);
  EXPECT_EQ(Tensor::copy_of(r).values(), (std::vector<double>{5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(r.offset(Dims{1, 2}), -5);
  EXPECT_FALSE(r.is_contiguous());

  // Through DLPack and back: negative strides survive validation.
  const DLTensor dl = as_dltensor(r);
  const Expected<TensorView> back = from_dlpack(dl);
  ASSERT_TRUE(back.ok()) << back.message();
  EXPECT_EQ(back->strides, (Dims{-3, -1}));
  EXPECT_EQ(back->get(Dims{0, 0}), 5.0);
  EXPECT_EQ(back->get(Dims{1, 2}), 0.0);
}

// ---------------------------------------------------------------------------------------------
// DLPack.

int g_deleter_calls = 0;
void (*g_original_deleter)(DLManagedTensor*) = nullptr;
void counting_deleter(DLManagedTensor* self) {
  ++g_deleter_calls;
  g_original_deleter(self);
}

TEST(Tensor, DLPackRoundTripSharesStorageAndRunsTheDeleterOnce) {
  for (const DType t : kAllDTypes) {
    Tensor x = Tensor::from_values(t, {2, 3, 2, 2}, iota_values(24, -5), Layout::kChannelsLast);
    const std::vector<double> expected = x.values();
    void* const data = x.data();

    DLManagedTensor* m = to_dlpack(x);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->dl_tensor.data, data);
    EXPECT_EQ(m->dl_tensor.device.device_type, kDLCPU);
    EXPECT_EQ(m->dl_tensor.ndim, 4);
    EXPECT_EQ(m->dl_tensor.dtype.lanes, 1);
    EXPECT_EQ(static_cast<std::size_t>(m->dl_tensor.dtype.bits), 8 * size_of(t));
    EXPECT_EQ(static_cast<int>(m->dl_tensor.dtype.code), t == DType::kBFloat16 ? kDLBfloat : kDLFloat);
    EXPECT_NE(m->dl_tensor.shape, x.shape().data()) << "the managed tensor owns its own shape array";

    x = Tensor();  // the managed tensor alone keeps the storage alive now
    const Expected<TensorView> v = from_dlpack(m->dl_tensor);
    ASSERT_TRUE(v.ok()) << v.message();
    EXPECT_EQ(v->data, data);
    EXPECT_EQ(v->dtype, t);
    EXPECT_EQ(v->device, Device::kCPU);
    EXPECT_EQ(v->shape, (Dims{2, 3, 2, 2}));
    EXPECT_TRUE(v->is_channels_last());
    EXPECT_EQ(Tensor::copy_of(*v).values(), expected);

    g_deleter_calls = 0;
    g_original_deleter = m->deleter;
    m->deleter = counting_deleter;
    m->deleter(m);
    EXPECT_EQ(g_deleter_calls, 1);
  }
}

TEST(Tensor, DLPackOfAnEmptyTensor) {
  const Tensor x = Tensor::empty(DType::kFloat32, {0, 3});
  DLManagedTensor* m = to_dlpack(x);
  const Expected<TensorView> v = from_dlpack(m->dl_tensor);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v->numel(), 0);
  m->deleter(m);
}

/// A CPU float32 DLTensor over `storage` with the given shape (null strides: compact row-major).
DLTensor cpu_float32(std::vector<float>& storage, Dims& shape) {
  DLTensor t{};
  t.data = storage.data();
  t.device = {kDLCPU, 0};
  t.ndim = static_cast<int>(shape.size());
  t.dtype = {kDLFloat, 32, 1};
  t.shape = shape.data();
  t.strides = nullptr;
  t.byte_offset = 0;
  return t;
}

TEST(Tensor, FromDLPackNullStridesMeanRowMajorAndByteOffsetIsHonoured) {
  std::vector<float> storage{0, 1, 2, 3, 4, 5, 6, 7};
  Dims shape{2, 3};
  DLTensor t = cpu_float32(storage, shape);
  t.byte_offset = 2 * sizeof(float);
  const Expected<TensorView> v = from_dlpack(t);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v->strides, (Dims{3, 1}));
  EXPECT_EQ(v->data, storage.data() + 2);
  EXPECT_EQ(v->get(Dims{0, 0}), 2.0);
  EXPECT_EQ(v->get(Dims{1, 2}), 7.0);

  const DLTensor round = as_dltensor(*v);  // non-owning: points into v
  EXPECT_EQ(round.shape, v->shape.data());
  EXPECT_EQ(round.strides, v->strides.data());
  EXPECT_EQ(round.data, v->data);
  EXPECT_EQ(round.byte_offset, 0u);
}

TEST(Tensor, FromDLPackAcceptsCudaWithoutTouchingIt) {
  std::vector<float> storage(6);
  Dims shape{2, 3};
  DLTensor t = cpu_float32(storage, shape);
  t.device = {kDLCUDA, 0};
  t.dtype = {kDLBfloat, 16, 1};
  const Expected<TensorView> v = from_dlpack(t);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v->device, Device::kCUDA);
  EXPECT_EQ(v->dtype, DType::kBFloat16);
  EXPECT_EQ(as_dltensor(*v).device.device_type, kDLCUDA);
}

TEST(Tensor, FromDLPackAcceptsNullDataOnlyWithoutElements) {
  Dims shape{2, 0, 3};
  std::vector<float> storage;
  DLTensor t = cpu_float32(storage, shape);
  t.data = nullptr;
  EXPECT_TRUE(from_dlpack(t).ok());

  Dims full{2, 3};
  t.shape = full.data();
  t.ndim = 2;
  const Expected<TensorView> bad = from_dlpack(t);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.message(),
            "Expected a non-null DLPack data pointer for 6 elements (shape [2, 3]), but got null");
}

TEST(Tensor, FromDLPackRejectsBadTensorsWithMessages) {
  std::vector<float> storage(6);
  Dims shape{2, 3};
  const DLTensor good = cpu_float32(storage, shape);
  ASSERT_TRUE(from_dlpack(good).ok());

  const auto message = [](const DLTensor& t) {
    const Expected<TensorView> v = from_dlpack(t);
    return v.ok() ? std::string("ok") : v.message();
  };
  DLTensor t = good;
  t.dtype = {kDLInt, 32, 1};
  EXPECT_EQ(message(t),
            "Expected a DLPack dtype of float64/float32/float16/bfloat16 with 1 lane, but got code=0 bits=32 "
            "lanes=1");
  t.dtype = {kDLFloat, 32, 2};
  EXPECT_EQ(message(t),
            "Expected a DLPack dtype of float64/float32/float16/bfloat16 with 1 lane, but got code=2 bits=32 "
            "lanes=2");
  t.dtype = {kDLFloat, 8, 1};
  EXPECT_EQ(message(t),
            "Expected a DLPack dtype of float64/float32/float16/bfloat16 with 1 lane, but got code=2 bits=8 "
            "lanes=1");
  t.dtype = {kDLBfloat, 32, 1};
  EXPECT_EQ(message(t),
            "Expected a DLPack dtype of float64/float32/float16/bfloat16 with 1 lane, but got code=4 bits=32 "
            "lanes=1");

  t = good;
  t.device = {kDLOpenCL, 0};
  EXPECT_EQ(message(t), "Expected a DLPack device of kDLCPU (1) or kDLCUDA (2), but got device_type=4");
  t.device = {kDLCUDAHost, 0};
  EXPECT_EQ(message(t), "Expected a DLPack device of kDLCPU (1) or kDLCUDA (2), but got device_type=3");

  t = good;
  t.ndim = -1;
  EXPECT_EQ(message(t), "Expected a DLPack ndim >= 0, but got ndim=-1");

  t = good;
  t.shape = nullptr;
  EXPECT_EQ(message(t), "Expected a DLPack shape array for ndim=2, but got null");

  Dims negative{2, -3};
  t = good;
  t.shape = negative.data();
  EXPECT_EQ(message(t), "Expected non-negative DLPack dims, but got shape [2, -3]");

  Dims huge{0, std::int64_t{1} << 40, std::int64_t{1} << 40};  // no element, but no compact strides either
  t = good;
  t.ndim = 3;
  t.shape = huge.data();
  EXPECT_EQ(message(t),
            "Expected a DLPack shape whose element count fits in int64, but got shape [0, 1099511627776, "
            "1099511627776]");

  Dims far_strides{std::int64_t{1} << 62, 1};
  t = good;
  t.strides = far_strides.data();
  EXPECT_EQ(message(t),
            "Expected DLPack strides whose byte offsets fit in int64, but got shape [2, 3] with strides "
            "[4611686018427387904, 1]");
}

}  // namespace
}  // namespace normcheck
