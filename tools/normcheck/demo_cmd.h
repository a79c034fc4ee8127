#pragma once
/// `normcheck demo` (also `normcheck` alone): the self-check, then two sample evaluations written
/// as .npy files with a short human-readable summary.
#include <CLI/CLI.hpp>

#include "tools/normcheck/selfcheck.h"

namespace normcheck::tool {

struct DemoOptions {
  std::string out = "normcheck-report/sample";
  std::uint64_t seed = 1;
  SelfcheckOptions selfcheck;
};

CLI::App* add_demo_command(CLI::App& app, DemoOptions& o);
/// kExitOk; kExitCheckFailed when the self-check failed; kExitUsage when a file cannot be written.
int run_demo(const DemoOptions& o);

}  // namespace normcheck::tool
