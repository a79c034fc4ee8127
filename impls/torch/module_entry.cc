// The entry points of libnormcheck_torch.so (impls/torch/module.h), its only exported symbols: the
// module is compiled with hidden visibility and links its static libraries with --exclude-libs.
#include "impls/torch/module.h"
#include "impls/torch/torch_impl.h"

#define NORMCHECK_EXPORT __attribute__((visibility("default")))

extern "C" NORMCHECK_EXPORT const char* normcheck_torch_module_abi(
    normcheck::impls::TorchModuleLayout* layout) {
  *layout = normcheck::impls::TorchModuleLayout{};
  return normcheck::impls::kTorchModuleAbi;
}

extern "C" NORMCHECK_EXPORT void normcheck_torch_implementations(
    std::vector<std::unique_ptr<normcheck::impls::Implementation>>* out) {
  normcheck::impls::add_torch_implementations(*out);
  normcheck::impls::add_torch_cuda_implementations(*out);
}
