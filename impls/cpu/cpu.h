#pragma once
/// normcheck's own optimized CPU kernels ("cpu"): every op, forward and backward, in double
/// accumulation with one rounding to the output dtype (docs/tolerances.md's strict tier).
#include <memory>
#include <vector>

namespace normcheck::impls {

class Implementation;

/// Appends the "cpu" implementation.
void add_cpu_implementations(std::vector<std::unique_ptr<Implementation>>& out);

}  // namespace normcheck::impls
