// junit.xml: well-formed, one suite per implementation under test, counts that match the elements.
#include "report/junit_xml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sample.h"
#include "xml_check.h"

namespace normcheck::report {
namespace {

using ::testing::HasSubstr;
using testing::parse_xml;
using testing::XmlDocument;

XmlDocument render_sample() {
  Expected<Model> m = build_model(testing::sample(), "sample");
  EXPECT_TRUE(m) << m.message();
  const XmlDocument doc = parse_xml(render_junit_xml(*m));
  EXPECT_TRUE(doc.ok()) << doc.error;
  return doc;
}

int attribute(const XmlDocument& doc, int element, const std::string& name) {
  return std::stoi(doc.elements[element].attributes.at(name));
}

TEST(JunitXml, IsWellFormed) {
  const XmlDocument doc = render_sample();
  ASSERT_FALSE(doc.elements.empty());
  EXPECT_EQ(doc.elements[0].name, "testsuites");
}

TEST(JunitXml, HasASuitePerImplementationUnderTestAndOneForTheMutants) {
  const XmlDocument doc = render_sample();
  std::vector<std::string> names;
  for (int i : doc.indices("testsuite")) names.push_back(doc.elements[i].attributes.at("name"));
  EXPECT_EQ(names, (std::vector<std::string>{"cpu", testing::kHostileName, "seed-groupnorm", "normcheck.mutants"}));
  EXPECT_EQ(doc.count("testcase"), testing::kTestedRows + testing::kMutants);
}

TEST(JunitXml, EverySuitesCountsMatchItsElements) {
  const XmlDocument doc = render_sample();
  for (int suite : doc.indices("testsuite")) {
    SCOPED_TRACE(doc.elements[suite].attributes.at("name"));
    EXPECT_EQ(attribute(doc, suite, "tests"), doc.count("testcase", suite));
    EXPECT_EQ(attribute(doc, suite, "failures"), doc.count("failure", suite));
    EXPECT_EQ(attribute(doc, suite, "skipped"), doc.count("skipped", suite));
    EXPECT_EQ(attribute(doc, suite, "errors"), 0);
  }
  EXPECT_EQ(attribute(doc, 0, "failures"), doc.count("failure"));
  EXPECT_EQ(attribute(doc, 0, "skipped"), doc.count("skipped"));
  // 2 failed rows and 1 surviving mutant; 1 skipped row and 1 mistrusted one.
  EXPECT_EQ(doc.count("failure"), testing::kFailed + testing::kSurvivors);
  EXPECT_EQ(doc.count("skipped"), testing::kSkipped + testing::kMistrusted);
}

TEST(JunitXml, FailuresCarryTheDetailAndTheRepro) {
  const XmlDocument doc = render_sample();
  const int failure = doc.indices("failure").front();
  EXPECT_EQ(doc.elements[failure].attributes.at("message"),
            "y[5]: got 0.25, want 0.2500001 (bound 1e-7, 3 ulp, 1.7 bounds)");
  EXPECT_THAT(doc.elements[failure].text, HasSubstr("cause: batch_norm y: accuracy (bfloat16, contiguous)\n"));
  EXPECT_THAT(doc.elements[failure].text,
              HasSubstr("REPRO: normcheck repro 'batch_norm shape=3x17 dtype=bfloat16 mode=train profile=pytorch "
                        "seed=4 impl=cpu property=differential'"));
  const int testcase = doc.elements[failure].parent;
  EXPECT_EQ(doc.elements[testcase].attributes.at("classname"), "normcheck.cpu.batch_norm");
  EXPECT_EQ(doc.elements[testcase].attributes.at("time"), "1.300");
}

TEST(JunitXml, MistrustedIsASkipMarkedAsNotAPass) {
  const XmlDocument doc = render_sample();
  int mistrusted = 0;
  for (int s : doc.indices("skipped")) {
    const std::string& message = doc.elements[s].attributes.at("message");
    if (message.rfind("MISTRUSTED: ", 0) != 0) continue;
    ++mistrusted;
    EXPECT_EQ(message, "MISTRUSTED: the reference could not certify var for a set of one element");
  }
  EXPECT_EQ(mistrusted, 1);
  int marked = 0;
  for (int p : doc.indices("property")) {
    const auto& a = doc.elements[p].attributes;
    if (a.at("name") == "outcome" && a.at("value") == "MISTRUSTED") ++marked;
    if (a.at("name") == "mistrusted" && doc.elements[doc.elements[p].parent].parent >= 0) {
      const int suite = doc.elements[doc.elements[p].parent].parent;
      if (doc.elements[suite].attributes.at("name") == "cpu") {
        EXPECT_EQ(a.at("value"), "1");
      }
    }
  }
  EXPECT_EQ(marked, 1);
}

TEST(JunitXml, EscapesTheHostileName) {
  Expected<Model> m = build_model(testing::sample(), "sample");
  const std::string xml = render_junit_xml(*m);
  EXPECT_THAT(xml, HasSubstr("name=\"evil&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;"));
  EXPECT_EQ(xml.find("<script"), std::string::npos);
}

TEST(JunitXml, ShowsTheComparedCasesAndRefusedDrawsOfARow) {
  nlohmann::json sample = testing::sample();
  for (nlohmann::json& row : sample["results"]) {  // the counts a row carries since normcheck counts them
    row["cases_compared"] = row["outcome"] == "PASSED" ? 7 : 0;
    row["draws_refused"] = 4;
  }
  Expected<Model> m = build_model(sample, "sample");
  ASSERT_TRUE(m) << m.message();
  const std::string xml = render_junit_xml(*m);
  EXPECT_TRUE(parse_xml(xml).ok());
  EXPECT_THAT(xml, HasSubstr("<property name=\"cases_compared\" value=\"7\"/><property name=\"draws_refused\" value=\"4\"/>"));
  // The sample without the counts (an older document) renders as before.
  Expected<Model> old = build_model(testing::sample(), "sample");
  ASSERT_TRUE(old) << old.message();
  EXPECT_EQ(render_junit_xml(*old).find("cases_compared"), std::string::npos);
}

}  // namespace
}  // namespace normcheck::report
