// The cuda implementation: honest capabilities and the no-device refusal (these run everywhere),
// then, on a GPU, every op x dtype x layout x mode x direction x affine/tracking flags on small
// awkward shapes (sizes 1, 3, 17, 127, 1025; C not a multiple of 8; N = 1) against the reference
// within its bound, the longer sets that take the split reductions, the running statistics of
// every profile, refusals, empty shapes, NaN/inf, determinism (same bits run after run),
// strided views and misaligned device pointers (the scalar fallback of the 128-bit paths).
// Without a GPU each of the latter is SKIPPED with the reason.
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "impls/cuda/cuda.h"
#include "impls/cuda/launch.h"
#include "impls/registry.h"
#include "normcheck/problem.h"
#include "normcheck/tensor.h"
#include "properties/comparator.h"
#include "reference/reference.h"
#include "tests/impls/harness.h"

namespace normcheck::testing {
namespace {

#define NC_REQUIRE_GPU()                                                                 \
  do {                                                                                   \
    if (const auto nc_why_ = impls::cuda_unavailable_reason()) GTEST_SKIP() << *nc_why_; \
  } while (0)

std::unique_ptr<impls::Implementation> make_cuda() {
  std::vector<std::unique_ptr<impls::Implementation>> v;
  impls::add_cuda_implementations(v);
  NC_CHECK(v.size() == 1 && v[0]->name() == "cuda");
  return std::move(v[0]);
}

/// Runs p through the implementation and the reference; expects the same refusal, or every output
/// within the reference's bound.
properties::Agreement check_against_reference(impls::Implementation& impl, const Problem& p, const DataSpec& d) {
  OwnedInputs in = make_inputs(p, d);
  const auto want = reference::evaluate(p, in.inputs);
  RunResult got = run_impl(impl, p, in.inputs);
  const std::string repro = "REPRO: normcheck repro '" + to_string(p) + "'";
  if (!want) {
    EXPECT_FALSE(got.status.ok()) << repro << "\nreference refused: " << want.message();
    if (!got.status.ok()) {
      EXPECT_EQ(got.status.message(), want.message()) << repro;
    }
    return {};
  }
  EXPECT_TRUE(got.status.ok()) << repro << "\n" << got.status.message();
  if (!got.status.ok()) return {};
  properties::Agreement a = properties::compare(p, *want, got.out.views, 1.0);
  EXPECT_TRUE(a.ok()) << repro << "\n" << a.summary();
  EXPECT_FALSE(a.outputs.empty()) << repro;
  return a;
}

struct ShapeCase {
  ShapeCase(std::vector<std::int64_t> s, std::int64_t g = 1, std::vector<std::int64_t> ns = {})
      : shape(std::move(s)), groups(g), nshape(std::move(ns)) {}
  std::vector<std::int64_t> shape;
  std::int64_t groups = 1;
  std::vector<std::int64_t> nshape;
};

/// Small awkward shapes: sizes 1, 3, 17, 127, 1025, C not a multiple of 8, N = 1.
std::vector<ShapeCase> smoke_shapes(Op op) {
  switch (op) {
    case Op::kBatchNorm:
      return {{{1, 3}},      {{17, 3}},       {{2, 3, 5}},      {{1, 3, 17}}, {{3, 5, 127}},
              {{2, 13, 3}},  {{2, 3, 4, 4}},  {{1, 2, 1, 1}},   {{2, 2, 3, 2, 2}}, {{1, 3, 1025}}};
    case Op::kInstanceNorm:
      return {{{2, 3, 17}}, {{1, 3, 4, 4}}, {{2, 2, 1}}, {{1, 13, 127}}, {{2, 2, 2, 3, 2}}, {{1, 3, 1025}}};
    case Op::kGroupNorm:
      return {{{2, 6, 5}, 3},    {{1, 4, 3, 3}, 2}, {{2, 12}, 4},    {{3, 6, 17}, 6},
              {{1, 3, 1}, 1},    {{2, 15, 127}, 5}, {{1, 3, 1025}, 3}};
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      return {{{3, 17}, 1, {17}},   {{2, 3, 4}, 1, {3, 4}}, {{1, 1}, 1, {1}},       {{5, 3}, 1, {3}},
              {{4, 127}, 1, {127}}, {{2, 1025}, 1, {1025}}, {{3, 2, 64}, 1, {64}}};
    case Op::kLayerNorm2d:
      return {{{2, 3, 4, 5}}, {{1, 17, 3}}, {{2, 13, 2, 2}}, {{1, 1, 3}}, {{1, 127, 3}}, {{2, 5, 1025}}};
  }
  return {};
}

Problem make_problem(Op op, const ShapeCase& sc, DType t) {
  Problem p = default_problem(op, sc.shape);
  p.dtype = t;
  if (op == Op::kGroupNorm) p.num_groups = sc.groups;
  if (!sc.nshape.empty()) p.normalized_shape = sc.nshape;
  return p;
}

bool stateful(Op op) { return op == Op::kBatchNorm || op == Op::kInstanceNorm; }

// ---------------------------------------------------------------------------------------------
// Everywhere (no GPU needed)

TEST(CudaImpl, CapabilitiesListWhatIsImplemented) {
  auto impl = make_cuda();
  const impls::Capabilities& c = impl->capabilities();
  EXPECT_EQ(impl->name(), "cuda");
  EXPECT_FALSE(impl->description().empty());
  EXPECT_EQ(c.ops.size(), std::size(kAllOps));
  EXPECT_EQ(c.dtypes.size(), std::size(kAllDTypes));
  EXPECT_EQ(c.layouts.size(), std::size(kAllLayouts));
  EXPECT_EQ(c.modes.size(), 2u);
  EXPECT_EQ(c.directions.size(), 2u);
  EXPECT_EQ(c.profiles.size(), std::size(kAllProfiles));
  // It takes the same host views as every implementation (and stages them to the GPU itself).
  EXPECT_EQ(c.devices, std::vector<Device>{Device::kCPU});
  EXPECT_TRUE(c.saves_stats);
}

TEST(CudaImpl, IsInTheRegistry) {
  auto impl = impls::make_implementation("cuda");
  ASSERT_NE(impl, nullptr);
  EXPECT_EQ(impl->name(), "cuda");
}

TEST(CudaImpl, WithoutADeviceEveryProblemIsRefusedWithTheReason) {
  auto impl = make_cuda();
  const Problem p = default_problem(Op::kLayerNorm, {2, 8});
  const auto why = impls::cuda_unavailable_reason();
  if (!why) {
    EXPECT_EQ(impl->supports(p), std::nullopt) << "a device is usable";
    return;
  }
  EXPECT_EQ(why->rfind("no CUDA device (cudaGetDeviceCount", 0), 0u) << *why;
  EXPECT_EQ(impl->supports(p), why);
  OwnedInputs in = make_inputs(p, {});
  RunResult r = run_impl(*impl, p, in.inputs);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.message(), "not supported: " + *why);
}

TEST(CudaImpl, OrderChoiceAndStatisticsSizes) {
  Geometry g{2, 3, 5, 1, 3, 10};
  EXPECT_EQ(impls::cuda::choose_order(Op::kBatchNorm, g, false), impls::cuda::Order::kNCS);
  EXPECT_EQ(impls::cuda::choose_order(Op::kBatchNorm, g, true), impls::cuda::Order::kNSC);
  EXPECT_EQ(impls::cuda::choose_order(Op::kLayerNorm, {4, 7, 1, 1, 4, 7}, false), impls::cuda::Order::kNSC);
  // S == 1: both orders are the same memory; batch norm reduces columns, group norm contiguous sets.
  EXPECT_EQ(impls::cuda::choose_order(Op::kBatchNorm, {4, 7, 1, 1, 7, 4}, false), impls::cuda::Order::kNSC);
  EXPECT_EQ(impls::cuda::choose_order(Op::kGroupNorm, {4, 8, 1, 2, 8, 4}, true), impls::cuda::Order::kNCS);
  impls::cuda::Desc d;
  d.g = g;
  EXPECT_EQ(impls::cuda::stat_count(d), 3);
  d.op = Op::kInstanceNorm;
  d.g.num_sets = 6;
  EXPECT_EQ(impls::cuda::stat_count(d), 6);
  d.use_running = true;
  EXPECT_EQ(impls::cuda::stat_count(d), 3);
}

// ---------------------------------------------------------------------------------------------
// On a GPU

TEST(CudaImpl, SmokeAgainstReferenceEveryOpDtypeLayoutModeDirectionFlags) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  int cases = 0;
  for (Op op : kAllOps) {
    for (const ShapeCase& sc : smoke_shapes(op)) {
      for (DType t : kAllDTypes) {
        for (Layout layout : kAllLayouts) {
          for (Mode mode : {Mode::kTrain, Mode::kEval}) {
            for (Direction dir : {Direction::kForward, Direction::kBackward}) {
              for (int flags = 0; flags < 3; ++flags) {  // affine+bias, affine only, none
                for (int track = 0; track < 2; ++track) {
                  if (track == 1 && !stateful(op)) continue;
                  // The odd layouts once per shape and dtype (they are packed on the host).
                  if ((layout == Layout::kPermuted || layout == Layout::kStrided) && (flags != 0 || track != 0))
                    continue;
                  Problem p = make_problem(op, sc, t);
                  p.layout = layout;
                  p.mode = mode;
                  p.direction = dir;
                  p.affine = flags < 2;
                  p.bias = flags == 0;
                  if (op == Op::kRmsNorm) p.bias = false;
                  if (stateful(op)) p.track_running_stats = track == 1;
                  if (!validate(p).ok()) continue;  // channels_last needs rank >= 3 and a channel dim
                  check_against_reference(*impl, p, {.offset = 0.5, .spread = 2.0, .constant = false, .seed = static_cast<std::uint64_t>(++cases)});
                }
              }
            }
          }
        }
      }
    }
  }
  std::printf("smoke cases: %d\n", cases);
}

