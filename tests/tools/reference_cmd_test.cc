// `normcheck reference` as a user runs it: outputs bit-for-bit equal to reference::evaluate called
// directly, and every bad input answered by one line on stderr and exit code 2.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "normcheck/npy.h"
#include "reference/reference.h"
#include "run_normcheck.h"
#include "tools/normcheck/input_set.h"
#include "tools/normcheck/output_files.h"
#include "tools/normcheck/sample_inputs.h"

namespace normcheck::tool {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::line_count;
using testing::run_normcheck;
using testing::ScratchDir;
using ::testing::StartsWith;

/// True when a and b have the same dtype, shape and bytes.
::testing::AssertionResult same_bits(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) return ::testing::AssertionFailure() << "dtypes differ";
  if (a.shape() != b.shape()) return ::testing::AssertionFailure() << "shapes differ";
  if (std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * size_of(a.dtype())) != 0)
    return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

/// The options that give each present input, with paths relative to the working directory.
std::vector<std::string> input_args(const InputSet& in, const std::string& dir) {
  std::vector<std::string> args;
  for (const InputSlot& slot : input_slots()) {
    const bool present = slot.required || (in.*slot.optional).has_value();
    if (!present) continue;
    args.emplace_back(slot.option);
    args.push_back(dir + "/" + std::string(slot.name) + ".npy");
  }
  return args;
}

class ReferenceRoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(ReferenceRoundTrip, OutputsEqualEvaluateBitForBit) {
  const ScratchDir dir;
  Expected<Problem> p = parse_problem(GetParam());
  ASSERT_TRUE(p) << p.message();
  Expected<InputSet> in = make_sample_inputs(*p, {42, 10.0, 1.0});
  ASSERT_TRUE(in) << in.message();
  in->num_batches_tracked = 7;
  fs::create_directories(dir.path() / "in");
  ASSERT_TRUE(write_input_set(dir / "in", *in));

  std::vector<std::string> args = {"reference", "--problem", GetParam()};
  for (const std::string& a : input_args(*in, "in")) args.push_back(a);
  for (const char* a : {"--num-batches-tracked", "7", "--out", "out/nested"}) args.emplace_back(a);
  const testing::RunResult run = run_normcheck(args, dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  ASSERT_EQ(line_count(run.out), 1) << run.out;

  Expected<reference::Result> want = reference::evaluate(*p, in->views());
  ASSERT_TRUE(want) << want.message();
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["problem"], to_string(*p));
  EXPECT_EQ(json["num_batches_tracked"], want->num_batches_tracked);
  const reference::Certification& c = want->certification;
  const auto& jc = json["certification"];
  EXPECT_EQ(jc["values"], c.values);
  EXPECT_EQ(jc["fast"], c.at_level[0]);
  EXPECT_EQ(jc["bits256"], c.at_level[1]);
  EXPECT_EQ(jc["bits1024"], c.at_level[2]);
  EXPECT_EQ(jc["bits4096"], c.at_level[3]);
  EXPECT_EQ(jc["exact"], c.exact);
  EXPECT_EQ(jc["uncertified"], c.uncertified);
  EXPECT_EQ(jc["escalations"], c.escalations());

  std::vector<std::string> names;
  for (const NamedOutput& o : present_outputs(*want)) {
    names.emplace_back(o.name);
    const std::string stem = dir / ("out/nested/" + std::string(o.name));
    Expected<Tensor> got = read_npy(stem + ".npy");
    ASSERT_TRUE(got) << got.message();
    EXPECT_TRUE(same_bits(*got, *o.value)) << o.name;
    ASSERT_NE(o.bound, nullptr) << o.name << " has no bound";  // every output carries one
    Expected<Tensor> bound = read_npy(stem + "_bound.npy");
    ASSERT_TRUE(bound) << bound.message();
    EXPECT_EQ(bound->dtype(), DType::kFloat64);
    EXPECT_TRUE(same_bits(*bound, *o.bound)) << o.name << "_bound";
  }
  EXPECT_EQ(json["outputs"], names);
}

INSTANTIATE_TEST_SUITE_P(
    Problems, ReferenceRoundTrip,
    ::testing::Values("batch_norm shape=4x3x5x5 dtype=float32",
                      "batch_norm shape=4x3x5 dtype=float16 mode=eval",
                      "batch_norm shape=4x3 dtype=float32 momentum=none direction=backward",
                      "layer_norm shape=6x8 normalized_shape=8 dtype=bfloat16 direction=backward",
                      "instance_norm shape=2x3x7 dtype=float64 track_running_stats=1 affine=1 bias=1",
                      "group_norm shape=2x6x4 groups=3 dtype=float32 direction=backward",
                      "rms_norm shape=3x2x5 normalized_shape=2x5 dtype=float64",
                      "layer_norm_2d shape=2x4x3x3 dtype=float16 profile=keras"));

// ---- bad input: exit 2, nothing on stdout, one line on stderr that names the problem --------------

constexpr const char* kProblem = "batch_norm shape=4x3x5 dtype=float32";

struct BadCase {
  const char* name;
  std::vector<std::string> args;  ///< after "reference"
  const char* message;            ///< a substring the error line must contain
};

/// The good arguments with one option replaced (value "" drops it) or added.
std::vector<std::string> good_args_with(const std::string& option, const std::string& value) {
  std::vector<std::pair<std::string, std::string>> opts = {{"--problem", kProblem},
                                                           {"--input", "x.npy"},
                                                           {"--weight", "weight.npy"},
                                                           {"--bias", "bias.npy"},
                                                           {"--running-mean", "running_mean.npy"},
                                                           {"--running-var", "running_var.npy"},
                                                           {"--out", "out"}};
  bool replaced = false;
  for (auto& [o, v] : opts) {
    if (o == option) v = value, replaced = true;
  }
  if (!replaced) opts.emplace_back(option, value);
  std::vector<std::string> args;
  for (const auto& [o, v] : opts) {
    if (v.empty()) continue;
    args.push_back(o);
    args.push_back(v);
  }
  return args;
}

