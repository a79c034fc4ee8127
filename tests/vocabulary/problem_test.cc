#include "normcheck/problem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace normcheck {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

/// The error message of parsing line (empty when it parses).
std::string parse_error(const std::string& line) {
  auto p = parse_problem(line);
  return p.ok() ? std::string() : p.message();
}

Problem parsed(const std::string& line) {
  auto p = parse_problem(line);
  EXPECT_TRUE(p.ok()) << line << "\n" << p.message();
  return p.ok() ? *p : Problem{};
}

void expect_round_trip(const Problem& p) {
  ASSERT_TRUE(validate(p).ok()) << validate(p).message();
  const std::string line = to_string(p);
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  auto back = parse_problem(line);
  ASSERT_TRUE(back.ok()) << line << "\n" << back.message();
  EXPECT_EQ(*back, p) << line << "\n" << to_string(*back);
  EXPECT_EQ(to_string(*back), line);
}

// ---- names ---------------------------------------------------------------------------------------

TEST(ProblemNames, EveryEnumPrintsAndParsesBack) {
  for (Op op : kAllOps) EXPECT_EQ(parse_op(name(op)), op);
  for (Profile pr : kAllProfiles) EXPECT_EQ(parse_profile(name(pr)), pr);
  for (Mode m : {Mode::kTrain, Mode::kEval}) EXPECT_EQ(parse_mode(name(m)), m);
  for (Direction d : {Direction::kForward, Direction::kBackward}) EXPECT_EQ(parse_direction(name(d)), d);
  EXPECT_EQ(name(Op::kLayerNorm2d), "layer_norm_2d");
  EXPECT_EQ(name(Profile::kOnnx), "onnx");
  EXPECT_EQ(parse_op("BatchNorm"), std::nullopt);
  EXPECT_EQ(parse_profile(""), std::nullopt);
  EXPECT_EQ(parse_mode("training"), std::nullopt);
  EXPECT_EQ(parse_direction("fwd"), std::nullopt);
}

// ---- defaults ------------------------------------------------------------------------------------

TEST(DefaultProblem, PyTorchDefaultsPerOp) {
  const Problem bn = default_problem(Op::kBatchNorm, {8, 3, 5, 5});
  EXPECT_EQ(bn.eps, 1e-5);
  EXPECT_EQ(bn.momentum, 0.1);
  EXPECT_TRUE(bn.affine && bn.bias && bn.track_running_stats);
  EXPECT_EQ(bn.num_groups, 1);
  EXPECT_TRUE(bn.normalized_shape.empty());
  EXPECT_EQ(bn.mode, Mode::kTrain);
  EXPECT_EQ(bn.direction, Direction::kForward);
  EXPECT_EQ(bn.layout, Layout::kContiguous);
  EXPECT_EQ(bn.dtype, DType::kFloat32);

  const Problem in = default_problem(Op::kInstanceNorm, {2, 3, 7});
  EXPECT_FALSE(in.affine);
  EXPECT_FALSE(in.bias);
  EXPECT_FALSE(in.track_running_stats);

  const Problem rms = default_problem(Op::kRmsNorm, {2, 16});
  EXPECT_EQ(rms.eps, std::nullopt);
  EXPECT_TRUE(rms.affine);
  EXPECT_FALSE(rms.bias);
  EXPECT_EQ(rms.normalized_shape, std::vector<std::int64_t>{16});

  const Problem ln = default_problem(Op::kLayerNorm, {2, 3, 4, 5});
  EXPECT_EQ(ln.normalized_shape, std::vector<std::int64_t>{5});
  EXPECT_FALSE(ln.track_running_stats);
  EXPECT_EQ(ln.momentum, 0.1);  // kept, though stateless ops never use it

  const Problem gn = default_problem(Op::kGroupNorm, {2, 6, 4});
  EXPECT_EQ(gn.num_groups, 1);
  EXPECT_TRUE(gn.affine && gn.bias);
  EXPECT_FALSE(gn.track_running_stats);

  for (Op op : kAllOps) {
    const Problem p = default_problem(op, {2, 4, 3, 3});
    EXPECT_TRUE(validate(p).ok()) << to_string(p) << ": " << validate(p).message();
  }
}

TEST(DefaultProblem, KerasAndOnnxProfiles) {
  const Problem k = default_problem(Op::kBatchNorm, {8, 3}, Profile::kKeras);
  EXPECT_EQ(k.profile, Profile::kKeras);
  EXPECT_EQ(k.eps, 1e-3);
  EXPECT_EQ(k.momentum, 0.99);
  const Problem o = default_problem(Op::kBatchNorm, {8, 3}, Profile::kOnnx);
  EXPECT_EQ(o.eps, 1e-5);
  EXPECT_EQ(o.momentum, 0.9);
  // RMSNorm: keras.layers.RMSNormalization defaults to epsilon=1e-6, ONNX RMSNormalization to 1e-5.
  EXPECT_EQ(default_problem(Op::kRmsNorm, {2, 8}, Profile::kKeras).eps, 1e-6);
  EXPECT_EQ(default_problem(Op::kRmsNorm, {2, 8}, Profile::kOnnx).eps, 1e-5);
  for (Profile pr : kAllProfiles) {
    for (Op op : kAllOps) {
      const Problem p = default_problem(op, {2, 4, 3}, pr);
      EXPECT_TRUE(validate(p).ok()) << to_string(p) << ": " << validate(p).message();
    }
  }
}

// ---- printing ------------------------------------------------------------------------------------

