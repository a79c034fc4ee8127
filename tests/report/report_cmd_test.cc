// `normcheck report` and `normcheck merge`, run as a user runs them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "report/report.h"
#include "run_normcheck.h"
#include "sample.h"

namespace normcheck::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using tool::testing::line_count;
using tool::testing::run_normcheck;
using tool::testing::RunResult;
using tool::testing::ScratchDir;

void write_json(const std::string& path, const nlohmann::json& doc) { std::ofstream(path) << doc.dump(2); }

TEST(ReportCommand, RendersIntoTheResultsFilesDirectoryByDefault) {
  const ScratchDir dir;
  fs::create_directories(dir / "run");
  fs::copy_file(testing::sample_path(), dir / "run/results.json");
  const RunResult run = run_normcheck({"report", "run/results.json"}, dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "report: wrote run: NOT CONFORMING: 2 causes in 2 failed rows (2 failed, 1 mistrusted, 5 passed, 1 skipped)\n");
  for (const char* f : kReportFiles) EXPECT_TRUE(fs::exists(dir.path() / "run" / f)) << f;
  EXPECT_THAT(testing::read_text(dir / "run/summary.md"), StartsWith("### normcheck: NOT CONFORMING"));
}

TEST(ReportCommand, WritesIntoOut) {
  const ScratchDir dir;
  const RunResult run = run_normcheck({"report", testing::sample_path(), "--out", "elsewhere"}, dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(fs::exists(dir.path() / "elsewhere/index.html"));
}

TEST(ReportCommand, BadInputIsExitCodeTwoAndOneLine) {
  const ScratchDir dir;
  nlohmann::json doc = testing::sample();
  doc["schema_version"] = 2;
  write_json(dir / "results.json", doc);
  RunResult run = run_normcheck({"report", "results.json"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "normcheck: error: Expected schema_version 1, but got 2 in results.json\n");
  run = run_normcheck({"report", "missing.json"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(line_count(run.err), 1);
  EXPECT_THAT(run.err, HasSubstr("missing.json"));
  run = run_normcheck({"report"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(line_count(run.err), 1);
}

TEST(MergeCommand, MergesShardsIntoOut) {
  const ScratchDir dir;
  nlohmann::json a = testing::sample(), b = testing::sample();
  const nlohmann::json rows = a["results"];
  a["results"] = nlohmann::json(std::vector<nlohmann::json>(rows.begin(), rows.begin() + 5));
  b["results"] = nlohmann::json(std::vector<nlohmann::json>(rows.begin() + 5, rows.end()));
  for (nlohmann::json* d : {&a, &b}) (*d)["summary"] = *compute_summary(*d);
  write_json(dir / "a.json", a);
  write_json(dir / "b.json", b);
  const RunResult run = run_normcheck({"merge", "a.json", "b.json", "--out", "merged"}, dir.path());
  EXPECT_EQ(run.exit_code, 1) << run.err;  // the verdict, as the run that made the shards would exit
  EXPECT_EQ(run.out, "merge: 2 shards into merged: NOT CONFORMING: 2 causes in 2 failed rows (2 failed, 1 mistrusted, 5 passed, "
            "1 skipped)\n");
  const nlohmann::json merged = nlohmann::json::parse(testing::read_text(dir / "merged/results.json"));
  EXPECT_EQ(merged["results"], rows);
  EXPECT_EQ(merged["shard"]["count"], 2);
}

/// Two shards of the sample's conforming part: cpu's and seed-groupnorm's rows without a FAILED or
/// MISTRUSTED one (the mutant's FAILED row does not count: mutants are not under test).
std::vector<nlohmann::json> conforming_shards(const std::string& policy) {
  nlohmann::json a = testing::sample(), b = testing::sample();
  const nlohmann::json rows = a["results"];
  a["results"] = nlohmann::json::array({rows[0], rows[1]});
  b["results"] = nlohmann::json::array({rows[4], rows[7], rows[8], rows[9]});
  for (nlohmann::json* d : {&a, &b}) {
    (*d)["implementations"].erase(1);  // the plugin whose rows are left out
    (*d)["policy"] = policy.empty() ? nlohmann::json(nullptr) : nlohmann::json(policy);
    (*d)["profile_fingerprint"] = nlohmann::json::array();
    (*d)["summary"] = *compute_summary(*d);
  }
  return {a, b};
}

TEST(MergeCommand, ExitsWithTheVerdict) {
  const ScratchDir dir;
  std::vector<nlohmann::json> shards = conforming_shards("");
  ASSERT_TRUE(shards[0]["summary"]["conforming"].get<bool>());
  write_json(dir / "a.json", shards[0]);
  write_json(dir / "b.json", shards[1]);
  const RunResult run = run_normcheck({"merge", "a.json", "b.json", "--out", "merged"}, dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(": CONFORMING"));
}

TEST(MergeCommand, UnderAPolicyExitsWithTheGatesVerdict) {
  // Gate shards under a policy: every row passed, but shard b's gate found a policy violation
  // (its summary says NOT CONFORMING): the merged run is NOT CONFORMING, and merge exits 1.
  const ScratchDir dir;
  std::vector<nlohmann::json> shards = conforming_shards("policy.json");
  write_json(dir / "a.json", shards[0]);
  write_json(dir / "b.json", shards[1]);
  RunResult run = run_normcheck({"merge", "a.json", "b.json", "--out", "merged"}, dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(": CONFORMING"));
  shards[1]["summary"]["conforming"] = false;
  write_json(dir / "b.json", shards[1]);
  run = run_normcheck({"merge", "a.json", "b.json", "--out", "merged"}, dir.path());
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_THAT(run.out, HasSubstr(": NOT CONFORMING"));
}

TEST(MergeCommand, ARowInTwoShardsIsExitCodeTwo) {
  const ScratchDir dir;
  write_json(dir / "a.json", testing::sample());
  const RunResult run = run_normcheck({"merge", "a.json", "a.json", "--out", "merged"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "normcheck: error: Expected each row in one shard only, but got cpu layer_norm differential "
                     "in a.json and a.json\n");
  EXPECT_FALSE(fs::exists(dir.path() / "merged"));
}

TEST(MergeCommand, NeedsOut) {
  const ScratchDir dir;
  const RunResult run = run_normcheck({"merge", testing::sample_path()}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("--out"));
}

}  // namespace
}  // namespace normcheck::report
