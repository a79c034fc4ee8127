#include "tools/normcheck/repro_cmd.h"

#include <fmt/format.h>

#include <cstdio>

#include "properties/runner.h"
#include "tools/normcheck/case_export.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/implementations.h"
#include "tools/normcheck/option_checks.h"
#include "tools/normcheck/policy.h"

namespace normcheck::tool {

CLI::App* add_repro_command(CLI::App& app, ReproOptions& o) {
  CLI::App* cmd = app.add_subcommand("repro", "Replay one case: the line a failure printed after REPRO:");
  cmd->add_option("line", o.line, "'<descriptor> impl=NAME property=NAME'")->required();
  cmd->add_option("--bound-multiplier", o.bound_multiplier, "Tolerance multiplier on the reference's bound")
      ->check(number_in(0, kMaxMultiplier, /*lo_open=*/true))
      ->capture_default_str();
  cmd->add_option("--save", o.save,
                  "Export the case into this directory: its inputs, the reference's outputs and bounds, the "
                  "implementation's outputs (.npy) and case.json (docs/gate.md)");
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_repro(const ReproOptions& o) {
  Expected<properties::ReproCase> c = properties::parse_repro(o.line);
  if (!c) return report_usage_error(c.message());
  if (c->implementation.empty()) return report_usage_error("Expected impl=NAME in the repro line, but got none");
  const std::string property_name = c->property.empty() ? "differential" : c->property;
  const properties::Property* property = properties::find_property(property_name);
  if (!property) return report_usage_error("Expected a property name, but got '" + property_name + "'");
  if (const std::optional<std::string> why = impls::unavailable_reason(c->implementation))
    return report_load_error(*why);  // LibTorch absent: exit 3, as for run --impl torch
  Expected<std::unique_ptr<impls::Implementation>> impl = implementation_named(c->implementation);
  if (!impl) return report_usage_error(impl.message());
  if (!o.save.empty())
    if (Status s = prepare_save_dir(o.save); !s) return report_usage_error(with_context("--save", s));
  properties::CheckOptions check;
  check.bound_multiplier = o.bound_multiplier;
  const properties::CaseResult r = properties::check_one(**impl, *property, c->problem, check);
  std::printf("%s\n", fmt::format("{} {} on {} by {}", properties::name(r.outcome), property->name,
                                  to_string(c->problem), c->implementation)
                          .c_str());
  if (!r.detail.empty()) std::printf("  %s\n", one_line(r.detail).c_str());
  if (r.worst) std::printf("  worst: %s\n", properties::describe(*r.worst).c_str());
  std::fflush(stdout);
  const int code = r.outcome == properties::Outcome::kFailed ? kExitCheckFailed : kExitOk;
  if (o.save.empty()) return code;
  return save_replayed_case(**impl, {*c, property_name, "normcheck repro '" + o.line + "'", check, r}, o.save, code);
}

}  // namespace normcheck::tool
