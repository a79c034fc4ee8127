// normcheck run (the default subcommand) as a user runs it: a narrowed run writes the four report
// files and exits 0 when the implementation conforms, 1 with a REPRO line when it does not, 2 on
// bad options; normcheck repro replays the printed line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_normcheck.h"

namespace normcheck::tool {
namespace {

using ::testing::HasSubstr;
using testing::run_normcheck;
using testing::ScratchDir;

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

TEST(Run, ConformingImplementationWritesTheReportAndExitsZero) {
  const ScratchDir dir;
  const testing::RunResult run = run_normcheck(
      {"run", "--impl", "cpu", "--op", "layer_norm", "--property", "differential", "--property", "determinism",
       "--out", "rep"},
      dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("normcheck: CONFORMING"));
  for (const char* f : {"results.json", "summary.md", "junit.xml", "index.html"})
    EXPECT_TRUE(std::filesystem::exists(dir.path() / "rep" / f)) << f;
  const nlohmann::json doc = read_json(dir.path() / "rep/results.json");
  ASSERT_EQ(doc["results"].size(), 2u);
  EXPECT_EQ(doc["results"][0]["outcome"], "PASSED");
  EXPECT_GT(doc["results"][0]["cases"].get<int>(), 0);
}

TEST(Run, AFailureExitsOneWithAReproLineThatReplays) {
  const ScratchDir dir;
  const testing::RunResult run = run_normcheck(
      {"run", "--impl", "seed-groupnorm", "--op", "group_norm", "--property", "differential", "--out", "rep"},
      dir.path());
  ASSERT_EQ(run.exit_code, 1) << run.out << run.err;
  // One failed row is one cause, listed first with its REPRO line, then the row naming its output.
  EXPECT_THAT(run.out, HasSubstr("normcheck: NOT CONFORMING: 1 cause in 1 failed row ("));
  EXPECT_THAT(run.out, HasSubstr("\n  CAUSE 1 of 1: group_norm "));
  EXPECT_THAT(run.out, HasSubstr("\n  FAILED seed-groupnorm group_norm differential: ["));
  const std::size_t at = run.out.find("REPRO: normcheck repro '");
  ASSERT_NE(at, std::string::npos) << run.out;
  const std::size_t open = run.out.find('\'', at), close = run.out.find('\'', open + 1);
  const std::string line = run.out.substr(open + 1, close - open - 1);
  const testing::RunResult repro = run_normcheck({"repro", line}, dir.path());
  EXPECT_EQ(repro.exit_code, 1) << repro.out << repro.err;
  EXPECT_THAT(repro.out, HasSubstr("FAILED differential"));
}

TEST(Run, BadOptionsAreUsageErrors) {
  const ScratchDir dir;
  EXPECT_EQ(run_normcheck({"run", "--tier", "weekly"}, dir.path()).exit_code, 2);
  EXPECT_EQ(run_normcheck({"run", "--shard", "3/2"}, dir.path()).exit_code, 2);
  EXPECT_EQ(run_normcheck({"run", "--impl", "nope"}, dir.path()).exit_code, 2);
  EXPECT_EQ(run_normcheck({"run", "--property", "nope"}, dir.path()).exit_code, 2);
  const testing::RunResult bad = run_normcheck({"repro", "layer_norm shape=4 impl=cpu property=nope"}, dir.path());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("Expected a property name, but got 'nope'"));
}

TEST(Run, ShardsPartitionTheRows) {
  const ScratchDir dir;
  const std::vector<std::string> base{"run", "--impl", "cpu", "--op", "rms_norm", "--no-mutants"};
  auto with = [&](const char* shard, const char* out) {
    std::vector<std::string> a = base;
    a.insert(a.end(), {"--shard", shard, "--out", out});
    return run_normcheck(a, dir.path());
  };
  ASSERT_EQ(with("0/2", "a").exit_code, 0);
  ASSERT_EQ(with("1/2", "b").exit_code, 0);
  ASSERT_EQ(with("0/1", "all").exit_code, 0);
  const std::size_t a = read_json(dir.path() / "a/results.json")["results"].size();
  const std::size_t b = read_json(dir.path() / "b/results.json")["results"].size();
  EXPECT_EQ(a + b, read_json(dir.path() / "all/results.json")["results"].size());
  EXPECT_GT(a, 0u);
  EXPECT_GT(b, 0u);
}

}  // namespace
}  // namespace normcheck::tool
