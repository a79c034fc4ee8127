// merge_results: shards of one run into one document.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/report.h"
#include "sample.h"

namespace normcheck::report {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

/// The sample split in two by row: the first n rows, and the rest; each shard a valid document.
std::pair<json, json> split(std::size_t n) {
  json a = testing::sample(), b = testing::sample();
  json rows = a["results"];
  a["results"] = json(std::vector<json>(rows.begin(), rows.begin() + n));
  b["results"] = json(std::vector<json>(rows.begin() + n, rows.end()));
  a["shard"] = {{"index", 0}, {"count", 2}};
  b["shard"] = {{"index", 1}, {"count", 2}};
  a["wall_seconds"] = 40.5;
  b["wall_seconds"] = 52.25;
  b["created_utc"] = "2026-12-01T12:05:00Z";
  a["kill_matrix"]["mutants"] = json::array({a["kill_matrix"]["mutants"][0]});
  b["kill_matrix"]["mutants"][0]["killed_by"] = {"scale_invariance"};
  for (json* d : {&a, &b}) (*d)["summary"] = *compute_summary(*d);
  return {a, b};
}

TEST(Merge, TwoShardsMakeTheWholeRun) {
  auto [a, b] = split(4);
  Expected<json> merged = merge_results({a, b}, {"a.json", "b.json"});
  ASSERT_TRUE(merged) << merged.message();
  EXPECT_EQ((*merged)["results"], testing::sample()["results"]);
  EXPECT_EQ((*merged)["summary"], testing::sample()["summary"]);
  EXPECT_EQ((*merged)["implementations"], testing::sample()["implementations"]);
  EXPECT_EQ((*merged)["shard"], json({{"index", 0}, {"count", 2}}));
  EXPECT_EQ((*merged)["wall_seconds"], 52.25);  // the largest: shards run side by side
  EXPECT_EQ((*merged)["created_utc"], "2026-12-01T12:05:00Z");
  EXPECT_TRUE(validate_results(*merged).ok());
}

TEST(Merge, GroupsTheCausesOfEveryShard) {
  auto [a, b] = split(4);
  // The same failure in both shards (another property): one cause of two rows once merged.
  json row = a["results"][2];
  ASSERT_EQ(row["outcome"], "FAILED");
  row["property"] = "scale_invariance";
  b["results"].push_back(row);
  for (json* d : {&a, &b}) (*d)["summary"] = *compute_summary(*d), (*d)["causes"] = *compute_causes(*d);
  Expected<json> merged = merge_results({a, b});
  ASSERT_TRUE(merged) << merged.message();
  const json& causes = (*merged)["causes"];
  ASSERT_EQ(causes.size(), 2u) << causes.dump();
  EXPECT_EQ(causes[0]["rows"].size(), 2u);
  EXPECT_TRUE(validate_results(*merged).ok());
}

// Under a policy a shard cannot apply the gate's coverage rule (its rows need not meet every
// required combination); the merged run applies it over every shard's rows.
TEST(Merge, AppliesTheGatesCoverageRuleOverEveryShard) {
  auto [a, b] = split(4);  // batch_norm bfloat16 pytorch (row 2) lies in shard a only
  for (json* d : {&a, &b}) {
    (*d)["policy"] = "policy.json";
    (*d)["gate"] = {{"plugin", "libx.so"},
                    {"baseline", nullptr},
                    {"violations", json::array()},
                    {"regressions", json::array()},
                    {"required", {{"layer_norm", "float32", "pytorch"}, {"batch_norm", "bfloat16", "pytorch"}}}};
    (*d)["summary"] = *compute_summary(*d);
    (*d)["summary"]["conforming"] = true;  // each shard's own verdict, which cannot see coverage
  }
  a["results"][0]["breakdown"][0]["compared"] = 40;
  a["results"][2]["breakdown"][0]["compared"] = 0;  // its 17 cases compared nothing
  Expected<json> uncovered = merge_results({a, b});
  ASSERT_TRUE(uncovered) << uncovered.message();
  EXPECT_FALSE((*uncovered)["summary"]["conforming"]);
  ASSERT_EQ((*uncovered)["gate"]["violations"].size(), 1u) << (*uncovered)["gate"].dump();
  EXPECT_THAT((*uncovered)["gate"]["violations"][0].get<std::string>(),
              HasSubstr("requires batch_norm bfloat16 pytorch, but no case of it compared anything"));

  a["results"][2]["breakdown"][0]["compared"] = 17;
  Expected<json> covered = merge_results({a, b});
  ASSERT_TRUE(covered) << covered.message();
  EXPECT_TRUE((*covered)["summary"]["conforming"]) << (*covered)["gate"].dump();
  EXPECT_TRUE((*covered)["gate"]["violations"].empty());
}

TEST(Merge, AddsUpTheFailedRowsApartFromConventions) {
  auto [a, b] = split(4);
  b["profile_fingerprint"][0]["accuracy_failed_rows"] = 2;
  Expected<json> merged = merge_results({a, b});
  ASSERT_TRUE(merged) << merged.message();
  EXPECT_EQ((*merged)["profile_fingerprint"][0]["accuracy_failed_rows"], 3);
  EXPECT_EQ((*merged)["profile_fingerprint"][0]["other_failed_rows"], 0);
}

TEST(Merge, UnitesTheKillMatrices) {
  auto [a, b] = split(4);
  Expected<json> merged = merge_results({a, b});
  ASSERT_TRUE(merged) << merged.message();
  const json& mutants = (*merged)["kill_matrix"]["mutants"];
  ASSERT_EQ(mutants.size(), 3u);
  EXPECT_EQ(mutants[0]["name"], "mutant-eps-outside-sqrt");
  EXPECT_EQ(mutants[0]["killed_by"], json({"differential", "zero_mean_unit_variance", "scale_invariance"}));
  EXPECT_EQ(mutants[2]["killed"], false);
}

TEST(Merge, TakesTheWorseFingerprintOutcome) {
  auto [a, b] = split(4);
  b["profile_fingerprint"][0]["profiles"]["pytorch"] = "FAILED";
  b["profile_fingerprint"][0]["profiles"]["tensorflow"] = "PASSED";
  Expected<json> merged = merge_results({a, b});
  ASSERT_TRUE(merged) << merged.message();
  EXPECT_EQ((*merged)["profile_fingerprint"][0]["profiles"]["pytorch"], "FAILED");
  EXPECT_EQ((*merged)["profile_fingerprint"][0]["profiles"]["tensorflow"], "PASSED");
}

TEST(Merge, RejectsMixedTiersAndSchemaVersions) {
  auto [a, b] = split(4);
  b["tier"] = "nightly";
  b["summary"] = *compute_summary(b);
  EXPECT_EQ(merge_results({a, b}, {"a.json", "b.json"}).message(),
            "Expected tier \"smoke\" (as in a.json) in every shard, but got \"nightly\" in b.json");
  b["tier"] = "smoke";
  b["schema_version"] = 2;
  EXPECT_EQ(merge_results({a, b}, {"a.json", "b.json"}).message(),
            "Expected schema_version 1, but got 2 in b.json");
}

TEST(Merge, RejectsARowInTwoShards) {
  auto [a, b] = split(4);
  Expected<json> merged = merge_results({a, a}, {"a.json", "again.json"});
  EXPECT_EQ(merged.message(),
            "Expected each row in one shard only, but got cpu layer_norm differential in a.json and again.json");
}

TEST(Merge, RejectsAnImplementationOfTwoKinds) {
  auto [a, b] = split(4);
  b["implementations"][0]["kind"] = "plugin";
  EXPECT_THAT(merge_results({a, b}, {"a.json", "b.json"}).message(),
              HasSubstr("Expected implementation \"cpu\" to be of kind \"builtin\" (as in a.json) in every shard, "
                        "but got \"plugin\" in b.json"));
}

TEST(Merge, RejectsNothingToMerge) {
  EXPECT_EQ(merge_results({}).message(), "Expected at least one results document to merge, but got none");
}

}  // namespace
}  // namespace normcheck::report
