#pragma once
/// Internals shared by the reference's translation units: the inputs as dense doubles in
/// x[n][c][s] order, the normalization sets, and each set's exact statistics.
#include <cstdint>
#include <optional>
#include <vector>

#include "normcheck/problem.h"
#include "reference/bounds.h"
#include "reference/double_double.h"
#include "reference/reference.h"
#include "reference/rounding.h"

namespace normcheck::reference::detail {

/// The problem's inputs, copied once into dense logical order (every value of every dtype is
/// exact as a double): x[(n * C + c) * S + s]. The copy costs 8 bytes an element, below the
/// outputs' own size (y plus its float64 bound), and keeps every later loop dtype- and stride-free.
struct Data {
  std::vector<double> x, dy;         // dy empty for forward problems
  std::vector<double> gamma, beta;   // C values; 1 and 0 when the problem has no affine
  std::vector<double> running_mean, running_var;  // C values when given
  std::int64_t num_batches_tracked = 0;
};

/// How each element's statistics are chosen.
struct Sets {
  Op op = Op::kBatchNorm;
  Geometry g;
  bool use_running_stats = false;  ///< eval mode with tracked running stats: one "set" per channel
  std::int64_t count() const { return use_running_stats ? g.C : g.num_sets; }
  std::int64_t index(std::int64_t i) const { return set_of(i / (g.C * g.S), (i / g.S) % g.C, i % g.S); }
  std::int64_t set_of(std::int64_t n, std::int64_t c, std::int64_t s) const;
  /// Calls f(linear index) for every element of set k (batch statistics only).
  template <class F>
  void for_each(std::int64_t k, F&& f) const;
};

/// A set's statistics as exact rationals: mean (0 for rms_norm), biased var (the mean square
/// for rms_norm), V = var + eps.
struct ExactStats {
  Rational mean, var, V;
  WideSetStats wide;  ///< mean and 1 / sqrt(V) at 256 bits (V > 0), for elements the fast path misses
};

/// One set's statistics: exact (computed from the exact sums when first asked for: the fast
/// path needs only the double-double approximations) and the approximations with their errors.
struct SetStats {
  std::int64_t m = 0;
  bool finite = true;         ///< false: a NaN or inf in the set (or V <= 0): IEEE semantics apply
  double nonfinite_mean = 0;  ///< the IEEE mean of a non-finite set
  DD mean_dd;                 ///< |mean - mean_dd| <= mean_err
  double mean_err = 0;
  DD rstd_dd;                 ///< |rstd - rstd_dd| <= rstd_rel_err * rstd
  double rstd_rel_err = 0;
  double mean_d = 0, var_d = 0, rstd_d = 0;  ///< doubles for the tolerance bounds
  double mean_abs = 0, dev_abs = 0;           ///< (1/m) sum |x|, (1/m) sum |x - mean|

  /// Where the exact statistics come from: the exact sums S1 = sum x, S2 = sum x^2 of a batch
  /// set, or the running buffers (mean = running_mean, var = running_var).
  Dyadic s1, s2;
  double running_mean = 0, running_var = 0;
  bool from_running = false, rms = false;
  double eps = 0;
  const ExactStats& exact() const;

 private:
  mutable std::optional<ExactStats> exact_;
};

/// Batch statistics of every set (exact sums), or the running statistics in eval mode.
std::vector<SetStats> compute_set_stats(const Problem& p, const Sets& sets, const Data& d);
/// q as double-double: |q - result| <= err (0 when q is exactly a double-double).
DD to_dd(const Rational& q, double& err);

/// The tolerance model's errors for a set's statistics (batch or running).
StatErrors stat_errors_of(const Problem& p, const Sets& sets, const SetStats& st);
/// Which of a set's statistics the usual algorithm may get of another kind than the exact ones
/// (bounds.h); none for a set holding NaN or inf, whose outputs IEEE arithmetic decides.
UndecidedStats undecided_of(const Problem& p, const SetStats& st, const StatErrors& se);
/// y by IEEE arithmetic in double (non-finite sets, and the plain double evaluation).
double ieee_y(double x, const SetStats& st, double gamma, double beta);
/// y = (x - mean) * rstd * gamma + beta and rstd, correctly rounded to t (Ziv, then exact).
double certified_y(double x, const SetStats& st, double gamma, double beta, DType t, Certification& cert);
double certified_rstd(const SetStats& st, DType t, Certification& cert);

// The parts of evaluate(), each filling its share of the Result.
void forward_outputs(const Problem& p, const Sets& sets, const Data& d, const std::vector<SetStats>& stats,
                     Result& r);
void running_stats_update(const Problem& p, const Sets& sets, const Data& d, const std::vector<SetStats>& stats,
                          Result& r);
/// The same forward y by a plain two-pass evaluation in double, uncertified: the speed baseline.
void plain_forward(const Problem& p, const Sets& sets, const Data& d, Result& r);
void backward_outputs(const Problem& p, const Sets& sets, const Data& d, const std::vector<SetStats>& stats,
                      Result& r);

template <class F>
void Sets::for_each(std::int64_t k, F&& f) const {
  const std::int64_t C = g.C, S = g.S;
  auto at = [&](std::int64_t n, std::int64_t c, std::int64_t s) { f((n * C + c) * S + s); };
  switch (op) {
    case Op::kBatchNorm:
      for (std::int64_t n = 0; n < g.N; ++n)
        for (std::int64_t s = 0; s < S; ++s) at(n, k, s);
      return;
    case Op::kInstanceNorm:
      for (std::int64_t s = 0; s < S; ++s) at(k / C, k % C, s);
      return;
    case Op::kGroupNorm: {
      const std::int64_t per_group = C / g.G, n = k / g.G, c0 = (k % g.G) * per_group;
      for (std::int64_t c = c0; c < c0 + per_group; ++c)
        for (std::int64_t s = 0; s < S; ++s) at(n, c, s);
      return;
    }
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      for (std::int64_t c = 0; c < C; ++c) at(k, c, 0);
      return;
    case Op::kLayerNorm2d:
      for (std::int64_t c = 0; c < C; ++c) at(k / S, c, k % S);
      return;
  }
}

inline std::int64_t Sets::set_of(std::int64_t n, std::int64_t c, std::int64_t s) const {
  if (use_running_stats) return c;
  return set_index(op, g, n, c, s);
}

}  // namespace normcheck::reference::detail
