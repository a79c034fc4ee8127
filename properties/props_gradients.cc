// Relations of the backward pass that hold for every set in training (batch statistics):
//   dxhat = gamma * dy,  dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat))
// so  sum_set dx = 0  and  sum_set dx * xhat = rstd * eps / (var + eps) * sum_set dxhat * xhat
// (rms_norm: no mean term; the second relation with var -> mean square), and a constant
// cotangent gives dx = 0.
#include <cfloat>
#include <cmath>

#include "properties/property.h"

namespace normcheck::properties {
namespace {

std::string g6(double v) { return fmt_g(v, 6); }

CaseResult dx_sums(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated e = evaluate_both(impl, p, *in);
  if (auto v = settled(p, e, in->views.x, o)) return *v;
  const Geometry g = *geometry(p);
  const bool rms = p.op == Op::kRmsNorm;
  const std::vector<double> x = in->x.values(), dy = in->grad_output.values(), bound = e.want->dx_bound->values();
  const std::vector<double> dx_want = e.want->dx->values();
  const std::vector<double> w = p.affine ? in->weight.values() : std::vector<double>{};
  const auto sets = static_cast<std::size_t>(g.num_sets);
  // The set statistics in long double: at |mean|/std = 1e9 a double xhat would carry 1e-7 of
  // relative error of its own, more than float64's bound allows the implementation.
  const LongStats st = long_stats(p, g, x);
  const std::vector<long double>&mean = st.mean, &v = st.m2;
  const std::vector<double>& count = st.count;
  const double eps = effective_eps(p);
  std::vector<double> sum_dx(sets, 0), sum_dx_xhat(sets, 0), sum_g_xhat(sets, 0), tol_dx(sets, 0), tol_xhat(sets, 0),
      mag(sets, 0), abs_g_xhat(sets, 0);
  const std::int64_t C = p.affine ? numel_of(affine_shape(p)) : 1;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto j = static_cast<std::size_t>(set_of(p, g, static_cast<std::int64_t>(i)));
    const long double var = v[j] / count[j];
    const double xhat = static_cast<double>((x[i] - mean[j]) / std::sqrt(var + eps));
    // The affine index: the channel (ops with one), else the position within normalized_shape.
    const std::int64_t a = (p.op == Op::kLayerNorm || rms) ? static_cast<std::int64_t>(i) % C
                                                            : (static_cast<std::int64_t>(i) / g.S) % g.C;
    const double gamma = p.affine ? w[static_cast<std::size_t>(a)] : 1.0;
    const double dx = e.got.out.views.dx->get_linear(static_cast<std::int64_t>(i));
    sum_dx[j] += dx, sum_dx_xhat[j] += dx * xhat, sum_g_xhat[j] += gamma * dy[i] * xhat;
    abs_g_xhat[j] += std::fabs(gamma * dy[i] * xhat);
    // An exact dx that overflows the dtype leaves the set without finite sums: skip it.
    const double b_i = std::isfinite(dx_want[i]) ? bound[i] : INFINITY;
    tol_dx[j] += o.bound_multiplier * b_i, tol_xhat[j] += o.bound_multiplier * b_i * std::fabs(xhat);
    mag[j] += std::fabs(dx) * (1 + std::fabs(xhat));
  }
  std::int64_t compared = 0;
  for (std::size_t j = 0; j < sets; ++j) {
    // Sets whose exact dx overflows the dtype (a tiny variance with a tiny eps) have no finite sums.
    if (count[j] == 0 || !std::isfinite(v[j]) || !std::isfinite(tol_dx[j])) continue;
    compared += rms ? 1 : 2;
    const double var = static_cast<double>(v[j] / count[j]), rstd = 1 / std::sqrt(var + eps);
    // The evaluation of these sums: double rounding, and xhat's long double error at |mean|/std.
    const double kappa = static_cast<double>(std::fabs(mean[j])) * rstd;
    const double slack = (1e-9 + 16 * LDBL_EPSILON * kappa) * (mag[j] + rstd * abs_g_xhat[j]) + 1e-300;
    if (!rms && !(std::fabs(sum_dx[j]) <= tol_dx[j] + slack))
      return CaseResult::failed(FailureKind::kAccuracy, "dx", "set " + std::to_string(j) + ": sum of dx is " + g6(sum_dx[j]) + ", want 0 (allowed " +
                                g6(tol_dx[j] + slack) + ")");
    const double want = rstd * eps / (var + eps) * sum_g_xhat[j];
    const double allowed = tol_xhat[j] + slack + 1e-9 * std::fabs(want);
    if (!(std::fabs(sum_dx_xhat[j] - want) <= allowed))
      return CaseResult::failed(FailureKind::kAccuracy, "dx", "set " + std::to_string(j) + ": sum of dx * xhat is " + g6(sum_dx_xhat[j]) +
                                ", want rstd * eps / (var + eps) * sum(gamma dy xhat) = " + g6(want) + " (allowed " +
                                g6(allowed) + ")");
  }
  return CaseResult::checked(compared);
}

/// dy = c everywhere: dx = 0 within its bound (the mean term cancels the constant exactly).
CaseResult constant_cotangent(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const double c = 0.75 + static_cast<double>(p.seed % 4);
  in->grad_output = Tensor::from_values(p.dtype, p.shape, std::vector<double>(static_cast<std::size_t>(numel_of(p.shape)), c), p.layout);
  in->views.grad_output = in->grad_output.view();
  if (p.affine) {  // gamma constant within each set too, else gamma * dy is not constant
    in->weight = Tensor::from_values(p.dtype, affine_shape(p), std::vector<double>(static_cast<std::size_t>(numel_of(affine_shape(p))), 1.5));
    in->views.weight = in->weight.view();
  }
  return judge(p, evaluate_both(impl, p, *in), in->views.x, o);
}

}  // namespace

std::vector<Property> gradient_properties() {
  Domain train_backward;
  train_backward.directions = {Direction::kBackward};
  train_backward.batch_statistics = true;
  train_backward.positive_eps = true;
  train_backward.values = {ValueKind::kNormal, ValueKind::kUniform, ValueKind::kExactPairs};
  Domain constant = train_backward;
  constant.ops = {Op::kBatchNorm, Op::kLayerNorm, Op::kInstanceNorm, Op::kGroupNorm, Op::kLayerNorm2d};
  return {
      {"dx_sums", "in training each set's dx sums to 0 and dx . xhat to rstd eps/(var+eps) sum(gamma dy xhat)",
       train_backward, dx_sums},
      {"constant_cotangent_gives_zero_dx", "a constant dy gives dx = 0 (all but rms_norm)", constant, constant_cotangent},
  };
}

const std::vector<Property>& all_properties() {
  static const std::vector<Property> kAll = [] {
    std::vector<Property> all;
    for (auto family : {differential_properties, invariant_properties, state_properties, structure_properties,
                        consistency_properties, gradient_properties}) {
      for (Property& p : family()) all.push_back(std::move(p));
    }
    return all;
  }();
  return kAll;
}

const Property* find_property(std::string_view name) {
  for (const Property& p : all_properties())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace normcheck::properties
