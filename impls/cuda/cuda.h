#pragma once
/// normcheck's CUDA kernels ("cuda"): every op, forward and backward, float64/32/16 and bfloat16
/// (float32 accumulation for the 16-bit types, float64 for float64), any layout of the caller's
/// host views (staged to the device dense, contiguous or channels-last). Declared without any CUDA
/// include; the launchers on device pointers are in impls/cuda/launch.h.
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace normcheck::impls {

class Implementation;

/// Appends the "cuda" implementation (built only when CMake found a CUDA compiler:
/// NORMCHECK_HAVE_CUDA). Without a usable GPU it is still listed, and refuses every problem.
void add_cuda_implementations(std::vector<std::unique_ptr<Implementation>>& out);

/// Why the CUDA kernels cannot run here ("no CUDA device (cudaGetDeviceCount: ...)"), or nullopt
/// when a device is usable. Asked once per process.
std::optional<std::string> cuda_unavailable_reason();

}  // namespace normcheck::impls
