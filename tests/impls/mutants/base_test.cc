// The mutants' base ("mutants-base") against the reference: it must be correct, within the
// bound, on every op x dtype x mode x direction x layout x affine/tracking flags of small awkward
// shapes, under every profile's running statistics, on empty and strided inputs, and at offsets
// up to 1e7 on sets up to ~1e5 elements (float32 accumulation, two passes). Every mutant is this
// code with one hook changed, so its disagreements are its bug's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "tests/impls/mutants/harness.h"

namespace normcheck::testing {
namespace {

struct ShapeCase {
  ShapeCase(std::vector<std::int64_t> s, std::int64_t g = 1, std::vector<std::int64_t> ns = {})
      : shape(std::move(s)), groups(g), nshape(std::move(ns)) {}
  std::vector<std::int64_t> shape;
  std::int64_t groups = 1;           // group_norm
  std::vector<std::int64_t> nshape;  // layer_norm / rms_norm
};

/// Small shapes with odd sizes, single elements, sets of one, and C not a multiple of 8.
std::vector<ShapeCase> awkward_shapes(Op op) {
  switch (op) {
    case Op::kBatchNorm:
      return {{{1, 3}},     {{17, 3}},      {{2, 3, 5}},    {{1, 3, 17}},
              {{2, 11, 3}}, {{2, 3, 4, 4}}, {{1, 2, 1, 1}}, {{2, 2, 3, 2, 2}}};
    case Op::kInstanceNorm:
      return {{{2, 3, 17}}, {{1, 3, 4, 4}}, {{2, 2, 1}}, {{1, 11, 3}}, {{2, 2, 2, 3, 2}}};
    case Op::kGroupNorm:
      return {{{2, 6, 5}, 3}, {{1, 4, 3, 3}, 2}, {{2, 12}, 4}, {{3, 6, 7}, 6}, {{1, 3, 1}, 1}};
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      return {
          {{3, 17}, 1, {17}}, {{2, 3, 4}, 1, {3, 4}}, {{37}, 1, {37}}, {{1, 1}, 1, {1}}, {{5, 3}, 1, {3}}};
    case Op::kLayerNorm2d:
      return {{{2, 3, 4, 5}}, {{1, 17, 3}}, {{2, 11, 2, 2}}, {{1, 1, 3}}};
  }
  return {};
}

Values uniform(double offset, double spread) { return {ValueKind::kUniform, offset, spread}; }

bool has_channels(Op op) { return op != Op::kLayerNorm && op != Op::kRmsNorm; }
bool stateful(Op op) { return op == Op::kBatchNorm || op == Op::kInstanceNorm; }

/// Runs p through the base and the reference on the same inputs: the same refusal, or every
/// output within the bound. Returns the agreement (empty on a matching refusal).
properties::Agreement check_base(impls::Implementation& base, Problem p, const Values& values,
                                 impls::WitnessInputs* given = nullptr) {
  impls::WitnessInputs owned;
  p.values = values;
  if (given == nullptr) {
    Expected<impls::WitnessInputs> made = impls::make_witness_inputs(p);
    EXPECT_TRUE(made.ok()) << to_string(p) << ": " << made.message();
    if (!made.ok()) return {};
    owned = std::move(*made);
  }
  const Inputs& in = given ? given->inputs : owned.inputs;
  const std::string repro = "REPRO: normcheck repro '" + to_string(p) + "'";
  const auto want = reference::evaluate(p, in);
  RunResult got = run_impl(base, p, in);
  if (!want) {
    EXPECT_FALSE(got.status.ok()) << repro << "\nreference refused: " << want.message();
    if (!got.status.ok()) {
      EXPECT_EQ(got.status.message(), want.message()) << repro;
    }
    return {};
  }
  EXPECT_TRUE(got.status.ok()) << repro << "\n" << got.status.message();
  if (!got.status.ok()) return {};
  EXPECT_TRUE(got.out.check_guards().ok()) << repro << "\n" << got.out.check_guards().message();
  properties::Agreement a = properties::compare(p, *want, got.out.views, 1.0);
  EXPECT_TRUE(a.ok()) << repro << "\n" << a.summary();
  EXPECT_FALSE(a.outputs.empty()) << repro;
  return a;
}

TEST(MutantsBase, AgreesWithReferenceOnEveryOpDtypeModeDirectionLayoutAndFlags) {
  auto base = impls::make_mutants_base();
  int cases = 0;
  for (Op op : kAllOps) {
    for (const ShapeCase& sc : awkward_shapes(op)) {
      for (DType t : kAllDTypes) {
        for (Layout layout : kAllLayouts) {
          if (layout == Layout::kChannelsLast && (!has_channels(op) || sc.shape.size() < 3)) continue;
          if (layout == Layout::kPermuted && sc.shape.size() < 2) continue;
          for (Mode mode : {Mode::kTrain, Mode::kEval}) {
            for (Direction dir : {Direction::kForward, Direction::kBackward}) {
              for (int flags = 0; flags < 4; ++flags) {  // affine+bias, affine only, none, bias only
                for (int track = 0; track < 2; ++track) {
                  if (track == 1 && !stateful(op)) continue;
                  Problem p = default_problem(op, sc.shape);
                  p.dtype = t;
                  if (op == Op::kGroupNorm) p.num_groups = sc.groups;
                  if (!sc.nshape.empty()) p.normalized_shape = sc.nshape;
                  p.layout = layout;
                  p.mode = mode;
                  p.direction = dir;
                  p.affine = flags < 2;
                  p.bias = (flags == 0 || flags == 3) && op != Op::kRmsNorm;
                  if (flags == 3 && !p.bias) continue;  // rms_norm has no bias
                  if (stateful(op)) p.track_running_stats = track == 1;
                  p.seed = static_cast<std::uint64_t>(++cases);
                  ASSERT_TRUE(validate(p).ok()) << to_string(p) << ": " << validate(p).message();
                  check_base(*base, p, uniform(0.5, 2.0));
                }
              }
            }
          }
        }
      }
    }
  }
  std::printf("base smoke cases: %d\n", cases);
}

TEST(MutantsBase, RunningStatisticsOfEveryProfileAndTheCumulativeAverage) {
  auto base = impls::make_mutants_base();
  std::uint64_t seed = 1000;
  for (Op op : {Op::kBatchNorm, Op::kInstanceNorm}) {
    for (Profile prof : kAllProfiles) {
      for (DType t : kAllDTypes) {
        for (int mom = 0; mom < 2; ++mom) {
          if (mom == 1 && prof != Profile::kPyTorch) continue;
          for (const std::vector<std::int64_t>& shape :
               {std::vector<std::int64_t>{3, 4, 5}, {1, 4, 1}, {2, 3, 3, 3}}) {
            Problem p = default_problem(op, shape, prof);
            p.dtype = t;
            p.track_running_stats = true;
            if (mom == 1) p.momentum = std::nullopt;
            for (Mode mode : {Mode::kTrain, Mode::kEval}) {
              for (Direction dir : {Direction::kForward, Direction::kBackward}) {
                p.mode = mode;
                p.direction = dir;
                p.seed = ++seed;
                check_base(*base, p, uniform(0.25, 3.0));
              }
            }
          }
        }
      }
    }
  }
}

TEST(MutantsBase, OnnxRunningMeanTakesTheFloat32Momentum) {
  auto base = impls::make_mutants_base();
  EXPECT_EQ(onnx_momentum_case_running_mean(*base), onnx_momentum_case_expected());
  EXPECT_NE(onnx_momentum_case_expected(), 100.0);  // the double momentum's value
}

TEST(MutantsBase, EmptyShapes) {
  auto base = impls::make_mutants_base();
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
      check_base(*base, p, {});
    }
  }
}