/// Sets longer than the fused kernels hold, and reductions split over many blocks.
std::vector<Problem> large_problems() {
  std::vector<Problem> ps;
  Problem bn = default_problem(Op::kBatchNorm, {16, 8, 32, 33});
  bn.layout = Layout::kChannelsLast;
  ps.push_back(bn);
  ps.push_back(default_problem(Op::kBatchNorm, {3, 4, 70, 70}));
  ps.push_back(default_problem(Op::kBatchNorm, {1, 3, 9000}));
  Problem ln = default_problem(Op::kLayerNorm, {3, 20000});
  ln.normalized_shape = {20000};
  ps.push_back(ln);
  Problem ln_odd = default_problem(Op::kLayerNorm, {2, 10001});
  ln_odd.normalized_shape = {10001};
  ps.push_back(ln_odd);
  Problem rms = default_problem(Op::kRmsNorm, {2, 9000});
  rms.normalized_shape = {9000};
  ps.push_back(rms);
  ps.push_back(default_problem(Op::kLayerNorm2d, {2, 8, 30, 30}));
  Problem ln2d = default_problem(Op::kLayerNorm2d, {2, 9000, 1, 1});
  ps.push_back(ln2d);
  Problem gn = default_problem(Op::kGroupNorm, {2, 300, 5, 5});
  gn.num_groups = 3;
  gn.layout = Layout::kChannelsLast;
  ps.push_back(gn);
  Problem gn2 = default_problem(Op::kGroupNorm, {2, 32, 30, 30});
  gn2.num_groups = 2;
  ps.push_back(gn2);
  Problem in = default_problem(Op::kInstanceNorm, {2, 300, 40});
  in.layout = Layout::kChannelsLast;
  ps.push_back(in);
  Problem in2 = default_problem(Op::kInstanceNorm, {2, 3, 100, 100});
  in2.affine = in2.bias = true;
  ps.push_back(in2);
  return ps;
}

