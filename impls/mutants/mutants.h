#pragma once
/// The mutants: deliberately wrong implementations, one realistic bug each, that measure whether
/// the property suite (properties/) catches real bugs. They are NOT built-in implementations
/// (registry.cc never lists them): a kill matrix asks for them here.
///
/// Each mutant is the correct base (impls/mutants/base.h, "mutants-base") with ONE hook changed,
/// and supports only the problems where its bug's code path runs (and the base works): a mutant
/// of the running statistics refuses problems without them, a float16-only bug refuses float32.
/// Size-dependent bugs (the 16-bit index wrap, the row tail) are dormant, not refused, on
/// problems too small to show them, as the real bug would be.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "impls/registry.h"
#include "normcheck/problem.h"

namespace normcheck::impls {

/// One mutant, described for the kill matrix.
struct MutantInfo {
  std::string name;       ///< "mutant-<slug>"
  std::string bug;        ///< one line: the bug in words
  std::string bug_class;  ///< statistics, precision, epsilon, running-stats, mode, axes, affine,
                          ///< indexing, bounds, edge-case, backward, nan-propagation, determinism,
                          ///< saved-stats
  std::string witness;    ///< a problem descriptor line (to_string's canonical form) on which the
                          ///< mutant differs from the reference beyond the bound; its seed= and
                          ///< values= say how the inputs are drawn (impls/mutants/witness.h)
  /// What the witness shows: "outputs" (beyond the bound or a refusal mismatch), "bits" (two
  /// calls differ bitwise, each within the bound), "neighbour" (an element outside the set is
  /// clobbered), "running-buffers" (the running buffers change where they must not).
  std::string evidence = "outputs";
};

/// Every mutant, in a fixed order (the catalogue's), each made fresh.
void add_mutant_implementations(std::vector<std::unique_ptr<Implementation>>& out);
/// The catalogue: one entry per mutant add_mutant_implementations makes, in the same order.
const std::vector<MutantInfo>& mutant_catalog();
/// The mutant with this name, or nullptr.
std::unique_ptr<Implementation> make_mutant(std::string_view name);
/// The correct base every mutant derives from ("mutants-base"): for checking the harness itself.
std::unique_ptr<Implementation> make_mutants_base();

}  // namespace normcheck::impls
