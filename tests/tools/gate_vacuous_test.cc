// No vacuous pass through the gate (issue 12, items 6 and 7): plugins that never compute anything,
// that say yes only to the capability probe, or crash in supports() on it, are NOT CONFORMING under
// the full policy and in every shard of the nightly recipe; a row that compared nothing is SKIPPED
// with the most common refusal and its count, never PASSED; and the example plugin, a correct one,
// runs every property at the ci tier with no FAILED row (the false-alarm check).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "run_normcheck.h"

namespace normcheck::tool::testing {
namespace {

using nlohmann::json;

const std::string kExample = NC_EXAMPLE_PLUGIN;
const std::string kPolicy = NC_GATE_POLICY;
const std::string kFullPolicy = NC_GATE_FULL_POLICY;
const std::string kBadDir = NC_BAD_PLUGIN_DIR;
constexpr unsigned kShards = 21;  // docs/gate.md's nightly recipe: --tier nightly --shard i/n

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

/// The CMake list gate_bad_plugins (tests/tools/CMakeLists.txt), as ','-separated paths.
std::vector<std::string> bad_plugins() {
  std::vector<std::string> out;
  std::stringstream s(NC_GATE_BAD_PLUGINS);
  for (std::string path; std::getline(s, path, ',');)
    if (!path.empty()) out.push_back(path);
  return out;
}

std::vector<std::string> gate(const ScratchDir& dir, const std::string& plugin, const std::string& policy) {
  return {"gate", "--plugin", plugin, "--policy", policy, "--out", dir / "report", "--quiet"};
}

class BadPlugin : public ::testing::TestWithParam<std::string> {};

TEST_P(BadPlugin, IsNotConformingUnderTheFullPolicy) {
  ScratchDir dir;
  const RunResult r = run_normcheck(gate(dir, GetParam(), kFullPolicy), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT CONFORMING"), std::string::npos) << r.out;
  // No row PASSED without a compared case.
  const json doc = read_json(dir / "report/results.json");
  for (const json& row : doc["results"])
    if (row["outcome"].get<std::string>() == "PASSED") {
      EXPECT_GT(row["cases_compared"].get<int>(), 0) << row.dump();
    }
}

TEST_P(BadPlugin, IsNotConformingInEveryShardOfTheNightlyRecipe) {
  for (unsigned i = 0; i < kShards; ++i) {
    ScratchDir dir;
    std::vector<std::string> args = gate(dir, GetParam(), kFullPolicy);
    for (const char* a : {"--tier", "nightly", "--shard"}) args.push_back(a);
    args.push_back(std::to_string(i) + "/" + std::to_string(kShards));
    const RunResult r = run_normcheck(args, dir.path());
    EXPECT_EQ(r.exit_code, 1) << "shard " << i << "/" << kShards << ":\n" << r.out << r.err;
  }
}

std::string plugin_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param.substr(info.param.find_last_of('/') + 1);
  s = s.substr(0, s.find('.'));
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Gate, BadPlugin, ::testing::ValuesIn(bad_plugins()), plugin_name);

TEST(GateVacuous, ARowThatComparedNothingIsSkippedWithTheMostCommonRefusal) {
  // c-norms refuses every non-contiguous layout: layout_equivalence compares nothing. Under a policy
  // that requires it the row is SKIPPED (was: PASSED, 12 cases, 0 ulp) and the gate says no.
  ScratchDir dir;
  const RunResult r = run_normcheck(gate(dir, kExample, kFullPolicy), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  int seen = 0;
  const json doc = read_json(dir / "report/results.json");
  for (const json& row : doc["results"]) {
    if (row["property"].get<std::string>() != "layout_equivalence") continue;
    ++seen;
    EXPECT_EQ(row["outcome"], "SKIPPED") << row.dump();
    EXPECT_EQ(row["cases_compared"], 0) << row.dump();
    EXPECT_GT(row["draws_refused"].get<int>(), 0) << row.dump();
    const std::string reason = row["reason"];
    EXPECT_TRUE(std::regex_search(reason, std::regex(R"(refused by the implementation: c-norms reads contiguous tensors only \(\d+ of \d+ draws\))")))
        << reason;
  }
  EXPECT_EQ(seen, 2);
  // Allowed by the example's own policy, which says why.
  ScratchDir ok;
  const RunResult allowed = run_normcheck(gate(ok, kExample, kPolicy), ok.path());
  EXPECT_EQ(allowed.exit_code, 0) << allowed.out << allowed.err;
}

TEST(GateVacuous, ARequiredCombinationWithNoComparedCaseIsNotConforming) {
  // probe-only-float16 says yes to float16 on the probe's descriptor only: rows pass on float32,
  // and no float16 case is ever compared. Was CONFORMING with 0 float16 cases run.
  ScratchDir dir;
  const std::string policy = dir / "f16.json";
  std::ofstream(policy) << R"({"policy_version": 1, "ops": ["layer_norm", "batch_norm"], "dtypes": ["float32", "float16"],
    "profiles": ["pytorch"], "may_skip": [{"property": "layout_equivalence"}]})";
  const RunResult r = run_normcheck(gate(dir, kBadDir + "/probe_only_float16.so", policy), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("policy: requires layer_norm float16 pytorch, but no case of it compared anything"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("policy: requires layer_norm float32 pytorch"), std::string::npos) << r.out;
}

TEST(GateVacuous, ACrashInSupportsOnTheProbeIsAFailure) {
  ScratchDir dir;
  const RunResult r = run_normcheck(gate(dir, kBadDir + "/probe_supports_crash.so", kPolicy), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("fails its capability probe"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in supports()"), std::string::npos) << r.out;
}

TEST(GateFalseAlarm, TheExamplePluginRunsEveryPropertyAtTheCiTierWithNoFailedRow) {
  ScratchDir dir;
  std::vector<std::string> args = gate(dir, kExample, kPolicy);
  args.insert(args.end(), {"--tier", "ci"});
  const RunResult r = run_normcheck(args, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = read_json(dir / "report/results.json");
  EXPECT_EQ(doc["results"].size(), 2u * 21u);
  for (const json& row : doc["results"]) {
    EXPECT_NE(row["outcome"], "FAILED") << row.dump();
    EXPECT_NE(row["outcome"], "MISTRUSTED") << row.dump();
  }
}

}  // namespace
}  // namespace normcheck::tool::testing
