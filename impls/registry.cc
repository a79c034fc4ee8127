// The built-in implementations, listed explicitly (static registration objects would be
// dropped by the linker from static libraries). LibTorch's come from libnormcheck_torch.so,
// loaded only when a name it provides is asked for (impls/torch/module_loader.h).
#include "impls/registry.h"

#include "impls/cpu/cpu.h"
#include "impls/seeds/seeds.h"
#if NORMCHECK_HAVE_TORCH_MODULE
#include "impls/torch/module_loader.h"
#endif
#if NORMCHECK_HAVE_CUDA
#include "impls/cuda/cuda.h"
#endif

namespace normcheck::impls {
namespace {

/// Stands for an implementation of this build that this machine cannot load: it claims every
/// capability, so that each case reaches supports(), which refuses it with the reason. A run that
/// includes it lists its rows SKIPPED with that reason; nothing is compared, nothing passes.
class Unavailable final : public Implementation {
 public:
  Unavailable(std::string name, std::string reason)
      : name_(std::move(name)), reason_(std::move(reason)), caps_(Capabilities::everything_on_cpu()) {}
  std::string_view name() const override { return name_; }
  std::string_view description() const override { return reason_; }
  const Capabilities& capabilities() const override { return caps_; }
  std::optional<std::string> supports(const Problem&) const override { return reason_; }
  Status run(const Problem&, const Inputs&, Outputs&) override { return Status::error(reason_); }

 private:
  std::string name_, reason_;
  Capabilities caps_;
};

/// The implementations linked into the program: made without loading anything.
std::vector<std::unique_ptr<Implementation>> linked_implementations() {
  std::vector<std::unique_ptr<Implementation>> all;
  add_cpu_implementations(all);
  add_seed_implementations(all);
#if NORMCHECK_HAVE_CUDA
  add_cuda_implementations(all);
#endif
  return all;
}

/// "torch" and "torch-cuda": the names libnormcheck_torch.so provides.
bool provided_by_torch(std::string_view name) { return name == "torch" || name.starts_with("torch-"); }

/// LibTorch's implementations from the module (loaded on the first call), or "torch" standing for
/// them with the reason the module cannot load; nothing in a build without LibTorch.
void add_module_implementations([[maybe_unused]] std::vector<std::unique_ptr<Implementation>>& all) {
#if NORMCHECK_HAVE_TORCH_MODULE
  const Expected<TorchModule> torch = torch_module();
  if (torch)
    torch->add_implementations(&all);
  else
    all.push_back(std::make_unique<Unavailable>("torch", torch.message()));
#endif
}

}  // namespace

std::vector<std::unique_ptr<Implementation>> builtin_implementations() {
  std::vector<std::unique_ptr<Implementation>> all = linked_implementations();
  add_module_implementations(all);
  return all;
}

std::unique_ptr<Implementation> make_implementation(std::string_view name) {
  std::vector<std::unique_ptr<Implementation>> candidates = linked_implementations();
  if (provided_by_torch(name)) add_module_implementations(candidates);
  for (auto& impl : candidates) {
    if (impl->name() == name) return std::move(impl);
  }
  return nullptr;
}

std::vector<std::string> implementation_names() {
  std::vector<std::string> names;
  for (const auto& impl : builtin_implementations()) names.emplace_back(impl->name());
  return names;
}

std::optional<std::string> unavailable_reason([[maybe_unused]] std::string_view name) {
#if NORMCHECK_HAVE_TORCH_MODULE
  if (provided_by_torch(name)) {
    if (const Expected<TorchModule> torch = torch_module(); !torch) return torch.message();
  }
#endif
  return std::nullopt;
}

}  // namespace normcheck::impls
