#pragma once
/// The configurations a profile treats specially (docs/semantics.md), as fixed problems that every
/// row runs before its generated cases, whatever the seed: momentum=None (the cumulative average),
/// N x spatial = 1 (batch_norm refuses to train on one value per channel), eval with running
/// statistics, backward with affine and bias, and sets of 9, 17 and 33 elements (one past a SIMD
/// width of 8, 16, 32). A random draw of 12 cases misses each of them at some seed.
#include <functional>
#include <string>
#include <vector>

#include "impls/registry.h"
#include "properties/domain.h"
#include "properties/outcome.h"
#include "properties/run_case.h"

namespace normcheck::properties {

/// A problem every row of its op runs as it is (no shrinking: it is minimal by design).
struct FixedCase {
  std::string name;  ///< "momentum_none", or the catalog line's NAME
  Problem problem;
  /// A catalog line's expect= (its defined outcome), checked on the implementation in the
  /// differential row once the property passed; empty when the line has none.
  std::function<CaseResult(impls::Implementation&, const CheckOptions&)> expectations;
};

/// The special configurations of op that lie inside domain (those outside it are left out; those
/// outside caps are kept: the row counts their refusal). The dtypes and profiles rotate over the
/// capabilities', so the cases also spread over them.
std::vector<FixedCase> special_cases(Op op, const Domain& domain, const impls::Capabilities& caps);

}  // namespace normcheck::properties
