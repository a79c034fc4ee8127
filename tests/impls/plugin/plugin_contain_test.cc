// What a plugin may not do besides computing wrong values, seen at the plugin's interface: write
// past an output in the shared region (bad/past_y_*.c), modify an input (bad/modifies_x.c,
// bad/running_in_eval.c), answer a refusal with another error (bad/refusal_*.c), or depend on the
// worker's history (bad/second_call_differs.c, seen across restart()). Each bad plugin is c-norms
// with that one defect, so the same cases pass through the example itself.
#include <gtest/gtest.h>

#include <cstring>

#include "properties/run_case.h"
#include "reference/reference.h"
#include "tests/impls/plugin/plugin_test_util.h"

namespace normcheck::testing {
namespace {

/// A float32 layer_norm of `rows` rows of length d.
Problem rows_of(std::int64_t rows, std::int64_t d) {
  Problem p = default_problem(Op::kLayerNorm, {rows, d});
  p.normalized_shape = {d};
  return p;
}

/// PyTorch's refusal: batch_norm training on one value per channel.
Problem one_value_per_channel() { return default_problem(Op::kBatchNorm, {1, 3}); }

Status run_once(impls::Implementation& impl, const Problem& p, std::uint64_t seed = 3) {
  OwnedInputs in = make_inputs(p, seed);
  return run_case(impl, p, in.inputs).status;
}

TEST(PluginContain, WritesPastAnOutputAreNamed) {
  for (const char* stem : {"past_y_element", "past_y_vector"}) {
    auto impl = load_ok(bad_plugin(stem));
    ASSERT_TRUE(impl);
    const Status s = run_once(*impl, rows_of(3, 7));  // 7 % 8 != 0: both write past y
    EXPECT_EQ(s.kind(), ErrorKind::kOther) << stem;
    EXPECT_EQ(s.message().rfind("plugin wrote past the end of y (0 bytes after its last element)", 0), 0u)
        << stem << ": " << s.message();
  }
  // The one-element tail bug only on rows that are not a multiple of 8: otherwise right.
  auto element = load_ok(bad_plugin("past_y_element"));
  ASSERT_TRUE(element);
  EXPECT_TRUE(run_once(*element, rows_of(3, 8)).ok());
  auto example = load_ok(example_plugin());
  ASSERT_TRUE(example);
  EXPECT_TRUE(run_once(*example, rows_of(3, 7)).ok());
}

TEST(PluginContain, WritesBeforeAnOutputOrIntoAStridedGapAreNamed) {
  auto impl = load_ok(bad_plugin("writes_before_y"));
  ASSERT_TRUE(impl);
  Problem p = layer_norm_problem(3);
  EXPECT_EQ(run_once(*impl, p).message(), "plugin wrote before the start of y (4 bytes before its first element)");
  p.layout = Layout::kStrided;
  EXPECT_EQ(run_once(*impl, p).message(), "plugin wrote between the elements of y (a gap of its strided layout)");
}

TEST(PluginContain, ModifiedInputIsNamed) {
  auto impl = load_ok(bad_plugin("modifies_x"));
  ASSERT_TRUE(impl);
  const Status s = run_once(*impl, rows_of(2, 5));
  EXPECT_EQ(s.message(), "plugin modified its input x");
  Problem bn = default_problem(Op::kBatchNorm, {4, 3});
  EXPECT_EQ(run_once(*impl, bn).message(), "plugin modified its input x");
}

TEST(PluginContain, RunningStatisticsAreInputsInEval) {
  auto impl = load_ok(bad_plugin("running_in_eval"));
  ASSERT_TRUE(impl);
  Problem p = default_problem(Op::kBatchNorm, {4, 3});
  p.mode = Mode::kEval;
  EXPECT_EQ(run_once(*impl, p).message(),
            "plugin modified its input running_mean (running statistics are not updated in this problem)");
  p.mode = Mode::kTrain;  // forward updates them: an output, which the plugin writes correctly
  EXPECT_TRUE(run_once(*impl, p).ok());
}

TEST(PluginContain, OnlyNcErrorInputIsARefusal) {
  const std::string words = "Expected more than 1 value per channel when training, got input size [1, 3]";
  auto example = load_ok(example_plugin());
  ASSERT_TRUE(example);
  const Status refused = run_once(*example, one_value_per_channel());
  EXPECT_TRUE(refused.is_refusal()) << refused.message();
  EXPECT_EQ(refused.message(), words);
  const std::pair<const char*, std::string> others[] = {
      {"refusal_internal", "plugin error 3: " + words},
      {"refusal_unsupported", "plugin refused at run time: one value per channel is not implemented"},
      {"refusal_crash", "plugin crashed: signal 11"}};
  for (const auto& [stem, message] : others) {
    auto impl = load_ok(bad_plugin(stem));
    ASSERT_TRUE(impl);
    const Status s = run_once(*impl, one_value_per_channel());
    EXPECT_EQ(s.kind(), ErrorKind::kOther) << stem;
    EXPECT_EQ(s.message().rfind(message, 0), 0u) << stem << ": " << s.message();
    EXPECT_TRUE(run_once(*impl, default_problem(Op::kBatchNorm, {2, 3})).ok()) << stem;  // right elsewhere
  }
}

TEST(PluginContain, JudgePassesOnlyTheRefusalAndNotesItsWording) {
  // judge() on the refusal case: the example's NC_ERROR_INPUT passes; the same words as another
  // kind of error fail, saying what came instead; a refusal in other words passes with a note.
  const Problem p = one_value_per_channel();
  OwnedInputs in = make_inputs(p, 5);
  auto judged = [&](Status got) {
    properties::Evaluated e;
    e.want = reference::evaluate(p, in.inputs);
    e.got.status = std::move(got);
    return properties::judge(p, e, in.inputs.x, {});
  };
  auto example = load_ok(example_plugin());
  ASSERT_TRUE(example);
  const properties::CaseResult ok = judged(run_once(*example, p));
  EXPECT_TRUE(ok.passed()) << ok.detail;
  EXPECT_EQ(ok.compared, 1);
  EXPECT_EQ(ok.detail, "");
  const properties::CaseResult other = judged(Status::error("plugin error 3: Expected more than 1 value per channel"));
  EXPECT_FALSE(other.passed());
  EXPECT_NE(other.detail.find("but got another error: plugin error 3: "), std::string::npos) << other.detail;
  const properties::CaseResult reworded = judged(Status::refusal("BatchNorm needs a batch of 2 or more"));
  EXPECT_TRUE(reworded.passed());
  EXPECT_EQ(reworded.detail,
            "note: the refusal's message lacks the key phrase \"more than 1 value per channel when training\": "
            "BatchNorm needs a batch of 2 or more");
  const properties::CaseResult shouting = judged(Status::refusal("EXPECTED MORE THAN 1 VALUE PER CHANNEL WHEN TRAINING"));
  EXPECT_TRUE(shouting.passed());
  EXPECT_EQ(shouting.detail, "");  // the key phrase is compared ignoring case
}

TEST(PluginContain, RestartGivesAFreshWorker) {
  // The 2nd forward in a worker is one ulp off in y[0]; restart() makes the next call a 1st again.
  auto impl = load_ok(bad_plugin("second_call_differs"));
  ASSERT_TRUE(impl);
  const Problem p = rows_of(2, 6);
  OwnedInputs in = make_inputs(p, 9);
  auto y0_bits = [&] {
    RunResult r = run_case(*impl, p, in.inputs);
    EXPECT_TRUE(r.status.ok()) << r.status.message();
    float y0 = 0;
    std::memcpy(&y0, r.out.views.y.data, sizeof y0);
    return y0;
  };
  ASSERT_TRUE(impl->restart().ok());
  const float fresh = y0_bits(), second = y0_bits(), third = y0_bits();
  EXPECT_NE(fresh, second);
  EXPECT_EQ(fresh, third);
  ASSERT_TRUE(impl->restart().ok());
  EXPECT_EQ(y0_bits(), fresh);
}

}  // namespace
}  // namespace normcheck::testing
