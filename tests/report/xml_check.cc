#include "xml_check.h"

#include <cctype>

namespace normcheck::report::testing {
namespace {

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' || (c & 0x80); }
bool name_char(char c) {
  return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  XmlDocument run() {
    if (s_.compare(0, 5, "<?xml") == 0) {
      const auto end = s_.find("?>");
      if (end == std::string::npos) return fail("unterminated XML declaration");
      i_ = end + 2;
    }
    int roots = 0;
    std::vector<int> open;
    while (i_ < s_.size() && doc_.ok()) {
      if (s_[i_] != '<') {
        std::string text;
        if (!characters(text)) break;
        if (open.empty()) {
          for (char c : text) {
            if (!std::isspace(static_cast<unsigned char>(c))) return fail("text outside the root element");
          }
        } else {
          doc_.elements[open.back()].text += text;
        }
        continue;
      }
      if (s_.compare(i_, 4, "<!--") == 0) {
        const auto end = s_.find("-->", i_ + 4);
        if (end == std::string::npos) return fail("unterminated comment");
        if (s_.substr(i_ + 4, end - i_ - 4).find("--") != std::string::npos) return fail("'--' inside a comment");
        i_ = end + 3;
        continue;
      }
      if (s_.compare(i_, 2, "</") == 0) {
        i_ += 2;
        const std::string n = name();
        skip_space();
        if (i_ >= s_.size() || s_[i_] != '>') return fail("bad end tag </" + n);
        ++i_;
        if (open.empty() || doc_.elements[open.back()].name != n) return fail("unmatched end tag </" + n + ">");
        open.pop_back();
        continue;
      }
      ++i_;
      XmlElement e;
      e.name = name();
      if (e.name.empty()) return fail("bad tag name");
      e.parent = open.empty() ? -1 : open.back();
      if (open.empty() && ++roots > 1) return fail("a second root element <" + e.name + ">");
      for (;;) {
        const bool spaced = skip_space();
        if (i_ >= s_.size()) return fail("unterminated tag <" + e.name);
        if (s_[i_] == '>' || s_.compare(i_, 2, "/>") == 0) break;
        if (!spaced) return fail("no space before an attribute in <" + e.name + ">");
        const std::string a = name();
        if (a.empty() || i_ >= s_.size() || s_[i_] != '=') return fail("bad attribute in <" + e.name + ">");
        ++i_;
        if (i_ >= s_.size() || (s_[i_] != '"' && s_[i_] != '\'')) return fail("unquoted attribute " + a);
        const char q = s_[i_++];
        std::string value;
        while (i_ < s_.size() && s_[i_] != q) {
          if (s_[i_] == '<') return fail("'<' in attribute " + a);
          if (s_[i_] == '&') {
            if (!reference(value)) return doc_;
          } else {
            value.push_back(s_[i_++]);
          }
        }
        if (i_ >= s_.size()) return fail("unterminated attribute " + a);
        ++i_;
        if (!e.attributes.emplace(a, value).second) return fail("attribute " + a + " twice");
      }
      doc_.elements.push_back(e);
      if (s_[i_] == '/') {
        i_ += 2;
      } else {
        ++i_;
        open.push_back(static_cast<int>(doc_.elements.size()) - 1);
      }
    }
    if (doc_.ok() && !open.empty()) return fail("unclosed <" + doc_.elements[open.back()].name + ">");
    if (doc_.ok() && roots == 0) return fail("no root element");
    return doc_;
  }

 private:
  XmlDocument fail(const std::string& why) {
    if (doc_.ok()) doc_.error = why + " at offset " + std::to_string(i_);
    return doc_;
  }
  bool skip_space() {
    const std::size_t start = i_;
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
    return i_ > start;
  }
  std::string name() {
    const std::size_t start = i_;
    if (i_ < s_.size() && name_start(s_[i_])) {
      while (i_ < s_.size() && name_char(s_[i_])) ++i_;
    }
    return s_.substr(start, i_ - start);
  }
  bool reference(std::string& out) {
    const auto end = s_.find(';', i_);
    if (end == std::string::npos || end - i_ > 10) return fail("bad '&'"), false;
    const std::string ref = s_.substr(i_ + 1, end - i_ - 1);
    static const std::map<std::string, std::string> kNamed = {
        {"amp", "&"}, {"lt", "<"}, {"gt", ">"}, {"quot", "\""}, {"apos", "'"}};
    if (auto it = kNamed.find(ref); it != kNamed.end()) {
      out += it->second;
    } else if (ref.size() > 1 && ref[0] == '#') {
      const bool hex = ref[1] == 'x';
      const std::string digits = ref.substr(hex ? 2 : 1);
      if (digits.empty()) return fail("bad character reference &" + ref + ";"), false;
      for (char c : digits) {
        if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c))))
          return fail("bad character reference &" + ref + ";"), false;
      }
      const long cp = std::stol(digits, nullptr, hex ? 16 : 10);
      if (cp < 0x20 && cp != 9 && cp != 10 && cp != 13) return fail("reference to a control character"), false;
      out += cp < 0x80 ? std::string(1, static_cast<char>(cp)) : std::string("?");
    } else {
      return fail("unknown entity &" + ref + ";"), false;
    }
    i_ = end + 1;
    return true;
  }
  bool characters(std::string& out) {
    while (i_ < s_.size() && s_[i_] != '<') {
      const auto u = static_cast<unsigned char>(s_[i_]);
      if (u < 0x20 && u != '\t' && u != '\n' && u != '\r') return fail("a control character in text"), false;
      if (s_[i_] == '&') {
        if (!reference(out)) return false;
        continue;
      }
      if (s_[i_] == '>' && i_ >= 2 && s_.compare(i_ - 2, 2, "]]") == 0) return fail("']]>' in text"), false;
      out.push_back(s_[i_++]);
    }
    return true;
  }

  const std::string& s_;
  std::size_t i_ = 0;
  XmlDocument doc_;
};

}  // namespace

int XmlDocument::count(const std::string& name, int ancestor) const {
  int n = 0;
  for (const XmlElement& e : elements) {
    if (e.name != name) continue;
    if (ancestor < 0) {
      ++n;
      continue;
    }
    for (int p = e.parent; p >= 0; p = elements[p].parent) {
      if (p == ancestor) {
        ++n;
        break;
      }
    }
  }
  return n;
}

std::vector<int> XmlDocument::indices(const std::string& name) const {
  std::vector<int> out;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (elements[i].name == name) out.push_back(static_cast<int>(i));
  }
  return out;
}

XmlDocument parse_xml(const std::string& text) { return Parser(text).run(); }

}  // namespace normcheck::report::testing
