// The reference's errors: the profiles' refusals (PyTorch's one value per channel in training)
// with the framework's message, what Keras/ONNX return instead, and "Expected X, but got Y" for
// inputs that do not match the problem.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"
#include "tests/reference/harness.h"
#include "tests/reference/oracle.h"

namespace normcheck {
namespace {

using oracle::Case;
using testing::make_inputs;
using Dims = std::vector<std::int64_t>;

/// A case with simple deterministic inputs for every tensor the problem needs.
Case simple_case(Problem p) {
  Case c;
  c.problem = std::move(p);
  const Problem& q = c.problem;
  const std::int64_t numel = numel_of(q.shape);
  for (std::int64_t i = 0; i < numel; ++i)
    c.x.push_back(round_to(q.dtype, 0.25 * static_cast<double>(i % 7) - 0.5));
  const std::int64_t a = numel_of(affine_shape(q));
  for (std::int64_t i = 0; i < a; ++i) {
    if (q.affine) c.weight.push_back(1.0 + 0.125 * static_cast<double>(i));
    if (q.bias) c.bias.push_back(-0.25 * static_cast<double>(i));
  }
  if (tracks_running_stats(q)) {
    for (std::int64_t ch = 0; ch < q.shape[1]; ++ch) {
      c.running_mean.push_back(0.5);
      c.running_var.push_back(2.0);
    }
    c.num_batches_tracked = 3;
  }
  if (q.direction == Direction::kBackward) {
    for (std::int64_t i = 0; i < numel; ++i)
      c.grad_output.push_back(0.5 - 0.125 * static_cast<double>(i % 5));
  }
  return c;
}

Expected<reference::Result> run(const Case& c) {
  testing::OwnedInputs in = make_inputs(c);
  return reference::evaluate(c.problem, in.inputs);
}

/// "Expected X, but got Y" or the framework's own "Expected ..." message.
void expect_expected_message(const std::string& message) {
  EXPECT_EQ(message.rfind("Expected ", 0), 0u) << "message: " << message;
}

// ---------------------------------------------------------------------------------------------
// Profiles' refusals.

TEST(ProfileErrors, PyTorchBatchNormTrainingWithOneValuePerChannel) {
  struct Shape {
    Dims shape;
    std::string text;
  };
  for (const Shape& s : {Shape{{1, 3}, "[1, 3]"}, Shape{{1, 3, 1}, "[1, 3, 1]"},
                         Shape{{1, 3, 1, 1}, "[1, 3, 1, 1]"}, Shape{{1, 2, 1, 1, 1}, "[1, 2, 1, 1, 1]"}}) {
    for (bool tracked : {true, false}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        Problem p = default_problem(Op::kBatchNorm, s.shape);
        p.track_running_stats = tracked;
        p.direction = dir;
        SCOPED_TRACE(to_string(p));
        const Expected<reference::Result> r = run(simple_case(p));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.message(),
                  "Expected more than 1 value per channel when training, got input size " + s.text);
      }
    }
  }
  // Without tracking, eval mode also uses batch statistics: still refused.
  Problem p = default_problem(Op::kBatchNorm, {1, 3});
  p.track_running_stats = false;
  p.mode = Mode::kEval;
  EXPECT_EQ(run(simple_case(p)).message(),
            "Expected more than 1 value per channel when training, got input size [1, 3]");
}

TEST(ProfileErrors, PyTorchBatchNormEvalWithOneValueUsesTheRunningStatistics) {
  Problem p = default_problem(Op::kBatchNorm, {1, 3});
  p.mode = Mode::kEval;
  const Case c = simple_case(p);
  const Expected<reference::Result> r = run(c);
  ASSERT_TRUE(r.ok()) << r.message();
  const oracle::Outputs want = oracle::solve(c);
  EXPECT_EQ(r->y.values(), want.y);
  EXPECT_FALSE(r->mean.has_value());
}

TEST(ProfileErrors, KerasAndOnnxDefineOneValuePerChannelAsZeroVariance) {
  for (Profile profile : {Profile::kKeras, Profile::kOnnx}) {
    for (Direction dir : {Direction::kForward, Direction::kBackward}) {
      Problem p = default_problem(Op::kBatchNorm, {1, 3}, profile);
      p.direction = dir;
      SCOPED_TRACE(to_string(p));
      const Case c = simple_case(p);
      const Expected<reference::Result> r = run(c);
      ASSERT_TRUE(r.ok()) << r.message();
      // x - mean = 0: y = beta exactly; var = 0: running_var = momentum * old.
      EXPECT_EQ(r->y.values(), c.bias);
      const oracle::Outputs want = oracle::solve(c);
      EXPECT_EQ(r->running_mean->values(), *want.running_mean);
      EXPECT_EQ(r->running_var->values(), *want.running_var);
      for (double v : r->running_var->values()) EXPECT_EQ(v, round_to(p.dtype, *p.momentum * 2.0));
      EXPECT_EQ(r->num_batches_tracked, c.num_batches_tracked)
          << "keras/onnx leave num_batches_tracked alone";
      EXPECT_EQ(r->rstd->values(), *want.rstd);
      if (dir == Direction::kBackward) {
        EXPECT_EQ(r->dx->values(), *want.dx);
        EXPECT_EQ(r->dweight->values(), *want.dweight);
      }
    }
  }
}

