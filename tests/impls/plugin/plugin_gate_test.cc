// The bad c-norms plugins (bad/norms_base.h: the example with one defect each) through
// `normcheck gate`, as a CI job runs it, under c-norms' own policy (float32 layer_norm and
// batch_norm, PyTorch's conventions): each is NOT CONFORMING with the row and the error that name
// its defect, while the example they are built on stays CONFORMING under the same policy.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_normcheck.h"

namespace normcheck::tool::testing {
namespace {

using nlohmann::json;

std::string policy(const std::string& ops, const std::string& properties) {
  return R"({"policy_version": 1, "ops": [)" + ops + R"(], "dtypes": ["float32"], "profiles": ["pytorch"],
    "properties": [)" + properties + "]}";
}

struct Gated {
  RunResult run;
  json results;
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// `normcheck gate` on the plugin at path under the policy text, in dir.
Gated gate(const ScratchDir& dir, const std::string& path, const std::string& policy_text,
           const std::string& tier = "smoke") {
  std::ofstream(dir / "policy.json") << policy_text;
  Gated g;
  g.run = run_normcheck({"gate", "--plugin", path, "--policy", dir / "policy.json", "--tier", tier, "--out",
                         dir / "report", "--quiet", "--timeout-s", "10"},
                        dir.path());
  const std::string text = read_text(dir / "report/results.json");
  if (!text.empty()) g.results = json::parse(text);
  return g;
}

std::string bad(const std::string& stem) { return std::string(NC_BAD_PLUGIN_DIR) + "/" + stem + ".so"; }

/// The gate says NOT CONFORMING and prints the FAILED row `name op property` with each of `whys` in it.
void expect_not_conforming(const Gated& g, const std::string& name, const std::string& row,
                           const std::vector<std::string>& whys) {
  EXPECT_EQ(g.run.exit_code, 1) << g.run.out << g.run.err;
  EXPECT_NE(g.run.out.find("normcheck gate: " + name + " NOT CONFORMING"), std::string::npos) << g.run.out;
  const std::string line = "FAILED " + name + " " + row + ": ";
  const std::size_t at = g.run.out.find(line);
  ASSERT_NE(at, std::string::npos) << g.run.out;
  const std::string reason = g.run.out.substr(at, g.run.out.find('\n', at) - at);
  for (const std::string& why : whys) EXPECT_NE(reason.find(why), std::string::npos) << why << "\n" << reason;
}

// The refusal case (batch_norm training on one value per channel) is one of the problems the
// generator draws; the ci tier draws it within its 50 cases for seed 1 (the example's row below
// shows it was judged: its PASSED count includes the refusal).
const std::string kRefusalPolicy = policy(R"("batch_norm")", R"("differential")");
const std::string kRefusal = R"(expected the refusal "Expected more than 1 value per channel when training)";

TEST(PluginGate, RefusalAnsweredByACrashIsNotConforming) {
  ScratchDir dir;
  expect_not_conforming(gate(dir, bad("refusal_crash"), kRefusalPolicy, "ci"), "bad-refusal-crash",
                        "batch_norm differential", {kRefusal, "\", but got another error: plugin crashed: signal 11"});
}

TEST(PluginGate, RefusalAnsweredByAnInternalErrorIsNotConforming) {
  ScratchDir dir;
  expect_not_conforming(gate(dir, bad("refusal_internal"), kRefusalPolicy, "ci"), "bad-refusal-internal",
                        "batch_norm differential", {kRefusal, "\", but got another error: plugin error 3: "});
}

TEST(PluginGate, RefusalAnsweredByUnsupportedIsNotConforming) {
  ScratchDir dir;
  expect_not_conforming(gate(dir, bad("refusal_unsupported"), kRefusalPolicy, "ci"), "bad-refusal-unsupported",
                        "batch_norm differential",
                        {kRefusal, "\", but got another error: plugin refused at run time: "});
}

TEST(PluginGate, WritePastYIsNotConforming) {
  for (const auto& [stem, name] : {std::pair{"past_y_element", "bad-past-y-element"}, std::pair{"past_y_vector", "bad-past-y-vector"}}) {
    ScratchDir dir;
    expect_not_conforming(gate(dir, bad(stem), policy(R"("layer_norm")", R"("differential")")), name,
                          "layer_norm differential", {"unexpected error: plugin wrote past the end of y"});
  }
}

TEST(PluginGate, ModifiedInputIsNotConforming) {
  ScratchDir dir;
  expect_not_conforming(gate(dir, bad("modifies_x"), policy(R"("layer_norm", "batch_norm")", R"("differential")")),
                        "bad-modifies-x", "layer_norm differential", {"unexpected error: plugin modified its input x"});
}

TEST(PluginGate, SecondCallInAWorkerDifferingIsNotConforming) {
  ScratchDir dir;
  const Gated g = gate(dir, bad("second_call_differs"), policy(R"("layer_norm")", R"("differential", "determinism")"));
  expect_not_conforming(g, "bad-second-call-differs", "layer_norm determinism",
                        {"the fresh call 1 and the warm call 2 differ: y[0]"});
  // One ulp is within the bound: only determinism sees it.
  for (const json& row : g.results["results"]) {
    if (row["property"] == "differential") {
      EXPECT_EQ(row["outcome"], "PASSED") << row.dump();
    }
  }
}

