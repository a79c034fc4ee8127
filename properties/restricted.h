#pragma once
/// An implementation seen through narrower capabilities: what `normcheck run --dtype/--profile`
/// and the suite's known-findings split use. Problems outside the narrowing are SKIPPED with the
/// reason; inside, everything goes to the wrapped implementation.
#include <functional>
#include <memory>
#include <string>
#include <optional>
#include <vector>

#include "impls/registry.h"

namespace normcheck::properties {

struct Narrowing {
  std::vector<Op> ops;        ///< empty: no narrowing of that field
  std::vector<DType> dtypes;
  std::vector<Profile> profiles;
  /// A reason to refuse a problem (a known finding kept out of a conformance run), or nullopt.
  std::function<std::optional<std::string>(const Problem&)> exclude;
};

std::unique_ptr<impls::Implementation> narrowed(std::unique_ptr<impls::Implementation> impl, const Narrowing& n);

}  // namespace normcheck::properties
