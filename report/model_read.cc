// build_model: a results document (docs/report-schema.md) into a Model, checking every field it
// reads. The first problem found is the error; its message names the field's path in the document.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "report/escape.h"
#include "report/model.h"

namespace normcheck::report {
namespace {

using nlohmann::json;

/// A JSON value for an error message: short, one line.
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return one_line(s);
}

/// Reads fields, keeping the first error; getters return a default after an error.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  bool ok() const { return error_.empty(); }
  Status status() const { return ok() ? Status() : Status::error(error_); }
  void fail(const std::string& expected, const std::string& got) {
    if (ok()) error_ = fmt::format("Expected {}, but got {} in {}", expected, got, source_);
  }

  /// obj[key] or nullptr when absent or null (after checking that obj is an object).
  const json* find(const json& obj, const char* key, const std::string& where, bool required) {
    if (!obj.is_object()) {
      fail(fmt::format("an object at {}", where), shown(obj));
      return nullptr;
    }
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) {
      if (required) fail(fmt::format("a field {} at {}", key, where), "none");
      return nullptr;
    }
    return &*it;
  }

  std::string str(const json& obj, const char* key, const std::string& where, bool required = false,
                  bool single_line = true) {
    const json* v = find(obj, key, where, required);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      fail(fmt::format("a string at {}.{}", where, key), shown(*v));
      return {};
    }
    std::string s = valid_utf8(v->get_ref<const std::string&>());
    return single_line ? one_line(s) : s;
  }

  double number(const json& obj, const char* key, const std::string& where, double fallback = 0) {
    return optional_number(obj, key, where).value_or(fallback);
  }

  /// A number, or "inf" / "nan" (JSON has no infinities), or nothing when absent or null.
  std::optional<double> optional_number(const json& obj, const char* key, const std::string& where) {
    const json* v = find(obj, key, where, false);
    if (v == nullptr) return std::nullopt;
    return number_value(*v, fmt::format("{}.{}", where, key));
  }

  std::optional<double> number_value(const json& v, const std::string& where) {
    if (v.is_number()) return v.get<double>();
    if (v == "inf") return std::numeric_limits<double>::infinity();
    if (v == "-inf") return -std::numeric_limits<double>::infinity();
    if (v == "nan") return std::numeric_limits<double>::quiet_NaN();
    fail(fmt::format("a number (or \"inf\") at {}", where), shown(v));
    return std::nullopt;
  }

  std::int64_t integer(const json& obj, const char* key, const std::string& where, bool required = false,
                       std::int64_t fallback = 0) {
    const json* v = find(obj, key, where, required);
    if (v == nullptr) return fallback;
    if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX)) {
      fail(fmt::format("an integer at {}.{}", where, key), shown(*v));
      return fallback;
    }
    return v->get<std::int64_t>();
  }

  bool boolean(const json& obj, const char* key, const std::string& where, bool required = false) {
    const json* v = find(obj, key, where, required);
    if (v == nullptr) return false;
    if (!v->is_boolean()) fail(fmt::format("true or false at {}.{}", where, key), shown(*v));
    return v->is_boolean() && v->get<bool>();
  }

  /// obj[key] as an array (an empty one when absent and not required).
  const json& array(const json& obj, const char* key, const std::string& where, bool required = false) {
    static const json kEmpty = json::array();
    const json* v = find(obj, key, where, required);
    if (v == nullptr) return kEmpty;
    if (!v->is_array()) {
      fail(fmt::format("an array at {}.{}", where, key), shown(*v));
      return kEmpty;
    }
    return *v;
  }

  std::vector<std::string> strings(const json& obj, const char* key, const std::string& where) {
    std::vector<std::string> out;
    const json& a = array(obj, key, where);
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!a[i].is_string()) {
        fail(fmt::format("a string at {}.{}[{}]", where, key, i), shown(a[i]));
        break;
      }
      out.push_back(one_line(valid_utf8(a[i].get_ref<const std::string&>())));
    }
    return out;
  }

  Outcome outcome(const json& v, const std::string& where) {
    const std::optional<Outcome> o = v.is_string() ? parse_outcome(v.get<std::string>()) : std::nullopt;
    if (!o) fail(fmt::format("PASSED, FAILED, SKIPPED, MISTRUSTED or FLAKY at {}", where), shown(v));
    return o.value_or(Outcome::kFailed);
  }

 private:
  std::string source_;
  std::string error_;
};