TEST(CudaImpl, LongSetsAndSplitReductionsAgainstReference) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  for (Problem p : large_problems()) {
    for (DType t : {DType::kFloat32, DType::kFloat64, DType::kBFloat16}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        p.dtype = t;
        p.direction = dir;
        for (double offset : {0.0, 1e3}) {
          const properties::Agreement a = check_against_reference(*impl, p, {.offset = offset, .spread = 1.0, .constant = false, .seed = 21});
          for (const auto& o : a.outputs)
            if (o.name == "y" && t == DType::kFloat32)
              std::printf("%s offset %g: y max %g ulp (%.3g of the bound)\n", to_string(p).c_str(), offset, o.max_ulp,
                          o.max_bound_fraction);
        }
      }
    }
  }
}

/// One small problem per kernel path (fused forward / backward with and without 128-bit access,
/// row and column partials with several splits, the merges, the elementwise passes, running
/// statistics in and out), float32 and float16: what ci/gpu-check.sh runs under compute-sanitizer.
TEST(CudaImpl, KernelPathsSweep) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  std::vector<Problem> ps;
  auto ln = [&](Op op, std::vector<std::int64_t> shape) {
    Problem p = default_problem(op, shape);
    p.normalized_shape = {shape.back()};
    ps.push_back(p);
  };
  ln(Op::kLayerNorm, {4, 40});     // fused, 128-bit
  ln(Op::kLayerNorm, {3, 17});     // fused, scalar
  ln(Op::kLayerNorm, {2, 9000});   // longer than the registers: row partials, 2 splits
  ln(Op::kRmsNorm, {2, 9000});
  ln(Op::kRmsNorm, {5, 24});
  ps.push_back(default_problem(Op::kBatchNorm, {3, 4, 70}));     // NCS: rows (n, c), merged over n
  ps.push_back(default_problem(Op::kBatchNorm, {1, 3, 9000}));   // N = 1: sets are rows, too long to fuse
  Problem bn_cl = default_problem(Op::kBatchNorm, {16, 8, 9, 9});  // NSC: columns, many splits
  bn_cl.layout = Layout::kChannelsLast;
  ps.push_back(bn_cl);
  Problem in_cl = default_problem(Op::kInstanceNorm, {2, 5, 3, 7});
  in_cl.layout = Layout::kChannelsLast;
  in_cl.track_running_stats = true;
  ps.push_back(in_cl);
  Problem in_eval = in_cl;
  in_eval.mode = Mode::kEval;
  in_eval.layout = Layout::kContiguous;
  ps.push_back(in_eval);
  Problem gn = default_problem(Op::kGroupNorm, {2, 6, 5, 5});
  gn.num_groups = 3;
  ps.push_back(gn);
  gn.layout = Layout::kChannelsLast;
  ps.push_back(gn);
  ps.push_back(default_problem(Op::kLayerNorm2d, {2, 8, 5, 5}));  // NCS: sets are columns
  Problem ln2d_cl = default_problem(Op::kLayerNorm2d, {2, 8, 5, 5});
  ln2d_cl.layout = Layout::kChannelsLast;
  ps.push_back(ln2d_cl);
  Problem bn_eval = default_problem(Op::kBatchNorm, {2, 3, 4, 4});
  bn_eval.mode = Mode::kEval;
  ps.push_back(bn_eval);
  for (Problem p : ps) {
    for (DType t : {DType::kFloat32, DType::kFloat16}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        p.dtype = t;
        p.direction = dir;
        check_against_reference(*impl, p, {.offset = 0.5, .spread = 1.0, .constant = false, .seed = 3});
      }
    }
  }
}

