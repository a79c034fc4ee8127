#pragma once
/// The gate's policy file (docs/gate.md): which ops, dtypes, profiles and properties a plugin must
/// pass, which rows may be SKIPPED, and the tolerance multiplier per dtype. JSON, e.g.
///
///   {"policy_version": 1,
///    "ops": ["layer_norm", "batch_norm"], "dtypes": ["float32"], "profiles": ["pytorch"],
///    "may_skip": [{"property": "layout_equivalence", "why": "contiguous tensors only"}],
///    "tolerance_multiplier": {"float32": 2}}
///
/// Every key is checked: an unknown key, a wrong type or an unknown name is a one-line error that
/// names the key and the file.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/dtype.h"
#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "properties/property.h"

namespace normcheck::tool {

inline constexpr int kPolicyVersion = 1;
/// The largest tolerance multiplier (a policy's, or --bound-multiplier): past 1e6 a bound no longer
/// checks anything an honest use needs.
inline constexpr double kMaxMultiplier = 1e6;

/// A row pattern that may be SKIPPED: an op, a property, or both (absent: any).
struct SkipRule {
  std::optional<Op> op;
  std::string property;  ///< empty: any property
  std::string why;       ///< the policy's own words, shown in the report
};

struct Policy {
  std::string source;  ///< the file it came from ("" for the default policy)
  std::string description;
  std::vector<Op> ops;            ///< required ops, in kAllOps order (default: all)
  std::vector<DType> dtypes;      ///< required dtypes (default: all)
  std::vector<Profile> profiles;  ///< required profiles (default: all)
  std::vector<const properties::Property*> properties;  ///< required properties, suite order (default: all)
  std::vector<SkipRule> may_skip;
  /// The tolerance multiplier per dtype (kAllDTypes order), applied to the reference's bound.
  std::array<double, std::size(kAllDTypes)> multiplier{1.0, 1.0, 1.0, 1.0};

  double multiplier_for(DType d) const;
  /// The rule that allows (op, property) to be SKIPPED, or nullptr.
  const SkipRule* skip_rule(Op op, std::string_view property) const;
  /// True for the policy without a file: every row of the suite, any row may be SKIPPED.
  bool is_default() const { return source.empty(); }
};

/// Everything required, everything may be skipped, multipliers 1: `gate` without --policy.
Policy default_policy();

/// Parses a policy document; source names it in errors ("Expected ..., but got ... in policy.json").
Expected<Policy> parse_policy(std::string_view text, const std::string& source);
/// Reads and parses the file at path (a missing or unreadable file is an error naming it).
Expected<Policy> read_policy(const std::string& path);

}  // namespace normcheck::tool
