// The parts of the launcher API that need no device code: the order choice, the statistics'
// sizes, the workspace.
#include <cuda_runtime_api.h>

#include <string>

#include "impls/cuda/launch.h"

namespace normcheck::impls::cuda {

Order choose_order(Op op, const Geometry& g, bool channels_last) {
  if (op == Op::kLayerNorm || op == Op::kRmsNorm) return Order::kNSC;  // rows of C (S == 1)
  if (g.S == 1 || g.C == 1) {
    // Both orders are the same memory: take the one whose sets are contiguous, or (batch norm) the
    // one whose reduction runs over rows of channels.
    switch (op) {
      case Op::kBatchNorm: return g.S == 1 ? Order::kNSC : Order::kNCS;
      case Op::kLayerNorm2d: return Order::kNSC;
      default: return Order::kNCS;
    }
  }
  return channels_last ? Order::kNSC : Order::kNCS;
}

std::int64_t stat_count(const Desc& d) { return d.use_running ? d.g.C : d.g.num_sets; }

Workspace::~Workspace() {
  if (data_) cudaFree(data_);
}

Status Workspace::reserve(std::size_t bytes) {
  if (bytes <= size_ && data_ != nullptr) return {};
  if (bytes == 0) return {};
  if (data_) {
    const cudaError_t e = cudaFree(data_);
    data_ = nullptr;
    size_ = 0;
    if (e != cudaSuccess) return Status::error(std::string("cudaFree of the workspace failed: ") + cudaGetErrorString(e));
  }
  const cudaError_t e = cudaMalloc(&data_, bytes);
  if (e != cudaSuccess) {
    data_ = nullptr;
    return Status::error("cudaMalloc of a " + std::to_string(bytes) + "-byte workspace failed: " +
                         cudaGetErrorString(e));
  }
  size_ = bytes;
  return {};
}

}  // namespace normcheck::impls::cuda
