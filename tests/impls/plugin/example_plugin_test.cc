// The example C plugin (examples/plugin/c_norms.c) gated as any third-party plugin would be:
// through the worker and shared memory, against the reference, within the reference's bounds.
// Also: what the host puts in shared memory for every layout (the identity fixture plugin).
#include <gtest/gtest.h>

#include <cstdio>

#include "properties/comparator.h"
#include "reference/reference.h"
#include "tests/impls/plugin/plugin_test_util.h"

namespace normcheck::testing {
namespace {

struct Shape {
  std::vector<std::int64_t> shape, normalized;
};

/// Runs p through the plugin and the reference; the same error, or outputs within the bound.
void check_against_reference(impls::Implementation& impl, const Problem& p, std::uint64_t seed,
                             double offset) {
  const std::string repro = "REPRO: normcheck repro '" + to_string(p) + "'";
  ASSERT_EQ(impl.supports(p), std::nullopt) << repro;
  OwnedInputs in = make_inputs(p, seed, offset);
  const auto want = reference::evaluate(p, in.inputs);
  RunResult got = run_case(impl, p, in.inputs);
  if (!want) {
    EXPECT_EQ(got.status.message(), want.message()) << repro;
    EXPECT_TRUE(got.status.is_refusal()) << repro;  // NC_ERROR_INPUT: the framework's refusal
    return;
  }
  ASSERT_TRUE(got.status.ok()) << repro << "\n" << got.status.message();
  const properties::Agreement a = properties::compare(p, *want, got.out.views, 1.0);
  EXPECT_TRUE(a.ok()) << repro << "\n" << a.summary();
  EXPECT_FALSE(a.outputs.empty()) << repro;
}

TEST(ExamplePlugin, LayerNormAndBatchNormAgainstReference) {
  auto impl = load_ok(example_plugin());
  ASSERT_TRUE(impl);
  const std::vector<std::pair<Op, Shape>> shapes = {
      {Op::kBatchNorm, {{4, 3}, {}}},        {Op::kBatchNorm, {{2, 3, 5}, {}}},
      {Op::kBatchNorm, {{3, 2, 2, 3}, {}}},  {Op::kLayerNorm, {{3, 17}, {17}}},
      {Op::kLayerNorm, {{2, 3, 4}, {3, 4}}}, {Op::kLayerNorm, {{64}, {64}}}};
  int cases = 0;
  for (const auto& [op, s] : shapes) {
    for (Mode mode : {Mode::kTrain, Mode::kEval}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (int flags = 0; flags < 4; ++flags) {  // affine + bias, affine only, neither, bias only
          for (int track = 0; track < (op == Op::kBatchNorm ? 3 : 1); ++track) {  // off, momentum, cumulative
            Problem p = default_problem(op, s.shape);
            if (!s.normalized.empty()) p.normalized_shape = s.normalized;
            p.mode = mode;
            p.direction = dir;
            p.affine = flags < 2;
            p.bias = flags == 0 || flags == 3;  // bias only: ATen's weight=None with a bias
            if (op == Op::kBatchNorm) p.track_running_stats = track > 0;
            if (track == 2) p.momentum = std::nullopt;
            ASSERT_TRUE(validate(p).ok()) << to_string(p);
            ++cases;
            check_against_reference(*impl, p, static_cast<std::uint64_t>(cases), cases % 2 ? 0.0 : 3.0);
          }
        }
      }
    }
  }
  std::printf("example plugin cases: %d\n", cases);
}

TEST(ExamplePlugin, BatchNormOfOneValuePerChannelIsPyTorchsError) {
  auto impl = load_ok(example_plugin());
  ASSERT_TRUE(impl);
  check_against_reference(*impl, default_problem(Op::kBatchNorm, {1, 3}), 7, 0.0);
}

TEST(ExamplePlugin, RefusesWhatItDoesNotImplementWithItsReasons) {
  auto impl = load_ok(example_plugin());
  ASSERT_TRUE(impl);
  Problem gn = default_problem(Op::kGroupNorm, {2, 4, 3});
  gn.num_groups = 2;
  EXPECT_EQ(impl->supports(gn).value_or(""), "c-norms implements batch_norm and layer_norm only");
  Problem f64 = default_problem(Op::kBatchNorm, {2, 3});
  f64.dtype = DType::kFloat64;
  EXPECT_EQ(impl->supports(f64).value_or(""), "c-norms computes float32 only");
  Problem cl = default_problem(Op::kBatchNorm, {2, 3, 4, 4});
  cl.layout = Layout::kChannelsLast;
  EXPECT_EQ(impl->supports(cl).value_or(""), "c-norms reads contiguous tensors only");
  EXPECT_EQ(impl->supports(default_problem(Op::kBatchNorm, {2, 3}, Profile::kKeras)).value_or(""),
            "c-norms follows PyTorch's conventions only");
  EXPECT_EQ(impl->supports(default_problem(Op::kBatchNorm, {0, 3})).value_or(""),
            "c-norms does not handle empty tensors");
}

TEST(ExamplePlugin, NonDenseInputViewsAreCopiedInDense) {
  auto impl = load_ok(example_plugin());
  ASSERT_TRUE(impl);
  const Problem p = default_problem(Op::kBatchNorm, {3, 4, 5});
  OwnedInputs in = make_inputs(p, 11, 0.0, Layout::kStrided);  // x is a slice of a larger buffer
  ASSERT_FALSE(in.inputs.x.is_contiguous());
  const auto want = reference::evaluate(p, in.inputs);
  ASSERT_TRUE(want.ok()) << want.message();
  RunResult got = run_case(*impl, p, in.inputs);
  ASSERT_TRUE(got.status.ok()) << got.status.message();
  EXPECT_TRUE(properties::compare(p, *want, got.out.views).ok());
}

TEST(PluginSharedMemory, EveryLayoutReachesThePluginAndComesBack) {
  auto impl = load_ok(bad_plugin("identity"));
  ASSERT_TRUE(impl);
  for (Layout layout : kAllLayouts) {
    Problem p = default_problem(Op::kBatchNorm, {2, 3, 4, 5});
    p.layout = layout;
    p.direction = Direction::kBackward;
    OwnedInputs in = make_inputs(p, 5, 0.0, layout);
    RunResult r = run_case(*impl, p, in.inputs);
    ASSERT_TRUE(r.status.ok()) << name(layout) << ": " << r.status.message();
    for (std::int64_t i = 0; i < in.x.numel(); ++i) {
      ASSERT_EQ(r.out.views.y.get_linear(i), in.x.view().get_linear(i)) << name(layout) << " y[" << i << "]";
      ASSERT_EQ(r.out.views.dx->get_linear(i), in.grad_output.view().get_linear(i))
          << name(layout) << " dx[" << i << "]";
    }
  }
}

}  // namespace
}  // namespace normcheck::testing
