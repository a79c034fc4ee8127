// The runner's shrink budget and replay rule (issue 13, item 4; docs/gate.md, "Shrinking"), in
// process and without timing: the cases a row and a run may spend on shrinking, the note a row
// carries when its budget ends the search, and FLAKY for a failure that does not come back when
// its minimal case is replayed after restart().
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "impls/mutants/mutants.h"
#include "properties/property.h"
#include "properties/runner.h"

namespace normcheck::properties {
namespace {

/// The correct mutants' base, except that run() fails on the calls `fails` picks, counted from the
/// last restart() (a plugin whose worker goes bad after some calls).
class Failing final : public impls::Implementation {
 public:
  enum class When { kAlways, kEverySecondCall, kGeneratedCases };
  explicit Failing(When when) : inner_(impls::make_mutants_base()), when_(when) {}
  std::string_view name() const override { return "failing"; }
  std::string_view description() const override { return "the mutants' base, failing on purpose"; }
  const impls::Capabilities& capabilities() const override { return inner_->capabilities(); }
  Status run(const Problem& p, const Inputs& in, impls::Outputs& out) override {
    ++calls_;
    const bool fail = when_ == When::kAlways || (when_ == When::kEverySecondCall && calls_ % 2 == 0) ||
                      // The fixed cases' seeds are 0 (catalogs) or 17 + k (special cases); the
                      // generated ones are drawn from [0, 2^30].
                      (when_ == When::kGeneratedCases && p.seed > 1000);
    if (fail) return Status::error("the worker went bad");
    return inner_->run(p, in, out);
  }
  Status restart() override {
    calls_ = 0;
    ++restarts_;
    return inner_->restart();
  }
  int restarts() const { return restarts_; }

 private:
  std::unique_ptr<impls::Implementation> inner_;
  When when_;
  int calls_ = 0, restarts_ = 0;
};

const Property& differential() { return *find_property("differential"); }

TEST(ShrinkBudget, AFailureThatPassesOnReplayIsFlaky) {
  Failing impl(Failing::When::kEverySecondCall);
  const RowResult r = run_row(impl, Op::kLayerNorm, differential(), RunConfig{});
  ASSERT_EQ(r.outcome, Outcome::kFlaky) << name(r.outcome) << ": " << r.reason;
  EXPECT_NE(r.reason.find("the worker went bad"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("PASSED when replayed alone on a fresh worker"), std::string::npos) << r.reason;
  ASSERT_TRUE(r.failure);
  EXPECT_FALSE(r.failure->repro.empty());
  EXPECT_GE(impl.restarts(), 1);  // the replay ran on fresh state
}

TEST(ShrinkBudget, AFailureThatComesBackOnReplayIsFailed) {
  Failing impl(Failing::When::kAlways);
  const RowResult r = run_row(impl, Op::kLayerNorm, differential(), RunConfig{});
  ASSERT_EQ(r.outcome, Outcome::kFailed) << name(r.outcome) << ": " << r.reason;
  EXPECT_NE(r.reason.find("the worker went bad"), std::string::npos) << r.reason;
}

TEST(ShrinkBudget, TheRowsBudgetStopsShrinkingAndSaysSo) {
  RunConfig config;
  config.shrink.cases = 3;
  Failing impl(Failing::When::kGeneratedCases);
  const RowResult r = run_row(impl, Op::kLayerNorm, differential(), config);
  ASSERT_EQ(r.outcome, Outcome::kFailed) << name(r.outcome) << ": " << r.reason;
  ASSERT_TRUE(r.failure);
  EXPECT_EQ(r.failure->shrink_cases, 3);
  EXPECT_LE(r.failure->shrink_steps, 3);
  EXPECT_NE(r.reason.find("shrinking stopped after 3 cases / "), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("(the row's shrink budget)"), std::string::npos) << r.reason;
  EXPECT_NE(r.failure->detail.find("shrinking stopped after 3 cases"), std::string::npos) << r.failure->detail;
}

// The seconds' budget without a clock in the test: a budget of 0 s is spent before the first
// candidate, whatever the machine's speed.
TEST(ShrinkBudget, NoSecondsLeftMeansNoCandidate) {
  RunConfig config;
  config.shrink.seconds = 0;
  Failing row_budget(Failing::When::kGeneratedCases);
  const RowResult a = run_row(row_budget, Op::kLayerNorm, differential(), config);
  ASSERT_TRUE(a.failure) << name(a.outcome) << ": " << a.reason;
  EXPECT_EQ(a.failure->shrink_cases, 0);
  EXPECT_NE(a.reason.find("shrinking stopped after 0 cases / 0.0 s (the row's shrink budget)"), std::string::npos)
      << a.reason;
  ShrinkAccount run{.cases = 1000, .seconds = 0};
  RunConfig shared;
  shared.run_shrink = &run;
  Failing run_budget(Failing::When::kGeneratedCases);
  const RowResult b = run_row(run_budget, Op::kLayerNorm, differential(), shared);
  ASSERT_TRUE(b.failure) << name(b.outcome) << ": " << b.reason;
  EXPECT_EQ(b.failure->shrink_cases, 0);
  EXPECT_NE(b.reason.find("(the run's shrink budget is spent)"), std::string::npos) << b.reason;
}

TEST(ShrinkBudget, WithinTheBudgetNoNote) {
  Failing impl(Failing::When::kGeneratedCases);
  const RowResult r = run_row(impl, Op::kLayerNorm, differential(), RunConfig{});
  ASSERT_EQ(r.outcome, Outcome::kFailed) << name(r.outcome) << ": " << r.reason;
  ASSERT_TRUE(r.failure);
  EXPECT_LT(r.failure->shrink_cases, RunConfig{}.shrink.cases);
  EXPECT_EQ(r.reason.find("shrinking stopped"), std::string::npos) << r.reason;
}

TEST(ShrinkBudget, TheRunsBudgetIsSharedByItsRows) {
  ShrinkAccount run{.cases = 5, .seconds = 1e9};
  RunConfig config;
  config.run_shrink = &run;
  Failing first(Failing::When::kGeneratedCases);
  const RowResult a = run_row(first, Op::kLayerNorm, differential(), config);
  ASSERT_TRUE(a.failure);
  EXPECT_EQ(a.failure->shrink_cases, 5);
  EXPECT_NE(a.reason.find("shrinking stopped after 5 cases / "), std::string::npos) << a.reason;
  EXPECT_NE(a.reason.find("(the run's shrink budget is spent)"), std::string::npos) << a.reason;
  EXPECT_EQ(run.cases, 0);
  // The next failing row reports its first failing case unshrunk.
  Failing second(Failing::When::kGeneratedCases);
  const RowResult b = run_row(second, Op::kBatchNorm, differential(), config);
  ASSERT_EQ(b.outcome, Outcome::kFailed) << name(b.outcome) << ": " << b.reason;
  EXPECT_EQ(b.failure->shrink_cases, 0);
  EXPECT_EQ(b.failure->shrink_steps, 0);
  EXPECT_NE(b.reason.find("shrinking stopped after 0 cases / "), std::string::npos) << b.reason;
}

}  // namespace
}  // namespace normcheck::properties
