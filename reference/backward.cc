// Backward outputs: dx, dgamma (dweight), dbeta (dbias) and their tolerance bounds.
//
// With g_i = dy_i * gamma_c(i), per set (batch statistics):
//   dx_i = rstd / m * (m g_i - sum g - xhat_i * sum g xhat)
//        = A_i / sqrt(V),  A_i = g_i - Sg / m - (x_i - mean) * (Sgx - mean * Sg) / (m V)
// where Sg = sum g and Sgx = sum g x are exact sums, so A_i is rational and dx_i rounds like y.
// rms_norm: dx_i = (g_i - x_i * Sgx / (m V)) / sqrt(V). Running statistics (eval): dx = g / sqrt(V).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "reference/internal.h"

namespace normcheck::reference::detail {
namespace {

constexpr double kUd = DD::kUnitRoundoff;
constexpr double kUnderflowGuard = 0x1p-960;

/// A per-set constant of the dx formula: exact, as DD, and the DD's absolute error.
struct Constant {
  Rational q;
  DD dd;
  double err = 0;
};
Constant constant_of(const Rational& q) {
  Constant c{q, {}, 0};
  c.dd = to_dd(q, c.err);
  return c;
}

/// The dx formula's per-set parts.
struct SetGrad {
  bool finite = true;
  Constant c1, w;  // A_i = g_i - c1 - (x_i - mean) * w
  GradSums sums;   // for the tolerance
  double c1_d = 0, w_d = 0;
};

SetGrad set_grad(const Problem& p, const Sets& sets, const Data& d, const SetStats& st, std::int64_t k) {
  SetGrad sg;
  ExactSum sum_g, sum_gx;
  const Geometry& g = sets.g;
  sets.for_each(k, [&](std::int64_t i) {
    const double gamma = d.gamma[(i / g.S) % g.C];
    sum_g.add_product(d.dy[i], gamma);
    sum_gx.add_product(d.dy[i], gamma, d.x[i]);
    const double gi = d.dy[i] * gamma, xhat = (d.x[i] - st.mean_d) * st.rstd_d;
    sg.sums.abs_g += std::fabs(gi);
    sg.sums.abs_gx += std::fabs(gi * d.x[i]);
    sg.sums.abs_gxhat += std::fabs(gi * xhat);
    sg.sums.gxhat += gi * xhat;
  });
  if (!st.finite || !sum_g.is_finite() || !sum_gx.is_finite()) {
    sg.finite = false;
    sg.c1_d = (sum_g.is_finite() ? 0.0 : sum_g.nonfinite_value()) / static_cast<double>(st.m);
    sg.w_d = std::nan("");
    return sg;
  }
  const Rational Sg = to_rational(sum_g.value()), Sgx = to_rational(sum_gx.value());
  const bool rms = p.op == Op::kRmsNorm;
  sg.c1 = constant_of(rms ? Rational(0) : Sg / st.m);
  const ExactStats& ex = st.exact();
  sg.w = constant_of((Sgx - ex.mean * Sg) / (st.m * ex.V));
  sg.c1_d = sg.c1.dd.hi;
  sg.w_d = sg.w.dd.hi;
  return sg;
}

/// dx = (g - c1 - (x - mean) w) * rstd in double-double with a rigorous error bound.
std::optional<double> fast_dx(double dy, double gamma, double x, const SetStats& st, const SetGrad& sg, DType t) {
  const DD g = two_prod(dy, gamma);  // exact barring underflow (guarded below)
  const DD a1 = g - sg.c1.dd;
  const double err_a1 = kUd * abs_value(a1) + sg.c1.err;
  const DD d = DD{x, 0} - st.mean_dd;
  const double err_d = kUd * abs_value(d) + st.mean_err;
  const DD pw = d * sg.w.dd;
  const double err_pw = abs_value(d) * sg.w.err + err_d * (abs_value(sg.w.dd) + sg.w.err) + kUd * abs_value(pw);
  const DD a = a1 - pw;
  const double err_a = err_a1 + err_pw + kUd * abs_value(a);
  const DD dx = a * st.rstd_dd;
  const double r = abs_value(st.rstd_dd);
  const double err = (err_a * r * (1 + 2 * st.rstd_rel_err) + abs_value(a) * r * st.rstd_rel_err +
                      kUd * abs_value(dx)) * (1 + 0x1p-50) + kUnderflowGuard;
  return certify(dx, err, t);
}

double certified_dx(double dy, double gamma, double x, const SetStats& st, const SetGrad& sg, bool running, DType t,
                    Certification& cert) {
  if (running) {  // dx = g / sqrt(V): the set grad's c1 = w = 0
    if (!st.finite || !std::isfinite(dy) || !std::isfinite(gamma)) return round_to(t, dy * gamma * st.rstd_d);
  } else if (!sg.finite || !std::isfinite(dy) || !std::isfinite(gamma) || !std::isfinite(x)) {
    return round_to(t, (dy * gamma - sg.c1_d - (x - st.mean_d) * sg.w_d) * st.rstd_d);
  }
  if (auto v = fast_dx(dy, gamma, x, st, sg, t)) {
    ++cert.values;
    ++cert.at_level[0];
    return *v;
  }
  const Rational g = to_rational(dy) * to_rational(gamma);
  const ExactStats& ex = st.exact();
  const Rational A = running ? g : g - sg.c1.q - (to_rational(x) - ex.mean) * sg.w.q;
  return round_sqrt_form(A, ex.V, Rational(0), t, cert);
}

/// dgamma_c = sum over the elements of channel c of dy * (x - mean) * rstd, summed in
/// double-double with a running bound; exact terms (one per set) when that does not certify.
double certified_dgamma(const Sets& sets, const Data& d, const std::vector<SetStats>& stats, std::int64_t c, DType t,
                        Certification& cert) {
  const Geometry& g = sets.g;
  DD sum{0, 0};
  double err = 0, ieee = 0;
  bool finite = true;
  for (std::int64_t n = 0; n < g.N; ++n) {
    for (std::int64_t s = 0; s < g.S; ++s) {
      const std::int64_t i = (n * g.C + c) * g.S + s;
      const SetStats& st = stats[sets.index(i)];
      if (!st.finite || !std::isfinite(d.dy[i]) || !std::isfinite(d.x[i])) {
        // IEEE arithmetic: NaN or inf, or exactly 0 (rms_norm's rstd = rsqrt(inf) = 0 times a
        // finite x, or a running_var of inf), which adds nothing.
        const double term = d.dy[i] * (d.x[i] - st.mean_d) * st.rstd_d;
        if (!std::isfinite(term)) {
          finite = false;
          ieee += term;
        }
        continue;
      }
      const DD dev = DD{d.x[i], 0} - st.mean_dd;
      const DD term = dev * d.dy[i] * st.rstd_dd;
      const double r = abs_value(st.rstd_dd);
      err += abs_value(term) * (st.rstd_rel_err + 3 * kUd) + std::fabs(d.dy[i]) * r * st.mean_err * 1.01;
      sum = sum + term;
      err += kUd * abs_value(sum);
    }
  }
  if (!finite) return round_to(t, ieee);
  if (auto v = certify(sum, (err + kUnderflowGuard) * (1 + 0x1p-50), t)) {
    ++cert.values;
    ++cert.at_level[0];
    return *v;
  }
  // Exact terms: per set, sum dy (x - mean) = P - mean * Q over the channel's elements in it.
  std::vector<SqrtTerm> terms;
  ExactSum P, Q;
  std::int64_t current = -1;
  auto flush = [&] {
    if (current < 0) return;
    const SetStats& st = stats[current];
    const ExactStats& ex = st.exact();
    terms.push_back({to_rational(P.value()) - ex.mean * to_rational(Q.value()), ex.V});
    P.clear();
    Q.clear();
  };
  for (std::int64_t n = 0; n < g.N; ++n) {
    for (std::int64_t s = 0; s < g.S; ++s) {
      const std::int64_t i = (n * g.C + c) * g.S + s;
      const std::int64_t k = sets.index(i);
      if (!stats[k].finite) continue;  // its terms are exactly 0 (above)
      if (k != current) {
        flush();
        current = k;
      }
      P.add_product(d.dy[i], d.x[i]);
      Q.add(d.dy[i]);
    }
  }
  flush();
  return round_sqrt_sum(std::move(terms), t, cert);
}

/// Whether a gradient's kind is undecided by overflow: the terms the usual algorithm forms
/// (largest: their magnitude) may overflow the accumulator, or the value, `exact` before rounding
/// with bound `bound`, lies within that bound of the output's overflow threshold.
bool overflow_undecided(const AccuracyModel& am, DType t, long double largest, long double exact,
                        double bound) {
  return largest >= overflow_threshold(am.acc) || straddles_overflow(exact, bound, overflow_threshold(t));
}

/// The bound of a value whose rounding `v` may be inf: bound_at(|v|), evaluated at the exact
/// magnitude (clamped to the double range) where v overflowed.
template <class F>
double bound_near(double v, long double exact, F&& bound_at) {
  if (std::isfinite(v)) return bound_at(v);
  const long double a = exact < 0 ? -exact : exact;
  return bound_at(static_cast<double>(std::min<long double>(a, std::numeric_limits<double>::max())));
}

}  // namespace

void backward_outputs(const Problem& p, const Sets& sets, const Data& d, const std::vector<SetStats>& stats,
                      Result& r) {
  const DType t = p.dtype;
  const Geometry& g = sets.g;
  const AccuracyModel am = AccuracyModel::for_data(t);
  const bool running = sets.use_running_stats;
  std::vector<SetGrad> grads(static_cast<std::size_t>(sets.count()));
  std::vector<StatErrors> errors;
  std::vector<UndecidedStats> undecided;
  for (std::int64_t k = 0; k < sets.count(); ++k) {
    errors.push_back(stat_errors_of(p, sets, stats[k]));
    undecided.push_back(undecided_of(p, stats[k], errors.back()));
    if (!running) grads[k] = set_grad(p, sets, d, stats[k], k);
  }
  using LD = long double;

  r.dx = Tensor::empty(t, p.shape);
  r.dx_bound = Tensor::empty(DType::kFloat64, p.shape);
  auto* dx_out = static_cast<char*>(r.dx->data());
  auto* bound_out = static_cast<double*>(r.dx_bound->data());
  const std::size_t esize = size_of(t);
  const std::int64_t total = g.N * g.C * g.S;
  for (std::int64_t i = 0; i < total; ++i) {
    const std::int64_t c = (i / g.S) % g.C, k = sets.index(i);
    const SetStats& st = stats[k];
    const double dx = certified_dx(d.dy[i], d.gamma[c], d.x[i], st, grads[k], running, t, r.certification);
    store(t, dx_out + i * esize, dx);
    const double gi = d.dy[i] * d.gamma[c];
    auto bound_at = [&](double v) {
      return running ? std::fabs(v) * 4 * am.u + ulp(t, v)
                     : dx_bound(am, errors[k], t, st.m, grads[k].sums, gi, d.x[i], st.mean_d, st.rstd_d, v);
    };
    bound_out[i] = std::isfinite(dx) ? bound_at(dx) : 0.0;
    if (undecided[k].any()) {
      bound_out[i] = kUndecided;
      continue;
    }
    const bool decided_by_ieee = running ? !st.finite || !std::isfinite(gi)
                                         : !grads[k].finite || !std::isfinite(gi) || !std::isfinite(d.x[i]);
    if (decided_by_ieee) continue;
    // dx = rstd / m (m g_i - sum g - xhat_i sum g xhat), or folded as PyTorch's kernels do,
    // rstd g_i + b x_i + c with b = (mean sum g - sum g x) rstd^3 / m (rms_norm's composite
    // backward forms rstd^3 too): the largest of their terms.
    const SetGrad& sg = grads[k];
    const double rstd = st.rstd_d * (1 + errors[k].rstd), xhat_i = std::fabs(d.x[i] - st.mean_d) * rstd;
    const double cube = rstd * rstd * rstd, folded = std::fabs(st.mean_d) * sg.sums.abs_g + sg.sums.abs_gx;
    const double largest =
        running ? std::fabs(gi) * rstd
                : std::max(
                      {static_cast<double>(st.m) * std::fabs(gi) + sg.sums.abs_g + xhat_i * sg.sums.abs_gxhat,
                       cube, folded * cube, folded * cube / static_cast<double>(st.m) * std::fabs(d.x[i])});
    // Far from both thresholds (nearly always): decided, without long double arithmetic.
    if (std::isfinite(dx) && largest < 0x1p-4 * info(am.acc).max_finite &&
        std::fabs(dx) + bound_out[i] < 0x1p-4 * info(t).max_finite)
      continue;
    const LD exact = running ? static_cast<LD>(gi) * st.rstd_d
                             : (gi - sg.c1_d - (static_cast<LD>(d.x[i]) - st.mean_d) * sg.w_d) * st.rstd_d;
    if (overflow_undecided(am, t, largest, exact, bound_near(dx, exact, bound_at))) bound_out[i] = kUndecided;
  }

  if (!p.affine && !p.bias) return;  // bias without weight (keras' center=True, scale=False): dbias only
  const std::vector<std::int64_t> cshape = affine_shape(p);
  Tensor dw = Tensor::empty(t, cshape), dw_b = Tensor::empty(DType::kFloat64, cshape);
  Tensor db = Tensor::empty(t, cshape), db_b = Tensor::empty(DType::kFloat64, cshape);
  ExactSum sum_dy;
  for (std::int64_t c = 0; c < g.C; ++c) {
    sum_dy.clear();
    double abs_dy = 0, abs_dy_xhat = 0, xhat_err = 0;
    LD dy_xhat = 0, dy_sum = 0;  // before rounding, for the overflow threshold
    bool stats_undecided = false;
    for (std::int64_t n = 0; n < g.N; ++n) {
      for (std::int64_t s = 0; s < g.S; ++s) {
        const std::int64_t i = (n * g.C + c) * g.S + s, k = sets.index(i);
        const double xhat = (d.x[i] - stats[k].mean_d) * stats[k].rstd_d;
        stats_undecided |= undecided[k].any();
        dy_xhat += static_cast<LD>(d.dy[i]) * xhat;
        dy_sum += d.dy[i];
        sum_dy.add(d.dy[i]);
        abs_dy += std::fabs(d.dy[i]);
        abs_dy_xhat += std::fabs(d.dy[i] * xhat);
        xhat_err += std::fabs(d.dy[i]) * stats[k].rstd_d * centred_error(am, errors[k], d.x[i], stats[k].mean_d);
      }
    }
    const std::int64_t count = g.N * g.S;
    if (p.affine) {
      const double dgamma = certified_dgamma(sets, d, stats, c, t, r.certification);
      auto dgamma_at = [&](double v) { return dgamma_bound(am, t, count, abs_dy_xhat, xhat_err, v); };
      const bool dgamma_undecided =
          stats_undecided ||
          (std::isfinite(dy_xhat) &&
           overflow_undecided(am, t, abs_dy_xhat, dy_xhat, bound_near(dgamma, dy_xhat, dgamma_at)));
      dw.view().set_linear(c, dgamma);
      dw_b.view().set_linear(c, dgamma_undecided ? kUndecided : dgamma_at(dgamma));
    }
    const double dbeta = sum_dy.is_finite() ? round_dyadic(sum_dy.value(), t) : round_to(t, sum_dy.nonfinite_value());
    auto dbeta_at = [&](double v) { return dbeta_bound(am, t, count, abs_dy, v); };
    const bool dbeta_undecided =
        std::isfinite(dy_sum) && overflow_undecided(am, t, abs_dy, dy_sum, bound_near(dbeta, dy_sum, dbeta_at));
    db.view().set_linear(c, dbeta);
    db_b.view().set_linear(c, dbeta_undecided ? kUndecided : dbeta_at(dbeta));
  }
  if (p.affine) {
    r.dweight = std::move(dw);
    r.dweight_bound = std::move(dw_b);
  }
  if (p.bias) {
    r.dbias = std::move(db);
    r.dbias_bound = std::move(db_b);
  }
}

}  // namespace normcheck::reference::detail
