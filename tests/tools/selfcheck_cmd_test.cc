// `normcheck selfcheck`, `normcheck demo` (and plain `normcheck`), `--help` and the hidden
// `gen-sample`, run as a user runs them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "normcheck/npy.h"
#include "run_normcheck.h"

namespace normcheck::tool {
namespace {

namespace fs = std::filesystem;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using testing::line_count;
using ::testing::Not;
using testing::run_normcheck;
using testing::ScratchDir;

constexpr int kGroups = 6 * 4 * 2 * 2;  // op x dtype x mode x direction

TEST(Selfcheck, PassesAndPrintsOneLinePerGroupAndASummary) {
  const ScratchDir dir;
  const testing::RunResult run = run_normcheck({"selfcheck", "--seed", "11", "--cases", "2"}, dir.path());
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(line_count(run.out), kGroups + 1);
  EXPECT_THAT(run.out, HasSubstr("selfcheck: batch_norm float32 train forward: ok"));
  EXPECT_THAT(run.out, HasSubstr("selfcheck: rms_norm bfloat16 eval backward: ok"));
  EXPECT_THAT(run.out, HasSubstr("selfcheck: 96 passed, 0 failed"));
  EXPECT_THAT(run.out, Not(HasSubstr("FAILED")));
}

TEST(Selfcheck, RejectsAZeroCaseCount) {
  const ScratchDir dir;
  const testing::RunResult run = run_normcheck({"selfcheck", "--cases", "0"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(line_count(run.err), 1);
  EXPECT_THAT(run.err, HasSubstr("--cases"));
}

void expect_sample(const fs::path& dir, const std::string& folder, const std::vector<std::int64_t>& shape) {
  for (const char* file :
       {"x.npy", "weight.npy", "bias.npy", "y.npy", "y_bound.npy", "mean.npy", "rstd.npy"}) {
    EXPECT_TRUE(fs::exists(dir / folder / file)) << folder << "/" << file;
  }
  Expected<Tensor> y = read_npy((dir / folder / "y.npy").string());
  ASSERT_TRUE(y) << y.message();
  EXPECT_EQ(y->dtype(), DType::kFloat32);
  EXPECT_EQ(y->shape(), shape);
}

TEST(Demo, SelfChecksAndWritesBothSamples) {
  const ScratchDir dir;
  const testing::RunResult run = run_normcheck({"demo", "--out", "samples"}, dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("selfcheck: 96 passed, 0 failed"));
  EXPECT_THAT(run.out, HasSubstr("batch_norm shape=8x16x14x14 dtype=float32"));
  EXPECT_THAT(run.out, HasSubstr("layer_norm shape=64x1024 dtype=float32"));
  EXPECT_THAT(run.out, HasSubstr("max |y| = "));
  EXPECT_THAT(run.out, HasSubstr("0 uncertified"));
  expect_sample(dir.path() / "samples", "batch_norm_8x16x14x14_float32", {8, 16, 14, 14});
  expect_sample(dir.path() / "samples", "layer_norm_64x1024_float32", {64, 1024});
  EXPECT_TRUE(fs::exists(dir.path() / "samples/batch_norm_8x16x14x14_float32/running_var.npy"));
}

TEST(Demo, WritesTheSampleProblems) {
  const ScratchDir dir;
  const testing::RunResult run = run_normcheck({"demo"}, dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  expect_sample(dir.path() / "normcheck-report/sample", "layer_norm_64x1024_float32", {64, 1024});
}

TEST(Help, ListsTheSubcommandsAndTheExitCodes) {
  const ScratchDir dir;
  const testing::RunResult top = run_normcheck({"--help"}, dir.path());
  EXPECT_EQ(top.exit_code, 0);
  for (const char* word : {"reference", "selfcheck", "demo", "Exit codes: 0 ok", "2 usage or input error"}) {
    EXPECT_THAT(top.out, HasSubstr(word));
  }
  EXPECT_THAT(top.out, Not(HasSubstr("gen-sample")));  // hidden
  const testing::RunResult ref = run_normcheck({"reference", "--help"}, dir.path());
  EXPECT_EQ(ref.exit_code, 0);
  for (const char* word : {"--problem", "--grad-output", "--num-batches-tracked", "2 usage or input error"}) {
    EXPECT_THAT(ref.out, HasSubstr(word));
  }
}

TEST(Usage, AnUnknownSubcommandIsAUsageError) {
  const ScratchDir dir;
  const testing::RunResult run = run_normcheck({"frobnicate"}, dir.path());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(line_count(run.err), 1);
  EXPECT_THAT(run.err, HasSubstr("normcheck: error: "));
  EXPECT_THAT(run.err, HasSubstr("frobnicate"));
}

TEST(GenSample, WritesTheInputsAProblemTakes) {
  const ScratchDir dir;
  const testing::RunResult run =
      run_normcheck({"gen-sample", "--problem", "batch_norm shape=2x3x4 direction=backward", "--out", "in",
                     "--offset", "5"},
                    dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto json = nlohmann::json::parse(run.out);
  EXPECT_EQ(json["inputs"],
            (std::vector<std::string>{"x", "weight", "bias", "running_mean", "running_var", "grad_output"}));
  Expected<Tensor> x = read_npy((dir.path() / "in/x.npy").string());
  ASSERT_TRUE(x) << x.message();
  EXPECT_EQ(x->shape(), (std::vector<std::int64_t>{2, 3, 4}));
}

}  // namespace
}  // namespace normcheck::tool
