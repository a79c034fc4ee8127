// Mutants of which elements share statistics (the reduction axes) and of which affine parameter
// an element gets.
#include <cstdint>
#include <vector>

#include "impls/mutants/mutant.h"

namespace normcheck::impls::mutants {
namespace {

/// The sets { i : key(index_of(i)) == k } for k < num_sets, members in logical order.
template <class Key>
Partition partition_by(const Geometry& g, std::int64_t num_sets, Key key) {
  Partition part;
  part.members.resize(static_cast<std::size_t>(num_sets));
  for (std::int64_t n = 0, i = 0; n < g.N; ++n)
    for (std::int64_t c = 0; c < g.C; ++c)
      for (std::int64_t s = 0; s < g.S; ++s, ++i)
        part.members[static_cast<std::size_t>(key(n, c, s))].push_back(i);
  return part;
}

/// BatchNorm reducing over N only (x.mean(dim=0) on a conv feature map, the BatchNorm1d rule
/// applied to (N, C, H, W)): one set per (c, spatial position) instead of per channel. It has no
/// per-channel batch statistics to save or to put into running buffers, so it refuses tracking
/// and saves none.
class BatchNormOverNOnly final : public Mutant {
 public:
  explicit BatchNormOverNOnly(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kBatchNorm};
    caps_.saves_stats = false;
  }

 protected:
  Partition partition(const Problem&, const Geometry& g) const override {
    // Scalar math: set(n, c, s) = c * S + s
    return partition_by(g, g.C * g.S,
                        [&](std::int64_t, std::int64_t c, std::int64_t s) { return c * g.S + s; });
  }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (p.shape.size() < 3) return "the bug is in the spatial reduction: (N, C) input not supported";
    if (tracks_running_stats(p))
      return "per-(c, s) statistics have no per-channel running estimate: track_running_stats=1 not "
             "supported";
    return std::nullopt;
  }
};

/// LayerNorm (and RMSNorm) over the LAST dim only when normalized_shape has rank >= 2 (the
/// kernel takes N = normalized_shape.back() and M = numel / N): one set per (leading index,
/// every trailing position but the last).
class LayerNormLastDimOnly final : public Mutant {
 public:
  explicit LayerNormLastDimOnly(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kLayerNorm, Op::kRmsNorm};
    caps_.saves_stats = false;
  }

 protected:
  Partition partition(const Problem& p, const Geometry& g) const override {
    // Scalar math: set(n, c) = n * (C / D_last) + c / D_last
    const std::int64_t last = p.normalized_shape.back(), rows = last > 0 ? g.C / last : 0;
    return partition_by(g, g.N * rows,
                        [&](std::int64_t n, std::int64_t c, std::int64_t) { return n * rows + c / last; });
  }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (p.normalized_shape.size() < 2)
      return "the bug is in a multi-dim normalized_shape: rank 1 not supported";
    return std::nullopt;
  }
};

/// LayerNorm2d normalizing over the last dim (W) instead of the channels: F.layer_norm(x, (W,))
/// on an NCHW tensor, the ConvNeXt-port bug of forgetting the permute to channels-last.
class LayerNorm2dWrongDim final : public Mutant {
 public:
  explicit LayerNorm2dWrongDim(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kLayerNorm2d};
    caps_.saves_stats = false;
  }

 protected:
  Partition partition(const Problem& p, const Geometry& g) const override {
    // Scalar math: set(n, c, s) = (n * C + c) * (S / W) + s / W
    const std::int64_t W = p.shape.back(), rows = W > 0 ? g.S / W : 0;
    return partition_by(g, g.N * g.C * rows, [&](std::int64_t n, std::int64_t c, std::int64_t s) {
      return (n * g.C + c) * rows + s / W;
    });
  }
};

/// GroupNorm with a per-GROUP affine: gamma[g] and beta[g] indexed by the group instead of the
/// channel (the affine parameters applied on the (N, G, C/G * HxW) view before reshaping back).
class GroupNormPerGroupAffine final : public Mutant {
 public:
  explicit GroupNormPerGroupAffine(const MutantInfo& info) : Mutant(info) { caps_.ops = {Op::kGroupNorm}; }

 protected:
  std::int64_t affine_index(const Problem&, const Geometry& g, const Index& at) const override {
    // Scalar math: a(n, c, s) = c / (C / G)
    return at.c / (g.C / g.G);
  }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_affine(p); }
};

}  // namespace

void add_axes_mutants(std::vector<MutantEntry>& out) {
  out.push_back(
      entry<BatchNormOverNOnly>({"mutant-batch-norm-over-n-only",
                                 "batch_norm statistics over N only: one set per (c, spatial position)",
                                 "axes", "batch_norm shape=4x3x5 track_running_stats=0 seed=30"}));
  out.push_back(
      entry<LayerNormLastDimOnly>({"mutant-layer-norm-last-dim-only",
                                   "layer_norm over the last dim only when normalized_shape has rank 2",
                                   "axes", "layer_norm shape=2x3x4 normalized_shape=3x4 seed=31"}));
  out.push_back(entry<LayerNorm2dWrongDim>({"mutant-layer-norm-2d-wrong-dim",
                                            "layer_norm_2d normalizes over W instead of C", "axes",
                                            "layer_norm_2d shape=2x4x3x5 seed=32"}));
  out.push_back(entry<GroupNormPerGroupAffine>({"mutant-group-norm-per-group-affine",
                                                "group_norm gamma/beta indexed by group instead of channel",
                                                "affine", "group_norm shape=2x6x5 groups=3 seed=33"}));
}

}  // namespace normcheck::impls::mutants
