// The false-alarm check on the cpu implementation: every property at the ci tier, the fixed
// catalogs included, with no FAILED row, and no row PASSED without a compared case: 75 s on a
// quiet machine (19 min at a load average of 9 on 2 cores). The example plugin's ci-tier check is
// in gate_vacuous_test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_normcheck.h"

namespace normcheck::tool {
namespace {

using testing::run_normcheck;
using testing::ScratchDir;

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(FalseAlarm, TheCpuImplementationRunsEveryPropertyAtTheCiTierWithNoFailedRow) {
  const ScratchDir dir;
  const testing::RunResult run =
      run_normcheck({"run", "--impl", "cpu", "--tier", "ci", "--no-mutants", "--quiet", "--out", "rep"}, dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  const nlohmann::json doc = read_json(dir.path() / "rep/results.json");
  EXPECT_EQ(doc["results"].size(), 6u * 21u);
  for (const nlohmann::json& row : doc["results"]) {
    EXPECT_NE(row["outcome"], "FAILED") << row.dump();
    EXPECT_NE(row["outcome"], "MISTRUSTED") << row.dump();
    if (row["outcome"].get<std::string>() == "PASSED") {
      EXPECT_GT(row["cases_compared"].get<int>(), 0) << row.dump();
    }
  }
}

}  // namespace
}  // namespace normcheck::tool
