// The "cuda" implementation: checks the inputs once (the same rules and messages as "cpu"),
// stages the caller's host views to the device dense in the order the kernels use (a view that is
// already dense is copied as it is; any other strides are packed on the host first), runs the
// launchers of launch.h and copies every result back into the caller's views, honouring their
// strides.
#include <cuda_runtime_api.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "impls/common.h"
#include "impls/cuda/cuda.h"
#include "impls/cuda/launch.h"
#include "impls/registry.h"

namespace normcheck::impls {
namespace {

using cuda::Order;

#define NC_CUDA_TRY(expr)                                                                                \
  do {                                                                                                   \
    const cudaError_t nc_err_ = (expr);                                                                  \
    if (nc_err_ != cudaSuccess)                                                                          \
      return Status::error(std::string("CUDA error in ") + #expr + ": " + cudaGetErrorName(nc_err_) + " (" + \
                           cudaGetErrorString(nc_err_) + ")");                                          \
  } while (0)

bool has_channel_dim(Op op) { return op != Op::kLayerNorm && op != Op::kRmsNorm; }

/// The host layout whose dense memory is the kernels' order.
Layout host_layout(Order o, const Problem& p) {
  return o == Order::kNSC && has_channel_dim(p.op) && p.shape.size() >= 3 ? Layout::kChannelsLast
                                                                           : Layout::kContiguous;
}

/// Whether v's memory is exactly the dense tensor in the kernels' order (numel elements from v.data).
bool dense_in(const TensorView& v, Layout l, bool orders_alike) {
  if (orders_alike) return v.is_contiguous() || (v.rank() >= 3 && v.is_channels_last());
  return l == Layout::kContiguous ? v.is_contiguous() : v.is_channels_last();
}

std::size_t bytes_of(const TensorView& v) { return static_cast<std::size_t>(v.numel()) * size_of(v.dtype); }

/// Device memory for one run, carved out of one grow-only allocation.
struct Staging {
  char* base = nullptr;
  std::size_t used = 0;
  void* take(std::size_t bytes) {
    used = (used + 255) / 256 * 256;
    void* p = base ? base + used : nullptr;
    used += bytes;
    return bytes ? p : nullptr;
  }
};

/// A host view's elements, dense in layout l: the view's own memory when it already is, else a packed copy.
struct HostDense {
  const void* data = nullptr;
  Tensor keep;
};
HostDense host_dense(const TensorView& v, Layout l, bool orders_alike) {
  HostDense h;
  if (dense_in(v, l, orders_alike)) {
    h.data = v.data;
    return h;
  }
  h.keep = Tensor::copy_of(v, l);
  h.data = h.keep.data();
  return h;
}

Status upload(void* dst, const HostDense& h, std::size_t bytes) {
  if (bytes == 0) return {};
  NC_CUDA_TRY(cudaMemcpy(dst, h.data, bytes, cudaMemcpyHostToDevice));
  return {};
}

/// Device data (dense in layout l) into the caller's view, whatever its strides.
Status download(const TensorView& out, const void* src, Layout l, bool orders_alike) {
  const std::size_t bytes = bytes_of(out);
  if (bytes == 0) return {};
  if (dense_in(out, l, orders_alike)) {
    NC_CUDA_TRY(cudaMemcpy(out.data, src, bytes, cudaMemcpyDeviceToHost));
    return {};
  }
  const Tensor tmp = Tensor::empty(out.dtype, out.shape, l);
  NC_CUDA_TRY(cudaMemcpy(tmp.data(), src, bytes, cudaMemcpyDeviceToHost));
  for (std::int64_t i = 0; i < out.numel(); ++i) out.set_linear(i, tmp.view().get_linear(i));
  return {};
}

class CudaImplementation final : public Implementation {
 public:
  CudaImplementation() {
    caps_.ops.assign(std::begin(kAllOps), std::end(kAllOps));
    caps_.dtypes.assign(std::begin(kAllDTypes), std::end(kAllDTypes));
    caps_.layouts.assign(std::begin(kAllLayouts), std::end(kAllLayouts));  // other strides: packed on the host
    caps_.modes = {Mode::kTrain, Mode::kEval};
    caps_.directions = {Direction::kForward, Direction::kBackward};
    caps_.profiles.assign(std::begin(kAllProfiles), std::end(kAllProfiles));
    caps_.devices = {Device::kCPU};  // the inputs it takes are host views; it computes on the GPU
    caps_.saves_stats = true;
  }
  std::string_view name() const override { return "cuda"; }
  std::string_view description() const override {
    return "normcheck's CUDA kernels: float32 accumulation (float64 for float64), fused on-chip two-pass "
           "sets, Welford/Chan partials merged in a fixed order; host views staged to the GPU";
  }
  const Capabilities& capabilities() const override { return caps_; }
  std::optional<std::string> supports(const Problem& p) const override {
    if (auto why = cuda_unavailable_reason()) return why;
    return caps_.refuses(p, Device::kCPU);
  }
  Status run(const Problem& p, const Inputs& in, Outputs& out) override;

