// normcheck gate, run as a CI job runs it (a child process; exit code, stdout, stderr, the report):
// the example C plugin conforms under a policy that requires what it supports; load errors exit 3
// with one line; malformed policies and baselines exit 2 naming the key and the file; a baseline
// regression exits 1; a crashing plugin gives FAILED rows with their minimal input and the gate
// finishes. Smoke tier, few ops and properties: the whole file runs in well under 30 s.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_normcheck.h"
#include "tools/normcheck/baseline.h"
#include "tools/normcheck/policy.h"

namespace normcheck::tool::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kExample = NC_EXAMPLE_PLUGIN;
const std::string kBadDir = NC_BAD_PLUGIN_DIR;
const std::string kCrash = NC_GATE_CRASH_PLUGIN;
const std::string kForwardOnly = NC_GATE_FORWARD_ONLY_PLUGIN;
const std::string kPolicy = NC_GATE_POLICY;

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
json read_json(const std::string& path) { return json::parse(read(path)); }

/// A gate on the example plugin, few rows: layer_norm and batch_norm, two properties.
std::vector<std::string> small_gate(const ScratchDir& dir, const std::string& policy) {
  return {"gate", "--plugin", kExample, "--policy", policy, "--tier", "smoke", "--out", dir / "report", "--quiet"};
}

constexpr const char* kSmallPolicy = R"({"policy_version": 1, "ops": ["layer_norm", "batch_norm"],
  "dtypes": ["float32"], "profiles": ["pytorch"], "properties": ["differential", "shift_invariance"]})";