void read_header(Reader& r, const json& doc, Meta& m) {
  if (!doc.is_object()) return r.fail("a JSON object (a normcheck results document)", shown(doc));
  const json* schema = r.find(doc, "schema", "the top level", false);
  if (schema == nullptr || *schema != kSchemaName)
    return r.fail(fmt::format("schema \"{}\"", kSchemaName), schema ? shown(*schema) : "none");
  const json* version = r.find(doc, "schema_version", "the top level", false);
  if (version == nullptr || !version->is_number_integer() || *version != kSchemaVersion)
    return r.fail(fmt::format("schema_version {}", kSchemaVersion), version ? shown(*version) : "none");
  m.normcheck_version = r.str(doc, "normcheck_version", "the top level");
  m.created_utc = r.str(doc, "created_utc", "the top level");
  m.tier = r.str(doc, "tier", "the top level", true);
  if (r.ok() && m.tier != "smoke" && m.tier != "ci" && m.tier != "nightly")
    r.fail("tier smoke, ci or nightly", shown(doc["tier"]));
  if (const json* seed = r.find(doc, "seed", "the top level", false)) {
    if (!seed->is_number_integer()) r.fail("an integer at seed", shown(*seed));
    m.seed = seed->dump();
  }
  if (const json* host = r.find(doc, "host", "the top level", false)) {
    m.host_cpu = r.str(*host, "cpu", "host");
    m.host_threads = r.integer(*host, "threads", "host");
  }
  if (const json* shard = r.find(doc, "shard", "the top level", false)) {
    m.shard_index = r.integer(*shard, "index", "shard");
    m.shard_count = r.integer(*shard, "count", "shard", false, 1);
  }
  m.wall_seconds = r.number(doc, "wall_seconds", "the top level");
  m.policy = r.str(doc, "policy", "the top level");
}

void read_implementations(Reader& r, const json& doc, std::vector<Implementation>& out) {
  const json& a = r.array(doc, "implementations", "the top level", true);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < a.size() && r.ok(); ++i) {
    const std::string where = fmt::format("implementations[{}]", i);
    Implementation impl;
    impl.name = r.str(a[i], "name", where, true);
    impl.kind = r.str(a[i], "kind", where, true);
    impl.description = r.str(a[i], "description", where);
    impl.bug = r.str(a[i], "bug", where);
    if (!r.ok()) return;
    if (impl.kind != "builtin" && impl.kind != "mutant" && impl.kind != "plugin")
      return r.fail(fmt::format("{}.kind builtin, mutant or plugin", where), shown(a[i]["kind"]));
    if (!seen.insert(impl.name).second)
      return r.fail(fmt::format("each implementation listed once, at {}", where),
                    fmt::format("\"{}\" a second time", impl.name));
    out.push_back(std::move(impl));
  }
}

Histogram read_histogram(Reader& r, const json& row, const std::string& where) {
  Histogram h;
  const json* v = r.find(row, "ulp_histogram", where, false);
  if (v == nullptr) return h;
  const std::string here = where + ".ulp_histogram";
  const json& edges = r.array(*v, "edges", here, true);
  const json& counts = r.array(*v, "counts", here, true);
  for (std::size_t i = 0; i < edges.size() && r.ok(); ++i)
    h.edges.push_back(r.number_value(edges[i], fmt::format("{}.edges[{}]", here, i)).value_or(0));
  for (std::size_t i = 0; i < counts.size() && r.ok(); ++i) {
    if (!counts[i].is_number_integer() || counts[i].get<std::int64_t>() < 0)
      r.fail(fmt::format("a count (an integer >= 0) at {}.counts[{}]", here, i), shown(counts[i]));
    else
      h.counts.push_back(counts[i].get<std::int64_t>());
  }
  if (!r.ok()) return {};
  if (h.edges.size() != h.counts.size() + 1)
    r.fail(fmt::format("one edge more than counts at {} ({} counts)", here, h.counts.size()),
           fmt::format("{} edges", h.edges.size()));
  if (r.ok() && !std::is_sorted(h.edges.begin(), h.edges.end(), std::less_equal<>{}) && h.edges.size() > 1)
    r.fail(fmt::format("ascending edges at {}", here), shown((*v)["edges"]));
  return h;
}

