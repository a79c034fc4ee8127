#pragma once
/// `normcheck gen-sample` (hidden): writes seeded inputs for a problem as .npy files, for trying
/// `normcheck reference` and for measuring it (e.g. peak memory on a large problem).
#include <CLI/CLI.hpp>

#include "tools/normcheck/sample_inputs.h"

namespace normcheck::tool {

struct GenSampleOptions {
  std::string problem;
  std::string out;
  SampleSpec spec;
  bool seed_given = false;  ///< without --seed, the descriptor's seed= field (default 0) seeds the data
};

CLI::App* add_gen_sample_command(CLI::App& app, GenSampleOptions& o);
/// Writes DIR/<input>.npy and prints one JSON line {"problem", "dir", "inputs"}; the problem line
/// carries the seed used (seed=S), so that it names the data.
int run_gen_sample(const GenSampleOptions& o);

}  // namespace normcheck::tool
