#include "tools/normcheck/implementations.h"

#include "impls/mutants/mutants.h"

namespace normcheck::tool {

std::vector<std::string> mutant_names() {
  std::vector<std::string> names;
  for (const impls::MutantInfo& m : impls::mutant_catalog()) names.push_back(m.name);
  return names;
}

Expected<std::unique_ptr<impls::Implementation>> implementation_named(const std::string& name) {
  if (auto impl = impls::make_implementation(name)) return impl;
  if (auto mutant = impls::make_mutant(name)) return mutant;
  if (name == "mutants-base") return impls::make_mutants_base();
  std::string known;
  for (const std::string& n : impls::implementation_names()) known += (known.empty() ? "" : ", ") + n;
  return Status::error("Expected an implementation name (" + known + ", mutants-base, or a mutant-* name), but got '" + name + "'");
}

}  // namespace normcheck::tool
