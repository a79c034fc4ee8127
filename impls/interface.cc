// The parts of the implementation interface every family shares: capability checks and the
// caller's output buffers.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>
#include <limits>
#include <string>

#include "impls/registry.h"

namespace normcheck::impls {
namespace {

template <class T>
bool has(const std::vector<T>& v, T x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

std::string device_name(Device d) { return d == Device::kCPU ? "cpu" : "cuda"; }

/// A guarded, poisoned output: storage of numel + 2 * kGuardElements elements, all NaN, and a
/// dense row-major view of `shape` starting kGuardElements in. `storage` keeps the memory alive.
TensorView poisoned(DType t, std::vector<std::int64_t> shape, Tensor& storage) {
  const std::int64_t numel = numel_of(shape);
  storage = Tensor::empty(t, {numel + 2 * kGuardElements});
  storage.fill(std::numeric_limits<double>::quiet_NaN());
  TensorView v;
  v.data = static_cast<char*>(storage.data()) + static_cast<std::size_t>(kGuardElements) * size_of(t);
  v.dtype = t;
  v.strides = contiguous_strides(shape);
  v.shape = std::move(shape);
  return v;
}

/// The guard elements of storage: still the poison the caller wrote?
bool guards_intact(const Tensor& storage) {
  if (!storage.defined() || storage.numel() == 0) return true;
  const Tensor poison = Tensor::empty(storage.dtype(), {1});
  poison.fill(std::numeric_limits<double>::quiet_NaN());
  const std::size_t elem = size_of(storage.dtype());
  const auto* base = static_cast<const unsigned char*>(storage.data());
  const std::int64_t n = storage.numel();
  for (std::int64_t i = 0; i < n; ++i) {
    if (i == kGuardElements) i = n - kGuardElements;  // skip the view itself
    if (std::memcmp(base + static_cast<std::size_t>(i) * elem, poison.data(), elem) != 0) return false;
  }
  return true;
}

}  // namespace

Status OwnedOutputs::check_guards() const {
  const std::pair<const char*, const Tensor*> all[] = {{"y", &y},       {"mean", &mean},   {"rstd", &rstd},
                                                       {"dx", &dx},     {"dweight", &dweight}, {"dbias", &dbias}};
  for (const auto& [output, storage] : all) {
    if (!guards_intact(*storage)) {
      return Status::error(std::string("Expected no write outside the ") + output +
                           " buffer, but the guard elements around it changed (a write past its end or before its start)");
    }
  }
  return {};
}

Capabilities Capabilities::everything_on_cpu() {
  Capabilities c;
  c.ops.assign(std::begin(kAllOps), std::end(kAllOps));
  c.dtypes.assign(std::begin(kAllDTypes), std::end(kAllDTypes));
  c.layouts.assign(std::begin(kAllLayouts), std::end(kAllLayouts));
  c.modes = {Mode::kTrain, Mode::kEval};
  c.directions = {Direction::kForward, Direction::kBackward};
  c.profiles.assign(std::begin(kAllProfiles), std::end(kAllProfiles));
  c.devices = {Device::kCPU};
  return c;
}

std::optional<std::string> Capabilities::refuses(const Problem& p, Device device) const {
  if (!has(ops, p.op)) return "op " + std::string(name(p.op)) + " not supported";
  if (!has(dtypes, p.dtype)) return "dtype " + std::string(name(p.dtype)) + " not supported";
  if (!has(layouts, p.layout)) return "layout " + std::string(name(p.layout)) + " not supported";
  if (!has(modes, p.mode)) return "mode " + std::string(name(p.mode)) + " not supported";
  if (!has(directions, p.direction)) return "direction " + std::string(name(p.direction)) + " not supported";
  if (!has(profiles, p.profile)) return "profile " + std::string(name(p.profile)) + " not supported";
  if (!has(devices, device)) return "device " + device_name(device) + " not supported";
  return std::nullopt;
}

Expected<OwnedOutputs> allocate_outputs(const Problem& p, const Inputs& in, const Capabilities& caps) {
  Expected<Geometry> g = geometry(p);
  if (!g) return g.status();
  OwnedOutputs o;
  o.views.y = poisoned(p.dtype, p.shape, o.y);
  if (caps.saves_stats && !uses_running_stats(p)) {
    if (p.op != Op::kRmsNorm) o.views.mean = poisoned(stats_dtype(p.dtype), {g->num_sets}, o.mean);
    o.views.rstd = poisoned(stats_dtype(p.dtype), {g->num_sets}, o.rstd);
  }
  if (tracks_running_stats(p)) {
    if (!in.running_mean || !in.running_var)
      return Status::error("Expected running_mean and running_var (track_running_stats=1), but got none");
    o.running_mean = Tensor::copy_of(*in.running_mean);
    o.running_var = Tensor::copy_of(*in.running_var);
    o.views.running_mean = o.running_mean.view();
    o.views.running_var = o.running_var.view();
  }
  o.views.num_batches_tracked = in.num_batches_tracked;
  if (p.direction == Direction::kBackward) {
    o.views.dx = poisoned(p.dtype, p.shape, o.dx);
    const std::vector<std::int64_t> ashape = affine_shape(p);
    if (p.affine) o.views.dweight = poisoned(p.dtype, ashape, o.dweight);
    if (p.bias) o.views.dbias = poisoned(p.dtype, ashape, o.dbias);  // also without a weight (keras' center)
  }
  return o;
}

}  // namespace normcheck::impls
