#include "impls/common.h"

#include <string>

namespace normcheck::impls {

Status check_view(const char* what, const std::optional<TensorView>& v, DType dtype,
                  const std::vector<std::int64_t>& shape) {
  if (!v) return Status::error(std::string("Expected ") + what + ", but got none");
  if (v->device != Device::kCPU)
    return Status::error(std::string("Expected ") + what + " on the CPU, but got a CUDA tensor");
  if (v->dtype != dtype)
    return Status::error(std::string("Expected ") + what + " of dtype " + std::string(name(dtype)) + ", but got " +
                         std::string(name(v->dtype)));
  if (v->shape != shape)
    return Status::error(std::string("Expected ") + what + " of shape " + bracketed(shape) + ", but got " +
                         bracketed(v->shape));
  return {};
}

Status check_case_views(const Problem& p, const Geometry& g, const Inputs& in, const Outputs& out) {
  NC_RETURN_IF_ERROR(check_view("x", in.x, p.dtype, p.shape));
  NC_RETURN_IF_ERROR(check_view("y", out.y, p.dtype, p.shape));
  const std::vector<std::int64_t> ashape = affine_shape(p);
  if (p.affine) NC_RETURN_IF_ERROR(check_view("weight", in.weight, p.dtype, ashape));
  if (p.bias) NC_RETURN_IF_ERROR(check_view("bias", in.bias, p.dtype, ashape));  // as the reference: bias=1 adds beta
  if (tracks_running_stats(p)) {
    NC_RETURN_IF_ERROR(check_view("running_mean", out.running_mean, p.dtype, {g.C}));
    NC_RETURN_IF_ERROR(check_view("running_var", out.running_var, p.dtype, {g.C}));
  }
  if (p.direction == Direction::kBackward) {
    NC_RETURN_IF_ERROR(check_view("grad_output", in.grad_output, p.dtype, p.shape));
    NC_RETURN_IF_ERROR(check_view("dx", out.dx, p.dtype, p.shape));
  }
  return {};
}

Status pytorch_refusals(const Problem& p, const Geometry& g) {
  if (p.profile != Profile::kPyTorch) return {};
  // The cumulative average (momentum=None) is BatchNorm's: InstanceNorm's momentum is a number.
  if (p.op == Op::kInstanceNorm && tracks_running_stats(p) && p.mode == Mode::kTrain && !p.momentum)
    return Status::refusal(
        "Expected a momentum value for instance_norm training with track_running_stats=1 "
        "(momentum=none, the cumulative average, is batch_norm's), but got none");
  // PyTorch computes no batch statistics from a single value.
  if (!uses_running_stats(p) && g.set_size == 1 && g.num_sets > 0) {
    if (p.op == Op::kBatchNorm)
      return Status::refusal("Expected more than 1 value per channel when training, got input size " +
                           bracketed(p.shape));
    if (p.op == Op::kInstanceNorm)
      return Status::refusal("Expected more than 1 spatial element when training, got input size " +
                           bracketed(p.shape));
  }
  return {};
}

UpdateWeights update_weights(const Problem& p, std::int64_t num_batches_tracked) {
  return held_momentum(p, num_batches_tracked);
}

}  // namespace normcheck::impls
