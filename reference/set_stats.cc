// Each normalization set's statistics: exact sums, the double-double approximations the fast
// path evaluates with (and their error bounds), and the exact rationals on demand.
#include <cmath>
#include <limits>

#include <memory>

#include "reference/internal.h"
#include "reference/narrow_moments.h"
#include "reference/partial_stats.h"

namespace normcheck::reference::detail {
namespace {

namespace mp = boost::multiprecision;
// 192 bits: the DD approximations need 106; the rest keeps their error analysis simple.
using Wide = BigFloat<192>;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Wide big(const Rational& q) { return Wide(mp::numerator(q)) / Wide(mp::denominator(q)); }

/// v split into hi + lo doubles; |v - (hi + lo)| <= 2^-105 |v| (hi nearest, lo the rest rounded).
DD split(const Wide& v) {
  const double hi = v.convert_to<double>();
  const double lo = Wide(v - Wide(hi)).convert_to<double>();
  return {hi, lo};
}

/// n * 2^exp as a double-double whose two parts are n's leading 53 bits and the next 53 bits
/// (truncated): |n 2^exp - result| < 2^-104 |n 2^exp|, exact when n has at most 106 bits.
/// nullopt when the value is beyond the comfortable double range (the slow path takes over).
std::optional<DD> dd_of(const BigInt& n, int exp) {
  if (n == 0) return DD{0, 0};
  const BigInt mag = mp::abs(n);
  const int top = static_cast<int>(mp::msb(mag));
  if (top + exp > 900 || top + exp < -900) return std::nullopt;
  const int hi_shift = std::max(0, top - 52);
  const BigInt hi_bits = mag >> hi_shift;
  const BigInt rest = mag - (hi_bits << hi_shift);
  const int lo_shift = std::max(0, hi_shift - 53);
  const double hi = std::ldexp(hi_bits.convert_to<double>(), hi_shift + exp);  // < 2^53: exact
  const double lo = std::ldexp(BigInt(rest >> lo_shift).convert_to<double>(), lo_shift + exp);
  return n < 0 ? DD{-hi, -lo} : DD{hi, lo};
}

/// 1/sqrt(V) by one Newton step in double-double from the double estimate r0:
///   r1 = r0 + r0 (1 - V r0^2) / 2,
/// whose relative error is 1.5 d^2 for an estimate off by d <= 3u, plus the DD roundings and
/// V's own error (<= 2^-102): below 2^-100 in all; rstd_rel_err claims 2^-98.
std::optional<DD> rsqrt_dd(DD V) {
  if (!(V.hi > 0x1p-900 && V.hi < 0x1p900)) return std::nullopt;
  const double r0 = 1 / std::sqrt(V.hi);
  const DD h = DD{1, 0} - V * two_prod(r0, r0);
  return DD{r0, 0} + h * (0.5 * r0);
}
constexpr double kRstdRelErr = 0x1p-98;

void tolerance_inputs(SetStats& st, const Sets& sets, std::int64_t k, const Data& d) {
  double sum_abs = 0, dev = 0;
  sets.for_each(k, [&](std::int64_t i) {
    sum_abs += std::fabs(d.x[i]);
    dev += std::fabs(d.x[i] - st.mean_d);
  });
  st.mean_abs = sum_abs / static_cast<double>(st.m);
  st.dev_abs = dev / static_cast<double>(st.m);
}

/// The fast way for a batch set: T = m S2 - S1^2 (so var = T / m^2) in exact integers, then
/// double-double. false when a value falls outside the double range.
bool approximate_from_sums(SetStats& st) {
  const double m = static_cast<double>(st.m);
  const BigInt& a = st.s1.mantissa;
  const int e = st.s1.exponent;
  // T * 2^E = m S2 - S1^2 (rms_norm: S2), on the exponent min(f, 2e) of the two terms.
  BigInt T = st.s2.mantissa;
  int E = st.s2.exponent;
  if (!st.rms) {
    T *= st.m;
    if (a != 0) {
      const int f = st.s2.exponent;
      E = std::min(f, 2 * e);
      T = (T << (f - E)) - ((a * a) << (2 * e - E));
    }
  }
  std::optional<DD> t = dd_of(T, E), s1 = dd_of(a, e);
  if (!t || !s1) return false;
  // var = T / m^2 (rms: mean square = S2 / m), each division within 3u^2.
  const DD var = st.rms ? *t / m : *t / m / m;
  const DD V = var + st.eps;
  st.var_d = var.hi;
  if (st.rms) {
    st.mean_dd = {0, 0};
    st.mean_err = 0;
  } else {
    // mean = S1 / m, exact in DD when the odd part of m divides a and the quotient is short.
    st.mean_dd = *s1 / m;
    st.mean_err = std::fabs(st.mean_dd.hi) * 0x1p-101;
    const int twos = std::countr_zero(static_cast<std::uint64_t>(st.m));
    const std::int64_t odd = st.m >> twos;
    if (a % odd == 0) {
      const BigInt q = a / odd;
      if (q == 0 || mp::msb(mp::abs(q)) - mp::lsb(mp::abs(q)) < 106) {
        if (std::optional<DD> exact = dd_of(q, e - twos)) {
          st.mean_dd = *exact;
          st.mean_err = 0;
        }
      }
    }
  }
  st.mean_d = st.mean_dd.hi;
  if (T == 0 && st.eps == 0) {  // a constant set and eps = 0: rstd is 1/0
    st.finite = false;
    st.rstd_d = std::numeric_limits<double>::infinity();
    return true;
  }
  const std::optional<DD> r = rsqrt_dd(V);
  if (!r) return false;
  st.rstd_dd = *r;
  st.rstd_rel_err = kRstdRelErr;
  st.rstd_d = r->hi;
  return true;
}

/// The slow way, for values outside the double range: from the exact rationals in 192 bits.
void approximate_from_exact(SetStats& st) {
  const ExactStats& ex = st.exact();
  const Wide mean = big(ex.mean);
  st.mean_dd = split(mean);
  st.mean_err = std::fabs(st.mean_dd.hi) * 0x1p-104;
  st.mean_d = st.mean_dd.hi;
  st.var_d = big(ex.var).convert_to<double>();
  if (ex.V <= 0) {  // eps = 0 and a constant set (or a negative running_var): rstd is not finite
    st.finite = false;
    st.rstd_d = ex.V == 0 ? std::numeric_limits<double>::infinity() : kNaN;
    return;
  }
  st.rstd_dd = split(Wide(1) / mp::sqrt(big(ex.V)));  // relative error < 2^-104
  st.rstd_rel_err = 0x1p-103;
  st.rstd_d = st.rstd_dd.hi;
}

}  // namespace

const ExactStats& SetStats::exact() const {
  if (exact_) return *exact_;
  ExactStats ex;
  if (from_running) {
    ex.mean = to_rational(running_mean);
    ex.var = to_rational(running_var);
  } else if (rms) {
    ex.mean = 0;
    ex.var = to_rational(s2) / m;
  } else {
    const Rational sum = to_rational(s1);
    ex.mean = sum / m;
    ex.var = (to_rational(s2) - sum * ex.mean) / m;
  }
  ex.V = ex.var + to_rational(eps);
  if (ex.V > 0) ex.wide = wide_set_stats(ex.mean, ex.V);
  exact_ = std::move(ex);
  return *exact_;
}

DD to_dd(const Rational& q, double& err) {
  err = 0;
  if (q == 0) return {0, 0};
  const Wide v = big(q);
  const DD dd = split(v);
  const auto& den = mp::denominator(q);
  const bool dyadic = (den & (den - 1)) == 0;
  err = (dyadic && Wide(dd.hi) + Wide(dd.lo) == v && mp::msb(mp::abs(mp::numerator(q))) < 150)
            ? 0.0
            : std::fabs(dd.hi) * 0x1p-104;
  return dd;
}

std::vector<SetStats> compute_set_stats(const Problem& p, const Sets& sets, const Data& d) {
  const double eps = effective_eps(p);
  std::vector<SetStats> stats(static_cast<std::size_t>(sets.count()));
  if (sets.use_running_stats) {
    for (std::int64_t c = 0; c < sets.g.C; ++c) {
      SetStats& st = stats[c];
      const double rm = d.running_mean[c], rv = d.running_var[c];
      st.m = 1;
      st.eps = eps;
      st.from_running = true;
      st.running_mean = rm;
      st.running_var = rv;
      st.mean_abs = std::fabs(rm);
      st.mean_d = rm;
      st.var_d = rv;
      const DD V = two_sum(rv, eps);  // exact
      const std::optional<DD> r = std::isfinite(rm) ? rsqrt_dd(V) : std::nullopt;
      if (r) {
        st.mean_dd = {rm, 0};
        st.rstd_dd = *r;
        st.rstd_rel_err = kRstdRelErr;
        st.rstd_d = r->hi;
      } else if (std::isfinite(rm) && std::isfinite(rv) && V.hi > 0) {
        approximate_from_exact(st);  // V beyond the double range
      } else {  // NaN/inf buffers, or running_var + eps <= 0
        st.finite = false;
        st.nonfinite_mean = rm;
        st.rstd_d = 1 / std::sqrt(rv + eps);
      }
    }
    return stats;
  }
  ExactSum s1, s2;
  // Data of at most 24 significant bits take the fast exact path (NarrowMoments); float64 data,
  // and any set with a NaN or inf, the general one.
  const bool narrow = p.dtype != DType::kFloat64;
  auto narrow_moments = narrow ? std::make_unique<NarrowMoments>() : nullptr;
  for (std::int64_t k = 0; k < sets.count(); ++k) {
    SetStats& st = stats[k];
    st.m = sets.g.set_size;
    st.eps = eps;
    st.rms = p.op == Op::kRmsNorm;
    s1.clear();
    s2.clear();
    bool summed = false;
    if (narrow) {
      sets.for_each(k, [&](std::int64_t i) { narrow_moments->add(d.x[i]); });
      summed = narrow_moments->flush(s1, s2);
    }
    if (!summed) sets.for_each(k, [&](std::int64_t i) { s1.add_with_square(d.x[i], s2); });
    if (st.m == 0 || !s1.is_finite() || !s2.is_finite()) {
      st.finite = false;
      st.nonfinite_mean = st.m == 0 ? kNaN : s1.nonfinite_value();
      st.mean_d = st.nonfinite_mean;
      st.rstd_d = kNaN;
      continue;
    }
    st.s1 = s1.value();
    st.s2 = s2.value();
    if (!approximate_from_sums(st)) approximate_from_exact(st);
    tolerance_inputs(st, sets, k, d);
  }
  return stats;
}

}  // namespace normcheck::reference::detail
