// Intermittent failures through `normcheck gate` (issue 13, item 4; docs/gate.md, "Shrinking"):
// c-norms plugins that fail now and then for reasons unrelated to the case at hand (bad/
// leaks_per_call, crash_after_return, times_out_sometimes), gated on one op with a short timeout
// and a small shrink budget. Each run ends (the CTest TIMEOUT catches one that does not), NOT
// CONFORMING; every row that failed is FLAKY (its minimal case passed when replayed on a fresh
// worker) or FAILED (it failed again), never PASSED with a failure; the shrink budget bounds each
// row's shrinking; and no report carries RapidCheck's own text or a path of this build.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_normcheck.h"

namespace normcheck::tool::testing {
namespace {

using nlohmann::json;

constexpr int kShrinkBudgetCases = 10;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Gated {
  std::string plugin;  ///< the plugin's copy in the scratch directory
  RunResult run;
  json results;
};

/// `normcheck gate` on a copy of bad/<stem>.so (outside the build and source trees, so that any
/// path of theirs in a report is one normcheck put there) on layer_norm.
Gated gate(const ScratchDir& dir, const std::string& stem, const std::vector<std::string>& extra) {
  Gated g;
  g.plugin = dir / (stem + ".so");
  std::filesystem::copy_file(std::string(NC_BAD_PLUGIN_DIR) + "/" + stem + ".so", g.plugin);
  std::ofstream(dir / "policy.json")
      << R"({"policy_version": 1, "ops": ["layer_norm"], "dtypes": ["float32"], "profiles": ["pytorch"]})";
  std::vector<std::string> args = {"gate", "--plugin", g.plugin, "--policy", dir / "policy.json",
                                   "--out", dir / "report", "--quiet", "--shrink-budget-cases",
                                   std::to_string(kShrinkBudgetCases), "--shrink-budget-s", "5"};
  args.insert(args.end(), extra.begin(), extra.end());
  g.run = run_normcheck(args, dir.path());
  const std::string text = read_file(dir / "report/results.json");
  if (!text.empty()) g.results = json::parse(text);
  return g;
}

/// The rows of the outcome.
std::vector<json> rows_with(const Gated& g, const std::string& outcome) {
  std::vector<json> out;
  for (const json& r : g.results["results"])
    if (r["outcome"] == outcome) out.push_back(r);
  return out;
}

/// What every intermittent plugin's gate must show.
void expect_ended_not_conforming_flaky_or_failed(const ScratchDir& dir, const Gated& g, const std::string& name) {
  EXPECT_EQ(g.run.exit_code, 1) << g.run.out << g.run.err;
  EXPECT_NE(g.run.out.find("normcheck gate: " + name + " NOT CONFORMING"), std::string::npos) << g.run.out;
  ASSERT_TRUE(g.results.contains("results")) << g.run.out << g.run.err;
  EXPECT_FALSE(rows_with(g, "FLAKY").empty()) << g.run.out;
  EXPECT_EQ(g.results["summary"]["flaky"], rows_with(g, "FLAKY").size());
  for (const json& r : g.results["results"]) {
    const std::string outcome = r["outcome"], where = name + " " + r["op"].get<std::string>() + " " +
                                                       r["property"].get<std::string>();
    SCOPED_TRACE(where + ": " + outcome + ": " + r["reason"].get<std::string>());
    EXPECT_TRUE(outcome == "PASSED" || outcome == "SKIPPED" || outcome == "FAILED" || outcome == "FLAKY");
    if (outcome != "FAILED" && outcome != "FLAKY") continue;
    ASSERT_TRUE(r["failure"].is_object());
    EXPECT_LE(r["failure"]["shrink_steps"].get<int>(), kShrinkBudgetCases);  // accepted <= tried <= budget
    ASSERT_TRUE(r["failure"].contains("shrink_cases"));
    EXPECT_LE(r["failure"]["shrink_cases"].get<int>(), kShrinkBudgetCases);
    EXPECT_NE(g.run.out.find("  " + outcome + " " + where + ": "), std::string::npos) << g.run.out;
    if (outcome == "FLAKY") {
      EXPECT_NE(r["reason"].get<std::string>().find(" when replayed alone on a fresh worker"), std::string::npos);
    }
  }
  // RapidCheck's words and file:line (with the absolute path it was built from) are never ours.
  for (const char* file : {"results.json", "summary.md", "junit.xml"}) {
    const std::string text = read_file(dir / ("report/" + std::string(file)));
    SCOPED_TRACE(file);
    ASSERT_FALSE(text.empty());
    for (const std::string& banned : {std::string("RC_"), std::string("no exceptions thrown"),
                                      std::string(NC_SOURCE_DIR), std::string(NC_BINARY_DIR)})
      EXPECT_EQ(text.find(banned), std::string::npos) << "'" << banned << "' in " << file;
  }
}

/// The rows whose shrinking the row's budget stopped, as their reason says.
int stopped_by_the_row_budget(const Gated& g) {
  int n = 0;
  const std::string note = "; shrinking stopped after " + std::to_string(kShrinkBudgetCases) + " cases / ";
  for (const json& r : g.results["results"])
    n += r["reason"].get<std::string>().find(note) != std::string::npos;
  return n;
}

TEST(GateFlaky, APluginLeaking256MiBPerCallEndsFlakyWithinTheShrinkBudget) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's shadow memory rules out RLIMIT_AS (the worker sets none): the leak "
                  "would never hit a limit, only the machine's memory";
#endif
  ScratchDir dir;
  // The default 4 GiB limit: about the 15th call in one worker runs out of address space, a fresh
  // worker's 1st never; rows whose fixed cases pass shrink until the budget stops them (before
  // the budget this gate had not ended after 300 s).
  const Gated g = gate(dir, "leaks_per_call", {"--timeout-s", "5"});
  expect_ended_not_conforming_flaky_or_failed(dir, g, "bad-leaks-per-call");
  EXPECT_GT(stopped_by_the_row_budget(g), 0) << g.run.out;
}

TEST(GateFlaky, APluginCrashingAfterForwardReturnedEndsFlakyOrFailed) {
  ScratchDir dir;
  const Gated g = gate(dir, "crash_after_return", {"--timeout-s", "5"});
  expect_ended_not_conforming_flaky_or_failed(dir, g, "bad-crash-after-return");
}

TEST(GateFlaky, APluginHangingOnEveryThirdCallEndsAndItsReprosReplayAsReported) {
  ScratchDir dir;
  const Gated g = gate(dir, "times_out_sometimes", {"--timeout-s", "0.5"});
  expect_ended_not_conforming_flaky_or_failed(dir, g, "bad-times-out-sometimes");
  // Its failures are deterministic on a fresh worker (a case hangs there iff it calls forward 3
  // times): a FAILED row's REPRO fails again, a FLAKY row's passes, as the row says.
  auto replay = [&](const json& row) {
    const std::string line = row["failure"]["problem"].get<std::string>() + " property=" + row["property"].get<std::string>();
    return run_normcheck({"gate", "--plugin", g.plugin, "--timeout-s", "0.5", "--repro", line}, dir.path());
  };
  for (const json& row : rows_with(g, "FAILED")) {
    const RunResult r = replay(row);
    EXPECT_EQ(r.exit_code, 1) << row["property"] << "\n" << r.out << r.err;
    EXPECT_EQ(r.out.rfind("FAILED ", 0), 0u) << r.out;
  }
  const std::vector<json> flaky = rows_with(g, "FLAKY");
  ASSERT_FALSE(flaky.empty());
  const RunResult r = replay(flaky.front());
  EXPECT_EQ(r.exit_code, 0) << flaky.front()["property"] << "\n" << r.out << r.err;
  EXPECT_EQ(r.out.rfind("PASSED ", 0), 0u) << r.out;
}

}  // namespace
}  // namespace normcheck::tool::testing
