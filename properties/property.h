#pragma once
/// A property: a sentence about every problem in its domain, checked one generated case at a time
/// against any implementation. The runner (runner.h) draws the cases with RapidCheck and shrinks a
/// failure to a minimal problem.
#include <string_view>
#include <vector>

#include "impls/registry.h"
#include "properties/domain.h"
#include "properties/outcome.h"
#include "properties/run_case.h"

namespace normcheck::properties {

using CheckFn = CaseResult (*)(impls::Implementation& impl, const Problem& p, const CheckOptions& o);

struct Property {
  std::string_view name;      ///< snake_case, stable: reports and baselines key on it
  std::string_view sentence;  ///< what holds, in words
  Domain domain;
  CheckFn check;
};

/// Every property, in a fixed order (differential first).
const std::vector<Property>& all_properties();
/// The property with this name, or nullptr.
const Property* find_property(std::string_view name);

// The families, one file each (props_*.cc); all_properties() lists them.
std::vector<Property> differential_properties();  ///< differential, determinism, non-finite handling
std::vector<Property> invariant_properties();     ///< zero mean / unit variance, shift, scale, constant sets
std::vector<Property> state_properties();         ///< running statistics, eval and train
std::vector<Property> structure_properties();     ///< batch independence, layouts, cross-op identities
std::vector<Property> gradient_properties();      ///< dx sums, constant cotangent
std::vector<Property> consistency_properties();   ///< batch-split merge, eval after a momentum-1 step

}  // namespace normcheck::properties