TEST(CudaImpl, RunningStatsEveryProfileAndTheCumulativeAverage) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  int cases = 0;
  for (Op op : {Op::kBatchNorm, Op::kInstanceNorm}) {
    for (Profile prof : kAllProfiles) {
      for (DType t : {DType::kFloat64, DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
        for (int mom = 0; mom < 2; ++mom) {
          if (mom == 1 && prof != Profile::kPyTorch) continue;
          for (std::vector<std::int64_t> shape : {std::vector<std::int64_t>{3, 4, 5}, {1, 4, 1}, {2, 3, 3, 3}}) {
            for (Layout l : {Layout::kContiguous, Layout::kChannelsLast}) {
              Problem p = default_problem(op, shape, prof);
              p.dtype = t;
              p.layout = l;
              p.track_running_stats = true;
              if (mom == 1) p.momentum = std::nullopt;
              for (Direction dir : {Direction::kForward, Direction::kBackward}) {
                p.direction = dir;
                check_against_reference(*impl, p, {.offset = 0.25, .spread = 3.0, .constant = false, .seed = static_cast<std::uint64_t>(++cases)});
              }
            }
          }
        }
      }
    }
  }
}

TEST(CudaImpl, RefusesWhatPyTorchRefuses) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  Problem p = default_problem(Op::kBatchNorm, {1, 3});
  OwnedInputs in = make_inputs(p, {});
  RunResult r = run_impl(*impl, p, in.inputs);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.message(), "Expected more than 1 value per channel when training, got input size [1, 3]");
  Problem q = default_problem(Op::kInstanceNorm, {2, 3, 1});
  q.track_running_stats = true;
  OwnedInputs qi = make_inputs(q, {});
  RunResult s = run_impl(*impl, q, qi.inputs);
  ASSERT_FALSE(s.status.ok());
  EXPECT_EQ(s.status.message(), "Expected more than 1 spatial element when training, got input size [2, 3, 1]");
}

