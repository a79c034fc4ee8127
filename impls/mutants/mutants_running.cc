// Mutants of the running statistics and of train/eval: the variance estimator, the momentum
// convention, the batch counter, which mode reads and writes the buffers, the m = 1 guard.
#include <cstdint>
#include <vector>

#include "impls/mutants/mutant.h"

namespace normcheck::impls::mutants {
namespace {

/// The scope every running-statistics mutant starts from: batch_norm / instance_norm training
/// with track_running_stats=1 (further narrowed per mutant).
void running_scope(Capabilities& caps) {
  caps.ops = {Op::kBatchNorm, Op::kInstanceNorm};
  caps.modes = {Mode::kTrain};
}

/// The running variance updated with the BIASED batch variance under the pytorch profile
/// (PyTorch keeps the unbiased var * m/(m-1)); the Keras/ONNX convention, or the batch's saved
/// variance reused for the buffer.
class BiasedRunningVar final : public Mutant {
 public:
  explicit BiasedRunningVar(const MutantInfo& info) : Mutant(info) {
    running_scope(caps_);
    caps_.profiles = {Profile::kPyTorch};
  }

 protected:
  double running_var_correction(const Problem&, std::int64_t, const Acc&) const override { return 1.0; }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_tracking(p); }
};

/// PyTorch's momentum on the wrong side: running = momentum * running + (1 - momentum) * batch
/// (the Keras/TensorFlow convention, where momentum weights the OLD value) under pytorch: the
/// classic porting bug between the two conventions.
class MomentumWrongSide final : public Mutant {
 public:
  explicit MomentumWrongSide(const MutantInfo& info) : Mutant(info) {
    running_scope(caps_);
    caps_.profiles = {Profile::kPyTorch};
  }

 protected:
  UpdateWeights running_weights(const Problem& p, std::int64_t) const override {
    return {.keep = *p.momentum, .take = 1.0 - *p.momentum};
  }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (!p.momentum) return "the bug is in a momentum value: momentum=none not supported";
    return needs_tracking(p);
  }
};

/// momentum=None (PyTorch's cumulative moving average, f = 1 / num_batches_tracked) ignored:
/// the default 0.1 is used instead (ports that treat None as "use the default").
class MomentumNoneIgnored final : public Mutant {
 public:
  explicit MomentumNoneIgnored(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kBatchNorm};  // InstanceNorm has no cumulative average (the base refuses it)
    caps_.modes = {Mode::kTrain};
    caps_.profiles = {Profile::kPyTorch};
  }

 protected:
  UpdateWeights running_weights(const Problem& p, std::int64_t) const override {
    const double take = p.momentum.value_or(0.1);
    return {.keep = 1.0 - take, .take = take};
  }
  std::optional<std::string> refuses_more(const Problem& p) const override {
    if (p.momentum) return "the bug is in momentum=none: a momentum value not supported";
    return needs_tracking(p);
  }
};

/// The running statistics updated in eval mode too (the update is keyed on
/// track_running_stats alone, not on training): evaluating a model changes it.
class RunningStatsUpdatedInEval final : public Mutant {
 public:
  explicit RunningStatsUpdatedInEval(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kBatchNorm, Op::kInstanceNorm};
    caps_.modes = {Mode::kEval};
  }

 protected:
  bool updates_running_stats(const Problem& p) const override { return tracks_running_stats(p); }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_tracking(p); }
};

/// Eval mode normalizes with the BATCH statistics although running statistics are tracked
/// (the "training flag not passed to the functional call" bug: F.batch_norm(..., training=True)).
class EvalUsesBatchStats final : public Mutant {
 public:
  explicit EvalUsesBatchStats(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kBatchNorm, Op::kInstanceNorm};
    caps_.modes = {Mode::kEval};
  }

 protected:
  bool normalizes_with_running_stats(const Problem&) const override { return false; }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_tracking(p); }
};

/// No guard for a set of one value in training: the unbiased correction m/(m-1) divides by zero
/// and running_var becomes 0 * inf = NaN, where PyTorch refuses ("Expected more than 1 value per
/// channel when training").
class SingleValueNoGuard final : public Mutant {
 public:
  explicit SingleValueNoGuard(const MutantInfo& info) : Mutant(info) {
    running_scope(caps_);
    caps_.profiles = {Profile::kPyTorch};
  }

