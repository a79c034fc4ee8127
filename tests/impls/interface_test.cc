// The implementation interface's shared parts: capability refusals name what is missing, the
// caller's buffers are allocated per problem, poisoned, with the running buffers copied in, and
// a write into an input shows (InputSnapshot, what run_impl checks after every built-in's call).
#include <gtest/gtest.h>

#include <cmath>

#include "impls/input_snapshot.h"
#include "impls/registry.h"

namespace normcheck::impls {
namespace {

Capabilities float32_layer_norm() {
  Capabilities c;
  c.ops = {Op::kLayerNorm};
  c.dtypes = {DType::kFloat32};
  c.layouts = {Layout::kContiguous};
  c.modes = {Mode::kTrain, Mode::kEval};
  c.directions = {Direction::kForward};
  c.profiles = {Profile::kPyTorch};
  c.devices = {Device::kCPU};
  return c;
}

TEST(Capabilities, RefusalsNameTheMissingCapability) {
  const Capabilities c = float32_layer_norm();
  Problem p = default_problem(Op::kLayerNorm, {2, 3});
  EXPECT_EQ(c.refuses(p, Device::kCPU), std::nullopt);
  EXPECT_EQ(c.refuses(p, Device::kCUDA), "device cuda not supported");
  p.dtype = DType::kBFloat16;
  EXPECT_EQ(c.refuses(p, Device::kCPU), "dtype bfloat16 not supported");
  p = default_problem(Op::kGroupNorm, {2, 4, 3});
  EXPECT_EQ(c.refuses(p, Device::kCPU), "op group_norm not supported");
  p = default_problem(Op::kLayerNorm, {2, 3});
  p.direction = Direction::kBackward;
  EXPECT_EQ(c.refuses(p, Device::kCPU), "direction backward not supported");
  p = default_problem(Op::kLayerNorm, {2, 3}, Profile::kKeras);
  EXPECT_EQ(c.refuses(p, Device::kCPU), "profile keras not supported");
}

TEST(AllocateOutputs, EveryOutputOfABackwardBatchNormIsPoisonedAndTheBuffersAreCopies) {
  Problem p = default_problem(Op::kBatchNorm, {4, 3, 2});
  p.direction = Direction::kBackward;
  Capabilities caps;
  caps.saves_stats = true;
  const Tensor x = Tensor::from_values(DType::kFloat32, p.shape, std::vector<double>(24, 1.0));
  const Tensor rm = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{1, 2, 3});
  const Tensor rv = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{4, 5, 6});
  Inputs in;
  in.x = x.view();
  in.running_mean = rm.view();
  in.running_var = rv.view();
  in.num_batches_tracked = 7;
  Expected<OwnedOutputs> o = allocate_outputs(p, in, caps);
  ASSERT_TRUE(o) << o.message();
  for (const TensorView* v : {&o->views.y, &*o->views.dx, &*o->views.dweight, &*o->views.dbias, &*o->views.mean,
                              &*o->views.rstd}) {
    for (std::int64_t i = 0; i < v->numel(); ++i) ASSERT_TRUE(std::isnan(v->get_linear(i)));
  }
  EXPECT_EQ(o->views.y.shape, p.shape);
  EXPECT_EQ(o->views.mean->shape, std::vector<std::int64_t>{3});
  EXPECT_EQ(o->views.dweight->shape, std::vector<std::int64_t>{3});
  EXPECT_EQ(o->running_mean.values(), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(o->running_var.values(), (std::vector<double>{4, 5, 6}));
  EXPECT_NE(o->views.running_mean->data, in.running_mean->data) << "the implementation must get a copy";
  EXPECT_EQ(o->views.num_batches_tracked, 7);
}

TEST(AllocateOutputs, EvalWithRunningStatsSavesNoStatisticsAndLayerNormWeightsHaveTheNormalizedShape) {
  Problem bn = default_problem(Op::kBatchNorm, {4, 3});
  bn.mode = Mode::kEval;
  Capabilities caps;
  caps.saves_stats = true;
  const Tensor x = Tensor::from_values(DType::kFloat32, bn.shape, std::vector<double>(12, 1.0));
  const Tensor c3 = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{1, 1, 1});
  Inputs in;
  in.x = x.view();
  in.running_mean = c3.view();
  in.running_var = c3.view();
  Expected<OwnedOutputs> o = allocate_outputs(bn, in, caps);
  ASSERT_TRUE(o) << o.message();
  EXPECT_FALSE(o->views.mean.has_value());
  EXPECT_FALSE(o->views.rstd.has_value());