TEST(CudaImpl, EmptyShapesAgainstReference) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  std::vector<Problem> ps;
  ps.push_back(default_problem(Op::kBatchNorm, {0, 3, 4}));
  ps.push_back(default_problem(Op::kBatchNorm, {2, 3, 0}));
  ps.push_back(default_problem(Op::kInstanceNorm, {0, 3, 4}));
  Problem gn = default_problem(Op::kGroupNorm, {0, 4, 3});
  gn.num_groups = 2;
  ps.push_back(gn);
  Problem ln = default_problem(Op::kLayerNorm, {0, 5});
  ln.normalized_shape = {5};
  ps.push_back(ln);
  ps.push_back(default_problem(Op::kLayerNorm2d, {2, 3, 0}));
  for (Problem p : ps) {
    for (Direction dir : {Direction::kForward, Direction::kBackward}) {
      p.direction = dir;
      ASSERT_TRUE(validate(p).ok()) << validate(p).message();
      check_against_reference(*impl, p, {});
    }
  }
}

TEST(CudaImpl, NanAndInfStayInTheirSets) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  std::vector<Problem> ps = large_problems();
  for (Op op : kAllOps)
    for (const ShapeCase& sc : smoke_shapes(op))
      if (numel_of(sc.shape) >= 6) ps.push_back(make_problem(op, sc, DType::kFloat32));
  for (Problem p : ps) {
    for (double bad : {std::nan(""), static_cast<double>(INFINITY)}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        p.direction = dir;
        OwnedInputs in = make_inputs(p, {.offset = 0.0, .spread = 1.0, .constant = false, .seed = 9});
        in.x.view().set_linear(5, bad);
        const auto want = reference::evaluate(p, in.inputs);
        if (!want.ok()) continue;  // a refusal (one value per set) is checked elsewhere
        RunResult got = run_impl(*impl, p, in.inputs);
        ASSERT_TRUE(got.status.ok()) << got.status.message();
        const auto a = properties::compare(p, *want, got.out.views, 1.0);
        for (const auto& o : a.outputs) {
          if (o.name == "y" || o.name == "dx") {
            EXPECT_EQ(o.failures, 0) << to_string(p) << "\n" << a.summary();
          }
        }
      }
    }
  }
}

