#pragma once
/// The contract between the registry and libnormcheck_torch.so, the LibTorch implementation loaded
/// on demand (docs/architecture.md): two extern "C" entry points the registry finds with dlsym.
/// The module is built by the same build with the same compiler, so a C++ interface across dlopen
/// is sound; the ABI tag catches a module from another build (another compiler, libstdc++ string
/// ABI, or layout of the types that cross) before any C++ object does. No LibTorch include here.
#include <memory>
#include <vector>

#include "impls/registry.h"

namespace normcheck::impls {

/// The module's file name (CMake's OUTPUT_NAME normcheck_torch of a MODULE library).
inline constexpr const char* kTorchModuleFile = "libnormcheck_torch.so";

#define NORMCHECK_MODULE_STRINGIFY2(x) #x
#define NORMCHECK_MODULE_STRINGIFY(x) NORMCHECK_MODULE_STRINGIFY2(x)
/// Every fact both sides must agree on, as each side's compiler sees it.
inline constexpr const char* kTorchModuleAbi =
    "normcheck-torch-module/1 compiler " __VERSION__
    " cxx11abi=" NORMCHECK_MODULE_STRINGIFY(_GLIBCXX_USE_CXX11_ABI);
#undef NORMCHECK_MODULE_STRINGIFY
#undef NORMCHECK_MODULE_STRINGIFY2

/// The sizes of the types that cross the boundary: a module built against other headers differs.
struct TorchModuleLayout {
  unsigned long problem = sizeof(Problem), inputs = sizeof(Inputs), outputs = sizeof(Outputs),
                capabilities = sizeof(Capabilities), status = sizeof(Status),
                implementation = sizeof(Implementation);
  bool operator==(const TorchModuleLayout&) const = default;
};

/// extern "C" const char* normcheck_torch_module_abi(TorchModuleLayout* layout): kTorchModuleAbi as
/// the module was compiled, and the module's layout written into *layout.
inline constexpr const char* kTorchAbiSymbol = "normcheck_torch_module_abi";
using TorchAbiFn = const char* (*)(TorchModuleLayout*);

/// extern "C" void normcheck_torch_implementations(std::vector<std::unique_ptr<Implementation>>* out):
/// appends "torch", and "torch-cuda" where LibTorch has CUDA and a GPU, each made fresh.
inline constexpr const char* kTorchFactorySymbol = "normcheck_torch_implementations";
using TorchFactoryFn = void (*)(std::vector<std::unique_ptr<Implementation>>*);

}  // namespace normcheck::impls
