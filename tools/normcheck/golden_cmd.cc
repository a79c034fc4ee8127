#include "tools/normcheck/golden_cmd.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "fixtures/golden.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"

namespace normcheck::tool {

CLI::App* add_golden_command(CLI::App& app, GoldenOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "golden",
      "Write the golden vectors (inputs, correctly rounded outputs, bounds as .npy; JSON manifests)");
  cmd->add_option("--out", o.out, "Directory to write (fixtures/golden regenerates the committed copy)")
      ->required();
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_golden(const GoldenOptions& o) {
  Expected<fixtures::GoldenSummary> s = fixtures::write_golden(o.out);
  if (!s) return report_usage_error(with_context("--out", s.status()));
  nlohmann::ordered_json j;
  j["out"] = o.out;
  j["cases"] = s->cases;
  j["files"] = s->files;
  j["bytes"] = s->bytes;
  j["generator_version"] = fixtures::kInputGeneratorVersion;
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

}  // namespace normcheck::tool
