#pragma once
/// The LibTorch adapter: torch::nn::BatchNorm1d/2d/3d, LayerNorm, InstanceNorm1d/2d/3d and
/// GroupNorm, the modules users call, driven in train and eval mode with their own buffers and
/// backward through autograd. Declared without any torch include: only torch_impl.cc sees LibTorch.
#include <memory>
#include <vector>

#include "impls/registry.h"

namespace normcheck::impls {

/// Appends the "torch" implementation (built only when LibTorch was found: NORMCHECK_HAVE_TORCH).
void add_torch_implementations(std::vector<std::unique_ptr<Implementation>>& out);
/// Appends "torch-cuda" (LibTorch's modules on the GPU) when LibTorch was built with CUDA and
/// torch::cuda::is_available(); otherwise appends nothing.
void add_torch_cuda_implementations(std::vector<std::unique_ptr<Implementation>>& out);

}  // namespace normcheck::impls
