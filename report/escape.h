#pragma once
/// Escaping for every format the reports write. Every string that comes from a results document
/// (a plugin's name, a reason, a descriptor) goes through one of these on its way out.
#include <string>
#include <string_view>

namespace normcheck::report {

/// Text and attribute values in HTML: & < > " ' as character references.
std::string html_escape(std::string_view s);
/// Text and attribute values in XML 1.0: as html_escape, plus the control characters XML 1.0 cannot
/// carry at all (everything below 0x20 but tab, newline, carriage return) become '?'.
std::string xml_escape(std::string_view s);
/// Plain Markdown text (also inside a GFM table cell): Markdown's punctuation and | are
/// backslash-escaped, < > & become character references (GitHub renders some raw HTML).
std::string md_text(std::string_view s);
/// s as one inline code span: a backtick run longer than any inside s (CommonMark 6.1).
std::string md_code_span(std::string_view s);
/// s as a fenced code block (a fence longer than any backtick run inside s), ending in a newline.
std::string md_code_block(std::string_view s);

/// s with each invalid UTF-8 sequence replaced by U+FFFD.
std::string valid_utf8(std::string_view s);
/// s with every control character (newline, tab...) replaced by a space.
std::string one_line(std::string_view s);

/// A number of ULP (or of bounds) for people: "0.5", "3", "1.7e+04", "inf".
std::string format_number(double v);

}  // namespace normcheck::report
