#pragma once
/// `normcheck selfcheck`: the reference checks itself against an independent exact oracle.
#include <CLI/CLI.hpp>

#include "tools/normcheck/selfcheck.h"

namespace normcheck::tool {

CLI::App* add_selfcheck_command(CLI::App& app, SelfcheckOptions& o);
/// Prints one line per group and "selfcheck: N passed, M failed"; kExitOk when all pass, else
/// kExitCheckFailed. With only_failures, the passing groups' lines are left out (the demo).
int run_selfcheck_command(const SelfcheckOptions& o, bool only_failures = false);

}  // namespace normcheck::tool
