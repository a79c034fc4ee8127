#include "impls/torch/module_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace normcheck::impls {
namespace {

namespace fs = std::filesystem;

/// Where the module may be, in the order searched.
std::vector<fs::path> candidates() {
  if (const char* chosen = std::getenv("NORMCHECK_TORCH_MODULE"); chosen && *chosen)
    return {fs::absolute(chosen)};
  std::vector<fs::path> paths;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back(exe.parent_path() / kTorchModuleFile);  // the build tree's tools/normcheck
    paths.push_back(
        (exe.parent_path() / NORMCHECK_TORCH_MODULE_BIN_TO_LIB / kTorchModuleFile).lexically_normal());
  }
  const fs::path built = NORMCHECK_TORCH_MODULE_BUILD_PATH;  // for a test program elsewhere in the build tree
  if (std::find(paths.begin(), paths.end(), built) == paths.end()) paths.push_back(built);
  return paths;
}

Expected<TorchModule> load() {
  const std::string unavailable = kTorchUnavailablePrefix;
  const std::vector<fs::path> paths = candidates();
  const auto found = std::find_if(paths.begin(), paths.end(), [](const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec);
  });
  if (found == paths.end()) {
    std::string looked;
    for (const fs::path& p : paths) looked += (looked.empty() ? "" : ", ") + p.string();
    return Status::error(unavailable + "Expected " + kTorchModuleFile + " at " + looked + ", but got none");
  }
  void* handle = dlopen(found->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) return Status::error(unavailable + dlerror());
  const auto abi = reinterpret_cast<TorchAbiFn>(dlsym(handle, kTorchAbiSymbol));
  const auto factory = reinterpret_cast<TorchFactoryFn>(dlsym(handle, kTorchFactorySymbol));
  if (!abi || !factory) {
    dlclose(handle);
    return Status::error(unavailable + found->string() + ": Expected the entry points " + kTorchAbiSymbol +
                         " and " + kTorchFactorySymbol + ", but got none");
  }
  TorchModuleLayout there;
  const std::string tag = abi(&there);
  if (tag != kTorchModuleAbi || !(there == TorchModuleLayout{})) {
    dlclose(handle);
    return Status::error(unavailable + found->string() + ": Expected a module of this build (" +
                         kTorchModuleAbi + "), but got one of another (" + tag +
                         (there == TorchModuleLayout{} ? "" : ", other type layouts") + ")");
  }
  return TorchModule{factory};
}

}  // namespace

Expected<TorchModule> torch_module() {
  static const Expected<TorchModule> loaded = load();
  return loaded;
}

}  // namespace normcheck::impls
