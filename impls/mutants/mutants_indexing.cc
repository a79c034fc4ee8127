// Mutants of indexing and loop bounds: the layout's offsets, a vector loop's tail, an off-by-one
// write, index arithmetic that is too narrow. None of them touches memory outside the caller's
// buffers: each bug is emulated inside the tensors, where it does the visible damage.
#include <cstdint>
#include <vector>

#include "impls/mutants/mutant.h"

namespace normcheck::impls::mutants {
namespace {

/// Channels-last input read in blocks of 8 channels; the channels after the last multiple of 8
/// are read with the NCHW (contiguous) offset formula, as if the tail loop had been copied from
/// the contiguous kernel (correct only when C % 8 == 0: vectorized channels-last kernels with a
/// scalar remainder).
class ChannelsLastTailChannels final : public Mutant {
 public:
  explicit ChannelsLastTailChannels(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kBatchNorm, Op::kInstanceNorm, Op::kGroupNorm, Op::kLayerNorm2d};
    // Both paths, as a real kernel has them: the contiguous one is right, so comparing the two
    // (layout_equivalence) sees the bug without a reference.
    caps_.layouts = {Layout::kContiguous, Layout::kChannelsLast};
  }

 protected:
  std::int64_t element_offset(const TensorView& v, const Geometry& g, std::int64_t i) const override {
    const std::int64_t c = (i / g.S) % g.C;
    // Scalar math: offset(n, c, s) = (n * S + s) * C + c for c < C/8*8, else (n * C + c) * S + s
    if (c >= g.C / 8 * 8 && v.rank() >= 3 && v.is_channels_last()) return i;
    return Base::element_offset(v, g, i);
  }
};

/// A vector loop of 8 with no remainder loop: in every set, the elements after the last multiple
/// of 8 are never written (they keep the caller's NaN poison).
class SetTailUnwritten final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  std::int64_t elements_written(std::int64_t m) const override { return m / 8 * 8; }
};

/// An off-by-one row loop, `for (j = 0; j <= N; ++j) Y[row * N + j] = ...`, in a kernel whose
/// rows finish in any order (here last to first): every row but the last also writes the first
/// element of the NEXT row, normalized with this row's mean and rstd, after that row was done.
/// The last row's extra element would lie past the buffer; the emulation never writes there.
class WritePastRowEnd final : public Mutant {
 public:
  explicit WritePastRowEnd(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kLayerNorm, Op::kRmsNorm};
  }

 protected:
  void forward(Work& w) const override {
    const std::int64_t N = w.g.C;  // the row length (layer_norm: one row per set, contiguous)
    if (N == 0) return;
    for (std::int64_t row = w.sets.num_sets() - 1; row >= 0; --row) {
      const Moments& st = w.stats[static_cast<std::size_t>(row)];
      // Scalar math: Y[row * N + j] = (X[row * N + j] - mean) * rstd * gamma[j % N] + beta[j % N], j <= N
      for (std::int64_t j = 0; j <= N; ++j) {
        const std::int64_t i = row * N + j;
        if (i >= w.numel()) break;
        const std::size_t is = static_cast<std::size_t>(i), a = static_cast<std::size_t>(i % N);
        w.Y[is] =
            normalize(w.X[is], st.mean, w.rstd[static_cast<std::size_t>(row)], w.gamma[a], w.beta[a], w.acc);
        w.y_written[is] = 1;
      }
    }
  }
};

/// Index arithmetic too narrow for the tensor. The real bug is a 32-bit element index that
/// overflows beyond 2^31 elements (shipped in several CUDA kernels), which no test fits in
/// memory here; this emulates the same class with a 16-bit index: the linear index of every
/// read of x and dy is computed in uint16_t, so tensors over 65536 elements read aliased data.
class IndexWraps16Bit final : public Mutant {
 public:
  using Mutant::Mutant;

 protected:
  std::int64_t element_offset(const TensorView& v, const Geometry& g, std::int64_t i) const override {
    const std::uint16_t narrow = static_cast<std::uint16_t>(i);
    return Base::element_offset(v, g, narrow);
  }
};

}  // namespace

void add_indexing_mutants(std::vector<MutantEntry>& out) {
  out.push_back(entry<ChannelsLastTailChannels>(
      {"mutant-channels-last-tail-channels",
       "channels-last: channels past the last multiple of 8 read with the NCHW offset", "indexing",
       "batch_norm shape=2x12x3x3 layout=channels_last seed=40"}));
  out.push_back(entry<SetTailUnwritten>({"mutant-set-tail-unwritten",
                                         "elements past the last multiple of 8 in a set never written",
                                         "bounds", "layer_norm shape=4x37 normalized_shape=37 seed=41"}));
  out.push_back(entry<WritePastRowEnd>({"mutant-write-past-row-end",
                                        "off-by-one row loop clobbers the next row's first element", "bounds",
                                        "layer_norm shape=4x16 normalized_shape=16 seed=42", "neighbour"}));
  out.push_back(entry<IndexWraps16Bit>(
      {"mutant-index-wraps-16bit", "element index computed in uint16_t: tensors over 65536 elements alias",
       "indexing", "layer_norm shape=2x33000 normalized_shape=33000 seed=43"}));
}

}  // namespace normcheck::impls::mutants
