// What `normcheck gate` reads and writes besides the run (issue 13, item 8): input errors come before
// the plugin's load error, a large baseline loads, and a REPRO line is one line whatever the plugin's
// path holds. No clock: a reader that is quadratic again ends at CTest's TIMEOUT (CMakeLists.txt).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "run_normcheck.h"
#include "tools/normcheck/baseline.h"

namespace normcheck::tool::testing {
namespace {

namespace fs = std::filesystem;

TEST(GateInputs, ABadReproLineIsAnInputErrorBeforeTheMissingPlugin) {
  ScratchDir dir;
  for (const char* line : {"garbage", "layer_norm shape=4x8 impl=x property=no_such_property"}) {
    const RunResult r = run_normcheck({"gate", "--plugin", dir / "missing.so", "--repro", line}, dir.path());
    EXPECT_EQ(r.exit_code, 2) << line << ": " << r.err;  // was 3: the plugin was loaded first
    EXPECT_EQ(line_count(r.err), 1) << r.err;
    EXPECT_EQ(r.err.find("cannot load plugin"), std::string::npos) << r.err;
  }
  // A good line on a missing plugin is still the load error.
  const RunResult r = run_normcheck({"gate", "--plugin", dir / "missing.so", "--repro", "layer_norm shape=4x8"}, dir.path());
  EXPECT_EQ(r.exit_code, 3) << r.err;
}

/// A baseline document of n rows of c-norms layer_norm, properties p0 .. p(n-1), max_ulp i % 7;
/// extra rows appended as given.
std::string baseline_of(int n, const std::string& extra = "") {
  std::string text = R"({"normcheck_baseline": 1, "tier": "smoke", "seed": 1, "rows": [)";
  for (int i = 0; i < n; ++i)
    text += fmt::format(R"({}{{"implementation": "c-norms", "op": "layer_norm", "property": "p{}", "max_ulp": {}}})",
                        i == 0 ? "" : ",\n", i, i % 7);
  return text + extra + "]}";
}

TEST(GateInputs, ABaselineOfThreeHundredThousandRowsLoads) {
  // Each row used to be checked for a duplicate by a scan of the rows before it: 100,000 rows took
  // 27 s, these 300,000 several minutes.
  constexpr int kRows = 300'000;
  const Expected<Baseline> b = parse_baseline(baseline_of(kRows), "big.json");
  ASSERT_TRUE(b) << b.message();
  ASSERT_EQ(b->rows.size(), static_cast<std::size_t>(kRows));
  for (const int i : {0, 1234, kRows - 1}) {
    const std::string property = fmt::format("p{}", i);
    const BaselineRow* row = b->find("c-norms", "layer_norm", property);
    ASSERT_NE(row, nullptr) << i;
    EXPECT_EQ(row->property, property);
    EXPECT_EQ(row->max_ulp, i % 7);
  }
  EXPECT_EQ(b->find("c-norms", "layer_norm", fmt::format("p{}", kRows)), nullptr);
  EXPECT_EQ(b->find("c-norms", "batch_norm", "p0"), nullptr);
  // A duplicate is still found, however far from its first.
  const Expected<Baseline> twice =
      parse_baseline(baseline_of(kRows, R"(, {"implementation": "c-norms", "op": "layer_norm", "property": "p3"})"), "big.json");
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.message(), "Expected one row per implementation x op x property at rows[300000], but got c-norms "
                             "layer_norm p3 a second time in big.json");
}

TEST(GateInputs, AReproLineStaysOneLineAndReplaysWhenThePluginPathHasANewline) {
  ScratchDir dir;
  const std::string plugin = dir / "gate\ncrash.so";
  fs::copy_file(NC_GATE_CRASH_PLUGIN, plugin);
  std::ofstream(dir / "p.json") << R"({"policy_version": 1, "ops": ["layer_norm"], "dtypes": ["float32"],
    "profiles": ["pytorch"], "properties": ["differential"]})";
  const RunResult r = run_normcheck({"gate", "--plugin", plugin, "--policy", dir / "p.json", "--out", dir / "report",
                                     "--quiet", "--timeout-s", "5"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string label = "  REPRO: ";
  const std::size_t at = r.out.find(label);
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::size_t from = at + label.size();
  const std::string line = r.out.substr(from, r.out.find('\n', from) - from);
  EXPECT_EQ(line.rfind("normcheck gate --plugin $'", 0), 0u) << line;
  EXPECT_NE(line.find("\\x0acrash.so' --repro 'layer_norm shape="), std::string::npos) << line;
  // The line, run by bash as a user pastes it (normcheck being this build's binary), replays the crash.
  std::ofstream(dir / "replay.sh") << "normcheck() { \"$NC_BIN\" \"$@\"; }\n" << line << "\n";
  const std::string cmd = "cd '" + dir.path().string() + "' && NC_BIN='" + NORMCHECK_BIN +
                          "' bash replay.sh >replay.out 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(dir / "replay.out");
  const std::string replay((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << ": " << replay;
  EXPECT_NE(replay.find("FAILED differential on layer_norm"), std::string::npos) << replay;
  EXPECT_NE(replay.find("plugin crashed: signal 11"), std::string::npos) << replay;
}

}  // namespace
}  // namespace normcheck::tool::testing
