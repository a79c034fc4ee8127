#include "tools/normcheck/report_cmd.h"

#include <cstdio>
#include <filesystem>

#include "report/model.h"
#include "report/report.h"
#include "report/summary_md.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"

namespace normcheck::tool {

CLI::App* add_report_command(CLI::App& app, ReportOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "report", "Render stored results (results.json) as summary.md, junit.xml and index.html");
  cmd->add_option("results", o.results, "The results.json to render (docs/report-schema.md)")->required();
  cmd->add_option("--out", o.out, "The report directory (default: the results file's directory)");
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_report(const ReportOptions& o) {
  Expected<nlohmann::json> results = report::read_results(o.results);
  if (!results) return report_usage_error(results.status());
  std::string out = o.out;
  if (out.empty()) out = std::filesystem::path(o.results).parent_path().string();
  if (out.empty()) out = ".";
  if (Status s = report::write_report(*results, out); !s) return report_usage_error(s);
  const Expected<report::Model> model = report::build_model(*results, o.results);  // checked just above
  std::printf("report: wrote %s: %s\n", out.c_str(), report::verdict_text(*model).c_str());
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace normcheck::tool