std::optional<Failure> read_failure(Reader& r, const json& row, const std::string& where, bool required) {
  const json* v = r.find(row, "failure", where, required);
  if (v == nullptr) return std::nullopt;
  const std::string here = where + ".failure";
  Failure f;
  f.problem = r.str(*v, "problem", here, true);
  f.detail = r.str(*v, "detail", here, false, /*single_line=*/false);
  f.repro = r.str(*v, "repro", here, true);
  f.shrink_steps = r.integer(*v, "shrink_steps", here);
  if (r.find(*v, "elements", here, false) != nullptr) f.elements = r.integer(*v, "elements", here);
  if (const json* s = r.find(*v, "signature", here, false)) {
    const std::string at = here + ".signature";
    f.signature = Signature{r.str(*s, "op", at, true), r.str(*s, "output", at), r.str(*s, "kind", at, true),
                            r.str(*s, "dtype", at, true),  r.str(*s, "layout", at, true), r.str(*s, "title", at, true)};
  }
  return f;
}

void read_rows(Reader& r, const json& doc, const std::vector<Implementation>& impls, std::vector<Row>& out) {
  const json& a = r.array(doc, "results", "the top level", true);
  std::set<std::string> names;
  for (const Implementation& i : impls) names.insert(i.name);
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  const std::vector<double>* first_edges = nullptr;
  std::string first_edges_at;
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size() && r.ok(); ++i) {
    const std::string where = fmt::format("results[{}]", i);
    const json& j = a[i];
    Row row;
    row.implementation = r.str(j, "implementation", where, true);
    row.op = r.str(j, "op", where, true);
    row.property = r.str(j, "property", where, true);
    if (const json* o = r.find(j, "outcome", where, true)) row.outcome = r.outcome(*o, where + ".outcome");
    if (!r.ok()) return;
    if (names.count(row.implementation) == 0)
      return r.fail(fmt::format("{}.implementation to be listed in implementations", where),
                    fmt::format("\"{}\"", row.implementation));
    if (!seen.emplace(row.implementation, row.op, row.property).second)
      return r.fail(fmt::format("one row per implementation x op x property, at {}", where),
                    fmt::format("{} {} {} a second time", row.implementation, row.op, row.property));
    row.sentence = r.str(j, "sentence", where);
    row.reason = r.str(j, "reason", where);
    row.cases = r.integer(j, "cases", where);
    row.cases_skipped = r.integer(j, "cases_skipped", where);
    row.cases_compared = r.integer(j, "cases_compared", where, false, -1);
    row.draws_refused = r.integer(j, "draws_refused", where, false, -1);
    // A PASSED row is evidence only if it compared something (a vacuous pass is SKIPPED).
    if (r.ok() && row.outcome == Outcome::kPassed && row.cases_compared == 0)
      return r.fail(fmt::format("a PASSED row to have compared at least one case at {}", where), "cases_compared 0");
    row.seconds = r.number(j, "seconds", where);
    row.max_ulp = r.optional_number(j, "max_ulp", where);
    row.max_bound_fraction = r.optional_number(j, "max_bound_fraction", where);
    row.histogram = read_histogram(r, j, where);
    row.failure = read_failure(r, j, where, row.outcome == Outcome::kFailed || row.outcome == Outcome::kFlaky);
    out.push_back(std::move(row));
    const Histogram& h = out.back().histogram;
    if (!r.ok() || h.empty()) continue;
    if (first_edges == nullptr) {
      first_edges = &h.edges, first_edges_at = where;
    } else if (h.edges != *first_edges) {
      r.fail(fmt::format("the same ulp_histogram edges in every row (those of {}) at {}", first_edges_at, where),
             shown(j["ulp_histogram"]["edges"]));
    }
  }
}

void read_fingerprints(Reader& r, const json& doc, std::vector<Fingerprint>& out) {
  const json& a = r.array(doc, "profile_fingerprint", "the top level");
  for (std::size_t i = 0; i < a.size() && r.ok(); ++i) {
    const std::string where = fmt::format("profile_fingerprint[{}]", i);
    Fingerprint f;
    f.implementation = r.str(a[i], "implementation", where, true);
    const json* profiles = r.find(a[i], "profiles", where, true);
    if (!r.ok()) return;
    if (!profiles->is_object()) return r.fail(fmt::format("an object at {}.profiles", where), shown(*profiles));
    for (const auto& [name, outcome] : profiles->items())
      f.profiles.emplace_back(one_line(valid_utf8(name)), r.outcome(outcome, where + ".profiles." + name));
    if (r.find(a[i], "accuracy_failed_rows", where, false))
      f.accuracy_failed_rows = r.integer(a[i], "accuracy_failed_rows", where);
    if (r.find(a[i], "other_failed_rows", where, false))
      f.other_failed_rows = r.integer(a[i], "other_failed_rows", where);
    out.push_back(std::move(f));
  }
}

