#pragma once
/// Finding implementations by name for the commands: the built-in ones, the mutants, plugins.
#include <memory>
#include <string>
#include <vector>

#include "impls/registry.h"
#include "normcheck/status.h"

namespace normcheck::tool {

/// A built-in implementation or a mutant with this name, or an error listing the known names.
Expected<std::unique_ptr<impls::Implementation>> implementation_named(const std::string& name);
/// Every mutant's name, in the catalogue's order.
std::vector<std::string> mutant_names();

}  // namespace normcheck::tool
