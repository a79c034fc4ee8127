#include <cmath>
#include <limits>

#include "reference/internal.h"
#include "reference/partial_stats.h"

namespace normcheck::reference::detail {
namespace {

namespace mp = boost::multiprecision;
// 192 bits: the DD approximations need 106; the rest keeps their error analysis simple.
using Wide = BigFloat<192>;

Wide big(const Rational& q) { return Wide(mp::numerator(q)) / Wide(mp::denominator(q)); }

/// v split into hi + lo doubles; |v - (hi + lo)| <= 2^-105 |v| (hi nearest, lo the rest rounded).
DD split(const Wide& v) {
  const double hi = v.convert_to<double>();
  const double lo = Wide(v - Wide(hi)).convert_to<double>();
  return {hi, lo};
}

/// True when q is a dyadic rational of at most 150 significant bits (held exactly by Wide).
bool exact_in_wide(const Rational& q) {
  const mp::cpp_int& den = mp::denominator(q);
  if ((den & (den - 1)) != 0) return false;
  const mp::cpp_int num = mp::abs(mp::numerator(q));
  return num == 0 || mp::msb(num) - mp::lsb(num) < 150;
}

void tolerance_inputs(SetStats& st, const Sets& sets, std::int64_t k, const Data& d) {
  double sum_abs = 0, dev = 0;
  sets.for_each(k, [&](std::int64_t i) {
    sum_abs += std::fabs(d.x[i]);
    dev += std::fabs(d.x[i] - st.mean_d);
  });
  st.mean_abs = sum_abs / static_cast<double>(st.m);
  st.dev_abs = dev / static_cast<double>(st.m);
}

}  // namespace

void finish_stats(SetStats& st) {
  const Wide mean = big(st.mean);
  st.mean_dd = split(mean);
  const bool exact = exact_in_wide(st.mean) && Wide(st.mean_dd.hi) + Wide(st.mean_dd.lo) == mean;
  st.mean_err = exact ? 0.0 : std::fabs(st.mean_dd.hi) * 0x1p-104;
  st.mean_d = st.mean_dd.hi;
  st.var_d = big(st.var).convert_to<double>();
  if (st.V <= 0) {  // eps = 0 and a constant set (or a negative running_var): rstd is not finite
    st.finite = false;
    st.rstd_d = st.V == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    return;
  }
  const Wide rstd = Wide(1) / mp::sqrt(big(st.V));  // relative error < 2^-188
  st.rstd_dd = split(rstd);
  st.rstd_rel_err = 0x1p-103;
  st.rstd_d = st.rstd_dd.hi;
}

std::vector<SetStats> compute_set_stats(const Problem& p, const Sets& sets, const Data& d) {
  const double eps = effective_eps(p);
  const Rational eps_q = to_rational(eps);
  std::vector<SetStats> stats(static_cast<std::size_t>(sets.count()));
  if (sets.use_running_stats) {
    for (std::int64_t c = 0; c < sets.g.C; ++c) {
      SetStats& st = stats[c];
      const double rm = d.running_mean[c], rv = d.running_var[c];
      st.m = 1;
      if (!std::isfinite(rm) || !std::isfinite(rv)) {
        st.finite = false;
        st.nonfinite_mean = rm;
        st.mean_d = rm;
        st.rstd_d = 1 / std::sqrt(rv + eps);
        continue;
      }
      st.mean = to_rational(rm);
      st.var = to_rational(rv);
      st.V = st.var + eps_q;
      finish_stats(st);
      st.mean_abs = std::fabs(rm);
    }
    return stats;
  }
  ExactSum s1, s2;
  const bool rms = p.op == Op::kRmsNorm;
  for (std::int64_t k = 0; k < sets.count(); ++k) {
    SetStats& st = stats[k];
    st.m = sets.g.set_size;
    s1.clear();
    s2.clear();
    sets.for_each(k, [&](std::int64_t i) {
      s1.add(d.x[i]);
      s2.add_product(d.x[i], d.x[i]);
    });
    if (st.m == 0 || !s1.is_finite() || !s2.is_finite()) {
      st.finite = false;
      st.nonfinite_mean = st.m == 0 ? std::numeric_limits<double>::quiet_NaN() : s1.nonfinite_value();
      st.mean_d = st.nonfinite_mean;
      st.rstd_d = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    if (rms) {  // mean square instead of variance, no centring
      st.mean = 0;
      st.var = to_rational(s2.value()) / st.m;
    } else {
      const PartialStats ps = stats_from_sums(st.m, s1, s2);
      st.mean = ps.mean;
      st.var = ps.biased_var();
    }
    st.V = st.var + eps_q;
    finish_stats(st);
    tolerance_inputs(st, sets, k, d);
  }
  return stats;
}

}  // namespace normcheck::reference::detail
