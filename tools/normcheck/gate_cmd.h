#pragma once
/// `normcheck gate --plugin lib.so`: the property suite on a third-party plugin (docs/gate.md),
/// judged by a policy file and optionally against a baseline; the conformance report, the
/// verdict, one REPRO line per failure. Exit codes: 0 conforming, 1 non-conforming, 2 usage or
/// input error, 3 the plugin could not be loaded.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "properties/shrink_budget.h"
#include "tools/normcheck/progress_log.h"

namespace normcheck::tool {

struct GateOptions {
  std::string plugin;                          ///< the shared library (or python)
  std::string python;                          ///< MODULE:OBJECT, hosted by libnormcheck_python
  std::string policy, baseline, write_baseline;  ///< files; empty: none
  std::vector<std::string> ops, dtypes, profiles;  ///< narrow the policy's further
  std::string tier = "smoke";
  std::uint64_t seed = 1;
  std::string out = "normcheck-report";
  std::string shard = "0/1";
  double timeout_s = 10;             ///< per case (PluginOptions::timeout)
  std::uint64_t memory_limit_mb = 4096;  ///< the worker's RLIMIT_AS; 0: none
  int shrink_budget_cases = properties::ShrinkBudget{}.cases;   ///< per row; the run: ten times
  double shrink_budget_s = properties::ShrinkBudget{}.seconds;  ///< per row; the run: ten times
  std::string worker;                ///< normcheck-worker; empty: beside normcheck
  std::string repro;                 ///< check this one repro line instead of the suite
  std::string save;                  ///< with repro: export that case into this directory (case_export.h)
  bool quiet = false;
  double progress_interval_s = kDefaultProgressIntervalS;      ///< stdout not a terminal: a progress line this often (progress_log.h)
};

CLI::App* add_gate_command(CLI::App& app, GateOptions& o);
int run_gate(const GateOptions& o);

}  // namespace normcheck::tool
