#include "reference/rounding.h"

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "normcheck/status.h"

namespace normcheck::reference {
namespace {

namespace mp = boost::multiprecision;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The exponent q of the spacing 2^q of t's values at |c| (c finite, nonzero): ATen's
/// "quantum" — max(floor(log2|c|), emin) - p + 1.
int quantum_exponent(double c, DType t) {
  const DTypeInfo& f = info(t);
  return std::max(std::ilogb(c), f.emin) - f.precision + 1;
}
bool is_binade_bottom(double c, DType t) {  // |c| = 2^e with e > emin: the gap below is half the gap above
  return std::ilogb(c) > info(t).emin && std::ldexp(1.0, std::ilogb(c)) == std::fabs(c);
}

/// log2 of the distance from c (a finite value of t) to its neighbour above / below in t.
int gap_up_exp(double c, DType t) {
  if (c == 0) return info(t).emin - info(t).precision + 1;
  const int q = quantum_exponent(c, t);
  return (c < 0 && is_binade_bottom(c, t)) ? q - 1 : q;
}
int gap_down_exp(double c, DType t) {
  if (c == 0) return info(t).emin - info(t).precision + 1;
  const int q = quantum_exponent(c, t);
  return (c > 0 && is_binade_bottom(c, t)) ? q - 1 : q;
}
double next_up(double c, DType t) {
  if (c == info(t).max_finite) return kInf;
  if (c == -kInf) return -info(t).max_finite;
  return c + std::ldexp(1.0, gap_up_exp(c, t));
}
double next_down(double c, DType t) { return -next_up(-c, t); }

/// The neighbour that rounding ties go to: the one with an even last significand bit
/// (and inf over max_finite, as IEEE's overflow rule for ties says).
double even_of(double a, double b, DType t) {
  if (std::isinf(a)) return a;
  if (std::isinf(b)) return b;
  return (ordinal(t, a) % 2 == 0) ? a : b;
}

/// The lower / upper boundary of the rounding interval of c (a value of t, possibly +-inf),
/// as (c, 2^k) meaning c -/+ 2^(k); has_* false where the interval is unbounded.
struct Boundaries {
  bool has_lo = true, has_hi = true;
  double lo_base = 0, hi_base = 0;
  int lo_exp = 0, hi_exp = 0;  // boundary = base - 2^lo_exp, base + 2^hi_exp
};
Boundaries boundaries(double c, DType t) {
  const double max = info(t).max_finite;
  Boundaries b;
  if (c == kInf) {
    b.has_hi = false;  // [max + half its gap, inf)
    b.lo_base = max;
    b.lo_exp = gap_up_exp(max, t) - 1;
    return b;
  }
  if (c == -kInf) {
    b.has_lo = false;
    b.hi_base = -max;
    b.hi_exp = gap_up_exp(max, t) - 1;
    return b;
  }
  b.lo_base = b.hi_base = c;
  b.lo_exp = gap_down_exp(c, t) - 1;
  b.hi_exp = gap_up_exp(c, t) - 1;
  return b;
}

/// The candidate value of t for an approximation v (a double nearest to it).
double candidate(double v_nearest, DType t) { return round_to(t, v_nearest); }

/// Ziv's test in arithmetic F with unit roundoff u: is [v - e, v + e] strictly inside the rounding
/// interval of c? make(base, exp, sign) builds base + sign * 2^exp exactly in F.
template <class F, class Make>
std::optional<double> certify_in(const F& v, const F& e, double c, DType t, double u, Make make) {
  const Boundaries b = boundaries(c, t);
  const F margin = e * F(1 + 8 * u);
  // The lower boundary of +inf's interval is max + half its gap; elsewhere c - half the gap below.
  if (b.has_lo) {
    const F lo = std::isinf(c) ? make(b.lo_base, b.lo_exp, +1) : make(b.lo_base, b.lo_exp, -1);
    if (!(v - lo > margin)) return std::nullopt;
  }
  if (b.has_hi) {
    const F hi = std::isinf(c) ? make(b.hi_base, b.hi_exp, -1) : make(b.hi_base, b.hi_exp, +1);
    if (!(hi - v > margin)) return std::nullopt;
  }
  if (c == 0) return (v + e < F(0)) ? -0.0 : 0.0;
  return c;
}

template <unsigned P>
BigFloat<P> to_big(const Rational& q) {  // relative error <= 3 * 2^(1-P)
  return BigFloat<P>(mp::numerator(q)) / BigFloat<P>(mp::denominator(q));
}

/// sign(A / sqrt(V) + B - boundary), exactly.
int compare_sqrt_form(const Rational& A, const Rational& V, const Rational& B, const Rational& boundary) {
  const Rational D = boundary - B;  // compare A / sqrt(V) with D
  const int sa = A.sign(), sd = D.sign();
  if (sa == 0) return -sd;
  if (sd == 0 || sa != sd) return sa;
  // Same sign s: |A| / sqrt(V) vs |D|  <=>  A^2 vs D^2 * V.
  const Rational lhs = A * A, rhs = D * D * V;
  return sa * (lhs > rhs ? 1 : (lhs < rhs ? -1 : 0));
}

Rational rational_boundary(double base, int exp, int sign) {
  Rational offset = 1;
  if (exp >= 0) offset = Rational(mp::cpp_int(1) << exp);
  else offset = Rational(mp::cpp_int(1), mp::cpp_int(1) << -exp);
  return sign > 0 ? to_rational(base) + offset : to_rational(base) - offset;
}

/// The exact decision for y = A / sqrt(V) + B, starting from a nearby candidate c.
double decide_sqrt_form(const Rational& A, const Rational& V, const Rational& B, double c, DType t) {
  for (int step = 0; step < 64; ++step) {
    const Boundaries b = boundaries(c, t);
    if (b.has_lo) {
      const int s = std::isinf(c) ? compare_sqrt_form(A, V, B, rational_boundary(b.lo_base, b.lo_exp, +1))
                                  : compare_sqrt_form(A, V, B, rational_boundary(b.lo_base, b.lo_exp, -1));
      if (s < 0) {
        c = next_down(c, t);
        continue;
      }
      if (s == 0) return even_of(c, next_down(c, t), t);
    }
    if (b.has_hi) {
      const int s = std::isinf(c) ? compare_sqrt_form(A, V, B, rational_boundary(b.hi_base, b.hi_exp, -1))
                                  : compare_sqrt_form(A, V, B, rational_boundary(b.hi_base, b.hi_exp, +1));
      if (s > 0) {
        c = next_up(c, t);
        continue;
      }
      if (s == 0) return even_of(c, next_up(c, t), t);
    }
    if (c == 0) return compare_sqrt_form(A, V, B, Rational(0)) < 0 ? -0.0 : 0.0;
    return c;
  }
  NC_CHECK(false, "round_sqrt_form: the candidate did not converge");
  return c;
}

template <unsigned P>
std::optional<double> sqrt_form_at(const Rational& A, const Rational& V, const Rational& B, DType t,
                                   double& nearest) {
  using F = BigFloat<P>;
  const F u = mp::ldexp(F(1), 1 - static_cast<int>(P));
  const F a = to_big<P>(A), b = to_big<P>(B);
  const F r = F(1) / mp::sqrt(to_big<P>(V));  // 3u (V) / 2 + u (sqrt) + u (division): < 3u
  const F ar = a * r;                          // 3u (A) + 3u (r) + u (product): < 8u
  const F y = ar + b;                          // + u |y|
  const F e = (mp::abs(ar) * 8 + mp::abs(b) * 3 + mp::abs(y)) * u * F(1.0625);
  nearest = y.template convert_to<double>();
  return certify(y, e, t);
}

/// Whether n (>= 0) can be a perfect square by its residues mod 64, 63, 65 and 11: a non-square
/// passes all four with probability about 1 in 120, and each test costs one short division where
/// mp::sqrt of a numerator of thousands of bits costs thousands of shifts and subtractions.
bool may_be_square(const mp::cpp_int& n) {
  auto residue_ok = [&](unsigned m) {
    const unsigned r = static_cast<unsigned>(static_cast<unsigned long>(n % m));
    for (unsigned k = 0; k < m; ++k)
      if (k * k % m == r) return true;
    return false;
  };
  return residue_ok(64) && residue_ok(63) && residue_ok(65) && residue_ok(11);
}

/// sqrt(V) when it is rational (V = p^2 / q^2), else nullopt.
std::optional<Rational> rational_sqrt_uncached(const Rational& V) {
  const mp::cpp_int num = mp::numerator(V), den = mp::denominator(V);
  if (!may_be_square(num) || !may_be_square(den)) return std::nullopt;
  const mp::cpp_int rn = mp::sqrt(num), rd = mp::sqrt(den);
  if (rn * rn != num || rd * rd != den) return std::nullopt;
  return Rational(rn, rd);
}

/// rational_sqrt_uncached, remembering the last few V: every element of a set asks about the
/// same V (and dx about two or three per set), so this makes the test once per set.
std::optional<Rational> rational_sqrt(const Rational& V) {
  struct Entry {
    Rational V;
    std::optional<Rational> root;
  };
  constexpr std::size_t kEntries = 4;
  thread_local std::vector<Entry> memo;
  thread_local std::size_t next = 0;
  for (const Entry& e : memo)
    if (e.V == V) return e.root;
  Entry e{V, rational_sqrt_uncached(V)};
  if (memo.size() < kEntries) {
    memo.push_back(std::move(e));
    return memo.back().root;
  }
  memo[next] = std::move(e);
  const std::size_t at = next;
  next = (next + 1) % kEntries;
  return memo[at].root;
}

/// R + sum_k A_k / sqrt(V_k) at P bits (R rational, from the terms whose sqrt is rational).
template <unsigned P>
std::optional<double> sqrt_sum_at(const Rational& R, const std::vector<SqrtTerm>& terms, DType t, double& nearest) {
  using F = BigFloat<P>;
  const F u = mp::ldexp(F(1), 1 - static_cast<int>(P));
  const F r = to_big<P>(R);
  F sum = r, sum_abs = mp::abs(r);
  for (const SqrtTerm& term : terms) {
    const F v = to_big<P>(term.A) / mp::sqrt(to_big<P>(term.V));  // < 6u
    sum += v;
    sum_abs += mp::abs(v);
  }
  // Each term carries < 6u (R: 3u); recursive summation adds at most n u * sum |terms|.
  const F e = sum_abs * u * F(7 + terms.size()) * F(1.0625);
  nearest = sum.template convert_to<double>();
  return certify(sum, e, t);
}

}  // namespace

WideSetStats wide_set_stats(const Rational& mean, const Rational& V) {
  using F = BigFloat<256>;
  return {to_big<256>(mean), F(1) / mp::sqrt(to_big<256>(V))};  // each < 3u, as in sqrt_form_at
}

std::optional<double> certify_y_wide(double x, const WideSetStats& s, double gamma, double beta, DType t) {
  using F = BigFloat<256>;
  const F u = mp::ldexp(F(1), -255);  // 2^(1-P): each rounding errs by at most u / 2
  // Scalar math: y = (x - mean) * gamma * rstd + beta; x, gamma, beta are exact at 256 bits.
  const F d = F(x) - s.mean;  // 3u |mean| (mean) + u |d|
  const F a = d * F(gamma);   // + u |a|
  const F ar = a * s.rstd;    // + 3u |a r| (rstd) + u |a r|
  const F y = ar + F(beta);   // + u |y|
  const F ag = mp::abs(F(gamma)), ar_abs = mp::abs(ar), r = mp::abs(s.rstd);
  const F e = ((mp::abs(s.mean) * 3 + mp::abs(d)) * ag * r + mp::abs(a) * r + ar_abs * 4 + mp::abs(y)) * u *
              F(1.0625);  // the 1/16 covers the second-order terms
  return certify(y, e, t);
}

Rational to_rational(double x) {
  NC_CHECK(std::isfinite(x), "to_rational of a non-finite value");
  if (x == 0) return 0;
  int e = 0;
  const double m = std::frexp(x, &e);  // x = m * 2^e, 0.5 <= |m| < 1
  const auto mant = static_cast<std::int64_t>(std::ldexp(m, 53));
  return to_rational(Dyadic{mp::cpp_int(mant), e - 53});
}

Rational to_rational(const Dyadic& d) {
  if (d.exponent >= 0) return Rational(d.mantissa << d.exponent);
  return Rational(d.mantissa, mp::cpp_int(1) << -d.exponent);
}

double round_dyadic(const Dyadic& d, DType t) { return round_rational(to_rational(d), t); }

double round_rational(const Rational& q, DType t) {
  if (q == 0) return 0.0;
  const DTypeInfo& f = info(t);
  const bool negative = q < 0;
  const mp::cpp_int n = mp::abs(mp::numerator(q)), den = mp::denominator(q);
  // e = floor(log2(n / den)).
  int e = static_cast<int>(mp::msb(n)) - static_cast<int>(mp::msb(den));
  if (e >= 0 ? (n < (den << e)) : ((n << -e) < den)) --e;
  // Scale so that the quantum (the spacing of t's values at q) becomes 1: q / 2^qe = I + r.
  const int qe = std::max(e, f.emin) - f.precision + 1;
  const mp::cpp_int num = qe < 0 ? (n << -qe) : n;
  const mp::cpp_int dd = qe > 0 ? (den << qe) : den;
  mp::cpp_int I = num / dd;
  const mp::cpp_int twice_rem = (num - I * dd) * 2;
  if (twice_rem > dd || (twice_rem == dd && (I & 1) != 0)) ++I;
  double mag = std::ldexp(I.convert_to<double>(), qe);  // exact: I <= 2^p
  if (mag > f.max_finite) mag = kInf;
  return negative ? -mag : mag;
}

std::optional<double> certify(DD v, double e, DType t) {
  if (!std::isfinite(v.hi) || !std::isfinite(e)) return std::nullopt;
  // As above in double-double: its subtraction errs by at most 2^-100 of the result. For a
  // float64 target the nearest double to an end is hi + lo (IEEE addition rounds exactly once).
  const double ew = e * (1 + 0x1p-98) + 0x1p-98 * abs_value(v) + 0x1p-1073;
  const DD lo_end = v - DD{ew, 0}, hi_end = v + ew;
  double lo, hi;
  if (t == DType::kFloat64) {
    lo = lo_end.hi + lo_end.lo;
    hi = hi_end.hi + hi_end.lo;
  } else {
    // Rounding a double-rounded end to t could differ from rounding the end itself (double
    // rounding): widen each end outward to a double first, then round once.
    lo = lo_end.lo < 0 ? std::nextafter(lo_end.hi, -kInf) : lo_end.hi;
    hi = hi_end.lo > 0 ? std::nextafter(hi_end.hi, kInf) : hi_end.hi;
    lo = round_to(t, lo);
    hi = round_to(t, hi);
  }
  if (lo != hi) return std::nullopt;
  if (hi == 0) return (v.hi + ew < 0) ? -0.0 : 0.0;
  return hi;
}

template <unsigned P>
std::optional<double> certify(const BigFloat<P>& v, const BigFloat<P>& e, DType t) {
  using F = BigFloat<P>;
  if (!mp::isfinite(v)) return std::nullopt;
  const double c = candidate(v.template convert_to<double>(), t);
  const double u = std::ldexp(1.0, 1 - static_cast<int>(P));
  return certify_in<F>(v, e, c, t, u, [](double base, int exp, int sign) {
    return F(base) + F(sign) * mp::ldexp(F(1), exp);  // exact at P >= 256 bits
  });
}
template std::optional<double> certify<256>(const BigFloat<256>&, const BigFloat<256>&, DType);
template std::optional<double> certify<1024>(const BigFloat<1024>&, const BigFloat<1024>&, DType);
template std::optional<double> certify<4096>(const BigFloat<4096>&, const BigFloat<4096>&, DType);

double round_sqrt_form(const Rational& A, const Rational& V, const Rational& B, DType t, Certification& cert) {
  NC_CHECK(V > 0, "round_sqrt_form needs V > 0");
  ++cert.values;
  if (A == 0) {  // y = B exactly
    ++cert.exact;
    return round_rational(B, t);
  }
  if (const std::optional<Rational> root = rational_sqrt(V)) {  // y is rational
    ++cert.exact;
    return round_rational(A / *root + B, t);
  }
  double nearest = 0;
  if (auto y = sqrt_form_at<256>(A, V, B, t, nearest)) {
    ++cert.at_level[1];
    return *y;
  }
  if (auto y = sqrt_form_at<1024>(A, V, B, t, nearest)) {
    ++cert.at_level[2];
    return *y;
  }
  ++cert.exact;
  return decide_sqrt_form(A, V, B, round_to(t, nearest), t);
}

double round_sqrt_sum(std::vector<SqrtTerm> terms, DType t, Certification& cert) {
  // Merge terms with equal V exactly: sum A / sqrt(V) = (sum A) / sqrt(V). Terms whose sqrt(V)
  // is rational go into the rational part R.
  std::map<Rational, Rational> by_v;
  for (SqrtTerm& term : terms) {
    if (term.A != 0) by_v[term.V] += term.A;
  }
  Rational R = 0;
  std::vector<SqrtTerm> merged;
  for (auto& [v, a] : by_v) {
    if (a == 0) continue;
    if (const std::optional<Rational> root = rational_sqrt(v)) {
      R += a / *root;
    } else {
      merged.push_back({a, v});
    }
  }
  if (merged.empty()) {
    ++cert.values;
    ++cert.exact;
    return round_rational(R, t);
  }
  if (merged.size() == 1) return round_sqrt_form(merged[0].A, merged[0].V, R, t, cert);
  ++cert.values;
  double nearest = 0;
  if (auto y = sqrt_sum_at<256>(R, merged, t, nearest)) {
    ++cert.at_level[1];
    return *y;
  }
  if (auto y = sqrt_sum_at<1024>(R, merged, t, nearest)) {
    ++cert.at_level[2];
    return *y;
  }
  if (auto y = sqrt_sum_at<4096>(R, merged, t, nearest)) {
    ++cert.at_level[3];
    return *y;
  }
  ++cert.uncertified;
  return round_to(t, nearest);
}

}  // namespace normcheck::reference
