// The catalogue of mutants and the family's hook (impls/mutants/mutants.h).
#include <utility>
#include <vector>

#include "impls/mutants/mutant.h"
#include "impls/mutants/mutants.h"

namespace normcheck::impls {
namespace {

const std::vector<mutants::MutantEntry>& entries() {
  static const std::vector<mutants::MutantEntry> all = [] {
    std::vector<mutants::MutantEntry> v;
    mutants::add_stats_mutants(v);
    mutants::add_running_mutants(v);
    mutants::add_axes_mutants(v);
    mutants::add_indexing_mutants(v);
    mutants::add_backward_mutants(v);
    return v;
  }();
  return all;
}

}  // namespace

void add_mutant_implementations(std::vector<std::unique_ptr<Implementation>>& out) {
  for (const mutants::MutantEntry& e : entries()) out.push_back(e.make());
}

const std::vector<MutantInfo>& mutant_catalog() {
  static const std::vector<MutantInfo> infos = [] {
    std::vector<MutantInfo> v;
    for (const mutants::MutantEntry& e : entries()) {
      // The witness as the canonical one-line descriptor (every field), as a REPRO line prints it.
      MutantInfo info = e.info;
      const Expected<Problem> p = parse_problem(info.witness);
      NC_CHECK(p.ok(), info.name + "'s witness: " + p.message());
      info.witness = to_string(*p);
      v.push_back(std::move(info));
    }
    return v;
  }();
  return infos;
}

std::unique_ptr<Implementation> make_mutant(std::string_view name) {
  for (const mutants::MutantEntry& e : entries())
    if (e.info.name == name) return e.make();
  return nullptr;
}

std::unique_ptr<Implementation> make_mutants_base() { return std::make_unique<mutants::Base>(); }

}  // namespace normcheck::impls