 protected:
  Status profile_refusals(const Problem& p, const Geometry& g) const override {
    if (g.set_size != 1) return Base::profile_refusals(p, g);
    // The missing guard: only instance_norm's momentum=None rule is left.
    const bool cumulative_instance_norm = p.op == Op::kInstanceNorm && tracks_running_stats(p) && !p.momentum;
    return cumulative_instance_norm ? Base::profile_refusals(p, g) : Status();
  }
};

/// num_batches_tracked never incremented (the counter buffer is registered but the module's
/// forward forgets `num_batches_tracked += 1`): momentum=None then divides by a stale count.
class BatchesNotCounted final : public Mutant {
 public:
  explicit BatchesNotCounted(const MutantInfo& info) : Mutant(info) {
    caps_.ops = {Op::kBatchNorm};
    caps_.modes = {Mode::kTrain};
    caps_.profiles = {Profile::kPyTorch};
  }

 protected:
  bool counts_batches(const Problem&) const override { return false; }
};

/// Keras/ONNX momentum read with PyTorch's convention: running = (1 - momentum) * running +
/// momentum * batch with Keras' 0.99, so the buffers almost forget their history (the reverse
/// porting bug of mutant-momentum-wrong-side).
class KerasOnnxMomentumSwapped final : public Mutant {
 public:
  explicit KerasOnnxMomentumSwapped(const MutantInfo& info) : Mutant(info) {
    running_scope(caps_);
    caps_.profiles = {Profile::kKeras, Profile::kOnnx};
  }

 protected:
  UpdateWeights running_weights(const Problem& p, std::int64_t) const override {
    return {.keep = 1.0 - *p.momentum, .take = *p.momentum};
  }
  std::optional<std::string> refuses_more(const Problem& p) const override { return needs_tracking(p); }
};

}  // namespace

void add_running_mutants(std::vector<MutantEntry>& out) {
  out.push_back(entry<BiasedRunningVar>({"mutant-biased-running-var",
                                         "pytorch: running_var updated with the biased batch variance",
                                         "running-stats", "batch_norm shape=4x3x5 seed=20"}));
  out.push_back(entry<MomentumWrongSide>({"mutant-momentum-wrong-side",
                                          "pytorch: running = momentum * running + (1 - momentum) * batch",
                                          "running-stats", "batch_norm shape=4x3x5 seed=21"}));
  out.push_back(entry<MomentumNoneIgnored>(
      {"mutant-momentum-none-ignored", "momentum=None (cumulative average) treated as momentum 0.1",
       "running-stats", "batch_norm shape=4x3x5 momentum=none seed=22"}));
  out.push_back(entry<RunningStatsUpdatedInEval>(
      {"mutant-running-stats-updated-in-eval", "running statistics updated in eval mode", "mode",
       "batch_norm shape=4x3x5 mode=eval seed=23", "running-buffers"}));
  out.push_back(entry<EvalUsesBatchStats>({"mutant-eval-uses-batch-stats",
                                           "eval mode normalizes with batch statistics despite running stats",
                                           "mode", "batch_norm shape=4x3x5 mode=eval seed=24"}));
  out.push_back(entry<SingleValueNoGuard>(
      {"mutant-single-value-no-guard",
       "training with one value per set not refused: m/(m-1) = 1/0 puts NaN into running_var", "edge-case",
       "batch_norm shape=1x3 seed=25"}));
  out.push_back(
      entry<BatchesNotCounted>({"mutant-batches-not-counted", "num_batches_tracked never incremented",
                                "running-stats", "batch_norm shape=4x3x5 seed=26"}));
  out.push_back(entry<KerasOnnxMomentumSwapped>(
      {"mutant-keras-onnx-momentum-swapped", "keras/onnx: momentum weights the batch (PyTorch's convention)",
       "running-stats", "batch_norm shape=4x3x5 profile=keras seed=27"}));
}

}  // namespace normcheck::impls::mutants