TEST(Gate, ExamplePluginConformsUnderItsPolicy) {
  ScratchDir dir;
  const RunResult r = run_normcheck({"gate", "--plugin", kExample, "--policy", kPolicy, "--out", dir / "report", "--quiet"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(line_count(r.out), 1) << r.out;  // the verdict, nothing to repro
  EXPECT_NE(r.out.find("normcheck gate: c-norms CONFORMING under policy " + kPolicy), std::string::npos) << r.out;
  const json doc = read_json(dir / "report/results.json");
  EXPECT_EQ(doc["policy"], kPolicy);
  EXPECT_TRUE(doc["summary"]["conforming"].get<bool>());
  EXPECT_EQ(doc["implementations"][0]["kind"], "plugin");
  EXPECT_GT(doc["summary"]["passed"].get<int>(), 10);
  for (const json& row : doc["results"]) {
    EXPECT_NE(row["outcome"], "FAILED") << row.dump();
    EXPECT_NE(row["outcome"], "MISTRUSTED") << row.dump();
  }
  for (const char* f : {"summary.md", "junit.xml", "index.html"}) EXPECT_TRUE(fs::exists(dir / ("report/" + std::string(f))));
}

// Splitting a job by op (docs/gate.md): layer_norm's cross_op_identities relates it to batch_norm,
// which a `--op layer_norm` run does not gate; that side comes from the reference, so the split
// conforms where the whole run does (it was SKIPPED, not allowed, before: "op batch_norm not supported").
TEST(Gate, OneOpOfThePolicyConformsAndItsRelationsStillCompare) {
  ScratchDir dir;
  const RunResult r = run_normcheck({"gate", "--plugin", kExample, "--policy", kPolicy, "--op", "layer_norm", "--out",
                                     dir / "report", "--quiet"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = read_json(dir / "report/results.json");
  bool seen = false;
  for (const json& row : doc["results"]) {
    EXPECT_EQ(row["op"], "layer_norm") << row.dump();
    if (row["property"] != "cross_op_identities") continue;
    seen = true;
    EXPECT_EQ(row["outcome"], "PASSED") << row.dump();
    EXPECT_GT(row["cases_compared"].get<int>(), 0) << row.dump();
  }
  EXPECT_TRUE(seen) << "no cross_op_identities row";
}

TEST(Gate, RequiredButRefusedIsNotConforming) {
  // The policy asks for float64 too; c-norms computes float32 only: a policy violation naming it.
  ScratchDir dir;
  write(dir / "p.json", R"({"policy_version": 1, "ops": ["layer_norm"], "dtypes": ["float32", "float64"],
    "profiles": ["pytorch"], "properties": ["differential"]})");
  const RunResult r = run_normcheck(small_gate(dir, dir / "p.json"), dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("policy: requires layer_norm float64 pytorch, but c-norms refuses it: c-norms computes float32 only"),
            std::string::npos)
      << r.out;
  EXPECT_FALSE(read_json(dir / "report/results.json")["summary"]["conforming"].get<bool>());
}

TEST(Gate, SkippedOnlyWhereThePolicyAllows) {
  // c-norms without backward: its dx_sums rows are SKIPPED, a violation unless may_skip lists them.
  // The rows whose property never applies to the op (running statistics of layer_norm) need no rule.
  ScratchDir dir;
  write(dir / "strict.json", R"({"policy_version": 1, "ops": ["layer_norm"], "dtypes": ["float32"],
    "profiles": ["pytorch"], "properties": ["differential", "dx_sums", "running_stats_trajectory"]})");
  RunResult r = run_normcheck({"gate", "--plugin", kForwardOnly, "--policy", dir / "strict.json", "--out", dir / "report",
                               "--quiet"},
                              dir.path());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("SKIPPED (not allowed by the policy) c-norms-forward layer_norm dx_sums"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("running_stats_trajectory"), std::string::npos) << r.out;
  write(dir / "lenient.json", R"({"policy_version": 1, "ops": ["layer_norm"], "dtypes": ["float32"],
    "profiles": ["pytorch"], "properties": ["differential", "dx_sums", "running_stats_trajectory"],
    "may_skip": [{"property": "dx_sums", "why": "forward only"}]})");
  r = run_normcheck({"gate", "--plugin", kForwardOnly, "--policy", dir / "lenient.json", "--out", dir / "report",
                     "--quiet"},
                    dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = read_json(dir / "report/results.json");
  bool seen = false;
  for (const json& row : doc["results"])
    if (row["property"] == "dx_sums") {
      seen = true;
      EXPECT_EQ(row["outcome"], "SKIPPED");
      EXPECT_NE(row["reason"].get<std::string>().find("(allowed by the policy: forward only)"), std::string::npos)
          << row["reason"];
    }
  EXPECT_TRUE(seen);
}

TEST(Gate, LoadErrorsExit3WithOneLine) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir / "no-such-plugin.so", "cannot load plugin: "},
      {kBadDir + "/no_entry.so", "normcheck_plugin_entry"},
      {kBadDir + "/wrong_abi.so", "Expected plugin ABI version 1, but got"},
      {kBadDir + "/null_table.so", "cannot load plugin: "},
      {kBadDir + "/null_forward.so", "cannot load plugin: "},
  };
  for (const auto& [plugin, expected] : cases) {
    const RunResult r = run_normcheck({"gate", "--plugin", plugin, "--out", dir / "report"}, dir.path());
    EXPECT_EQ(r.exit_code, 3) << plugin << ": " << r.err;
    EXPECT_EQ(line_count(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("normcheck: error: cannot load plugin: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(fs::exists(dir / "report/results.json"));
  }
}

TEST(Gate, MalformedPolicyExits2NamingKeyAndFile) {
  ScratchDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"policy_version": 1, "opz": ["layer_norm"]})", "Unknown key 'opz' at the top level in "},
      {R"({"policy_version": 1, "ops": "layer_norm"})", "Expected an array of op names at ops, but got a string in "},
      {R"({"policy_version": 1, "ops": ["layer_norn"]})", "Expected an op name at ops[0], but got \"layer_norn\" in "},
      {R"({"policy_version": 1, "tolerance_multiplier": {"float32": -1}})", "tolerance_multiplier.float32"},
      {R"({"policy_version": 1, "tolerance_multiplier": {"float33": 2}})", "Unknown key 'float33' at tolerance_multiplier"},
      {R"({"policy_version": 1, "may_skip": [{"property": "differential", "because": "x"}]})", "Unknown key 'because' at may_skip[0]"},
      {R"({"policy_version": 2})", "Expected policy_version 1, but got 2 in "},
      {R"({"ops": ["layer_norm"]})", "no policy_version"},
      {R"({"policy_version": 1, "ops": [)", "Expected a JSON policy document, but got a parse error at line 1"},
      {"", "Expected a JSON policy document"},
      {R"({"policy_version": 1e999})", "Expected a JSON policy document, but got a number overflow"},
  };
  for (const auto& [text, expected] : cases) {
    write(dir / "policy.json", text);
    const RunResult r = run_normcheck({"gate", "--plugin", kExample, "--policy", dir / "policy.json"}, dir.path());
    EXPECT_EQ(r.exit_code, 2) << text << ": " << r.err;
    EXPECT_EQ(line_count(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << text << ": " << r.err;
    EXPECT_NE(r.err.find(dir / "policy.json"), std::string::npos) << r.err;
  }
  const RunResult missing = run_normcheck({"gate", "--plugin", kExample, "--policy", dir / "absent.json"}, dir.path());
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("absent.json"), std::string::npos) << missing.err;
}

