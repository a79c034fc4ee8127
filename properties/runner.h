#pragma once
/// The runner: one row = one property x one implementation x one op. RapidCheck draws the row's
/// cases from the property's domain (within the implementation's capabilities); a failure shrinks,
/// within the shrink budget, to a minimal problem, which is replayed once more on a fresh worker
/// (FAILED if it fails again, FLAKY if not) and printed as a repro line.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "impls/registry.h"
#include "properties/property.h"
#include "properties/shrink_budget.h"
#include "properties/special_cases.h"

namespace normcheck::properties {

struct RunConfig {
  Tier tier = Tier::kSmoke;
  std::uint64_t seed = 1;  ///< the run's base seed; each row's RapidCheck seed derives from it
  int cases = 0;           ///< cases per row; 0: the tier's (RC_PARAMS=max_success=N overrides both)
  CheckOptions check;
  /// The fixed catalogs (fixtures::suite_catalog: edge cases and the tier's shapes, every op): each
  /// row runs those of its op inside the property's domain before the generated cases.
  std::vector<FixedCase> catalog;
  ShrinkBudget shrink;                 ///< per row
  ShrinkAccount* run_shrink = nullptr;  ///< the run's total, shared by its rows; null: none
};

/// Per dtype x profile seen among a row's cases.
struct Breakdown {
  DType dtype = DType::kFloat32;
  Profile profile = Profile::kPyTorch;
  int cases = 0, failed = 0;
  int failed_convention = 0;  ///< of the failed, those of a convention's kind (is_convention)
  int compared = 0;  ///< cases that compared something (CaseResult::compared > 0)
  double max_ulp = 0, max_bound_fraction = 0;
};

/// The minimal failing case of a row.
struct Failure {
  Problem problem;
  std::string detail;
  std::optional<Worst> worst;
  int shrink_steps = 0;   ///< accepted shrinks
  int shrink_cases = 0;   ///< shrink candidates tried (the budget's count)
  std::string repro;  ///< normcheck repro '<descriptor> impl=NAME property=NAME'
  std::string fixed_case;  ///< the fixed case's name when it was one (not shrunk), else empty
  FailureKind kind = FailureKind::kOther;  ///< how the minimal case failed (CaseResult::kind)
  std::string output;                      ///< the output that failed it ("" where none)
};

/// What groups failing rows into one cause: the minimal case's op, the output that failed, the
/// kind of failure, its dtype and layout (the report's "causes").
struct Signature {
  Op op = Op::kBatchNorm;
  std::string output;
  FailureKind kind = FailureKind::kOther;
  DType dtype = DType::kFloat32;
  Layout layout = Layout::kContiguous;
  auto operator<=>(const Signature&) const = default;
};
Signature signature(const Failure& f);
/// "layer_norm mean: accuracy (float32, contiguous)"; without an output, "batch_norm: crash (...)".
std::string to_string(const Signature& s);

struct RowResult {
  std::string implementation, property, sentence;
  Op op = Op::kBatchNorm;
  Outcome outcome = Outcome::kPassed;
  std::string reason;
  /// cases: the cases checked (fixed and generated); cases_compared: those that compared
  /// something (a row PASSES only with one); cases_skipped: the draws set aside, of which
  /// draws_refused were refused by supports() (the others had nothing to relate);
  /// fixed_cases: the fixed cases among `cases`.
  int cases = 0, cases_skipped = 0, cases_mistrusted = 0, cases_compared = 0, draws_refused = 0, fixed_cases = 0;
  double seconds = 0, max_ulp = 0, max_bound_fraction = 0;
  std::int64_t no_ulp = 0;  ///< compared elements without a ULP distance (CaseResult::no_ulp)
  std::array<std::int64_t, kUlpBins> ulp_histogram{};
  std::vector<Breakdown> breakdown;
  std::optional<Failure> failure;
  /// The first note of a passing case (a refusal whose message lacks the profile's key phrase):
  /// a PASSED row carries it as its reason.
  std::string note;
};

/// Runs one row. Never throws for a misbehaving implementation: its errors are outcomes.
RowResult run_row(impls::Implementation& impl, Op op, const Property& property, const RunConfig& config);

/// The one-line repro of a case and its parse: the descriptor plus impl= and property= fields.
std::string repro_line(const Problem& p, std::string_view impl, std::string_view property);
struct ReproCase {
  Problem problem;
  std::string implementation, property;
};
Expected<ReproCase> parse_repro(std::string_view line);

/// Checks exactly one problem (what `normcheck repro` does).
CaseResult check_one(impls::Implementation& impl, const Property& property, const Problem& p, const CheckOptions& o);

}  // namespace normcheck::properties
