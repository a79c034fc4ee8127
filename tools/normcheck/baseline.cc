#include "tools/normcheck/baseline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "report/atomic_file.h"
#include "report/strict_json.h"
#include "tools/normcheck/cli_error.h"

namespace normcheck::tool {
namespace {

using nlohmann::json;

constexpr const char* kTopKeys[] = {"normcheck_baseline", "tier", "seed", "created_utc", "rows"};
constexpr const char* kRowKeys[] = {"implementation", "op", "property", "max_bound_fraction", "max_ulp"};

std::string shown(const json& v) {
  std::string s = v.dump();
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return one_line(s);
}

json figure(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return "inf";
  return v;
}

std::string joined(const auto& keys) {
  std::string s;
  for (const char* k : keys) s += (s.empty() ? "" : ", ") + std::string(k);
  return s;
}

Status unknown_keys(const json& obj, const auto& known, const std::string& where, const std::string& source) {
  for (const auto& item : obj.items()) {
    const std::string& key = item.key();  // a named variable: clang 14 cannot capture a binding
    if (std::none_of(std::begin(known), std::end(known), [&](const char* k) { return key == k; }))
      return Status::error("Unknown key '" + one_line(key) + "' " + where + " in " + source + " (known: " + joined(known) +
                           ")");
  }
  return Status();
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string shown(double v) { return fmt::format("{:.6g}", v); }

std::optional<std::string> grew(const char* what, double now, std::optional<double> base, double slack) {
  if (!base || std::isnan(*base)) return std::nullopt;
  const double allowed = kBaselineFactor * *base + slack;
  if (!std::isnan(now) && now <= allowed) return std::nullopt;
  return fmt::format("{} {} > {} x baseline {} + {}", what, shown(now), kBaselineFactor, shown(*base), slack);
}

}  // namespace

const BaselineRow* Baseline::find(const std::string& impl, const std::string& op, const std::string& property) const {
  const auto at = index_.find(std::tie(impl, op, property));
  return at == index_.end() ? nullptr : &rows[at->second];
}

bool Baseline::add(BaselineRow row) {
  if (!index_.try_emplace({row.implementation, row.op, row.property}, rows.size()).second) return false;
  rows.push_back(std::move(row));
  return true;
}

Expected<Baseline> parse_baseline(std::string_view text, const std::string& source) {
  auto fail = [&](const std::string& expected, const std::string& got) {
    return Status::error("Expected " + expected + ", but got " + got + " in " + source);
  };
  Expected<json> parsed = report::parse_json_strict(text, "a JSON baseline document", source);
  if (!parsed) return parsed.status();
  const json& doc = *parsed;
  if (!doc.is_object()) return fail("a JSON object (a normcheck baseline)", shown(doc));
  if (Status s = unknown_keys(doc, kTopKeys, "at the top level", source); !s.ok()) return s;
  const auto version = doc.find("normcheck_baseline");
  if (version == doc.end() || !version->is_number_integer() || *version != kBaselineVersion)
    return fail("\"normcheck_baseline\": " + std::to_string(kBaselineVersion),
                version == doc.end() ? "none" : shown(*version));
  Baseline b;
  b.source = source;
  if (const auto t = doc.find("tier"); t != doc.end()) {
    if (!t->is_string()) return fail("a string at tier", shown(*t));
    b.tier = t->get<std::string>();
  }
  if (const auto t = doc.find("created_utc"); t != doc.end()) {
    if (!t->is_string()) return fail("a string at created_utc", shown(*t));
    b.created_utc = t->get<std::string>();
  }
  if (const auto s = doc.find("seed"); s != doc.end()) {
    if (!s->is_number_unsigned()) return fail("an integer >= 0 at seed", shown(*s));
    b.seed = s->get<std::uint64_t>();
  }
  const auto rows = doc.find("rows");
  if (rows == doc.end() || !rows->is_array()) return fail("an array at rows", rows == doc.end() ? "none" : shown(*rows));
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const std::string at = "rows[" + std::to_string(i) + "]";
    const json& r = (*rows)[i];
    if (!r.is_object()) return fail("an object at " + at, shown(r));
    if (Status s = unknown_keys(r, kRowKeys, "at " + at, source); !s.ok()) return s;
    BaselineRow row;
    for (auto [key, field] : {std::pair{"implementation", &row.implementation}, std::pair{"op", &row.op},
                              std::pair{"property", &row.property}}) {
      const auto v = r.find(key);
      if (v == r.end() || !v->is_string()) return fail(std::string("a string at ") + at + "." + key, v == r.end() ? "none" : shown(*v));
      *field = v->get<std::string>();
    }
    for (auto [key, field] : {std::pair{"max_bound_fraction", &row.max_bound_fraction}, std::pair{"max_ulp", &row.max_ulp}}) {
      const auto v = r.find(key);
      if (v == r.end() || v->is_null()) continue;
      if (v->is_number()) *field = v->get<double>();
      else if (*v == "inf") *field = std::numeric_limits<double>::infinity();
      else if (*v == "nan") *field = std::numeric_limits<double>::quiet_NaN();
      else return fail(std::string("a number, null, \"inf\" or \"nan\" at ") + at + "." + key, shown(*v));
      if (*field < 0) return fail(std::string("a number >= 0 at ") + at + "." + key, shown(*v));
    }
    const std::string key = row.implementation + " " + row.op + " " + row.property;
    if (!b.add(std::move(row)))
      return fail("one row per implementation x op x property at " + at, key + " a second time");
  }
  return b;
}

Expected<Baseline> read_baseline(const std::string& path) {
  Expected<std::string> text = report::read_bounded(path, "baseline file");
  if (!text) return text.status();
  return parse_baseline(*text, path);
}

std::string baseline_json(const std::vector<properties::RowResult>& rows, const std::string& tier, std::uint64_t seed) {
  json doc = {{"normcheck_baseline", kBaselineVersion}, {"tier", tier}, {"seed", seed}, {"created_utc", utc_now()},
              {"rows", json::array()}};
  for (const properties::RowResult& r : rows) {
    if (r.cases <= 0 || r.outcome == properties::Outcome::kSkipped) continue;  // nothing measured
    doc["rows"].push_back({{"implementation", r.implementation}, {"op", std::string(name(r.op))},
                           {"property", r.property}, {"max_bound_fraction", figure(r.max_bound_fraction)},
                           {"max_ulp", figure(r.max_ulp)}});
  }
  return doc.dump(2) + "\n";
}

Status write_baseline(const std::string& path, const std::string& content) {
  const std::filesystem::path p(path);
  if (p.filename().empty()) return Status::error("Expected a file name for --write-baseline, but got '" + path + "'");
  const std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  return report::write_files_atomically(dir, {{p.filename().string(), content}});
}

std::optional<std::string> regression(const properties::RowResult& row, const BaselineRow& base) {
  if (row.outcome == properties::Outcome::kSkipped || row.cases == 0) return std::nullopt;
  if (auto g = grew("max_bound_fraction", row.max_bound_fraction, base.max_bound_fraction, kBaselineBoundSlack)) return g;
  return grew("max_ulp", row.max_ulp, base.max_ulp, kBaselineUlpSlack);
}

}  // namespace normcheck::tool
