#include "tools/normcheck/gate_cmd.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <tuple>

#include "report/report.h"
#include "fixtures/suite_catalog.h"
#include "impls/plugin/plugin_impl.h"
#include "properties/generators.h"
#include "properties/restricted.h"
#include "properties/runner.h"
#include "tools/normcheck/baseline.h"
#include "tools/normcheck/case_export.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/option_checks.h"
#include "tools/normcheck/policy.h"
#include "tools/normcheck/progress_log.h"
#include "tools/normcheck/python_plugin.h"
#include "tools/normcheck/suite_run.h"

namespace normcheck::tool {
namespace {

using nlohmann::json;
using properties::Outcome;
using properties::RowResult;

/// The loaded plugin seen through several narrowings at once (one per tolerance group) without
/// starting a worker for each: forwards every call, owns nothing.
class Borrowed final : public impls::Implementation {
 public:
  explicit Borrowed(impls::Implementation& inner) : inner_(inner) {}
  std::string_view name() const override { return inner_.name(); }
  std::string_view description() const override { return inner_.description(); }
  const impls::Capabilities& capabilities() const override { return inner_.capabilities(); }
  std::optional<std::string> supports(const Problem& p) const override { return inner_.supports(p); }
  Status run(const Problem& p, const Inputs& in, impls::Outputs& out) override { return inner_.run(p, in, out); }
  Status restart() override { return inner_.restart(); }

