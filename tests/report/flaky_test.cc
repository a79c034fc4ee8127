// A FLAKY row (issue 13, item 4: a failure whose minimal case passed when replayed on a fresh
// worker) through the validator, the summary and the three writers: it needs its failure like a
// FAILED row, counts in summary.flaky, makes the document not conforming, and every format shows
// it by name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "report/index_html.h"
#include "report/junit_xml.h"
#include "report/model.h"
#include "report/report.h"
#include "report/summary_md.h"
#include "sample.h"

namespace normcheck::report::testing {
namespace {

using ::testing::HasSubstr;

constexpr const char* kReason = "failed (plugin crashed: signal 11), but PASSED when replayed alone on a fresh worker";

/// The sample with its passing cpu row made FLAKY (its failure as the runner writes it), the
/// stored summary recomputed.
nlohmann::json with_a_flaky_row() {
  nlohmann::json doc = sample();
  for (nlohmann::json& r : doc["results"]) {
    if (r["implementation"] != "seed-groupnorm" || r["outcome"] != "PASSED") continue;
    r["outcome"] = "FLAKY";
    r["reason"] = kReason;
    r["failure"] = {{"problem", "group_norm shape=2x4x3 seed=5"}, {"detail", "plugin crashed: signal 11"},
                    {"worst", nullptr}, {"shrink_steps", 2},
                    {"repro", "normcheck repro 'group_norm shape=2x4x3 seed=5 impl=seed-groupnorm property=differential'"}};
  }
  Expected<nlohmann::json> summary = compute_summary(doc);
  EXPECT_TRUE(summary.ok()) << summary.message();
  if (summary) doc["summary"] = *summary;
  return doc;
}

TEST(Flaky, CountsAndFailsTheVerdict) {
  const nlohmann::json doc = with_a_flaky_row();
  EXPECT_EQ(doc["summary"]["flaky"], 1);
  EXPECT_EQ(doc["summary"]["passed"], kPassed - 1);
  EXPECT_EQ(doc["summary"]["conforming"], false);
  EXPECT_TRUE(validate_results(doc).ok()) << validate_results(doc).message();
}

TEST(Flaky, TheValidatorWantsItsFailureAndItsCount) {
  nlohmann::json doc = with_a_flaky_row();
  for (nlohmann::json& r : doc["results"])
    if (r["outcome"] == "FLAKY") r["failure"] = nullptr;
  EXPECT_FALSE(validate_results(doc).ok());
  doc = with_a_flaky_row();
  doc["summary"]["flaky"] = 0;
  EXPECT_THAT(validate_results(doc).message(), HasSubstr("summary.flaky 1"));
  doc = with_a_flaky_row();
  doc["summary"].erase("flaky");  // a document from before FLAKY has no FLAKY row
  EXPECT_THAT(validate_results(doc).message(), HasSubstr("summary.flaky 1"));
}

TEST(Flaky, EveryFormatShowsIt) {
  Expected<Model> m = build_model(with_a_flaky_row(), "results.json");
  ASSERT_TRUE(m.ok()) << m.message();
  const std::string md = render_summary_md(*m);
  EXPECT_THAT(md, HasSubstr("1 flaky"));
  EXPECT_THAT(md, HasSubstr("#### Flaky (failed, then passed when replayed; not a pass) (1)"));
  EXPECT_THAT(md, HasSubstr(kReason));
  EXPECT_THAT(md, HasSubstr("**FLAKY** 1/"));
  const std::string junit = render_junit_xml(*m);
  EXPECT_THAT(junit, HasSubstr("<failure type=\"FLAKY\" message=\"" + std::string(kReason) + "\">"));
  EXPECT_THAT(junit, HasSubstr("<testsuite name=\"seed-groupnorm\" tests=\"2\" failures=\"1\""));  // counted
  const std::string html = render_index_html(*m);
  EXPECT_THAT(html, HasSubstr("<span class=\"pill flaky\">FLAKY</span>"));
  EXPECT_THAT(html, HasSubstr("<b>1</b> flaky"));
}

}  // namespace
}  // namespace normcheck::report::testing
