#include "tools/normcheck/merge_cmd.h"

#include <cstdio>

#include "report/escape.h"
#include "report/model.h"
#include "report/report.h"
#include "report/summary_md.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"

namespace normcheck::tool {

CLI::App* add_merge_command(CLI::App& app, MergeOptions& o) {
  CLI::App* cmd = app.add_subcommand("merge", "Merge the shards of a run (results.json files) into one report");
  cmd->add_option("shards", o.shards, "The shards' results.json files")->required()->expected(1, -1);
  cmd->add_option("--out", o.out, "The report directory for the merged results")->required();
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_merge(const MergeOptions& o) {
  std::vector<nlohmann::json> shards;
  for (const std::string& path : o.shards) {
    Expected<nlohmann::json> shard = report::read_results(path);
    if (!shard) return report_usage_error(shard.status());
    shards.push_back(std::move(*shard));
  }
  Expected<nlohmann::json> merged = report::merge_results(shards, o.shards);
  if (!merged) return report_usage_error(merged.status());
  if (Status s = report::write_report(*merged, o.out); !s) return report_usage_error(s);
  const Expected<report::Model> model = report::build_model(*merged, "the merged results");  // checked above
  std::printf("merge: %zu shards into %s: %s\n", shards.size(), o.out.c_str(), report::verdict_text(*model).c_str());
  if (merged->contains("gate") && (*merged)["gate"].value("violations", nlohmann::json::array()).is_array())
    for (const nlohmann::json& v : (*merged)["gate"]["violations"])
      if (v.is_string()) std::printf("  %s\n", one_line(v.get<std::string>()).c_str());
  std::fflush(stdout);
  return model->conforming ? kExitOk : kExitCheckFailed;  // the merged run's verdict, as run and gate give it
}

}  // namespace normcheck::tool
