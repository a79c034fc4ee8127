#include "properties/domain.h"

namespace normcheck::properties {

std::string_view name(Tier t) {
  switch (t) {
    case Tier::kSmoke: return "smoke";
    case Tier::kCi: return "ci";
    case Tier::kNightly: return "nightly";
  }
  return "smoke";
}

std::optional<Tier> parse_tier(std::string_view s) {
  for (const Tier t : {Tier::kSmoke, Tier::kCi, Tier::kNightly})
    if (s == name(t)) return t;
  return std::nullopt;
}

// Sized so that the smoke tier of every property on every built-in implementation and mutant
// stays within a few minutes on 2 cores (docs/performance.md has the measured figures).
int cases_per_row(Tier t) { return t == Tier::kSmoke ? 12 : t == Tier::kCi ? 50 : 300; }
std::int64_t max_elements(Tier t) { return t == Tier::kSmoke ? 6000 : t == Tier::kCi ? 40000 : 400000; }

}  // namespace normcheck::properties