TEST(ProfileErrors, PyTorchInstanceNormTrainingWithOneSpatialElement) {
  for (const Dims& shape : {Dims{2, 3, 1}, Dims{1, 2, 1, 1}}) {
    for (bool tracked : {true, false}) {
      Problem p = default_problem(Op::kInstanceNorm, shape);
      p.track_running_stats = tracked;
      SCOPED_TRACE(to_string(p));
      const Expected<reference::Result> r = run(simple_case(p));
      ASSERT_FALSE(r.ok());
      std::string text = "[";
      for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
      EXPECT_EQ(r.message(),
                "Expected more than 1 spatial element when training, got input size " + text + "]");
    }
  }
  // Keras defines it (var = 0): y = beta.
  Problem p = default_problem(Op::kInstanceNorm, {2, 3, 1}, Profile::kKeras);
  p.affine = p.bias = true;
  const Case c = simple_case(p);
  const Expected<reference::Result> r = run(c);
  ASSERT_TRUE(r.ok()) << r.message();
  std::vector<double> beta_per_element;
  for (int n = 0; n < 2; ++n) beta_per_element.insert(beta_per_element.end(), c.bias.begin(), c.bias.end());
  EXPECT_EQ(r->y.values(), beta_per_element);
}

TEST(ProfileErrors, PyTorchInstanceNormHasNoCumulativeAverageNorBatchCounter) {
  Problem p = default_problem(Op::kInstanceNorm, {2, 3, 4});
  p.track_running_stats = true;
  p.momentum = std::nullopt;
  const Expected<reference::Result> refused = run(simple_case(p));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.message(),
            "Expected a momentum value for instance_norm training with track_running_stats=1 (momentum=none, "
            "the cumulative average, is batch_norm's), but got none");
  Problem eval = p;
  eval.mode = Mode::kEval;  // the momentum plays no part in eval
  EXPECT_TRUE(run(simple_case(eval)).ok());
  p.momentum = 0.1;
  const Case c = simple_case(p);
  const Expected<reference::Result> r = run(c);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->num_batches_tracked, c.num_batches_tracked) << "InstanceNorm never counts batches";
  Problem bn = default_problem(Op::kBatchNorm, {2, 3, 4});
  const Case cb = simple_case(bn);
  EXPECT_EQ(run(cb)->num_batches_tracked, cb.num_batches_tracked + 1);
}

TEST(ProfileErrors, OpsWithoutStateAcceptOneValuePerSet) {
  // layer_norm over one element, group_norm with one element per group: var = 0, y = beta.
  Problem ln = default_problem(Op::kLayerNorm, {4, 1});
  const Case c = simple_case(ln);
  const Expected<reference::Result> r = run(c);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->y.values(), std::vector<double>(4, c.bias[0]));
}

// ---------------------------------------------------------------------------------------------
// Inputs that do not match the problem.

struct Mismatch {
  const char* what;
  Problem problem;
  std::function<void(testing::OwnedInputs&)> spoil;
  const char* message_start;  ///< the start of the expected message
};

