#pragma once
/// Correct rounding of exact and approximate values into a dtype, and Ziv's certification:
/// an approximation v with a rigorous error bound e decides the rounding of the true value when
/// the whole interval [v - e, v + e] lies strictly inside one rounding interval of the target
/// format; otherwise the caller re-evaluates more precisely, and values that sit exactly on a
/// rounding boundary are decided by exact rational comparison.
#include <cmath>
#include <optional>

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/cpp_int.hpp>

#include "normcheck/dtype.h"
#include "reference/reference.h"
#include "reference/double_double.h"
#include "reference/exact_sum.h"

namespace normcheck::reference {

using Rational = boost::multiprecision::cpp_rational;

/// A binary floating-point number of P significand bits and a practically unbounded exponent.
template <unsigned P>
using BigFloat = boost::multiprecision::number<
    boost::multiprecision::cpp_bin_float<P, boost::multiprecision::digit_base_2, void, std::int32_t, -1000000, 1000000>,
    boost::multiprecision::et_off>;

/// The exact rational value of a finite double.
Rational to_rational(double x);
Rational to_rational(const Dyadic& d);

/// Correct rounding (RNE, subnormals, overflow to inf) of exact values into t.
double round_dyadic(const Dyadic& d, DType t);
double round_rational(const Rational& q, DType t);

/// Ziv's test: the value of t that every real in [v - e, v + e] rounds to, or nullopt when the
/// interval touches a rounding boundary (or v is not finite). e must bound |v - true value|.
/// For a float64 target, v must carry more than 53 bits (DD or BigFloat). A zero result whose
/// interval contains both signs is returned as +0: the sign of a zero is not certified.
inline std::optional<double> certify(double v, double e, DType t);
std::optional<double> certify(DD v, double e, DType t);
template <unsigned P>
std::optional<double> certify(const BigFloat<P>& v, const BigFloat<P>& e, DType t);

/// The value of t nearest to y = A / sqrt(V) + B (A, B rational, V > 0 rational): exact when
/// A = 0 or V is the square of a rational; else Ziv's escalation at 256 then 1024 bits, then the
/// exact decision by comparing squares of rationals against the rounding boundaries (which also
/// settles ties exactly). Counts into cert.
double round_sqrt_form(const Rational& A, const Rational& V, const Rational& B, DType t, Certification& cert);

/// A set's mean and rstd = 1 / sqrt(V) at 256 bits, each within 3 * 2^-255 of the exact value
/// (relative): computed once per set, so that an element the double-double fast path cannot
/// certify costs a few 256-bit operations instead of rational arithmetic on its own.
struct WideSetStats {
  BigFloat<256> mean, rstd;
};
WideSetStats wide_set_stats(const Rational& mean, const Rational& V);

/// y = (x - mean) * gamma * rstd + beta at 256 bits from s, certified with Ziv's test; nullopt
/// when the interval touches a rounding boundary (round_sqrt_form decides those).
std::optional<double> certify_y_wide(double x, const WideSetStats& s, double gamma, double beta, DType t);

/// One term A / sqrt(V) of a sum (V > 0).
struct SqrtTerm {
  Rational A, V;
};
/// The value of t nearest to sum_k A_k / sqrt(V_k), escalating through 256, 1024 and 4096 bits.
/// Terms that share V are merged exactly first and terms whose sqrt(V) is rational are summed
/// as rationals, so a sum with at most one irrational square root is decided exactly. A sum that
/// no level certifies (it would have to equal a rounding boundary exactly, which takes an
/// algebraic coincidence between distinct irrational roots) is rounded from the 4096-bit value
/// and counted as uncertified.
double round_sqrt_sum(std::vector<SqrtTerm> terms, DType t, Certification& cert);

// Inline: it runs once per output element of the fast path.
inline std::optional<double> certify(double v, double e, DType t) {
  if (!std::isfinite(v) || !std::isfinite(e)) return std::nullopt;
  if (t == DType::kFloat64) {  // a double cannot bound a float64 rounding unless it is exact
    if (e == 0) return v;
    return std::nullopt;
  }
  // Rounding is monotone: if the interval's two ends round to one value, every point between
  // does. Widen e so that the ends computed in double still enclose [v - e, v + e]: the
  // subtraction errs by at most u |v - e'|, which 2u e + 2u |v| + 2^-1073 covers.
  constexpr double u = 0x1p-53;
  const double ew = e * (1 + 2 * u) + 2 * u * std::fabs(v) + 0x1p-1073;
  double lo, hi;
  if (t == DType::kFloat32) {  // the common case, inline: the hardware conversion rounds RNE
    lo = static_cast<float>(v - ew);
    hi = static_cast<float>(v + ew);
  } else {
    lo = round_to(t, v - ew);
    hi = round_to(t, v + ew);
  }
  if (lo != hi) return std::nullopt;  // -0 == +0: a zero whose sign is open is still a zero
  if (hi == 0) return (v + ew < 0) ? -0.0 : 0.0;
  return hi;
}

}  // namespace normcheck::reference
