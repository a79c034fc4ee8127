#pragma once
/// `normcheck merge A.json B.json ... --out DIR`: merges the shards of one run into one results
/// document and renders it into DIR (report::merge_results, docs/report-schema.md).
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace normcheck::tool {

struct MergeOptions {
  std::vector<std::string> shards;  ///< the shards' results.json files
  std::string out;                  ///< the report directory
};

CLI::App* add_merge_command(CLI::App& app, MergeOptions& o);
/// Prints one line, "merge: N shards into DIR: <verdict>" and exits with the verdict, as the run or
/// gate that made the shards would have: kExitOk when CONFORMING, kExitCheckFailed when not (under
/// a policy, the run conforms when every shard does). kExitUsage with a one-line error naming the
/// file for a bad shard, shards of different runs, a row in two shards.
int run_merge(const MergeOptions& o);

}  // namespace normcheck::tool
