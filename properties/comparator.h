#pragma once
/// The comparator: judges an implementation's outputs against the reference's correctly rounded
/// values and per-element bounds. Every tolerance lives here (docs/tolerances.md derives the
/// bounds; `bound_multiplier` is the policy's small documented constant on top).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "impls/registry.h"
#include "reference/reference.h"
#include "properties/failure_kind.h"

namespace normcheck::properties {

/// Error histogram bins in ULP: [0,1), [1,2), [2,4), [4,16), [16,256), [256,65536), [65536, inf].
inline constexpr double kUlpEdges[] = {0, 1, 2, 4, 16, 256, 65536};
inline constexpr int kUlpBins = 7;
int ulp_bin(double ulps);

/// The distance of got from want in ULP of dtype t (the output's own dtype), or why there is none.
/// A distance counts the values of t between the two, which measures the error only where the
/// spacing is about one: two values less than a factor of 2 apart, or two subnormals (or zero).
/// NaN against a number, a sign change across zero, zero against a normal number and values more
/// than a factor of 2 apart have none (both NaN: 0).
struct UlpDistance {
  double ulps = 0;        ///< NaN where there is no distance
  std::string_view none;  ///< "NaN against a number", "a sign change across zero", "zero against a
                          ///< normal number", "more than a factor of 2 apart"; empty: a distance
  bool defined() const { return none.empty(); }
  /// "3 ulp", or "no ULP distance: NaN against a number": how every report prints it.
  std::string text() const;
};
UlpDistance ulp_between(DType t, double got, double want);

/// How one output (y, dx, ...) compared.
struct OutputAgreement {
  std::string name;
  DType dtype = DType::kFloat32; ///< the output's own dtype: its ULPs
  std::int64_t compared = 0;     ///< elements judged (undecided ones are not)
  std::int64_t undecided = 0;    ///< elements whose bound is reference::kUndecided: any value passes
  std::int64_t failures = 0;     ///< elements beyond multiplier * bound, or NaN/inf mismatches
  double max_ulp = 0;            ///< worst distance in ULP of the output dtype (where one is defined)
  std::int64_t no_ulp = 0;       ///< compared elements without a ULP distance (UlpDistance::none)
  double max_bound_fraction = 0; ///< worst |got - want| / bound (0 where both are exact)
  std::int64_t worst_index = -1; ///< logical row-major index of the worst element
  double worst_got = 0, worst_want = 0, worst_bound = 0;
  UlpDistance worst_ulp;         ///< of the worst element
  FailureKind worst_kind = FailureKind::kAccuracy;  ///< of the worst element, where it fails
  std::string first_failure;     ///< "y[12]: got 0.5, want 0.25 (bound 1e-7, 2097152 ulp)"
  std::array<std::int64_t, kUlpBins> ulp_histogram{};  ///< elements per ULP bin
};

struct Agreement {
  std::vector<OutputAgreement> outputs;
  bool num_batches_tracked_ok = true;
  bool ok() const;
  /// One line per output for a test failure message.
  std::string summary() const;
};

/// Compares every output the implementation wrote (present in `got`) with the reference's.
/// NaN must meet NaN and inf the same inf; a finite element passes when
/// |got - want| <= bound_multiplier * bound (bit-equal always passes). An undecided element
/// (bound reference::kUndecided) passes whatever it holds and is counted apart, not compared.
Agreement compare(const Problem& p, const reference::Result& want, const impls::Outputs& got,
                  double bound_multiplier = 1.0);

}  // namespace normcheck::properties
