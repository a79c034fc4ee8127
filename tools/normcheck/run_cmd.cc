#include "tools/normcheck/run_cmd.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "fixtures/suite_catalog.h"
#include "impls/mutants/mutants.h"
#include "properties/restricted.h"
#include "properties/runner.h"
#include "report/report.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/implementations.h"
#include "tools/normcheck/option_checks.h"
#include "tools/normcheck/policy.h"
#include "tools/normcheck/progress_log.h"
#include "tools/normcheck/suite_run.h"

namespace normcheck::tool {

using nlohmann::json;

CLI::App* add_run_command(CLI::App& app, RunOptions& o) {
  CLI::App* cmd = app.add_subcommand("run", "Run the property suite and write the conformance report (the default)");
  cmd->add_option("--impl", o.impls, "Implementation(s) to check (default: every built-in one)");
  cmd->add_option("--op", o.ops, "Op(s): batch_norm layer_norm instance_norm group_norm rms_norm layer_norm_2d");
  cmd->add_option("--dtype", o.dtypes, "Dtype(s): float64 float32 float16 bfloat16");
  cmd->add_option("--profile", o.profiles, "Profile(s): pytorch keras onnx");
  cmd->add_option("--property", o.properties, "Propert(y/ies) to run (default: all)");
  cmd->add_option("--tier", o.tier, "smoke | ci | nightly")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Base seed of the run")->transform(any_seed())->capture_default_str();
  cmd->add_option("--out", o.out, "Report directory")->capture_default_str();
  cmd->add_flag("!--no-mutants", o.mutants, "Skip the mutants (and the kill matrix)");
  cmd->add_option("--shard", o.shard, "i/n: run every n-th row starting at i (merge with normcheck merge)")
      ->capture_default_str();
  cmd->add_option("--bound-multiplier", o.bound_multiplier, "Tolerance multiplier on the reference's bound")
      ->check(number_in(0, kMaxMultiplier, /*lo_open=*/true))->capture_default_str();
  cmd->add_flag("--quiet", o.quiet, "No progress line");
  add_progress_interval_option(*cmd, o.progress_interval_s);
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_run(const RunOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const std::optional<properties::Tier> tier = properties::parse_tier(o.tier);
  if (!tier) return report_usage_error("Expected --tier smoke, ci or nightly, but got '" + o.tier + "'");
  unsigned shard_i = 0, shard_n = 1;
  if (Status st = parse_shard(o.shard, shard_i, shard_n); !st.ok()) return report_usage_error(st);
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

  std::vector<SuiteTarget> targets;
  for (const std::string& n : o.impls)  // asked for by name: one that cannot load here is exit 3
    if (const std::optional<std::string> why = impls::unavailable_reason(n)) return report_load_error(*why);
  for (const std::string& n : o.impls.empty() ? impls::implementation_names() : o.impls) {
    Expected<std::unique_ptr<impls::Implementation>> impl = implementation_named(n);
    if (!impl) return report_usage_error(impl.message());
    targets.push_back({n, n.rfind("mutant-", 0) == 0 ? "mutant" : "builtin", std::string((*impl)->description()), "", nullptr});
  }
  if (o.mutants && o.impls.empty())
    for (const impls::MutantInfo& m : impls::mutant_catalog()) targets.push_back({m.name, "mutant", "", m.bug, nullptr});
  for (SuiteTarget& t : targets)
    t.make = [name = t.name, narrowing] { return narrowed(std::move(implementation_named(name).value()), narrowing); };

  properties::RunConfig config;
  config.tier = *tier;
  config.seed = o.seed;
  config.check.bound_multiplier = o.bound_multiplier;
  Expected<std::vector<properties::FixedCase>> catalog = fixtures::suite_catalog(*tier);
  if (!catalog) return report_usage_error("internal: " + catalog.message());
  config.catalog = std::move(*catalog);
  const SuitePlan plan{.ops = *ops, .props = props, .shard_index = shard_i, .shard_count = shard_n,
                       .progress = !o.quiet && isatty(STDERR_FILENO),
                       .log_interval_s = log_interval(o.quiet, o.progress_interval_s)};
  const std::vector<properties::RowResult> rows =
      run_suite(targets, plan, [&](impls::Implementation& impl, Op op, const properties::Property& p) {
        return properties::run_row(impl, op, p, config);
      });

  json doc = results_document({.tier = o.tier, .seed = o.seed, .shard_index = shard_i, .shard_count = shard_n, .start = start},
                              targets, rows, props);
  const json& matrix = doc["kill_matrix"];
  Expected<json> summary = report::compute_summary(doc);
  if (!summary) return report_usage_error("internal: " + summary.message());
  doc["summary"] = *summary;
  if (Status s = report::write_report(doc, o.out); !s.ok()) return report_usage_error(s.message());

  const json& sm = doc["summary"];
  const ConsoleSummary console = console_summary(doc);
  int survivors = 0;
  for (const json& m : matrix["mutants"]) survivors += m["killed"].get<bool>() ? 0 : 1;
  std::printf("%s\n", fmt::format("normcheck: {}{} ({} passed, {} failed, {} skipped, {} mistrusted rows; {} of {} mutants killed; {:.1f} s) -> {}/index.html",
                                  sm.value("conforming", false) ? "CONFORMING" : "NOT CONFORMING", console.count,
                                  sm.value("passed", 0),
                                  sm.value("failed", 0), sm.value("skipped", 0), sm.value("mistrusted", 0),
                                  matrix["mutants"].size() - static_cast<std::size_t>(survivors), matrix["mutants"].size(),
                                  doc["wall_seconds"].get<double>(), o.out)
                          .c_str());
  // The distinct problems first, then each failed row.
  for (const std::string& l : console.causes) std::printf("%s\n", l.c_str());
  for (const properties::RowResult& r : rows)
    if (r.failure && r.implementation.rfind("mutant-", 0) != 0)
      std::printf("%s\n  REPRO: %s\n", failed_row_line(r).c_str(), r.failure->repro.c_str());
  for (const std::string& l : console.fingerprints) std::printf("%s\n", l.c_str());
  std::fflush(stdout);
  return sm.value("conforming", false) ? kExitOk : kExitCheckFailed;
}

}  // namespace normcheck::tool