/// The float32 two-pass base holds the bound where the mean dwarfs the spread: sets of up to
/// ~1e5 elements at |mean|/std up to ~1.7e7 (the bound admits the float32 mean's error, which
/// then enters the variance squared: docs/tolerances.md's E_var carries 2 E_mean^2).
TEST(MutantsBase, Float32AtOffsetsUpTo1e7OnSetsUpTo1e5) {
  auto base = impls::make_mutants_base();
  std::vector<Problem> ps;
  Problem ln = default_problem(Op::kLayerNorm, {2, 50000});
  ln.normalized_shape = {50000};
  ps.push_back(ln);
  Problem bn = default_problem(Op::kBatchNorm, {16, 3, 45, 45});  // 32400 per channel
  bn.layout = Layout::kChannelsLast;
  ps.push_back(bn);
  Problem gn = default_problem(Op::kGroupNorm, {2, 12, 9, 9});
  gn.num_groups = 3;
  ps.push_back(gn);
  Problem rms = default_problem(Op::kRmsNorm, {4, 3000});
  rms.normalized_shape = {3000};
  ps.push_back(rms);
  Problem big = default_problem(Op::kLayerNorm, {1, 100000});
  big.normalized_shape = {100000};
  ps.push_back(big);
  std::map<double, double> worst;  // offset -> the largest fraction of the bound y used
  for (Problem p : ps) {
    for (double offset : {0.0, 1e4, 1e7}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        if (dir == Direction::kBackward && p.shape[0] * p.shape[1] > 1000 && offset > 0) continue;
        p.direction = dir;
        p.seed = 7;
        for (const properties::OutputAgreement& o : check_base(*base, p, uniform(offset, 1.0)).outputs)
          if (o.name == "y") worst[offset] = std::max(worst[offset], o.max_bound_fraction);
      }
    }
  }
  for (const auto& [offset, fraction] : worst)
    std::printf("float32 y, offset %g, spread 1: at most %.3g of the bound\n", offset, fraction);
}

