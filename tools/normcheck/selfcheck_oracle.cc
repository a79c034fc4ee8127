#include "tools/normcheck/selfcheck_oracle.h"

#include <cmath>
#include <map>

namespace normcheck::tool::oracle {
namespace {

namespace mp = boost::multiprecision;

int sign_of(const Rational& q) { return q.sign(); }

/// 2^e as a rational.
Rational pow2(int e) {
  if (e >= 0) return Rational(mp::cpp_int(1) << e);
  return Rational(mp::cpp_int(1), mp::cpp_int(1) << -e);
}

/// The spacing of t's values in the binade [2^e, 2^(e+1)) (the subnormal spacing below emin).
double quantum(DType t, int e) {
  const DTypeInfo& ti = info(t);
  return std::ldexp(1.0, std::max(e, ti.emin) - ti.precision + 1);
}

/// The distance from |c| to the next value of t up (away from zero) and down (toward zero).
struct Steps {
  double up, down;
};
Steps steps_of(double c, DType t) {
  const double a = std::fabs(c);
  if (a == 0) return {info(t).min_subnormal, info(t).min_subnormal};
  const int e = std::ilogb(a);
  const double q = quantum(t, e);
  const bool power_of_two = a == std::ldexp(1.0, e);
  return {q, power_of_two && e > info(t).emin ? quantum(t, e - 1) : q};
}

bool is_even(double c, DType t) {
  const double a = std::fabs(c);
  if (a == 0) return true;
  return std::fmod(a / quantum(t, std::ilogb(a)), 2.0) == 0;
}

}  // namespace

Rational exact(double x) {
  if (x == 0) return Rational(0);
  int e = 0;
  const double m = std::frexp(x, &e);  // x = m * 2^e, 0.5 <= |m| < 1
  const auto mant = static_cast<std::int64_t>(std::ldexp(m, 53));
  return Rational(mp::cpp_int(mant)) * pow2(e - 53);
}

int compare_sqrt_form(const Rational& A, const Rational& V, const Rational& B, const Rational& q) {
  // A / sqrt(V) vs R = q - B: different signs decide at once; equal signs compare A^2 with R^2 V
  // (both sides non-negative), and the common sign flips the answer for negative sides.
  const Rational R = q - B;
  const int sa = sign_of(A), sr = sign_of(R);
  if (sa != sr) return sa > sr ? 1 : -1;
  if (sa == 0) return 0;
  const int squares = sign_of(A * A - R * R * V);
  return sa * squares;
}

bool is_correct_rounding(double c, DType t, const Comparison& z_minus) {
  if (std::isnan(c)) return false;
  const DTypeInfo& ti = info(t);
  if (std::isinf(c)) {
    const Rational threshold = exact(ti.max_finite) + exact(quantum(t, ti.emax)) / 2;
    return c > 0 ? z_minus(threshold) >= 0 : z_minus(-threshold) <= 0;
  }
  if (round_to(t, c) != c) return false;  // not a value of t at all
  const Steps s = steps_of(c, t);
  // Neighbours below and above c on the real line.
  const double below_step = c > 0 ? s.down : s.up;
  const double above_step = c < 0 ? s.down : s.up;
  const Rational cq = exact(c);
  const Rational mid_lo = cq - exact(below_step) / 2;
  const Rational mid_hi = cq + exact(above_step) / 2;
  const bool even = is_even(c, t);
  const int lo = z_minus(mid_lo), hi = z_minus(mid_hi);
  return (lo > 0 || (lo == 0 && even)) && (hi < 0 || (hi == 0 && even));
}

bool is_correctly_rounded(double c, DType t, const Rational& A, const Rational& V, const Rational& B) {
  return is_correct_rounding(c, t, [&](const Rational& q) { return compare_sqrt_form(A, V, B, q); });
}

bool is_correctly_rounded(double c, DType t, const Rational& z) {
  return is_correct_rounding(c, t, [&](const Rational& q) { return sign_of(z - q); });
}

std::int64_t affine_index(const Problem& p, std::int64_t i) {
  // layer_norm / rms_norm: the position inside normalized_shape (the trailing dims); the others: c.
  if (p.op == Op::kLayerNorm || p.op == Op::kRmsNorm) return i % numel_of(p.normalized_shape);
  std::int64_t spatial = 1;
  for (std::size_t d = 2; d < p.shape.size(); ++d) spatial *= p.shape[d];
  return (i / spatial) % p.shape[1];
}

std::vector<std::vector<std::int64_t>> normalization_sets(const Problem& p) {
  // Key every element by what its set shares (docs/semantics.md's table), then group.
  const std::int64_t n_total = numel_of(p.shape);
  const bool trailing = p.op == Op::kLayerNorm || p.op == Op::kRmsNorm;
  const std::int64_t inner = trailing ? numel_of(p.normalized_shape) : 0;
  std::int64_t C = 1, spatial = 1;
  if (!trailing) {
    C = p.shape[1];
    for (std::size_t d = 2; d < p.shape.size(); ++d) spatial *= p.shape[d];
  }
  std::map<std::int64_t, std::vector<std::int64_t>> by_key;
  for (std::int64_t i = 0; i < n_total; ++i) {
    std::int64_t key = 0;
    if (trailing) {
      key = i / inner;  // the leading index
    } else {
      const std::int64_t n = i / (C * spatial), c = (i / spatial) % C, s = i % spatial;
      switch (p.op) {
        case Op::kBatchNorm:
          key = c;
          break;
        case Op::kInstanceNorm:
          key = n * C + c;
          break;
        case Op::kGroupNorm:
          key = n * p.num_groups + c / (C / p.num_groups);
          break;
        case Op::kLayerNorm2d:
          key = n * spatial + s;
          break;
        default:
          break;
      }
    }
    by_key[key].push_back(i);
  }
  std::vector<std::vector<std::int64_t>> sets;
  for (auto& [key, members] : by_key) sets.push_back(std::move(members));
  return sets;
}

ExactStats exact_stats(const std::vector<double>& x, const std::vector<std::int64_t>& members, bool rms) {
  const auto m = static_cast<std::int64_t>(members.size());
  ExactStats st;
  if (m == 0) return st;
  if (!rms) {
    for (std::int64_t i : members) st.mean += exact(x[i]);
    st.mean /= m;
  }
  for (std::int64_t i : members) {
    const Rational d = exact(x[i]) - st.mean;
    st.var += d * d;
  }
  st.var /= m;
  return st;
}

}  // namespace normcheck::tool::oracle
