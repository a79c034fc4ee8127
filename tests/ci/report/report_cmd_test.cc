// `normcheck report` and `normcheck merge`, run as a user runs them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ci/report/report.h"
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
  EXPECT_EQ(run.out, "report: wrote run: NOT CONFORMING (2 failed, 1 mistrusted, 5 passed, 1 skipped)\n");
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
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "merge: 2 shards into merged: NOT CONFORMING (2 failed, 1 mistrusted, 5 passed, 1 skipped)\n");
  const nlohmann::json merged = nlohmann::json::parse(testing::read_text(dir / "merged/results.json"));
  EXPECT_EQ(merged["results"], rows);
  EXPECT_EQ(merged["shard"]["count"], 2);
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
