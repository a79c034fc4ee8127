#include "tools/normcheck/policy.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "report/strict_json.h"
#include "tools/normcheck/cli_error.h"

namespace normcheck::tool {
namespace {

using nlohmann::json;

constexpr const char* kTopKeys[] = {"policy_version", "description", "ops",      "dtypes",
                                    "profiles",       "properties",  "may_skip", "tolerance_multiplier"};
constexpr const char* kSkipKeys[] = {"op", "property", "why"};

std::string joined(const auto& keys) {
  std::string s;
  for (const char* k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

/// A JSON value as it appears in an error message, shortened.
std::string shown(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return one_line(s);
}

const char* type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  Status fail(const std::string& expected, const std::string& got) const {
    return Status::error("Expected " + expected + ", but got " + got + " in " + source_);
  }

  Status unknown_keys(const json& obj, const auto& known, const std::string& where) const {
    for (const auto& item : obj.items()) {
      const std::string& key = item.key();  // a named variable: clang 14 cannot capture a binding
      if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return key == k; }))
        return Status::error("Unknown key '" + one_line(key) + "' " + where + " in " + source_ + " (known: " +
                             joined(known) + ")");
    }
    return Status();
  }

  /// An array of names, each parsed; sorted into `order` and deduplicated.
  template <class T, class Parse>
  Status names(const json& v, const std::string& key, Parse parse, const char* what, std::vector<T>& out) const {
    const std::string a = std::string(std::string_view("aeiou").find(what[0]) == std::string_view::npos ? "a " : "an ") + what;
    if (!v.is_array()) return fail("an array of " + std::string(what) + " names at " + key, type_name(v));
    if (v.empty()) return fail("at least one " + std::string(what) + " at " + key, "[]");
    out.clear();
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string at = key + "[" + std::to_string(i) + "]";
      if (!v[i].is_string()) return fail(a + " name at " + at, shown(v[i]));
      const std::optional<T> parsed = parse(v[i].get<std::string>());
      if (!parsed) return fail(a + " name at " + at, shown(v[i]));
      if (std::find(out.begin(), out.end(), *parsed) == out.end()) out.push_back(*parsed);
    }
    return Status();
  }

  const std::string& source() const { return source_; }

 private:
  std::string source_;
};

template <class T, std::size_t N>
void in_order(std::vector<T>& v, const T (&order)[N]) {
  std::vector<T> sorted;
  for (const T& x : order)
    if (std::find(v.begin(), v.end(), x) != v.end()) sorted.push_back(x);
  v = std::move(sorted);
}

}  // namespace

double Policy::multiplier_for(DType d) const {
  for (std::size_t i = 0; i < std::size(kAllDTypes); ++i)
    if (kAllDTypes[i] == d) return multiplier[i];
  return 1.0;
}

const SkipRule* Policy::skip_rule(Op op, std::string_view property) const {
  for (const SkipRule& r : may_skip)
    if ((!r.op || *r.op == op) && (r.property.empty() || r.property == property)) return &r;
  return nullptr;
}

Policy default_policy() {
  Policy p;
  p.ops.assign(std::begin(kAllOps), std::end(kAllOps));
  p.dtypes.assign(std::begin(kAllDTypes), std::end(kAllDTypes));
  p.profiles.assign(std::begin(kAllProfiles), std::end(kAllProfiles));
  for (const properties::Property& prop : properties::all_properties()) p.properties.push_back(&prop);
  p.may_skip.push_back({std::nullopt, "", "the default policy: any row may be skipped"});
  return p;
}