TEST(MutantsBase, SixteenBitDataAtOffsets) {
  auto base = impls::make_mutants_base();
  for (DType t : {DType::kFloat16, DType::kBFloat16}) {
    for (double offset : {0.0, 100.0, 1000.0}) {
      Problem ln = default_problem(Op::kLayerNorm, {4, 2048});
      ln.normalized_shape = {2048};
      ln.dtype = t;
      Problem bn = default_problem(Op::kBatchNorm, {8, 5, 7, 7});
      bn.dtype = t;
      for (Problem p : {ln, bn}) {
        for (Direction dir : {Direction::kForward, Direction::kBackward}) {
          p.direction = dir;
          p.seed = 3;
          check_base(*base, p, uniform(offset, 1.0));
        }
      }
    }
  }
}

TEST(MutantsBase, ConstantSetsNanAndInf) {
  auto base = impls::make_mutants_base();
  std::vector<Problem> ps;
  Problem ln = default_problem(Op::kLayerNorm, {4, 64});
  ln.normalized_shape = {64};
  ps.push_back(ln);
  ps.push_back(default_problem(Op::kBatchNorm, {4, 3, 5}));
  Problem gn = default_problem(Op::kGroupNorm, {2, 6, 5});
  gn.num_groups = 3;
  ps.push_back(gn);
  for (DType t : kAllDTypes) {
    for (Problem p : ps) {
      p.dtype = t;
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        p.direction = dir;
        check_base(*base, p, {ValueKind::kConstant, 1234.5, 1});
        check_base(*base, p, {ValueKind::kNaN, 0, 1});
        check_base(*base, p, {ValueKind::kInf, 0, 1});
        check_base(*base, p, {ValueKind::kNormal, 3, 1e-3});
      }
    }
  }
}

/// Inputs through arbitrary strides: x and dy stored with the dims reversed and every other
/// element of the innermost storage dim skipped.
TEST(MutantsBase, StridedViews) {
  auto base = impls::make_mutants_base();
  std::vector<Problem> ps;
  ps.push_back(default_problem(Op::kBatchNorm, {3, 5, 4, 2}));
  Problem ln = default_problem(Op::kLayerNorm, {6, 3, 5});
  ln.normalized_shape = {3, 5};
  ps.push_back(ln);
  Problem gn = default_problem(Op::kGroupNorm, {2, 4, 3, 5});
  gn.num_groups = 2;
  gn.dtype = DType::kBFloat16;
  ps.push_back(gn);
  for (Problem p : ps) {
    p.direction = Direction::kBackward;
    impls::WitnessInputs in = *impls::make_witness_inputs(p);
    auto restride = [](const Tensor& dense, Tensor& storage) {
      const int r = dense.view().rank();
      std::vector<std::int64_t> sshape(dense.shape().rbegin(), dense.shape().rend());
      sshape[static_cast<std::size_t>(r - 1)] *= 2;
      storage = Tensor::empty(dense.dtype(), sshape);
      storage.fill(NAN);
      const std::vector<std::int64_t> sstr = contiguous_strides(sshape);
      TensorView v{storage.data(), dense.dtype(), dense.shape(),
                   std::vector<std::int64_t>(static_cast<std::size_t>(r))};
      for (int i = 0; i < r; ++i)
        v.strides[static_cast<std::size_t>(r - 1 - i)] =
            sstr[static_cast<std::size_t>(i)] * (i == r - 1 ? 2 : 1);
      for (std::int64_t i = 0; i < dense.numel(); ++i) v.set_linear(i, dense.view().get_linear(i));
      return v;
    };
    Tensor xs, dys;
    in.inputs.x = restride(in.x, xs);
    in.inputs.grad_output = restride(in.grad_output, dys);
    check_base(*base, p, {}, &in);
  }
}

TEST(MutantsBase, RefusesWhatPyTorchRefuses) {
  auto base = impls::make_mutants_base();
  check_base(*base, default_problem(Op::kBatchNorm, {1, 3}), {});
  Problem in = default_problem(Op::kInstanceNorm, {2, 3, 1});
  in.track_running_stats = true;
  check_base(*base, in, {});
  Problem cumulative = default_problem(Op::kInstanceNorm, {2, 3, 4});
  cumulative.track_running_stats = true;
  cumulative.momentum = std::nullopt;
  check_base(*base, cumulative, {});
}

}  // namespace
}  // namespace normcheck::testing
