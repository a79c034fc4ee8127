#pragma once
/// The outcome of one generated case of one property: never a bare bool (benchdnn's res_t).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "properties/comparator.h"
#include "properties/failure_kind.h"

namespace normcheck::properties {

/// PASSED: the property held. FAILED: it did not (detail says how). SKIPPED: the implementation
/// refused the problem as outside its capabilities. MISTRUSTED: the check could not be trusted
/// (the reference could not certify a value): never counted as a pass. FLAKY (a row's outcome,
/// never a case's): a case failed, but its minimal case passed when replayed on a fresh worker;
/// it fails the gate like FAILED.
enum class Outcome : std::uint8_t { kPassed, kFailed, kSkipped, kMistrusted, kFlaky };
std::string_view name(Outcome o);  ///< "PASSED", "FAILED", "SKIPPED", "MISTRUSTED", "FLAKY"

/// The element that decided a comparison.
struct Worst {
  std::string output;  ///< y, dx, running_var, ...
  std::int64_t index = -1;
  double input = 0;    ///< x at that index where the output is elementwise in x (else NaN)
  double expected = 0, got = 0;
  double ulp = 0;      ///< in ULP of the output's own dtype; NaN where no ULP distance means anything
  std::string no_ulp;  ///< why there is none (UlpDistance::none: "NaN against a number", ...)
  double bound_fraction = 0;
};

struct CaseResult {
  Outcome outcome = Outcome::kPassed;
  std::string detail;  ///< one line: what failed, or why skipped / mistrusted
  /// A FAILED case: what kind of failure, and the output that failed ("" where none: a refusal,
  /// a crash).
  FailureKind kind = FailureKind::kOther;
  std::string output;
  double max_ulp = 0, max_bound_fraction = 0;
  /// Compared elements whose ULP distance means nothing (UlpDistance::none: NaN against a number,
  /// a sign change across zero, ...): judged by the bound, left out of max_ulp and the histogram.
  std::int64_t no_ulp = 0;
  /// Checks this case made that could have failed: output elements compared (with the reference
  /// or with another run), or 1 for a refusal matched with the one the profile requires. A case
  /// that compared nothing is no evidence of a pass (the runner counts it apart).
  std::int64_t compared = 0;
  std::optional<Worst> worst;
  std::array<std::int64_t, kUlpBins> ulp_histogram{};

  /// PASSED after `n` checks that could have failed.
  static CaseResult checked(std::int64_t n) {
    CaseResult r;
    r.compared = n;
    return r;
  }
  static CaseResult failed(std::string why) { return with(Outcome::kFailed, std::move(why)); }
  static CaseResult failed(FailureKind k, std::string output, std::string why) {
    CaseResult r = failed(std::move(why));
    r.kind = k;
    r.output = std::move(output);
    return r;
  }
  static CaseResult skipped(std::string why) { return with(Outcome::kSkipped, std::move(why)); }
  static CaseResult mistrusted(std::string why) { return with(Outcome::kMistrusted, std::move(why)); }
  static CaseResult with(Outcome o, std::string why) {
    CaseResult r;
    r.outcome = o;
    r.detail = std::move(why);
    return r;
  }
  bool passed() const { return outcome == Outcome::kPassed; }
  /// Keeps the worse of this and o (FAILED > MISTRUSTED > PASSED); merges the error figures.
  void absorb(const CaseResult& o);
};

}  // namespace normcheck::properties
