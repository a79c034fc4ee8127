// Invariants and metamorphic relations of the forward pass. They compare the implementation with
// itself (or with a closed form), so they catch what a loose tolerance hides; the reference only
// supplies the per-element bound, and, where a relation's two sides are exact only up to the
// rounding of transformed inputs, the exact difference of its two sides as slack.
#include <algorithm>
#include <cmath>

#include "properties/property.h"

namespace normcheck::properties {
namespace {

/// Per set: sum of x and sum of squared deviations, in double (two passes).
struct SetMoments {
  std::vector<double> mean, var, mean_sq;
  std::vector<std::int64_t> count;
};
SetMoments moments_of(const Problem& p, const Geometry& g, const std::vector<double>& x) {
  SetMoments s;
  const auto k = static_cast<std::size_t>(g.num_sets);
  s.mean.assign(k, 0), s.var.assign(k, 0), s.mean_sq.assign(k, 0), s.count.assign(k, 0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto j = static_cast<std::size_t>(set_of(p, g, static_cast<std::int64_t>(i)));
    s.mean[j] += x[i], s.mean_sq[j] += x[i] * x[i], ++s.count[j];
  }
  for (std::size_t j = 0; j < k; ++j) {
    if (s.count[j] == 0) continue;
    s.mean[j] /= static_cast<double>(s.count[j]);
    s.mean_sq[j] /= static_cast<double>(s.count[j]);
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto j = static_cast<std::size_t>(set_of(p, g, static_cast<std::int64_t>(i)));
    s.var[j] += (x[i] - s.mean[j]) * (x[i] - s.mean[j]);
  }
  for (std::size_t j = 0; j < k; ++j)
    if (s.count[j] > 0) s.var[j] /= static_cast<double>(s.count[j]);
  return s;
}

std::string g6(double v) { return fmt_g(v, 6); }

/// Without affine, every set of y has mean 0 and variance var/(var + eps) (rms_norm: mean square
/// ms/(ms + eps)), within what the per-element bounds allow.
CaseResult zero_mean_unit_variance(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated e = evaluate_both(impl, p, *in);
  if (auto v = settled(p, e, in->views.x, o)) return *v;
  const Geometry g = *geometry(p);
  const std::vector<double> x = in->x.values(), b = e.want->y_bound.values();
  std::vector<double> y(x.size());
  for (std::int64_t i = 0; i < e.got.out.views.y.numel(); ++i) y[static_cast<std::size_t>(i)] = e.got.out.views.y.get_linear(i);
  const SetMoments mx = moments_of(p, g, x), my = moments_of(p, g, y);
  // Per set: sum of bounds, sum of |y - mean_y| * bound and of bound^2 (the first-order and
  // second-order effect of per-element errors on the mean and the variance of y).
  std::vector<double> sb(mx.mean.size(), 0), sdb(mx.mean.size(), 0), sbb(mx.mean.size(), 0), sy(mx.mean.size(), 0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto j = static_cast<std::size_t>(set_of(p, g, static_cast<std::int64_t>(i)));
    const double bi = o.bound_multiplier * b[i];
    sb[j] += bi, sdb[j] += std::fabs(y[i] - (p.op == Op::kRmsNorm ? 0 : my.mean[j])) * bi, sbb[j] += bi * bi;
    sy[j] += std::fabs(y[i]);
  }
  const double eps = effective_eps(p);
  std::int64_t compared = 0;
  for (std::size_t j = 0; j < mx.mean.size(); ++j) {
    const auto m = static_cast<double>(mx.count[j]);
    if (m == 0 || !std::isfinite(mx.var[j])) continue;
    ++compared;
    const double eval_slack = 1e-12 * (1 + sy[j] / m);  // the double evaluation of these sums
    if (p.op != Op::kRmsNorm && !(std::fabs(my.mean[j]) <= sb[j] / m + eval_slack)) {
      return CaseResult::failed(FailureKind::kAccuracy, "y", "set " + std::to_string(j) + ": mean of y is " + g6(my.mean[j]) +
                                ", want 0 (allowed " + g6(sb[j] / m + eval_slack) + ")");
    }
    const double v = p.op == Op::kRmsNorm ? mx.mean_sq[j] : mx.var[j];
    const double want = v / (v + eps);
    const double got = p.op == Op::kRmsNorm ? my.mean_sq[j] : my.var[j];
    const double allowed = (2 * sdb[j] + sbb[j]) / m + 1e-9 * want + eval_slack;
    if (!(std::fabs(got - want) <= allowed)) {
      return CaseResult::failed(FailureKind::kAccuracy, "y", "set " + std::to_string(j) + ": " + (p.op == Op::kRmsNorm ? "mean square" : "variance") +
                                " of y is " + g6(got) + ", want var/(var+eps) = " + g6(want) + " (allowed " +
                                g6(allowed) + ")");
    }
  }
  return CaseResult::checked(compared);
}

/// Runs p on x and on transform(x) (problem q), and compares the two y within both bounds plus
/// the exact difference of the two sides (0 where the transform is exact in the dtype).
CaseResult related_runs(impls::Implementation& impl, const Problem& p, const Problem& q, const std::vector<double>& xq,
                        const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  Expected<GeneratedInputs> in_q = make_inputs_with_x(q, xq);
  if (!in || !in_q) return CaseResult::failed("inputs: " + (in ? in_q.message() : in.message()));
  const Evaluated a = evaluate_both(impl, p, *in);
  const Evaluated b = evaluate_both(impl, q, *in_q);
  if (auto v = settled(p, a, in->views.x, o)) return *v;
  if (auto v = settled(q, b, in_q->views.x, o)) return *v;
  const std::vector<double> wa = a.want->y.values(), wb = b.want->y.values();
  std::vector<double> slack(wa.size());
  // Where the transform changed whether the exact value is finite (a bfloat16 shift that rounds a
  // nearly constant set to a constant one, with eps = 0), the relation says nothing: infinite slack.
  for (std::size_t i = 0; i < wa.size(); ++i) {
    const bool finite_a = std::isfinite(wa[i]), finite_b = std::isfinite(wb[i]);
    slack[i] = wa[i] == wb[i] ? 0.0 : finite_a != finite_b ? INFINITY : std::fabs(wa[i] - wb[i]);
  }
  return compare_runs("y", b.got.out.views.y, a.got.out.views.y, b.want->y_bound, a.want->y_bound, slack, o);
}

/// N(x + c) = N(x): the shift is a power of two a few times max |x| (within the dtype's range).
CaseResult shift_invariance(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  std::vector<double> x = in->x.values();
  double top = 1;
  for (double v : x) top = std::max(top, std::fabs(v));
  const double c = std::min(std::exp2(std::ceil(std::log2(top)) + 2), info(p.dtype).max_finite / 8);
  for (double& v : x) v += c;
  return related_runs(impl, p, p, x, o);
}

/// N(a x; a^2 eps) = N(x; eps) for a power of two a (exact in the dtype away from over/underflow).
CaseResult scale_invariance(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const double a = (p.seed % 2 == 0) ? 8.0 : 0.125;
  Problem q = p;
  q.eps = effective_eps(p) * a * a;
  std::vector<double> x = in->x.values();
  for (double& v : x) v *= a;
  return related_runs(impl, p, q, x, o);
}

}  // namespace

std::vector<Property> invariant_properties() {
  Domain normalized;  // y is x normalized: no affine, own statistics
  normalized.directions = {Direction::kForward};
  normalized.affine = Domain::Flag::kOff;
  normalized.batch_statistics = true;
  normalized.positive_eps = true;
  Domain shift;
  shift.ops = {Op::kBatchNorm, Op::kLayerNorm, Op::kInstanceNorm, Op::kGroupNorm, Op::kLayerNorm2d};  // not rms_norm
  shift.directions = {Direction::kForward};
  shift.batch_statistics = true;
  shift.values = {ValueKind::kNormal, ValueKind::kUniform, ValueKind::kConstant, ValueKind::kExactPairs};
  Domain scale = shift;
  scale.ops.push_back(Op::kRmsNorm);
  scale.positive_eps = true;
  Domain constant;
  constant.ops = shift.ops;
  constant.directions = {Direction::kForward};
  constant.batch_statistics = true;
  constant.positive_eps = true;
  constant.values = {ValueKind::kConstant};
  return {
      {"zero_mean_unit_variance",
       "without affine, each set of y has mean 0 and variance var/(var+eps) (rms_norm: mean square ms/(ms+eps))",
       normalized, zero_mean_unit_variance},
      {"shift_invariance", "N(x + c) = N(x)", shift, shift_invariance},
      {"scale_invariance", "N(a x; a^2 eps) = N(x; eps) for a power of two a", scale, scale_invariance},
      {"constant_set_gives_beta", "a constant set gives beta (within the bound of the rounded mean), never NaN",
       constant, [](impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
         Expected<GeneratedInputs> in = make_inputs(p);
         if (!in) return CaseResult::failed("inputs: " + in.message());
         return judge(p, evaluate_both(impl, p, *in), in->views.x, o);
       }},
  };
}

}  // namespace normcheck::properties
