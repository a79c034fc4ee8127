#pragma once
/// The reference: the exact answer to a normalization problem, correctly rounded to the output
/// dtype, with a per-element error bound for judging floating-point implementations.
///
/// Statistics come from exact sums of the inputs (an exact fixed-point accumulator), so mean and
/// variance are exact rationals; outputs that involve 1/sqrt(var + eps) are evaluated with a
/// rigorous error bound and escalated in precision until their rounding is certain (Ziv), with an
/// exact rational decision for the values that land on a rounding boundary.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "normcheck/inputs.h"
#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "normcheck/tensor.h"

namespace normcheck::reference {

/// The bound of an undecided element: one whose kind (NaN, +-inf or finite) a correct
/// implementation may get otherwise than the exact value, within the error model of
/// docs/tolerances.md ("Undecided elements": eps = 0 with a variance within its error of 0, an
/// accumulator of the usual algorithm that may overflow, a value within its bound of the output
/// dtype's overflow threshold). Any value passes there; comparisons count such elements apart.
inline constexpr double kUndecided = std::numeric_limits<double>::infinity();
inline bool is_undecided(double bound) { return bound == kUndecided; }

/// What the caller supplies (include/normcheck/inputs.h): every view CPU, in the problem's dtype.
using Inputs = normcheck::Inputs;

/// How the rounding of each value was certified: by the fast evaluation (level 0), by a
/// multiprecision re-evaluation (levels 1..), or by the exact rational decision at a rounding
/// boundary (exact). uncertified counts values no level could settle (never expected; reported).
struct Certification {
  static constexpr int kLevels = 4;  ///< fast (double / double-double), 256, 1024, 4096 bits
  std::int64_t values = 0;
  std::array<std::int64_t, kLevels> at_level{};
  std::int64_t exact = 0;
  std::int64_t uncertified = 0;
  std::int64_t escalations() const { return values - at_level[0]; }
  void merge(const Certification& o);
};

/// Everything the problem defines, each tensor dense in logical row-major order. The *_bound
/// tensors (float64) give, per element, the error a correct implementation that accumulates in
/// float32 (float64 for float64 data) may show: see docs/tolerances.md; kUndecided where that
/// error may change the element's kind.
struct Result {
  Tensor y, y_bound;               ///< forward output (always computed; backward needs it too)
  std::optional<Tensor> mean;      ///< per set, stats_dtype; absent for rms_norm and eval-mode running-stat use
  std::optional<Tensor> rstd;      ///< per set, 1/sqrt(var + eps) (rms: 1/sqrt(mean(x^2) + eps))
  std::optional<Tensor> mean_bound, rstd_bound;
  std::optional<Tensor> running_mean, running_var;  ///< the buffers after the call (tracking on; unchanged in eval)
  std::optional<Tensor> running_mean_bound, running_var_bound;
  std::int64_t num_batches_tracked = 0;
  std::optional<Tensor> dx, dx_bound, dweight, dweight_bound, dbias, dbias_bound;
  Certification certification;
};

/// One output of a Result with its bound, by the name the command line and reports use.
struct NamedOutput {
  std::string_view name;
  const Tensor* value = nullptr;
  const Tensor* bound = nullptr;
};
/// The outputs present in r, each with its bound, in the order y, mean, rstd, running_mean,
/// running_var, dx, dweight, dbias.
std::vector<NamedOutput> present_outputs(const Result& r);

/// float32 for float16/bfloat16/float32 data, float64 for float64 data (normcheck::stats_dtype).
using normcheck::stats_dtype;

/// Validates the inputs against the problem (shapes, dtypes, presence) and evaluates it.
/// Errors the profile defines (pytorch: batch_norm training with one value per channel) come back
/// as a Status with the framework's message.
Expected<Result> evaluate(const Problem& problem, const Inputs& inputs);

/// The forward output y by a plain two-pass evaluation in double, rounded to the dtype: no exact
/// sums, no certification, no bounds. The speed baseline the benchmark compares evaluate() with;
/// not a reference (its last bits are not certified).
Expected<Result> evaluate_plain_double(const Problem& problem, const Inputs& inputs);

}  // namespace normcheck::reference
