#include "reference/bounds.h"

#include <algorithm>
#include <cmath>

namespace normcheck::reference {
namespace {

double ulp_of(DType out, double v) { return output_ulp(info(out), v); }

}  // namespace

AccuracyModel AccuracyModel::for_data(DType t) {
  return t == DType::kFloat64 ? AccuracyModel{0x1p-53, 0x1p-1074, DType::kFloat64}
                              : AccuracyModel{0x1p-24, 0x1p-149, DType::kFloat32};
}

long double overflow_threshold(DType f) {
  const DTypeInfo& i = info(f);  // max + half its ulp, 2^(emax - p + 1) / 2
  return static_cast<long double>(i.max_finite) + std::ldexp(1.0L, i.emax - i.precision);
}

UndecidedStats undecided_stats(const AccuracyModel& am, const StatErrors& se, std::int64_t m, double mean_abs,
                               double var, double eps, bool rms) {
  UndecidedStats k;
  const long double omega = overflow_threshold(am.acc), md = static_cast<long double>(m);
  // sum |x| bounds every partial sum of x, and |x_i - mean| <= sum |x| + mean_abs.
  k.mean = !rms && (md + 1) * mean_abs * (1 + am.gamma(m)) >= omega;
  // The squares' sum is m var_hat, var_hat <= var + E_var.
  k.squares = md * (static_cast<long double>(var) + se.var) >= omega;
  // eps as the accumulator holds it: below its subnormals it is 0, and var_hat + eps may be 0.
  if (round_to(am.acc, eps) == 0) {
    // var_hat reaches 0 from var <= E_var, or from squares that underflow (each by <= eta);
    // it is above 0 where the statistics err at all (a mean 1 ulp off makes every x - mean_hat
    // nonzero). Running statistics (E = 0) are read exactly.
    const double e_var = se.var > 0 ? se.var + am.eta : 0.0;
    const bool zero_reachable = var <= e_var, positive_reachable = var > 0 || se.var > 0 || se.mean > 0;
    k.zero_v = var + eps == 0 ? positive_reachable : zero_reachable;
  }
  return k;
}

double AccuracyModel::gamma(std::int64_t n) const {
  const double k = std::ceil(std::log2(static_cast<double>(std::max<std::int64_t>(n, 2)))) + 2;
  return k * u / (1 - k * u);
}

StatErrors batch_stat_errors(const AccuracyModel& am, std::int64_t m, double mean_abs, double dev_abs, double var,
                             double rstd, double eps, bool rms) {
  const double g = am.gamma(m);
  StatErrors se;
  se.mean = rms ? 0.0 : g * mean_abs;
  // Two-pass: sum (x - mean_hat)^2 = m var + m (mean - mean_hat)^2, summed with error gamma.
  // Welford / Chan updates: each step's deviation carries the mean's error, 2 |mean| |x - mean| u.
  se.var = rms ? g * var : g * (var + 2 * mean_abs * dev_abs) + 2 * se.mean * se.mean;
  // d rstd / rstd = -dV / (2 V) with V = var + eps = 1 / rstd^2; every term below is scaled by
  // rstd (var / V = 1 - eps rstd^2), so nothing overflows.
  const double var_share = std::max(0.0, 1 - eps * rstd * rstd);
  const double ma = mean_abs * rstd, da = dev_abs * rstd, em = se.mean * rstd;
  const double rel_v = rms ? g * var_share : g * (var_share + 2 * ma * da) + 2 * em * em;
  se.rstd = std::min(1.0, rel_v / 2) + 3 * am.u;  // + the evaluation of 1 / sqrt(var + eps)
  return se;
}

StatErrors running_stat_errors(const AccuracyModel& am) { return {0, 0, 3 * am.u}; }

double dx_bound(const AccuracyModel& am, const StatErrors& se, DType out, std::int64_t m, const GradSums& sums,
                double g_i, double x_i, double mean, double rstd, double dx) {
  if (!std::isfinite(dx)) return 0;
  const double u = am.u, gm = am.gamma(m), md = static_cast<double>(m);
  const double xhat_i = (x_i - mean) * rstd, xhat_err_i = rstd * centred_error(am, se, x_i, mean);
  // Errors of the two reductions: sum g, and sum g xhat, whose terms carry xhat's error too:
  // sum_j |g_j| rstd centred_error(x_j), summed with the per-set sums (sum |g_j| |x_j - mean| rstd
  // = sum |g xhat|).
  const double err_sum_g = gm * sums.abs_g;
  const double shift_weight = (se.mean + 4 * am.eta) * sums.abs_g + 2 * u * (sums.abs_gx + std::fabs(mean) * sums.abs_g);
  const double err_sum_gxhat = gm * sums.abs_gxhat + rstd * shift_weight * (1 + se.rstd) + se.rstd * sums.abs_gxhat;
  // dx_i = rstd / m * (m g_i - sum g - xhat_i sum g xhat). The product xhat_i * sum g xhat errs by
  // |xhat_i| E_S + |S| E_xhat + E_xhat E_S: with a constant cotangent both exact factors can be 0
  // (S = 0, and xhat_i = 0 where x_i = mean), and the product of the errors is the whole error.
  const double inner = err_sum_g + std::fabs(xhat_i) * err_sum_gxhat + std::fabs(sums.gxhat) * xhat_err_i +
                       xhat_err_i * err_sum_gxhat +
                       3 * u * (md * std::fabs(g_i) + sums.abs_g + std::fabs(xhat_i * sums.gxhat));
  return std::fabs(dx) * se.rstd + rstd / md * inner * (1 + se.rstd) + u * std::fabs(dx) + ulp_of(out, dx);
}

double dgamma_bound(const AccuracyModel& am, DType out, std::int64_t count, double sum_abs_dy_xhat,
                    double err_xhat_weighted, double dgamma) {
  if (!std::isfinite(dgamma)) return 0;
  return am.gamma(count) * sum_abs_dy_xhat + err_xhat_weighted + ulp_of(out, dgamma);
}

double dbeta_bound(const AccuracyModel& am, DType out, std::int64_t count, double sum_abs_dy, double dbeta) {
  if (!std::isfinite(dbeta)) return 0;
  return am.gamma(count) * sum_abs_dy + ulp_of(out, dbeta);
}

}  // namespace normcheck::reference
