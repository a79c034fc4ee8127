// Plugins that misbehave while running: each failure is an error Status that names it, the host
// never crashes or hangs, and the next case on the same Implementation runs in a fresh worker.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "properties/comparator.h"
#include "reference/reference.h"
#include "tests/impls/plugin/plugin_test_util.h"

namespace normcheck::testing {
namespace {


/// Runs a triggered case (expects an error containing `expected`), then a normal one (expects y = x).
void expect_failure_then_recovery(impls::Implementation& impl, const std::string& expected) {
  const Problem bad = layer_norm_problem(kTriggerDim);
  OwnedInputs in = make_inputs(bad, 1);
  RunResult r = run_case(impl, bad, in.inputs);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find(expected), std::string::npos) << r.status.message();

  const Problem good = layer_norm_problem(4);
  OwnedInputs in2 = make_inputs(good, 2);
  RunResult r2 = run_case(impl, good, in2.inputs);
  ASSERT_TRUE(r2.status.ok()) << r2.status.message();
  for (std::int64_t i = 0; i < in2.x.numel(); ++i)
    EXPECT_EQ(r2.out.views.y.get_linear(i), in2.x.view().get_linear(i));
}

TEST(PluginFailure, SegfaultIsReportedAndTheNextCaseRuns) {
  auto impl = load_ok(bad_plugin("segfault"));
  ASSERT_TRUE(impl);
  for (int round = 0; round < 3; ++round)  // crash, recover, crash again: the gate keeps going
    expect_failure_then_recovery(*impl, "plugin crashed: signal 11 (Segmentation fault)");
}

TEST(PluginFailure, AbortIsReported) {
  auto impl = load_ok(bad_plugin("abort"));
  ASSERT_TRUE(impl);
  expect_failure_then_recovery(*impl, "plugin crashed: signal 6 (Aborted)");
}

TEST(PluginFailure, ExitIsReported) {
  auto impl = load_ok(bad_plugin("exits"));
  ASSERT_TRUE(impl);
  expect_failure_then_recovery(*impl, "plugin crashed: the worker exited with status 7");
}

TEST(PluginFailure, HangTimesOutAndTheNextCaseRuns) {
  impls::PluginOptions o;
  o.timeout = std::chrono::milliseconds(1000);
  auto impl = load_ok(bad_plugin("hang"), o);
  ASSERT_TRUE(impl);
  // The host's own poll() deadline ends the case (the message names it); no clock in the test.
  expect_failure_then_recovery(*impl, "plugin timed out after 1 s");
}

TEST(PluginFailure, MemoryBlowUpIsReported) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer's shadow memory rules out RLIMIT_AS (the worker sets none)";
#endif
  impls::PluginOptions o;
  o.memory_limit = std::uint64_t{256} << 20;
  auto impl = load_ok(bad_plugin("memory_hog"), o);
  ASSERT_TRUE(impl);
  expect_failure_then_recovery(*impl, "plugin exceeded memory limit 256 MiB");
}

TEST(PluginFailure, CrashInSupportsIsReportedByRun) {
  auto impl = load_ok(bad_plugin("supports_crash"));
  ASSERT_TRUE(impl);
  const Problem bad = layer_norm_problem(kTriggerDim);
  EXPECT_EQ(impl->supports(bad), std::nullopt) << "a crash is no reason to skip";
  OwnedInputs in = make_inputs(bad, 1);
  RunResult r = run_case(*impl, bad, in.inputs);
  EXPECT_EQ(r.status.message(), "plugin crashed: signal 11 (Segmentation fault) (in supports())");
  const Problem good = layer_norm_problem(4);
  EXPECT_EQ(impl->supports(good), std::nullopt);
  OwnedInputs in2 = make_inputs(good, 2);
  EXPECT_TRUE(run_case(*impl, good, in2.inputs).status.ok());
}

TEST(PluginFailure, ClaimsSupportAndWritesNothingLeavesThePoison) {
  auto impl = load_ok(bad_plugin("writes_nothing"));
  ASSERT_TRUE(impl);
  const Problem p = layer_norm_problem(4);
  ASSERT_EQ(impl->supports(p), std::nullopt);
  OwnedInputs in = make_inputs(p, 3);
  RunResult r = run_case(*impl, p, in.inputs);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  for (std::int64_t i = 0; i < r.out.views.y.numel(); ++i)
    EXPECT_TRUE(std::isnan(r.out.views.y.get_linear(i)));
  const auto want = reference::evaluate(p, in.inputs);
  ASSERT_TRUE(want.ok()) << want.message();
  EXPECT_FALSE(properties::compare(p, *want, r.out.views).ok()) << "the suite must see the poison";
}

TEST(PluginFailure, ErrorCodesMapToStatuses) {
  auto impl = load_ok(bad_plugin("error_codes"));
  ASSERT_TRUE(impl);
  auto status_for = [&](std::int64_t leading) {
    const Problem p = layer_norm_problem(leading);
    OwnedInputs in = make_inputs(p, 4);
    return run_case(*impl, p, in.inputs).status;
  };
  auto message_for = [&](std::int64_t leading) { return status_for(leading).message(); };
  // NC_ERROR_INPUT: the framework's own words, as they are, and the only refusal; every other
  // code is some other error, which fails a case that requires the refusal.
  EXPECT_EQ(message_for(2), "Expected more than 1 value per channel when training, got input size [2]");
  EXPECT_EQ(status_for(2).kind(), ErrorKind::kRefusal);
  for (std::int64_t other : {3, 5, 7}) EXPECT_EQ(status_for(other).kind(), ErrorKind::kOther) << other;
  EXPECT_EQ(message_for(3), "plugin refused at run time: this build has no float64 kernels");
  // An unknown code, a two-line message without a terminator: one line, cut at the buffer.
  const std::string garbled = message_for(5);
  EXPECT_EQ(garbled.rfind("plugin error 42: a zzz", 0), 0u) << garbled;
  EXPECT_EQ(garbled.find('\n'), std::string::npos);
  EXPECT_LT(garbled.size(), 1100u);
  EXPECT_EQ(message_for(7), "plugin error 3: (no message)");
  EXPECT_EQ(message_for(4), "");  // and the worker is still the same one, fine
}

}  // namespace
}  // namespace normcheck::testing
