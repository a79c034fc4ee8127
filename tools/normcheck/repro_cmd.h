#pragma once
/// `normcheck repro '<line>'`: replays exactly one case, the line a failure printed
/// (a problem descriptor plus impl=NAME property=NAME).
#include <CLI/CLI.hpp>
#include <string>

namespace normcheck::tool {

struct ReproOptions {
  std::string line;
  std::string plugin;  ///< a plugin library to load instead of a built-in implementation
  double bound_multiplier = 1.0;
  std::string save;  ///< --save DIR: export the case (tools/normcheck/case_export.h); empty: none
};

CLI::App* add_repro_command(CLI::App& app, ReproOptions& o);
/// Prints "PASSED ..." or "FAILED: <detail>" and the worst element; kExitOk when the property
/// holds, kExitCheckFailed when it does not, kExitUsage for a bad line or unknown name, or a --save
/// directory that cannot be written (checked before the case runs).
int run_repro(const ReproOptions& o);

}  // namespace normcheck::tool
