#pragma once
/// `normcheck report RESULTS.json [--out DIR]`: re-renders stored results (summary.md, junit.xml,
/// index.html, results.json) into DIR, by default the results file's own directory.
#include <CLI/CLI.hpp>
#include <string>

namespace normcheck::tool {

struct ReportOptions {
  std::string results;  ///< the results.json to render
  std::string out;      ///< the report directory; empty: the results file's directory
};

CLI::App* add_report_command(CLI::App& app, ReportOptions& o);
/// Prints one line, "report: wrote DIR: <verdict>"; kExitOk, or kExitUsage with a one-line error for a
/// missing, malformed or unknown-version file or an unwritable DIR. The verdict does not set the exit
/// code (that is `normcheck gate`'s job).
int run_report(const ReportOptions& o);

}  // namespace normcheck::tool
