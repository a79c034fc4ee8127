// Every catalogued mutant carries a live bug: on its witness problem (inputs drawn by
// make_witness_inputs from the witness's seed and values) it disagrees with the reference beyond the bound,
// or shows the evidence its entry names, while the correct base agrees on the same inputs.
// And the catalogue itself: unique names, one entry per mutant, witnesses that parse.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "tests/impls/mutants/harness.h"

namespace normcheck::testing {
namespace {

const std::set<std::string> kBugClasses = {"statistics",  "precision",  "epsilon",  "running-stats",
                                           "mode",        "axes",       "affine",   "indexing",
                                           "bounds",      "edge-case",  "backward", "nan-propagation",
                                           "determinism", "saved-stats"};

TEST(MutantCatalog, NamesAreUniqueAndEveryMutantIsCatalogued) {
  const std::vector<impls::MutantInfo>& catalog = impls::mutant_catalog();
  std::vector<std::unique_ptr<impls::Implementation>> made;
  impls::add_mutant_implementations(made);
  ASSERT_EQ(made.size(), catalog.size());
  EXPECT_GE(catalog.size(), 24u);
  std::set<std::string> names;
  for (std::size_t i = 0; i < catalog.size(); ++i) {
    const impls::MutantInfo& info = catalog[i];
    EXPECT_TRUE(names.insert(info.name).second) << "duplicate " << info.name;
    EXPECT_EQ(info.name.rfind("mutant-", 0), 0u) << info.name;
    EXPECT_EQ(made[i]->name(), info.name);
    EXPECT_EQ(made[i]->description(), info.bug);
    EXPECT_FALSE(info.bug.empty()) << info.name;
    EXPECT_TRUE(kBugClasses.count(info.bug_class)) << info.name << ": " << info.bug_class;
    EXPECT_TRUE(info.evidence == "outputs" || info.evidence == "bits" || info.evidence == "neighbour" ||
                info.evidence == "running-buffers")
        << info.name;
    const Expected<Problem> w = parse_problem(info.witness);
    ASSERT_TRUE(w.ok()) << info.name << ": " << w.message();
    EXPECT_EQ(to_string(*w), info.witness) << info.name << ": the witness is not in canonical form";
    auto again = impls::make_mutant(info.name);
    ASSERT_NE(again, nullptr) << info.name;
    EXPECT_EQ(again->name(), info.name);
  }
  EXPECT_EQ(impls::make_mutant("mutant-no-such-bug"), nullptr);
  // Not built-ins: the registry never hands out a mutant.
  for (const std::string& n : impls::implementation_names())
    EXPECT_EQ(n.rfind("mutant", 0), std::string::npos) << n;
}

TEST(MutantCatalog, TheReadmeListsEveryMutant) {
  std::ifstream f(std::string(NORMCHECK_SOURCE_DIR) + "/impls/mutants/README.md");
  ASSERT_TRUE(f) << "impls/mutants/README.md";
  const std::string readme((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  for (const impls::MutantInfo& info : impls::mutant_catalog())
    EXPECT_NE(readme.find("| `" + info.name + "` | " + info.bug_class + " | " + info.bug + " |"),
              std::string::npos)
        << info.name << " is missing from (or differs in) the README's table";
}

/// The witness problem, parsed (a failure names the mutant).
Problem witness_problem(const impls::MutantInfo& info) {
  Expected<Problem> p = parse_problem(info.witness);
  EXPECT_TRUE(p.ok()) << info.name << ": " << p.message();
  return p.ok() ? *p : Problem{};
}

class MutantWitness : public ::testing::TestWithParam<impls::MutantInfo> {};

TEST_P(MutantWitness, ShowsItsBugWhereTheBaseIsCorrect) {
  const impls::MutantInfo& info = GetParam();
  const Problem p = witness_problem(info);
  ASSERT_TRUE(validate(p).ok()) << info.witness;
  auto mutant = impls::make_mutant(info.name);
  ASSERT_NE(mutant, nullptr);
  const std::optional<std::string> refused = mutant->supports(p);
  ASSERT_FALSE(refused.has_value()) << info.name << " does not support its own witness: " << *refused;
  const Expected<impls::WitnessInputs> made = impls::make_witness_inputs(p);
  ASSERT_TRUE(made.ok()) << info.name << ": " << made.message();
  const impls::WitnessInputs& in = *made;
  const Expected<reference::Result> want = reference::evaluate(p, in.inputs);
  const std::string repro = info.name + " on '" + info.witness + "'";

  // The base on the same inputs: the witness is fair (the disagreement is the bug's).
  auto base = impls::make_mutants_base();
  RunResult b = run_impl(*base, p, in.inputs);
  if (want.ok()) {
    ASSERT_TRUE(b.status.ok()) << repro << ": base: " << b.status.message();
    const properties::Agreement ab = properties::compare(p, *want, b.out.views, 1.0);
    ASSERT_TRUE(ab.ok()) << repro << ": the base itself disagrees\n" << ab.summary();
  } else {
    ASSERT_FALSE(b.status.ok()) << repro << ": the reference refuses (" << want.message()
                                << "), the base does not";
  }

  RunResult got = run_impl(*mutant, p, in.inputs);
  if (!want.ok()) {
    // The reference (the profile) refuses the problem; the mutant must not silently answer it.
    ASSERT_TRUE(got.status.ok()) << repro << ": refused like the reference: " << got.status.message();
    return;
  }
  ASSERT_TRUE(got.status.ok()) << repro << ": " << got.status.message();
  // Every bug stays inside the caller's buffers (the write-past-end mutant included).
  EXPECT_TRUE(got.out.check_guards().ok()) << repro << ": " << got.out.check_guards().message();
  const properties::Agreement a = properties::compare(p, *want, got.out.views, 1.0);
  for (const properties::OutputAgreement& o : a.outputs) {
    if (o.failures > 0)
      std::printf("%s: %s %lld of %lld beyond the bound (worst %.3g x bound)\n", info.name.c_str(),
                  o.name.c_str(), static_cast<long long>(o.failures), static_cast<long long>(o.compared),
                  o.max_bound_fraction);
  }

  if (info.evidence == "bits") {
    // Each call within the bound, two calls different bits.
    EXPECT_TRUE(a.ok()) << repro << "\n" << a.summary();
    RunResult again = run_impl(*mutant, p, in.inputs);
    ASSERT_TRUE(again.status.ok());
    EXPECT_TRUE(properties::compare(p, *want, again.out.views, 1.0).ok()) << repro;
    EXPECT_NE(all_bits(got.out.views), all_bits(again.out.views))
        << repro << ": two calls gave the same bits";
    return;
  }
  EXPECT_FALSE(a.ok()) << repro << ": agrees with the reference\n" << a.summary();
  if (info.evidence == "neighbour") {
    // The first element of the second set (row) is wrong, though its own row computed it right.
    const std::int64_t row = p.normalized_shape.empty() ? 1 : numel_of(p.normalized_shape);
    const double g = got.out.views.y.get_linear(row), w = want->y.view().get_linear(row);
    EXPECT_GT(std::fabs(g - w), want->y_bound.view().get_linear(row))
        << repro << ": y[" << row << "] " << g << " vs " << w;
  }
  if (info.evidence == "running-buffers") {
    ASSERT_TRUE(got.out.views.running_mean && got.out.views.running_var);
    bool changed = false;
    for (std::int64_t c = 0; c < p.shape[1]; ++c) {
      changed |= got.out.views.running_mean->get_linear(c) != in.inputs.running_mean->get_linear(c);
      changed |= got.out.views.running_var->get_linear(c) != in.inputs.running_var->get_linear(c);
    }
    EXPECT_TRUE(changed) << repro << ": the running buffers did not change";
  }
}

/// The witness is not a lucky draw: with other seeds (other data from the same values=) the
/// mutant still disagrees (or, for determinism, still changes its bits between calls).
TEST_P(MutantWitness, HoldsForOtherSeeds) {
  const impls::MutantInfo& info = GetParam();
  for (std::uint64_t seed : {101u, 202u, 303u}) {
    Problem p = witness_problem(info);
    p.seed = seed;
    const impls::WitnessInputs in = *impls::make_witness_inputs(p);
    const Expected<reference::Result> want = reference::evaluate(p, in.inputs);
    auto mutant = impls::make_mutant(info.name);
    RunResult got = run_impl(*mutant, p, in.inputs);
    const std::string repro = info.name + " on '" + to_string(p) + "'";
    if (!want.ok()) {
      EXPECT_TRUE(got.status.ok()) << repro;
      continue;
    }
    ASSERT_TRUE(got.status.ok()) << repro << ": " << got.status.message();
    if (info.evidence == "bits") {
      RunResult again = run_impl(*mutant, p, in.inputs);
      EXPECT_NE(all_bits(got.out.views), all_bits(again.out.views)) << repro;
      continue;
    }
    EXPECT_FALSE(properties::compare(p, *want, got.out.views, 1.0).ok())
        << repro << ": agrees with the reference";
  }
}

INSTANTIATE_TEST_SUITE_P(Catalog, MutantWitness, ::testing::ValuesIn(impls::mutant_catalog()),
                         [](const ::testing::TestParamInfo<impls::MutantInfo>& i) {
                           std::string n = i.param.name.substr(7);
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

/// Small problems across every dimension a mutant may narrow: op x dtype x layout x mode x
/// direction x profile x flags (momentum=none included).
std::vector<Problem> scope_grid() {
  std::vector<Problem> ps;
  auto shapes = [](Op op) -> std::vector<std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>>> {
    switch (op) {
      case Op::kBatchNorm:
        return {{{3, 5}, {}}, {{2, 10, 3, 2}, {}}, {{1, 3}, {}}};
      case Op::kInstanceNorm:
        return {{{2, 10, 5}, {}}, {{2, 3, 1}, {}}};
      case Op::kGroupNorm:
        return {{{2, 10, 3}, {}}, {{2, 4}, {}}};
      case Op::kLayerNorm:
      case Op::kRmsNorm:
        return {{{3, 11}, {11}}, {{2, 3, 4}, {3, 4}}, {{0, 4}, {4}}};
      case Op::kLayerNorm2d:
        return {{{2, 10, 2, 3}, {}}, {{1, 3, 4}, {}}};
    }
    return {};
  };
  for (Op op : kAllOps) {
    for (const auto& [shape, nshape] : shapes(op)) {
      for (Profile prof : kAllProfiles) {
        // Only the running statistics differ between profiles (eps defaults aside).
        if (prof != Profile::kPyTorch && op != Op::kBatchNorm && op != Op::kInstanceNorm) continue;
        for (DType t : kAllDTypes) {
          for (Layout layout : kAllLayouts) {
            if (layout == Layout::kChannelsLast &&
                (shape.size() < 3 || op == Op::kLayerNorm || op == Op::kRmsNorm))
              continue;
            for (Mode mode : {Mode::kTrain, Mode::kEval}) {
              for (Direction dir : {Direction::kForward, Direction::kBackward}) {
                for (int variant = 0; variant < 3;
                     ++variant) {  // defaults, no affine / no tracking, eps+momentum none
                  Problem p = default_problem(op, shape, prof);
                  if (!nshape.empty()) p.normalized_shape = nshape;
                  if (op == Op::kGroupNorm) p.num_groups = 2;
                  p.dtype = t;
                  p.layout = layout;
                  p.mode = mode;
                  p.direction = dir;
                  if (op == Op::kInstanceNorm) p.track_running_stats = variant != 1;
                  if (variant == 1) {
                    p.affine = false;
                    p.bias = false;
                    if (op == Op::kBatchNorm) p.track_running_stats = false;
                  }
                  if (variant == 2) {  // PyTorch's None: eps (rms_norm), momentum (batch_norm)
                    if (prof != Profile::kPyTorch) continue;
                    if (op == Op::kRmsNorm) p.eps = std::nullopt;
                    p.momentum = std::nullopt;
                  }
                  p.seed = ps.size() + 1;
                  if (validate(p).ok()) ps.push_back(p);
                }
              }
            }
          }
        }
      }
    }
  }
  return ps;
}

/// Wherever a mutant claims support it runs: no abort, no write outside the buffers, and an
/// error only where the reference (the profile) refuses too.
TEST(MutantScope, EverySupportedProblemRuns) {
  const std::vector<Problem> grid = scope_grid();
  auto base = impls::make_mutants_base();
  for (const impls::MutantInfo& info : impls::mutant_catalog()) {
    auto mutant = impls::make_mutant(info.name);
    int supported = 0;
    for (const Problem& p : grid) {
      ASSERT_FALSE(base->supports(p).has_value()) << to_string(p);
      if (mutant->supports(p)) continue;
      ++supported;
      const impls::WitnessInputs in = *impls::make_witness_inputs(p);
      RunResult got = run_impl(*mutant, p, in.inputs);
      EXPECT_TRUE(got.out.check_guards().ok()) << info.name << " on " << to_string(p);
      if (!got.status.ok()) {
        EXPECT_FALSE(reference::evaluate(p, in.inputs).ok())
            << info.name << " refuses what the reference answers: " << to_string(p) << ": "
            << got.status.message();
      }
    }
    EXPECT_GT(supported, 0) << info.name << " supports nothing in the grid";
  }
  std::printf("scope grid: %zu problems x %zu mutants\n", grid.size(), impls::mutant_catalog().size());
}

/// The batch-size-1 mutant's damage: where PyTorch refuses, it answers, with NaN in running_var.
TEST(MutantWitness, SingleValueNoGuardPutsNanIntoRunningVar) {
  auto mutant = impls::make_mutant("mutant-single-value-no-guard");
  ASSERT_NE(mutant, nullptr);
  const Problem p = *parse_problem("batch_norm shape=1x3 seed=25");
  const impls::WitnessInputs in = *impls::make_witness_inputs(p);
  RunResult got = run_impl(*mutant, p, in.inputs);
  ASSERT_TRUE(got.status.ok()) << got.status.message();
  for (std::int64_t c = 0; c < 3; ++c) EXPECT_TRUE(std::isnan(got.out.views.running_var->get_linear(c)));
}

}  // namespace
}  // namespace normcheck::testing
