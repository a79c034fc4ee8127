// Consistency across calls: a batch's statistics are the merge of its parts', and one training
// step that takes the batch's statistics whole (momentum 1) makes eval reproduce training.
// Both relate an implementation's own outputs to each other; the reference only supplies bounds.
#include <cfloat>
#include <cmath>
#include <limits>

#include "properties/property.h"

namespace normcheck::properties {
namespace {

using Real = long double;
constexpr Real kInf = std::numeric_limits<Real>::infinity();

/// An interval's half-width around v = f(r) for r in [r - e, r + e], f monotone: the larger side.
template <class F>
Real spread_of(F f, Real r, Real e) {
  const Real v = f(r), a = f(r - e), b = f(r + e);
  return std::isfinite(a) && std::isfinite(b) ? std::max(std::fabs(a - v), std::fabs(b - v)) : kInf;
}

/// One half's saved statistics for channel c, with their allowed errors.
struct Part {
  Real m = 0, mean = 0, var = 0, e_mean = 0, e_var = 0;
};
Part part_of(const Evaluated& e, std::int64_t c, Real m, Real eps, double multiplier) {
  Part h;
  h.m = m;
  h.mean = e.got.out.views.mean->get_linear(c);
  const Real rstd = e.got.out.views.rstd->get_linear(c);
  h.e_mean = multiplier * e.want->mean_bound->view().get_linear(c);
  // var = 1 / rstd^2 - eps, over the interval rstd +- its bound.
  const auto var_of = [eps](Real r) { return r > 0 ? 1 / (r * r) - eps : kInf; };
  h.var = var_of(rstd);
  h.e_var = spread_of(var_of, rstd, multiplier * e.want->rstd_bound->view().get_linear(c));
  return h;
}

// Chan, Golub and LeVeque's merge of two parts' moments:
//   mean = (m1 mean1 + m2 mean2) / m
//   var  = (m1 var1 + m2 var2 + m1 m2 / m (mean1 - mean2)^2) / m
// with the parts' allowed errors carried through (first order in each, plus the square of the
// difference's). The whole batch's saved mean and rstd = 1 / sqrt(var + eps) must agree with it.
CaseResult batch_split_equivalence(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  if (!impl.capabilities().saves_stats) return CaseResult::skipped("the implementation saves no statistics");
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated whole = evaluate_both(impl, p, *in);
  if (auto v = settled(p, whole, in->views.x, o)) return *v;
  const std::vector<double> x = in->x.values();
  const std::int64_t N = p.shape[0], n1 = N / 2, per_sample = static_cast<std::int64_t>(x.size()) / N;
  const std::int64_t C = p.shape[1], S = per_sample / C;
  Evaluated halves[2];
  GeneratedInputs half_inputs[2];
  for (int k = 0; k < 2; ++k) {
    Problem q = p;
    q.shape[0] = k == 0 ? n1 : N - n1;
    const auto begin = x.begin() + (k == 0 ? 0 : n1 * per_sample);
    Expected<GeneratedInputs> h = make_inputs_with_x(q, std::vector<double>(begin, begin + q.shape[0] * per_sample));
    if (!h) return CaseResult::failed("inputs: " + h.message());
    half_inputs[k] = std::move(*h);
    halves[k] = evaluate_both(impl, q, half_inputs[k]);
    // A half the profile refuses (one value per channel in training): nothing to merge.
    if (!halves[k].want && !halves[k].got.status.ok())
      return CaseResult::skipped("a half the profile refuses (one value per channel in training): nothing to merge");
    if (auto v = settled(q, halves[k], half_inputs[k].views.x, o)) return *v;
    if (!halves[k].got.out.views.mean || !halves[k].got.out.views.rstd)
      return CaseResult::failed("a half's run returned no saved mean / rstd");
  }
  if (!whole.got.out.views.mean || !whole.got.out.views.rstd) return CaseResult::failed("no saved mean / rstd");
  const Real eps = effective_eps(p);
  const double mult = o.bound_multiplier;
  for (std::int64_t c = 0; c < C; ++c) {
    const Part a = part_of(halves[0], c, static_cast<Real>(n1 * S), eps, mult);
    const Part b = part_of(halves[1], c, static_cast<Real>((N - n1) * S), eps, mult);
    const Real m = a.m + b.m, d = a.mean - b.mean, e_d = a.e_mean + b.e_mean;
    const Real mean = (a.m * a.mean + b.m * b.mean) / m, e_mean = (a.m * a.e_mean + b.m * b.e_mean) / m;
    const Real var = (a.m * a.var + b.m * b.var + a.m * b.m / m * d * d) / m;
    const Real e_var = (a.m * a.e_var + b.m * b.e_var + a.m * b.m / m * (2 * std::fabs(d) * e_d + e_d * e_d)) / m;
    const auto rstd_of = [eps](Real v) { return v + eps > 0 ? 1 / std::sqrt(v + eps) : kInf; };
    const Real rstd = rstd_of(var);
    // A half whose variance is not finite (rstd 0: squares beyond the range) determines no rstd.
    const Real e_rstd = std::isfinite(var) ? spread_of(rstd_of, var, e_var) : kInf;
    // The merge's own evaluation in long double.
    const Real slack = 64 * LDBL_EPSILON;
    const Real got_mean = whole.got.out.views.mean->get_linear(c), got_rstd = whole.got.out.views.rstd->get_linear(c);
    const Real allowed_mean = e_mean + mult * whole.want->mean_bound->view().get_linear(c) + slack * (std::fabs(a.mean) + std::fabs(b.mean));
    const Real allowed_rstd = e_rstd + mult * whole.want->rstd_bound->view().get_linear(c) + slack * rstd;
    const std::string where = "channel " + std::to_string(c) + " of halves N = " + std::to_string(n1) + " + " +
                              std::to_string(N - n1) + ": ";
    if (!(std::fabs(got_mean - mean) <= allowed_mean))
      return CaseResult::failed(FailureKind::kAccuracy, "mean", where + "saved mean " + fmt_g(static_cast<double>(got_mean), 9) + ", the halves' merge " +
                                fmt_g(static_cast<double>(mean), 9) + " (allowed " + fmt_g(static_cast<double>(allowed_mean)) + ")");
    // rstd is related only where the halves' variances determine it (rstd_k's bound below rstd_k).
    if (std::isfinite(e_rstd) && !(std::fabs(got_rstd - rstd) <= allowed_rstd))
      return CaseResult::failed(FailureKind::kAccuracy, "rstd", where + "saved rstd " + fmt_g(static_cast<double>(got_rstd), 9) + ", the halves' merge " +
                                fmt_g(static_cast<double>(rstd), 9) + " (allowed " + fmt_g(static_cast<double>(allowed_rstd)) + ")");
  }
  return CaseResult::checked(2 * C);
}

/// batch_norm: one training step that takes the batch's statistics whole (momentum 1 under
/// pytorch, 0 under keras / onnx) leaves running_mean = mean and running_var = var' (unbiased
/// var m / (m - 1) under pytorch, var otherwise). Eval on the same batch then reproduces the
/// training output up to that correction:
///   y_eval - beta = (y_train - beta) * rho,   rho = sqrt((var + eps) / (var' + eps)),
/// allowing both outputs' bounds and the buffers' own rounding (their bounds from the step).
CaseResult eval_after_full_momentum_step(impls::Implementation& impl, const Problem& generated, const CheckOptions& o) {
  Problem p = generated;
  p.momentum = p.profile == Profile::kPyTorch ? 1.0 : 0.0;
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated train = evaluate_both(impl, p, *in);
  if (auto v = settled(p, train, in->views.x, o)) return *v;
  if (!train.got.out.views.running_mean || !train.got.out.views.running_var)
    return CaseResult::failed("the training step returned no running statistics");
  Problem q = p;
  q.mode = Mode::kEval;
  // Eval reads the implementation's own updated buffers (copies: the call may not write them).
  const Tensor rm = Tensor::copy_of(*train.got.out.views.running_mean), rv = Tensor::copy_of(*train.got.out.views.running_var);
  in->views.running_mean = rm.view(), in->views.running_var = rv.view();
  const Evaluated eval = evaluate_both(impl, q, *in);
  if (auto v = settled(q, eval, in->views.x, o, Provenance::kOwnBuffers)) return *v;
  const Geometry g = *geometry(p);
  const std::vector<double> x = in->x.values();
  const std::vector<double> w = p.affine ? in->weight.values() : std::vector<double>{};
  const std::vector<double> b = p.bias ? in->bias.values() : std::vector<double>{};
  // The batch's statistics per channel (batch_norm's sets are its channels).
  const LongStats st = long_stats(p, g, x);
  const Real m = static_cast<Real>(g.N * g.S), eps = effective_eps(p);
  const Real correction = p.profile == Profile::kPyTorch ? m / (m - 1) : 1;
  const std::vector<double> y_train = Tensor::copy_of(train.got.out.views.y).values();
  const std::vector<double> bound_train = train.want->y_bound.values();
  const std::vector<double> want_rv = train.want->running_var->values();
  const std::vector<double> b_rm = train.want->running_mean_bound->values(), b_rv = train.want->running_var_bound->values();
  std::vector<double> mapped(x.size()), bound_mapped(x.size()), slack(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto c = static_cast<std::size_t>(set_of(p, g, static_cast<std::int64_t>(i)));
    const Real v = st.m2[c] / m, v_run = v * correction;
    // A buffer that rounds to inf (squares beyond the stats dtype) has no finite relation.
    if (!std::isfinite(want_rv[c]) || !std::isfinite(y_train[i])) {
      slack[i] = INFINITY;
      continue;
    }
    const Real rho = std::sqrt((v + eps) / (v_run + eps)), rstd_run = 1 / std::sqrt(v_run + eps);
    const Real gamma = p.affine ? w[c] : 1, beta = p.bias ? b[c] : 0;
    const Real t = beta + (y_train[i] - beta) * rho;
    mapped[i] = static_cast<double>(t);
    bound_mapped[i] = static_cast<double>(rho * bound_train[i]);
    // The buffers may sit b_rm, b_rv from (mean, var'): y_eval moves by |gamma| times
    // b_rm rstd' + |x - mean| |d rstd'| over var' +- b_rv.
    const Real lo = v_run - o.bound_multiplier * b_rv[c] + eps;
    const Real d_rstd = lo > 0 ? 1 / std::sqrt(lo) - rstd_run : INFINITY;
    const Real dev = std::fabs(x[i] - st.mean[c]);
    slack[i] = static_cast<double>(std::fabs(gamma) * (o.bound_multiplier * b_rm[c] * rstd_run +
                                                       (dev == 0 ? 0 : dev * d_rstd)) +
                                   std::fabs(t - static_cast<Real>(mapped[i])) + 64 * LDBL_EPSILON * std::fabs(t));
  }
  const Tensor mapped_t = Tensor::from_values(DType::kFloat64, p.shape, mapped);
  const Tensor bound_t = Tensor::from_values(DType::kFloat64, p.shape, bound_mapped);
  CaseResult r = compare_runs("y", eval.got.out.views.y, mapped_t.view(), eval.want->y_bound, bound_t, slack, o);
  if (r.passed()) return r;
  r.detail = "eval after a full-momentum step vs the training output x sqrt((var + eps) / (var' + eps)): " + r.detail;
  // The slack above holds for buffers within their bounds: a buffer the step stored beyond its
  // bound is the cause, and the failure is that running statistic's.
  const std::pair<const char*, std::pair<const TensorView*, const Tensor*>> buffers[] = {
      {"running_mean", {&*train.got.out.views.running_mean, &*train.want->running_mean}},
      {"running_var", {&*train.got.out.views.running_var, &*train.want->running_var}}};
  for (const auto& [name, got_want] : buffers) {
    const std::vector<double> want = got_want.second->values();
    const std::vector<double>& bound = std::string_view(name) == "running_mean" ? b_rm : b_rv;
    for (std::size_t c = 0; c < want.size(); ++c) {
      const double got = got_want.first->get_linear(static_cast<std::int64_t>(c));
      if (!(std::fabs(got - want[c]) > o.bound_multiplier * bound[c])) continue;
      r.kind = FailureKind::kRunningStatistics, r.output = name;
      r.detail = "the step stored " + describe(name, static_cast<std::int64_t>(c), got, want[c],
                                              o.bound_multiplier * bound[c], ulp_between(got_want.first->dtype, got, want[c])) +
                 "; " + r.detail;
      return r;
    }
  }
  return r;
}

}  // namespace

std::vector<Property> consistency_properties() {
  Domain split;
  split.ops = {Op::kBatchNorm};
  split.directions = {Direction::kForward};
  split.batch_statistics = true;
  split.positive_eps = true;
  split.min_batch = 2;
  Domain full_step;
  full_step.ops = {Op::kBatchNorm};
  full_step.modes = {Mode::kTrain};
  full_step.directions = {Direction::kForward};
  full_step.tracking = Domain::Flag::kOn;
  full_step.positive_eps = true;
  return {
      {"batch_split_equivalence", "batch_norm's saved statistics are the merge (Chan et al.) of two half-batches'",
       split, batch_split_equivalence},
      {"eval_after_full_momentum_step",
       "after one batch_norm step with momentum 1 (keras/onnx: 0), eval reproduces training up to the running "
       "variance's unbiased correction",
       full_step, eval_after_full_momentum_step},
  };
}

}  // namespace normcheck::properties
