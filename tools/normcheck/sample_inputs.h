#pragma once
/// Seeded sample inputs for a problem: the demo's data, `normcheck gen-sample`'s files and the
/// benchmark's inputs. Portable: std::mt19937_64 and our own Box-Muller (std::normal_distribution
/// differs between standard libraries), so a seed means the same data everywhere.
#include <cstdint>
#include <random>

#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "properties/inputs.h"
#include "tools/normcheck/input_set.h"

namespace normcheck::tool {

/// x ~ offset + spread * N(0, 1); weight ~ 1 + N(0, 1)/4; bias ~ N(0, 1)/4; running_mean ~
/// offset + N(0, 1); running_var ~ spread^2 * (1/2 + U(0, 1)); grad_output ~ N(0, 1). Every value
/// is rounded (correctly) to the problem's dtype.
struct SampleSpec {
  std::uint64_t seed = 0;
  double offset = 0;
  double spread = 1;
};

/// The portable deviates every generator in normcheck shares (properties/inputs.h).
using properties::standard_normal;
using properties::uniform01;

/// Every input the problem takes (weight when affine, bias when bias, running statistics when
/// tracked, grad_output when backward), seeded. Fails only for an invalid problem.
Expected<InputSet> make_sample_inputs(const Problem& p, const SampleSpec& spec);

}  // namespace normcheck::tool
