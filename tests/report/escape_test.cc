// The escapes every renderer relies on.
#include "report/escape.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace normcheck::report {
namespace {

TEST(Escape, HtmlEscapesEveryMarkupCharacter) {
  EXPECT_EQ(html_escape("<a href=\"x\" title='y'>&</a>"),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
}

TEST(Escape, XmlDropsControlCharactersXmlCannotCarry) {
  EXPECT_EQ(xml_escape(std::string("a\x01" "b\tc\n<")), "a?b\tc\n&lt;");
}

TEST(Escape, MarkdownTextCannotOpenATagOrEndATableCell) {
  EXPECT_EQ(md_text("a|b <script> *x* [l](u)"), "a\\|b &lt;script&gt; \\*x\\* \\[l\\](u)");
  EXPECT_EQ(md_text("layer_norm _x_"), "layer_norm \\_x\\_");
}

TEST(Escape, CodeSpansAndBlocksOutlastTheBackticksInside) {
  EXPECT_EQ(md_code_span("a`b"), "``a`b``");
  EXPECT_EQ(md_code_span("`x`"), "`` `x` ``");
  EXPECT_EQ(md_code_block("echo ```"), "````\necho ```\n````\n");
}

TEST(Escape, InvalidUtf8BecomesTheReplacementCharacter) {
  EXPECT_EQ(valid_utf8("ok \xC3\xA9 \xFF end"), "ok \xC3\xA9 \xEF\xBF\xBD end");
  EXPECT_EQ(valid_utf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong NUL
}

TEST(Escape, NumbersReadLikeNumbers) {
  EXPECT_EQ(format_number(0.5), "0.5");
  EXPECT_EQ(format_number(3), "3");
  EXPECT_EQ(format_number(0.012), "0.012");
  EXPECT_EQ(format_number(1.0 / 0.0), "inf");
}

}  // namespace
}  // namespace normcheck::report
