#pragma once
/// The problems a property is about, and the tier that sizes them: what the generators draw from.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/problem.h"

namespace normcheck::properties {

/// Whether v holds x.
template <class T>
bool contains(const std::vector<T>& v, const T& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

/// smoke: the default CI run (a few minutes for the whole suite); ci: more cases; nightly: many
/// more, and larger shapes.
enum class Tier : std::uint8_t { kSmoke, kCi, kNightly };
std::string_view name(Tier t);
std::optional<Tier> parse_tier(std::string_view s);
/// Cases per (implementation, op, property) row and the element budget of one problem.
int cases_per_row(Tier t);
std::int64_t max_elements(Tier t);

/// The finite value kinds (everything but nan and inf).
inline const std::vector<ValueKind> kFiniteValues = {ValueKind::kNormal,     ValueKind::kUniform,
                                                     ValueKind::kConstant,   ValueKind::kLarge,
                                                     ValueKind::kTiny,       ValueKind::kExactPairs};

/// A property's problem space. Each field restricts the general space; the generator draws only
/// valid problems inside it (never filters).
struct Domain {
  std::vector<Op> ops{std::begin(kAllOps), std::end(kAllOps)};
  std::vector<Mode> modes{Mode::kTrain, Mode::kEval};
  std::vector<Direction> directions{Direction::kForward, Direction::kBackward};
  std::vector<ValueKind> values = kFiniteValues;
  enum class Flag : std::uint8_t { kAny, kOn, kOff };
  Flag affine = Flag::kAny;
  Flag tracking = Flag::kAny;         ///< track_running_stats (batch_norm / instance_norm)
  bool batch_statistics = false;      ///< only problems normalized with their own statistics
  bool running_statistics = false;    ///< only problems normalized with running statistics (eval + tracking)
  bool positive_eps = false;          ///< eps > 0 (eps = 0 with a constant set is 0/0)
  std::int64_t min_batch = 0;         ///< N at least this (batch independence needs 2)
  std::vector<Layout> layouts{std::begin(kAllLayouts), std::end(kAllLayouts)};
};

/// Why p lies outside d ("mode eval outside the property's modes"), or nullopt when it lies inside:
/// the test a fixed (catalog) case passes before a property checks it.
std::optional<std::string> outside_domain(const Problem& p, const Domain& d);

}  // namespace normcheck::properties
