// eps and momentum as each profile's framework holds them (docs/semantics.md, "How eps and
// momentum are held"): ONNX's float32 attributes, Keras' casts to its compute dtype, and a bias
// without a weight (Keras' center=True, scale=False). Each expected value is derived here from
// the framework's own arithmetic (a C++ float cast), never from effective_eps / held_momentum.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"
#include "tests/reference/harness.h"
#include "tests/reference/oracle.h"

namespace normcheck {
namespace {

using oracle::Case;
using oracle::exact;
using Q = oracle::Rational;
using testing::make_inputs;
using testing::show;

/// v as a float32 (C++'s conversion rounds to nearest even).
double as_float(double v) { return static_cast<double>(static_cast<float>(v)); }

/// batch_norm training on one channel of two values x with running_mean 0 and running_var 1,
/// weight 1 and bias 0.
Expected<reference::Result> one_channel_step(Profile profile, DType t, double momentum, double x) {
  Case c;
  c.problem = default_problem(Op::kBatchNorm, {2, 1}, profile);
  c.problem.dtype = t;
  c.problem.momentum = momentum;
  c.x = {x, x};
  c.weight = {1};
  c.bias = {0};
  c.running_mean = {0};
  c.running_var = {1};
  testing::OwnedInputs in = make_inputs(c);
  return reference::evaluate(c.problem, in.inputs);
}

TEST(HeldParams, OnnxBatchNormMomentumIsAFloat32Attribute) {
  // Issue 12 item 3: ONNX Runtime's BatchNormalization-15 in training mode on x = [10000, 10000]
  // with momentum 0.99 stores 10000 * (1 - float(0.99)) = 99.99991 (its momentum_ is a float
  // attribute); with the double 0.99 the running mean would be 100.
  const double m = 0.99, x = 10000;
  const Expected<reference::Result> r = one_channel_step(Profile::kOnnx, DType::kFloat32, m, x);
  ASSERT_TRUE(r.ok()) << r.message();
  const double held = oracle::round_rational((1 - exact(as_float(m))) * exact(x), DType::kFloat32);
  const double as_double = oracle::round_rational((1 - exact(m)) * exact(x), DType::kFloat32);
  ASSERT_NE(held, as_double) << "the case must tell the two holdings apart";
  const double got = r->running_mean->values()[0];
  EXPECT_EQ(got, held) << "running_mean " << show(got) << ", float32 momentum gives " << show(held)
                       << ", the double " << show(as_double);
  // A runtime that kept the double (or a reference that did) is outside the bound: the bound
  // cannot hide the holding.
  EXPECT_GT(std::fabs(as_double - held), r->running_mean_bound->values()[0]);
  // running_var: keep * 1 + take * 0 with the biased batch variance 0.
  EXPECT_EQ(r->running_var->values()[0], as_float(m));
}

TEST(HeldParams, KerasSixteenBitRunningMeanUsesTheFloat32Weights) {
  // Keras' BatchNormalization computes float16 / bfloat16 layers in float32: the new moving mean
  // is float32(moving * momentum + mean * (1.0 - momentum)), both Python floats cast to float32,
  // then stored in the 16-bit variable. With 1.0 - momentum just above the midpoint between 0.5
  // and the next 16-bit value, the float32 cast lands on the midpoint (ties to even: 0.5) while
  // the double would round up.
  for (DType t : {DType::kFloat16, DType::kBFloat16}) {
    const double half_step = info(t).epsilon / 4;  // half the spacing of t just above 0.5
    const double m = 0.5 - half_step - std::ldexp(1.0, -30);
    ASSERT_EQ(1.0 - m, 0.5 + half_step + std::ldexp(1.0, -30));  // Python's 1.0 - momentum, exact
    const Expected<reference::Result> r = one_channel_step(Profile::kKeras, t, m, 1.0);
    ASSERT_TRUE(r.ok()) << r.message();
    const double held = round_to(t, as_float(1.0 - m));  // old 0, batch mean 1
    const double as_double = round_to(t, 1.0 - m);
    SCOPED_TRACE(std::string(name(t)) + " momentum " + show(m));
    ASSERT_NE(held, as_double) << "the case must tell the two holdings apart";
    const double got = r->running_mean->values()[0];
    EXPECT_EQ(got, held) << "running_mean " << show(got) << ", the double momentum gives " << show(as_double);
    // running_var: float32(momentum) * 1 + take * 0 (Keras' biased batch variance is 0).
    EXPECT_EQ(r->running_var->values()[0], round_to(t, as_float(m)));
  }
}

TEST(HeldParams, PyTorchBoundAcceptsBothOfATensMomentumHoldings) {
  // PyTorch's kernels disagree: CUDA and the CPU's contiguous float32 path hold momentum 0.99 as
  // float32 (keep = 1 - float(0.99) = 0.0099999905), ATen's strided CPU path keeps the double
  // (keep = 1 - 0.99 = 0.010000000000000009). On x = [0, 0] with running_var 1 the new
  // running_var is keep: 10 ulp apart in float32, beyond the update's 3u + 1 ulp. The reference
  // stores the float32 holding and its bound covers the double's.
  Case c;
  c.problem = default_problem(Op::kBatchNorm, {2, 1});
  c.problem.momentum = 0.99;
  c.x = {0, 0};
  c.weight = {1};
  c.bias = {0};
  c.running_mean = {0};
  c.running_var = {1};
  testing::OwnedInputs in = make_inputs(c);
  const Expected<reference::Result> r = reference::evaluate(c.problem, in.inputs);
  ASSERT_TRUE(r.ok()) << r.message();
  const double as_float32 = 1 - as_float(0.99);  // exact, and a float32
  const double as_double = round_to(DType::kFloat32, 1 - 0.99);
  ASSERT_NE(as_float32, as_double);
  const double got = r->running_var->values()[0], bound = r->running_var_bound->values()[0];
  EXPECT_EQ(got, as_float32);
  EXPECT_LE(std::fabs(as_double - got), bound) << "the double holding " << show(as_double) << " vs "
                                               << show(got) << ", bound " << show(bound);
}

TEST(HeldParams, OnnxFloat64DataStillTakesAFloat32Epsilon) {
  // LayerNormalization's epsilon is a float attribute whatever the data type: on float64 data
  // y = +-1 / sqrt(1 + float(1e-5)) for x = [1, -1], 1,138 ulp from the double eps' value.
  Case c;
  c.problem = default_problem(Op::kLayerNorm, {1, 2}, Profile::kOnnx);
  c.problem.dtype = DType::kFloat64;
  c.problem.eps = 1e-5;
  c.problem.affine = c.problem.bias = false;
  c.x = {1, -1};
  testing::OwnedInputs in = make_inputs(c);
  const Expected<reference::Result> r = reference::evaluate(c.problem, in.inputs);
  ASSERT_TRUE(r.ok()) << r.message();
  const double held = oracle::round_sqrt_form(Q(1), 1 + exact(as_float(1e-5)), Q(0), DType::kFloat64);
  const double as_double = oracle::round_sqrt_form(Q(1), 1 + exact(1e-5), Q(0), DType::kFloat64);
  ASSERT_NE(held, as_double);
  const std::vector<double> y = r->y.values();
  EXPECT_EQ(y[0], held) << show(y[0]) << ", the double eps gives " << show(as_double);
  EXPECT_EQ(y[1], -held);
}

TEST(HeldParams, KerasBiasWithoutScaleAddsBetaAndReportsOnlyDbias) {
  // center=True, scale=False: y = xhat + beta, dbias = sum dy, and no weight gradient.
  for (Op op : {Op::kBatchNorm, Op::kLayerNorm, Op::kGroupNorm}) {
    Case c;
    c.problem = default_problem(op, {2, 2}, Profile::kKeras);
    c.problem.affine = false;
    c.problem.bias = true;
    c.problem.track_running_stats = false;
    c.problem.direction = Direction::kBackward;
    c.x = {1, 2, 4, 8};
    c.bias = {0.5, -3};
    c.grad_output = {0.25, -1, 2, 0.5};
    SCOPED_TRACE(to_string(c.problem));
    testing::OwnedInputs in = make_inputs(c);
    const Expected<reference::Result> r = reference::evaluate(c.problem, in.inputs);
    ASSERT_TRUE(r.ok()) << r.message();
    const oracle::Outputs want = oracle::solve(c);
    EXPECT_EQ(r->y.values(), want.y);
    ASSERT_TRUE(r->dbias.has_value());
    ASSERT_TRUE(want.dbias.has_value());
    EXPECT_EQ(r->dbias->values(), *want.dbias);
    EXPECT_FALSE(r->dweight.has_value());
    // beta reached y: without the bias the outputs differ.
    Case no_bias = c;
    no_bias.problem.bias = false;
    no_bias.bias.clear();
    EXPECT_NE(r->y.values(), oracle::solve(no_bias).y);
    const oracle::Structure st = oracle::structure_of(c.problem);
    // dbias is the sum of dy over each channel (small integers and quarters: exact).
    std::vector<double> sum_dy(2, 0.0);
    for (std::size_t i = 0; i < c.grad_output.size(); ++i) sum_dy[st.affine_of[i]] += c.grad_output[i];
    EXPECT_EQ(r->dbias->values(), sum_dy);
  }
}

}  // namespace
}  // namespace normcheck
