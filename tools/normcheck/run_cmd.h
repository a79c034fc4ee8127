#pragma once
/// `normcheck run` (also the default with no subcommand): the property suite on the built-in
/// implementations and the mutants, written as a conformance report (docs/report-schema.md).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/normcheck/progress_log.h"

namespace normcheck::tool {

struct RunOptions {
  std::vector<std::string> impls;       ///< empty: every built-in implementation
  std::vector<std::string> ops, dtypes, profiles, properties;  ///< empty: all
  std::string tier = "smoke";
  std::uint64_t seed = 1;
  std::string out = "normcheck-report";
  bool mutants = true;                  ///< also run the mutants: the kill matrix
  std::string shard = "0/1";            ///< i/n: this process runs rows i, i+n, i+2n, ...
  double bound_multiplier = 1.0;
  bool quiet = false;
  double progress_interval_s = kDefaultProgressIntervalS;      ///< stdout not a terminal: a progress line this often (progress_log.h)
};

CLI::App* add_run_command(CLI::App& app, RunOptions& o);
/// kExitOk when every non-mutant implementation conforms, kExitCheckFailed when one does not,
/// kExitUsage for bad options.
int run_run(const RunOptions& o);

}  // namespace normcheck::tool
