// The built-in implementations, listed explicitly (static registration objects would be
// dropped by the linker from static libraries).
#include "impls/registry.h"

#include "impls/cpu/cpu.h"
#include "impls/seeds/seeds.h"
#if NORMCHECK_HAVE_TORCH
#include "impls/torch/torch_impl.h"
#endif
#if NORMCHECK_HAVE_CUDA
#include "impls/cuda/cuda.h"
#endif

namespace normcheck::impls {

std::vector<std::unique_ptr<Implementation>> builtin_implementations() {
  std::vector<std::unique_ptr<Implementation>> all;
  add_cpu_implementations(all);
  add_seed_implementations(all);
#if NORMCHECK_HAVE_TORCH
  add_torch_implementations(all);
  add_torch_cuda_implementations(all);
#endif
#if NORMCHECK_HAVE_CUDA
  add_cuda_implementations(all);
#endif
  return all;
}

std::unique_ptr<Implementation> make_implementation(std::string_view name) {
  for (auto& impl : builtin_implementations()) {
    if (impl->name() == name) return std::move(impl);
  }
  return nullptr;
}

std::vector<std::string> implementation_names() {
  std::vector<std::string> names;
  for (const auto& impl : builtin_implementations()) names.emplace_back(impl->name());
  return names;
}

}  // namespace normcheck::impls
