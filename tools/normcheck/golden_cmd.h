#pragma once
/// `normcheck golden --out DIR`: writes the golden vectors (fixtures/golden.h) into DIR; the
/// committed copy is regenerated with `normcheck golden --out fixtures/golden`.
#include <CLI/CLI.hpp>
#include <string>

namespace normcheck::tool {

struct GoldenOptions {
  std::string out;
};

CLI::App* add_golden_command(CLI::App& app, GoldenOptions& o);
/// Prints one JSON line (out, cases, files, bytes, generator_version); kExitOk, or kExitUsage
/// with a one-line error when DIR cannot be written.
int run_golden(const GoldenOptions& o);

}  // namespace normcheck::tool
