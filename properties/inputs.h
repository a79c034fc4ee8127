#pragma once
/// The generated inputs of a problem: deterministic in (problem.seed, problem.values), so the
/// one-line descriptor replays the same data everywhere. Portable: std::mt19937_64 and our own
/// Box-Muller (std::normal_distribution differs between standard libraries).
#include <cstdint>
#include <random>
#include <vector>

#include "normcheck/inputs.h"
#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "normcheck/tensor.h"

namespace normcheck::properties {

/// A uniform deviate in [0, 1) with 53 random bits.
double uniform01(std::mt19937_64& rng);
/// A standard normal deviate from two 53-bit uniforms (Box-Muller, cosine branch).
double standard_normal(std::mt19937_64& rng);

/// Owning tensors and the views an implementation or the reference reads.
struct GeneratedInputs {
  Tensor x, weight, bias, running_mean, running_var, grad_output;
  Inputs views;
  GeneratedInputs() = default;
  GeneratedInputs(const GeneratedInputs&) = delete;  // views point into the tensors
  GeneratedInputs& operator=(const GeneratedInputs&) = delete;
  GeneratedInputs(GeneratedInputs&&) = default;
  GeneratedInputs& operator=(GeneratedInputs&&) = default;
};

/// x from p.values (see Values in problem.h) in p.layout; weight ~ 1 + N(0,1)/4 and bias ~
/// N(0,1)/4 (never the identity); running_mean ~ center + N(0,1) and running_var ~ spread^2 *
/// (1/2 + U(0,1)) where tracked, num_batches_tracked in 0..4; grad_output ~ N(0,1) in p.layout
/// for backward problems. Every value is correctly rounded to p.dtype. Fails only when p is invalid.
Expected<GeneratedInputs> make_inputs(const Problem& p);

/// The same inputs with x replaced by `x_values` (logical row-major order, rounded to p.dtype):
/// what the metamorphic properties use to feed a transformed x with everything else unchanged.
Expected<GeneratedInputs> make_inputs_with_x(const Problem& p, const std::vector<double>& x_values);

/// The normalization set of logical (row-major) element i of x, in 0..g.num_sets-1.
std::int64_t set_of(const Problem& p, const Geometry& g, std::int64_t i);

/// Per set, in long double (relative error ~1e-19, below any dtype's bound): count, mean and the
/// sum of squared deviations M2 = sum (x - mean)^2 (rms_norm: mean 0, so M2 = sum x^2). What the
/// relations compute their exact-side quantities from.
struct LongStats {
  std::vector<double> count;
  std::vector<long double> mean, m2;
};
LongStats long_stats(const Problem& p, const Geometry& g, const std::vector<double>& x);

/// The largest |x| for values=large: half the dtype's max for float16 (its squares overflow
/// float16), otherwise sqrt(FLT_MAX / (4 m)) so that a float32 sum of m squares stays finite.
double large_magnitude(DType t, std::int64_t set_size);

}  // namespace normcheck::properties
