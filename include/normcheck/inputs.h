#pragma once
/// The inputs of one normalization problem: what the reference and every implementation under
/// test receive. Views may have any strides; each is in the problem's dtype.
#include <cstdint>
#include <optional>

#include "normcheck/tensor.h"

namespace normcheck {

struct Inputs {
  TensorView x;                             ///< problem.shape
  std::optional<TensorView> weight, bias;   ///< (C), or normalized_shape for layer_norm / rms_norm
  std::optional<TensorView> running_mean;   ///< (C), batch_norm / instance_norm with tracking
  std::optional<TensorView> running_var;    ///< (C)
  std::int64_t num_batches_tracked = 0;
  std::optional<TensorView> grad_output;    ///< dy, problem.shape; backward only
};

}  // namespace normcheck
