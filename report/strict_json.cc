// parse_json_strict and read_bounded (strict_json.h): nlohmann's parser driving its own DOM builder
// through a SAX handler that follows the document's structure, refusing a duplicate key or a level
// too deep as it is met. (Not json::parse with a callback: after every object or array that one
// rescans the enclosing array for a discarded element, quadratic in the array's length; a baseline
// of 100,000 rows took 7 s in it.)
#include "report/strict_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <vector>

#include "report/escape.h"

namespace normcheck::report {
namespace {

using nlohmann::json;

/// Thrown out of the parser's callback: the refusal's "got" part.
struct Refused {
  std::string got;
};

/// A key JSON-quoted (control characters escaped, so the message stays one line), shortened.
std::string quoted(const std::string& key) {
  std::string s = json(key).dump(-1, ' ', true, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 56) + "...\"";
  return s;
}

/// A key as it appears in a path: bare when it is a plain name, else quoted.
std::string key_shown(const std::string& key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  return plain ? key : quoted(key);
}

/// The open objects and arrays from the root to where the parser is.
class Structure {
 public:
  /// A value (object, array or scalar) starts: it is the next element of an enclosing array.
  void element() {
    if (!open_.empty() && !open_.back().is_object) ++open_.back().index;
  }
  void open(bool is_object) {
    if (open_.size() >= kMaxJsonDepth) throw Refused{fmt::format("more than {} levels of nesting", kMaxJsonDepth)};
    open_.push_back({is_object, {}, {}, -1});
  }
  void close() { open_.pop_back(); }
  void key(const std::string& k) {
    Level& top = open_.back();
    top.key = k;
    if (!top.keys.insert(k).second) throw Refused{fmt::format("the key {} twice, at {}", quoted(k), path())};
  }

 private:
  struct Level {
    bool is_object;
    std::set<std::string> keys;  ///< an object's keys so far
    std::string key;             ///< an object's current key
    long index;                  ///< an array's current element
  };

  /// "rows[3].op"; "the top level" for the root.
  std::string path() const {
    std::string p;
    for (const Level& l : open_) {
      if (l.is_object && !l.keys.empty()) p += (p.empty() ? "" : ".") + key_shown(l.key);
      if (!l.is_object && l.index >= 0) p += fmt::format("[{}]", l.index);
    }
    return p.empty() ? "the top level" : p;
  }

  std::vector<Level> open_;
};

/// "64 MiB", or "1000 bytes" where that is not a whole number of MiB.
std::string size_text(std::size_t bytes) {
  if (bytes % (std::size_t{1} << 20) == 0) return fmt::format("{} MiB", bytes >> 20);
  return fmt::format("{} bytes", bytes);
}

/// nlohmann's DOM builder with the structure followed on the way (json::sax_parse calls these).
class StrictSax {
 public:
  explicit StrictSax(json& out) : dom_(out, /*allow_exceptions=*/true) {}
  bool null() { return at_.element(), dom_.null(); }
  bool boolean(bool v) { return at_.element(), dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return at_.element(), dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return at_.element(), dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const std::string& s) { return at_.element(), dom_.number_float(v, s); }
  bool string(std::string& v) { return at_.element(), dom_.string(v); }
  bool binary(json::binary_t& v) { return at_.element(), dom_.binary(v); }
  bool start_object(std::size_t n) { return at_.element(), at_.open(true), dom_.start_object(n); }
  bool key(std::string& k) { return at_.key(k), dom_.key(k); }
  bool end_object() { return at_.close(), dom_.end_object(); }
  bool start_array(std::size_t n) { return at_.element(), at_.open(false), dom_.start_array(n); }
  bool end_array() { return at_.close(), dom_.end_array(); }
  template <class Exception>
  bool parse_error(std::size_t at, const std::string& token, const Exception& e) {
    return dom_.parse_error(at, token, e);  // throws e
  }

 private:
  Structure at_;
  nlohmann::detail::json_sax_dom_parser<json> dom_;
};

}  // namespace

Expected<json> parse_json_strict(std::string_view text, std::string_view what, std::string_view source) {
  auto refusal = [&](std::string_view got) {
    return Status::error(fmt::format("Expected {} (each key once per object, nested at most {} deep), but got {} in {}",
                                     what, kMaxJsonDepth, got, source));
  };
  try {
    json out;
    StrictSax sax(out);
    json::sax_parse(text, &sax);
    return out;
  } catch (const Refused& r) {
    return refusal(r.got);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for 1e999 (found by policy_fuzz)
    // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    std::string problem = e.what();
    if (const std::size_t end = problem.find("] "); problem.rfind("[json.exception", 0) == 0 && end != std::string::npos)
      problem = problem.substr(end + 2);
    return Status::error(fmt::format("Expected {}, but got a {} in {}", what, one_line(problem), source));
  }
}

Expected<std::string> read_bounded(const std::string& path, std::string_view what, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(fmt::format("Expected a readable {}, but got none at {}", what, path));
  std::string text;
  std::vector<char> chunk(std::size_t{1} << 16);
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes)
      return Status::error(fmt::format("Expected a {} of at most {}, but got more at {}", what, size_text(max_bytes), path));
  }
  if (in.bad()) return Status::error(fmt::format("Expected a readable {}, but could not read {}", what, path));
  return text;
}

}  // namespace normcheck::report
