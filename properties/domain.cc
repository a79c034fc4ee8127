#include "properties/domain.h"

#include <algorithm>

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

namespace {

template <class T>
bool has(const std::vector<T>& v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

bool flag_allows(Domain::Flag f, bool value) {
  return f == Domain::Flag::kAny || (f == Domain::Flag::kOn) == value;
}

}  // namespace

std::optional<std::string> outside_domain(const Problem& p, const Domain& d) {
  if (!has(d.ops, p.op)) return "op " + std::string(name(p.op)) + " outside the property's ops";
  if (!has(d.modes, p.mode)) return "mode " + std::string(name(p.mode)) + " outside the property's modes";
  if (!has(d.directions, p.direction)) return "direction " + std::string(name(p.direction)) + " outside the property's";
  if (!has(d.values, p.values.kind)) return "values " + to_string(p.values) + " outside the property's kinds";
  if (!has(d.layouts, p.layout)) return "layout " + std::string(name(p.layout)) + " outside the property's layouts";
  if (!flag_allows(d.affine, p.affine)) return std::string("affine=") + (p.affine ? "true" : "false") + " outside the property's";
  if (!flag_allows(d.tracking, tracks_running_stats(p)))
    return std::string("track_running_stats=") + (tracks_running_stats(p) ? "true" : "false") + " outside the property's";
  if (d.batch_statistics && uses_running_stats(p)) return "normalized with running statistics, the property needs batch statistics";
  if (d.running_statistics && !uses_running_stats(p)) return "normalized with batch statistics, the property needs running statistics";
  if (d.positive_eps && !(effective_eps(p) > 0)) return "eps = 0, the property needs eps > 0";
  // N as the op sees it (layer_norm over every dim has one sample, whatever shape[0] is).
  const Expected<Geometry> g = geometry(p);
  const std::int64_t n = g ? g->N : 0;
  if (n < d.min_batch) return "N = " + std::to_string(n) + ", the property needs N >= " + std::to_string(d.min_batch);
  return std::nullopt;
}

}  // namespace normcheck::properties
