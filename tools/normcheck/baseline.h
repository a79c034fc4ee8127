#pragma once
/// The gate's baseline (docs/gate.md): per (implementation, op, property) the worst error a
/// previous run measured, so that an error that grew fails the gate even while it is still
/// within tolerance. JSON:
///
///   {"normcheck_baseline": 1, "tier": "smoke", "seed": 1, "created_utc": "...",
///    "rows": [{"implementation": "c-norms", "op": "layer_norm", "property": "differential",
///              "max_bound_fraction": 0.012, "max_ulp": 0.5}]}
///
/// A value is a number, null (nothing compared) or "inf" / "nan" (as in results.json).
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "normcheck/status.h"
#include "properties/runner.h"

namespace normcheck::tool {

inline constexpr int kBaselineVersion = 1;
/// An error regressed when now > kBaselineFactor x baseline + slack: 25% growth on top of an
/// absolute slack of 0.01 of the bound (max_bound_fraction) or 1 ULP (max_ulp), so a last-bit
/// change in an exact result (0 -> 1 ULP) is not a regression, but 0 -> 2 ULP is.
inline constexpr double kBaselineFactor = 1.25;
inline constexpr double kBaselineBoundSlack = 0.01;
inline constexpr double kBaselineUlpSlack = 1.0;

struct BaselineRow {
  std::string implementation, op, property;
  std::optional<double> max_bound_fraction, max_ulp;  ///< nullopt: nothing was compared
};

struct Baseline {
  std::string source, tier, created_utc;
  std::uint64_t seed = 0;
  std::vector<BaselineRow> rows;
  /// The row of (implementation, op, property), or nullptr: a lookup in the index, so reading n
  /// rows is O(n log n) (a scan per row made 100,000 rows take 27 s).
  const BaselineRow* find(const std::string& impl, const std::string& op, const std::string& property) const;
  /// Adds row; false when the baseline already has one for its implementation, op and property.
  bool add(BaselineRow row);

 private:
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t, std::less<>> index_;  ///< into rows
};

/// Parses a baseline document; source names it in errors. Unknown keys are errors.
Expected<Baseline> parse_baseline(std::string_view text, const std::string& source);
Expected<Baseline> read_baseline(const std::string& path);

/// The baseline of these rows (every row that ran a case).
std::string baseline_json(const std::vector<properties::RowResult>& rows, const std::string& tier, std::uint64_t seed);
/// Writes it atomically (a temporary file beside path, then rename).
Status write_baseline(const std::string& path, const std::string& content);

/// "max_ulp 3 > 1.25 x baseline 1 + 1" for the first figure of row that regressed, or nullopt.
std::optional<std::string> regression(const properties::RowResult& row, const BaselineRow& base);

}  // namespace normcheck::tool