TEST(ProblemToString, PrintsEveryFieldInTheFixedOrder) {
  EXPECT_EQ(to_string(default_problem(Op::kBatchNorm, {8, 3, 5, 5})),
            "batch_norm shape=8x3x5x5 dtype=float32 layout=contiguous eps=1e-05 momentum=0.1 affine=1 bias=1 "
            "track_running_stats=1 mode=train profile=pytorch direction=forward seed=0 values=normal:0:1");
  Problem gn = default_problem(Op::kGroupNorm, {2, 6, 4, 5});
  gn.num_groups = 3;
  gn.seed = 42;
  EXPECT_EQ(to_string(gn),
            "group_norm shape=2x6x4x5 dtype=float32 layout=contiguous eps=1e-05 momentum=0.1 affine=1 bias=1 "
            "track_running_stats=0 mode=train profile=pytorch direction=forward seed=42 values=normal:0:1 groups=3");
  Problem rms = default_problem(Op::kRmsNorm, {2, 3, 4, 5}, Profile::kPyTorch);
  rms.normalized_shape = {4, 5};
  rms.dtype = DType::kBFloat16;
  rms.momentum = std::nullopt;
  EXPECT_EQ(to_string(rms),
            "rms_norm shape=2x3x4x5 dtype=bfloat16 layout=contiguous eps=none momentum=none affine=1 bias=0 "
            "track_running_stats=0 mode=train profile=pytorch direction=forward seed=0 values=normal:0:1 normalized_shape=4x5");
}

TEST(ProblemToString, ZeroDimsAndShortestDoubles) {
  Problem p = default_problem(Op::kBatchNorm, {0, 3, 2}, Profile::kKeras);
  p.eps = 0.1 + 0.2;  // 0.30000000000000004: needs all 17 digits
  p.momentum = 0.99;
  const std::string line = to_string(p);
  EXPECT_THAT(line, HasSubstr(" shape=0x3x2 "));
  EXPECT_THAT(line, HasSubstr(" eps=0.30000000000000004 "));
  EXPECT_THAT(line, HasSubstr(" momentum=0.99 "));
  expect_round_trip(p);
}

// ---- round trips ---------------------------------------------------------------------------------

TEST(ProblemRoundTrip, TableOfProblems) {
  std::vector<Problem> table;
  for (Op op : kAllOps) {
    for (Profile pr : kAllProfiles) {
      for (DType dt : kAllDTypes) {
        Problem p = default_problem(op, {4, 6, 3, 2}, pr);
        p.dtype = dt;
        table.push_back(p);
      }
    }
  }
  Problem bn = default_problem(Op::kBatchNorm, {8, 3, 5, 5});
  bn.layout = Layout::kChannelsLast;
  bn.mode = Mode::kEval;
  bn.direction = Direction::kBackward;
  bn.momentum = std::nullopt;  // PyTorch's cumulative moving average
  bn.seed = 0xffffffffffffffffULL;
  table.push_back(bn);
  Problem in = default_problem(Op::kInstanceNorm, {2, 3, 4, 5, 6}, Profile::kOnnx);
  in.track_running_stats = true;
  in.affine = true;
  in.layout = Layout::kChannelsLast;
  table.push_back(in);
  Problem gn = default_problem(Op::kGroupNorm, {2, 6, 4, 5});
  gn.num_groups = 6;
  gn.affine = gn.bias = false;
  gn.layout = Layout::kChannelsLast;
  table.push_back(gn);
  Problem ln = default_problem(Op::kLayerNorm, {2, 3, 4, 5}, Profile::kKeras);
  ln.normalized_shape = {3, 4, 5};
  ln.eps = 0;
  ln.bias = false;
  table.push_back(ln);
  Problem rms = default_problem(Op::kRmsNorm, {7});
  rms.eps = std::nullopt;
  rms.dtype = DType::kFloat16;
  rms.mode = Mode::kEval;
  table.push_back(rms);
  Problem ln2d = default_problem(Op::kLayerNorm2d, {1, 3, 4, 5});
  ln2d.layout = Layout::kChannelsLast;
  ln2d.eps = 1e-6;
  ln2d.momentum = -0.5;
  table.push_back(ln2d);
  Problem empty_batch = default_problem(Op::kLayerNorm, {0, 5});
  table.push_back(empty_batch);
  for (const Problem& p : table) expect_round_trip(p);
}