  Problem ln = default_problem(Op::kLayerNorm, {2, 3, 4});
  ln.normalized_shape = {3, 4};
  ln.direction = Direction::kBackward;
  const Tensor lx = Tensor::from_values(DType::kFloat32, ln.shape, std::vector<double>(24, 1.0));
  Inputs lin;
  lin.x = lx.view();
  Expected<OwnedOutputs> lo = allocate_outputs(ln, lin, caps);
  ASSERT_TRUE(lo) << lo.message();
  EXPECT_EQ(lo->views.dweight->shape, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(lo->views.mean->shape, std::vector<std::int64_t>{2});

  Inputs missing;
  missing.x = x.view();
  Problem tracked = default_problem(Op::kBatchNorm, {4, 3});
  EXPECT_FALSE(allocate_outputs(tracked, missing, caps));
}

TEST(AllocateOutputs, GuardElementsCatchAWritePastTheEndOrBeforeTheStart) {
  Problem ln = default_problem(Op::kLayerNorm, {2, 5});
  const Tensor x = Tensor::from_values(DType::kFloat32, ln.shape, std::vector<double>(10, 1.0));
  Inputs in;
  in.x = x.view();
  Capabilities caps;
  Expected<OwnedOutputs> o = allocate_outputs(ln, in, caps);
  ASSERT_TRUE(o) << o.message();
  for (std::int64_t i = 0; i < 10; ++i) o->views.y.set_linear(i, 0.5);  // every element, nothing more
  EXPECT_TRUE(o->check_guards().ok()) << o->check_guards().message();
  static_cast<float*>(o->views.y.data)[10] = 0.0f;  // one past the end
  EXPECT_NE(o->check_guards().message().find("outside the y buffer"), std::string::npos);

  Expected<OwnedOutputs> o2 = allocate_outputs(ln, in, caps);
  ASSERT_TRUE(o2);
  static_cast<float*>(o2->views.y.data)[-1] = 0.0f;  // one before the start
  EXPECT_FALSE(o2->check_guards().ok());
}

TEST(InputSnapshot, NamesTheInputAndElementAWriteChanged) {
  const Problem p = default_problem(Op::kBatchNorm, {2, 3});
  Tensor x = Tensor::from_values(DType::kFloat32, p.shape, std::vector<double>{1, 2, 3, 4, 5, 6});
  Tensor rv = Tensor::from_values(DType::kFloat32, {3}, std::vector<double>{4, 5, 6});
  Inputs in;
  in.x = x.view();
  in.running_var = rv.view();
  const InputSnapshot before(in);
  EXPECT_TRUE(before.check(in).ok());
  static_cast<float*>(rv.view().data)[2] = -0.0f;  // a write into running_var
  EXPECT_EQ(before.check(in).message(), "Expected the input running_var unchanged, but the implementation modified it (element 2)");
  static_cast<float*>(rv.view().data)[2] = 6.0f;
  EXPECT_TRUE(before.check(in).ok());
  static_cast<float*>(x.view().data)[4] = 5.5f;
  EXPECT_EQ(before.check(in).message(), "Expected the input x unchanged, but the implementation modified it (element 4)");
  EXPECT_EQ(before.check(in).kind(), ErrorKind::kOther);
}

}  // namespace
}  // namespace normcheck::impls
