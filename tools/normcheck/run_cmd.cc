#include "tools/normcheck/run_cmd.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <thread>

#include "impls/mutants/mutants.h"
#include "properties/restricted.h"
#include "properties/runner.h"
#include "ci/report/report.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/implementations.h"

namespace normcheck::tool {
namespace {

using nlohmann::json;
using properties::Outcome;

json worst_json(const std::optional<properties::Worst>& w) {
  if (!w) return nullptr;
  auto num = [](double v) -> json { return std::isfinite(v) ? json(v) : json(nullptr); };
  return {{"output", w->output}, {"index", w->index}, {"input", num(w->input)}, {"expected", num(w->expected)},
          {"got", num(w->got)}, {"ulp", num(w->ulp)}, {"bound_fraction", num(w->bound_fraction)}};
}

json row_json(const properties::RowResult& r) {
  auto num = [](double v) -> json { return std::isfinite(v) ? json(v) : json(nullptr); };
  json edges = json::array();
  for (double e : properties::kUlpEdges) edges.push_back(e);
  edges.push_back("inf");
  json breakdown = json::array();
  for (const properties::Breakdown& b : r.breakdown)
    breakdown.push_back({{"dtype", std::string(name(b.dtype))}, {"profile", std::string(name(b.profile))},
                         {"cases", b.cases}, {"failed", b.failed}, {"max_ulp", num(b.max_ulp)},
                         {"max_bound_fraction", num(b.max_bound_fraction)}});
  json failure = nullptr;
  if (r.failure)
    failure = {{"problem", to_string(r.failure->problem)}, {"detail", r.failure->detail},
               {"worst", worst_json(r.failure->worst)}, {"shrink_steps", r.failure->shrink_steps},
               {"repro", r.failure->repro}};
  return {{"implementation", r.implementation}, {"op", std::string(name(r.op))}, {"property", r.property},
          {"sentence", r.sentence}, {"outcome", std::string(properties::name(r.outcome))}, {"reason", r.reason},
          {"cases", r.cases}, {"cases_skipped", r.cases_skipped}, {"seconds", r.seconds},
          {"max_ulp", num(r.max_ulp)}, {"max_bound_fraction", num(r.max_bound_fraction)},
          {"ulp_histogram", {{"edges", edges}, {"counts", r.ulp_histogram}}}, {"breakdown", breakdown},
          {"failure", failure}};
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

template <class T, class Parse>
Expected<std::vector<T>> parse_all(const std::vector<std::string>& names, Parse parse, const char* what) {
  std::vector<T> out;
  for (const std::string& n : names) {
    const std::optional<T> v = parse(n);
    if (!v) return Status::error(std::string("Expected ") + what + ", but got '" + n + "'");
    out.push_back(*v);
  }
  return out;
}

}  // namespace

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
  CLI::App* cmd = app.add_subcommand("run", "Run the property suite and write the conformance report (the default)");
  cmd->add_option("--impl", o.impls, "Implementation(s) to check (default: every built-in one)");
  cmd->add_option("--op", o.ops, "Op(s): batch_norm layer_norm instance_norm group_norm rms_norm layer_norm_2d");
  cmd->add_option("--dtype", o.dtypes, "Dtype(s): float64 float32 float16 bfloat16");
  cmd->add_option("--profile", o.profiles, "Profile(s): pytorch keras onnx");
  cmd->add_option("--property", o.properties, "Propert(y/ies) to run (default: all)");
  cmd->add_option("--tier", o.tier, "smoke | ci | nightly")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Base seed of the run")->capture_default_str();
  cmd->add_option("--out", o.out, "Report directory")->capture_default_str();
  cmd->add_flag("!--no-mutants", o.mutants, "Skip the mutants (and the kill matrix)");
  cmd->add_option("--shard", o.shard, "i/n: run every n-th row starting at i (merge with normcheck merge)")
      ->capture_default_str();
  cmd->add_option("--bound-multiplier", o.bound_multiplier, "Tolerance multiplier on the reference's bound")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--quiet", o.quiet, "No progress line");
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_run(const RunOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const std::optional<properties::Tier> tier = properties::parse_tier(o.tier);
  if (!tier) return report_usage_error("Expected --tier smoke, ci or nightly, but got '" + o.tier + "'");
  unsigned shard_i = 0, shard_n = 1;
  if (std::sscanf(o.shard.c_str(), "%u/%u", &shard_i, &shard_n) != 2 || shard_n == 0 || shard_i >= shard_n)
    return report_usage_error("Expected --shard i/n with 0 <= i < n, but got '" + o.shard + "'");
  auto ops = parse_all<Op>(o.ops, parse_op, "an op name");
  auto dtypes = parse_all<DType>(o.dtypes, parse_dtype, "a dtype");
  auto profiles = parse_all<Profile>(o.profiles, parse_profile, "a profile");
  if (!ops) return report_usage_error(ops.message());
  if (!dtypes) return report_usage_error(dtypes.message());
  if (!profiles) return report_usage_error(profiles.message());
  std::vector<const properties::Property*> props;
  for (const std::string& n : o.properties) {
    const properties::Property* p = properties::find_property(n);
    if (!p) return report_usage_error("Expected a property name, but got '" + n + "'");
    props.push_back(p);
  }
  if (props.empty())
    for (const properties::Property& p : properties::all_properties()) props.push_back(&p);
  const properties::Narrowing narrowing{.ops = *ops, .dtypes = *dtypes, .profiles = *profiles, .exclude = {}};

  struct Target {
    std::string name, kind, description, bug;
  };
  std::vector<Target> targets;
  for (const std::string& n : o.impls.empty() ? impls::implementation_names() : o.impls) {
    Expected<std::unique_ptr<impls::Implementation>> impl = implementation_named(n);
    if (!impl) return report_usage_error(impl.message());
    targets.push_back({n, n.rfind("mutant-", 0) == 0 ? "mutant" : "builtin", std::string((*impl)->description()), ""});
  }
  if (o.mutants && o.impls.empty())
    for (const impls::MutantInfo& m : impls::mutant_catalog()) targets.push_back({m.name, "mutant", "", m.bug});

  properties::RunConfig config;
  config.tier = *tier;
  config.seed = o.seed;
  config.check.bound_multiplier = o.bound_multiplier;
  std::vector<properties::RowResult> rows;
  const bool progress = !o.quiet && isatty(STDERR_FILENO);
  std::size_t index = 0, total = targets.size() * std::size(kAllOps) * props.size();
  for (const Target& t : targets) {
    Expected<std::unique_ptr<impls::Implementation>> found = implementation_named(t.name);
    std::unique_ptr<impls::Implementation> impl = narrowed(std::move(found.value()), narrowing);
    for (const Op op : kAllOps) {
      if (!ops->empty() && std::find(ops->begin(), ops->end(), op) == ops->end()) continue;
      for (const properties::Property* p : props) {
        if (index++ % shard_n != shard_i) continue;
        if (progress) std::fprintf(stderr, "\r[%zu/%zu] %s %s %s\033[K", index, total, t.name.c_str(), std::string(name(op)).c_str(), std::string(p->name).c_str());
        rows.push_back(properties::run_row(*impl, op, *p, config));
      }
    }
  }
  if (progress) std::fprintf(stderr, "\r\033[K");

  json doc;
  doc["schema"] = "normcheck-report";
  doc["schema_version"] = 1;
  doc["normcheck_version"] = "0.1.0";
  doc["created_utc"] = utc_now();
  doc["host"] = {{"threads", std::thread::hardware_concurrency()}};
  doc["tier"] = o.tier;
  doc["seed"] = o.seed;
  doc["shard"] = {{"index", shard_i}, {"count", shard_n}};
  doc["policy"] = nullptr;
  doc["implementations"] = json::array();
  for (const Target& t : targets)
    doc["implementations"].push_back({{"name", t.name}, {"kind", t.kind}, {"description", t.description},
                                      {"bug", t.bug.empty() ? json(nullptr) : json(t.bug)}});
  doc["results"] = json::array();
  std::map<std::string, std::map<std::string, std::string>> fingerprint;  // impl -> profile -> worst outcome
  std::map<std::string, std::set<std::string>> killed_by;
  for (const properties::RowResult& r : rows) {
    doc["results"].push_back(row_json(r));
    if (r.implementation.rfind("mutant-", 0) == 0 && r.outcome == Outcome::kFailed) killed_by[r.implementation].insert(r.property);
    for (const properties::Breakdown& b : r.breakdown) {
      std::string& cell = fingerprint[r.implementation][std::string(name(b.profile))];
      if (b.failed > 0) cell = "FAILED";
      else if (cell.empty()) cell = "PASSED";
    }
  }
  doc["profile_fingerprint"] = json::array();
  for (const auto& [impl, profs] : fingerprint) {
    if (impl.rfind("mutant-", 0) == 0) continue;
    doc["profile_fingerprint"].push_back({{"implementation", impl}, {"profiles", profs}});
  }
  json matrix = {{"properties", json::array()}, {"mutants", json::array()}};
  for (const properties::Property* p : props) matrix["properties"].push_back(std::string(p->name));
  for (const Target& t : targets) {
    if (t.kind != "mutant") continue;
    const std::set<std::string>& k = killed_by[t.name];
    matrix["mutants"].push_back({{"name", t.name}, {"bug", t.bug}, {"killed", !k.empty()},
                                 {"killed_by", std::vector<std::string>(k.begin(), k.end())}});
  }
  doc["kill_matrix"] = matrix;
  doc["wall_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Expected<json> summary = report::compute_summary(doc);
  if (!summary) return report_usage_error("internal: " + summary.message());
  doc["summary"] = *summary;
  if (Status s = report::write_report(doc, o.out); !s.ok()) return report_usage_error(s.message());

  const json& sm = doc["summary"];
  int survivors = 0;
  for (const json& m : matrix["mutants"]) survivors += m["killed"].get<bool>() ? 0 : 1;
  std::printf("%s\n", fmt::format("normcheck: {} ({} passed, {} failed, {} skipped, {} mistrusted rows; {} of {} mutants killed; {:.1f} s) -> {}/index.html",
                                  sm.value("conforming", false) ? "CONFORMING" : "NOT CONFORMING", sm.value("passed", 0),
                                  sm.value("failed", 0), sm.value("skipped", 0), sm.value("mistrusted", 0),
                                  matrix["mutants"].size() - static_cast<std::size_t>(survivors), matrix["mutants"].size(),
                                  doc["wall_seconds"].get<double>(), o.out)
                          .c_str());
  for (const properties::RowResult& r : rows)
    if (r.failure && r.implementation.rfind("mutant-", 0) != 0) std::printf("  FAILED %s %s %s\n  REPRO: %s\n", r.implementation.c_str(), std::string(name(r.op)).c_str(), r.property.c_str(), r.failure->repro.c_str());
  std::fflush(stdout);
  return sm.value("conforming", false) ? kExitOk : kExitCheckFailed;
}

}  // namespace normcheck::tool
