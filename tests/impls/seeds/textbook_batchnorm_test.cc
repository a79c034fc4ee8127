// textbook-batchnorm reproduces the seed material's batch_norm function: it agrees with the keras
// profile (momentum on the old value, biased moving variance, no batch counter, Python's doubles
// cast to the tensors' type), not with onnx, whose float32 attributes it does not round to, and
// the pytorch profile flags its running statistics by exactly the amounts the formulas predict.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "impls/seeds/seeds.h"
#include "tests/impls/seeds/harness.h"

namespace normcheck::testing {
namespace {

Problem batch_norm(std::vector<std::int64_t> shape, Profile profile = Profile::kKeras,
                   DType dtype = DType::kFloat32, Mode mode = Mode::kTrain,
                   Layout layout = Layout::kContiguous) {
  Problem p = default_problem(Op::kBatchNorm, std::move(shape), profile);
  p.dtype = dtype;
  p.mode = mode;
  p.layout = layout;
  return p;
}

// Inputs whose batch means sit away from the old running means (per-channel shifts), so that the
// momentum conventions give visibly different running statistics.
Draw shifted() {
  Draw d;
  d.offset = 0.5;
  d.channel_shift = 0.75;
  return d;
}

TEST(TextbookBatchNorm, AgreesWithTheKerasProfileInTrainingAndEval) {
  const auto impl = impls::make_textbook_batchnorm();
  const std::vector<std::int64_t> shapes[] = {{16, 3}, {1, 4}, {4, 3, 5, 5}, {2, 5, 7, 3}};
  for (Profile profile : {Profile::kKeras}) {
    for (DType t : kAllDTypes) {
      double worst[3] = {0, 0, 0};  // y, running_mean, running_var: the worst fraction of the bound
      for (Mode mode : {Mode::kTrain, Mode::kEval}) {
        for (const auto& shape : shapes) {
          for (Layout layout : {Layout::kContiguous, Layout::kChannelsLast}) {
            if (layout == Layout::kChannelsLast && shape.size() < 3) continue;
            const OwnedCase c = make_case(batch_norm(shape, profile, t, mode, layout), 21, shifted());
            const impls::OwnedOutputs got = run_impl(*impl, c);
            const properties::Agreement a = properties::compare(c.p, reference_of(c.p, c), got.views);
            ASSERT_EQ(a.outputs.size(), 3u) << a.summary();  // y, running_mean, running_var
            ASSERT_TRUE(a.ok()) << a.summary() << "  problem: " << to_string(c.p);
            for (int k = 0; k < 3; ++k) worst[k] = std::max(worst[k], a.outputs[k].max_bound_fraction);
          }
        }
      }
      std::printf(
          "textbook-batchnorm vs %s, %s: worst fraction of the bound y %.3g, running_mean %.3g, "
          "running_var %.3g\n",
          std::string(name(profile)).c_str(), std::string(name(t)).c_str(), worst[0], worst[1], worst[2]);
    }
  }
}

TEST(TextbookBatchNorm, DiffersFromOnnxWhoseMomentumIsAFloat32Attribute) {
  // ONNX Runtime holds momentum 0.9 as float32 (docs/semantics.md); the seed multiplies float64
  // buffers by the double 0.9, 1e-8 relative away: far beyond float64's bound.
  const auto impl = impls::make_textbook_batchnorm();
  const OwnedCase c = make_case(batch_norm({16, 3}, Profile::kOnnx, DType::kFloat64), 21, shifted());
  const impls::OwnedOutputs got = run_impl(*impl, c);
  const properties::Agreement a = properties::compare(c.p, reference_of(c.p, c), got.views);
  EXPECT_FALSE(a.ok()) << a.summary();
  EXPECT_NE(a.summary().find("running_mean: 3 compared, 3 beyond the bound"), std::string::npos) << a.summary();
}

TEST(TextbookBatchNorm, EvalAgreesWithThePyTorchProfileToo) {
  // Eval reads the moving statistics the same way everywhere and leaves every buffer alone.
  const auto impl = impls::make_textbook_batchnorm();
  for (DType t : kAllDTypes) {
    const OwnedCase c = make_case(batch_norm({4, 3, 5, 5}, Profile::kPyTorch, t, Mode::kEval), 4, shifted());
    const impls::OwnedOutputs got = run_impl(*impl, c);
    const properties::Agreement a = properties::compare(c.p, reference_of(c.p, c), got.views);
    EXPECT_TRUE(a.ok()) << a.summary();
  }
}

/// Per channel, in long double from the case's tensors: the batch mean and biased variance.
struct ChannelStats {
  long double mean = 0, var = 0, m = 0;
};

std::vector<ChannelStats> channel_stats(const OwnedCase& c) {
  const Geometry g = *geometry(c.p);
  const std::vector<double> x = c.x.values();
  std::vector<ChannelStats> st(static_cast<std::size_t>(g.C));
  const auto at = [&](std::int64_t n, std::int64_t ch, std::int64_t s) {
    return x[static_cast<std::size_t>((n * g.C + ch) * g.S + s)];
  };
  for (std::int64_t ch = 0; ch < g.C; ++ch) {
    ChannelStats& cs = st[static_cast<std::size_t>(ch)];
    cs.m = static_cast<long double>(g.N * g.S);
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t s = 0; s < g.S; ++s) cs.mean += at(n, ch, s);
    cs.mean /= cs.m;
    for (std::int64_t n = 0; n < g.N; ++n)
      for (std::int64_t s = 0; s < g.S; ++s) cs.var += (at(n, ch, s) - cs.mean) * (at(n, ch, s) - cs.mean);
    cs.var /= cs.m;
  }
  return st;
}

TEST(TextbookBatchNorm, ThePyTorchProfileFlagsItsRunningStatisticsByThePredictedAmounts) {
  // With the problem's momentum f as ITS momentum:
  //   textbook: rm' = f rm + (1 - f) mean        rv' = f rv + (1 - f) var
  //   pytorch:  rm' = (1 - f) rm + f mean        rv' = (1 - f) rv + f var m/(m-1)
  // so got - want = (2f - 1)(rm - mean) for the mean and f rv + (1-f) var - (1-f) rv - f var m/(m-1)
  // for the variance. Each holds up to the textbook's own error (the keras profile's bound for the
  // same momentum, where it agrees) plus the two references' roundings.
  const auto impl = impls::make_textbook_batchnorm();
  for (DType t : kAllDTypes) {
    for (const std::vector<std::int64_t>& shape : {std::vector<std::int64_t>{12, 4}, {3, 4, 4, 4}}) {
      const Problem p = batch_norm(shape, Profile::kPyTorch, t);
      const long double f = *p.momentum;
      const OwnedCase c = make_case(p, 8, shifted());
      const impls::OwnedOutputs got = run_impl(*impl, c);
      const reference::Result pytorch = reference_of(p, c);
      Problem same_momentum_keras = p;
      same_momentum_keras.profile = Profile::kKeras;
      const reference::Result keras = reference_of(same_momentum_keras, c);

      const properties::Agreement k = properties::compare(same_momentum_keras, keras, got.views);
      ASSERT_TRUE(k.ok()) << k.summary();
      const properties::Agreement a = properties::compare(p, pytorch, got.views);
      EXPECT_EQ(find_output(a, "y")->failures, 0) << a.summary();
      EXPECT_EQ(find_output(a, "running_mean")->failures, shape[1]) << a.summary();
      EXPECT_EQ(find_output(a, "running_var")->failures, shape[1]) << a.summary();
      EXPECT_FALSE(a.num_batches_tracked_ok) << "pytorch counts the batch; the textbook function does not";
      EXPECT_EQ(got.views.num_batches_tracked, c.in.num_batches_tracked);
      std::printf(
          "textbook-batchnorm vs pytorch, %s, rank %zu: running_mean worst %.4g of the bound, running_var "
          "worst %.4g\n",
          std::string(name(t)).c_str(), shape.size(), find_output(a, "running_mean")->max_bound_fraction,
          find_output(a, "running_var")->max_bound_fraction);

      const std::vector<ChannelStats> st = channel_stats(c);
      const std::vector<double> rm = c.running_mean.values(), rv = c.running_var.values();
      const std::vector<double> pt_rm = pytorch.running_mean->values(), pt_rv = pytorch.running_var->values();
      const std::vector<double> k_rm = keras.running_mean->values(), k_rv = keras.running_var->values();
      const std::vector<double> k_rm_b = keras.running_mean_bound->values(),
                                k_rv_b = keras.running_var_bound->values();
      for (std::size_t ch = 0; ch < st.size(); ++ch) {
        const ChannelStats& s = st[ch];
        const long double d_mean = (2 * f - 1) * (rm[ch] - s.mean);
        const long double d_var =
            f * rv[ch] + (1 - f) * s.var - (1 - f) * rv[ch] - f * s.var * s.m / (s.m - 1);
        const std::int64_t i = static_cast<std::int64_t>(ch);
        const double got_rm = got.views.running_mean->get_linear(i),
                     got_rv = got.views.running_var->get_linear(i);
        ASSERT_LE(std::fabs(static_cast<double>(got_rm - pt_rm[ch] - d_mean)),
                  k_rm_b[ch] + ulp(t, k_rm[ch]) + ulp(t, pt_rm[ch]))
            << "running_mean[" << ch << "]: got " << got_rm << ", pytorch " << pt_rm[ch]
            << ", predicted difference " << static_cast<double>(d_mean) << " (" << name(t) << ")";
        ASSERT_LE(std::fabs(static_cast<double>(got_rv - pt_rv[ch] - d_var)),
                  k_rv_b[ch] + ulp(t, k_rv[ch]) + ulp(t, pt_rv[ch]))
            << "running_var[" << ch << "]: got " << got_rv << ", pytorch " << pt_rv[ch]
            << ", predicted difference " << static_cast<double>(d_var) << " (" << name(t) << ")";
      }
    }
  }
}

TEST(TextbookBatchNorm, TrainsOnOneValuePerChannelWherePyTorchRefuses) {
  // The textbook function has no such check: var = 0, y = beta (what the keras profile defines).
  const auto impl = impls::make_textbook_batchnorm();
  const OwnedCase c = make_case(batch_norm({1, 3}, Profile::kPyTorch), 2);
  const impls::OwnedOutputs got = run_impl(*impl, c);
  for (std::int64_t i = 0; i < 3; ++i) EXPECT_EQ(got.views.y.get_linear(i), c.bias.view().get_linear(i));
  const Expected<reference::Result> r = reference::evaluate(c.p, c.in);
  ASSERT_FALSE(r);
  EXPECT_NE(r.message().find("Expected more than 1 value per channel when training"), std::string::npos);
}

TEST(TextbookBatchNorm, RefusesWhatTheOriginalCannotDoAndSaysWhy) {
  const auto impl = impls::make_textbook_batchnorm();
  EXPECT_EQ(impl->supports(batch_norm({4, 3})), std::nullopt);
  EXPECT_EQ(impl->supports(batch_norm({4, 3, 2, 2}, Profile::kPyTorch, DType::kFloat16, Mode::kEval,
                                      Layout::kChannelsLast)),
            std::nullopt);
  EXPECT_EQ(impl->supports(batch_norm({4, 3, 5})),
            "textbook-batchnorm handles (N, C) and (N, C, H, W) only: rank 3 not supported");
  EXPECT_EQ(impl->supports(batch_norm({4, 3, 2, 2, 2})),
            "textbook-batchnorm handles (N, C) and (N, C, H, W) only: rank 5 not supported");
  Problem p = batch_norm({4, 3});
  p.track_running_stats = false;
  EXPECT_EQ(impl->supports(p),
            "textbook-batchnorm always keeps moving statistics: track_running_stats=0 not supported");
  p = batch_norm({4, 3}, Profile::kPyTorch);
  p.momentum = std::nullopt;
  EXPECT_EQ(impl->supports(p),
            "textbook-batchnorm needs a momentum value: momentum=none (cumulative average) not supported");
  p = batch_norm({4, 3});
  p.affine = false;
  p.bias = false;
  EXPECT_EQ(impl->supports(p), "textbook-batchnorm always applies gamma and beta: affine=0 not supported");
  p.affine = true;
  EXPECT_EQ(impl->supports(p), "textbook-batchnorm always adds beta: bias=0 not supported");
  p.bias = true;
  p.direction = Direction::kBackward;
  EXPECT_EQ(
      impl->supports(p),
      "direction backward not supported: textbook-batchnorm has no backward of its own (the original relies "
      "on autograd)");
  EXPECT_EQ(impl->supports(default_problem(Op::kGroupNorm, {2, 4, 3, 3})), "op group_norm not supported");
  EXPECT_EQ(impl->capabilities().saves_stats, false);
}

}  // namespace
}  // namespace normcheck::testing