TEST(InputErrors, EveryMismatchIsAnExpectedMessage) {
  const Problem bn = default_problem(Op::kBatchNorm, {4, 3, 2});
  Problem bn_backward = bn;
  bn_backward.direction = Direction::kBackward;
  Problem bn_no_affine = bn;
  bn_no_affine.affine = bn_no_affine.bias = false;
  Problem bn_untracked = bn;
  bn_untracked.track_running_stats = false;
  const Problem ln = default_problem(Op::kLayerNorm, {2, 3, 4});  // normalized_shape (4)
  Tensor wrong_dtype = Tensor::from_values(DType::kFloat64, {3}, std::vector<double>{1, 2, 3});
  Tensor wrong_shape = Tensor::from_values(DType::kFloat32, {4}, std::vector<double>{1, 2, 3, 4});
  Tensor wrong_x = Tensor::from_values(DType::kFloat32, {4, 3}, std::vector<double>(12, 1.0));
  Tensor ln_weight_c = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{1, 2, 3});
  Tensor dy = Tensor::from_values(DType::kFloat32, {4, 3, 2}, std::vector<double>(24, 1.0));
  Tensor stats = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{0, 1, 2});

  const std::vector<Mismatch> cases = {
      {"missing weight", bn, [](auto& in) { in.inputs.weight.reset(); }, "Expected a weight of shape [3]"},
      {"missing bias", bn, [](auto& in) { in.inputs.bias.reset(); }, "Expected a bias of shape [3]"},
      {"extra weight", bn_no_affine, [&](auto& in) { in.inputs.weight = stats.view(); },
       "Expected no weight"},
      {"extra bias", bn_no_affine, [&](auto& in) { in.inputs.bias = stats.view(); }, "Expected no bias"},
      {"weight dtype", bn, [&](auto& in) { in.inputs.weight = wrong_dtype.view(); },
       "Expected weight of dtype float32, but got float64"},
      {"weight shape", bn, [&](auto& in) { in.inputs.weight = wrong_shape.view(); },
       "Expected weight of shape [3], but got [4]"},
      {"layer_norm weight over C", ln, [&](auto& in) { in.inputs.weight = ln_weight_c.view(); },
       "Expected weight of shape [4], but got [3]"},
      {"x shape", bn, [&](auto& in) { in.inputs.x = wrong_x.view(); },
       "Expected x of shape [4, 3, 2], but got [4, 3]"},
      {"x dtype", bn, [&](auto& in) { in.inputs.x.dtype = DType::kFloat16; },
       "Expected x of dtype float32, but got float16"},
      {"missing grad_output", bn_backward, [](auto& in) { in.inputs.grad_output.reset(); },
       "Expected a grad_output"},
      {"grad_output for forward", bn, [&](auto& in) { in.inputs.grad_output = dy.view(); },
       "Expected no grad_output"},
      {"grad_output shape", bn_backward, [&](auto& in) { in.inputs.grad_output = wrong_x.view(); },
       "Expected grad_output of shape [4, 3, 2], but got [4, 3]"},
      {"missing running_mean", bn, [](auto& in) { in.inputs.running_mean.reset(); },
       "Expected a running_mean"},
      {"missing running_var", bn, [](auto& in) { in.inputs.running_var.reset(); }, "Expected a running_var"},
      {"extra running_mean", bn_untracked, [&](auto& in) { in.inputs.running_mean = stats.view(); },
       "Expected no running_mean"},
      {"running_var dtype", bn, [&](auto& in) { in.inputs.running_var = wrong_dtype.view(); },
       "Expected running_var of dtype float32, but got float64"},
      {"negative num_batches_tracked", bn, [](auto& in) { in.inputs.num_batches_tracked = -1; },
       "Expected num_batches_tracked >= 0, but got -1"},
  };
  int checked = 0;
  for (const Mismatch& m : cases) {
    SCOPED_TRACE(m.what);
    const Case c = simple_case(m.problem);
    testing::OwnedInputs in = make_inputs(c);
    // The unspoiled inputs are fine.
    ASSERT_TRUE(reference::evaluate(m.problem, in.inputs).ok());
    m.spoil(in);
    const Expected<reference::Result> r = reference::evaluate(m.problem, in.inputs);
    ASSERT_FALSE(r.ok());
    expect_expected_message(r.message());
    EXPECT_EQ(r.message().rfind(m.message_start, 0), 0u) << "message: " << r.message();
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(cases.size()));
}

TEST(InputErrors, InvalidProblemsAreRefusedWithTheValidationMessage) {
  Problem gn = default_problem(Op::kGroupNorm, {2, 6, 5});
  gn.num_groups = 4;  // does not divide C
  Problem eps = default_problem(Op::kLayerNorm, {2, 3});
  eps.eps = -1.0;
  Problem rank = default_problem(Op::kBatchNorm, {6});
  for (const Problem& p : {gn, eps, rank}) {
    SCOPED_TRACE(to_string(p));
    reference::Inputs in;
    Tensor x = Tensor::from_values(p.dtype, p.shape,
                                   std::vector<double>(static_cast<std::size_t>(numel_of(p.shape)), 1.0));
    in.x = x.view();
    const Expected<reference::Result> r = reference::evaluate(p, in);
    ASSERT_FALSE(r.ok());
    expect_expected_message(r.message());
    EXPECT_EQ(r.message(), validate(p).message()) << "the problem's own validation message";
  }
}

}  // namespace
}  // namespace normcheck
