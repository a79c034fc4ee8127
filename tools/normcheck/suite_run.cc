#include "tools/normcheck/suite_run.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "report/model.h"
#include "report/report.h"
#include "report/summary_md.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/progress_log.h"

namespace normcheck::tool {
namespace {

using nlohmann::json;
using properties::Outcome;

json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

/// A value that may be NaN or infinite: JSON has neither, the schema spells them "nan", "inf", "-inf".
json value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json worst_json(const std::optional<properties::Worst>& w) {
  if (!w) return nullptr;
  // input: only for an elementwise output (NaN otherwise); ulp: null where no ULP distance means
  // anything, no_ulp saying why.
  return {{"output", w->output}, {"index", w->index}, {"input", num(w->input)}, {"expected", value(w->expected)},
          {"got", value(w->got)}, {"ulp", num(w->ulp)}, {"no_ulp", w->no_ulp.empty() ? json(nullptr) : json(w->no_ulp)},
          {"bound_fraction", value(w->bound_fraction)}};
}

json signature_json(const properties::Failure& f) {
  const properties::Signature s = properties::signature(f);
  return {{"op", std::string(name(s.op))}, {"output", s.output}, {"kind", std::string(name(s.kind))},
          {"dtype", std::string(name(s.dtype))}, {"layout", std::string(name(s.layout))},
          {"title", properties::to_string(s)}};
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

bool is_mutant(const std::string& impl) { return impl.rfind("mutant-", 0) == 0; }

}  // namespace

json row_json(const properties::RowResult& r) {
  json edges = json::array();
  for (double e : properties::kUlpEdges) edges.push_back(e);
  edges.push_back("inf");
  json breakdown = json::array();
  for (const properties::Breakdown& b : r.breakdown)
    breakdown.push_back({{"dtype", std::string(name(b.dtype))}, {"profile", std::string(name(b.profile))},
                         {"cases", b.cases}, {"compared", b.compared}, {"failed", b.failed}, {"max_ulp", num(b.max_ulp)},
                         {"max_bound_fraction", num(b.max_bound_fraction)}});
  json failure = nullptr;
  if (r.failure)
    failure = {{"problem", to_string(r.failure->problem)}, {"detail", r.failure->detail},
               {"signature", signature_json(*r.failure)}, {"elements", numel_of(r.failure->problem.shape)},
               {"worst", worst_json(r.failure->worst)}, {"shrink_steps", r.failure->shrink_steps},
               {"shrink_cases", r.failure->shrink_cases}, {"repro", r.failure->repro}};
  return {{"implementation", r.implementation}, {"op", std::string(name(r.op))}, {"property", r.property},
          {"sentence", r.sentence}, {"outcome", std::string(properties::name(r.outcome))}, {"reason", r.reason},
          {"cases", r.cases}, {"cases_skipped", r.cases_skipped}, {"cases_compared", r.cases_compared},
          {"draws_refused", r.draws_refused}, {"fixed_cases", r.fixed_cases}, {"seconds", r.seconds},
          {"max_ulp", num(r.max_ulp)}, {"max_bound_fraction", num(r.max_bound_fraction)}, {"no_ulp", r.no_ulp},
          {"ulp_histogram", {{"edges", edges}, {"counts", r.ulp_histogram}}}, {"breakdown", breakdown},
          {"failure", failure}};
}

ProgressLine::ProgressLine(bool enabled, std::size_t total)
    : enabled_(enabled), total_(total), start_(std::chrono::steady_clock::now()) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::step(std::size_t index, std::string_view what) {
  if (!enabled_) return;
  // Runs shorter than a second stay quiet: the line would only flicker.
  if (!shown_ && std::chrono::steady_clock::now() - start_ < std::chrono::seconds(1)) return;
  shown_ = true;
  std::fprintf(stderr, "\r[%zu/%zu] %.*s\033[K", index, total_, static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
}

void ProgressLine::clear() {
  if (!shown_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  shown_ = false;
}

std::vector<properties::RowResult> run_suite(const std::vector<SuiteTarget>& targets, const SuitePlan& plan,
                                             const RowRunner& row) {
  std::vector<Op> ops;
  for (const Op op : kAllOps)
    if (plan.ops.empty() || std::find(plan.ops.begin(), plan.ops.end(), op) != plan.ops.end()) ops.push_back(op);
  const std::size_t total = targets.size() * ops.size() * plan.props.size();
  std::size_t shard_rows = 0;
  for (std::size_t i = 0; i < total; ++i) shard_rows += i % plan.shard_count == plan.shard_index ? 1 : 0;
  ProgressLine progress(plan.progress, shard_rows);
  ProgressLog log(plan.log_interval_s, shard_rows);
  std::vector<properties::RowResult> rows;
  std::size_t index = 0, done = 0;
  for (const SuiteTarget& t : targets) {
    std::unique_ptr<impls::Implementation> impl;
    for (const Op op : ops) {
      for (const properties::Property* p : plan.props) {
        if (index++ % plan.shard_count != plan.shard_index) continue;
        if (!impl) impl = t.make();
        progress.step(++done, t.name + " " + std::string(name(op)) + " " + std::string(p->name));
        rows.push_back(row(*impl, op, *p));
        log.row_done(t.kind != "mutant" && (rows.back().outcome == Outcome::kFailed || rows.back().outcome == Outcome::kFlaky));  // a mutant's is a kill
      }
    }
  }
  return rows;
}

json results_document(const SuiteMeta& meta, const std::vector<SuiteTarget>& targets,
                      const std::vector<properties::RowResult>& rows,
                      const std::vector<const properties::Property*>& props) {
  json doc;
  doc["schema"] = "normcheck-report";
  doc["schema_version"] = 1;
  doc["normcheck_version"] = "0.1.0";
  doc["created_utc"] = utc_now();
  doc["host"] = {{"threads", std::thread::hardware_concurrency()}};
  doc["tier"] = meta.tier;
  doc["seed"] = meta.seed;
  doc["shard"] = {{"index", meta.shard_index}, {"count", meta.shard_count}};
  doc["policy"] = nullptr;
  doc["implementations"] = json::array();
  for (const SuiteTarget& t : targets)
    doc["implementations"].push_back({{"name", t.name}, {"kind", t.kind}, {"description", t.description},
                                      {"bug", t.bug.empty() ? json(nullptr) : json(t.bug)}});
  doc["results"] = json::array();
  // impl -> profile -> FAILED where a case failed on a convention; accuracy and other failed rows apart.
  std::map<std::string, std::map<std::string, std::string>> fingerprint;
  std::map<std::string, std::pair<int, int>> non_convention_rows;  // impl -> (accuracy, other)
  std::map<std::string, std::set<std::string>> killed_by;
  for (const properties::RowResult& r : rows) {
    doc["results"].push_back(row_json(r));
    // A FLAKY row caught the mutant too (mutant-nondeterministic-sum-order's determinism row: the
    // replay's two calls may happen to agree).
    const bool caught = r.outcome == Outcome::kFailed || r.outcome == Outcome::kFlaky;
    if (is_mutant(r.implementation) && caught) killed_by[r.implementation].insert(r.property);
    for (const properties::Breakdown& b : r.breakdown) {
      std::string& cell = fingerprint[r.implementation][std::string(name(b.profile))];
      if (b.failed_convention > 0) cell = "FAILED";
      else if (cell.empty()) cell = "PASSED";
    }
    auto& [accuracy, other] = non_convention_rows[r.implementation];
    if (r.outcome == Outcome::kFailed && !(r.failure && properties::is_convention(r.failure->kind)))
      ++(r.failure && r.failure->kind == properties::FailureKind::kAccuracy ? accuracy : other);
  }
  doc["profile_fingerprint"] = json::array();
  for (const auto& [impl, profs] : fingerprint) {
    if (is_mutant(impl)) continue;
    const auto [accuracy, other] = non_convention_rows[impl];
    doc["profile_fingerprint"].push_back({{"implementation", impl}, {"profiles", profs},
                                          {"accuracy_failed_rows", accuracy}, {"other_failed_rows", other}});
  }
  json matrix = {{"properties", json::array()}, {"mutants", json::array()}};
  for (const properties::Property* p : props) matrix["properties"].push_back(std::string(p->name));
  for (const SuiteTarget& t : targets) {
    if (t.kind != "mutant") continue;
    const std::set<std::string>& k = killed_by[t.name];
    matrix["mutants"].push_back({{"name", t.name}, {"bug", t.bug}, {"killed", !k.empty()},
                                 {"killed_by", std::vector<std::string>(k.begin(), k.end())}});
  }
  doc["kill_matrix"] = matrix;
  // The failing rows grouped by cause (its own check of the document: an error leaves it out,
  // and write_report names the error).
  if (Expected<json> causes = report::compute_causes(doc)) doc["causes"] = *causes;
  doc["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - meta.start).count();
  return doc;
}

ConsoleSummary console_summary(const json& doc) {
  ConsoleSummary out;
  Expected<report::Model> m = report::build_model(doc, "the results", report::SummaryCheck::kIgnore);
  if (!m || m->causes.empty()) return out;  // a passing run's console stays one line
  for (const report::Fingerprint& f : m->fingerprints) out.fingerprints.push_back("  fingerprint: " + report::fingerprint_line(f));
  out.count = ": " + report::causes_count_text(*m);
  for (std::size_t i = 0; i < m->causes.size(); ++i) {
    const report::Cause& c = m->causes[i];
    std::string rows;
    for (const std::size_t r : c.rows) rows += (rows.empty() ? "" : ", ") + m->rows[r].op + " " + m->rows[r].property;
    out.causes.push_back(fmt::format("  CAUSE {} of {}: {}: {}, {} {}: {}\n    REPRO: {}", i + 1, m->causes.size(),
                                    c.title(m->rows), c.implementation, c.rows.size(),
                                    c.rows.size() == 1 ? "row" : "rows", rows, m->rows[c.representative].failure->repro));
  }
  return out;
}

std::string failed_row_line(const properties::RowResult& r) {
  std::string what;
  if (r.failure)
    what = "[" + (r.failure->output.empty() ? "" : r.failure->output + ", ") + std::string(words(r.failure->kind)) + "] ";
  return fmt::format("  {} {} {} {}: {}{}", name(r.outcome), r.implementation, name(r.op), r.property, what,
                     one_line(r.reason));
}

Status parse_shard(const std::string& text, unsigned& index, unsigned& count) {
  // Decimal digits only: sscanf's %u read "-1" as 4294967295, skipped spaces and wrapped past 2^32.
  unsigned i = 0, n = 0;
  const char* end = text.data() + text.size();
  const auto [slash, i_error] = std::from_chars(text.data(), end, i);
  const bool has_slash = i_error == std::errc() && slash != end && *slash == '/';
  const auto [stop, n_error] = std::from_chars(has_slash ? slash + 1 : end, end, n);
  if (!has_slash || n_error != std::errc() || stop != end || n == 0 || i >= n)
    return Status::error("Expected --shard i/n with 0 <= i < n, but got '" + text + "'");
  index = i, count = n;
  return Status();
}

}  // namespace normcheck::tool