TEST(Gate, UsageErrorsExit2) {
  ScratchDir dir;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"gate"},                                                   // --plugin is required
           {"gate", "--plugin", kExample, "--tier", "weekly"},
           {"gate", "--plugin", kExample, "--shard", "2/2"},
           {"gate", "--plugin", kExample, "--op", "softmax"},
           {"gate", "--plugin", kExample, "--policy", kPolicy, "--op", "rms_norm"},  // not among the policy's
           {"gate", "--plugin", kExample, "--baseline", dir / "absent.json"},
       }) {
    const RunResult r = run_normcheck(args, dir.path());
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_EQ(line_count(r.err), 1) << r.err;
  }
}

TEST(Gate, BaselineRegressionExits1) {
  ScratchDir dir;
  write(dir / "p.json", kSmallPolicy);
  std::vector<std::string> args = small_gate(dir, dir / "p.json");
  args.insert(args.end(), {"--write-baseline", dir / "baseline.json"});
  RunResult r = run_normcheck(args, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json base = read_json(dir / "baseline.json");
  ASSERT_EQ(base["normcheck_baseline"], 1);
  ASSERT_FALSE(base["rows"].empty());
  // The same run against its own baseline conforms (the cases are the same: fixed seeds).
  args = small_gate(dir, dir / "p.json");
  args.insert(args.end(), {"--baseline", dir / "baseline.json"});
  r = run_normcheck(args, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;

  // A stricter fake baseline: every error was 0. c-norms is correctly rounded on the differential
  // rows (0 ULP: no growth), but its shift_invariance relations carry a few percent of the bound,
  // more than the absolute slack (0.01): those rows regressed, though still within tolerance.
  for (json& row : base["rows"]) row["max_ulp"] = 0.0, row["max_bound_fraction"] = 0.0;
  write(dir / "strict.json", base.dump());
  args = small_gate(dir, dir / "p.json");
  args.insert(args.end(), {"--baseline", dir / "strict.json"});
  r = run_normcheck(args, dir.path());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("NOT CONFORMING"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REGRESSION c-norms"), std::string::npos) << r.out;
  const json doc = read_json(dir / "report/results.json");
  EXPECT_FALSE(doc["summary"]["conforming"].get<bool>());
  EXPECT_EQ(doc["summary"]["failed"], 0);  // within tolerance: still PASSED rows
  bool reason = false;
  for (const json& row : doc["results"])
    reason = reason || row["reason"].get<std::string>().rfind("regression: ", 0) == 0;
  EXPECT_TRUE(reason) << doc["results"].dump();
  EXPECT_FALSE(doc["gate"]["regressions"].empty());
}

TEST(Gate, MalformedBaselineExits2) {
  ScratchDir dir;
  for (const char* text : {R"({"normcheck_baseline": 1, "rows": [{"implementation": "c-norms", "op": "layer_norm",
                              "property": "differential", "max_ulp": "big"}]})",
                           R"({"normcheck_baseline": 1, "rows": [], "extra": 1})", R"({"rows": []})", "[1, 2"}) {
    write(dir / "b.json", text);
    const RunResult r = run_normcheck({"gate", "--plugin", kExample, "--baseline", dir / "b.json"}, dir.path());
    EXPECT_EQ(r.exit_code, 2) << text << ": " << r.err;
    EXPECT_EQ(line_count(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(dir / "b.json"), std::string::npos) << r.err;
  }
}

