// index.html, as text: self-contained, escaped, every section there. (report/check_html.sh opens
// it in a browser.)
#include "report/index_html.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sample.h"

namespace normcheck::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string render_sample() {
  Expected<Model> m = build_model(testing::sample(), "sample");
  EXPECT_TRUE(m) << m.message();
  return m ? render_index_html(*m) : "";
}

int occurrences(const std::string& s, const std::string& what) {
  int n = 0;
  for (auto i = s.find(what); i != std::string::npos; i = s.find(what, i + 1)) ++n;
  return n;
}

TEST(IndexHtml, LoadsNothingFromAnywhere) {
  const std::string html = render_sample();
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr(" src=")));
  EXPECT_THAT(html, HasSubstr("Content-Security-Policy\" content=\"default-src 'none';"));
}

TEST(IndexHtml, HasOnlyItsOwnScriptSoNoNameCanInjectMarkup) {
  const std::string html = render_sample();
  EXPECT_EQ(occurrences(html, "<script"), 1);
  EXPECT_EQ(occurrences(html, "</script"), 1);
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<b>within")));
  EXPECT_THAT(html, HasSubstr("evil&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)"
                              "&lt;/script&gt;"));
}

TEST(IndexHtml, ColorsTheMatrixCellsByWorstOutcome) {
  const std::string html = render_sample();
  EXPECT_THAT(html, HasSubstr("<td class=\"cell fail\" data-impl=\"cpu\" data-op=\"batch_norm\""));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell pass\" data-impl=\"cpu\" data-op=\"layer_norm\""));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell skip\" data-impl=\"seed-groupnorm\" data-op=\"layer_norm\""));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell none\""));  // seed-groupnorm has no batch_norm rows
  EXPECT_THAT(html, HasSubstr("class=\"legend\""));
}

TEST(IndexHtml, HasEverySection) {
  const std::string html = render_sample();
  for (const char* id : {"causes", "matrix", "worst", "errors", "profiles", "mutants", "rows"})
    EXPECT_THAT(html, HasSubstr(std::string("<section class=\"card\" id=\"") + id + "\">")) << id;
  EXPECT_EQ(occurrences(html, "<svg "), 3);  // one histogram per implementation under test
  EXPECT_THAT(html, HasSubstr("data-copy=\"normcheck repro &#39;batch_norm shape=3x17"));
  EXPECT_THAT(html, HasSubstr("Killed <b>2 of 3</b>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"pill survived\">SURVIVED</span>"));
}

TEST(IndexHtml, ListsTheCausesFirstAndCountsThemInTheVerdict) {
  const std::string html = render_sample();
  EXPECT_THAT(html, HasSubstr("<div class=\"causes-count\">2 causes in 2 failed rows</div>"));
  const std::size_t causes = html.find("<section class=\"card\" id=\"causes\"><h2>Causes: 2 causes in 2 failed rows</h2>");
  ASSERT_NE(causes, std::string::npos);
  EXPECT_LT(causes, html.find("<section class=\"card\" id=\"matrix\">"));
  EXPECT_THAT(html, HasSubstr("<li><b>batch_norm y: accuracy (bfloat16, contiguous)</b> <span class=\"sub\">cpu, 1 row: "
                              "batch_norm differential</span>"));
}

TEST(IndexHtml, TheWorstCasesTellTheRowsFiguresFromTheMinimalCase) {
  const std::string html = render_sample();
  EXPECT_THAT(html, HasSubstr("<th class=\"num\">row: max ULP</th><th>row: max error / bound</th><th>minimal case: "));
  EXPECT_THAT(html, HasSubstr("<div class=\"detail\">minimal case: y[5]: got 0.25, want 0.2500001"));
}

TEST(IndexHtml, TheFingerprintShowsConventionsApartFromAccuracy) {
  const std::string html = render_sample();
  EXPECT_THAT(html, HasSubstr("<th>implementation</th><th>follows</th><th>keras conventions</th>"));
  EXPECT_THAT(html, HasSubstr("<tr><th class=\"name\">cpu</th><td>onnx, pytorch</td>"));
  EXPECT_THAT(html, HasSubstr("<td>1 failed row</td></tr>"));
}

TEST(IndexHtml, HistogramsAddUpTheRows) {
  const std::string html = render_sample();
  // cpu: 900+600+3000+5000 elements below 0.5 ULP.
  EXPECT_THAT(html, HasSubstr("<title>[0, 0.5) ULP: 9500 elements</title>"));
}

}  // namespace
}  // namespace normcheck::report
