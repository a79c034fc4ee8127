#pragma once
/// RapidCheck generators of problems: valid by construction (gen::exec over independent choices,
/// then a deterministic repair), so RapidCheck shrinks each choice toward the simple end: rank and
/// sizes toward 1, dtype toward float32, values toward normal:0:1, flags toward the defaults,
/// seed toward 0.
#include <ostream>

#include <rapidcheck.h>

#include "impls/registry.h"
#include "normcheck/problem.h"
#include "properties/domain.h"

namespace normcheck {
/// RapidCheck prints a generated problem as its one-line descriptor.
void showValue(const Problem& p, std::ostream& os);
}  // namespace normcheck

namespace normcheck::properties {

/// Sizes the generators favour: 1, 2, 3, primes, SIMD widths +-1, warp and block sizes +-1.
const std::vector<std::int64_t>& interesting_sizes();

/// The divisors of c, ascending (num_groups candidates: 1 and c included).
std::vector<std::int64_t> divisors(std::int64_t c);

/// Problems of `op` inside `domain` and the implementation's capabilities, sized for `tier`.
/// Precondition: domain_for(...) below found the intersection non-empty.
rc::Gen<Problem> gen_problem(Op op, const Domain& domain, const impls::Capabilities& caps, Tier tier);

/// Why no problem of `op` in `domain` is within caps ("no dtype in common: ..."), or nullopt.
std::optional<std::string> empty_intersection(Op op, const Domain& domain, const impls::Capabilities& caps);

}  // namespace normcheck::properties
