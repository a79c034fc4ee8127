#pragma once
/// Finding and loading libnormcheck_torch.so (impls/torch/module.h) on demand, once per process.
/// Part of the registry, which calls it only when a name LibTorch provides is asked for: a program
/// that never asks never loads LibTorch. No LibTorch include here.
#include "impls/torch/module.h"
#include "normcheck/status.h"

namespace normcheck::impls {

/// What every reason torch_module() gives starts with.
inline constexpr const char* kTorchUnavailablePrefix = "LibTorch implementation not available: ";

/// The loaded module: its factory (the module stays loaded: the implementations' code lives in it).
struct TorchModule {
  TorchFactoryFn add_implementations = nullptr;
};

/// The module, loaded on the first call; or why not, "LibTorch implementation not available:
/// <dlerror>". Looks in $NORMCHECK_TORCH_MODULE alone when set, else beside the running program,
/// in the install tree's lib directory, then in the build tree.
Expected<TorchModule> torch_module();

}  // namespace normcheck::impls
