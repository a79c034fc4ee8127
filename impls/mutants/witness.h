#pragma once
/// The inputs of a mutant's witness problem, drawn from the problem's seed and values= field
/// (problem.h's Values) in its layout: x as values= says (normal, uniform, constant, nan, inf);
/// weight U(0.5, 1.5); bias, running_mean and dy U(-1, 1); running_var U(0.5, 1.5);
/// num_batches_tracked 3. The distributions are the descriptor's; the exact draws are this
/// function's (the property suite's generator draws the same distributions with its own stream).
#include "normcheck/inputs.h"
#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "normcheck/tensor.h"

namespace normcheck::impls {

/// A problem's inputs, owned, and the views of them.
struct WitnessInputs {
  Tensor x, weight, bias, running_mean, running_var, grad_output;
  Inputs inputs;
};

/// Fails for an invalid problem, and for values= kinds it does not draw (large, tiny,
/// exact_pairs: no witness needs them).
Expected<WitnessInputs> make_witness_inputs(const Problem& p);

}  // namespace normcheck::impls
