// The suite's own test: every mutant (impls/mutants, one realistic bug each) is killed by the
// smoke tier, i.e. some property fails on some op. A surviving mutant fails the build: either
// the suite has a blind spot or the mutant lost its bug. The rows run as `normcheck run` runs them
// (the fixed catalogs first); NORMCHECK_KILL_SEED=S runs seed S (default 1): ci/kill_seeds.sh
// runs seeds 1 to 20 for docs/properties.md's table.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "fixtures/suite_catalog.h"
#include "impls/mutants/mutants.h"
#include "properties/property.h"
#include "properties/runner.h"

namespace normcheck::properties {
namespace {

class Kill : public ::testing::TestWithParam<std::string> {};

/// The smoke tier's configuration, as `normcheck run` has it, at NORMCHECK_KILL_SEED (default 1).
RunConfig smoke_config() {
  RunConfig config;
  const char* seed = std::getenv("NORMCHECK_KILL_SEED");
  config.seed = seed ? std::strtoull(seed, nullptr, 10) : 1;
  Expected<std::vector<FixedCase>> catalog = fixtures::suite_catalog(Tier::kSmoke);
  NC_CHECK(catalog.ok(), catalog.message());
  config.catalog = std::move(*catalog);
  return config;
}

TEST_P(Kill, TheSmokeSuiteKillsTheMutant) {
  const std::string& name = GetParam();
  static const RunConfig kConfig = smoke_config();
  for (const Property& property : all_properties()) {
    for (const Op op : kAllOps) {
      auto mutant = impls::make_mutant(name);
      ASSERT_NE(mutant, nullptr);
      const RowResult r = run_row(*mutant, op, property, kConfig);
      if (r.outcome == Outcome::kFailed || r.outcome == Outcome::kFlaky) {  // FLAKY: caught too
        std::printf("%s killed by %s on %s: %s\n  REPRO: %s\n", name.c_str(), r.property.c_str(),
                    std::string(normcheck::name(op)).c_str(), r.reason.c_str(),
                    r.failure ? r.failure->repro.c_str() : "");
        return;
      }
    }
  }
  FAIL() << name << " survived every property of the smoke tier at seed " << kConfig.seed;
}

std::vector<std::string> mutant_names() {
  std::vector<std::string> names;
  for (const impls::MutantInfo& m : impls::mutant_catalog()) names.push_back(m.name);
  return names;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Mutants, Kill, ::testing::ValuesIn(mutant_names()), test_name);

}  // namespace
}  // namespace normcheck::properties