std::string with_field(const std::string& field) { return std::string(kProblem) + " " + field; }

std::vector<BadCase> bad_cases() {
  return {
      {"MissingFile", good_args_with("--input", "missing.npy"), "--input: missing.npy: cannot open"},
      {"NotNpy", good_args_with("--input", "garbage.npy"), "garbage.npy: Expected a .npy file"},
      {"TruncatedNpy", good_args_with("--weight", "truncated.npy"), "truncated data"},
      {"Directory", good_args_with("--input", "."), "Is a directory"},
      {"WrongDtype", good_args_with("--input", "x64.npy"),
       "x64.npy: Expected dtype float32 (the problem's dtype), but got float64"},
      {"WrongDtypeOfWeight", good_args_with("--weight", "x64.npy"),
       "--weight x64.npy: Expected dtype float32"},
      {"WrongShape", good_args_with("--input", "x_wide.npy"),
       "Expected shape [4, 3, 5] (the problem's shape), but got [4, 3, 6]"},
      {"WrongWeightShape", good_args_with("--weight", "x.npy"),
       "Expected weight of shape [3], but got [4, 3, 5]"},
      {"UnknownOp", good_args_with("--problem", "batch_nrm shape=4x3x5"), "--problem: Expected an op name"},
      {"UnknownField", good_args_with("--problem", with_field("colour=red")),
       "--problem: Unknown field 'colour'"},
      {"NaNEps", good_args_with("--problem", with_field("eps=nan")), "Expected eps to be a finite number"},
      {"NaNMomentum", good_args_with("--problem", with_field("momentum=nan")), "momentum"},
      {"BadShape", good_args_with("--problem", "batch_norm shape=4xAx5"), "shape"},
      {"MissingWeight", good_args_with("--weight", ""),
       "Expected a weight of shape [3] (affine=1), but got none (option --weight)"},
      {"UnexpectedWeight", good_args_with("--problem", with_field("affine=0")),
       "Expected no weight (affine=0)"},
      {"MissingRunningVar", good_args_with("--running-var", ""), "Expected a running_var"},
      {"MissingGradOutput", good_args_with("--problem", with_field("direction=backward")),
       "Expected a grad_output"},
      {"OneValuePerChannel",
       [] {
         auto a = good_args_with("--problem", "batch_norm shape=1x3 dtype=float32");
         a[3] = "x_one.npy";
         return a;
       }(),
       "Expected more than 1 value per channel when training"},
      {"NegativeBatchesTracked", good_args_with("--num-batches-tracked", "-1"),
       "--num-batches-tracked: Expected an integer in [0, 9223372036854775807], but got '-1'"},
      {"NonIntegerBatchesTracked", good_args_with("--num-batches-tracked", "1.5"), "--num-batches-tracked"},
      {"OutUnderAFile", good_args_with("--out", "garbage.npy/out"),
       "--out: Expected a directory at garbage.npy/out"},
      {"MissingProblem", good_args_with("--problem", ""), "--problem is required"},
      {"MissingOut", good_args_with("--out", ""), "--out is required"},
      {"UnknownOption", good_args_with("--colour", "red"), "--colour"},
  };
}

class ReferenceBadInput : public ::testing::TestWithParam<BadCase> {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<ScratchDir>();
    Expected<Problem> p = parse_problem(kProblem);
    ASSERT_TRUE(p) << p.message();
    Expected<InputSet> in = make_sample_inputs(*p, {7, 0.0, 1.0});
    ASSERT_TRUE(in) << in.message();
    ASSERT_TRUE(write_input_set(dir_->path().string(), *in));
    auto write = [&](const std::string& file, const Tensor& t) {
      ASSERT_TRUE(write_npy(*dir_ / file, t.view()));
    };
    write("x64.npy", Tensor::from_values(DType::kFloat64, {4, 3, 5}, in->x.values()));
    write("x_wide.npy", Tensor::empty(DType::kFloat32, {4, 3, 6}));
    write("x_one.npy", Tensor::from_values(DType::kFloat32, {1, 3}, std::vector<double>{1, 2, 3}));
    std::ofstream(*dir_ / "garbage.npy") << "not a numpy file\n";
    // weight.npy without its last 4 bytes.
    std::ifstream w(*dir_ / "weight.npy", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(w)), std::istreambuf_iterator<char>());
    std::ofstream(*dir_ / "truncated.npy", std::ios::binary) << bytes.substr(0, bytes.size() - 4);
  }
  std::unique_ptr<ScratchDir> dir_;
};

TEST_P(ReferenceBadInput, ExitsWithCode2AndOneLineNamingTheProblem) {
  std::vector<std::string> args = {"reference"};
  for (const std::string& a : GetParam().args) args.push_back(a);
  const testing::RunResult run = run_normcheck(args, dir_->path());
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(line_count(run.err), 1) << run.err;
  EXPECT_THAT(run.err, StartsWith("normcheck: error: "));
  EXPECT_THAT(run.err, HasSubstr(GetParam().message));
  EXPECT_FALSE(fs::exists(dir_->path() / "out" / "y.npy")) << "no output after an error";
}

INSTANTIATE_TEST_SUITE_P(Cases, ReferenceBadInput, ::testing::ValuesIn(bad_cases()),
                         [](const ::testing::TestParamInfo<BadCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

}  // namespace
}  // namespace normcheck::tool