/// A valid problem built at random (generated valid, not filtered).
Problem random_problem(std::mt19937_64& rng) {
  auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  auto coin = [&rng] { return (rng() & 1) != 0; };
  // Any finite double up to `limit` in magnitude, from raw bits so that every exponent and
  // subnormals turn up.
  auto any_double = [&rng](double limit = std::numeric_limits<double>::max()) {
    while (true) {
      const double d = std::bit_cast<double>(rng());
      if (std::isfinite(d) && std::fabs(d) <= limit) return d;
    }
  };
  const Op op = kAllOps[pick(0, 5)];
  const Profile profile = kAllProfiles[pick(0, 2)];
  int min_rank = 1, max_rank = 8;
  switch (op) {
    case Op::kBatchNorm:
      min_rank = 2, max_rank = 5;
      break;
    case Op::kInstanceNorm:
    case Op::kLayerNorm2d:
      min_rank = 3, max_rank = 5;
      break;
    case Op::kGroupNorm:
      min_rank = 2, max_rank = 8;
      break;
    default:
      break;
  }
  std::vector<std::int64_t> shape(static_cast<std::size_t>(pick(min_rank, max_rank)));
  for (auto& d : shape) d = pick(0, 6);
  const bool channels = op != Op::kLayerNorm && op != Op::kRmsNorm;
  if (channels) shape[1] = pick(1, 12);
  Problem p = default_problem(op, shape, profile);
  p.dtype = kAllDTypes[pick(0, 3)];
  if (channels && shape.size() >= 3 && coin()) p.layout = Layout::kChannelsLast;
  // eps and momentum must stay finite in the type the profile holds them in (effective_eps).
  const double held_max = profile == Profile::kOnnx || p.dtype != DType::kFloat64
                              ? static_cast<double>(std::numeric_limits<float>::max())
                              : std::numeric_limits<double>::max();
  switch (pick(0, 3)) {
    case 0:
      break;  // the default
    case 1:
      p.eps = std::abs(any_double(held_max));
      break;
    case 2:
      p.eps = std::pow(10.0, static_cast<double>(-pick(1, 12)));
      break;
    default:
      p.eps = op == Op::kRmsNorm ? std::nullopt : std::optional<double>(0.0);
      break;
  }
  switch (pick(0, 3)) {
    case 0:
      break;
    case 1:
      p.momentum = any_double(held_max);
      break;
    case 2:
      p.momentum = static_cast<double>(pick(0, 1000)) / 1000;
      break;
    default:
      if (profile == Profile::kPyTorch) p.momentum = std::nullopt;
      break;
  }
  p.affine = coin();
  p.bias = coin() && (p.affine || profile != Profile::kOnnx);  // a bias without weight: not onnx
  if (op == Op::kBatchNorm || op == Op::kInstanceNorm) p.track_running_stats = coin();
  p.mode = coin() ? Mode::kTrain : Mode::kEval;
  p.direction = coin() ? Direction::kForward : Direction::kBackward;
  p.seed = coin() ? rng() : static_cast<std::uint64_t>(pick(0, 100));
  switch (pick(0, 4)) {
    case 0: break;
    case 1: p.values = {ValueKind::kNormal, any_double(), std::abs(any_double()) + 1e-300}; break;
    case 2: p.values = {ValueKind::kConstant, any_double(), 1}; break;
    case 3: p.values = {ValueKind::kExactPairs, std::ldexp(1.0, static_cast<int>(pick(-20, 20))), 1}; break;
    default: p.values = {coin() ? ValueKind::kNaN : ValueKind::kTiny, 0, 1}; break;
  }
  if (shape.size() >= 2 && coin()) p.layout = coin() ? Layout::kPermuted : Layout::kStrided;
  if (op == Op::kGroupNorm) {
    std::vector<std::int64_t> divisors;
    for (std::int64_t g = 1; g <= shape[1]; ++g) {
      if (shape[1] % g == 0) divisors.push_back(g);
    }
    p.num_groups =
        divisors[static_cast<std::size_t>(pick(0, static_cast<std::int64_t>(divisors.size()) - 1))];
  }
  if (op == Op::kLayerNorm || op == Op::kRmsNorm) {
    const auto k = static_cast<std::size_t>(pick(1, static_cast<std::int64_t>(shape.size())));
    p.normalized_shape.assign(shape.end() - static_cast<std::ptrdiff_t>(k), shape.end());
  }
  return p;
}

TEST(ProblemRoundTrip, ThousandsOfRandomValidProblems) {
  std::mt19937_64 rng(20240611);
  for (int i = 0; i < 5000; ++i) {
    const Problem p = random_problem(rng);
    SCOPED_TRACE(i);
    expect_round_trip(p);
    if (::testing::Test::HasFailure()) break;  // one shrunk-by-hand failure is enough
  }
}

// ---- parsing -------------------------------------------------------------------------------------

TEST(ParseProblem, ValuesShorthandsAndEveryKind) {
  EXPECT_EQ(parsed("batch_norm shape=8x3 values=normal").values, Values{});
  EXPECT_EQ(to_string(parsed("batch_norm shape=8x3 values=uniform").values), "uniform:0:1");
  EXPECT_EQ(to_string(parsed("batch_norm shape=8x3 values=constant:1234.5").values), "constant:1234.5");
  EXPECT_EQ(to_string(parsed("batch_norm shape=8x3 values=normal:1e+06:0.5").values), "normal:1e+06:0.5");
  for (const char* kind : {"large", "tiny", "nan", "inf"}) {
    EXPECT_EQ(to_string(parsed(std::string("batch_norm shape=8x3 values=") + kind).values), kind);
  }
}

