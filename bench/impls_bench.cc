// The implementations under test on the shapes users run, each against LibTorch in the same run,
// with memcpy of the same bytes as the bandwidth roof. Names:
//   <op>/<dtype>/<layout>/<mode>/<direction>/<shape>/<implementation>
// and every entry carries counters to recompute the comparison: elements, bytes (read + write per
// iteration) and bytes_per_second. bench/summarize_impls.sh prints ours / LibTorch per shape and
// the fraction of memcpy bandwidth.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "impls/registry.h"
#include "tools/normcheck/sample_inputs.h"

namespace normcheck::bench {
namespace {

struct Shape {
  Op op;
  std::vector<std::int64_t> shape;
  std::int64_t groups = 1;
};

/// The benchmark shapes: LayerNorm rows x hidden, BatchNorm2d in both layouts and modes,
/// GroupNorm with 32 groups, InstanceNorm2d, RMSNorm.
const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = {
      {Op::kLayerNorm, {4096, 1024}},        {Op::kLayerNorm, {4096, 4096}}, {Op::kLayerNorm, {32768, 768}},
      {Op::kBatchNorm, {32, 64, 56, 56}},    {Op::kBatchNorm, {256, 256, 14, 14}},
      {Op::kGroupNorm, {16, 256, 64, 64}, 32}, {Op::kInstanceNorm, {16, 64, 128, 128}},
      {Op::kRmsNorm, {4096, 4096}},
  };
  return all;
}

/// Bytes an ideal kernel moves per call: read x (and dy), write y (or dx).
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
}

/// One implementation on one problem: inputs and poisoned outputs made once, run() timed.
void run_implementation(benchmark::State& state, Problem p, std::string impl_name) {
  std::unique_ptr<impls::Implementation> impl = impls::make_implementation(impl_name);
  if (!impl) return state.SkipWithError(("no implementation " + impl_name).c_str());
  if (auto why = impl->supports(p)) return state.SkipWithError(("SKIPPED: " + *why).c_str());
  Expected<tool::InputSet> in = tool::make_sample_inputs(p, {p.seed, 0.0, 1.0});
  if (!in) return state.SkipWithError(in.message().c_str());
  Inputs views = in->views();
  // x and dy in the problem's memory format, as a user's tensors would be.
  const Tensor x = Tensor::copy_of(views.x, p.layout);
  views.x = x.view();
  Tensor dy;
  if (views.grad_output) {
    dy = Tensor::copy_of(*views.grad_output, p.layout);
    views.grad_output = dy.view();
  }
  // What a module call returns: y (dx, dweight, dbias) and the running buffers; no saved
  // statistics (the torch adapter would compute them with a second call).
  impls::Capabilities caps = impl->capabilities();
  caps.saves_stats = false;
  Expected<impls::OwnedOutputs> out = impls::allocate_outputs(p, views, caps);
  if (!out) return state.SkipWithError(out.message().c_str());
  for (auto _ : state) {
    const Status s = impl->run(p, views, out->views);
    if (!s) return state.SkipWithError(s.message().c_str());
    benchmark::DoNotOptimize(out->views.y.data);
    benchmark::ClobberMemory();
  }
  set_counters(state, p);
}

/// memcpy of the same bytes: the bandwidth roof a streaming kernel is measured against.
void run_memcpy(benchmark::State& state, Problem p) {
  const std::int64_t half = bytes_moved(p) / 2;
  std::vector<char> src(static_cast<std::size_t>(half), 1), dst(static_cast<std::size_t>(half));
  for (auto _ : state) {
    std::memcpy(dst.data(), src.data(), src.size());
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
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
            p.seed = 2024;
            if (!validate(p)) continue;
            benchmark::RegisterBenchmark((slug(p) + "/memcpy").c_str(), run_memcpy, p)->UseRealTime();
            for (const char* impl : {"cpu", "torch"}) {
              benchmark::RegisterBenchmark((slug(p) + "/" + impl).c_str(), run_implementation, p, std::string(impl))
                  ->UseRealTime();
            }
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
