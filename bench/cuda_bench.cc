// The CUDA kernels on device-resident data, the shapes of impls_bench.cc, against
// cudaMemcpy device-to-device of the same bytes (the bandwidth roof) and, where LibTorch was built
// with CUDA, the "torch-cuda" implementation on the same device buffers. Names:
//   <op>/<dtype>/<layout>/<mode>/<direction>/<shape>/<cuda|torch-cuda|memcpy>
// Times are GPU times between CUDA events (manual time). Counters: elements, bytes (an ideal
// kernel's read + write per call: 2 x numel x itemsize forward, 3 x backward), bytes_per_second;
// the label repeats op, dtype, layout, mode, direction and shape as key=value.
// Forward times the forward launchers (y and the running statistics; mean/rstd into scratch);
// backward times the backward launchers alone, with the statistics of one forward before the loop.
// Without a GPU every entry is skipped with the reason.
#include <benchmark/benchmark.h>
#include <cuda_runtime_api.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <memory>
#include <string>
#include <vector>

#include "impls/common.h"
#include "impls/cuda/cuda.h"
#include "impls/cuda/launch.h"
#include "impls/registry.h"

namespace normcheck::bench {
namespace {

namespace cu = impls::cuda;

struct Shape {
  Op op;
  std::vector<std::int64_t> shape;
  std::int64_t groups = 1;
};

/// The shapes of bench/impls_bench.cc.
const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = {
      {Op::kLayerNorm, {4096, 1024}},        {Op::kLayerNorm, {4096, 4096}}, {Op::kLayerNorm, {32768, 768}},
      {Op::kBatchNorm, {32, 64, 56, 56}},    {Op::kBatchNorm, {256, 256, 14, 14}},
      {Op::kGroupNorm, {16, 256, 64, 64}, 32}, {Op::kInstanceNorm, {16, 64, 128, 128}},
      {Op::kRmsNorm, {4096, 4096}},
  };
  return all;
}

std::int64_t bytes_moved(const Problem& p) {
  const auto tensor = static_cast<std::int64_t>(numel_of(p.shape) * size_of(p.dtype));
  return p.direction == Direction::kForward ? 2 * tensor : 3 * tensor;
}

std::string slug(const Problem& p) {
  return fmt::format("{}/{}/{}/{}/{}/{}", name(p.op), name(p.dtype), name(p.layout), name(p.mode), name(p.direction),
                     fmt::join(p.shape, "x"));
}

void set_counters(benchmark::State& state, const Problem& p) {
  const std::int64_t bytes = bytes_moved(p);
  state.SetBytesProcessed(bytes * state.iterations());
  state.counters["elements"] = static_cast<double>(numel_of(p.shape));
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetLabel(fmt::format("op={} dtype={} layout={} mode={} direction={} shape={}", name(p.op), name(p.dtype),
                             name(p.layout), name(p.mode), name(p.direction), fmt::join(p.shape, "x")));
}

/// A device buffer, freed on scope exit.
struct DeviceBuffer {
  void* p = nullptr;
  explicit DeviceBuffer(std::size_t bytes) {
    if (bytes && cudaMalloc(&p, bytes) != cudaSuccess) p = nullptr;
  }
  ~DeviceBuffer() {
    if (p) cudaFree(p);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
};

/// n values of dtype t in [lo, hi), generated on the device.
bool upload_random(void* dst, DType t, std::int64_t n, double lo, double hi, std::uint64_t seed) {
  return cu::fill_uniform(dst, t, n, lo, hi, seed, nullptr).ok() && cudaDeviceSynchronize() == cudaSuccess;
}

/// Device-resident inputs and outputs of one problem.
struct DeviceProblem {
  Problem p;
  Geometry g;
  std::size_t tensor, channel, stats;
  DeviceBuffer x, y, dy, dx, w, b, rm, rv, mean, rstd, dw, db;
  explicit DeviceProblem(const Problem& q)
      : p(q),
        g(*geometry(q)),
        tensor(static_cast<std::size_t>(numel_of(q.shape)) * size_of(q.dtype)),
        channel(static_cast<std::size_t>(g.C) * size_of(q.dtype)),
        stats(static_cast<std::size_t>(g.num_sets > g.C ? g.num_sets : g.C) * size_of(stats_dtype(q.dtype))),
        x(tensor), y(tensor), dy(tensor), dx(tensor), w(channel), b(channel), rm(channel), rv(channel),
        mean(stats), rstd(stats), dw(channel), db(channel) {}
  bool ok() const {
    return x.p && y.p && dy.p && dx.p && w.p && b.p && rm.p && rv.p && mean.p && rstd.p && dw.p && db.p;
  }
  bool fill() {
    const std::int64_t n = numel_of(p.shape);
    return upload_random(x.p, p.dtype, n, -1, 1, 1) && upload_random(dy.p, p.dtype, n, -1, 1, 2) &&
           upload_random(w.p, p.dtype, g.C, 0.5, 1.5, 3) && upload_random(b.p, p.dtype, g.C, -1, 1, 4) &&
           upload_random(rm.p, p.dtype, g.C, -0.1, 0.1, 5) && upload_random(rv.p, p.dtype, g.C, 0.9, 1.1, 6);
  }
  /// A CUDA view of a device buffer.
  TensorView view(void* data, std::vector<std::int64_t> shape, Layout l = Layout::kContiguous) const {
    TensorView v;
    v.data = data;
    v.dtype = p.dtype;
    v.strides = strides_for(l, shape);
    v.shape = std::move(shape);
    v.device = Device::kCUDA;
    return v;
  }
};

cu::Desc desc_of(const Problem& p, const Geometry& g) {
  cu::Desc d;
  d.op = p.op;
  d.dtype = p.dtype;
  d.g = g;
  d.order = cu::choose_order(p.op, g, p.layout == Layout::kChannelsLast);
  d.eps = effective_eps(p);
  d.use_running = uses_running_stats(p);
  d.update_running = tracks_running_stats(p) && p.mode == Mode::kTrain;
  const impls::UpdateWeights uw = impls::update_weights(p, 1);
  d.keep = uw.keep;
  d.take = uw.take;
  d.unbiased = p.profile == Profile::kPyTorch;
  return d;
}

/// Runs body() once per iteration between two CUDA events; the elapsed GPU time is the iteration time.
template <class Body>
void timed_loop(benchmark::State& state, Body&& body) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  for (auto _ : state) {
    cudaEventRecord(start, nullptr);
    const Status s = body();
    cudaEventRecord(stop, nullptr);
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      break;
    }
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(static_cast<double>(ms) / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
}

bool skip_without_device(benchmark::State& state) {
  if (const auto why = impls::cuda_unavailable_reason()) {
    state.SkipWithError(("SKIPPED: " + *why).c_str());
    return true;
  }
  return false;
}

void run_cuda(benchmark::State& state, Problem p) {
  if (skip_without_device(state)) return;
  DeviceProblem dp(p);
  if (!dp.ok() || !dp.fill()) return state.SkipWithError("cudaMalloc / upload failed");
  const cu::Desc d = desc_of(p, dp.g);
  cu::Workspace ws;
  cu::ForwardArgs fa;
  fa.x = dp.x.p, fa.y = dp.y.p, fa.gamma = dp.w.p, fa.beta = dp.b.p, fa.running_mean = dp.rm.p,
  fa.running_var = dp.rv.p, fa.mean = dp.mean.p, fa.rstd = dp.rstd.p;
  if (p.direction == Direction::kForward) {
    timed_loop(state, [&] { return cu::forward(d, fa, ws, nullptr); });
  } else {
    const Status s = cu::forward(d, fa, ws, nullptr);
    if (!s.ok()) return state.SkipWithError(s.message().c_str());
    cu::BackwardArgs ba;
    ba.x = dp.x.p, ba.dy = dp.dy.p, ba.gamma = dp.w.p, ba.mean = dp.mean.p, ba.rstd = dp.rstd.p, ba.dx = dp.dx.p,
    ba.dgamma = dp.dw.p, ba.dbeta = dp.db.p;
    timed_loop(state, [&] { return cu::backward(d, ba, ws, nullptr); });
  }
  set_counters(state, p);
}

/// LibTorch CUDA through its adapter on the same device buffers (module call, autograd for
/// backward, which includes its forward, plus the copy into the caller's buffers).
void run_torch_cuda(benchmark::State& state, Problem p) {
  if (skip_without_device(state)) return;
  std::unique_ptr<impls::Implementation> impl = impls::make_implementation("torch-cuda");
  if (!impl) return state.SkipWithError("SKIPPED: no torch-cuda implementation (LibTorch without CUDA, or not built)");
  if (auto why = impl->supports(p)) return state.SkipWithError(("SKIPPED: " + *why).c_str());
  DeviceProblem dp(p);
  if (!dp.ok() || !dp.fill()) return state.SkipWithError("cudaMalloc / upload failed");
  const std::vector<std::int64_t> ashape = affine_shape(p), cshape{dp.g.C};
  Inputs in;
  in.x = dp.view(dp.x.p, p.shape, p.layout);
  if (p.affine) in.weight = dp.view(dp.w.p, ashape);
  if (p.bias) in.bias = dp.view(dp.b.p, ashape);
  if (tracks_running_stats(p)) {
    in.running_mean = dp.view(dp.rm.p, cshape);
    in.running_var = dp.view(dp.rv.p, cshape);
  }
  if (p.direction == Direction::kBackward) in.grad_output = dp.view(dp.dy.p, p.shape, p.layout);
  impls::Outputs out;
  out.y = dp.view(dp.y.p, p.shape, p.layout);
  if (tracks_running_stats(p)) {
    out.running_mean = in.running_mean;
    out.running_var = in.running_var;
  }
  if (p.direction == Direction::kBackward) {
    out.dx = dp.view(dp.dx.p, p.shape, p.layout);
    if (p.affine) out.dweight = dp.view(dp.dw.p, ashape);
    if (p.bias) out.dbias = dp.view(dp.db.p, ashape);
  }
  timed_loop(state, [&] { return impl->run(p, in, out); });
  set_counters(state, p);
}

/// cudaMemcpy device to device of the same bytes: half of them read, half written.
void run_memcpy(benchmark::State& state, Problem p) {
  if (skip_without_device(state)) return;
  const std::size_t half = static_cast<std::size_t>(bytes_moved(p) / 2);
  DeviceBuffer src(half), dst(half);
  if (!src.p || !dst.p) return state.SkipWithError("cudaMalloc failed");
  timed_loop(state, [&]() -> Status {
    const cudaError_t e = cudaMemcpyAsync(dst.p, src.p, half, cudaMemcpyDeviceToDevice, nullptr);
    return e == cudaSuccess ? Status() : Status::error(cudaGetErrorString(e));
  });
  set_counters(state, p);
}

void register_all() {
  for (const Shape& s : shapes()) {
    for (DType dtype : {DType::kFloat32, DType::kBFloat16}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        std::vector<Layout> layouts{Layout::kContiguous};
        std::vector<Mode> modes{Mode::kTrain};
        if (s.op == Op::kBatchNorm) {
          layouts.push_back(Layout::kChannelsLast);
          modes.push_back(Mode::kEval);
        }
        for (Layout layout : layouts) {
          for (Mode mode : modes) {
            Problem p = default_problem(s.op, s.shape);
            p.dtype = dtype;
            p.layout = layout;
            p.mode = mode;
            p.direction = dir;
            p.num_groups = s.groups;
            if (!validate(p)) continue;
            benchmark::RegisterBenchmark((slug(p) + "/memcpy").c_str(), run_memcpy, p)->UseManualTime();
            benchmark::RegisterBenchmark((slug(p) + "/cuda").c_str(), run_cuda, p)->UseManualTime();
            benchmark::RegisterBenchmark((slug(p) + "/torch-cuda").c_str(), run_torch_cuda, p)->UseManualTime();
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace normcheck::bench

int main(int argc, char** argv) {
  normcheck::bench::register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
