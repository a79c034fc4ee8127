#pragma once
/// The inputs of a mutant's witness problem: drawn from the problem's seed, in its layout, as
/// the implementation tests draw them (x = offset + spread * U(-1, 1); weight U(0.5, 1.5);
/// bias, running_mean, dy U(-1, 1); running_var U(0.5, 1.5); num_batches_tracked 3).
#include "impls/mutants/mutants.h"
#include "normcheck/inputs.h"
#include "normcheck/problem.h"
#include "normcheck/tensor.h"

namespace normcheck::impls {

/// A problem's inputs, owned, and the views of them.
struct WitnessInputs {
  Tensor x, weight, bias, running_mean, running_var, grad_output;
  Inputs inputs;
};

/// Precondition: p is valid.
WitnessInputs make_witness_inputs(const Problem& p, const WitnessData& data);

}  // namespace normcheck::impls
