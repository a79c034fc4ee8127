// The relations that need no reference value can fail: each one, on a minimal case, against a
// mutant with the bug it is meant to see (and passes on the correct base on the same case).
#include <gtest/gtest.h>

#include <string>

#include "impls/mutants/mutants.h"
#include "properties/property.h"
#include "properties/runner.h"

namespace normcheck::properties {
namespace {

struct Seen {
  const char* property;
  const char* mutant;
  const char* problem;
};

class Relation : public ::testing::TestWithParam<Seen> {};

TEST_P(Relation, FailsOnItsMutantAndPassesOnTheBase) {
  const Seen& s = GetParam();
  const Property* property = find_property(s.property);
  ASSERT_NE(property, nullptr) << s.property;
  const Expected<Problem> p = parse_problem(s.problem);
  ASSERT_TRUE(p.ok()) << p.message();
  auto mutant = impls::make_mutant(s.mutant);
  ASSERT_NE(mutant, nullptr) << s.mutant;
  const CaseResult bad = check_one(*mutant, *property, *p, {});
  EXPECT_EQ(bad.outcome, Outcome::kFailed) << s.mutant << " on " << s.problem << ": " << bad.detail;
  auto base = impls::make_mutants_base();
  const CaseResult good = check_one(*base, *property, *p, {});
  EXPECT_EQ(good.outcome, Outcome::kPassed) << "mutants-base on " << s.problem << ": " << good.detail;
}

const Seen kSeen[] = {
    // The halves' merge sees a variance that cancels at an offset, and the saved rstd holding std.
    {"batch_split_equivalence", "mutant-one-pass-variance", "batch_norm shape=8x3x5 values=normal:1000:1"},
    {"batch_split_equivalence", "mutant-saved-rstd-is-std", "batch_norm shape=4x2x3"},
    // Eval after a full step sees a biased running variance under pytorch, and the keras
    // momentum taken from the wrong side.
    {"eval_after_full_momentum_step", "mutant-biased-running-var", "batch_norm shape=4x2x3 track_running_stats=1"},
    {"eval_after_full_momentum_step", "mutant-keras-onnx-momentum-swapped",
     "batch_norm shape=4x2x3 track_running_stats=1 profile=keras"},
    // channels_last against contiguous sees channels-last indexing wrong past the last multiple of 8.
    {"layout_equivalence", "mutant-channels-last-tail-channels", "batch_norm shape=2x9x3x3 layout=channels_last"},
    // layer_norm == batch_norm on the transpose sees 16-bit index arithmetic that wraps (the
    // instance_norm identity cannot: both of its sides share one memory order, and so the bug).
    {"cross_op_identities", "mutant-index-wraps-16bit", "layer_norm shape=2x33000 normalized_shape=33000 seed=43"},
};

std::string name_of(const ::testing::TestParamInfo<Seen>& info) {
  std::string s = std::string(info.param.property) + "_" + info.param.mutant;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

INSTANTIATE_TEST_SUITE_P(Mutants, Relation, ::testing::ValuesIn(kSeen), name_of);

TEST(EvalDoesNotUpdate, NamesTheBufferAndTheElementThatChanged) {
  // The message named y[0] whatever buffer changed (issue 13, item 8).
  const Expected<Problem> p = parse_problem("batch_norm shape=4x3x5 mode=eval seed=23");
  ASSERT_TRUE(p.ok()) << p.message();
  auto mutant = impls::make_mutant("mutant-running-stats-updated-in-eval");
  ASSERT_NE(mutant, nullptr);
  const CaseResult r = check_one(*mutant, *find_property("eval_does_not_update"), *p, {});
  EXPECT_EQ(r.outcome, Outcome::kFailed) << r.detail;
  EXPECT_EQ(r.detail.rfind("running_mean changed in eval: running_mean[0] is ", 0), 0u) << r.detail;
}

}  // namespace
}  // namespace normcheck::properties