Expected<Policy> parse_policy(std::string_view text, const std::string& source) {
  const Parser ps(source);
  Expected<json> parsed = report::parse_json_strict(text, "a JSON policy document", source);
  if (!parsed) return parsed.status();
  const json& doc = *parsed;
  if (!doc.is_object()) return ps.fail("a JSON object (a normcheck policy)", type_name(doc));
  if (Status s = ps.unknown_keys(doc, kTopKeys, "at the top level"); !s.ok()) return s;

  Policy p = default_policy();
  p.may_skip.clear();
  p.source = source;
  const auto version = doc.find("policy_version");
  if (version == doc.end()) return ps.fail("\"policy_version\": " + std::to_string(kPolicyVersion), "no policy_version");
  if (!version->is_number_integer() || *version != kPolicyVersion)
    return ps.fail("policy_version " + std::to_string(kPolicyVersion), shown(*version));

  if (const auto d = doc.find("description"); d != doc.end()) {
    if (!d->is_string()) return ps.fail("a string at description", type_name(*d));
    p.description = one_line(d->get<std::string>());
  }
  if (const auto v = doc.find("ops"); v != doc.end()) {
    if (Status s = ps.names<Op>(*v, "ops", parse_op, "op", p.ops); !s.ok()) return s;
    in_order(p.ops, kAllOps);
  }
  if (const auto v = doc.find("dtypes"); v != doc.end()) {
    if (Status s = ps.names<DType>(*v, "dtypes", parse_dtype, "dtype", p.dtypes); !s.ok()) return s;
    in_order(p.dtypes, kAllDTypes);
  }
  if (const auto v = doc.find("profiles"); v != doc.end()) {
    if (Status s = ps.names<Profile>(*v, "profiles", parse_profile, "profile", p.profiles); !s.ok()) return s;
    in_order(p.profiles, kAllProfiles);
  }
  if (const auto v = doc.find("properties"); v != doc.end()) {
    auto find = [](std::string_view n) -> std::optional<const properties::Property*> {
      const properties::Property* prop = properties::find_property(n);
      return prop ? std::optional(prop) : std::nullopt;
    };
    std::vector<const properties::Property*> chosen;
    if (Status s = ps.names<const properties::Property*>(*v, "properties", find, "property", chosen); !s.ok()) return s;
    p.properties.clear();
    for (const properties::Property& prop : properties::all_properties())
      if (std::find(chosen.begin(), chosen.end(), &prop) != chosen.end()) p.properties.push_back(&prop);
  }
  if (const auto v = doc.find("may_skip"); v != doc.end()) {
    if (!v->is_array()) return ps.fail("an array of {\"op\", \"property\", \"why\"} objects at may_skip", type_name(*v));
    for (std::size_t i = 0; i < v->size(); ++i) {
      const std::string at = "may_skip[" + std::to_string(i) + "]";
      const json& e = (*v)[i];
      if (!e.is_object()) return ps.fail("an object with \"op\" and/or \"property\" at " + at, shown(e));
      if (Status s = ps.unknown_keys(e, kSkipKeys, "at " + at); !s.ok()) return s;
      SkipRule rule;
      if (const auto op = e.find("op"); op != e.end()) {
        if (!op->is_string() || !parse_op(op->get<std::string>()))
          return ps.fail("an op name at " + at + ".op", shown(*op));
        rule.op = parse_op(op->get<std::string>());
      }
      if (const auto prop = e.find("property"); prop != e.end()) {
        if (!prop->is_string() || !properties::find_property(prop->get<std::string>()))
          return ps.fail("a property name at " + at + ".property", shown(*prop));
        rule.property = prop->get<std::string>();
      }
      if (const auto why = e.find("why"); why != e.end()) {
        if (!why->is_string()) return ps.fail("a string at " + at + ".why", type_name(*why));
        rule.why = one_line(why->get<std::string>());
      }
      if (!rule.op && rule.property.empty()) return ps.fail("\"op\" or \"property\" (or both) at " + at, shown(e));
      p.may_skip.push_back(std::move(rule));
    }
  }
  if (const auto v = doc.find("tolerance_multiplier"); v != doc.end()) {
    if (!v->is_object()) return ps.fail("an object {\"<dtype>\": <multiplier>} at tolerance_multiplier", type_name(*v));
    for (const auto& [key, value] : v->items()) {
      const std::optional<DType> d = parse_dtype(key);
      if (!d)
        return Status::error("Unknown key '" + one_line(key) + "' at tolerance_multiplier in " + source +
                             " (known: float64, float32, float16, bfloat16)");
      const std::string at = "tolerance_multiplier." + key;
      // A multiplier below 1 tightens the bound, above 1 loosens it (up to kMaxMultiplier).
      if (!value.is_number() || !(value.get<double>() > 0) || !(value.get<double>() <= kMaxMultiplier))
        return ps.fail("a number in (0, 1e6] at " + at, shown(value));
      for (std::size_t i = 0; i < std::size(kAllDTypes); ++i)
        if (kAllDTypes[i] == *d) p.multiplier[i] = value.get<double>();
    }
  }
  return p;
}

Expected<Policy> read_policy(const std::string& path) {
  Expected<std::string> text = report::read_bounded(path, "policy file");
  if (!text) return text.status();
  return parse_policy(*text, path);
}

}  // namespace normcheck::tool
