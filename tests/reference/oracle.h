#pragma once
/// A slow, independent oracle for the reference's self-checks: every output of a normalization
/// problem computed from the definitions in docs/semantics.md with exact rationals
/// (boost::multiprecision::cpp_rational) and decided by exact comparisons. It shares no code with
/// reference/: its own exact conversion, its own neighbours and midpoints, its own set structure,
/// its own two-pass statistics (sum of (x - mean)^2, never S2 - S1^2 / m).
///
/// Rounding: a value v (rational, or A / sqrt(V) + B) is rounded to a format t by starting from a
/// nearby candidate c and comparing v exactly with the midpoints between c and its neighbours,
/// stepping to a neighbour when v lies beyond one; a tie goes to the neighbour with the even last
/// significand bit (and to inf at max_finite + half an ulp, as IEEE overflow does).
///
/// The one output that is not of that form, the weight gradient of an op whose channel spans
/// several normalization sets (sum_k A_k / sqrt(V_k) with distinct V_k), is evaluated with 2000-bit
/// binary floating point, and the oracle records how far (relatively) the value is from the
/// rounding boundaries it was compared with, so that a caller can assert that the 2000-bit error
/// could not have changed the decision.
#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "normcheck/dtype.h"
#include "normcheck/problem.h"

namespace normcheck::oracle {

using Rational = boost::multiprecision::cpp_rational;

/// The exact value of a finite double (frexp / ldexp; independent of reference::to_rational).
Rational exact(double x);
/// 2^e exactly.
Rational pow2(int e);

/// The neighbours of c (a value of t, or +-inf) on t's line of values: next_up(max) = inf,
/// next_up(-inf) = -max, next_up(+-0) = the smallest subnormal.
double next_up(DType t, double c);
double next_down(DType t, double c);
/// Whether c's last significand bit is 0 (inf counts as even, max_finite is odd).
bool is_even(DType t, double c);
/// max_finite + half its ulp: the value at and above which rounding gives +inf.
Rational overflow_boundary(DType t);

/// sign(v - b) for the value v being rounded.
using Compare = std::function<int(const Rational& b)>;
/// The value of t nearest to v (ties to even), found from a starting candidate near v.
double decide(DType t, double approx, const Compare& compare_with);

/// Correct rounding of exact values.
double round_rational(const Rational& q, DType t);
/// sign(A / sqrt(V) + B - b), exactly (V > 0), by comparing squares.
int compare_sqrt_form(const Rational& A, const Rational& V, const Rational& B, const Rational& b);
/// The value of t nearest to A / sqrt(V) + B (V > 0), decided exactly.
double round_sqrt_form(const Rational& A, const Rational& V, const Rational& B, DType t);

/// One term A / sqrt(V) of a sum.
struct SqrtTerm {
  Rational A, V;
};
/// How the rounding of a sum of terms was decided.
struct SumDecision {
  double value = 0;
  bool exact = false;  ///< at most one square-free class after merging: decided exactly
  /// For 2000-bit decisions: log2 of min |sum - boundary| / sum |A_k / sqrt(V_k)| over every
  /// boundary compared with (+inf when exact). The 2000-bit evaluation error is below
  /// 2^-1990 * sum |terms|, so a margin above -1900 proves the decision.
  double margin_log2 = 0;
};
/// The value of t nearest to sum_k A_k / sqrt(V_k). Terms whose V is a rational square become
/// rational, and terms whose V differ by a rational square factor are merged, exactly; what is
/// then one sqrt form is decided exactly, anything else at 2000 bits.
SumDecision round_sqrt_sum(std::vector<SqrtTerm> terms, DType t);

/// A problem's inputs as values of its dtype, in logical row-major order.
struct Case {
  Problem problem;
  std::vector<double> x, weight, bias, running_mean, running_var, grad_output;
  std::int64_t num_batches_tracked = 0;
};

/// Everything the problem defines; an absent optional is an output the problem does not have.
struct Outputs {
  std::vector<double> y;
  std::optional<std::vector<double>> mean, rstd;  ///< in stats dtype: float64 for float64 data, else float32
  std::optional<std::vector<double>> running_mean, running_var;
  std::int64_t num_batches_tracked = 0;
  std::optional<std::vector<double>> dx, dweight, dbias;
  /// The weight-gradient decisions that needed 2000 bits, and the smallest margin among them.
  std::int64_t inexact_sums = 0;
  double min_margin_log2 = 1e300;
};

/// The oracle's stats dtype rule (docs: mean/rstd saved in the accumulation type).
DType stats_dtype_of(DType data);
/// eps, or the dtype's machine epsilon 2^(1-p) for eps=None, as the profile's framework holds
/// it: a float32 under onnx, the compute type (float32 unless the data is float64) otherwise.
double eps_of(const Problem& p);

/// Solves the case. Preconditions: the problem is valid, every input finite, and every V > 0
/// (no constant set with eps = 0); PyTorch's one-value refusals are not modelled.
Outputs solve(const Case& c);

/// The oracle's own view of the set structure: for each element (logical order) its set and
/// its affine index; sets of the running statistics per channel (batch_norm / instance_norm).
struct Structure {
  std::int64_t num_sets = 0, affine_size = 0;
  std::vector<std::int64_t> set_of, affine_of, channel_of;
  std::vector<std::vector<std::int64_t>> members;  ///< members[k]: the elements of set k
};
Structure structure_of(const Problem& p);

}  // namespace normcheck::oracle
