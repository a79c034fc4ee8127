// read_results and validate_results: what a results document must be, and the one-line errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "report/report.h"
#include "sample.h"

namespace normcheck::report {
namespace {

using ::testing::HasSubstr;
using testing::sample;

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const nlohmann::json& doc) { return validate_results(doc, "results.json").message(); }

TEST(ReadResults, AcceptsTheSample) {
  Expected<nlohmann::json> doc = read_results(testing::sample_path());
  ASSERT_TRUE(doc) << doc.message();
  EXPECT_EQ((*doc)["results"].size(), 10u);
}

TEST(ReadResults, RejectsAnotherSchemaVersionInOneLine) {
  nlohmann::json doc = sample();
  doc["schema_version"] = 2;
  EXPECT_EQ(error_of(doc), "Expected schema_version 1, but got 2 in results.json");
  const std::string path = write_temp("nc-report-v2.json", doc.dump());
  Expected<nlohmann::json> read = read_results(path);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.message(), "Expected schema_version 1, but got 2 in " + path);
}

TEST(ReadResults, RejectsAnotherSchemaName) {
  nlohmann::json doc = sample();
  doc["schema"] = "pytest-json";
  EXPECT_EQ(error_of(doc), "Expected schema \"normcheck-report\", but got \"pytest-json\" in results.json");
  doc.erase("schema");
  EXPECT_EQ(error_of(doc), "Expected schema \"normcheck-report\", but got none in results.json");
}

TEST(ReadResults, RejectsMalformedJsonAndMissingFiles) {
  const std::string path = write_temp("nc-report-broken.json", "{\"schema\": ");
  Expected<nlohmann::json> read = read_results(path);
  ASSERT_FALSE(read);
  EXPECT_THAT(read.message(), HasSubstr("Expected a JSON results document, but got a parse error at line 1"));
  EXPECT_THAT(read.message(), HasSubstr(" in " + path));
  EXPECT_EQ(read.message().find('\n'), std::string::npos);
  Expected<nlohmann::json> none = read_results("/nonexistent/results.json");
  EXPECT_EQ(none.message(), "Expected a readable results file, but got none at /nonexistent/results.json");
}

TEST(ReadResults, RejectsADuplicateKeyNamingItAndTheFile) {
  // Two "outcome"s in a row: a lenient reader keeps the last and could turn a FAILED row PASSED.
  std::string text = sample().dump();
  const std::string failed = R"("outcome":"FAILED")";
  ASSERT_NE(text.find(failed), std::string::npos);
  text.replace(text.find(failed), failed.size(), failed + R"(,"outcome":"PASSED")");
  const std::string path = write_temp("nc-report-duplicate.json", text);
  Expected<nlohmann::json> read = read_results(path);
  ASSERT_FALSE(read);
  EXPECT_THAT(read.message(), HasSubstr("but got the key \"outcome\" twice, at results[2].outcome in " + path));
}

