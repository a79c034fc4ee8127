// Loading and checking a plugin table; the problem and the case's tensors in the ABI's terms.
#include "impls/plugin/worker_plugin.h"

#include <dlfcn.h>

#include <cstring>

namespace normcheck::impls::plugin_worker {
namespace {

// normcheck's enums and the ABI's have the same values (the ABI's are append-only).
static_assert(static_cast<int>(Op::kLayerNorm2d) == NC_OP_LAYER_NORM_2D);
static_assert(static_cast<int>(Op::kRmsNorm) == NC_OP_RMS_NORM);
static_assert(static_cast<int>(DType::kBFloat16) == NC_DTYPE_BFLOAT16);
static_assert(static_cast<int>(Layout::kChannelsLast) == NC_LAYOUT_CHANNELS_LAST);
static_assert(static_cast<int>(Layout::kStrided) == NC_LAYOUT_STRIDED);
static_assert(static_cast<int>(Mode::kEval) == NC_MODE_EVAL);
static_assert(static_cast<int>(Direction::kBackward) == NC_DIRECTION_BACKWARD);
static_assert(static_cast<int>(Device::kCUDA) == NC_DEVICE_CUDA);
static_assert(static_cast<int>(Profile::kOnnx) == NC_PROFILE_ONNX);

bool valid_name(const char* s) {
  const std::size_t n = std::strlen(s);
  if (n == 0 || n > 64) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Expected<const nc_plugin_v1*> load_plugin_table(const std::string& path) {
  // RTLD_LOCAL: the plugin's symbols never interpose the worker's own (normcheck::core).
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* e = dlerror();
    return Status::error(std::string("dlopen failed: ") + (e ? e : "unknown error"));
  }
  dlerror();
  void* sym = dlsym(handle, NORMCHECK_PLUGIN_ENTRY_SYMBOL);
  if (sym == nullptr) {
    return Status::error("Expected the entry symbol " NORMCHECK_PLUGIN_ENTRY_SYMBOL
                         ", but got none (is it exported with NC_PLUGIN_EXPORT and extern \"C\"?)");
  }
  nc_plugin_entry_fn entry = nullptr;
  static_assert(sizeof(entry) == sizeof(sym));
  std::memcpy(&entry, &sym, sizeof(entry));  // object pointer -> function pointer, as POSIX allows
  const nc_plugin_v1* t = entry();
  if (t == nullptr)
    return Status::error("Expected " NORMCHECK_PLUGIN_ENTRY_SYMBOL
                         "() to return a plugin table, but got NULL");
  if (t->abi_version != NORMCHECK_PLUGIN_ABI_VERSION) {
    return Status::error("Expected plugin ABI version " + std::to_string(NORMCHECK_PLUGIN_ABI_VERSION) +
                         ", but got " + std::to_string(t->abi_version) +
                         " (rebuild the plugin against this normcheck's normcheck_plugin.h)");
  }
  if (t->name == nullptr) return Status::error("Expected a plugin name, but got NULL");
  if (!valid_name(t->name))
    return Status::error(std::string("Expected a plugin name of 1..64 characters [A-Za-z0-9._-], but got '") +
                         std::string(t->name).substr(0, 80) + "'");
  if (t->description == nullptr) return Status::error("Expected a plugin description, but got NULL");
  if (t->supports == nullptr) return Status::error("Expected a supports function, but got NULL");
  if (t->forward == nullptr) return Status::error("Expected a forward function, but got NULL");
  return t;  // the library stays loaded for the worker's lifetime
}

nc_problem to_nc_problem(const Problem& p, const std::string& line, std::int64_t num_batches_tracked) {
  nc_problem q{};
  q.op = static_cast<std::int32_t>(p.op);
  q.dtype = static_cast<std::int32_t>(p.dtype);
  q.layout = static_cast<std::int32_t>(p.layout);
  q.mode = static_cast<std::int32_t>(p.mode);
  q.direction = static_cast<std::int32_t>(p.direction);
  q.device = NC_DEVICE_CPU;
  q.profile = static_cast<std::int32_t>(p.profile);
  q.ndim = static_cast<std::int32_t>(p.shape.size());
  for (std::size_t i = 0; i < p.shape.size() && i < NC_MAX_NDIM; ++i) q.shape[i] = p.shape[i];
  nc_params& a = q.params;
  // The descriptor's numbers, as a user passes them to the framework's API, not effective_eps /
  // held_momentum: the plugin's framework rounds them as it holds them (docs/plugin-abi.md), so a
  // Keras port gets 0.99 for momentum and forms its own 1.0 - momentum.
  a.eps = p.eps ? *p.eps : info(p.dtype).epsilon;
  a.eps_is_none = p.eps ? 0 : 1;
  a.has_momentum = p.momentum ? 1 : 0;
  a.momentum = p.momentum.value_or(0.0);
  a.num_groups = p.op == Op::kGroupNorm ? p.num_groups : 1;
  a.normalized_ndim = p.op == Op::kLayerNorm || p.op == Op::kRmsNorm
                          ? static_cast<std::int32_t>(p.normalized_shape.size())
                          : 0;
  a.affine = p.affine ? 1 : 0;
  a.bias = p.bias ? 1 : 0;
  a.track_running_stats = tracks_running_stats(p) ? 1 : 0;
  a.training = p.mode == Mode::kTrain ? 1 : 0;
  a.profile = q.profile;
  a.num_batches_tracked = num_batches_tracked;
  q.descriptor = line.c_str();
  return q;
}

Status bind_case_tensors(const std::array<plugin_wire::SlotLayout, plugin_wire::kNumSlots>& slots, char* base,
                         std::uint64_t size, CaseTensors& out) {
  for (int i = 0; i < plugin_wire::kNumSlots; ++i) {
    const plugin_wire::SlotLayout& s = slots[static_cast<std::size_t>(i)];
    out.present[static_cast<std::size_t>(i)] = s.present;
    if (!s.present) continue;
    if (s.dtype > static_cast<std::uint32_t>(DType::kBFloat16) || s.shape.size() != s.strides.size())
      return Status::error(std::string("Expected a valid layout for ") + plugin_wire::slot_name(i) +
                           ", but got garbage");
    TensorView& v = out.views[static_cast<std::size_t>(i)];
    v.dtype = static_cast<DType>(s.dtype);
    v.shape = s.shape;
    v.strides = s.strides;
    // The farthest byte the tensor touches must lie inside the region (strides are non-negative).
    std::int64_t last = 0;
    for (std::size_t d = 0; d < s.shape.size(); ++d) {
      if (s.shape[d] < 0 || s.strides[d] < 0)
        return Status::error(std::string("Expected non-negative dims and strides for ") +
                             plugin_wire::slot_name(i));
      if (s.shape[d] > 0) last += (s.shape[d] - 1) * s.strides[d];
    }
    const auto elem = static_cast<std::int64_t>(size_of(v.dtype));
    const bool empty = v.numel() == 0;
    if (s.offset < 0 || (!empty && static_cast<std::uint64_t>(s.offset + (last + 1) * elem) > size))
      return Status::error(std::string("Expected ") + plugin_wire::slot_name(i) +
                           " inside the case's region of " + std::to_string(size) +
                           " bytes, but it reaches past it");
    v.data = base + s.offset;
    out.dl[static_cast<std::size_t>(i)] = as_dltensor(v);
  }
  auto at = [&](int slot) -> DLTensor* {
    return out.present[static_cast<std::size_t>(slot)] ? &out.dl[static_cast<std::size_t>(slot)] : nullptr;
  };
  using namespace plugin_wire;
  out.tensors = nc_tensors{at(kX), at(kWeight), at(kBias), at(kRunningMean), at(kRunningVar), at(kGradOutput),
                           at(kY), at(kMean),   at(kRstd), at(kDx),          at(kDweight),    at(kDbias)};
  return {};
}

}  // namespace normcheck::impls::plugin_worker