TEST(PluginGate, ExampleConformsUnderTheSamePolicies) {
  for (const auto& [text, tier] : {std::pair{kRefusalPolicy, std::string("ci")},
                                   std::pair{policy(R"("layer_norm", "batch_norm")", R"("differential", "determinism")"),
                                             std::string("smoke")}}) {
    ScratchDir dir;
    const Gated g = gate(dir, NC_EXAMPLE_PLUGIN, text, tier);
    EXPECT_EQ(g.run.exit_code, 0) << g.run.out << g.run.err;
    EXPECT_NE(g.run.out.find("normcheck gate: c-norms CONFORMING"), std::string::npos) << g.run.out;
    for (const json& row : g.results["results"]) EXPECT_EQ(row["outcome"], "PASSED") << row.dump();
    EXPECT_EQ(g.results["causes"], json::array());
    EXPECT_EQ(g.run.out.find("CAUSE"), std::string::npos) << g.run.out;
  }
}

// issue 14: the failing rows of one bug are one cause. Both plugins gate every property of
// c-norms' ops at the smoke tier under PyTorch's float32 conventions.
const std::string kAllProperties =
    R"({"policy_version": 1, "ops": ["layer_norm", "batch_norm"], "dtypes": ["float32"], "profiles": ["pytorch"]})";

int failed_rows(const json& results) {
  int n = 0;
  for (const json& row : results["results"]) n += row["outcome"] == "FAILED" ? 1 : 0;
  return n;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(PluginGate, TwoDefectsAcrossManyRowsAreTwoCauses) {
  ScratchDir dir;
  const Gated g = gate(dir, bad("two_defects"), kAllProperties);
  EXPECT_EQ(g.run.exit_code, 1) << g.run.out << g.run.err;
  const int failed = failed_rows(g.results);
  EXPECT_GE(failed, 6) << "each defect fails several rows";
  const std::string count = ": 2 causes in " + std::to_string(failed) + " failed rows";
  const std::string mean = "layer_norm mean: accuracy (float32, contiguous)";
  const std::string running_var = "batch_norm running_var: running statistics (float32, contiguous)";
  // The console: the count on the verdict line, then one line per cause with its smallest case.
  EXPECT_NE(g.run.out.find("normcheck gate: bad-two-defects NOT CONFORMING under policy "), std::string::npos);
  EXPECT_NE(g.run.out.find(count + " ("), std::string::npos) << g.run.out;
  EXPECT_EQ(occurrences(g.run.out, "\n  CAUSE "), 2u) << g.run.out;
  EXPECT_NE(g.run.out.find(" of 2: " + mean + ": bad-two-defects, "), std::string::npos) << g.run.out;
  EXPECT_NE(g.run.out.find(" of 2: " + running_var + ": bad-two-defects, "), std::string::npos) << g.run.out;
  // summary.md: the same two, before everything else.
  const std::string md = read_text(dir / "report/summary.md");
  EXPECT_NE(md.find(count + " ("), std::string::npos) << md;
  EXPECT_NE(md.find("#### Causes (2 in " + std::to_string(failed) + " failed rows)"), std::string::npos) << md;
  EXPECT_EQ(occurrences(md, "**" + mean + "**"), 1u) << md;
  EXPECT_EQ(occurrences(md, "**" + running_var + "**"), 1u) << md;
  // results.json: two causes whose rows are every failed row.
  const json& causes = g.results["causes"];
  ASSERT_EQ(causes.size(), 2u) << causes.dump();
  std::set<std::pair<std::string, std::string>> seen;
  std::size_t rows = 0;
  for (const json& c : causes) {
    seen.emplace(c["signature"]["output"], c["signature"]["kind"]);
    EXPECT_GE(c["rows"].size(), 2u) << c.dump();
    EXPECT_NE(c["repro"].get<std::string>().find("--repro '"), std::string::npos);
    rows += c["rows"].size();
  }
  EXPECT_EQ(seen, (std::set<std::pair<std::string, std::string>>{{"mean", "accuracy"}, {"running_var", "running_statistics"}}));
  EXPECT_EQ(rows, static_cast<std::size_t>(failed));
  // A biased running variance breaks PyTorch's running-statistics convention.
  EXPECT_EQ(g.results["profile_fingerprint"][0]["profiles"]["pytorch"], "FAILED");
}

TEST(PluginGate, AccuracyFailuresAloneKeepTheConventionsFollowed) {
  ScratchDir dir;
  const Gated g = gate(dir, bad("mean_off"), kAllProperties);
  EXPECT_EQ(g.run.exit_code, 1) << g.run.out << g.run.err;
  const int failed = failed_rows(g.results);
  EXPECT_GE(failed, 2);
  // Every convention of PyTorch's kept: the fingerprint says so, and counts the accuracy rows apart
  // (it used to say FAILED for the profile because of them).
  const json& f = g.results["profile_fingerprint"][0];
  EXPECT_EQ(f["profiles"]["pytorch"], "PASSED") << f.dump();
  EXPECT_EQ(f["accuracy_failed_rows"], failed) << f.dump();
  EXPECT_EQ(f["other_failed_rows"], 0) << f.dump();
  EXPECT_NE(g.run.out.find("fingerprint: bad-mean-off follows pytorch conventions; accuracy: " + std::to_string(failed) +
                           " failed rows"),
            std::string::npos)
      << g.run.out;
  EXPECT_NE(g.run.out.find(": 1 cause in " + std::to_string(failed) + " failed rows ("), std::string::npos) << g.run.out;
  // A row named after a property says which output failed it.
  EXPECT_NE(g.run.out.find("FAILED bad-mean-off layer_norm constant_set_gives_beta: [mean, accuracy] "), std::string::npos)
      << g.run.out;
}

}  // namespace
}  // namespace normcheck::tool::testing
