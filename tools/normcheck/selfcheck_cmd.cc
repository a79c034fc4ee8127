#include "tools/normcheck/selfcheck_cmd.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/option_checks.h"

namespace normcheck::tool {

CLI::App* add_selfcheck_command(CLI::App& app, SelfcheckOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "selfcheck", "Check the reference against an independent exact oracle on small random problems");
  cmd->add_option("--seed", o.seed, "Seed of the random problems")->transform(any_seed())->capture_default_str();
  cmd->add_option("--cases", o.cases, "Random problems per op x dtype x mode x direction group")
      ->transform(integer_in(1, 1000))
      ->capture_default_str();
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_selfcheck_command(const SelfcheckOptions& o, bool only_failures) {
  const auto start = std::chrono::steady_clock::now();
  const SelfcheckReport report = run_selfcheck(o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const GroupOutcome& g : report.groups) {
    if (g.passed() && only_failures) continue;
    const std::string line = g.passed()
                                 ? fmt::format("selfcheck: {}: ok ({} problems, {} values checked)", g.name,
                                               g.problems, g.values_checked)
                                 : fmt::format("selfcheck: {}: FAILED: {}", g.name, one_line(g.failure));
    std::printf("%s\n", line.c_str());
  }
  std::printf("%s\n", fmt::format("selfcheck: {} passed, {} failed ({:.2f} s, seed {}, {} cases per group)",
                                  report.passed(), report.failed(), seconds, o.seed, o.cases)
                          .c_str());
  std::fflush(stdout);
  return report.failed() == 0 ? kExitOk : kExitCheckFailed;
}

}  // namespace normcheck::tool