TEST(ParseProblem, MissingFieldsTakeTheProfileDefaults) {
  const Problem p = parsed("batch_norm shape=8x3");
  EXPECT_EQ(p, default_problem(Op::kBatchNorm, {8, 3}));
  const Problem k = parsed("batch_norm profile=keras shape=8x3");
  EXPECT_EQ(k, default_problem(Op::kBatchNorm, {8, 3}, Profile::kKeras));
  const Problem ln = parsed("layer_norm shape=2x3x4");
  EXPECT_EQ(ln.normalized_shape, std::vector<std::int64_t>{4});
  const Problem rms = parsed("rms_norm shape=2x3x4 normalized_shape=3x4 eps=1e-6");
  EXPECT_EQ(rms.normalized_shape, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(rms.eps, 1e-6);
  EXPECT_FALSE(rms.bias);
}

TEST(ParseProblem, AMissingBiasFollowsAffineZero) {
  EXPECT_FALSE(parsed("batch_norm shape=8x3 affine=0").bias);
  EXPECT_TRUE(parsed("batch_norm shape=8x3 affine=1").bias);
  EXPECT_FALSE(parsed("batch_norm shape=8x3 bias=0").bias);
  EXPECT_FALSE(parsed("batch_norm shape=8x3 affine=0 profile=keras").bias);
}

TEST(ParseProblem, ABiasWithoutWeightWhereTheFrameworkAllowsIt) {
  // Keras' center=True, scale=False; ATen's native_batch_norm / layer_norm / group_norm with
  // weight=None and a bias. ONNX's normalization ops take B only with Scale.
  for (const char* line : {"batch_norm shape=8x3 profile=keras affine=0 bias=1",
                           "layer_norm shape=4x6 profile=keras affine=0 bias=1 normalized_shape=6",
                           "group_norm shape=2x4x3 profile=keras affine=0 bias=1 groups=2",
                           "batch_norm shape=8x3 affine=0 bias=1"}) {
    SCOPED_TRACE(line);
    const Problem p = parsed(line);
    EXPECT_FALSE(p.affine);
    EXPECT_TRUE(p.bias);
    EXPECT_NE(to_string(p).find(" affine=0 bias=1 "), std::string::npos) << to_string(p);
    expect_round_trip(p);
  }
  EXPECT_THAT(parse_error("batch_norm shape=8x3 profile=onnx affine=0 bias=1"),
              HasSubstr("Expected bias=0 when affine=0 under the onnx profile (ONNX takes B only with Scale), "
                        "but got bias=1"));
}

TEST(ParseProblem, FieldsInAnyOrderAndBooleanWords) {
  const Problem p = parsed(
      "group_norm seed=7 groups=2 direction=backward mode=eval affine=true bias=false momentum=none "
      "eps=0.001 layout=channels_last dtype=float16 shape=2x4x3");
  EXPECT_EQ(p.op, Op::kGroupNorm);
  EXPECT_EQ(p.shape, (std::vector<std::int64_t>{2, 4, 3}));
  EXPECT_EQ(p.num_groups, 2);
  EXPECT_EQ(p.seed, 7u);
  EXPECT_EQ(p.direction, Direction::kBackward);
  EXPECT_EQ(p.mode, Mode::kEval);
  EXPECT_TRUE(p.affine);
  EXPECT_FALSE(p.bias);
  EXPECT_EQ(p.momentum, std::nullopt);
  EXPECT_EQ(p.eps, 0.001);
  EXPECT_EQ(p.layout, Layout::kChannelsLast);
  EXPECT_EQ(p.dtype, DType::kFloat16);
}

TEST(ParseProblem, ToleratesSurroundingWhitespace) {
  EXPECT_EQ(parsed("  batch_norm   shape=8x3 \n"), default_problem(Op::kBatchNorm, {8, 3}));
}

TEST(ParseProblem, RejectsBadLinesNamingTheFieldAndText) {
  struct Case {
    std::string line, message;
  };
  const Case cases[] = {
      {"", "Expected an op name"},
      {"batchnorm shape=8x3", "but got 'batchnorm'"},
      {"shape=8x3", "but got 'shape=8x3'"},
      {"batch_norm shape=8x3 epsilon=1e-5", "Unknown field 'epsilon' (known: shape, dtype, layout, eps"},
      {"batch_norm shape=8x3 eps=1e-5 eps=1e-3", "Expected each field once, but got 'eps' twice"},
      {"batch_norm eps=1e-5", "Expected a shape=AxB... field, but got none"},
      {"batch_norm\neps=1e-5\n", "but got none in 'batch_norm eps=1e-5'"},
      {"batch_norm shape=8x3 eps=", "Expected a value for eps, but got 'eps='"},
      {"batch_norm shape=", "Expected a value for shape"},
      {"batch_norm shape=8x3 eps=nan", "Expected eps to be a finite number >= 0 or 'none', but got 'nan'"},
      {"batch_norm shape=8x3 eps=inf", "Expected eps to be a finite number >= 0 or 'none', but got 'inf'"},
      {"batch_norm shape=8x3 eps=-1e-5",
       "Expected eps to be a finite number >= 0 or 'none', but got '-1e-5'"},
      {"batch_norm shape=8x3 eps=1e-5x", "but got '1e-5x'"},
      {"batch_norm shape=8x3 eps=1e999", "but got '1e999'"},
      {"batch_norm shape=8x3 eps=+1", "but got '+1'"},
      {"batch_norm shape=8x3 momentum=nan",
       "Expected momentum to be a finite number or 'none', but got 'nan'"},
      {"batch_norm shape=8x3 momentum=-inf",
       "Expected momentum to be a finite number or 'none', but got '-inf'"},
      {"batch_norm shape=8x3 momentum=0.1.2", "but got '0.1.2'"},
      {"batch_norm shape=8x3 affine=yes", "Expected affine to be 0, 1, true or false, but got 'yes'"},
      {"batch_norm shape=8x3 bias=2", "Expected bias to be 0, 1, true or false, but got '2'"},
      {"batch_norm shape=8x3 track_running_stats=True", "but got 'True'"},
      {"batch_norm shape=8x-3",
       "Expected shape to be non-negative integer dims joined by 'x', but got '8x-3'"},
      {"batch_norm shape=8x3.5", "bad dim '3.5'"},
      {"batch_norm shape=8xx3", "bad dim ''"},
      {"batch_norm shape=8x3x", "bad dim ''"},
      {"batch_norm shape=8,3", "but got '8,3'"},
      {"batch_norm shape=99999999999999999999x3", "bad dim '99999999999999999999'"},
      {"batch_norm shape=8x3 dtype=int8",
       "Expected dtype to be one of float64, float32, float16, bfloat16, but got 'int8'"},
      {"batch_norm shape=8x3x4 layout=nhwc",
       "Expected layout to be contiguous, channels_last, permuted or strided, but got 'nhwc'"},
      {"batch_norm shape=8x3 mode=training", "Expected mode to be train or eval, but got 'training'"},
      {"batch_norm shape=8x3 direction=fwd", "Expected direction to be forward or backward, but got 'fwd'"},
      {"batch_norm shape=8x3 profile=jax",
       "Expected profile to be one of pytorch, keras, onnx, but got 'jax'"},
      {"batch_norm shape=8x3 seed=-1", "Expected seed to be an unsigned 64-bit integer, but got '-1'"},
      {"batch_norm shape=8x3 seed=18446744073709551616", "but got '18446744073709551616'"},
      {"group_norm shape=2x6 groups=two", "Expected groups to be an integer, but got 'two'"},
      {"batch_norm shape=8x3 groups=3",
       "Expected groups only for group_norm, but got 'groups=3' for batch_norm"},
      {"group_norm shape=2x6 normalized_shape=6",
       "Expected normalized_shape only for layer_norm and rms_norm"},
      {"layer_norm shape=2x6 normalized_shape=6x", "bad dim ''"},
      {"batch_norm shape=8x3 trailing", "Expected key=value, but got 'trailing'"},
      {"batch_norm shape=8x3 =3", "Unknown field ''"},
      {"batch_norm shape=8x3 values=gauss", "Expected values to be one of normal, uniform, constant"},
      {"batch_norm shape=8x3 values=constant", "Expected 1 parameter(s) for values=constant, but got 0"},
      {"batch_norm shape=8x3 values=normal:1:x", "Expected values parameters to be numbers, but got 'x'"},
      {"batch_norm shape=8x3 values=normal:0:0", "Expected a spread > 0, but got values=normal:0:0"},
      {"batch_norm shape=8x3 values=exact_pairs:3",
       "Expected exact_pairs' mean to be a positive power of two, but got values=exact_pairs:3"},
      {"layer_norm shape=8 layout=permuted", "Expected rank >= 2 for layout=permuted, but got rank 1"},
      // validate() runs too.
      {"group_norm shape=2x6x4x5 groups=4", "Expected C divisible by num_groups, but got C=6, G=4"},
      {"batch_norm shape=8x3 eps=none", "Expected an eps value for batch_norm"},
      {"batch_norm shape=8x3 profile=keras momentum=none",
       "Expected a momentum value under the keras profile (momentum=none is PyTorch's cumulative average), "
       "but got none"},
      {"layer_norm shape=2x3 track_running_stats=1",
       "Expected track_running_stats=0 for layer_norm, which has no running statistics, but got 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const std::string msg = parse_error(c.line);
    EXPECT_THAT(msg, HasSubstr(c.message));
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

// ---- validation ----------------------------------------------------------------------------------

std::string validate_error(const Problem& p) {
  const Status s = validate(p);
  EXPECT_FALSE(s.ok()) << to_string(p);
  return s.message();
}

TEST(ValidateProblem, RankLimitsPerOp) {
  EXPECT_THAT(
      validate_error(default_problem(Op::kBatchNorm, {2, 3, 4, 5, 6, 7})),
      HasSubstr("Expected batch_norm input of rank 2 to 5, but got rank 6 (shape [2, 3, 4, 5, 6, 7])"));
  EXPECT_THAT(validate_error(default_problem(Op::kBatchNorm, {8})),
              HasSubstr("Expected batch_norm input of rank 2 to 5, but got rank 1"));
  EXPECT_THAT(validate_error(default_problem(Op::kInstanceNorm, {8, 3})),
              HasSubstr("Expected instance_norm input of rank 3 to 5, but got rank 2"));
  EXPECT_THAT(validate_error(default_problem(Op::kGroupNorm, {1, 2, 1, 1, 1, 1, 1, 1, 1})),
              HasSubstr("Expected group_norm input of rank 2 to 8, but got rank 9"));
  EXPECT_THAT(validate_error(default_problem(Op::kLayerNorm2d, {2, 3})),
              HasSubstr("Expected layer_norm_2d input of rank 3 to 5, but got rank 2"));
  EXPECT_THAT(validate_error(default_problem(Op::kLayerNorm, {})),
              HasSubstr("Expected layer_norm input of rank 1 to 8, but got rank 0 (shape [])"));
  EXPECT_THAT(validate_error(default_problem(Op::kRmsNorm, std::vector<std::int64_t>(9, 1))),
              HasSubstr("Expected rms_norm input of rank 1 to 8, but got rank 9"));
  EXPECT_TRUE(validate(default_problem(Op::kGroupNorm, std::vector<std::int64_t>(8, 2))).ok());
  EXPECT_TRUE(validate(default_problem(Op::kLayerNorm, {5})).ok());
}

TEST(ValidateProblem, SizesAndOverflow) {
  EXPECT_THAT(validate_error(default_problem(Op::kBatchNorm, {8, -3})),
              HasSubstr("Expected non-negative dims, but got shape [8, -3]"));
  const std::int64_t big = std::int64_t{1} << 32;
  EXPECT_THAT(validate_error(default_problem(Op::kBatchNorm, {big, big})),
              HasSubstr("Expected element counts that fit in int64, but got shape [4294967296, 4294967296]"));
  // numel is 0, but C*S would overflow: still refused.
  EXPECT_THAT(validate_error(default_problem(Op::kBatchNorm, {0, big, big})),
              HasSubstr("Expected element counts that fit in int64"));
  EXPECT_TRUE(validate(default_problem(Op::kBatchNorm, {big, 2})).ok());
  // A batch of 0 is fine; C = 0 is not.
  EXPECT_TRUE(validate(default_problem(Op::kBatchNorm, {0, 3, 4})).ok());
  EXPECT_TRUE(validate(default_problem(Op::kInstanceNorm, {2, 3, 0})).ok());
  EXPECT_THAT(validate_error(default_problem(Op::kInstanceNorm, {2, 0, 4})),
              HasSubstr("Expected C = shape[1] > 0 for instance_norm, but got C=0 (shape [2, 0, 4])"));
  EXPECT_THAT(validate_error(default_problem(Op::kGroupNorm, {2, 0})), HasSubstr("C=0"));
  EXPECT_THAT(parse_error("layer_norm_2d shape=2x0x3"), HasSubstr("but got C=0"));
}

// Found by fuzz/descriptor_fuzz.cc (fixtures/fuzz/descriptor/strided_padding_overflow*.txt): an
// empty problem whose dims fit but whose layout=strided storage (every dim + 1) does not passed
// validate, and strides_for(kStrided, shape) then overflowed (UBSan). Now refused.
TEST(ValidateProblem, StridedLayoutStorageMustFitToo) {
  EXPECT_THAT(
      parse_error("layer_norm shape=0x3x3x3x3x3x3x12652087842050446 layout=strided normalized_shape=12652087842050446"),
      HasSubstr("with layout=strided (the product of its dims + 1 overflows)"));
  EXPECT_THAT(parse_error("group_norm shape=0x2x2x2x2x2x2x144115188075855871 layout=strided groups=2"),
              HasSubstr("layout=strided"));
  EXPECT_THAT(parse_error("layer_norm shape=9223372036854775807 layout=strided"), HasSubstr("layout=strided"));
  // The same shapes in another layout, and a strided one whose storage fits, are valid.
  const Expected<Problem> contiguous =
      parse_problem("layer_norm shape=0x3x3x3x3x3x3x12652087842050446 normalized_shape=12652087842050446");
  ASSERT_TRUE(contiguous) << contiguous.message();
  EXPECT_EQ(strides_for(contiguous->layout, contiguous->shape).size(), 8u);
  const Expected<Problem> fits = parse_problem("batch_norm shape=0x3x4 layout=strided");
  ASSERT_TRUE(fits) << fits.message();
  EXPECT_EQ(strides_for(Layout::kStrided, fits->shape), (std::vector<std::int64_t>{20, 5, 1}));
}

TEST(ValidateProblem, GroupsMustDivideChannels) {
  Problem gn = default_problem(Op::kGroupNorm, {2, 6, 4, 5});
  gn.num_groups = 4;
  EXPECT_THAT(validate_error(gn), HasSubstr("Expected C divisible by num_groups, but got C=6, G=4"));
  gn.num_groups = 0;
  EXPECT_THAT(validate_error(gn), HasSubstr("Expected 1 <= num_groups <= C, but got G=0, C=6"));
  gn.num_groups = 12;
  EXPECT_THAT(validate_error(gn), HasSubstr("Expected 1 <= num_groups <= C, but got G=12, C=6"));
  gn.num_groups = -2;
  EXPECT_THAT(validate_error(gn), HasSubstr("G=-2"));
  Problem bn = default_problem(Op::kBatchNorm, {8, 6});
  bn.num_groups = 2;
  EXPECT_THAT(validate_error(bn), HasSubstr("Expected num_groups=1 for batch_norm"));
}

TEST(ValidateProblem, NormalizedShapeMustBeTheTrailingDims) {
  Problem ln = default_problem(Op::kLayerNorm, {2, 3, 4, 5});
  ln.normalized_shape = {5, 4};
  EXPECT_THAT(validate_error(ln), HasSubstr("Expected normalized_shape [5, 4] to match the trailing dims of "
                                            "shape [2, 3, 4, 5], but got [4, 5]"));
  ln.normalized_shape = {1, 2, 3, 4, 5};
  EXPECT_THAT(validate_error(ln), HasSubstr("but got only 4 dims"));
  ln.normalized_shape = {};
  EXPECT_THAT(validate_error(ln),
              HasSubstr("Expected a non-empty normalized_shape for layer_norm, but got []"));
  Problem rms = default_problem(Op::kRmsNorm, {2, 3});
  rms.normalized_shape = {2};
  EXPECT_THAT(validate_error(rms), HasSubstr("Expected normalized_shape [2] to match"));
  Problem bn = default_problem(Op::kBatchNorm, {8, 3});
  bn.normalized_shape = {3};
  EXPECT_THAT(validate_error(bn), HasSubstr("Expected no normalized_shape for batch_norm"));
  EXPECT_THAT(parse_error("layer_norm shape=2x3x4 normalized_shape=3"), HasSubstr("but got [4]"));
}

TEST(ValidateProblem, EpsMomentumAndFlags) {
  Problem bn = default_problem(Op::kBatchNorm, {8, 3});
  bn.eps = std::nullopt;
  EXPECT_THAT(validate_error(bn), HasSubstr("Expected an eps value for batch_norm"));
  bn.eps = -1e-5;
  EXPECT_THAT(validate_error(bn),
              HasSubstr("Expected eps to be a finite number >= 0 or 'none', but got -1e-05"));
  bn.eps = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THAT(validate_error(bn), HasSubstr("but got nan"));
  bn.eps = 1e-5;
  bn.momentum = std::numeric_limits<double>::infinity();
  EXPECT_THAT(validate_error(bn),
              HasSubstr("Expected momentum to be a finite number or 'none', but got inf"));
  bn.momentum = std::nullopt;
  EXPECT_TRUE(validate(bn).ok());
  bn.profile = Profile::kOnnx;
  EXPECT_THAT(validate_error(bn),
              HasSubstr("Expected a momentum value under the onnx profile (momentum=none is PyTorch's "
                        "cumulative average), but got none"));
  Problem gn = default_problem(Op::kGroupNorm, {2, 4}, Profile::kOnnx);
  gn.affine = false;
  EXPECT_THAT(validate_error(gn), HasSubstr("Expected bias=0 when affine=0 under the onnx profile"));
  gn.bias = false;
  EXPECT_TRUE(validate(gn).ok());
  gn.profile = Profile::kKeras, gn.bias = true;  // center=True, scale=False
  EXPECT_TRUE(validate(gn).ok());
  for (Op op : {Op::kLayerNorm, Op::kGroupNorm, Op::kRmsNorm, Op::kLayerNorm2d}) {
    Problem p = default_problem(op, {2, 4, 3});
    p.track_running_stats = true;
    EXPECT_THAT(validate_error(p), HasSubstr("Expected track_running_stats=0 for " + std::string(name(op)) +
                                             ", which has no running statistics, but got 1"));
  }
  Problem in = default_problem(Op::kInstanceNorm, {2, 4, 3});
  in.track_running_stats = true;
  EXPECT_TRUE(validate(in).ok());
  Problem rms = default_problem(Op::kRmsNorm, {2, 4});
  rms.eps = std::nullopt;
  rms.profile = Profile::kKeras;
  EXPECT_TRUE(validate(rms).ok());  // eps=none is rms_norm's, whatever the profile
}

TEST(ValidateProblem, EpsAndMomentumWithinTheTypeTheProfileHoldsThemIn) {
  // onnx holds both as float32 attributes; keras and pytorch in the compute type (float64 for
  // float64 data): a value that type cannot hold would become inf.
  Problem bn = default_problem(Op::kBatchNorm, {8, 3}, Profile::kOnnx);
  bn.dtype = DType::kFloat64;
  bn.eps = 1e39;
  EXPECT_THAT(validate_error(bn), HasSubstr("Expected eps within float32's range (the onnx profile holds it as "
                                            "float32 for float64 data), but got 1e+39"));
  bn.profile = Profile::kKeras;
  EXPECT_TRUE(validate(bn).ok()) << validate(bn).message();
  bn.dtype = DType::kBFloat16, bn.eps = 1e-3, bn.momentum = -1e39;
  EXPECT_THAT(validate_error(bn), HasSubstr("Expected momentum within float32's range (the keras profile holds it "
                                            "as float32 for bfloat16 data), but got -1e+39"));
  bn.momentum = -3e38;  // rounds to a finite float32
  EXPECT_TRUE(validate(bn).ok()) << validate(bn).message();
}

TEST(ValidateProblem, ChannelsLastNeedsAChannelDimAndRank3) {
  Problem ln = default_problem(Op::kLayerNorm, {2, 3, 4});
  ln.layout = Layout::kChannelsLast;
  EXPECT_THAT(validate_error(ln), HasSubstr("Expected layout=contiguous for layer_norm, which has no channel "
                                            "dim, but got channels_last"));
  Problem rms = default_problem(Op::kRmsNorm, {2, 3, 4});
  rms.layout = Layout::kChannelsLast;
  EXPECT_THAT(validate_error(rms), HasSubstr("for rms_norm"));
  Problem bn = default_problem(Op::kBatchNorm, {8, 3});
  bn.layout = Layout::kChannelsLast;
  EXPECT_THAT(validate_error(bn),
              HasSubstr("Expected rank >= 3 for layout=channels_last, but got rank 2 (shape [8, 3])"));
  for (Op op : {Op::kBatchNorm, Op::kInstanceNorm, Op::kGroupNorm, Op::kLayerNorm2d}) {
    Problem p = default_problem(op, {2, 4, 3, 3});
    p.layout = Layout::kChannelsLast;
    EXPECT_TRUE(validate(p).ok()) << validate(p).message();
  }
}

// ---- geometry ------------------------------------------------------------------------------------

struct GeometryCase {
  Problem p;
  Geometry want;
};

Problem with_groups(Problem p, std::int64_t g) {
  p.num_groups = g;
  return p;
}
Problem with_normalized(Problem p, std::vector<std::int64_t> ns) {
  p.normalized_shape = std::move(ns);
  return p;
}

TEST(ProblemGeometry, ReducesEachOpToNCSAndSets) {
  const GeometryCase cases[] = {
      {with_groups(default_problem(Op::kGroupNorm, {2, 6, 4, 5}), 3), {2, 6, 20, 3, 6, 40}},
      {with_normalized(default_problem(Op::kLayerNorm, {2, 3, 4, 5}), {4, 5}), {6, 20, 1, 1, 6, 20}},
      {with_normalized(default_problem(Op::kRmsNorm, {2, 3, 4, 5}), {4, 5}), {6, 20, 1, 1, 6, 20}},
      {default_problem(Op::kRmsNorm, {7}), {1, 7, 1, 1, 1, 7}},
      {default_problem(Op::kBatchNorm, {8, 3}), {8, 3, 1, 1, 3, 8}},
      {default_problem(Op::kBatchNorm, {8, 3, 5, 5}), {8, 3, 25, 1, 3, 200}},
      {default_problem(Op::kLayerNorm2d, {2, 3, 4, 5}), {2, 3, 20, 1, 40, 3}},
      {default_problem(Op::kInstanceNorm, {2, 3, 7}), {2, 3, 7, 1, 6, 7}},
      {default_problem(Op::kGroupNorm, {2, 6}), {2, 6, 1, 1, 2, 6}},
      {default_problem(Op::kBatchNorm, {0, 3, 4}), {0, 3, 4, 1, 3, 0}},
  };
  for (const GeometryCase& c : cases) {
    SCOPED_TRACE(to_string(c.p));
    auto g = geometry(c.p);
    ASSERT_TRUE(g.ok()) << g.message();
    EXPECT_EQ(g->N, c.want.N);
    EXPECT_EQ(g->C, c.want.C);
    EXPECT_EQ(g->S, c.want.S);
    EXPECT_EQ(g->G, c.want.G);
    EXPECT_EQ(g->num_sets, c.want.num_sets);
    EXPECT_EQ(g->set_size, c.want.set_size);
    EXPECT_EQ(g->num_sets * g->set_size, g->N * g->C * g->S) << "the sets partition the elements";
  }
}

TEST(ProblemGeometry, RefusesAnInvalidProblem) {
  auto g = geometry(with_groups(default_problem(Op::kGroupNorm, {2, 6, 4, 5}), 4));
  ASSERT_FALSE(g.ok());
  EXPECT_THAT(g.message(), HasSubstr("Expected C divisible by num_groups"));
}

TEST(ProblemEffectiveEps, NoneMeansTheDtypeMachineEpsilon) {
  Problem rms = default_problem(Op::kRmsNorm, {2, 4});
  for (DType dt : kAllDTypes) {
    rms.dtype = dt;
    EXPECT_EQ(effective_eps(rms), info(dt).epsilon);
  }
  rms.dtype = DType::kFloat32;
  EXPECT_EQ(effective_eps(rms), std::ldexp(1.0, -23));
  rms.dtype = DType::kBFloat16;
  EXPECT_EQ(effective_eps(rms), std::ldexp(1.0, -7));
  // A given eps, as the framework holds it: float32 for bfloat16 / float32 data (the compute type).
  rms.eps = 1e-6;
  EXPECT_EQ(effective_eps(rms), static_cast<double>(static_cast<float>(1e-6)));
  EXPECT_EQ(effective_eps(default_problem(Op::kBatchNorm, {8, 3}, Profile::kKeras)),
            static_cast<double>(static_cast<float>(1e-3)));
  rms.dtype = DType::kFloat64;
  EXPECT_EQ(effective_eps(rms), 1e-6);
}

}  // namespace
}  // namespace normcheck

namespace normcheck {
namespace {

/// v cast to float32 by the C++ conversion (round to nearest even), independent of round_to.
double as_float(double v) { return static_cast<double>(static_cast<float>(v)); }

TEST(ProblemHeldParams, EpsAsEachFrameworkHoldsIt) {
  for (DType t : kAllDTypes) {
    for (Profile profile : kAllProfiles) {
      Problem p = default_problem(Op::kLayerNorm, {2, 3}, profile);
      p.dtype = t;
      p.eps = 1e-5;
      SCOPED_TRACE(to_string(p));
      // onnx: a float attribute; keras, pytorch: the compute type, float32 unless data is float64.
      const bool narrow = profile == Profile::kOnnx || t != DType::kFloat64;
      EXPECT_EQ(effective_eps(p), narrow ? as_float(1e-5) : 1e-5);
    }
  }
  Problem rms = default_problem(Op::kRmsNorm, {2, 3});  // eps=None: float32's machine epsilon, exact
  EXPECT_EQ(effective_eps(rms), std::ldexp(1.0, -23));
  EXPECT_NE(as_float(1e-5), 1e-5);  // else the loop above could not tell the holdings apart
}

TEST(ProblemHeldParams, MomentumWeightsAsEachFrameworkFormsThem) {
  const double m = 0.99;
  Problem onnx = default_problem(Op::kBatchNorm, {4, 3}, Profile::kOnnx);
  onnx.momentum = m;
  // ONNX Runtime: momentum_ a float, (1. - momentum_) in double, cast to T.
  for (DType t : {DType::kFloat32, DType::kFloat64}) {
    onnx.dtype = t;
    const RunningWeights w = held_momentum(onnx, 0);
    EXPECT_EQ(w.keep, as_float(m));
    EXPECT_EQ(w.take, 1.0 - as_float(m));  // exact in float32 as in float64 (Sterbenz)
  }
  Problem keras = default_problem(Op::kBatchNorm, {4, 3}, Profile::kKeras);
  keras.momentum = m;
  keras.dtype = DType::kFloat16;  // computed in float32: moving * momentum + batch * (1.0 - momentum)
  RunningWeights w = held_momentum(keras, 0);
  EXPECT_EQ(w.keep, as_float(m));
  EXPECT_EQ(w.take, as_float(1.0 - m));
  EXPECT_NE(w.keep + w.take, 1.0);  // each weight rounded on its own
  keras.dtype = DType::kFloat64;
  w = held_momentum(keras, 0);
  EXPECT_EQ(w.keep, m);
  EXPECT_EQ(w.take, 1.0 - m);
  Problem torch = default_problem(Op::kBatchNorm, {4, 3});
  torch.momentum = 0.1;
  w = held_momentum(torch, 0);  // ATen: static_cast<acc_t>(momentum), then 1 - momentum in acc_t
  EXPECT_EQ(w.take, as_float(0.1));
  EXPECT_EQ(w.keep, as_float(1.0 - as_float(0.1)));
  EXPECT_NE(w.keep, 1.0 - w.take);  // 1 - float(0.1) is not a float32
  torch.momentum = std::nullopt;  // the module's 1.0 / num_batches_tracked, then the same cast
  w = held_momentum(torch, 3);
  EXPECT_EQ(w.take, as_float(1.0 / 3));
  EXPECT_EQ(w.keep, as_float(1.0 - as_float(1.0 / 3)));
  torch.dtype = DType::kFloat64;
  w = held_momentum(torch, 3);
  EXPECT_EQ(w.take, 1.0 / 3);
  EXPECT_EQ(w.keep, 1.0 - 1.0 / 3);
}

TEST(ProblemDerived, AffineShapeRunningStatsAndStatsDtype) {
  Problem ln = default_problem(Op::kLayerNorm, {2, 3, 4});
  ln.normalized_shape = {3, 4};
  EXPECT_EQ(affine_shape(ln), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(affine_shape(default_problem(Op::kGroupNorm, {2, 6, 5})), std::vector<std::int64_t>{6});
  Problem bn = default_problem(Op::kBatchNorm, {4, 3});
  EXPECT_TRUE(tracks_running_stats(bn));
  EXPECT_FALSE(uses_running_stats(bn));
  bn.mode = Mode::kEval;
  EXPECT_TRUE(uses_running_stats(bn));
  bn.track_running_stats = false;
  EXPECT_FALSE(uses_running_stats(bn)) << "eval without buffers uses batch statistics";
  EXPECT_FALSE(tracks_running_stats(default_problem(Op::kInstanceNorm, {2, 3, 4})));
  EXPECT_FALSE(tracks_running_stats(default_problem(Op::kLayerNorm, {2, 3})));
  EXPECT_EQ(stats_dtype(DType::kFloat64), DType::kFloat64);
  for (DType t : {DType::kFloat32, DType::kFloat16, DType::kBFloat16}) EXPECT_EQ(stats_dtype(t), DType::kFloat32);
}

}  // namespace
}  // namespace normcheck
