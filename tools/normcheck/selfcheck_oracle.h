#pragma once
/// The self-check's oracle: a small, independent exact computation (cpp_rational only: no exact
/// accumulator, no multiprecision floats, nothing shared with reference/) that decides whether a
/// value is the correctly rounded (RNE) result y = A / sqrt(V) + B. It never evaluates the square
/// root: y is compared with a rational q exactly, by comparing squares, with signs.
#include <boost/multiprecision/cpp_int.hpp>
#include <cstdint>
#include <functional>
#include <vector>

#include "normcheck/dtype.h"
#include "normcheck/problem.h"

namespace normcheck::tool::oracle {

using Rational = boost::multiprecision::cpp_rational;

/// The exact value of a finite double.
Rational exact(double x);

/// The sign (-1, 0, 1) of A / sqrt(V) + B - q, for V > 0.
int compare_sqrt_form(const Rational& A, const Rational& V, const Rational& B, const Rational& q);

/// The sign of z - q for an exact real z the caller knows how to compare with rationals.
using Comparison = std::function<int(const Rational& q)>;

/// True when c (a value of format t, or +-inf) is the round-to-nearest-even image of z in t:
/// z lies between the midpoints to c's neighbours, and on a midpoint only when c is even;
/// +-inf when |z| reaches max_finite + ulp/2. False for NaN.
bool is_correct_rounding(double c, DType t, const Comparison& z_minus);
/// The same for z = A / sqrt(V) + B (V > 0) and for a rational z.
bool is_correctly_rounded(double c, DType t, const Rational& A, const Rational& V, const Rational& B);
bool is_correctly_rounded(double c, DType t, const Rational& z);

/// The normalization sets of p (batch statistics; for eval mode with running statistics, the sets
/// are irrelevant), each a list of indices into x in logical row-major order, in ascending order.
/// Derived from the op's definition (docs/semantics.md), independently of reference::detail::Sets.
std::vector<std::vector<std::int64_t>> normalization_sets(const Problem& p);

/// The affine index (weight/bias position) of element i of x in logical row-major order.
std::int64_t affine_index(const Problem& p, std::int64_t i);

/// Exact mean and biased variance of x over the members (rms: mean 0 and the mean of squares).
struct ExactStats {
  Rational mean, var;
};
ExactStats exact_stats(const std::vector<double>& x, const std::vector<std::int64_t>& members, bool rms);

}  // namespace normcheck::tool::oracle