TEST(CudaImpl, DeterministicRunAfterRun) {
  NC_REQUIRE_GPU();
  std::vector<Problem> ps = large_problems();
  for (Op op : kAllOps) ps.push_back(make_problem(op, smoke_shapes(op).front(), DType::kFloat32));
  for (Problem p : ps) {
    for (DType t : {DType::kFloat32, DType::kFloat16}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        p.dtype = t;
        p.direction = dir;
        OwnedInputs in = make_inputs(p, {.offset = 100.0, .spread = 1.0, .constant = false, .seed = 11});
        auto impl = make_cuda();
        RunResult a = run_impl(*impl, p, in.inputs);
        RunResult b = run_impl(*impl, p, in.inputs);
        auto fresh = make_cuda();
        RunResult c = run_impl(*fresh, p, in.inputs);
        if (!a.status.ok()) {  // a refusal must be as stable
          EXPECT_EQ(a.status.message(), b.status.message());
          continue;
        }
        ASSERT_TRUE(b.status.ok() && c.status.ok()) << to_string(p) << ": " << b.status.message();
        const auto bits = all_bits(a.out.views);
        EXPECT_EQ(bits, all_bits(b.out.views)) << to_string(p);
        EXPECT_EQ(bits, all_bits(c.out.views)) << to_string(p) << " (a fresh implementation)";
      }
    }
  }
}

/// A view of the same logical values stored with the dims permuted by `perm` (storage dim i holds
/// logical dim perm[i]) and, optionally, every other element of the innermost storage dim skipped.
struct StridedCopy {
  Tensor storage;
  TensorView view;
};
StridedCopy strided_copy(const TensorView& dense, const std::vector<int>& perm, bool sliced) {
  const int r = dense.rank();
  std::vector<std::int64_t> sshape(static_cast<std::size_t>(r));
  for (int i = 0; i < r; ++i) sshape[static_cast<std::size_t>(i)] = dense.shape[static_cast<std::size_t>(perm[i])];
  if (sliced) sshape.back() *= 2;
  StridedCopy s;
  s.storage = Tensor::empty(dense.dtype, sshape);
  s.storage.fill(std::nan(""));
  const auto sstr = contiguous_strides(sshape);
  s.view.data = s.storage.data();
  s.view.dtype = dense.dtype;
  s.view.shape = dense.shape;
  s.view.strides.assign(static_cast<std::size_t>(r), 0);
  for (int i = 0; i < r; ++i)
    s.view.strides[static_cast<std::size_t>(perm[i])] = sstr[static_cast<std::size_t>(i)] * (sliced && i == r - 1 ? 2 : 1);
  for (std::int64_t i = 0; i < dense.numel(); ++i) s.view.set_linear(i, dense.get_linear(i));
  return s;
}

