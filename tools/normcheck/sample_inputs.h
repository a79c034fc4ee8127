#pragma once
/// Seeded sample inputs for a problem: the demo's data, `normcheck gen-sample`'s files, the inputs
/// `repro --save` exports and the benchmark's inputs. They are the properties' own inputs
/// (properties::make_inputs), so a repro line's descriptor names its case's data exactly.
#include <cstdint>

#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "properties/inputs.h"
#include "tools/normcheck/input_set.h"

namespace normcheck::tool {

/// The data of a caller that picks x ~ offset + spread * N(0, 1) by hand (values=normal:OFFSET:SPREAD).
struct SampleSpec {
  std::uint64_t seed = 0;
  double offset = 0;
  double spread = 1;
};

/// The portable deviates every generator in normcheck shares (properties/inputs.h).
using properties::standard_normal;
using properties::uniform01;

/// Every input the problem takes (weight when affine, bias when bias, running statistics and
/// num_batches_tracked when tracked, grad_output when backward), drawn from p.seed as p.values
/// says, in p.layout: what the properties draw for p (properties/inputs.h). Fails only for an
/// invalid problem.
Expected<InputSet> make_sample_inputs(const Problem& p);

/// p with seed = spec.seed and values = normal:spec.offset:spec.spread.
Problem with_sample_spec(Problem p, const SampleSpec& spec);
/// make_sample_inputs(with_sample_spec(p, spec)).
Expected<InputSet> make_sample_inputs(const Problem& p, const SampleSpec& spec);

}  // namespace normcheck::tool
