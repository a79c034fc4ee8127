// Backward outputs: dx, dgamma (dweight), dbeta (dbias) and their tolerance bounds.
//
// With g_i = dy_i * gamma_c(i), per set (batch statistics):
//   dx_i = rstd / m * (m g_i - sum g - xhat_i * sum g xhat)
//        = A_i / sqrt(V),  A_i = g_i - Sg / m - (x_i - mean) * (Sgx - mean * Sg) / (m V)
// where Sg = sum g and Sgx = sum g x are exact sums, so A_i is rational and dx_i rounds like y.
// rms_norm: dx_i = (g_i - x_i * Sgx / (m V)) / sqrt(V). Running statistics (eval): dx = g / sqrt(V).
#include <cmath>
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
      ieee += d.dy[i] * (d.x[i] - st.mean_d) * st.rstd_d;
      if (!st.finite || !std::isfinite(d.dy[i]) || !std::isfinite(d.x[i])) {
        finite = false;
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

}  // namespace

void backward_outputs(const Problem& p, const Sets& sets, const Data& d, const std::vector<SetStats>& stats,
                      Result& r) {
  const DType t = p.dtype;
  const Geometry& g = sets.g;
  const AccuracyModel am = AccuracyModel::for_data(t);
  const bool running = sets.use_running_stats;
  std::vector<SetGrad> grads(static_cast<std::size_t>(sets.count()));
  std::vector<StatErrors> errors;
  for (std::int64_t k = 0; k < sets.count(); ++k) {
    errors.push_back(stat_errors_of(p, sets, stats[k]));
    if (!running) grads[k] = set_grad(p, sets, d, stats[k], k);
  }

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
    bound_out[i] = running ? (std::isfinite(dx) ? std::fabs(dx) * 4 * am.u + ulp(t, dx) : 0.0)
                           : dx_bound(am, errors[k], t, st.m, grads[k].sums, gi, d.x[i], st.mean_d, st.rstd_d, dx);
  }

  if (!p.affine && !p.bias) return;  // bias without weight (keras' center=True, scale=False): dbias only
  const std::vector<std::int64_t> cshape = affine_shape(p);
  Tensor dw = Tensor::empty(t, cshape), dw_b = Tensor::empty(DType::kFloat64, cshape);
  Tensor db = Tensor::empty(t, cshape), db_b = Tensor::empty(DType::kFloat64, cshape);
  ExactSum sum_dy;
  for (std::int64_t c = 0; c < g.C; ++c) {
    sum_dy.clear();
    double abs_dy = 0, abs_dy_xhat = 0, xhat_err = 0;
    for (std::int64_t n = 0; n < g.N; ++n) {
      for (std::int64_t s = 0; s < g.S; ++s) {
        const std::int64_t i = (n * g.C + c) * g.S + s, k = sets.index(i);
        const double xhat = (d.x[i] - stats[k].mean_d) * stats[k].rstd_d;
        sum_dy.add(d.dy[i]);
        abs_dy += std::fabs(d.dy[i]);
        abs_dy_xhat += std::fabs(d.dy[i] * xhat);
        xhat_err += std::fabs(d.dy[i]) * stats[k].rstd_d * centred_error(am, errors[k], d.x[i], stats[k].mean_d);
      }
    }
    if (p.affine) {
      const double dgamma = certified_dgamma(sets, d, stats, c, t, r.certification);
      dw.view().set_linear(c, dgamma);
      dw_b.view().set_linear(c, dgamma_bound(am, t, g.N * g.S, abs_dy_xhat, xhat_err, dgamma));
    }
    const double dbeta = sum_dy.is_finite() ? round_dyadic(sum_dy.value(), t) : round_to(t, sum_dy.nonfinite_value());
    db.view().set_linear(c, dbeta);
    db_b.view().set_linear(c, dbeta_bound(am, t, g.N * g.S, abs_dy, dbeta));
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
