#pragma once
/// `normcheck reference`: evaluates one problem on inputs from .npy files and writes every output
/// (and its error bound) as .npy files, with one JSON summary line on stdout.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "normcheck/problem.h"
#include "tools/normcheck/input_set.h"

namespace normcheck::tool {

struct ReferenceOptions {
  std::string problem;  ///< the one-line descriptor
  InputPaths inputs;
  std::int64_t num_batches_tracked = 0;
  std::string out;
};

/// Registers the subcommand and its options (bound to o).
CLI::App* add_reference_command(CLI::App& app, ReferenceOptions& o);
/// Runs it: kExitOk, or kExitUsage with a one-line message on stderr.
int run_reference(const ReferenceOptions& o);

/// Checks what the tool can say more clearly than evaluate() (it names the option and the file):
/// every given input has the problem's dtype, and x has the problem's shape.
Status check_inputs_against_problem(const Problem& p, const InputSet& in, const InputPaths& paths);

}  // namespace normcheck::tool
