#pragma once
/// Tolerances: how far a correct floating-point implementation may land from the exact value.
/// A forward error analysis of the usual algorithm (statistics accumulated in float32, or float64
/// for float64 data, by a blocked or tree reduction; normalize; affine), derived in
/// docs/tolerances.md, whose section names the functions below follow.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "normcheck/dtype.h"

namespace normcheck::reference {

/// The accumulation model: unit roundoff u of the accumulator and the depth of a reduction.
struct AccuracyModel {
  double u;  ///< 2^-24 for float32/float16/bfloat16 data, 2^-53 for float64
  /// The absolute error of one rounding in the accumulator's subnormal range (gradual underflow:
  /// fl(a op b) = (a op b)(1 + d) + e, |e| <= eta): 2^-149 for float32, 2^-1074 for float64.
  double eta = 0;
  DType acc = DType::kFloat32;  ///< the accumulator's format (its overflow threshold, eps as it sees it)
  static AccuracyModel for_data(DType t);
  /// gamma_k = k u / (1 - k u) with k = ceil(log2 n) + 2: the relative error of a blocked or
  /// pairwise sum of n terms (Higham, "Accuracy and Stability of Numerical Algorithms", 4.2).
  double gamma(std::int64_t n) const;
};

/// The error of a set's computed statistics, in absolute terms for the mean and the variance
/// and relative for rstd (Section "Statistics").
struct StatErrors {
  double mean = 0;  ///< |mean_hat - mean|
  double var = 0;   ///< |var_hat - var|
  double rstd = 0;  ///< |rstd_hat - rstd| / rstd
};

/// Batch statistics over m values with (1/m) sum |x| = mean_abs and (1/m) sum |x - mean| =
/// dev_abs; rms_norm has no mean and var is the mean square. rstd = 1/sqrt(var + eps): the
/// relative error of rstd is computed in units scaled by it, so it stays finite even where var
/// overflows a double (float64 data near 1e200).
StatErrors batch_stat_errors(const AccuracyModel& am, std::int64_t m, double mean_abs, double dev_abs, double var,
                             double rstd, double eps, bool rms);
/// Running statistics read from buffers: only the evaluation of 1/sqrt(var + eps).
StatErrors running_stat_errors(const AccuracyModel& am);

/// Undecided elements (Section "Undecided elements"): where the error model lets a correct
/// implementation get another kind (NaN, +-inf, finite) than the exact value, the bound is
/// kUndecided. Which of a set's statistics the usual algorithm may get of another kind:
struct UndecidedStats {
  bool mean = false;     ///< sum x (and x - mean) may overflow the accumulator: mean_hat = +-inf
  bool squares = false;  ///< sum (x - mean)^2 (rms_norm: sum x^2) may overflow: rstd_hat = 0
  bool zero_v = false;   ///< var_hat + eps may be 0 where var + eps is not, or the reverse (eps = 0)
  bool any() const { return mean || squares || zero_v; }
};
/// For a set of m values with (1/m) sum |x| = mean_abs, variance (rms_norm: mean square) var,
/// and the errors se of its statistics.
UndecidedStats undecided_stats(const AccuracyModel& am, const StatErrors& se, std::int64_t m, double mean_abs,
                               double var, double eps, bool rms);
/// The smallest magnitude that rounds to inf in format f: max_finite + half its ulp.
long double overflow_threshold(DType f);
/// Whether a value of exact magnitude |v| with error bound b may round to inf, or to a finite
/// value, either way (Omega: overflow_threshold of the format it is rounded to).
inline bool straddles_overflow(long double v, long double b, long double omega) {
  const long double a = v < 0 ? -v : v;
  return a - b < omega && a + b >= omega;
}

/// One ULP of the output format at v (0 for non-finite v): half for the final rounding, half
/// for rounding an intermediate to a 16-bit output format; at least the spacing of subnormals.
/// (normcheck::ulp without library calls: it runs once per output element.)
inline double output_ulp(const DTypeInfo& out, double v) {
  if (!std::isfinite(v)) return 0.0;
  const auto biased = static_cast<int>((std::bit_cast<std::uint64_t>(v) >> 52) & 0x7ff);
  const int e = biased == 0 ? out.emin : biased - 1023;  // zero and double subnormals: below any emin
  const int q = std::max(e, out.emin) - out.precision + 1;
  return q >= -1022 ? std::bit_cast<double>(static_cast<std::uint64_t>(q + 1023) << 52) : std::ldexp(1.0, q);
}

/// The error of xhat = (x - mean) * rstd, in units of x (times rstd: in units of xhat).
/// (x - mean) carries the mean's error and one rounding (or, folded into x * scale + shift,
/// roundings of x * scale and mean * scale: 2u (|x| + |mean|) covers both forms); + 4 eta: the
/// underflow of those roundings and of the mean's (subnormal data, found by the property suite on
/// LibTorch's float64 group_norm). rstd's relative error multiplies the whole computed
/// (x - mean), error included: (1 + E_rstd) keeps the product of the two errors, which is not
/// small where E_mean rstd ~ k u |mean|/std approaches 1, and is all there is where x = mean.
inline double centred_error(const AccuracyModel& am, const StatErrors& se, double x, double mean) {
  const double shift = se.mean + 2 * am.u * (std::fabs(x) + std::fabs(mean)) + 4 * am.eta;
  return shift * (1 + se.rstd) + std::fabs(x - mean) * se.rstd;
}

/// y = (x - mean) * rstd * gamma + beta (Section "Forward").
inline double y_bound(const AccuracyModel& am, const StatErrors& se, const DTypeInfo& out, double x, double mean,
                      double rstd, double gamma, double beta, double y) {
  if (!std::isfinite(y)) return 0;
  const double u = am.u;
  return std::fabs(gamma) * rstd * centred_error(am, se, x, mean) + 2 * u * std::fabs(beta) + u * std::fabs(y) +
         output_ulp(out, y);
}

/// The per-set sums the backward bound needs, with g = dy gamma: sum |g|, sum |g x|, sum |g xhat|
/// and sum g xhat.
struct GradSums {
  double abs_g = 0, abs_gx = 0, abs_gxhat = 0, gxhat = 0;
};
/// dx (Section "Backward"); m is the set size.
double dx_bound(const AccuracyModel& am, const StatErrors& se, DType out, std::int64_t m, const GradSums& sums,
                double g_i, double x_i, double mean, double rstd, double dx);
/// dgamma = sum dy xhat over `count` elements: sum_abs_dy_xhat = sum |dy xhat|, and
/// err_xhat_weighted = sum |dy| * |xhat error| (from each element's set).
double dgamma_bound(const AccuracyModel& am, DType out, std::int64_t count, double sum_abs_dy_xhat,
                    double err_xhat_weighted, double dgamma);
/// dbeta = sum dy over `count` elements.
double dbeta_bound(const AccuracyModel& am, DType out, std::int64_t count, double sum_abs_dy, double dbeta);

}  // namespace normcheck::reference
