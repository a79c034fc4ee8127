// What the built-in implementations (cpu, cuda, mutants-base) share: the checks of a case's views,
// PyTorch's refusals, and the weights of the running-statistics update. The reference keeps its own
// copies on purpose: an oracle that shared code with its subjects could not catch a bug in it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "impls/registry.h"
#include "normcheck/problem.h"

namespace normcheck::impls {

/// An "Expected x of dtype float32, but got float16"-style error when v is missing, not on the
/// CPU, or of another dtype or shape.
Status check_view(const char* what, const std::optional<TensorView>& v, DType dtype,
                  const std::vector<std::int64_t>& shape);

/// check_view for every view p defines: x, y, weight and bias (affine / bias=1), running_mean
/// and running_var (track_running_stats), grad_output and dx (backward).
Status check_case_views(const Problem& p, const Geometry& g, const Inputs& in, const Outputs& out);

/// PyTorch's refusals of a valid problem, as Status::refusal (the framework's own error, which a
/// case requiring it passes with): momentum=None for instance_norm training with running stats,
/// and a set of one value when batch statistics are needed (batch_norm, instance_norm).
Status pytorch_refusals(const Problem& p, const Geometry& g);

/// The running-statistics update new = keep * old + take * batch with the weights as the
/// profile's framework holds them (normcheck::held_momentum, the reference's own weights):
///   pytorch:     take = momentum (None: 1 / num_batches_tracked, counted first), keep = 1 - take
///   keras, onnx: keep = momentum, take = 1 - momentum
/// each rounded as the framework rounds it. Each weight comes from the given number: keep = 1 -
/// (1 - momentum) would lose log2(1 / momentum) bits (4 ulp of running_var at momentum 0.001:
/// found by the nightly tier).
using UpdateWeights = RunningWeights;
UpdateWeights update_weights(const Problem& p, std::int64_t num_batches_tracked);

}  // namespace normcheck::impls
