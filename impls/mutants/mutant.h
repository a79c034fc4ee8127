#pragma once
/// What the mutant files share: the Mutant class (the base with a name, a bug and a narrower
/// scope), the catalogue entry that pairs a MutantInfo with its factory, and each file's hook.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "impls/mutants/base.h"
#include "impls/mutants/mutants.h"

namespace normcheck::impls::mutants {

/// The base with one hook changed. The constructor of a concrete mutant narrows caps_ to the
/// problems where its bug's code path runs; refuses_more() adds what Capabilities cannot say.
class Mutant : public Base {
 public:
  explicit Mutant(const MutantInfo& info) : name_(info.name), bug_(info.bug) {}
  std::string_view name() const override { return name_; }
  std::string_view description() const override { return bug_; }
  std::optional<std::string> supports(const Problem& p) const final {
    if (auto why = Base::supports(p)) return why;
    return refuses_more(p);
  }

 protected:
  virtual std::optional<std::string> refuses_more(const Problem&) const { return std::nullopt; }

  // Reasons shared by several mutants (nullopt when p has what the bug needs).
  /// The bug is in the batch statistics: refuses eval with running statistics.
  static std::optional<std::string> needs_batch_stats(const Problem& p) {
    if (uses_running_stats(p))
      return "the bug is in the batch statistics: eval with running statistics not supported";
    return std::nullopt;
  }
  /// The bug is in the running buffers: refuses track_running_stats=0.
  static std::optional<std::string> needs_tracking(const Problem& p) {
    if (!tracks_running_stats(p))
      return "the bug is in the running statistics: track_running_stats=0 not supported";
    return std::nullopt;
  }
  /// The bug is in dweight: refuses affine=0.
  static std::optional<std::string> needs_affine(const Problem& p) {
    if (!p.affine) return "the bug is in the affine parameters: affine=0 not supported";
    return std::nullopt;
  }

 private:
  std::string name_, bug_;
};

/// A catalogue entry: what the mutant is, and how to make one.
struct MutantEntry {
  MutantInfo info;
  std::function<std::unique_ptr<Implementation>()> make;
};

template <class M>
MutantEntry entry(MutantInfo info) {
  return {info, [info] { return std::make_unique<M>(info); }};
}

// Each file appends its mutants, in a fixed order (catalog.cc calls them in this order).
void add_stats_mutants(std::vector<MutantEntry>& out);     // mutants_stats.cc
void add_running_mutants(std::vector<MutantEntry>& out);   // mutants_running.cc
void add_axes_mutants(std::vector<MutantEntry>& out);      // mutants_axes.cc
void add_indexing_mutants(std::vector<MutantEntry>& out);  // mutants_indexing.cc
void add_backward_mutants(std::vector<MutantEntry>& out);  // mutants_backward.cc

}  // namespace normcheck::impls::mutants
