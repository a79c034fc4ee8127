#pragma once
/// Double-double arithmetic: a value hi + lo with |lo| <= ulp(hi)/2, about 106 significant bits.
/// Used by the reference's fast evaluation of float64 outputs. Error bounds (relative, u = 2^-53)
/// from Joldes, Muller, Popescu, "Tight and rigorous error bounds for basic building blocks of
/// double-word arithmetic", ACM TOMS 44(2), 2017: DWPlusFP 2u^2, AccurateDWPlusDW 3u^2 + 13u^3,
/// DWTimesFP3 2u^2, DWTimesDW3 4u^2, DWDivFP3 3u^2. kUnitRoundoff below covers each with a
/// margin (also without a hardware FMA, where mul_add rounds twice: one more u^2 term).
#include <cmath>

namespace normcheck::reference {

struct DD {
  double hi = 0, lo = 0;
  static constexpr double kUnitRoundoff = 0x1p-100;  ///< >= the relative error of every op below
};

/// s + e == a + b exactly (Knuth's TwoSum; no precondition on the magnitudes).
inline DD two_sum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  const double e = (a - (s - bb)) + (b - bb);
  return {s, e};
}
/// s + e == a + b exactly, given |a| >= |b| or a == 0 (Dekker's FastTwoSum).
inline DD fast_two_sum(double a, double b) {
  const double s = a + b;
  return {s, b - (s - a)};
}
/// a * b + c with one rounding where the target has an FMA unit; elsewhere std::fma is a slow
/// library call, so the callers below use Dekker's exact splitting instead.
#if defined(__FMA__) || defined(__aarch64__)
inline constexpr bool kHardwareFma = true;
#else
inline constexpr bool kHardwareFma = false;
#endif

/// hi + lo == a with hi holding the top 26 bits (Veltkamp's splitting; no overflow below 2^996).
inline DD veltkamp_split(double a) {
  const double t = 134217729.0 * a;  // 2^27 + 1
  const double hi = t - (t - a);
  return {hi, a - hi};
}

/// p + e == a * b exactly (barring underflow): one FMA, or Dekker's TwoProduct.
inline DD two_prod(double a, double b) {
  const double p = a * b;
  if constexpr (kHardwareFma) {
    return {p, std::fma(a, b, -p)};
  } else {
    const DD x = veltkamp_split(a), y = veltkamp_split(b);
    return {p, ((x.hi * y.hi - p) + x.hi * y.lo + x.lo * y.hi) + x.lo * y.lo};
  }
}
/// a * b + c, rounded once (FMA) or twice (the callers' bounds allow for both).
inline double mul_add(double a, double b, double c) {
  if constexpr (kHardwareFma) return std::fma(a, b, c);
  return a * b + c;
}

inline DD operator+(DD x, double y) {  // DWPlusFP
  const DD s = two_sum(x.hi, y);
  return fast_two_sum(s.hi, s.lo + x.lo);
}
inline DD operator+(DD x, DD y) {  // AccurateDWPlusDW
  const DD s = two_sum(x.hi, y.hi);
  const DD t = two_sum(x.lo, y.lo);
  const DD v = fast_two_sum(s.hi, s.lo + t.hi);
  return fast_two_sum(v.hi, t.lo + v.lo);
}
inline DD operator-(DD x) { return {-x.hi, -x.lo}; }
inline DD operator-(DD x, DD y) { return x + (-y); }
inline DD operator*(DD x, double y) {  // DWTimesFP3
  const DD c = two_prod(x.hi, y);
  return fast_two_sum(c.hi, mul_add(x.lo, y, c.lo));
}
inline DD operator*(DD x, DD y) {  // DWTimesDW3
  const DD c = two_prod(x.hi, y.hi);
  const double tl0 = x.lo * y.lo;
  const double tl1 = mul_add(x.hi, y.lo, tl0);
  const double cl2 = mul_add(x.lo, y.hi, tl1);
  return fast_two_sum(c.hi, c.lo + cl2);
}
inline DD operator/(DD x, double y) {  // DWDivFP3: relative error <= 3u^2
  const double th = x.hi / y;
  const DD pi = two_prod(th, y);
  const double delta = ((x.hi - pi.hi) - pi.lo) + x.lo;
  return fast_two_sum(th, delta / y);
}

/// Orderings by the sign of the difference: AccurateDWPlusDW's relative error is below 1, so the
/// computed difference has the sign of the exact one (and is zero only when that is).
inline bool operator>(DD a, DD b) {
  const DD d = a - b;
  return d.hi > 0 || (d.hi == 0 && d.lo > 0);
}
inline bool operator<(DD a, DD b) { return b > a; }
inline double abs_value(DD x) { return std::fabs(x.hi + x.lo); }

}  // namespace normcheck::reference