TEST(Gate, CrashingPluginGivesFailedRowsAndTheGateFinishes) {
  ScratchDir dir;
  write(dir / "p.json", R"({"policy_version": 1, "ops": ["layer_norm", "batch_norm"], "dtypes": ["float32"],
    "profiles": ["pytorch"], "properties": ["differential"]})");
  const RunResult r = run_normcheck({"gate", "--plugin", kCrash, "--policy", dir / "p.json", "--out", dir / "report",
                                     "--quiet", "--timeout-s", "5"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FAILED gate-crash layer_norm differential: [crash] unexpected error: plugin crashed: signal 11"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAILED gate-crash batch_norm differential"), std::string::npos) << r.out;  // it kept going
  EXPECT_NE(r.out.find("REPRO: normcheck gate --plugin '" + kCrash + "' --repro 'layer_norm shape="), std::string::npos)
      << r.out;
  const json doc = read_json(dir / "report/results.json");
  ASSERT_EQ(doc["results"].size(), 2u);
  for (const json& row : doc["results"]) {
    EXPECT_EQ(row["outcome"], "FAILED") << row.dump();
    EXPECT_FALSE(row["failure"]["problem"].get<std::string>().empty());
  }
  // The crashing input: the row's first fixed case (a catalog line, minimal by design: not shrunk),
  // and its repro line replays it.
  std::string problem;
  for (const json& row : doc["results"])
    if (row["op"].get<std::string>() == "layer_norm") problem = row["failure"]["problem"];
  EXPECT_EQ(problem.rfind("layer_norm shape=", 0), 0u) << problem;
  const RunResult replay = run_normcheck({"gate", "--plugin", kCrash, "--repro", problem + " property=differential"}, dir.path());
  EXPECT_EQ(replay.exit_code, 1) << replay.out << replay.err;
  EXPECT_NE(replay.out.find("FAILED differential on layer_norm"), std::string::npos) << replay.out;
  EXPECT_NE(replay.out.find("plugin crashed: signal 11"), std::string::npos) << replay.out;
}

// The readers themselves (what the fuzzer also drives).
TEST(GatePolicy, DefaultsAndOrder) {
  Expected<Policy> p = parse_policy(R"({"policy_version": 1, "ops": ["layer_norm", "batch_norm", "layer_norm"],
    "tolerance_multiplier": {"float16": 4}, "may_skip": [{"op": "batch_norm"}]})",
                                    "p.json");
  ASSERT_TRUE(p) << p.message();
  EXPECT_EQ(p->ops, (std::vector<Op>{Op::kBatchNorm, Op::kLayerNorm}));  // suite order, deduplicated
  EXPECT_EQ(p->dtypes.size(), 4u);
  EXPECT_EQ(p->profiles.size(), 3u);
  EXPECT_EQ(p->properties.size(), properties::all_properties().size());
  EXPECT_EQ(p->multiplier_for(DType::kFloat16), 4.0);
  EXPECT_EQ(p->multiplier_for(DType::kFloat32), 1.0);
  EXPECT_NE(p->skip_rule(Op::kBatchNorm, "differential"), nullptr);
  EXPECT_EQ(p->skip_rule(Op::kLayerNorm, "differential"), nullptr);
  EXPECT_FALSE(p->is_default());
  EXPECT_TRUE(default_policy().is_default());
  EXPECT_NE(default_policy().skip_rule(Op::kRmsNorm, "dx_sums"), nullptr);
}

TEST(GateBaseline, RegressionRule) {
  properties::RowResult row;
  row.cases = 12;
  row.max_ulp = 2.0, row.max_bound_fraction = 0.1;
  BaselineRow base{"x", "layer_norm", "differential", 0.1, 2.0};
  EXPECT_FALSE(regression(row, base));
  row.max_bound_fraction = 0.1 * kBaselineFactor + kBaselineBoundSlack * 0.99;
  EXPECT_FALSE(regression(row, base));
  row.max_bound_fraction = 0.2;
  ASSERT_TRUE(regression(row, base));
  EXPECT_EQ(regression(row, base)->rfind("max_bound_fraction 0.2 > 1.25 x baseline 0.1", 0), 0u) << *regression(row, base);
  row.max_bound_fraction = 0.1, row.max_ulp = 2.0 * kBaselineFactor + kBaselineUlpSlack + 0.5;
  EXPECT_TRUE(regression(row, base));
  base.max_ulp.reset();  // nothing compared then: no figure to grow from
  EXPECT_FALSE(regression(row, base));
  Expected<Baseline> b = parse_baseline(baseline_json({row}, "smoke", 7), "b.json");
  ASSERT_TRUE(b) << b.message();
  EXPECT_EQ(b->seed, 7u);
  ASSERT_EQ(b->rows.size(), 1u);
  EXPECT_EQ(b->rows[0].max_ulp, row.max_ulp);
}

}  // namespace
}  // namespace normcheck::tool::testing