 private:
  impls::Implementation& inner_;
};

template <class T>
std::vector<T> intersect(const std::vector<T>& policy, const std::vector<T>& cli) {
  if (cli.empty()) return policy;
  std::vector<T> out;
  for (const T& x : policy)
    if (std::find(cli.begin(), cli.end(), x) != cli.end()) out.push_back(x);
  return out;
}

template <class T>
std::string names_of(const std::vector<T>& v) {
  std::string s;
  for (const T& x : v) s += (s.empty() ? "" : ", ") + std::string(name(x));
  return s;
}

/// Everything a property could ask of an implementation, within the run's dtypes and profiles:
/// a row whose domain misses these is not applicable to the op at all (running statistics of
/// layer_norm), so its SKIPPED is never a policy violation.
impls::Capabilities universal(const std::vector<DType>& dtypes, const std::vector<Profile>& profiles) {
  impls::Capabilities c = impls::Capabilities::everything_on_cpu();
  c.dtypes = dtypes;
  c.profiles = profiles;
  c.saves_stats = true;
  return c;
}

/// The rows of one (op, property) run per tolerance group, as one row: the worst outcome (FAILED >
/// FLAKY > MISTRUSTED > PASSED > SKIPPED), the counts and histograms added, the figures' maxima.
RowResult merge_rows(const std::vector<RowResult>& parts) {
  RowResult m = parts.front();
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const RowResult& r = parts[i];
    m.cases += r.cases, m.cases_skipped += r.cases_skipped, m.cases_mistrusted += r.cases_mistrusted;
    m.cases_compared += r.cases_compared, m.draws_refused += r.draws_refused, m.fixed_cases += r.fixed_cases;
    m.seconds += r.seconds;
    m.max_ulp = std::max(m.max_ulp, r.max_ulp);
    m.max_bound_fraction = std::max(m.max_bound_fraction, r.max_bound_fraction);
    m.no_ulp += r.no_ulp;
    for (std::size_t b = 0; b < m.ulp_histogram.size(); ++b) m.ulp_histogram[b] += r.ulp_histogram[b];
    m.breakdown.insert(m.breakdown.end(), r.breakdown.begin(), r.breakdown.end());
  }
  auto first = [&](Outcome o) -> const RowResult* {
    for (const RowResult& r : parts)
      if (r.outcome == o) return &r;
    return nullptr;
  };
  for (const Outcome o : {Outcome::kFailed, Outcome::kFlaky, Outcome::kMistrusted, Outcome::kPassed}) {
    if (const RowResult* r = first(o)) {
      m.outcome = o, m.reason = r->reason, m.failure = r->failure;
      return m;
    }
  }
  m.outcome = Outcome::kSkipped;
  m.reason.clear();
  for (const RowResult& r : parts)
    if (m.reason.find(r.reason) == std::string::npos) m.reason += (m.reason.empty() ? "" : "; ") + r.reason;
  m.failure.reset();
  return m;
}

/// s as one shell word on one line: '...' (each ' as '\''), or, when s holds a control character
/// (a newline in a plugin path split the REPRO line in two), bash's $'...' with \xHH escapes.
std::string shell_quoted(const std::string& s) {
  auto control = [](unsigned char c) { return c < 0x20 || c == 0x7f; };
  if (std::none_of(s.begin(), s.end(), control)) {
    std::string q = "'";
    for (const char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  }
  std::string q = "$'";
  for (const unsigned char c : s) {
    if (control(c)) q += fmt::format("\\x{:02x}", c);
    else if (c == '\\' || c == '\'') q += std::string("\\") + static_cast<char>(c);
    else q += static_cast<char>(c);
  }
  return q + "'";
}

/// A problem of op for the capability probe: the profile's defaults on a small valid shape.
std::optional<Problem> probe_problem(Op op, DType dtype, Profile profile) {
  Problem p = default_problem(op, {2, 4, 3}, profile);
  p.dtype = dtype;
  Expected<Problem> checked = parse_problem(to_string(p));
  if (!checked) return std::nullopt;
  return *checked;
}

/// Why the plugin fails the capability probe of op x dtype x profile, or nullopt: its supports()
/// refuses the probe problem, or the probe problem itself, run as a differential case, fails (a
/// crash in supports() shows there: the plugin host runs the case and reports the crash).
std::optional<std::string> probe(impls::Implementation& plugin, Op op, DType d, Profile pr, const Policy& policy) {
  const std::optional<Problem> p = probe_problem(op, d, pr);
  if (!p) return std::nullopt;
  if (const std::optional<std::string> why = plugin.supports(*p)) return "refuses it: " + *why;
  properties::CheckOptions check;
  check.bound_multiplier = policy.multiplier_for(d);
  const properties::CaseResult r = properties::check_one(plugin, *properties::find_property("differential"), *p, check);
  if (r.outcome == Outcome::kFailed) return "fails its capability probe (" + to_string(*p) + "): " + r.detail;
  return std::nullopt;
}

/// Per op x dtype x profile, the cases that compared something, over every row.
std::map<std::tuple<Op, DType, Profile>, int> compared_per_combination(const std::vector<RowResult>& rows) {
  std::map<std::tuple<Op, DType, Profile>, int> out;
  for (const RowResult& r : rows)
    for (const properties::Breakdown& b : r.breakdown) out[{r.op, b.dtype, b.profile}] += b.compared;
  return out;
}

int load_error(const std::string& message) {
  std::fprintf(stderr, "normcheck: error: %s\n", one_line(message).c_str());
  return kExitLoad;
}

/// A --repro line's case and property, read before the plugin is loaded (a bad line is an input
/// error, exit 2, whatever the plugin).
struct Repro {
  properties::ReproCase c;
  const properties::Property* property = nullptr;
};

Expected<Repro> parse_repro_line(const std::string& line) {
  Expected<properties::ReproCase> c = properties::parse_repro(line);
  if (!c) return c.status();
  const std::string property_name = c->property.empty() ? "differential" : c->property;
  const properties::Property* property = properties::find_property(property_name);
  if (!property) return Status::error("Expected a property name, but got '" + property_name + "'");
  return Repro{std::move(*c), property};
}

int run_one_repro(impls::Implementation& plugin, const Policy& policy, const Repro& repro, const GateOptions& o,
                  const std::string& replay) {
  const Problem& problem = repro.c.problem;
  properties::CheckOptions check;
  check.bound_multiplier = policy.multiplier_for(problem.dtype);
  const properties::CaseResult r = properties::check_one(plugin, *repro.property, problem, check);
  std::printf("%s\n", fmt::format("{} {} on {} by {}", properties::name(r.outcome), repro.property->name,
                                  to_string(problem), plugin.name())
                          .c_str());
  if (!r.detail.empty()) std::printf("  %s\n", one_line(r.detail).c_str());
  if (r.worst) std::printf("  worst: %s\n", properties::describe(*r.worst).c_str());
  std::fflush(stdout);
  const int code = r.outcome == Outcome::kFailed ? kExitCheckFailed : kExitOk;
  if (o.save.empty()) return code;
  const std::string line = "normcheck gate " + replay + " --repro '" + o.repro + "'";
  return save_replayed_case(plugin, {repro.c, std::string(repro.property->name), line, check, r}, o.save, code);
}

}  // namespace

CLI::App* add_gate_command(CLI::App& app, GateOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "gate", "Gate a plugin (a shared library implementing impls/plugin/normcheck_plugin.h, or a Python object "
              "with --python): the property "
              "suite under a policy, the report, the verdict as the exit code (docs/gate.md)");
  CLI::Option* plugin = cmd->add_option("--plugin", o.plugin, "The plugin library (.so)");
  cmd->add_option("--python", o.python, "A Python object, MODULE:OBJECT or path/file.py:OBJECT, gated as a plugin "
                                        "(docs/python-plugin.md)")->excludes(plugin);
  cmd->add_option("--policy", o.policy, "Policy file (JSON): required ops/dtypes/profiles/properties, allowed skips, tolerance multipliers");
  cmd->add_option("--baseline", o.baseline, "Baseline file: fail when an error grew beyond it (docs/gate.md)");
  cmd->add_option("--write-baseline", o.write_baseline, "Write this run's errors as a baseline file");
  cmd->add_option("--op", o.ops, "Only these op(s) of the policy's");
  cmd->add_option("--dtype", o.dtypes, "Only these dtype(s) of the policy's");
  cmd->add_option("--profile", o.profiles, "Only these profile(s) of the policy's");
  cmd->add_option("--tier", o.tier, "smoke | ci | nightly")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Base seed of the run")->transform(any_seed())->capture_default_str();
  cmd->add_option("--out", o.out, "Report directory")->capture_default_str();
  cmd->add_option("--shard", o.shard, "i/n: run every n-th row starting at i (merge with normcheck merge)")
      ->capture_default_str();
  cmd->add_option("--timeout-s", o.timeout_s, "Per-case timeout of the plugin, seconds")
      ->check(number_in(kMinTimeoutS, kMaxTimeoutS))->capture_default_str();
  cmd->add_option("--memory-limit-mb", o.memory_limit_mb, "The plugin worker's address-space limit, MiB (0: none)")
      ->transform(integer_in(0, kMaxMemoryLimitMb))->capture_default_str();
  cmd->add_option("--shrink-budget-cases", o.shrink_budget_cases,
                  "Shrink candidates a failing row may try; the run's rows together ten times this")
      ->transform(integer_in(0, kMaxShrinkBudgetCases))->capture_default_str();
  cmd->add_option("--shrink-budget-s", o.shrink_budget_s,
                  "Seconds a failing row may shrink for; the run's rows together ten times this")
      ->check(number_in(0, kMaxShrinkBudgetS))->capture_default_str();
  cmd->add_option("--worker", o.worker, "The normcheck-worker executable (default: beside normcheck)");
  cmd->add_option("--repro", o.repro, "Replay one case on the plugin: the line a failure printed after REPRO:");
  cmd->add_option("--save", o.save, "With --repro: export that case into this directory (docs/gate.md)");
  cmd->add_flag("--quiet", o.quiet, "No progress line");
  add_progress_interval_option(*cmd, o.progress_interval_s);
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_gate(const GateOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  // Input errors first (exit 2), before the plugin is loaded (exit 3).
  const std::optional<properties::Tier> tier = properties::parse_tier(o.tier);
  if (!tier) return report_usage_error("Expected --tier smoke, ci or nightly, but got '" + o.tier + "'");
  unsigned shard_i = 0, shard_n = 1;
  if (Status s = parse_shard(o.shard, shard_i, shard_n); !s.ok()) return report_usage_error(s);
  auto cli_ops = parse_all<Op>(o.ops, parse_op, "an op name");
  auto cli_dtypes = parse_all<DType>(o.dtypes, parse_dtype, "a dtype");
  auto cli_profiles = parse_all<Profile>(o.profiles, parse_profile, "a profile");
  if (!cli_ops) return report_usage_error(cli_ops.message());
  if (!cli_dtypes) return report_usage_error(cli_dtypes.message());
  if (!cli_profiles) return report_usage_error(cli_profiles.message());
  if (!o.save.empty()) {
    if (o.repro.empty()) return report_usage_error("Expected --save with --repro LINE (it exports that case), but got no --repro");
    if (Status s = prepare_save_dir(o.save); !s) return report_usage_error(with_context("--save", s));
  }
  Expected<Policy> policy_read = o.policy.empty() ? Expected<Policy>(default_policy()) : read_policy(o.policy);
  if (!policy_read) return report_usage_error(policy_read.message());
  const Policy& policy = *policy_read;
  std::optional<Baseline> baseline;
  if (!o.baseline.empty()) {
    Expected<Baseline> b = read_baseline(o.baseline);
    if (!b) return report_usage_error(b.message());
    baseline = std::move(*b);
    if ((!baseline->tier.empty() && baseline->tier != o.tier) || baseline->seed != o.seed)
      std::fprintf(stderr, "normcheck: warning: the baseline %s was written with --tier %s --seed %llu, this run is --tier %s --seed %llu: its cases differ\n",
                   o.baseline.c_str(), baseline->tier.c_str(), static_cast<unsigned long long>(baseline->seed),
                   o.tier.c_str(), static_cast<unsigned long long>(o.seed));
  }
  const std::vector<Op> ops = intersect(policy.ops, *cli_ops);
  const std::vector<DType> dtypes = intersect(policy.dtypes, *cli_dtypes);
  const std::vector<Profile> profiles = intersect(policy.profiles, *cli_profiles);
  if (ops.empty()) return report_usage_error("Expected --op among the policy's ops (" + names_of(policy.ops) + "), but got none of them");
  if (dtypes.empty()) return report_usage_error("Expected --dtype among the policy's dtypes (" + names_of(policy.dtypes) + "), but got none of them");
  if (profiles.empty()) return report_usage_error("Expected --profile among the policy's profiles (" + names_of(policy.profiles) + "), but got none of them");

  if (o.plugin.empty() == o.python.empty())
    return report_usage_error("Expected --plugin LIBRARY or --python MODULE:OBJECT, but got neither");
  std::string library = o.plugin;
  if (!o.python.empty()) {
    Expected<std::string> host = prepare_python_plugin(o.python);
    if (!host) return report_usage_error(host.message());
    library = *host;
  }
  // What a REPRO line names the implementation by: the same option, the same value.
  const std::string replay = o.python.empty() ? "--plugin " + shell_quoted(o.plugin) : "--python " + shell_quoted(o.python);

  std::optional<Repro> repro;
  if (!o.repro.empty()) {
    Expected<Repro> r = parse_repro_line(o.repro);
    if (!r) return report_usage_error(r.message());
    repro = std::move(*r);
  }

  impls::PluginOptions plugin_options;
  plugin_options.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
  plugin_options.memory_limit = o.memory_limit_mb << 20;
  plugin_options.worker_path = o.worker;
  Expected<std::unique_ptr<impls::Implementation>> loaded = impls::load_plugin(library, plugin_options);
  if (!loaded) {
    // The host prints the Python traceback (a failed import, a missing method): the message ends with it.
    if (!o.python.empty()) return load_error(loaded.message() + " (the Python object " + o.python + " did not load)");
    if (impls::is_plugin_load_error(loaded.status())) return load_error(loaded.message());
    return load_error(std::string(impls::kPluginLoadErrorPrefix) + loaded.message());
  }
  impls::Implementation& plugin = **loaded;
  if (repro) return run_one_repro(plugin, policy, *repro, o, replay);

  // One narrowing per tolerance multiplier: the dtypes that share one run their rows together; a
  // policy with several multipliers runs each (op, property) once per group and merges the rows.
  std::map<double, std::vector<DType>> groups;
  for (const DType d : dtypes) groups[policy.multiplier_for(d)].push_back(d);
  struct Group {
    std::unique_ptr<impls::Implementation> impl;
    properties::RunConfig config;
  };
  std::vector<Group> group_impls;
  const properties::ShrinkBudget shrink_budget{.cases = o.shrink_budget_cases, .seconds = o.shrink_budget_s};
  properties::ShrinkAccount run_shrink = properties::ShrinkAccount::for_run(shrink_budget);
  Expected<std::vector<properties::FixedCase>> catalog = fixtures::suite_catalog(*tier);
  if (!catalog) {
    std::fprintf(stderr, "normcheck: internal error: %s\n", one_line(catalog.message()).c_str());
    return kExitInternal;
  }
  for (const auto& [multiplier, group_dtypes] : groups) {
    Group g;
    g.impl = properties::narrowed(std::make_unique<Borrowed>(plugin),
                      {.ops = ops, .dtypes = group_dtypes, .profiles = profiles, .exclude = {}});
    g.config.tier = *tier;
    g.config.seed = o.seed;
    g.config.check.bound_multiplier = multiplier;
    g.config.check.ops = ops;
    g.config.catalog = *catalog;
    g.config.shrink = shrink_budget;
    g.config.run_shrink = &run_shrink;
    group_impls.push_back(std::move(g));
  }

  const std::string plugin_name(plugin.name());
  std::vector<SuiteTarget> targets{{plugin_name, "plugin", std::string(plugin.description()), "", nullptr}};
  targets[0].make = [&] {
    return properties::narrowed(std::make_unique<Borrowed>(plugin), {.ops = ops, .dtypes = dtypes, .profiles = profiles, .exclude = {}});
  };
  const SuitePlan plan{.ops = ops, .props = policy.properties, .shard_index = shard_i, .shard_count = shard_n,
                       .progress = !o.quiet && isatty(STDERR_FILENO),
                       .log_interval_s = log_interval(o.quiet, o.progress_interval_s)};
  std::vector<RowResult> rows = run_suite(targets, plan, [&](impls::Implementation&, Op op, const properties::Property& p) {
    std::vector<RowResult> parts;
    for (Group& g : group_impls) parts.push_back(properties::run_row(*g.impl, op, p, g.config));
    return merge_rows(parts);
  });

  // The verdict: every required row PASSED, SKIPPED only where the policy allows it (or where the
  // property does not apply to the op), no regression against the baseline, and every required
  // op x dtype x profile accepted by the plugin.
  std::vector<std::string> violations, regressions, lines;
  const impls::Capabilities all = universal(dtypes, profiles);
  for (RowResult& r : rows) {
    const std::string where = plugin_name + " " + std::string(name(r.op)) + " " + r.property;
    if (r.failure) {
      r.failure->repro = "normcheck gate " + replay + " --repro '" +
                         to_string(r.failure->problem) + " impl=" + plugin_name + " property=" + r.property + "'";
      lines.push_back(failed_row_line(r) + "\n  REPRO: " + r.failure->repro);
    } else if (r.outcome == Outcome::kMistrusted) {
      lines.push_back(fmt::format("  MISTRUSTED {}: {}", where, one_line(r.reason)));
    } else if (r.outcome == Outcome::kSkipped) {
      const properties::Property* p = properties::find_property(r.property);
      const bool applies = p && !properties::empty_intersection(r.op, p->domain, all);
      const SkipRule* rule = policy.skip_rule(r.op, r.property);
      if (applies && !rule) {
        r.reason = "policy: required, may not be SKIPPED: " + r.reason;
        violations.push_back(where + ": " + r.reason);
        lines.push_back(fmt::format("  SKIPPED (not allowed by the policy) {}: {}", where, one_line(r.reason)));
      } else if (applies && !policy.is_default() && !rule->why.empty()) {
        r.reason += " (allowed by the policy: " + rule->why + ")";
      }
    }
    if (baseline) {
      if (const BaselineRow* b = baseline->find(plugin_name, std::string(name(r.op)), r.property)) {
        if (std::optional<std::string> g = regression(r, *b)) {
          r.reason = "regression: " + *g + (r.reason.empty() ? "" : "; " + r.reason);
          regressions.push_back(where + ": " + *g);
          lines.push_back(fmt::format("  REGRESSION {}: {} (baseline {})", where, *g, o.baseline));
        }
      }
    }
  }
  if (!policy.is_default()) {
    auto violate = [&](Op op, const std::string& v) {
      violations.push_back(v);
      lines.push_back("  " + v);
      for (RowResult& r : rows)
        if (r.op == op) {
          r.reason = v + (r.reason.empty() ? "" : "; " + r.reason);
          break;
        }
    };
    const std::map<std::tuple<Op, DType, Profile>, int> compared = compared_per_combination(rows);
    for (const Op op : ops)
      for (const DType d : dtypes)
        for (const Profile pr : profiles) {
          // The probe says why a combination is missing (or crashes); what counts is the evidence below.
          if (const std::optional<std::string> why = probe(plugin, op, d, pr, policy))
            violate(op, fmt::format("policy: requires {} {} {}, but {} {}", name(op), name(d), name(pr), plugin_name,
                                    one_line(*why)));
          // A required combination is conforming only on evidence: a case of it compared
          // something, whatever supports() said to the probe. The whole run's rows are needed
          // (a shard holds a few properties, whose 12 draws need not meet every combination).
          const auto c = compared.find({op, d, pr});
          if (shard_n == 1 && (c == compared.end() || c->second == 0))
            violate(op, fmt::format("policy: requires {} {} {}, but no case of it compared anything in any row "
                                    "(the draws of it were refused or had nothing to relate)",
                                    name(op), name(d), name(pr)));
        }
  }

  json doc = results_document({.tier = o.tier, .seed = o.seed, .shard_index = shard_i, .shard_count = shard_n, .start = start},
                              targets, rows, policy.properties);
  // "policy" names the file; a baseline without a policy file is judged by the default policy,
  // which the report must name because the verdict is then not the schema's plain rule.
  if (!policy.is_default()) doc["policy"] = policy.source;
  else if (baseline) doc["policy"] = "default";
  doc["gate"] = {{"plugin", o.python.empty() ? o.plugin : "python:" + o.python}, {"baseline", o.baseline.empty() ? json(nullptr) : json(o.baseline)},
                 {"violations", violations}, {"regressions", regressions}};
  // A shard cannot judge coverage (its rows need not meet every combination): it names what the
  // policy requires of the whole run, and `normcheck merge` checks that against every shard's rows.
  if (!policy.is_default()) {
    json required = json::array();
    for (const Op op : ops)
      for (const DType d : dtypes)
        for (const Profile pr : profiles) required.push_back({name(op), name(d), name(pr)});
    doc["gate"]["required"] = required;
  }
  Expected<json> summary = report::compute_summary(doc);
  if (!summary) {
    std::fprintf(stderr, "normcheck: internal error: %s\n", one_line(summary.message()).c_str());
    return kExitInternal;
  }
  const bool conforming = summary->value("conforming", false) && violations.empty() && regressions.empty();
  (*summary)["conforming"] = conforming;
  doc["summary"] = *summary;
  if (Status s = report::write_report(doc, o.out); !s.ok()) return report_usage_error(s.message());
  if (!o.write_baseline.empty())
    if (Status s = write_baseline(o.write_baseline, baseline_json(rows, o.tier, o.seed)); !s.ok())
      return report_usage_error(s.message());

  const json& sm = doc["summary"];
  const std::string under = policy.is_default() ? std::string() : " under policy " + policy.source;
  const ConsoleSummary console = console_summary(doc);
  const int flaky = sm.value("flaky", 0);
  std::printf("%s\n", fmt::format("normcheck gate: {} {}{}{} ({} passed, {} failed, {}{} skipped, {} mistrusted rows; "
                                  "{} policy violations, {} regressions; {:.1f} s) -> {}/index.html",
                                  plugin_name, conforming ? "CONFORMING" : "NOT CONFORMING", under, console.count,
                                  sm.value("passed", 0), sm.value("failed", 0),
                                  flaky > 0 ? fmt::format("{} flaky, ", flaky) : "", sm.value("skipped", 0),
                                  sm.value("mistrusted", 0), violations.size(), regressions.size(),
                                  doc["wall_seconds"].get<double>(), o.out)
                          .c_str());
  // The distinct problems first, then every row that says something.
  for (const std::string& l : console.causes) std::printf("%s\n", l.c_str());
  for (const std::string& l : lines) std::printf("%s\n", l.c_str());
  for (const std::string& l : console.fingerprints) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
  return conforming ? kExitOk : kExitCheckFailed;
}

}  // namespace normcheck::tool