TEST(CudaImpl, StridedInputsAndOutputsGiveTheSameBitsAsContiguous) {
  NC_REQUIRE_GPU();
  auto impl = make_cuda();
  std::vector<Problem> ps;
  for (Op op : kAllOps)
    for (const ShapeCase& sc : smoke_shapes(op))
      if (sc.shape.size() >= 2 && numel_of(sc.shape) > 1) ps.push_back(make_problem(op, sc, DType::kFloat32));
  Problem hp = default_problem(Op::kGroupNorm, {2, 4, 3, 5});
  hp.num_groups = 2;
  hp.dtype = DType::kBFloat16;
  ps.push_back(hp);
  for (Problem p : ps) {
    for (Direction dir : {Direction::kForward, Direction::kBackward}) {
      p.direction = dir;
      OwnedInputs in = make_inputs(p, {.offset = 10.0, .spread = 1.0, .constant = false, .seed = 5});
      RunResult base = run_impl(*impl, p, in.inputs);
      if (!base.status.ok()) continue;  // a refusal (batch of one) is checked elsewhere
      const auto want = all_bits(base.out.views);
      const int r = in.x.view().rank();
      std::vector<int> rev(static_cast<std::size_t>(r));
      for (int i = 0; i < r; ++i) rev[static_cast<std::size_t>(i)] = r - 1 - i;
      for (bool sliced : {false, true}) {
        StridedCopy xs = strided_copy(in.x.view(), rev, sliced);
        Inputs in2 = in.inputs;
        in2.x = xs.view;
        StridedCopy dys;
        if (dir == Direction::kBackward) {
          dys = strided_copy(in.grad_output.view(), rev, sliced);
          in2.grad_output = dys.view;
        }
        // Outputs into strided views too: the implementation must honour the caller's strides.
        auto o = impls::allocate_outputs(p, in2, impl->capabilities());
        ASSERT_TRUE(o.ok());
        StridedCopy ys = strided_copy(o->views.y, rev, true);
        o->views.y = ys.view;
        StridedCopy dxs;
        if (o->views.dx) {
          dxs = strided_copy(*o->views.dx, rev, true);
          o->views.dx = dxs.view;
        }
        const Status s = impl->run(p, in2, o->views);
        ASSERT_TRUE(s.ok()) << s.message();
        // A view that happens to be dense channels-last (a size-1 dim) is read in the other
        // order, whose reductions run in another order: then the bound, not the bits.
        if (!sliced && xs.view.rank() >= 3 && xs.view.is_channels_last()) {
          const auto ref = reference::evaluate(p, in2);
          ASSERT_TRUE(ref.ok()) << ref.message();
          const auto a = properties::compare(p, *ref, o->views, 1.0);
          EXPECT_TRUE(a.ok()) << to_string(p) << "\n" << a.summary();
          continue;
        }
        EXPECT_EQ(all_bits(o->views), want) << to_string(p) << " sliced=" << sliced;
      }
    }
  }
}

