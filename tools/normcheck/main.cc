// normcheck: the command line. Subcommands: run (the default), gate, repro, report, merge, reference,
// selfcheck, demo, and the
// hidden gen-sample. Errors are one line on stderr and exit code 2 (see exit_codes.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>

#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/demo_cmd.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/gate_cmd.h"
#include "tools/normcheck/gen_sample_cmd.h"
#include "tools/normcheck/golden_cmd.h"
#include "tools/normcheck/merge_cmd.h"
#include "tools/normcheck/reference_cmd.h"
#include "tools/normcheck/report_cmd.h"
#include "tools/normcheck/repro_cmd.h"
#include "tools/normcheck/run_cmd.h"
#include "tools/normcheck/selfcheck_cmd.h"

namespace normcheck::tool {
namespace {

int run(int argc, char** argv) {
  CLI::App app{
      "normcheck: a verification suite for normalization layers (BatchNorm, LayerNorm, InstanceNorm, "
      "GroupNorm, RMSNorm, LayerNorm2d). Without a subcommand: run (the smoke tier on every built-in implementation and the mutants, report in ./normcheck-report/)."};
  app.name("normcheck");
  app.require_subcommand(0, 1);
  app.footer(kExitCodesHelp);

  ReferenceOptions reference;
  SelfcheckOptions selfcheck;
  DemoOptions demo;
  GenSampleOptions gen_sample;
  ReportOptions report;
  MergeOptions merge;
  ReproOptions repro;
  GoldenOptions golden;
  RunOptions run_options;
  GateOptions gate;
  CLI::App* reference_cmd = add_reference_command(app, reference);
  CLI::App* selfcheck_cmd = add_selfcheck_command(app, selfcheck);
  CLI::App* demo_cmd = add_demo_command(app, demo);
  CLI::App* gen_sample_cmd = add_gen_sample_command(app, gen_sample);
  CLI::App* report_cmd = add_report_command(app, report);
  CLI::App* merge_cmd = add_merge_command(app, merge);
  CLI::App* repro_cmd = add_repro_command(app, repro);
  CLI::App* golden_cmd = add_golden_command(app, golden);
  CLI::App* run_cmd = add_run_command(app, run_options);
  CLI::App* gate_cmd = add_gate_command(app, gate);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);  // --help
    return report_usage_error(std::string(e.what()) + " (see normcheck --help)");
  }
  if (reference_cmd->parsed()) return run_reference(reference);
  if (selfcheck_cmd->parsed()) return run_selfcheck_command(selfcheck);
  if (gen_sample_cmd->parsed()) return run_gen_sample(gen_sample);
  if (report_cmd->parsed()) return run_report(report);
  if (merge_cmd->parsed()) return run_merge(merge);
  if (repro_cmd->parsed()) return run_repro(repro);
  if (golden_cmd->parsed()) return run_golden(golden);
  if (run_cmd->parsed()) return run_run(run_options);
  if (gate_cmd->parsed()) return run_gate(gate);
  if (demo_cmd->parsed()) return run_demo(demo);
  return run_run(run_options);  // the default: the conformance report on the built-in implementations
}

}  // namespace
}  // namespace normcheck::tool

int main(int argc, char** argv) {
  using namespace normcheck::tool;
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc&) {
    return report_usage_error("out of memory (the problem is too large for this machine)");
  } catch (const std::length_error&) {  // a vector of more elements than any machine can hold
    return report_usage_error("out of memory (the problem is too large for any machine)");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "normcheck: internal error: %s\n", one_line(e.what()).c_str());
    return kExitInternal;
  }
}
