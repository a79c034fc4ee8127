#pragma once
/// `normcheck gen-sample` (hidden): writes seeded inputs for a problem as .npy files, for trying
/// `normcheck reference` and for measuring it (e.g. peak memory on a large problem). The data is
/// the one the properties draw for the descriptor (its seed= and values=), so gen-sample on a
/// repro line's descriptor writes that case's inputs.
#include <CLI/CLI.hpp>

#include "tools/normcheck/sample_inputs.h"

namespace normcheck::tool {

struct GenSampleOptions {
  std::string problem;
  std::string out;
  SampleSpec spec;
  bool seed_given = false;    ///< without --seed, the descriptor's seed= field (default 0) seeds the data
  bool values_given = false;  ///< --offset or --spread: values=normal:OFFSET:SPREAD replaces the descriptor's
};

CLI::App* add_gen_sample_command(CLI::App& app, GenSampleOptions& o);
/// Writes DIR/<input>.npy and prints one JSON line {"problem", "dir", "inputs",
/// "num_batches_tracked"}; the problem line carries the seed and values used (seed=S values=V),
/// so that it names the data.
int run_gen_sample(const GenSampleOptions& o);

}  // namespace normcheck::tool