/// The launchers on device pointers that are NOT 16-byte aligned: every 128-bit path must fall
/// back to scalar accesses (or peel a head) and still be right.
TEST(CudaImpl, MisalignedDevicePointersTakeTheScalarPaths) {
  NC_REQUIRE_GPU();
  std::vector<Problem> ps;
  Problem ln = default_problem(Op::kLayerNorm, {5, 64});
  ln.normalized_shape = {64};
  ps.push_back(ln);
  Problem ln_long = default_problem(Op::kLayerNorm, {2, 10000});
  ln_long.normalized_shape = {10000};
  ps.push_back(ln_long);
  ps.push_back(default_problem(Op::kBatchNorm, {4, 3, 64}));
  Problem gn = default_problem(Op::kGroupNorm, {2, 8, 16});
  gn.num_groups = 4;
  ps.push_back(gn);
  for (Problem p : ps) {
    for (DType t : {DType::kFloat32, DType::kFloat16}) {
      p.dtype = t;
      p.direction = Direction::kBackward;
      OwnedInputs in = make_inputs(p, {.offset = 1.0, .spread = 1.0, .constant = false, .seed = 17});
      const auto want = reference::evaluate(p, in.inputs);
      ASSERT_TRUE(want.ok()) << want.message();
      const Geometry g = *geometry(p);
      impls::cuda::Desc d;
      d.op = p.op;
      d.dtype = t;
      d.g = g;
      d.eps = effective_eps(p);
      d.order = impls::cuda::choose_order(p.op, g, false);
      d.update_running = true;
      d.take = *p.momentum;
      d.keep = 1.0 - *p.momentum;
      const std::size_t es = size_of(t), numel = static_cast<std::size_t>(g.N * g.C * g.S);
      const std::size_t C = static_cast<std::size_t>(g.C), K = static_cast<std::size_t>(g.num_sets);
      // One buffer; every array starts one element past a 16-byte boundary.
      const std::size_t slot = (numel + 8) * 8;
      void* raw = nullptr;
      ASSERT_EQ(cudaMalloc(&raw, slot * 12), cudaSuccess);
      char* base = static_cast<char*>(raw);
      // (mean / rstd, read as scalars, only 4-byte aligned)
      auto at = [&](int i) { return base + slot * static_cast<std::size_t>(i) + (i == 7 || i == 8 ? 4 : es); };
      const bool bn = p.op == Op::kBatchNorm;
      ASSERT_EQ(cudaMemcpy(at(0), in.x.data(), numel * es, cudaMemcpyHostToDevice), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(at(1), in.grad_output.data(), numel * es, cudaMemcpyHostToDevice), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(at(2), in.weight.data(), C * es, cudaMemcpyHostToDevice), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(at(3), in.bias.data(), C * es, cudaMemcpyHostToDevice), cudaSuccess);
      if (bn) {
        ASSERT_EQ(cudaMemcpy(at(4), in.running_mean.data(), C * es, cudaMemcpyHostToDevice), cudaSuccess);
        ASSERT_EQ(cudaMemcpy(at(5), in.running_var.data(), C * es, cudaMemcpyHostToDevice), cudaSuccess);
      }
      d.update_running = bn;
      impls::cuda::Workspace ws;
      impls::cuda::ForwardArgs fa;
      fa.x = at(0), fa.y = at(6), fa.gamma = at(2), fa.beta = at(3), fa.running_mean = bn ? at(4) : nullptr,
      fa.running_var = bn ? at(5) : nullptr, fa.mean = at(7), fa.rstd = at(8);
      ASSERT_TRUE(impls::cuda::forward(d, fa, ws, nullptr).ok());
      impls::cuda::BackwardArgs ba;
      ba.x = at(0), ba.dy = at(1), ba.gamma = at(2), ba.mean = at(7), ba.rstd = at(8), ba.dx = at(9),
      ba.dgamma = at(10), ba.dbeta = at(11);
      ASSERT_TRUE(impls::cuda::backward(d, ba, ws, nullptr).ok());
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      auto o = impls::allocate_outputs(p, in.inputs, make_cuda()->capabilities());
      ASSERT_TRUE(o.ok());
      impls::Outputs& v = o->views;
      const std::size_t ss = size_of(stats_dtype(t));
      ASSERT_EQ(cudaMemcpy(v.y.data, at(6), numel * es, cudaMemcpyDeviceToHost), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(v.dx->data, at(9), numel * es, cudaMemcpyDeviceToHost), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(v.dweight->data, at(10), C * es, cudaMemcpyDeviceToHost), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(v.dbias->data, at(11), C * es, cudaMemcpyDeviceToHost), cudaSuccess);
      ASSERT_EQ(cudaMemcpy(v.rstd->data, at(8), K * ss, cudaMemcpyDeviceToHost), cudaSuccess);
      if (v.mean) {
        ASSERT_EQ(cudaMemcpy(v.mean->data, at(7), K * ss, cudaMemcpyDeviceToHost), cudaSuccess);
      }
      if (bn) {
        ASSERT_EQ(cudaMemcpy(v.running_mean->data, at(4), C * es, cudaMemcpyDeviceToHost), cudaSuccess);
        ASSERT_EQ(cudaMemcpy(v.running_var->data, at(5), C * es, cudaMemcpyDeviceToHost), cudaSuccess);
        v.num_batches_tracked = in.inputs.num_batches_tracked + 1;
      }
      cudaFree(base);
      const auto a = properties::compare(p, *want, v, 1.0);
      EXPECT_TRUE(a.ok()) << to_string(p) << "\n" << a.summary();
    }
  }
}

}  // namespace
}  // namespace normcheck::testing