TEST(ReadResults, RejectsDeepNestingInOneLine) {
  const std::string path = write_temp("nc-report-deep.json", std::string(100'000, '['));
  Expected<nlohmann::json> read = read_results(path);
  ASSERT_FALSE(read);
  EXPECT_THAT(read.message(), HasSubstr("more than 64 levels of nesting in " + path));
}

TEST(ValidateResults, NamesTheFieldThatIsWrong) {
  nlohmann::json doc = sample();
  doc["results"][3]["outcome"] = "OK";
  EXPECT_EQ(error_of(doc),
            "Expected PASSED, FAILED, SKIPPED, MISTRUSTED or FLAKY at results[3].outcome, but got \"OK\" in results.json");
  doc = sample();
  doc["results"][0]["cases"] = "many";
  EXPECT_EQ(error_of(doc), "Expected an integer at results[0].cases, but got \"many\" in results.json");
  doc = sample();
  doc["tier"] = "weekly";
  EXPECT_EQ(error_of(doc), "Expected tier smoke, ci or nightly, but got \"weekly\" in results.json");
}

TEST(ValidateResults, RejectsAPassedRowThatComparedNothing) {
  // A row with no compared case is no evidence: normcheck writes it SKIPPED, never PASSED.
  nlohmann::json doc = sample();
  ASSERT_EQ(doc["results"][0]["outcome"], "PASSED");
  doc["results"][0]["cases_compared"] = 0;
  EXPECT_EQ(error_of(doc),
            "Expected a PASSED row to have compared at least one case at results[0], but got cases_compared 0 in results.json");
  doc["results"][0]["cases_compared"] = 3;
  EXPECT_EQ(error_of(doc), "");
}

TEST(ValidateResults, RequiresTheMinimalCaseOfAFailure) {
  nlohmann::json doc = sample();
  doc["results"][2]["failure"] = nullptr;
  EXPECT_EQ(error_of(doc), "Expected a field failure at results[2], but got none in results.json");
}

TEST(ValidateResults, RejectsRowsOfUnlistedImplementationsAndDuplicateRows) {
  nlohmann::json doc = sample();
  doc["results"][0]["implementation"] = "ghost";
  EXPECT_EQ(error_of(doc), "Expected results[0].implementation to be listed in implementations, but got "
                           "\"ghost\" in results.json");
  doc = sample();
  doc["results"].push_back(doc["results"][0]);
  EXPECT_THAT(error_of(doc), HasSubstr("one row per implementation x op x property, at results[10]"));
}

TEST(ValidateResults, RejectsHistogramsThatDoNotAddUp) {
  nlohmann::json doc = sample();
  doc["results"][0]["ulp_histogram"]["counts"].push_back(1);
  EXPECT_EQ(error_of(doc), "Expected one edge more than counts at results[0].ulp_histogram (9 counts), but got "
                           "9 edges in results.json");
  doc = sample();
  doc["results"][1]["ulp_histogram"]["edges"] = {0, 1, 2, 4, 8, 16, 256, 65536, "inf"};
  EXPECT_THAT(error_of(doc), HasSubstr("the same ulp_histogram edges in every row (those of results[0]) at "
                                       "results[1]"));
}

TEST(ValidateResults, RejectsASummaryThatDisagreesWithTheRows) {
  nlohmann::json doc = sample();
  doc["summary"]["failed"] = 0;
  EXPECT_EQ(error_of(doc), "Expected summary.failed 2 (counted from the rows of the implementations under test), "
                           "but got 0 in results.json");
  doc = sample();
  doc["summary"]["conforming"] = true;
  EXPECT_THAT(error_of(doc), HasSubstr("Expected summary.conforming false"));
}

TEST(ValidateResults, UnderAPolicyTheGatesVerdictStands) {
  nlohmann::json doc = sample();
  doc["policy"] = "waive-keras.toml";
  doc["summary"]["conforming"] = true;
  EXPECT_TRUE(validate_results(doc).ok()) << validate_results(doc).message();
}

TEST(ComputeCauses, GroupsTheTestedImplementationsFailedRowsBySignature) {
  nlohmann::json doc = sample();
  nlohmann::json same = doc["results"][2];  // cpu batch_norm differential: y accuracy, 51 elements
  same["property"] = "scale_invariance";
  same["failure"]["elements"] = 17;
  doc["results"].push_back(same);
  Expected<nlohmann::json> causes = compute_causes(doc);
  ASSERT_TRUE(causes) << causes.message();
  // cpu's two rows are one cause, represented by the smaller case; the evil row (no signature) is
  // a cause of its own; the mutant's failure is a kill, no cause.
  ASSERT_EQ(causes->size(), 2u) << causes->dump();
  EXPECT_EQ((*causes)[0]["implementation"], "cpu");
  EXPECT_EQ((*causes)[0]["signature"]["title"], "batch_norm y: accuracy (bfloat16, contiguous)");
  EXPECT_EQ((*causes)[0]["rows"].size(), 2u);
  EXPECT_EQ((*causes)[0]["rows"][1]["property"], "scale_invariance");
  EXPECT_EQ((*causes)[0]["repro"], same["failure"]["repro"]);
  EXPECT_TRUE((*causes)[1]["signature"].is_null());
  EXPECT_EQ((*causes)[1]["rows"].size(), 1u);
}

TEST(ValidateResults, RejectsCausesThatDisagreeWithTheRows) {
  nlohmann::json doc = sample();
  doc["causes"] = *compute_causes(doc);
  EXPECT_TRUE(validate_results(doc).ok()) << validate_results(doc).message();
  doc["causes"].erase(1);  // a cause left out
  EXPECT_THAT(error_of(doc), HasSubstr("Expected causes as the FAILED rows group by their failure's signature (2 causes: "));
  doc = sample();
  doc["results"][2]["failure"]["signature"]["kind"] = 7;
  EXPECT_THAT(error_of(doc), HasSubstr("Expected a string at results[2].failure.signature.kind, but got 7"));
}

TEST(ComputeSummary, CountsTheTestedImplementationsOnly) {
  nlohmann::json doc = sample();
  doc.erase("summary");
  Expected<nlohmann::json> s = compute_summary(doc);
  ASSERT_TRUE(s) << s.message();
  EXPECT_EQ(*s, sample()["summary"]);
}

}  // namespace
}  // namespace normcheck::report
