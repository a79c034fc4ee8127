// Mutants of the backward pass: a missing term of dx, dweight reduced over the wrong elements,
// dbias never computed.
#include <cstdint>
#include <vector>

#include "impls/mutants/mutant.h"

namespace normcheck::impls::mutants {
namespace {

void backward_scope(Capabilities& caps) { caps.directions = {Direction::kBackward}; }

/// dx without the mean term: dx = rstd / m * (m g - xhat * sum(g xhat)), i.e. the gradient
/// through the mean (sum g) is dropped, as in hand-derived backwards that treat the mean as a
/// constant. Sum_S dx is then no longer 0.
class BackwardNoMeanTerm final : public Mutant {
 public:
  explicit BackwardNoMeanTerm(const MutantInfo& info) : Mutant(info) {
    backward_scope(caps_);
    caps_.ops = {Op::kBatchNorm, Op::kLayerNorm, Op::kInstanceNorm, Op::kGroupNorm, Op::kLayerNorm2d};
  }

 protected:
  double dx_of(const DxTerms& t, const Acc& acc) const override {
    // Scalar math: dX = rstd / M * (M * g - xhat * sum_gxhat)
    DxTerms without_mean = t;
    without_mean.centered = false;
    return Base::dx_of(without_mean, acc);
  }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_batch_stats(p); }
};

/// dweight summed over the first sample only (n = 0) instead of the whole batch: the reduction
/// over the batch dim forgotten (or a per-sample gradient buffer read as the total).
class DweightFirstSampleOnly final : public Mutant {
 public:
  explicit DweightFirstSampleOnly(const MutantInfo& info) : Mutant(info) { backward_scope(caps_); }

 protected:
  bool contributes_to_dweight(const Geometry&, const Index& at) const override { return at.n == 0; }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_affine(p); }
};

/// dweight reduced over the batch dim but not over the spatial dims: only spatial position
/// s = 0 of each channel counts (the (N,)-reduction of a conv-shaped gradient, then the (C, 1, 1)
/// parameter's gradient read from the first position).
class DweightNotReducedOverSpatial final : public Mutant {
 public:
  explicit DweightNotReducedOverSpatial(const MutantInfo& info) : Mutant(info) {
    backward_scope(caps_);
    caps_.ops = {Op::kBatchNorm, Op::kInstanceNorm, Op::kGroupNorm, Op::kLayerNorm2d};
  }

 protected:
  bool contributes_to_dweight(const Geometry&, const Index& at) const override { return at.s == 0; }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (p.shape.size() < 3)
      return "the bug is in the spatial reduction: input without spatial dims not supported";
    return needs_affine(p);
  }
};

/// dbias never computed: the gradient buffer keeps its zero initialization.
class DbiasMissing final : public Mutant {
 public:
  explicit DbiasMissing(const MutantInfo& info) : Mutant(info) { backward_scope(caps_); }

 protected:
  bool computes_dbias() const override { return false; }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (!p.affine || !p.bias) return "the bug is in dbias: bias=0 not supported";
    return std::nullopt;
  }
};

}  // namespace

void add_backward_mutants(std::vector<MutantEntry>& out) {
  out.push_back(entry<BackwardNoMeanTerm>(
      {"mutant-backward-no-mean-term", "dx omits the mean term: rstd/m * (m g - xhat sum(g xhat))",
       "backward", "layer_norm shape=4x64 normalized_shape=64 direction=backward seed=50"}));
  out.push_back(entry<DweightFirstSampleOnly>({"mutant-dweight-first-sample-only",
                                               "dweight summed over the first sample only", "backward",
                                               "batch_norm shape=4x3x5 direction=backward seed=51"}));
  out.push_back(
      entry<DweightNotReducedOverSpatial>({"mutant-dweight-not-reduced-over-spatial",
                                           "dweight not reduced over the spatial dims (position 0 only)",
                                           "backward", "batch_norm shape=4x3x5 direction=backward seed=52"}));
  out.push_back(
      entry<DbiasMissing>({"mutant-dbias-missing", "dbias never computed (left zero)", "backward",
                           "layer_norm shape=4x64 normalized_shape=64 direction=backward seed=53"}));
}

}  // namespace normcheck::impls::mutants
