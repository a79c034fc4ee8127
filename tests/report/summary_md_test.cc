// summary.md: the pull-request comment.
#include "report/summary_md.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "sample.h"

namespace normcheck::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string render(const nlohmann::json& doc) {
  Expected<Model> m = build_model(doc, "sample");
  EXPECT_TRUE(m) << m.message();
  return m ? render_summary_md(*m) : "";
}

TEST(SummaryMd, StartsWithTheVerdictAndItsCounts) {
  EXPECT_THAT(render(testing::sample()),
              StartsWith("### normcheck: NOT CONFORMING: 2 causes in 2 failed rows (2 failed, 1 mistrusted, 5 passed, "
                         "1 skipped)\n"));
}

TEST(SummaryMd, ShowsTheMatrixWithTextMarkers) {
  const std::string md = render(testing::sample());
  EXPECT_THAT(md, HasSubstr("| implementation | layer_norm | batch_norm | group_norm | max ULP | max error/bound |"));
  EXPECT_THAT(md, HasSubstr("| cpu | pass 2/2 | **FAIL** 1/2 | pass 1/1 | 3 | 1.7 |"));
  EXPECT_THAT(md, HasSubstr("| seed-groupnorm | skip 1/1 | - | pass 1/1 | 1 | 0.5 |"));
}

TEST(SummaryMd, ACellOfPassesAndSkipsIsAPass) {
  nlohmann::json doc = testing::sample();
  nlohmann::json skipped = doc["results"][8];  // seed-groupnorm layer_norm: SKIPPED
  skipped["implementation"] = "cpu";
  skipped["property"] = "gradient_check";
  doc["results"].push_back(skipped);
  doc["summary"]["skipped"] = 2;
  EXPECT_THAT(render(doc), HasSubstr("| cpu | pass 2/3 | **FAIL** 1/2 | pass 1/1 |"));
}

TEST(SummaryMd, ListsTheCausesFirstEachWithItsRowsAndSmallestCase) {
  nlohmann::json doc = testing::sample();
  // Two more rows failing the same way (the same signature) on a larger and a smaller case.
  for (const auto& [property, elements] : {std::pair{"scale_invariance", 68}, std::pair{"shift_invariance", 34}}) {
    nlohmann::json row = doc["results"][2];
    row["property"] = property;
    row["failure"]["elements"] = elements;
    row["failure"]["repro"] = std::string("normcheck repro '... property=") + property + "'";
    doc["results"].push_back(row);
  }
  doc["summary"]["failed"] = 4;
  const std::string md = render(doc);
  EXPECT_THAT(md, StartsWith("### normcheck: NOT CONFORMING: 2 causes in 4 failed rows ("));
  const std::size_t causes = md.find("#### Causes (2 in 4 failed rows)\n\n");
  EXPECT_NE(causes, std::string::npos) << md;
  EXPECT_NE(md.find("\n\n1. **batch_norm y: accuracy (bfloat16, contiguous)**: cpu, 3 rows: batch_norm differential, "
                    "batch_norm scale_invariance, batch_norm shift_invariance\n",
                    causes),
            std::string::npos)
      << md;
  // The representative is the smallest minimal case (34 elements), and causes come before the matrix.
  EXPECT_NE(md.find("   normcheck repro '... property=shift_invariance'\n"), std::string::npos) << md;
  EXPECT_LT(causes, md.find("#### Conformance matrix"));
  // A row without a signature (a document from before causes) is a cause of its own.
  EXPECT_THAT(md, HasSubstr("2. **layer_norm differential**: evil"));
}

TEST(SummaryMd, ListsEachFailureWithItsMinimalProblemAndReproInACodeBlock) {
  const std::string md = render(testing::sample());
  EXPECT_THAT(md, HasSubstr("#### Failures (2)"));
  // The row names the output that failed it and how (its failure's signature).
  EXPECT_THAT(md, HasSubstr("2. **cpu / batch_norm / differential** (batch_norm y: accuracy (bfloat16, contiguous)): "
                            "y\\[5\\]: got 0.25, want 0.2500001 "
                            "(bound 1e-7, 3 ulp, 1.7 bounds)  \n   minimal problem: `batch_norm shape=3x17 "
                            "dtype=bfloat16 mode=train profile=pytorch seed=4` (12 shrink steps)\n"));
  EXPECT_THAT(md, HasSubstr("   ```\n   normcheck repro 'batch_norm shape=3x17 dtype=bfloat16 mode=train "
                            "profile=pytorch seed=4 impl=cpu property=differential'\n   ```\n"));
  // The hostile repro ends in a ``` run: its fence is longer, so it cannot close the block early.
  EXPECT_THAT(md, HasSubstr("   ````\n   normcheck repro 'layer_norm shape=2x8 dtype=float16 seed=9 impl=evil "
                            "property=differential' ```\n   ````\n"));
  // The mutant's failure is a kill, not a failure of the run.
  EXPECT_THAT(md, Not(HasSubstr("impl=mutant-eps-outside-sqrt")));
}

