// The certified reference (reference::evaluate) against a plain two-pass evaluation in double
// (reference::evaluate_plain_double) on the same inputs, in one run, so that their ratio is the
// price of exactness on this machine. Names: evaluate/<op>_<dtype>_<shape>/<implementation>.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <string>
#include <vector>

#include "reference/reference.h"
#include "tools/normcheck/sample_inputs.h"

namespace normcheck::bench {
namespace {

/// Seeded standard normal data (offset 0, spread 1).
constexpr std::uint64_t kSeed = 2024;

struct BenchProblem {
  Problem problem;
  tool::InputSet inputs;
  std::string slug;  ///< layer_norm_float32_1024x1024
};

BenchProblem make_bench_problem(Op op, std::vector<std::int64_t> shape) {
  BenchProblem b;
  b.problem = default_problem(op, std::move(shape));  // layer_norm: normalized_shape = last dim
  b.problem.dtype = DType::kFloat32;
  b.problem.mode = Mode::kTrain;
  b.problem.direction = Direction::kForward;
  b.problem.seed = kSeed;
  Expected<tool::InputSet> in = tool::make_sample_inputs(b.problem, {kSeed, 0.0, 1.0});
  NC_CHECK(in.ok(), in.message());
  b.inputs = std::move(*in);
  b.slug =
      fmt::format("{}_{}_{}", name(b.problem.op), name(b.problem.dtype), fmt::join(b.problem.shape, "x"));
  return b;
}

using Evaluate = Expected<reference::Result> (*)(const Problem&, const reference::Inputs&);

void run(benchmark::State& state, const BenchProblem* b, Evaluate evaluate, const char* implementation) {
  const reference::Inputs in = b->inputs.views();
  reference::Certification cert;
  for (auto _ : state) {
    Expected<reference::Result> r = evaluate(b->problem, in);
    if (!r) {
      state.SkipWithError(r.message().c_str());
      return;
    }
    cert = r->certification;
    benchmark::DoNotOptimize(r->y.data());
    benchmark::ClobberMemory();
  }
  const auto elements = static_cast<double>(b->inputs.x.numel());
  const double bytes = 2 * elements * static_cast<double>(size_of(b->problem.dtype));  // x in, y out
  state.SetLabel(fmt::format("op={} dtype={} shape={} implementation={}", name(b->problem.op),
                             name(b->problem.dtype), fmt::join(b->problem.shape, "x"), implementation));
  state.counters["elements"] = elements;
  state.counters["bytes"] = bytes;
  state.counters["elements_per_second"] =
      benchmark::Counter(elements, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["escalations"] = static_cast<double>(cert.escalations());
}

}  // namespace
}  // namespace normcheck::bench

int main(int argc, char** argv) {
  using namespace normcheck;
  // Built before registration and alive until the end of main: the benchmarks point at them.
  static const std::vector<bench::BenchProblem> kProblems = {
      bench::make_bench_problem(Op::kLayerNorm, {1024, 1024}),
      bench::make_bench_problem(Op::kBatchNorm, {32, 64, 28, 28}),
  };
  for (const bench::BenchProblem& b : kProblems) {
    const struct {
      const char* implementation;
      bench::Evaluate evaluate;
    } kImpls[] = {{"certified", &reference::evaluate}, {"plain_double", &reference::evaluate_plain_double}};
    for (const auto& impl : kImpls) {
      benchmark::RegisterBenchmark(("evaluate/" + b.slug + "/" + impl.implementation).c_str(), bench::run, &b,
                                   impl.evaluate, impl.implementation)
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.5);  // a few iterations of the certified run (tens of ms each), more of the plain one
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
