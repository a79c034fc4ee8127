#include "tests/reference/oracle.h"

#include <algorithm>
#include <bit>
#include <boost/multiprecision/cpp_bin_float.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>

namespace normcheck::oracle {
namespace {

namespace mp = boost::multiprecision;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Starting candidates only: any precision works (the decision is exact), more saves steps.
using Approx = mp::number<mp::cpp_bin_float<192, mp::digit_base_2>, mp::et_off>;
/// The weight gradient's sums of terms with distinct square roots.
using Precise = mp::number<mp::cpp_bin_float<2000, mp::digit_base_2>, mp::et_off>;

template <class F>
F to_float(const Rational& q) {
  return F(mp::numerator(q)) / F(mp::denominator(q));
}

int sign_of(const Rational& q) { return q > 0 ? 1 : (q < 0 ? -1 : 0); }

}  // namespace

Rational pow2(int e) {
  if (e >= 0) return Rational(mp::cpp_int(1) << e);
  return Rational(mp::cpp_int(1), mp::cpp_int(1) << -e);
}

Rational exact(double x) {
  if (!std::isfinite(x)) throw std::invalid_argument("oracle::exact of a non-finite value");
  if (x == 0) return Rational(0);
  int e = 0;
  const double m = std::frexp(x, &e);  // x = m 2^e, |m| in [0.5, 1): m 2^53 is an integer
  const auto mant = static_cast<std::int64_t>(std::ldexp(m, 53));
  return Rational(mant) * pow2(e - 53);
}

double next_up(DType t, double c) {
  if (std::isnan(c)) return c;
  if (c == -kInf) return -info(t).max_finite;
  if (c == kInf) return kInf;
  switch (t) {
    case DType::kFloat64:
      return std::nextafter(c, kInf);
    case DType::kFloat32:
      return static_cast<double>(
          std::nextafter(static_cast<float>(c), std::numeric_limits<float>::infinity()));
    case DType::kFloat16:
    case DType::kBFloat16: {
      if (c == 0) return info(t).min_subnormal;
      const bool half = t == DType::kFloat16;
      const std::uint16_t bits = half ? half_bits_from_double(c) : bf16_bits_from_double(c);
      // Sign-magnitude: a positive value grows with its pattern, a negative one shrinks.
      const auto next = static_cast<std::uint16_t>(c > 0 ? bits + 1 : bits - 1);
      const double v = half ? double_from_half_bits(next) : double_from_bf16_bits(next);
      return v == 0 ? -0.0 : v;
    }
  }
  return c;
}

double next_down(DType t, double c) { return -next_up(t, -c); }

bool is_even(DType t, double c) {
  switch (t) {
    case DType::kFloat64:
      return (std::bit_cast<std::uint64_t>(c) & 1) == 0;
    case DType::kFloat32:
      return (std::bit_cast<std::uint32_t>(static_cast<float>(c)) & 1) == 0;
    case DType::kFloat16:
      return (half_bits_from_double(c) & 1) == 0;
    case DType::kBFloat16:
      return (bf16_bits_from_double(c) & 1) == 0;
  }
  return true;
}

Rational overflow_boundary(DType t) {
  // max = (2 - 2^(1-p)) 2^emax; the next value of the unbounded-exponent format is 2^(emax+1).
  return (exact(info(t).max_finite) + pow2(info(t).emax + 1)) / 2;
}

double decide(DType t, double approx, const Compare& compare_with) {
  double c = std::isnan(approx) ? 0.0 : round_to(t, approx);
  const double max = info(t).max_finite;
  const Rational overflow = overflow_boundary(t);
  for (int step = 0; step < (1 << 20); ++step) {
    if (c == kInf) {
      if (compare_with(overflow) >= 0) return kInf;
      c = max;
      continue;
    }
    if (c == -kInf) {
      if (compare_with(-overflow) <= 0) return -kInf;
      c = -max;
      continue;
    }
    const double up = next_up(t, c);
    const Rational hi = std::isinf(up) ? overflow : (exact(c) + exact(up)) / 2;
    int s = compare_with(hi);
    if (s > 0) {
      c = up;
      continue;
    }
    if (s == 0) return is_even(t, c) ? c : up;
    const double down = next_down(t, c);
    const Rational lo = std::isinf(down) ? -overflow : (exact(c) + exact(down)) / 2;
    s = compare_with(lo);
    if (s < 0) {
      c = down;
      continue;
    }
    if (s == 0) return is_even(t, c) ? c : down;
    if (c == 0) return compare_with(Rational(0)) < 0 ? -0.0 : 0.0;
    return c;
  }
  throw std::logic_error("oracle::decide: no convergence from the candidate");
}

double round_rational(const Rational& q, DType t) {
  const double approx = to_float<Approx>(q).convert_to<double>();
  return decide(t, approx, [&q](const Rational& b) { return q > b ? 1 : (q < b ? -1 : 0); });
}

int compare_sqrt_form(const Rational& A, const Rational& V, const Rational& B, const Rational& b) {
  // A / sqrt(V) versus D = b - B.
  const Rational D = b - B;
  const int sa = sign_of(A), sd = sign_of(D);
  if (sa == 0) return -sd;
  if (sd == 0 || sa != sd) return sa;
  // Both of sign s: |A| / sqrt(V) > |D|  <=>  A^2 > D^2 V.
  const Rational lhs = A * A, rhs = D * D * V;
  if (lhs == rhs) return 0;
  return lhs > rhs ? sa : -sa;
}

double round_sqrt_form(const Rational& A, const Rational& V, const Rational& B, DType t) {
  if (!(V > 0)) throw std::invalid_argument("oracle::round_sqrt_form needs V > 0");
  const Approx approx = to_float<Approx>(A) / mp::sqrt(to_float<Approx>(V)) + to_float<Approx>(B);
  return decide(t, approx.convert_to<double>(),
                [&](const Rational& b) { return compare_sqrt_form(A, V, B, b); });
}

namespace {

/// sqrt(q) when q >= 0 is the square of a rational, else nullopt.
std::optional<Rational> rational_sqrt(const Rational& q) {
  if (q < 0) return std::nullopt;
  const mp::cpp_int n = mp::numerator(q), d = mp::denominator(q);  // coprime: both must be squares
  const mp::cpp_int rn = mp::sqrt(n), rd = mp::sqrt(d);
  if (rn * rn != n || rd * rd != d) return std::nullopt;
  return Rational(rn, rd);
}

}  // namespace

SumDecision round_sqrt_sum(std::vector<SqrtTerm> terms, DType t) {
  // Reduce the sum to B + sum_j A_j / sqrt(V_j) with no V_j a rational square and no ratio
  // V_i / V_j a rational square: square roots of distinct square-free classes are linearly
  // independent over the rationals, so what is left is either one sqrt form (decided exactly)
  // or an irrational number (never a rounding boundary).
  Rational B = 0;
  std::vector<SqrtTerm> classes;
  for (const SqrtTerm& term : terms) {
    if (!(term.V > 0)) throw std::invalid_argument("oracle::round_sqrt_sum needs V > 0");
    if (term.A == 0) continue;
    if (const auto r = rational_sqrt(term.V)) {
      B += term.A / *r;
      continue;
    }
    bool merged = false;
    for (SqrtTerm& cls : classes) {
      // sqrt(V) = s sqrt(V_class) with s = sqrt(V / V_class) rational: A / sqrt(V) = (A / s) / sqrt(V_class).
      if (const auto s = rational_sqrt(term.V / cls.V)) {
        cls.A += term.A / *s;
        merged = true;
        break;
      }
    }
    if (!merged) classes.push_back(term);
  }
  std::erase_if(classes, [](const SqrtTerm& c) { return c.A == 0; });
  SumDecision d;
  if (classes.size() <= 1) {
    d.exact = true;
    d.margin_log2 = kInf;
    d.value = classes.empty() ? round_rational(B, t) : round_sqrt_form(classes[0].A, classes[0].V, B, t);
    return d;
  }
  Precise sum = to_float<Precise>(B), sum_abs = mp::abs(sum);
  for (const SqrtTerm& term : classes) {
    const Precise v = to_float<Precise>(term.A) / mp::sqrt(to_float<Precise>(term.V));
    sum += v;
    sum_abs += mp::abs(v);
  }
  int min_exp = std::numeric_limits<int>::max();
  d.value = decide(t, sum.convert_to<double>(), [&](const Rational& b) {
    const Precise diff = sum - to_float<Precise>(b);  // b is dyadic with few bits: exact
    if (diff == 0) {
      min_exp = std::numeric_limits<int>::min();
      return 0;
    }
    int e = 0;
    mp::frexp(Precise(mp::abs(diff) / sum_abs), &e);
    min_exp = std::min(min_exp, e);
    return diff > 0 ? 1 : -1;
  });
  d.margin_log2 = min_exp == std::numeric_limits<int>::min() ? -kInf : static_cast<double>(min_exp);
  return d;
}

DType stats_dtype_of(DType data) { return data == DType::kFloat64 ? DType::kFloat64 : DType::kFloat32; }

namespace {
/// v in the type a profile's framework computes in (float32 unless the data is float64), by a
/// C++ cast rather than normcheck's round_to.
double in_compute_type(const Problem& p, double v) {
  return p.dtype == DType::kFloat64 ? v : static_cast<double>(static_cast<float>(v));
}
/// v as a float32 attribute (ONNX's epsilon and momentum).
double as_attribute(double v) { return static_cast<double>(static_cast<float>(v)); }
}  // namespace

double eps_of(const Problem& p) {
  const double eps = p.eps ? *p.eps : std::ldexp(1.0, 1 - info(p.dtype).precision);
  return p.profile == Profile::kOnnx ? as_attribute(eps) : in_compute_type(p, eps);
}

Structure structure_of(const Problem& p) {
  Structure s;
  const std::int64_t numel = numel_of(p.shape);
  s.set_of.resize(static_cast<std::size_t>(numel));
  s.affine_of.resize(static_cast<std::size_t>(numel));
  s.channel_of.resize(static_cast<std::size_t>(numel));
  if (p.op == Op::kLayerNorm || p.op == Op::kRmsNorm) {
    const std::int64_t D = numel_of(p.normalized_shape);
    s.num_sets = numel / D;
    s.affine_size = D;
    for (std::int64_t i = 0; i < numel; ++i) {
      s.set_of[i] = i / D;
      s.affine_of[i] = s.channel_of[i] = i % D;
    }
  } else {
    const std::int64_t N = p.shape[0], C = p.shape[1], S = numel_of(std::span(p.shape).subspan(2));
    const std::int64_t G = p.op == Op::kGroupNorm ? p.num_groups : 1;
    s.affine_size = C;
    switch (p.op) {
      case Op::kBatchNorm:
        s.num_sets = C;
        break;
      case Op::kInstanceNorm:
        s.num_sets = N * C;
        break;
      case Op::kGroupNorm:
        s.num_sets = N * G;
        break;
      case Op::kLayerNorm2d:
        s.num_sets = N * S;
        break;
      default:
        break;
    }
    for (std::int64_t i = 0; i < numel; ++i) {
      const std::int64_t n = i / (C * S), c = (i / S) % C, sp = i % S;
      std::int64_t k = 0;
      switch (p.op) {
        case Op::kBatchNorm:
          k = c;
          break;
        case Op::kInstanceNorm:
          k = n * C + c;
          break;
        case Op::kGroupNorm:
          k = n * G + c / (C / G);
          break;
        case Op::kLayerNorm2d:
          k = n * S + sp;
          break;
        default:
          break;
      }
      s.set_of[i] = k;
      s.affine_of[i] = s.channel_of[i] = c;
    }
  }
  s.members.assign(static_cast<std::size_t>(s.num_sets), {});
  for (std::int64_t i = 0; i < numel; ++i) s.members[s.set_of[i]].push_back(i);
  return s;
}

Outputs solve(const Case& cs) {
  const Problem& p = cs.problem;
  const DType t = p.dtype, sdt = stats_dtype_of(t);
  const Structure st = structure_of(p);
  const std::int64_t numel = numel_of(p.shape);
  const bool rms = p.op == Op::kRmsNorm;
  const bool tracked = (p.op == Op::kBatchNorm || p.op == Op::kInstanceNorm) && p.track_running_stats;
  const bool running = tracked && p.mode == Mode::kEval;
  const bool backward = p.direction == Direction::kBackward;
  const Rational eps = exact(eps_of(p));

  auto exact_all = [](const std::vector<double>& v) {
    std::vector<Rational> out;
    out.reserve(v.size());
    for (double x : v) out.push_back(exact(x));
    return out;
  };
  const std::vector<Rational> X = exact_all(cs.x);
  const std::vector<Rational> DY = backward ? exact_all(cs.grad_output) : std::vector<Rational>{};
  std::vector<Rational> gamma(static_cast<std::size_t>(st.affine_size), Rational(1));
  std::vector<Rational> beta(static_cast<std::size_t>(st.affine_size), Rational(0));
  if (p.affine) gamma = exact_all(cs.weight);
  if (p.bias) beta = exact_all(cs.bias);

  // Batch statistics, two passes in exact arithmetic.
  std::vector<Rational> mean(static_cast<std::size_t>(st.num_sets)), var(mean.size()), V(mean.size());
  for (std::int64_t k = 0; k < st.num_sets; ++k) {
    const auto& mem = st.members[k];
    const auto m = static_cast<std::int64_t>(mem.size());
    Rational sum = 0;
    for (std::int64_t i : mem) sum += X[i];
    mean[k] = rms ? Rational(0) : Rational(sum / m);
    Rational sq = 0;
    for (std::int64_t i : mem) sq += (X[i] - mean[k]) * (X[i] - mean[k]);
    var[k] = sq / m;
    V[k] = var[k] + eps;
  }
  // The statistics each element is normalized with.
  std::vector<Rational> run_mean, run_V;
  if (running) {
    for (std::int64_t c = 0; c < st.affine_size; ++c) {
      run_mean.push_back(exact(cs.running_mean[c]));
      run_V.push_back(exact(cs.running_var[c]) + eps);
    }
  }
  auto mu_of = [&](std::int64_t i) -> const Rational& {
    return running ? run_mean[st.channel_of[i]] : mean[st.set_of[i]];
  };
  auto V_of = [&](std::int64_t i) -> const Rational& {
    return running ? run_V[st.channel_of[i]] : V[st.set_of[i]];
  };
  // Which "set" an element's statistics belong to (for grouping the weight gradient's terms).
  auto stat_set_of = [&](std::int64_t i) { return running ? st.channel_of[i] : st.set_of[i]; };

  Outputs out;
  out.y.resize(static_cast<std::size_t>(numel));
  for (std::int64_t i = 0; i < numel; ++i) {
    const std::int64_t a = st.affine_of[i];
    out.y[i] = round_sqrt_form((X[i] - mu_of(i)) * gamma[a], V_of(i), beta[a], t);
  }
  if (!running) {
    out.rstd.emplace();
    for (std::int64_t k = 0; k < st.num_sets; ++k) out.rstd->push_back(round_sqrt_form(1, V[k], 0, sdt));
    if (!rms) {
      out.mean.emplace();
      for (std::int64_t k = 0; k < st.num_sets; ++k) out.mean->push_back(round_rational(mean[k], sdt));
    }
  }

  if (tracked) {
    out.running_mean = cs.running_mean;
    out.running_var = cs.running_var;
    out.num_batches_tracked = cs.num_batches_tracked;
    if (p.mode == Mode::kTrain) {
      // new = keep * old + take * batch, each weight as the framework forms it (docs/semantics.md).
      double keep_d = 0, take_d = 0;
      if (p.profile == Profile::kPyTorch) {
        if (p.op == Op::kBatchNorm) out.num_batches_tracked = cs.num_batches_tracked + 1;  // InstanceNorm: never
        // ATen: momentum (Python's 1.0 / num_batches_tracked for None) cast to acc_t, 1 - momentum in acc_t.
        take_d = in_compute_type(p, p.momentum ? *p.momentum : 1.0 / static_cast<double>(out.num_batches_tracked));
        keep_d = in_compute_type(p, 1.0 - take_d);
      } else if (p.profile == Profile::kKeras) {
        // moving * momentum + batch * (1.0 - momentum), both Python floats cast to the compute dtype.
        keep_d = in_compute_type(p, *p.momentum);
        take_d = in_compute_type(p, 1.0 - *p.momentum);
      } else {
        // ONNX Runtime: the float attribute, and (1. - momentum) cast to the data's type.
        keep_d = as_attribute(*p.momentum);
        take_d = in_compute_type(p, 1.0 - keep_d);
      }
      const Rational keep = exact(keep_d), take = exact(take_d);
      const bool unbiased = p.profile == Profile::kPyTorch;
      const std::int64_t C = st.affine_size, N = p.shape[0];
      for (std::int64_t c = 0; c < C; ++c) {
        // batch_norm: channel c is set c. instance_norm: the mean over n of the sets (n, c).
        std::vector<std::int64_t> sets;
        if (p.op == Op::kBatchNorm)
          sets = {c};
        else
          for (std::int64_t n = 0; n < N; ++n) sets.push_back(n * C + c);
        Rational bm = 0, bv = 0;
        for (std::int64_t k : sets) {
          const auto m = static_cast<std::int64_t>(st.members[k].size());
          bm += mean[k];
          bv += unbiased ? Rational(var[k] * m / (m - 1)) : var[k];
        }
        const auto count = static_cast<std::int64_t>(sets.size());
        bm /= count;
        bv /= count;
        (*out.running_mean)[c] = round_rational(keep * exact(cs.running_mean[c]) + take * bm, t);
        (*out.running_var)[c] = round_rational(keep * exact(cs.running_var[c]) + take * bv, t);
      }
    }
  }

  if (!backward) return out;
  // dx = A / sqrt(V): running statistics A = g; batch A = g - Sg/m - (x - mean) Sgd / (m V)
  // with g = dy gamma, Sg = sum g, Sgd = sum g (x - mean) over the set (rms: no Sg/m term).
  out.dx.emplace(static_cast<std::size_t>(numel));
  std::vector<Rational> G(static_cast<std::size_t>(numel));
  for (std::int64_t i = 0; i < numel; ++i) G[i] = DY[i] * gamma[st.affine_of[i]];
  if (running) {
    for (std::int64_t i = 0; i < numel; ++i) (*out.dx)[i] = round_sqrt_form(G[i], V_of(i), 0, t);
  } else {
    for (std::int64_t k = 0; k < st.num_sets; ++k) {
      const auto& mem = st.members[k];
      const auto m = static_cast<std::int64_t>(mem.size());
      Rational Sg = 0, Sgd = 0;
      for (std::int64_t i : mem) {
        Sg += G[i];
        Sgd += G[i] * (X[i] - mean[k]);
      }
      const Rational c1 = rms ? Rational(0) : Rational(Sg / m);
      const Rational w = Sgd / (m * V[k]);
      for (std::int64_t i : mem) (*out.dx)[i] = round_sqrt_form(G[i] - c1 - (X[i] - mean[k]) * w, V[k], 0, t);
    }
  }
  if (!p.affine && !p.bias) return out;
  // dweight_a = sum over elements with affine index a of dy (x - mean) / sqrt(V), one term per set.
  std::vector<std::map<std::int64_t, Rational>> per_set(static_cast<std::size_t>(st.affine_size));
  std::vector<Rational> db(static_cast<std::size_t>(st.affine_size), Rational(0));
  for (std::int64_t i = 0; i < numel; ++i) {
    const std::int64_t a = st.affine_of[i];
    per_set[a][stat_set_of(i)] += DY[i] * (X[i] - mu_of(i));
    db[a] += DY[i];
  }
  if (p.affine) out.dweight.emplace();
  for (std::int64_t a = 0; p.affine && a < st.affine_size; ++a) {
    std::vector<SqrtTerm> terms;
    for (const auto& [k, A] : per_set[a]) terms.push_back({A, running ? run_V[k] : V[k]});
    const SumDecision d = round_sqrt_sum(std::move(terms), t);
    out.dweight->push_back(d.value);
    if (!d.exact) {
      ++out.inexact_sums;
      out.min_margin_log2 = std::min(out.min_margin_log2, d.margin_log2);
    }
  }
  if (p.bias) {
    out.dbias.emplace();
    for (std::int64_t a = 0; a < st.affine_size; ++a) out.dbias->push_back(round_rational(db[a], t));
  }
  return out;
}

}  // namespace normcheck::oracle
