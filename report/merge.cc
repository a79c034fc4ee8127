// merge_results: the shards of one run into one document (docs/report-schema.md, "Merging shards").
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "report/escape.h"
#include "report/model.h"
#include "report/report.h"

namespace normcheck::report {
namespace {

using nlohmann::json;

/// The field, or null when absent.
json field(const json& doc, const char* key) { return doc.contains(key) ? doc[key] : json(nullptr); }

std::string shown(const json& v) { return one_line(v.dump(-1, ' ', false, json::error_handler_t::replace)); }

void append_unique(json& list, const json& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

/// The worse of two outcome strings (both already checked by build_model).
json worse_outcome(const json& a, const json& b) {
  const Outcome oa = *parse_outcome(a.get<std::string>()), ob = *parse_outcome(b.get<std::string>());
  return std::string(outcome_name(worse(oa, ob)));
}

class Merger {
 public:
  explicit Merger(const std::vector<std::string>& names) : names_(names) {}

  Status add(const json& shard, std::size_t i) {
    const std::string name = i < names_.size() ? names_[i] : fmt::format("shard {}", i + 1);
    NC_RETURN_IF_ERROR(validate_results(shard, name));
    if (i == 0) {
      merged_ = shard;
      merged_["implementations"] = json::array();
      merged_["results"] = json::array();
      merged_["profile_fingerprint"] = json::array();
      merged_["kill_matrix"] = {{"properties", json::array()}, {"mutants", json::array()}};
      merged_["wall_seconds"] = 0.0;
      first_name_ = name;
    }
    for (const char* key : {"tier", "normcheck_version", "seed", "policy"}) {
      if (field(shard, key) != field(merged_, key))
        return Status::error(fmt::format("Expected {} {} (as in {}) in every shard, but got {} in {}", key,
                                         shown(field(merged_, key)), first_name_, shown(field(shard, key)), name));
    }
    NC_RETURN_IF_ERROR(add_implementations(shard, name));
    NC_RETURN_IF_ERROR(add_rows(shard, name));
    add_fingerprints(shard);
    add_kill_matrix(shard);
    const double wall = field(shard, "wall_seconds").is_number() ? shard["wall_seconds"].get<double>() : 0.0;
    merged_["wall_seconds"] = std::max(merged_["wall_seconds"].get<double>(), wall);
    if (field(shard, "created_utc").is_string() &&
        (!field(merged_, "created_utc").is_string() || shard["created_utc"] > merged_["created_utc"]))
      merged_["created_utc"] = shard["created_utc"];
    conforming_ = conforming_ && shard["summary"]["conforming"].get<bool>();
    add_gate(shard, i);
    return {};
  }

  Expected<json> finish(std::size_t count) {
    merged_["shard"] = {{"index", 0}, {"count", count}};
    Expected<Model> m = build_model(merged_, "the merged results", SummaryCheck::kIgnore);
    if (!m) return m.status();
    // Under a policy each shard's verdict is the gate's; the run conforms when every shard does.
    const bool has_policy = !m->meta.policy.empty();
    const bool covered = check_coverage();
    merged_["summary"] = summary_json(m->counts, has_policy ? conforming_ && covered : m->counts.conforming());
    merged_["causes"] = causes_json(*m);  // rows of several shards may share a cause
    NC_RETURN_IF_ERROR(validate_results(merged_, "the merged results"));
    return merged_;
  }

 private:
  Status add_implementations(const json& shard, const std::string& name) {
    for (const json& impl : shard["implementations"]) {
      const std::string& n = impl["name"].get_ref<const std::string&>();
      auto [it, fresh] = implementations_.emplace(n, std::make_pair(impl, name));
      if (fresh) {
        merged_["implementations"].push_back(impl);
      } else if (field(impl, "kind") != field(it->second.first, "kind")) {
        return Status::error(fmt::format("Expected implementation \"{}\" to be of kind {} (as in {}) in every "
                                         "shard, but got {} in {}",
                                         one_line(n), shown(field(it->second.first, "kind")), it->second.second,
                                         shown(field(impl, "kind")), name));
      }
    }
    return {};
  }

  Status add_rows(const json& shard, const std::string& name) {
    for (const json& row : shard["results"]) {
      auto key = std::make_tuple(row["implementation"].get<std::string>(), row["op"].get<std::string>(),
                                 row["property"].get<std::string>());
      auto [it, fresh] = rows_.emplace(key, name);
      if (!fresh)
        return Status::error(fmt::format("Expected each row in one shard only, but got {} {} {} in {} and {}",
                                         one_line(std::get<0>(key)), one_line(std::get<1>(key)),
                                         one_line(std::get<2>(key)), it->second, name));
      merged_["results"].push_back(row);
    }
    return {};
  }

  void add_fingerprints(const json& shard) {
    json& merged = merged_["profile_fingerprint"];
    for (const json& f : field(shard, "profile_fingerprint").is_array() ? shard["profile_fingerprint"] : json::array()) {
      auto it = std::find_if(merged.begin(), merged.end(),
                             [&](const json& m) { return m["implementation"] == f["implementation"]; });
      if (it == merged.end()) {
        merged.push_back(f);
        continue;
      }
      for (const auto& [profile, outcome] : f["profiles"].items()) {
        json& slot = (*it)["profiles"][profile];
        slot = slot.is_null() ? outcome : worse_outcome(slot, outcome);
      }
      for (const char* count : {"accuracy_failed_rows", "other_failed_rows"}) {
        if (!field(f, count).is_number_integer()) continue;
        json& slot = (*it)[count];
        slot = (slot.is_number_integer() ? slot.get<std::int64_t>() : 0) + f[count].get<std::int64_t>();
      }
    }
  }

  void add_kill_matrix(const json& shard) {
    const json km = field(shard, "kill_matrix");
    if (!km.is_object()) return;
    json& merged = merged_["kill_matrix"];
    for (const json& p : field(km, "properties").is_array() ? km["properties"] : json::array())
      append_unique(merged["properties"], p);
    for (const json& mu : field(km, "mutants").is_array() ? km["mutants"] : json::array()) {
      json& list = merged["mutants"];
      auto it = std::find_if(list.begin(), list.end(), [&](const json& m) { return m["name"] == mu["name"]; });
      if (it == list.end()) {
        list.push_back(mu);
        if (!list.back().contains("killed_by") || list.back()["killed_by"].is_null())
          list.back()["killed_by"] = json::array();
        continue;
      }
      (*it)["killed"] = (*it)["killed"].get<bool>() || mu["killed"].get<bool>();
      for (const json& p : field(mu, "killed_by").is_array() ? mu["killed_by"] : json::array())
        append_unique((*it)["killed_by"], p);
      if (field(*it, "bug").is_null() && !field(mu, "bug").is_null()) (*it)["bug"] = mu["bug"];
    }
  }

  /// A gate's shards: every shard's violations and regressions, and the op x dtype x profile
  /// combinations its policy requires (gate.required), kept for check_coverage.
  void add_gate(const json& shard, std::size_t i) {
    const json gate = field(shard, "gate");
    if (!gate.is_object()) return;
    if (i == 0) merged_["gate"]["violations"] = json::array(), merged_["gate"]["regressions"] = json::array();
    for (const char* key : {"violations", "regressions"})
      for (const json& v : field(gate, key).is_array() ? gate[key] : json::array()) append_unique(merged_["gate"][key], v);
    for (const json& c : field(gate, "required").is_array() ? gate["required"] : json::array())
      if (c.is_array() && c.size() == 3 && c[0].is_string() && c[1].is_string() && c[2].is_string())
        required_.insert({c[0].get<std::string>(), c[1].get<std::string>(), c[2].get<std::string>()});
  }

  /// The gate's coverage rule, which a shard cannot apply: a required op x dtype x profile
  /// conforms only where a case of it compared something in some shard's rows. Adds a violation
  /// per uncovered combination; true when none is.
  bool check_coverage() {
    std::map<std::tuple<std::string, std::string, std::string>, long long> compared;
    for (const json& row : merged_["results"])
      for (const json& b : field(row, "breakdown").is_array() ? row["breakdown"] : json::array())
        if (field(b, "dtype").is_string() && field(b, "profile").is_string() && field(b, "compared").is_number())
          compared[{row["op"].get<std::string>(), b["dtype"].get<std::string>(), b["profile"].get<std::string>()}] +=
              b["compared"].get<long long>();
    bool covered = true;
    for (const auto& [op, dtype, profile] : required_) {
      const auto c = compared.find({op, dtype, profile});
      if (c != compared.end() && c->second > 0) continue;
      covered = false;
      append_unique(merged_["gate"]["violations"],
                    fmt::format("policy: requires {} {} {}, but no case of it compared anything in any row of any "
                                "shard (the draws of it were refused or had nothing to relate)",
                                one_line(op), one_line(dtype), one_line(profile)));
    }
    return covered;
  }

  const std::vector<std::string>& names_;
  json merged_;
  std::set<std::tuple<std::string, std::string, std::string>> required_;  // gate.required of every shard
  std::string first_name_;
  bool conforming_ = true;
  std::map<std::string, std::pair<json, std::string>> implementations_;  // name -> (entry, shard)
  std::map<std::tuple<std::string, std::string, std::string>, std::string> rows_;  // row -> shard
};

}  // namespace

Expected<json> merge_results(const std::vector<json>& shards, const std::vector<std::string>& names) {
  if (shards.empty()) return Status::error("Expected at least one results document to merge, but got none");
  Merger m(names);
  for (std::size_t i = 0; i < shards.size(); ++i) NC_RETURN_IF_ERROR(m.add(shards[i], i));
  return m.finish(shards.size());
}

}  // namespace normcheck::report