void read_kill_matrix(Reader& r, const json& doc, KillMatrix& k) {
  const json* m = r.find(doc, "kill_matrix", "the top level", false);
  if (m == nullptr) return;
  k.properties = r.strings(*m, "properties", "kill_matrix");
  const json& mutants = r.array(*m, "mutants", "kill_matrix");
  for (std::size_t i = 0; i < mutants.size() && r.ok(); ++i) {
    const std::string where = fmt::format("kill_matrix.mutants[{}]", i);
    Mutant mu;
    mu.name = r.str(mutants[i], "name", where, true);
    mu.bug = r.str(mutants[i], "bug", where);
    mu.killed = r.boolean(mutants[i], "killed", where, true);
    mu.killed_by = r.strings(mutants[i], "killed_by", where);
    for (const std::string& p : mu.killed_by) {
      if (std::find(k.properties.begin(), k.properties.end(), p) == k.properties.end()) k.properties.push_back(p);
    }
    k.mutants.push_back(std::move(mu));
  }
}

void check_summary(Reader& r, const json& doc, const Counts& counts, bool has_policy, bool conforming) {
  const json* s = r.find(doc, "summary", "the top level", true);
  if (s == nullptr) return;
  const std::pair<const char*, int> fields[] = {{"passed", counts.passed},
                                                {"failed", counts.failed},
                                                {"skipped", counts.skipped},
                                                {"mistrusted", counts.mistrusted}};
  for (const auto& [name, want] : fields) {
    const std::int64_t got = r.integer(*s, name, "summary", true);
    if (r.ok() && got != want)
      return r.fail(fmt::format("summary.{} {} (counted from the rows of the implementations under test)", name,
                                want),
                    std::to_string(got));
  }
  // "flaky" came with the FLAKY outcome: a document without it has no FLAKY row.
  const std::int64_t flaky = s->contains("flaky") ? r.integer(*s, "flaky", "summary", true) : 0;
  if (r.ok() && flaky != counts.flaky)
    return r.fail(fmt::format("summary.flaky {} (counted from the rows of the implementations under test)",
                              counts.flaky),
                  std::to_string(flaky));
  const bool got = r.boolean(*s, "conforming", "summary", true);
  if (r.ok() && !has_policy && got != conforming)
    r.fail(fmt::format("summary.conforming {} (no FAILED, MISTRUSTED or FLAKY row, at least one PASSED)", conforming),
           got ? "true" : "false");
}

/// A stored "causes" array must be the one the rows imply (absent: older documents).
void check_causes(Reader& r, const json& doc, const Model& m) {
  const json* stored = r.find(doc, "causes", "the top level", false);
  if (stored == nullptr) return;
  const json want = causes_json(m);
  if (*stored != want)
    r.fail(fmt::format("causes as the FAILED rows group by their failure's signature ({} causes: {})", want.size(),
                       shown(want)),
           shown(*stored));
}

}  // namespace

Expected<Model> build_model(const json& doc, std::string_view source, SummaryCheck check) {
  Reader r(source);
  Model m;
  read_header(r, doc, m.meta);
  if (r.ok()) read_implementations(r, doc, m.implementations);
  if (r.ok()) read_rows(r, doc, m.implementations, m.rows);
  if (r.ok()) read_fingerprints(r, doc, m.fingerprints);
  if (r.ok()) read_kill_matrix(r, doc, m.kill);
  if (!r.ok()) return r.status();
  detail::compute_aggregates(m);
  m.conforming = m.counts.conforming();
  const bool has_policy = !m.meta.policy.empty();
  if (check == SummaryCheck::kCheck) {
    check_summary(r, doc, m.counts, has_policy, m.conforming);
    check_causes(r, doc, m);
    if (!r.ok()) return r.status();
    if (has_policy) m.conforming = doc["summary"]["conforming"].get<bool>();
  }
  return m;
}

}  // namespace normcheck::report
