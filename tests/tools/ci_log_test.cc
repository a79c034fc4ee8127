// Output that suits CI logs (issue 14, item 5), through the binary as a CI job runs it (stdout to a
// file): progress lines at the set interval, the plugin path as the user gave it (relative stays
// relative) in the REPRO lines and every report file, and no empty mutant section in a gate's
// report. The progress text itself is unit-tested on figures worked out by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "run_normcheck.h"
#include "tools/normcheck/progress_log.h"

namespace normcheck::tool::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kExample = NC_EXAMPLE_PLUGIN;
const std::string kCrash = NC_GATE_CRASH_PLUGIN;

/// The "progress: ..." lines of out, in order.
std::vector<std::string> progress_lines(const std::string& out) {
  std::vector<std::string> lines;
  static const std::regex kLine("^progress: .*$", std::regex::multiline);
  for (std::sregex_iterator m(out.begin(), out.end(), kLine), end; m != end; ++m) lines.push_back(m->str());
  return lines;
}

// Two ops x two properties: four rows.
constexpr const char* kFourRowPolicy = R"({"policy_version": 1, "ops": ["layer_norm", "batch_norm"],
  "dtypes": ["float32"], "profiles": ["pytorch"], "properties": ["differential", "shift_invariance"]})";

TEST(ProgressText, RowsFailuresElapsedAndTheEstimate) {
  // 37 rows in 72 s: 72 / 37 s per row, 83 rows left: 161.5 s, "02:42" rounded to the second.
  EXPECT_EQ(progress_text(37, 120, 2, 72), "progress: 37/120 rows, 2 failed, 01:12 elapsed, ~02:42 left");
  EXPECT_EQ(progress_text(0, 5, 0, 0.4), "progress: 0/5 rows, 0 failed, 00:00 elapsed");  // no estimate yet
  EXPECT_EQ(progress_text(5, 5, 5, 3725), "progress: 5/5 rows, 5 failed, 1:02:05 elapsed, ~00:00 left");
  EXPECT_EQ(clock_text(59.6), "01:00");
}

TEST(CiLog, GateWithStdoutToAFilePrintsProgressLines) {
  ScratchDir dir;
  write_file(dir / "p.json", kFourRowPolicy);
  const std::vector<std::string> gate = {"gate", "--plugin", kExample, "--policy", dir / "p.json", "--tier", "smoke",
                                         "--out", dir / "report", "--progress-interval-s", "0"};
  const RunResult r = run_normcheck(gate, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = progress_lines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;  // interval 0: one line per row
  for (std::size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].rfind("progress: " + std::to_string(i + 1) + "/4 rows, 0 failed, ", 0), 0u) << lines[i];
  EXPECT_NE(r.out.find("normcheck gate: c-norms CONFORMING"), std::string::npos) << r.out;  // the verdict as before

  std::vector<std::string> quiet = gate;
  quiet.push_back("--quiet");
  EXPECT_TRUE(progress_lines(run_normcheck(quiet, dir.path()).out).empty()) << "--quiet prints no progress line";
  for (const char* bad : {"-1", "nan", "1e9"}) {
    std::vector<std::string> args = gate;
    args.back() = bad;
    const RunResult b = run_normcheck(args, dir.path());
    EXPECT_EQ(b.exit_code, 2) << bad;
    EXPECT_NE(b.err.find("--progress-interval-s: Expected a number in [0, 86400], but got '" + std::string(bad) + "'"),
              std::string::npos)
        << b.err;
  }
}

TEST(CiLog, RunWithStdoutToAFilePrintsProgressLines) {
  ScratchDir dir;
  const RunResult r = run_normcheck({"run", "--impl", "cpu", "--op", "layer_norm", "--property", "differential",
                                     "--property", "shift_invariance", "--no-mutants", "--out", "rep",
                                     "--progress-interval-s", "0"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::vector<std::string> lines = progress_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[1].rfind("progress: 2/2 rows, 0 failed, ", 0), 0u) << lines[1];
}

// A relative --plugin stays relative in every REPRO line and report file; the directory the run
// happened in (where the absolute path would start) appears in none.
TEST(CiLog, ThePluginPathIsTheOneTheUserGave) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "plugins");
  fs::copy_file(kCrash, dir.path() / "plugins" / "gate_crash.so");
  write_file(dir / "p.json", R"({"policy_version": 1, "ops": ["layer_norm", "batch_norm"], "dtypes": ["float32"],
    "profiles": ["pytorch"], "properties": ["differential"]})");
  const RunResult r = run_normcheck({"gate", "--plugin", "plugins/gate_crash.so", "--policy", "p.json", "--out",
                                     "report", "--quiet", "--timeout-s", "5", "--progress-interval-s", "0"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("REPRO: normcheck gate --plugin 'plugins/gate_crash.so' --repro '"), std::string::npos) << r.out;
  const json doc = json::parse(file_text(dir / "report/results.json"));
  EXPECT_EQ(doc["gate"]["plugin"], "plugins/gate_crash.so");
  const std::string here = fs::canonical(dir.path()).string();
  EXPECT_EQ(r.out.find(here), std::string::npos) << r.out;
  for (const char* file : {"results.json", "summary.md", "junit.xml", "index.html"})
    EXPECT_EQ(file_text(dir / ("report/" + std::string(file))).find(here), std::string::npos) << file << " names " << here;
}

TEST(CiLog, AGateReportHasNoEmptyMutantSection) {
  ScratchDir dir;
  write_file(dir / "p.json", kFourRowPolicy);
  const RunResult r = run_normcheck({"gate", "--plugin", kExample, "--policy", dir / "p.json", "--tier", "smoke",
                                     "--out", dir / "report", "--quiet"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string md = file_text(dir / "report/summary.md"), html = file_text(dir / "report/index.html"),
                    junit = file_text(dir / "report/junit.xml");
  EXPECT_EQ(md.find("Mutants"), std::string::npos) << md;
  EXPECT_EQ(html.find("id=\"mutants\""), std::string::npos);
  EXPECT_EQ(html.find("Kill matrix"), std::string::npos) << "the table of contents links no missing section";
  EXPECT_EQ(junit.find("normcheck.mutants"), std::string::npos);
  EXPECT_NE(md.find("c-norms"), std::string::npos) << "the report itself is there";
}

}  // namespace
}  // namespace normcheck::tool::testing
