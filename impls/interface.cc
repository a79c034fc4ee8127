// The parts of the implementation interface every family shares: capability checks and the
// caller's output buffers.
#include <algorithm>
#include <cmath>
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

Tensor poisoned(DType t, std::vector<std::int64_t> shape) {
  Tensor out = Tensor::empty(t, std::move(shape));
  out.fill(std::numeric_limits<double>::quiet_NaN());
  return out;
}

}  // namespace

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
  o.y = poisoned(p.dtype, p.shape);
  o.views.y = o.y.view();
  if (caps.saves_stats && !uses_running_stats(p)) {
    o.mean = poisoned(stats_dtype(p.dtype), {g->num_sets});
    o.rstd = poisoned(stats_dtype(p.dtype), {g->num_sets});
    if (p.op != Op::kRmsNorm) o.views.mean = o.mean.view();
    o.views.rstd = o.rstd.view();
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
    o.dx = poisoned(p.dtype, p.shape);
    o.views.dx = o.dx.view();
    if (p.affine) {
      const std::vector<std::int64_t> ashape = affine_shape(p);
      o.dweight = poisoned(p.dtype, ashape);
      o.views.dweight = o.dweight.view();
      if (p.bias) {
        o.dbias = poisoned(p.dtype, ashape);
        o.views.dbias = o.dbias.view();
      }
    }
  }
  return o;
}

}  // namespace normcheck::impls