/// md without its code spans and fenced code blocks (where GitHub shows everything literally).
std::string outside_code(const std::string& md) {
  std::string out;
  bool fenced = false;
  std::size_t start = 0;
  while (start < md.size()) {
    const std::size_t end = md.find('\n', start);
    const std::string line = md.substr(start, end == std::string::npos ? std::string::npos : end - start);
    start = end == std::string::npos ? md.size() : end + 1;
    if (line.find_first_not_of(' ') != std::string::npos && line.substr(line.find_first_not_of(' '), 3) == "```") {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    bool in_span = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '`' && (i == 0 || line[i - 1] != '\\')) {
        while (i + 1 < line.size() && line[i + 1] == '`') ++i;
        in_span = !in_span;
        continue;
      }
      if (!in_span) out.push_back(line[i]);
    }
    out.push_back('\n');
  }
  return out;
}

TEST(SummaryMd, EscapesNamesSoNoHtmlReachesTheComment) {
  const std::string md = render(testing::sample());
  const std::string text = outside_code(md);
  EXPECT_THAT(text, Not(HasSubstr("<script")));
  EXPECT_THAT(text, Not(HasSubstr("<b>")));
  EXPECT_THAT(text, Not(HasSubstr("<img")));
  EXPECT_THAT(md, HasSubstr("| evil&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt; |"));
  // A descriptor is shown as code, where GitHub escapes it itself.
  EXPECT_THAT(md, HasSubstr("`layer_norm shape=2x8 dtype=float16 profile=pytorch seed=9 </code><script>"));
}

TEST(SummaryMd, ShowsMistrustedSkippedFingerprintAndKillMatrix) {
  const std::string md = render(testing::sample());
  EXPECT_THAT(md, HasSubstr("#### Not certified (MISTRUSTED, not a pass) (1)\n\n- cpu / batch_norm / "
                            "running_var_unbiased: the reference could not certify"));
  EXPECT_THAT(md, HasSubstr("<summary>Skipped (1)</summary>"));
  // Conventions apart from accuracy: cpu fails keras's conventions and has one failed accuracy row.
  EXPECT_THAT(md, HasSubstr("| implementation | follows | keras conventions | onnx conventions | pytorch conventions "
                            "| accuracy |"));
  EXPECT_THAT(md, HasSubstr("| cpu | onnx, pytorch | FAIL | pass | pass | 1 failed row |"));
  EXPECT_THAT(md, HasSubstr("#### Mutants: killed 2 of 3"));
  EXPECT_THAT(md, HasSubstr("- `mutant-gamma-ignored`: y = x_hat (gamma and beta ignored)"));
}

TEST(SummaryMd, ListsPassedRowsWithANoteOnly) {
  nlohmann::json doc = testing::sample();
  EXPECT_THAT(render(doc), Not(HasSubstr("Passed with a note")));
  for (nlohmann::json& row : doc["results"]) {
    if (row["outcome"] != "PASSED") continue;
    row["reason"] = "note: the refusal's message lacks the key phrase \"more than 1 value per channel when training\"";
    break;
  }
  const std::string md = render(doc);
  EXPECT_THAT(md, HasSubstr("<summary>Passed with a note (1)</summary>"));
  EXPECT_THAT(md, HasSubstr("lacks the key phrase"));
}

TEST(SummaryMd, CapsTheFailuresListed) {
  nlohmann::json doc = testing::sample();
  const nlohmann::json failed = doc["results"][2];
  for (int i = 0; i < 30; ++i) {
    nlohmann::json row = failed;
    row["property"] = "generated_" + std::to_string(i);
    doc["results"].push_back(row);
  }
  doc["summary"]["failed"] = 32;
  const std::string md = render(doc);
  EXPECT_THAT(md, HasSubstr("#### Failures (32)"));
  EXPECT_THAT(md, HasSubstr("... and 12 more failures"));
  EXPECT_LT(std::count(md.begin(), md.end(), '\n'), 200) << "too long for a PR comment";
  EXPECT_LT(md.size(), 20000u) << "too long for a PR comment";
}

TEST(SummaryMd, ConformingWhenNothingFailedOrWasMistrusted) {
  nlohmann::json doc = testing::sample();
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : doc["results"]) {
    if (r["outcome"] == "PASSED") rows.push_back(r);
  }
  doc["results"] = rows;
  doc["summary"] = {{"conforming", true}, {"passed", 5}, {"failed", 0}, {"skipped", 0}, {"mistrusted", 0}};
  const std::string md = render(doc);
  EXPECT_THAT(md, StartsWith("### normcheck: CONFORMING (0 failed, 0 mistrusted, 5 passed, 0 skipped)\n"));
  EXPECT_THAT(md, Not(HasSubstr("#### Failures")));
}

}  // namespace
}  // namespace normcheck::report
