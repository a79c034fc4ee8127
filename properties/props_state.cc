// Running statistics and the two modes: the state an implementation carries between calls.
#include <cmath>

#include "properties/property.h"

namespace normcheck::properties {
namespace {

/// k training steps on fresh batches leave the running statistics (and num_batches_tracked) on
/// the reference's trajectory: momentum, momentum=None as the cumulative average, 0 and 1.
CaseResult running_stats_trajectory(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  const int steps = 2 + static_cast<int>(p.seed % 3);
  Expected<GeneratedInputs> first = make_inputs(p);
  if (!first) return CaseResult::failed("inputs: " + first.message());
  Tensor impl_rm = Tensor::copy_of(*first->views.running_mean), impl_rv = Tensor::copy_of(*first->views.running_var);
  Tensor ref_rm = Tensor::copy_of(impl_rm.view()), ref_rv = Tensor::copy_of(impl_rv.view());
  std::int64_t impl_nbt = first->views.num_batches_tracked, ref_nbt = impl_nbt;
  std::vector<double> slack_m(static_cast<std::size_t>(impl_rm.numel()), 0.0), slack_v = slack_m;
  CaseResult last;
  for (int step = 0; step < steps; ++step) {
    Problem q = p;
    q.seed = p.seed + static_cast<std::uint64_t>(step);
    Expected<GeneratedInputs> in = make_inputs(q);
    if (!in) return CaseResult::failed("inputs: " + in.message());
    // Each side continues from its own buffers.
    in->views.running_mean = ref_rm.view(), in->views.running_var = ref_rv.view();
    in->views.num_batches_tracked = ref_nbt;
    Evaluated e;
    e.want = reference::evaluate(q, in->views);
    in->views.running_mean = impl_rm.view(), in->views.running_var = impl_rv.view();
    in->views.num_batches_tracked = impl_nbt;
    e.got = run_impl(impl, q, in->views);
    // From the second step on the implementation reads its own buffers.
    if (auto v = settled(q, e, in->views.x, o, step == 0 ? Provenance::kGenerated : Provenance::kOwnBuffers)) {
      if (!v->passed()) v->detail = "step " + std::to_string(step + 1) + ": " + v->detail;
      v->absorb(last);
      return *v;
    }
    const reference::Result& want = *e.want;
    const ImplRun& got = e.got;
    const Tensor no_bound = Tensor::from_values(DType::kFloat64, {impl_rm.numel()}, std::vector<double>(slack_m.size(), 0.0));
    CaseResult rm = compare_runs("running_mean", *got.out.views.running_mean, want.running_mean->view(),
                                 *want.running_mean_bound, no_bound, slack_m, o);
    CaseResult rv = compare_runs("running_var", *got.out.views.running_var, want.running_var->view(),
                                 *want.running_var_bound, no_bound, slack_v, o);
    rm.absorb(rv);
    if (!rm.passed()) {
      rm.detail = "after step " + std::to_string(step + 1) + " of " + std::to_string(steps) + ": " + rm.detail;
      return rm;
    }
    if (got.out.views.num_batches_tracked != want.num_batches_tracked) {
      return CaseResult::failed(FailureKind::kRunningStatistics, "num_batches_tracked",
                                "after step " + std::to_string(step + 1) + ": num_batches_tracked is " +
                                std::to_string(got.out.views.num_batches_tracked) + ", want " +
                                std::to_string(want.num_batches_tracked));
    }
    // The next step's buffers; the divergence so far carries into the next comparison as slack.
    const std::vector<double> bm = want.running_mean_bound->values(), bv = want.running_var_bound->values();
    for (std::size_t c = 0; c < slack_m.size(); ++c) slack_m[c] += o.bound_multiplier * bm[c], slack_v[c] += o.bound_multiplier * bv[c];
    impl_rm = Tensor::copy_of(*got.out.views.running_mean), impl_rv = Tensor::copy_of(*got.out.views.running_var);
    ref_rm = Tensor::copy_of(want.running_mean->view()), ref_rv = Tensor::copy_of(want.running_var->view());
    impl_nbt = got.out.views.num_batches_tracked, ref_nbt = want.num_batches_tracked;
    last.absorb(rm);
  }
  return last;
}

/// Eval leaves the running statistics and num_batches_tracked exactly as they were.
CaseResult eval_does_not_update(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated e = evaluate_both(impl, p, *in);
  if (auto v = settled(p, e, in->views.x, o)) return *v;
  const ImplRun& got = e.got;
  if (auto d = first_bit_difference("running_mean changed in eval", "running_mean", *got.out.views.running_mean, *in->views.running_mean)) return *d;
  if (auto d = first_bit_difference("running_var changed in eval", "running_var", *got.out.views.running_var, *in->views.running_var)) return *d;
  if (got.out.views.num_batches_tracked != in->views.num_batches_tracked)
    return CaseResult::failed(FailureKind::kRunningStatistics, "num_batches_tracked",
                              "num_batches_tracked changed in eval: " + std::to_string(in->views.num_batches_tracked) +
                              " -> " + std::to_string(got.out.views.num_batches_tracked));
  return CaseResult::checked(2 * got.out.views.running_mean->numel() + 1);
}

/// In eval with running statistics a sample's output does not depend on the rest of the batch:
/// sample 0 alone gives the same y as sample 0 within the full batch.
CaseResult eval_is_per_sample(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated full = evaluate_both(impl, p, *in);
  if (auto v = settled(p, full, in->views.x, o)) return *v;
  Problem one = p;
  one.shape[0] = 1;
  const std::int64_t per_sample = numel_of(one.shape);
  std::vector<double> x0 = in->x.values();
  x0.resize(static_cast<std::size_t>(per_sample));
  Expected<GeneratedInputs> in0 = make_inputs_with_x(one, x0);
  if (!in0) return CaseResult::failed("inputs: " + in0.message());
  in0->running_mean = Tensor::copy_of(*in->views.running_mean), in0->running_var = Tensor::copy_of(*in->views.running_var);
  in0->views.running_mean = in0->running_mean.view(), in0->views.running_var = in0->running_var.view();
  if (p.affine) in0->weight = Tensor::copy_of(*in->views.weight), in0->views.weight = in0->weight.view();
  if (p.bias) in0->bias = Tensor::copy_of(*in->views.bias), in0->views.bias = in0->bias.view();
  const Evaluated single = evaluate_both(impl, one, *in0);
  if (auto v = settled(one, single, in0->views.x, o)) return *v;
  // The first per_sample elements of the full batch's y, as a view of the single sample's shape.
  TensorView head = full.got.out.views.y;
  head.shape = one.shape;
  const Tensor head_bound = Tensor::from_values(DType::kFloat64, one.shape, [&] {
    std::vector<double> b = full.want->y_bound.values();
    b.resize(static_cast<std::size_t>(per_sample));
    return b;
  }());
  return compare_runs("y", single.got.out.views.y, head, single.want->y_bound, head_bound, {}, o);
}

/// Ops without running statistics normalize the same way in both modes: eval == train, bit for bit.
CaseResult eval_equals_train(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  Problem train = p, eval = p;
  train.mode = Mode::kTrain, eval.mode = Mode::kEval;
  // Two runs that both did nothing (an error, the poison left) would be equal vacuously.
  const Evaluated e = evaluate_both(impl, train, *in);
  if (auto v = settled(train, e, in->views.x, o)) return *v;
  const ImplRun& a = e.got;
  const ImplRun b = run_impl(impl, eval, in->views);
  if (!b.status.ok()) return CaseResult::failed("train ran, eval failed: " + b.status.message());
  return same_bits(a.out.views, b.out.views, "eval differs from train");
}

/// The training output uses the batch statistics only: other running statistics and another
/// momentum give the same y (and dx), bit for bit.
CaseResult train_ignores_running_stats(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  // Two runs that both did nothing (an error, the poison left) would be equal vacuously.
  const Evaluated e = evaluate_both(impl, p, *in);
  if (auto v = settled(p, e, in->views.x, o)) return *v;
  const ImplRun& a = e.got;
  std::vector<double> rm = in->running_mean.values(), rv = in->running_var.values();
  for (double& v : rm) v = 3 * v + 1;
  for (double& v : rv) v = 2 * v + 0.5;
  const Tensor rm2 = Tensor::from_values(p.dtype, {p.shape[1]}, rm), rv2 = Tensor::from_values(p.dtype, {p.shape[1]}, rv);
  Inputs other = in->views;
  other.running_mean = rm2.view(), other.running_var = rv2.view();
  Problem q = p;
  // Another momentum (momentum=None stays None: instance_norm refuses a cumulative average).
  if (p.momentum) q.momentum = *p.momentum == 0.5 ? 0.25 : 0.5;
  const ImplRun b = run_impl(impl, q, other);
  if (!b.status.ok()) return CaseResult::failed("the running statistics changed whether the call fails: " + b.status.message());
  if (auto d = first_bit_difference("y depends on the running statistics", "y", a.out.views.y, b.out.views.y)) return *d;
  if (a.out.views.dx)
    if (auto d = first_bit_difference("dx depends on the running statistics", "dx", *a.out.views.dx, *b.out.views.dx)) return *d;
  return CaseResult::checked(a.out.views.y.numel() + (a.out.views.dx ? a.out.views.dx->numel() : 0));
}

}  // namespace

std::vector<Property> state_properties() {
  Domain tracked_train;
  tracked_train.ops = {Op::kBatchNorm, Op::kInstanceNorm};
  tracked_train.modes = {Mode::kTrain};
  tracked_train.tracking = Domain::Flag::kOn;
  tracked_train.directions = {Direction::kForward};
  Domain tracked_eval = tracked_train;
  tracked_eval.modes = {Mode::kEval};
  tracked_eval.running_statistics = true;
  Domain per_sample = tracked_eval;
  per_sample.min_batch = 2;
  Domain stateless;
  stateless.tracking = Domain::Flag::kOff;
  Domain train_any = tracked_train;
  train_any.directions = {Direction::kForward, Direction::kBackward};
  return {
      {"running_stats_trajectory",
       "k training steps leave the running statistics and num_batches_tracked on the exact trajectory "
       "(momentum 0, 1, None as the cumulative average, random)",
       tracked_train, running_stats_trajectory},
      {"eval_does_not_update", "eval leaves running_mean, running_var and num_batches_tracked untouched", tracked_eval,
       eval_does_not_update},
      {"eval_is_per_sample", "in eval a sample's output ignores the rest of the batch", per_sample, eval_is_per_sample},
      {"eval_equals_train_without_running_stats", "without running statistics eval and train give identical bits",
       stateless, eval_equals_train},
      {"train_ignores_running_stats", "the training output does not depend on the running statistics or momentum",
       train_any, train_ignores_running_stats},
  };
}

}  // namespace normcheck::properties