 private:
  Status run_empty(const Problem& p, const Geometry& g, bool use_running, Outputs& out);
  Capabilities caps_;
  cuda::Workspace staging_, scratch_;
};

Status CudaImplementation::run_empty(const Problem& p, const Geometry& g, bool use_running, Outputs& out) {
  // No element: nothing for the device. Sets without elements have NaN statistics, the running
  // buffers carry no batch (left unchanged), channel sums are 0.
  if (!use_running) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::int64_t k = 0; k < g.num_sets; ++k) {
      if (out.mean && p.op != Op::kRmsNorm) out.mean->set_linear(k, nan);
      if (out.rstd) out.rstd->set_linear(k, nan);
    }
  }
  if (p.direction == Direction::kBackward) {
    for (std::int64_t c = 0; c < g.C; ++c) {
      if (out.dweight) out.dweight->set_linear(c, 0.0);
      if (out.dbias) out.dbias->set_linear(c, 0.0);
    }
  }
  return {};
}

Status CudaImplementation::run(const Problem& p, const Inputs& in, Outputs& out) {
  if (auto why = cuda_unavailable_reason()) return Status::error("not supported: " + *why);
  const Expected<Geometry> geo = geometry(p);
  if (!geo) return geo.status();
  const Geometry& g = *geo;
  NC_RETURN_IF_ERROR(check_case_views(p, g, in, out));
  NC_RETURN_IF_ERROR(pytorch_refusals(p, g));
  const bool tracked = tracks_running_stats(p);
  const bool backward = p.direction == Direction::kBackward;
  const bool use_running = uses_running_stats(p);
  // PyTorch's BatchNorm counts the step before it looks at the batch; its InstanceNorm never does.
  const bool counts = tracked && p.mode == Mode::kTrain && p.profile == Profile::kPyTorch && p.op == Op::kBatchNorm;
  const std::int64_t batches = out.num_batches_tracked + (counts ? 1 : 0);
  const std::int64_t numel = numel_of(p.shape);
  if (numel == 0) {
    out.num_batches_tracked = batches;
    return run_empty(p, g, use_running, out);
  }

  cuda::Desc d;
  d.op = p.op;
  d.dtype = p.dtype;
  d.g = g;
  d.eps = effective_eps(p);
  d.use_running = use_running;
  d.update_running = tracked && p.mode == Mode::kTrain;
  d.unbiased = p.profile == Profile::kPyTorch;
  // new = keep * old + take * batch (impls/common.h: each weight from the given momentum)
  const UpdateWeights uw = update_weights(p, batches);
  d.keep = uw.keep;
  d.take = uw.take;
  const bool x_cl = has_channel_dim(p.op) && in.x.rank() >= 3 && in.x.is_channels_last() && !in.x.is_contiguous();
  const bool x_dense = in.x.is_contiguous() || x_cl;
  d.order = cuda::choose_order(p.op, g, x_dense ? x_cl : p.layout == Layout::kChannelsLast);
  const bool alike = g.S == 1 || g.C == 1;  // both orders are the same memory
  const Layout hl = host_layout(d.order, p);

  // Host side: every input dense (its own memory where it already is).
  const HostDense hx = host_dense(in.x, hl, alike);
  HostDense hdy, hw, hb, hrm, hrv;
  if (backward) hdy = host_dense(*in.grad_output, hl, alike);
  if (p.affine) hw = host_dense(*in.weight, Layout::kContiguous, false);
  if (p.bias) hb = host_dense(*in.bias, Layout::kContiguous, false);
  if (tracked) {
    hrm = host_dense(*out.running_mean, Layout::kContiguous, false);
    hrv = host_dense(*out.running_var, Layout::kContiguous, false);
  }

  // Device side: one allocation, carved.
  const std::size_t tensor = static_cast<std::size_t>(numel) * size_of(p.dtype);
  const std::size_t channel = static_cast<std::size_t>(numel_of(affine_shape(p))) * size_of(p.dtype);
  const std::size_t running = static_cast<std::size_t>(g.C) * size_of(p.dtype);
  const std::size_t stats = static_cast<std::size_t>(cuda::stat_count(d)) * size_of(stats_dtype(p.dtype));
  void *x = nullptr, *y = nullptr, *dy = nullptr, *dx = nullptr, *w = nullptr, *b = nullptr, *rm = nullptr,
       *rv = nullptr, *mean = nullptr, *rstd = nullptr, *dw = nullptr, *db = nullptr;
  auto carve = [&](Staging& s) {
    x = s.take(tensor);
    y = s.take(tensor);
    dy = backward ? s.take(tensor) : nullptr;
    dx = backward ? s.take(tensor) : nullptr;
    w = p.affine ? s.take(channel) : nullptr;
    b = p.bias ? s.take(channel) : nullptr;
    rm = tracked ? s.take(running) : nullptr;
    rv = tracked ? s.take(running) : nullptr;
    mean = s.take(stats);
    rstd = s.take(stats);
    dw = backward && out.dweight ? s.take(channel) : nullptr;
    db = backward && out.dbias ? s.take(channel) : nullptr;
  };
  Staging sizing;
  carve(sizing);
  NC_RETURN_IF_ERROR(staging_.reserve(sizing.used));
  Staging st{static_cast<char*>(staging_.data()), 0};
  carve(st);

  NC_RETURN_IF_ERROR(upload(x, hx, tensor));
  if (backward) NC_RETURN_IF_ERROR(upload(dy, hdy, tensor));
  if (p.affine) NC_RETURN_IF_ERROR(upload(w, hw, channel));
  if (p.bias) NC_RETURN_IF_ERROR(upload(b, hb, channel));
  if (tracked) {
    NC_RETURN_IF_ERROR(upload(rm, hrm, running));
    NC_RETURN_IF_ERROR(upload(rv, hrv, running));
  }

  cuda::ForwardArgs fa;
  fa.x = x, fa.y = y, fa.gamma = w, fa.beta = b, fa.running_mean = rm, fa.running_var = rv, fa.mean = mean,
  fa.rstd = rstd;
  NC_RETURN_IF_ERROR(cuda::forward(d, fa, scratch_, nullptr));
  if (backward) {
    cuda::BackwardArgs ba;
    ba.x = x, ba.dy = dy, ba.gamma = w, ba.mean = mean, ba.rstd = rstd, ba.dx = dx, ba.dgamma = dw, ba.dbeta = db;
    NC_RETURN_IF_ERROR(cuda::backward(d, ba, scratch_, nullptr));
  }
  NC_CUDA_TRY(cudaDeviceSynchronize());  // a fault in any kernel surfaces here

  NC_RETURN_IF_ERROR(download(out.y, y, hl, alike));
  if (!use_running) {
    if (out.mean && p.op != Op::kRmsNorm) NC_RETURN_IF_ERROR(download(*out.mean, mean, Layout::kContiguous, false));
    if (out.rstd) NC_RETURN_IF_ERROR(download(*out.rstd, rstd, Layout::kContiguous, false));
  }
  if (tracked) {
    NC_RETURN_IF_ERROR(download(*out.running_mean, rm, Layout::kContiguous, false));
    NC_RETURN_IF_ERROR(download(*out.running_var, rv, Layout::kContiguous, false));
  }
  out.num_batches_tracked = batches;
  if (backward) {
    NC_RETURN_IF_ERROR(download(*out.dx, dx, hl, alike));
    if (out.dweight) NC_RETURN_IF_ERROR(download(*out.dweight, dw, Layout::kContiguous, false));
    if (out.dbias) NC_RETURN_IF_ERROR(download(*out.dbias, db, Layout::kContiguous, false));
  }
  return {};
}

}  // namespace

std::optional<std::string> cuda_unavailable_reason() {
  static const std::optional<std::string> why = []() -> std::optional<std::string> {
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();  // clear it: the next CUDA call must not report it again
      return std::string("no CUDA device (cudaGetDeviceCount: ") + cudaGetErrorName(e) + ": " +
             cudaGetErrorString(e) + ")";
    }
    if (n == 0) return std::string("no CUDA device (cudaGetDeviceCount: 0 devices)");
    return std::nullopt;
  }();
  return why;
}

void add_cuda_implementations(std::vector<std::unique_ptr<Implementation>>& out) {
  out.push_back(std::make_unique<CudaImplementation>());
}

}  // namespace normcheck::impls
