// The cpu implementation against the reference: every op x dtype x mode x direction x layout x
// affine/tracking flags on small shapes (within the reference's bound), then the strict tier
// (float32 within 4 ULP of the correctly rounded result at offsets up to 1e7; constant sets give
// exactly beta), determinism across runs and thread counts, and strided views.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <cstdio>
#include <map>

#include "properties/comparator.h"
#include "impls/cpu/convert-inl.h"
#include "reference/reference.h"
#include "tests/impls/cpu/cpu_test_util.h"

namespace normcheck::testing {
namespace {

struct ShapeCase {
  ShapeCase(std::vector<std::int64_t> s, std::int64_t g = 1, std::vector<std::int64_t> ns = {})
      : shape(std::move(s)), groups(g), nshape(std::move(ns)) {}
  std::vector<std::int64_t> shape;
  std::int64_t groups = 1;           // group_norm
  std::vector<std::int64_t> nshape;  // layer_norm / rms_norm
};

std::vector<ShapeCase> smoke_shapes(Op op) {
  switch (op) {
    case Op::kBatchNorm:
      return {{{1, 3}},     {{17, 3}},      {{2, 3, 5}},    {{1, 3, 17}},
              {{2, 64, 3}}, {{2, 3, 4, 4}}, {{1, 2, 1, 1}}, {{2, 2, 3, 2, 2}}};
    case Op::kInstanceNorm:
      return {{{2, 3, 17}}, {{1, 3, 4, 4}}, {{2, 2, 1}}, {{1, 64, 3}}, {{2, 2, 2, 3, 2}}};
    case Op::kGroupNorm:
      return {{{2, 6, 5}, 3}, {{1, 4, 3, 3}, 2}, {{2, 64}, 4}, {{3, 6, 17}, 6}, {{1, 3, 1}, 1}};
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      return {
          {{3, 17}, 1, {17}}, {{2, 3, 4}, 1, {3, 4}}, {{64}, 1, {64}}, {{1, 1}, 1, {1}}, {{5, 3}, 1, {3}}};
    case Op::kLayerNorm2d:
      return {{{2, 3, 4, 5}}, {{1, 17, 3}}, {{2, 64, 2, 2}}, {{1, 1, 3}}};
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

bool has_channels(Op op) { return op != Op::kLayerNorm && op != Op::kRmsNorm; }
bool stateful(Op op) { return op == Op::kBatchNorm || op == Op::kInstanceNorm; }

/// Runs p through the cpu implementation and the reference; expects the same error or outputs
/// within the bound. Returns the agreement (empty on a matching error).
properties::Agreement check_against_reference(impls::Implementation& impl, const Problem& p,
                                              const DataSpec& d) {
  OwnedInputs in = make_inputs(p, d);
  const auto want = reference::evaluate(p, in.inputs);
  RunResult got = run_cpu(impl, p, in.inputs);
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

TEST(CpuImpl, SmokeAgainstReferenceEveryOpDtypeModeDirectionLayoutFlags) {
  auto impl = make_cpu();
  int cases = 0;
  for (Op op : kAllOps) {
    for (const ShapeCase& sc : smoke_shapes(op)) {
      for (DType t : kAllDTypes) {
        for (Layout layout : {Layout::kContiguous, Layout::kChannelsLast}) {
          if (layout == Layout::kChannelsLast && (!has_channels(op) || sc.shape.size() < 3)) continue;
          for (Mode mode : {Mode::kTrain, Mode::kEval}) {
            for (Direction dir : {Direction::kForward, Direction::kBackward}) {
              for (int flags = 0; flags < 4; ++flags) {  // affine+bias, affine only, none, bias only
                for (int track = 0; track < 2; ++track) {
                  if (track == 1 && !stateful(op)) continue;
                  Problem p = make_problem(op, sc, t);
                  p.layout = layout;
                  p.mode = mode;
                  p.direction = dir;
                  p.affine = flags < 2;
                  p.bias = flags == 0 || flags == 3;
                  if (op == Op::kRmsNorm) p.bias = false;
                  if (flags == 3 && !p.bias) continue;  // rms_norm has no bias
                  if (stateful(op)) p.track_running_stats = track == 1;
                  ASSERT_TRUE(validate(p).ok()) << to_string(p) << ": " << validate(p).message();
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

TEST(CpuImpl, RunningStatsProfilesAndCumulativeMomentum) {
  auto impl = make_cpu();
  int cases = 0;
  for (Op op : {Op::kBatchNorm, Op::kInstanceNorm}) {
    for (Profile prof : kAllProfiles) {
      for (DType t : {DType::kFloat64, DType::kFloat32, DType::kBFloat16}) {
        for (int mom = 0; mom < 2; ++mom) {
          if (mom == 1 && prof != Profile::kPyTorch) continue;
          for (std::vector<std::int64_t> shape :
               {std::vector<std::int64_t>{3, 4, 5}, {1, 4, 1}, {2, 3, 3, 3}}) {
            Problem p = default_problem(op, shape, prof);
            p.dtype = t;
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

TEST(CpuImpl, OnnxRunningMeanTakesTheFloat32Momentum) {
  auto impl = make_cpu();
  EXPECT_EQ(onnx_momentum_case_running_mean(*impl), onnx_momentum_case_expected());
  EXPECT_NE(onnx_momentum_case_expected(), 100.0);  // the double momentum's value
}

TEST(CpuImpl, EmptyShapesAgainstReference) {
  auto impl = make_cpu();
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

TEST(CpuImpl, BatchNormTrainingWithOneValuePerChannelIsRefused) {
  auto impl = make_cpu();
  Problem p = default_problem(Op::kBatchNorm, {1, 3});
  OwnedInputs in = make_inputs(p, {});
  RunResult r = run_cpu(*impl, p, in.inputs);
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.message(),
            "Expected more than 1 value per channel when training, got input size [1, 3]");
  Problem q = default_problem(Op::kInstanceNorm, {2, 3, 1});
  q.track_running_stats = true;
  OwnedInputs qi = make_inputs(q, {});
  RunResult s = run_cpu(*impl, q, qi.inputs);
  ASSERT_FALSE(s.status.ok());
  EXPECT_EQ(s.status.message(),
            "Expected more than 1 spatial element when training, got input size [2, 3, 1]");
}

/// Larger shapes for the strict tier and determinism: several blocks, tiles and parts per set.
std::vector<Problem> strict_problems(DType t) {
  std::vector<Problem> ps;
  auto add = [&](Problem p, Layout l = Layout::kContiguous) {
    p.dtype = t;
    p.layout = l;
    ps.push_back(p);
  };
  for (Layout l : {Layout::kContiguous, Layout::kChannelsLast}) {
    add(default_problem(Op::kBatchNorm, {4, 8, 9, 9}), l);
    Problem in = default_problem(Op::kInstanceNorm, {2, 4, 10, 10});
    in.affine = true;
    in.bias = true;
    add(in, l);
    Problem gn = default_problem(Op::kGroupNorm, {2, 8, 5, 5});
    gn.num_groups = 2;
    add(gn, l);
    add(default_problem(Op::kLayerNorm2d, {2, 16, 6, 7}), l);
  }
  Problem ln = default_problem(Op::kLayerNorm, {8, 200});
  ln.normalized_shape = {200};
  add(ln);
  Problem rms = default_problem(Op::kRmsNorm, {8, 200});
  rms.normalized_shape = {200};
  rms.eps = 1e-6;
  add(rms);
  return ps;
}

TEST(CpuImpl, StrictTierFloat32Within4UlpAtOffsetsUpTo1e7) {
  auto impl = make_cpu();
  std::map<double, double> worst;
  for (double offset : {0.0, 1e2, 1e4, 1e6, 1e7}) {
    for (Problem p : strict_problems(DType::kFloat32)) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        if (dir == Direction::kBackward && offset > 1e4) continue;  // dx is not in the strict tier
        p.direction = dir;
        const properties::Agreement a = check_against_reference(*impl, p, {.offset = offset, .spread = 1.0, .constant = false, .seed = 7});
        for (const auto& o : a.outputs) {
          if (o.name != "y") continue;
          EXPECT_LE(o.max_ulp, 4) << to_string(p) << " offset " << offset;
          worst[offset] = std::max(worst[offset], o.max_ulp);
        }
      }
    }
  }
  for (const auto& [offset, ulps] : worst)
    std::printf("float32 y, offset %g, spread 1: max %g ulp\n", offset, ulps);
}

TEST(CpuImpl, StrictTierHoldsWhenABlocksFirstElementIsAnOutlier) {
  // The one-pass shifted sums take a block's first element as the shift; an outlier there sends
  // the block through the two-pass fallback.
  auto impl = make_cpu();
  for (double offset : {0.0, 1e4, 1e7}) {
    for (Problem p : strict_problems(DType::kFloat32)) {
      OwnedInputs in = make_inputs(p, {.offset = offset, .spread = 1.0, .constant = false, .seed = 13});
      for (std::int64_t i = 0; i < in.x.numel(); i += 7) in.x.view().set_linear(i, offset + 3000.0);
      const auto want = reference::evaluate(p, in.inputs);
      ASSERT_TRUE(want.ok()) << want.message();
      RunResult got = run_cpu(*impl, p, in.inputs);
      ASSERT_TRUE(got.status.ok()) << got.status.message();
      const auto a = properties::compare(p, *want, got.out.views, 1.0);
      EXPECT_TRUE(a.ok()) << to_string(p) << "\n" << a.summary();
      for (const auto& o : a.outputs) {
        if (o.name == "y") {
          EXPECT_LE(o.max_ulp, 4) << to_string(p) << " offset " << offset;
        }
      }
    }
  }
}

TEST(CpuImpl, ConstantSetsGiveExactlyBeta) {
  auto impl = make_cpu();
  for (DType t : kAllDTypes) {
    for (Problem p : strict_problems(t)) {
      if (p.op == Op::kRmsNorm) continue;  // no mean: a constant set is not special
      OwnedInputs in = make_inputs(p, {.offset = 1234.5, .spread = 0, .constant = true, .seed = 3});
      RunResult r = run_cpu(*impl, p, in.inputs);
      ASSERT_TRUE(r.status.ok()) << r.status.message();
      const std::int64_t numel = r.out.views.y.numel();
      const Geometry g = *geometry(p);
      for (std::int64_t i = 0; i < numel; ++i) {
        const std::int64_t c = (i / g.S) % g.C;
        const double beta = in.inputs.bias ? in.inputs.bias->get_linear(c) : 0.0;
        ASSERT_EQ(r.out.views.y.get_linear(i), beta) << to_string(p) << " element " << i;
      }
    }
  }
}

TEST(CpuImpl, DeterministicAcrossRunsAndThreadCounts) {
  auto impl = make_cpu();
  std::vector<Problem> ps = strict_problems(DType::kFloat32);
  // Shapes with several parts / tiles / blocks per set.
  Problem bn = default_problem(Op::kBatchNorm, {16, 8, 32, 33});
  bn.layout = Layout::kChannelsLast;
  ps.push_back(bn);
  Problem ln2d = default_problem(Op::kLayerNorm2d, {2, 8, 30, 30});
  ps.push_back(ln2d);
  Problem ln = default_problem(Op::kLayerNorm, {3, 20000});
  ln.normalized_shape = {20000};
  ps.push_back(ln);
  const int saved = omp_get_max_threads();
  for (Problem p : ps) {
    for (Direction dir : {Direction::kForward, Direction::kBackward}) {
      p.direction = dir;
      OwnedInputs in = make_inputs(p, {.offset = 100.0, .spread = 1.0, .constant = false, .seed = 11});
      omp_set_num_threads(2);
      RunResult a = run_cpu(*impl, p, in.inputs);
      RunResult b = run_cpu(*impl, p, in.inputs);
      omp_set_num_threads(1);
      RunResult c = run_cpu(*impl, p, in.inputs);
      omp_set_num_threads(3);
      RunResult d = run_cpu(*impl, p, in.inputs);
      ASSERT_TRUE(a.status.ok() && b.status.ok() && c.status.ok() && d.status.ok());
      const auto bits = all_bits(a.out.views);
      EXPECT_EQ(bits, all_bits(b.out.views)) << to_string(p);
      EXPECT_EQ(bits, all_bits(c.out.views)) << to_string(p) << " (1 thread)";
      EXPECT_EQ(bits, all_bits(d.out.views)) << to_string(p) << " (3 threads)";
    }
  }
  omp_set_num_threads(saved);
}

TEST(CpuImpl, LargerShapesAgainstReference) {
  // Several blocks per set, several column tiles, several parts of a channels-last batch.
  auto impl = make_cpu();
  std::vector<Problem> ps;
  Problem bn = default_problem(Op::kBatchNorm, {16, 8, 32, 33});
  bn.layout = Layout::kChannelsLast;
  ps.push_back(bn);
  Problem bn2 = default_problem(Op::kBatchNorm, {3, 4, 70, 70});
  ps.push_back(bn2);
  Problem ln = default_problem(Op::kLayerNorm, {3, 20000});
  ln.normalized_shape = {20000};
  ps.push_back(ln);
  Problem ln2d = default_problem(Op::kLayerNorm2d, {2, 8, 30, 30});
  ps.push_back(ln2d);
  Problem gn = default_problem(Op::kGroupNorm, {2, 300, 5, 5});
  gn.num_groups = 3;
  gn.layout = Layout::kChannelsLast;
  ps.push_back(gn);
  Problem in = default_problem(Op::kInstanceNorm, {2, 300, 40});
  in.layout = Layout::kChannelsLast;
  ps.push_back(in);
  for (Problem p : ps) {
    for (DType t : {DType::kFloat32, DType::kFloat64}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        p.dtype = t;
        p.direction = dir;
        for (double offset : {1e3, 1e7}) {
          if (offset > 1e3 && (dir == Direction::kBackward || t != DType::kFloat32)) continue;
          const properties::Agreement a = check_against_reference(*impl, p, {.offset = offset, .spread = 1.0, .constant = false, .seed = 21});
          for (const auto& o : a.outputs) {
            if (o.name == "y" && t == DType::kFloat32) {
              EXPECT_LE(o.max_ulp, 4) << to_string(p) << " offset " << offset;
            }
          }
        }
      }
    }
  }
}

TEST(CpuImpl, NanAndInfStayInTheirSets) {
  auto impl = make_cpu();
  for (Problem p : strict_problems(DType::kFloat32)) {
    for (double bad : {std::nan(""), static_cast<double>(INFINITY)}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        p.direction = dir;
        OwnedInputs in = make_inputs(p, {.offset = 0.0, .spread = 1.0, .constant = false, .seed = 9});
        in.x.view().set_linear(5, bad);
        const auto want = reference::evaluate(p, in.inputs);
        ASSERT_TRUE(want.ok()) << want.message();
        RunResult got = run_cpu(*impl, p, in.inputs);
        ASSERT_TRUE(got.status.ok()) << got.status.message();
        // y must be NaN/inf exactly where the reference's is; dx likewise (the other outputs'
        // non-finite forms are reported, not required).
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

/// A view of the same logical values as `dense` stored with the dims permuted by `perm`
/// (storage dim i holds logical dim perm[i]) and, optionally, every other element of the
/// innermost storage dim skipped. The returned tensor owns the storage.
struct StridedCopy {
  Tensor storage;
  TensorView view;
};
StridedCopy strided_copy(const TensorView& dense, const std::vector<int>& perm, bool sliced) {
  const int r = dense.rank();
  std::vector<std::int64_t> sshape(r);
  for (int i = 0; i < r; ++i) sshape[i] = dense.shape[perm[i]];
  if (sliced) sshape[r - 1] *= 2;
  StridedCopy s;
  s.storage = Tensor::empty(dense.dtype, sshape);
  s.storage.fill(std::nan(""));
  const auto sstr = contiguous_strides(sshape);
  s.view.data = s.storage.data();
  s.view.dtype = dense.dtype;
  s.view.shape = dense.shape;
  s.view.strides.assign(r, 0);
  for (int i = 0; i < r; ++i) s.view.strides[perm[i]] = sstr[i] * (sliced && i == r - 1 ? 2 : 1);
  for (std::int64_t i = 0; i < dense.numel(); ++i) s.view.set_linear(i, dense.get_linear(i));
  return s;
}

TEST(CpuImpl, StridedViewsGiveTheSameBitsAsContiguous) {
  auto impl = make_cpu();
  std::vector<Problem> ps = strict_problems(DType::kFloat32);
  Problem hp = default_problem(Op::kGroupNorm, {2, 4, 3, 5});
  hp.num_groups = 2;
  hp.dtype = DType::kBFloat16;
  ps.push_back(hp);
  for (Problem p : ps) {
    if (p.layout != Layout::kContiguous) continue;
    for (Direction dir : {Direction::kForward, Direction::kBackward}) {
      p.direction = dir;
      OwnedInputs in = make_inputs(p, {.offset = 10.0, .spread = 1.0, .constant = false, .seed = 5});
      RunResult base = run_cpu(*impl, p, in.inputs);
      ASSERT_TRUE(base.status.ok()) << base.status.message();
      const auto want = all_bits(base.out.views);
      const int r = in.x.view().rank();
      std::vector<std::vector<int>> perms;
      std::vector<int> id(r), rev(r);
      for (int i = 0; i < r; ++i) id[i] = i, rev[i] = r - 1 - i;
      perms.push_back(id);
      perms.push_back(rev);
      for (const auto& perm : perms) {
        for (bool sliced : {false, true}) {
          if (perm == id && !sliced) continue;
          StridedCopy xs = strided_copy(in.x.view(), perm, sliced);
          OwnedInputs in2 = make_inputs(p, {.offset = 10.0, .spread = 1.0, .constant = false, .seed = 5});
          in2.inputs.x = xs.view;
          StridedCopy dys;
          if (dir == Direction::kBackward) {
            dys = strided_copy(in.grad_output.view(), perm, sliced);
            in2.inputs.grad_output = dys.view;
          }
          RunResult got = run_cpu(*impl, p, in2.inputs);
          ASSERT_TRUE(got.status.ok()) << got.status.message();
          EXPECT_EQ(all_bits(got.out.views), want) << to_string(p) << " sliced=" << sliced;
        }
      }
    }
  }
}

}  // namespace
}  // namespace normcheck::testing

namespace normcheck::testing {
namespace {

/// The same inputs as float64 values (every float32 is a float64), for the float64 reference:
/// its y is correctly rounded to double, the "exact" value the absolute errors below are against.
OwnedInputs as_float64(const OwnedInputs& in, const Problem& p64) {
  OwnedInputs o;
  auto copy = [&](const Tensor& t, Layout layout) {
    std::vector<double> v(static_cast<std::size_t>(t.numel()));
    for (std::int64_t i = 0; i < t.numel(); ++i) v[i] = t.view().get_linear(i);
    return Tensor::from_values(DType::kFloat64, t.view().shape, v, layout);
  };
  o.x = copy(in.x, p64.layout);
  o.inputs.x = o.x.view();
  if (in.inputs.weight) {
    o.weight = copy(in.weight, Layout::kContiguous);
    o.inputs.weight = o.weight.view();
  }
  if (in.inputs.bias) {
    o.bias = copy(in.bias, Layout::kContiguous);
    o.inputs.bias = o.bias.view();
  }
  if (in.inputs.running_mean) {
    o.running_mean = copy(in.running_mean, Layout::kContiguous);
    o.running_var = copy(in.running_var, Layout::kContiguous);
    o.inputs.running_mean = o.running_mean.view();
    o.inputs.running_var = o.running_var.view();
    o.inputs.num_batches_tracked = in.inputs.num_batches_tracked;
  }
  return o;
}

/// Issue 3's accuracy cases, with LibTorch 1.13's CPU float32 figures beside ours: absolute error
/// of y against the exact value for rows of 64, spread 1, at offsets 0, 1e4, 1e6 (LibTorch: 5e-7,
/// 1e-3, 0.1), LayerNorm and channels-last BatchNorm; and a constant 1234.5 input (LibTorch:
/// 0.004 BatchNorm, 0.011 LayerNorm, instead of 0). Ours is correctly rounded, so the bound
/// asserted is half an ULP of the largest |y| (|y| < 4 here: 2^-22 / 2 * 4 = 2.4e-7), and 0 for
/// the constant input.
TEST(CpuImpl, AccuracyOnIssue3CasesWithinHalfAnUlp) {
  auto impl = make_cpu();
  Problem ln = default_problem(Op::kLayerNorm, {256, 64});
  ln.normalized_shape = {64};
  Problem bn = default_problem(Op::kBatchNorm, {16, 64, 8, 8});
  bn.layout = Layout::kChannelsLast;
  for (Problem p : {ln, bn}) {
    p.dtype = DType::kFloat32;
    for (double offset : {0.0, 1e4, 1e6, 1234.5}) {
      const bool constant = offset == 1234.5;
      OwnedInputs in = make_inputs(p, {.offset = offset, .spread = 1.0, .constant = constant, .seed = 17});
      RunResult got = run_cpu(*impl, p, in.inputs);
      ASSERT_TRUE(got.status.ok()) << got.status.message();
      Problem p64 = p;
      p64.dtype = DType::kFloat64;
      OwnedInputs in64 = as_float64(in, p64);
      const auto want = reference::evaluate(p64, in64.inputs);
      ASSERT_TRUE(want.ok()) << want.message();
      double err = 0, ymax = 0;
      for (std::int64_t i = 0; i < want->y.numel(); ++i) {
        const double exact = want->y.view().get_linear(i);
        err = std::max(err, std::abs(got.out.views.y.get_linear(i) - exact));
        ymax = std::max(ymax, std::abs(exact));
      }
      std::printf("%s float32, %s offset %g: max |y - exact| = %.3g (max |y| %.2f)\n", name(p.op).data(),
                  constant ? "constant" : "spread 1,", offset, err, ymax);
      ASSERT_LT(ymax, 4.0);
      EXPECT_LE(err, constant ? 0.0 : 0x1p-22) << to_string(p) << " offset " << offset;
    }
  }
}

/// Outputs past the last-level cache are stored non-temporally: a row of a large LayerNorm must
/// have the bits of the same row normalized on its own (a call small enough for cached stores).
TEST(CpuImpl, StreamedLargeOutputsHaveTheBitsOfSmallCalls) {
  auto impl = make_cpu();
  Problem big = default_problem(Op::kLayerNorm, {1100, 4100});  // 2 x 18 MB > 32 MiB
  big.normalized_shape = {4100};
  for (Direction dir : {Direction::kForward, Direction::kBackward}) {
    big.direction = dir;
    OwnedInputs in = make_inputs(big, {.offset = 100.0, .spread = 1.0, .constant = false, .seed = 23});
    RunResult all = run_cpu(*impl, big, in.inputs);
    ASSERT_TRUE(all.status.ok()) << all.status.message();
    for (std::int64_t row : {0, 1, 537, 1099}) {
      Problem one = big;
      one.shape = {1, 4100};
      OwnedInputs in1 = make_inputs(one, {.offset = 100.0, .spread = 1.0, .constant = false, .seed = 23});
      for (std::int64_t c = 0; c < 4100; ++c) {
        in1.x.view().set_linear(c, in.x.view().get_linear(row * 4100 + c));
        in1.weight.view().set_linear(c, in.weight.view().get_linear(c));
        in1.bias.view().set_linear(c, in.bias.view().get_linear(c));
        if (dir == Direction::kBackward)
          in1.grad_output.view().set_linear(c, in.grad_output.view().get_linear(row * 4100 + c));
      }
      RunResult r1 = run_cpu(*impl, one, in1.inputs);
      ASSERT_TRUE(r1.status.ok()) << r1.status.message();
      for (std::int64_t c = 0; c < 4100; ++c) {
        ASSERT_EQ(r1.out.views.y.get_linear(c), all.out.views.y.get_linear(row * 4100 + c)) << row << " " << c;
        if (dir == Direction::kBackward) {
          ASSERT_EQ(r1.out.views.dx->get_linear(c), all.out.views.dx->get_linear(row * 4100 + c)) << row << " " << c;
        }
      }
    }
  }
}

// bfloat16 rows come out with the bits of the double formula rounded once: in eval mode the
// double path's value is the formula below on the running statistics, so the expected bits are
// derived here from it, element by element, with the kernels' own from_double<BF16> (one
// rounding from double: correctly rounded, not double-rounded through float). 11.5 million
// elements at offsets to 1e4, half of them with beta cancelling most of k (x - mean), put many y
// next to a bfloat16 midpoint. (A float fast path guarded by a per-element error bound passed
// this test, and failed it with a tenth of its bound, but was slower: docs/performance.md.)
TEST(CpuImpl, BFloat16RowsHaveTheDoubleFormulasBits) {
  auto impl = make_cpu();
  std::mt19937_64 rng(77);
  std::int64_t elements = 0, mismatches = 0;
  for (int config = 0; config < 24; ++config) {
    const double offset = std::array<double, 4>{0.0, 3.0, 100.0, 1e4}[config % 4];
    Problem p = default_problem(Op::kBatchNorm, {2, 6, 40000 + config});
    p.dtype = DType::kBFloat16;
    p.mode = Mode::kEval;
    OwnedInputs in = make_inputs(p, {.offset = offset, .spread = 1.0 + config, .constant = false, .seed = 100u + config});
    // Running statistics near the data (mean offset + U(-1, 1), var spread^2 * U(0.25, 4)); in
    // odd configs the mean 30 spreads away and beta cancelling most of k (x - mean), so y is
    // small beside |k (x - mean)| and the float roundings are large against y's spacing.
    std::uniform_real_distribution<double> u(-1, 1);
    const double spread = 1.0 + config;
    for (std::int64_t c = 0; c < 6; ++c) {
      const bool cancel = config % 2 == 1;
      in.running_mean.view().set_linear(c, offset + (cancel ? -30 * spread * (1.5 + u(rng) / 2) : u(rng)));
      in.running_var.view().set_linear(c, spread * spread * std::exp2(2 * u(rng)));
      if (config % 3 == 0) in.weight.view().set_linear(c, -in.weight.view().get_linear(c));
      if (cancel) {
        const double k = in.weight.view().get_linear(c) / std::sqrt(in.running_var.view().get_linear(c));
        in.bias.view().set_linear(c, -k * (offset - in.running_mean.view().get_linear(c)) + u(rng));
      }
    }
    RunResult got = run_cpu(*impl, p, in.inputs);
    ASSERT_TRUE(got.status.ok()) << got.status.message();
    const TensorView x = in.x.view(), y = got.out.views.y;
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const std::int64_t c = (i / p.shape[2]) % 6;
      // Scalar math of the double path: Y = ((X - mean) - 0) * (rstd * gamma) + beta, rounded once.
      const double rstd = 1.0 / std::sqrt(in.running_var.view().get_linear(c) + effective_eps(p));
      const double k = rstd * in.weight.view().get_linear(c);
      const double want = impls::cpu::to_double(impls::cpu::from_double<impls::cpu::BF16>(
          ((x.get_linear(i) - in.running_mean.view().get_linear(c)) - 0.0) * k + in.bias.view().get_linear(c)));
      if (y.get_linear(i) != want) ++mismatches;
      ++elements;
    }
  }
  EXPECT_EQ(mismatches, 0) << "of " << elements << " elements";
  EXPECT_GT(elements, 11000000);
}

}  // namespace
}  // namespace normcheck::testing
