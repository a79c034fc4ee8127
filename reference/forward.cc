// Forward outputs: y, the saved statistics (mean, rstd) and their tolerance bounds.
#include <cmath>
#include <optional>

#include "reference/bounds.h"
#include "reference/internal.h"

namespace normcheck::reference::detail {
namespace {

constexpr double kU = 0x1p-53;
constexpr double kUnderflowGuard = 0x1p-960;  // relative bounds stop holding near underflow

/// y = (x - mean) * (rstd * gamma) + beta in double, with a rigorous bound on its distance to
/// the exact y: the fast path for outputs narrower than float64 (53 bits against <= 24).
std::optional<double> fast_y_double(double x, const SetStats& st, double gamma, double beta, DType t) {
  // x - mean = (x - mean_hi) - mean_lo: the first difference is exact as a TwoSum pair.
  const DD s = two_sum(x, -st.mean_dd.hi);
  const double t1 = s.lo - st.mean_dd.lo;
  const double d = s.hi + t1;
  const double err_d = (kU * (std::fabs(t1) + std::fabs(d)) + st.mean_err) * (1 + 4 * kU);
  // k = rstd * gamma from rstd's leading double (dropping rstd_lo costs <= u).
  const double rel_k = (st.rstd_rel_err + kU) + kU + 2 * kU * kU;
  const double k = st.rstd_dd.hi * gamma;
  const double y = mul_add(d, k, beta);  // err below counts two roundings (u |d k| + u |y|)
  const double ak = std::fabs(k);
  const double err = (err_d * ak + (std::fabs(d) + err_d) * rel_k * ak / (1 - rel_k) +
                      kU * (std::fabs(d) * ak * (1 + kU) + std::fabs(y))) *
                         (1 + 8 * kU) + kUnderflowGuard;
  return certify(y, err, t);
}

/// The same in double-double, for float64 outputs.
std::optional<double> fast_y_dd(double x, const SetStats& st, double gamma, double beta, DType t) {
  constexpr double u = DD::kUnitRoundoff;
  const DD d = DD{x, 0} - st.mean_dd;
  const double ad = abs_value(d);
  const double err_d = u * ad + st.mean_err;
  const DD k = st.rstd_dd * gamma;
  const double rel_k = st.rstd_rel_err + u;
  const DD p = d * k;
  const DD y = p + beta;
  const double ak = abs_value(k);
  const double err = (err_d * ak + (ad + err_d) * rel_k * ak * (1 + 2 * rel_k) + u * (abs_value(p) + abs_value(y))) *
                         (1 + 0x1p-50) + kUnderflowGuard;
  return certify(y, err, t);
}

}  // namespace

/// IEEE evaluation of y for sets whose statistics are not finite (NaN/inf inputs, V <= 0).
double ieee_y(double x, const SetStats& st, double gamma, double beta) {
  return (x - st.mean_d) * st.rstd_d * gamma + beta;
}

double certified_y(double x, const SetStats& st, double gamma, double beta, DType t, Certification& cert) {
  // A non-finite set, or (in eval mode) a non-finite element or affine value: IEEE arithmetic.
  if (!st.finite || !std::isfinite(x) || !std::isfinite(gamma) || !std::isfinite(beta))
    return round_to(t, ieee_y(x, st, gamma, beta));
  const std::optional<double> y =
      t == DType::kFloat64 ? fast_y_dd(x, st, gamma, beta, t) : fast_y_double(x, st, gamma, beta, t);
  if (y) {
    ++cert.values;
    ++cert.at_level[0];
    return *y;
  }
  const ExactStats& ex = st.exact();
  if (const std::optional<double> wide = certify_y_wide(x, ex.wide, gamma, beta, t)) {
    ++cert.values;
    ++cert.at_level[1];
    return *wide;
  }
  const Rational A = (to_rational(x) - ex.mean) * to_rational(gamma);
  return round_sqrt_form(A, ex.V, to_rational(beta), t, cert);
}

double saved_mean(const SetStats& st, DType t) {
  // A set whose rstd alone is not finite (eps = 0 and a constant set) still has its finite mean.
  if (!st.finite && !std::isfinite(st.mean_d)) return round_to(t, st.nonfinite_mean);
  // mean_dd is within mean_err of the exact mean: certify its rounding without the rationals.
  if (auto m = certify(st.mean_dd, st.mean_err, t)) return *m;
  return round_rational(st.exact().mean, t);
}

double certified_rstd(const SetStats& st, DType t, Certification& cert) {
  if (!st.finite) return round_to(t, st.rstd_d);
  if (auto r = certify(st.rstd_dd, st.rstd_rel_err * std::fabs(st.rstd_dd.hi) * (1 + 0x1p-50), t)) {
    ++cert.values;
    ++cert.at_level[0];
    return *r;
  }
  return round_sqrt_form(Rational(1), st.exact().V, Rational(0), t, cert);
}

StatErrors stat_errors_of(const Problem& p, const Sets& sets, const SetStats& st) {
  const AccuracyModel am = AccuracyModel::for_data(p.dtype);
  if (sets.use_running_stats) return running_stat_errors(am);
  return batch_stat_errors(am, st.m, st.mean_abs, st.dev_abs, st.var_d, st.rstd_d, effective_eps(p),
                           p.op == Op::kRmsNorm);
}

namespace {

/// The loop every forward evaluation shares: y[i] for each element x[n][c][s], through the
/// arithmetic A (A::y gives the value stored in the output dtype). Certified and plain double
/// evaluations are this same code with a different A.
template <class A>
void normalize_elements(const Sets& sets, const Data& d, const std::vector<SetStats>& stats, DType t, Tensor& y,
                        A& arithmetic) {
  const Geometry& g = sets.g;
  auto* y_out = static_cast<char*>(y.data());
  const std::size_t esize = size_of(t);
  std::int64_t i = 0;
  for (std::int64_t n = 0; n < g.N; ++n) {
    for (std::int64_t c = 0; c < g.C; ++c) {
      const double gamma = d.gamma[c], beta = d.beta[c];
      for (std::int64_t s = 0; s < g.S; ++s, ++i) {
        const std::int64_t k = sets.set_of(n, c, s);
        store(t, y_out + i * esize, arithmetic.y(i, d.x[i], stats[k], k, gamma, beta));
      }
    }
  }
}

/// Exact statistics, certified rounding, and each element's tolerance bound.
struct CertifiedArithmetic {
  DType t;
  AccuracyModel am;
  const DTypeInfo& out;
  const std::vector<StatErrors>& errors;
  double* bound;
  Certification& cert;
  double y(std::int64_t i, double x, const SetStats& st, std::int64_t k, double gamma, double beta) {
    const double v = certified_y(x, st, gamma, beta, t, cert);
    bound[i] = y_bound(am, errors[k], out, x, st.mean_d, st.rstd_d, gamma, beta, v);
    return v;
  }
};

/// The textbook evaluation in double (store() rounds it to the dtype).
struct PlainDoubleArithmetic {
  double y(std::int64_t, double x, const SetStats& st, std::int64_t, double gamma, double beta) {
    return ieee_y(x, st, gamma, beta);
  }
};

}  // namespace

void forward_outputs(const Problem& p, const Sets& sets, const Data& d, const std::vector<SetStats>& stats,
                     Result& r) {
  const DType t = p.dtype;
  std::vector<StatErrors> errors;
  errors.reserve(stats.size());
  for (const SetStats& st : stats) errors.push_back(stat_errors_of(p, sets, st));

  r.y = Tensor::empty(t, p.shape);
  r.y_bound = Tensor::empty(DType::kFloat64, p.shape);
  CertifiedArithmetic certified{t, AccuracyModel::for_data(t), info(t), errors,
                                static_cast<double*>(r.y_bound.data()), r.certification};
  normalize_elements(sets, d, stats, t, r.y, certified);

  if (sets.use_running_stats) return;  // eval with running stats saves no batch statistics
  const DType sdt = stats_dtype(t);
  const std::vector<std::int64_t> set_shape{sets.count()};
  Tensor mean = Tensor::empty(sdt, set_shape), rstd = Tensor::empty(sdt, set_shape);
  Tensor mean_b = Tensor::empty(DType::kFloat64, set_shape), rstd_b = Tensor::empty(DType::kFloat64, set_shape);
  for (std::int64_t k = 0; k < sets.count(); ++k) {
    const SetStats& st = stats[k];
    const double mv = saved_mean(st, sdt);
    const double rv = certified_rstd(st, sdt, r.certification);
    mean.view().set_linear(k, mv);
    rstd.view().set_linear(k, rv);
    mean_b.view().set_linear(k, std::isfinite(mv) ? errors[k].mean + ulp(sdt, mv) : 0.0);
    rstd_b.view().set_linear(k, std::isfinite(rv) ? errors[k].rstd * std::fabs(rv) + ulp(sdt, rv) : 0.0);
  }
  if (p.op != Op::kRmsNorm) {
    r.mean = std::move(mean);
    r.mean_bound = std::move(mean_b);
  }
  r.rstd = std::move(rstd);
  r.rstd_bound = std::move(rstd_b);
}

void plain_forward(const Problem& p, const Sets& sets, const Data& d, Result& r) {
  const double eps = effective_eps(p);
  const bool rms = p.op == Op::kRmsNorm;
  const double m = static_cast<double>(sets.g.set_size);
  std::vector<SetStats> stats(static_cast<std::size_t>(sets.count()));
  for (std::int64_t k = 0; k < sets.count(); ++k) {
    // Two passes in double: mean, then the mean of squared deviations.
    double sum = 0, sq = 0;
    if (!rms) sets.for_each(k, [&](std::int64_t i) { sum += d.x[i]; });
    const double mean = rms ? 0.0 : sum / m;
    sets.for_each(k, [&](std::int64_t i) { sq += (d.x[i] - mean) * (d.x[i] - mean); });
    stats[k].mean_d = mean;
    stats[k].rstd_d = 1 / std::sqrt(sq / m + eps);
  }
  r.y = Tensor::empty(p.dtype, p.shape);
  PlainDoubleArithmetic plain;
  normalize_elements(sets, d, stats, p.dtype, r.y, plain);
}

}  // namespace normcheck::reference::detail
