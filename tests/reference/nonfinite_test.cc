// NaN in, NaN out in exactly the outputs that depend on the NaN, and nowhere else; +-inf
// likewise (docs/semantics.md). A non-finite x reaches its normalization set (in eval mode with
// running statistics only its own element), a non-finite weight or bias the elements of its
// affine index, a non-finite dy the gradients of its set; every other output keeps the bits it
// has without the poison. The reference must return, never abort: each evaluation runs first in
// a child process, so that an internal check failure is reported as a test failure.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"
#include "tests/reference/harness.h"
#include "tests/reference/oracle.h"

namespace normcheck {
namespace {

using oracle::Case;
using testing::make_inputs;
using testing::same_value;
using testing::show;
using Dims = std::vector<std::int64_t>;
using Indices = std::set<std::int64_t>;

/// Runs reference::evaluate on the case in a child process. Returns "" when it returned, or
/// what killed it (with its stderr, e.g. an NC_CHECK message).
std::string evaluate_in_child(const Case& c) {
  int fds[2];
  if (pipe(fds) != 0) return "";  // cannot isolate: run in process
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    testing::OwnedInputs in = make_inputs(c);
    (void)reference::evaluate(c.problem, in.inputs);
    _exit(0);
  }
  close(fds[1]);
  std::string err;
  char buf[512];
  ssize_t n = 0;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) err.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                              : std::string("exited")) +
         (err.empty() ? "" : ": " + err);
}

/// Evaluates in process after the child survived; nullopt (and a failure naming the case) when not.
std::optional<reference::Result> evaluate_safely(const Case& c) {
  const std::string death = evaluate_in_child(c);
  if (!death.empty()) {
    ADD_FAILURE() << "reference::evaluate aborted instead of returning (" << death << ")\n" << show(c);
    return std::nullopt;
  }
  testing::OwnedInputs in = make_inputs(c);
  Expected<reference::Result> r = reference::evaluate(c.problem, in.inputs);
  EXPECT_TRUE(r.ok()) << r.message();
  if (!r.ok()) return std::nullopt;
  return std::move(r.value());
}

struct OpShape {
  Op op;
  Dims shape, normalized;
  std::int64_t groups;
};

const std::vector<OpShape> kShapes = {
    {Op::kBatchNorm, {3, 4, 2}, {}, 1}, {Op::kInstanceNorm, {2, 3, 4}, {}, 1},
    {Op::kGroupNorm, {2, 6, 2}, {}, 3}, {Op::kLayerNorm, {3, 2, 3}, {2, 3}, 1},
    {Op::kRmsNorm, {4, 5}, {5}, 1},     {Op::kLayerNorm2d, {2, 3, 2, 2}, {}, 1}};

/// Per output element: poisoned (must be non-finite) or clean (must keep its bits).
void expect_poisoned_exactly(const char* what, const std::vector<double>& clean,
                             const std::vector<double>& got, const Indices& poisoned, std::int64_t& checked) {
  ASSERT_EQ(clean.size(), got.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (poisoned.count(static_cast<std::int64_t>(i))) {
      EXPECT_FALSE(std::isfinite(got[i]))
          << what << "[" << i << "] should be non-finite, got " << show(got[i]);
    } else {
      EXPECT_TRUE(same_value(clean[i], got[i]))
          << what << "[" << i << "] changed: " << show(clean[i]) << " -> " << show(got[i]);
    }
    ++checked;
  }
}

enum class Target { kX, kWeight, kBias, kGradOutput };
const char* target_name(Target t) {
  switch (t) {
    case Target::kX:
      return "x";
    case Target::kWeight:
      return "weight";
    case Target::kBias:
      return "bias";
    case Target::kGradOutput:
      return "grad_output";
  }
  return "?";
}

Case make_clean(const OpShape& os, DType t, Mode mode, Direction dir, std::mt19937_64& rng) {
  Case c;
  Problem& p = c.problem;
  p = default_problem(os.op, os.shape);
  p.dtype = t;
  p.mode = mode;
  p.direction = dir;
  if (!os.normalized.empty()) p.normalized_shape = os.normalized;
  p.num_groups = os.groups;
  p.affine = true;
  p.bias = os.op != Op::kRmsNorm;
  if (os.op == Op::kInstanceNorm) p.track_running_stats = true;
  const oracle::Structure st = oracle::structure_of(p);
  const std::int64_t numel = numel_of(os.shape);
  auto normal = [&] { return round_to(t, std::normal_distribution<double>()(rng)); };
  for (std::int64_t i = 0; i < numel; ++i) {
    c.x.push_back(normal());
    if (dir == Direction::kBackward) c.grad_output.push_back(normal());
  }
  for (std::int64_t a = 0; a < st.affine_size; ++a) {
    c.weight.push_back(round_to(t, 1 + 0.25 * std::normal_distribution<double>()(rng)));
    if (p.bias) c.bias.push_back(normal());
  }
  if (tracks_running_stats(p)) {
    for (std::int64_t ch = 0; ch < os.shape[1]; ++ch) {
      c.running_mean.push_back(normal());
      c.running_var.push_back(1.25);
    }
  }
  return c;
}

/// What a poison at (target, j) must reach, output by output.
struct Reach {
  Indices y, stats, running, dx, dweight, dbias;
};

Reach reach_of(const Case& c, Target target, std::int64_t j) {
  const Problem& p = c.problem;
  const oracle::Structure st = oracle::structure_of(p);
  const bool running = tracks_running_stats(p) && p.mode == Mode::kEval;
  const auto numel = static_cast<std::int64_t>(c.x.size());
  auto set_of = [&](std::int64_t i) { return st.set_of[static_cast<std::size_t>(i)]; };
  auto affine_of = [&](std::int64_t i) { return st.affine_of[static_cast<std::size_t>(i)]; };
  Reach r;
  switch (target) {
    case Target::kX:
      for (std::int64_t i = 0; i < numel; ++i) {
        if (running ? i == j : set_of(i) == set_of(j)) {
          r.y.insert(i);
          if (!running) r.dx.insert(i);  // eval with running statistics: dx does not read x
          r.dweight.insert(affine_of(i));
        }
      }
      if (!running) r.stats.insert(set_of(j));
      if (tracks_running_stats(p) && p.mode == Mode::kTrain)
        r.running.insert(st.channel_of[static_cast<std::size_t>(j)]);
      break;
    case Target::kWeight: {
      Indices sets;
      for (std::int64_t i = 0; i < numel; ++i) {
        if (affine_of(i) != j) continue;
        r.y.insert(i);
        sets.insert(set_of(i));
        if (running) r.dx.insert(i);
      }
      // Batch statistics: g = dy * gamma enters the set's sums, so every dx of those sets.
      if (!running) {
        for (std::int64_t i = 0; i < numel; ++i) {
          if (sets.count(set_of(i))) r.dx.insert(i);
        }
      }
      break;  // dweight = sum dy xhat and dbias = sum dy do not read gamma
    }
    case Target::kBias:
      for (std::int64_t i = 0; i < numel; ++i) {
        if (affine_of(i) == j) r.y.insert(i);
      }
      break;
    case Target::kGradOutput:
      for (std::int64_t i = 0; i < numel; ++i) {
        if (running ? i == j : set_of(i) == set_of(j)) r.dx.insert(i);
      }
      r.dweight.insert(affine_of(j));
      if (p.bias) r.dbias.insert(affine_of(j));
      break;
  }
  return r;
}

class NonFinite : public ::testing::TestWithParam<Target> {};

TEST_P(NonFinite, APoisonReachesExactlyTheOutputsThatDependOnIt) {
  const Target target = GetParam();
  std::mt19937_64 rng(101 + static_cast<int>(target));
  const double kNaN = std::numeric_limits<double>::quiet_NaN(),
               kInf = std::numeric_limits<double>::infinity();
  std::int64_t checked = 0, cases = 0, survived = 0;
  for (const OpShape& os : kShapes) {
    for (DType t : {DType::kFloat32, DType::kBFloat16, DType::kFloat64}) {
      for (Mode mode : {Mode::kTrain, Mode::kEval}) {
        for (Direction dir : {Direction::kForward, Direction::kBackward}) {
          if (target == Target::kGradOutput && dir == Direction::kForward) continue;
          if (target == Target::kBias && os.op == Op::kRmsNorm) continue;
          double poison = std::vector<double>{kNaN, kInf, -kInf}[rng() % 3];
          // rms_norm gives a set holding only +-inf finite elements (0 * gamma + beta): InfInASet.
          if (target == Target::kX && os.op == Op::kRmsNorm) poison = kNaN;
          const Case clean = make_clean(os, t, mode, dir, rng);
          Case bad = clean;
          std::vector<double>& v = target == Target::kX        ? bad.x
                                   : target == Target::kWeight ? bad.weight
                                   : target == Target::kBias   ? bad.bias
                                                               : bad.grad_output;
          const auto j = static_cast<std::int64_t>(rng() % v.size());
          v[static_cast<std::size_t>(j)] = poison;
          SCOPED_TRACE(to_string(clean.problem) + " with " + target_name(target) + "[" + std::to_string(j) +
                       "] = " + show(poison));
          ++cases;
          const std::optional<reference::Result> a = evaluate_safely(clean), b = evaluate_safely(bad);
          if (!a || !b) continue;
          ++survived;
          const Reach reach = reach_of(clean, target, j);
          expect_poisoned_exactly("y", a->y.values(), b->y.values(), reach.y, checked);
          if (a->mean)
            expect_poisoned_exactly("mean", a->mean->values(), b->mean->values(), reach.stats, checked);
          if (a->rstd)
            expect_poisoned_exactly("rstd", a->rstd->values(), b->rstd->values(), reach.stats, checked);
          if (a->running_mean && clean.problem.mode == Mode::kTrain) {
            expect_poisoned_exactly("running_mean", a->running_mean->values(), b->running_mean->values(),
                                    reach.running, checked);
            expect_poisoned_exactly("running_var", a->running_var->values(), b->running_var->values(),
                                    reach.running, checked);
          }
          if (dir == Direction::kBackward) {
            expect_poisoned_exactly("dx", a->dx->values(), b->dx->values(), reach.dx, checked);
            expect_poisoned_exactly("dweight", a->dweight->values(), b->dweight->values(), reach.dweight,
                                    checked);
            if (a->dbias)
              expect_poisoned_exactly("dbias", a->dbias->values(), b->dbias->values(), reach.dbias, checked);
          }
        }
      }
    }
  }
  std::printf("[ nonfinite] poisoned %s: %lld cases, %lld evaluated without aborting, %lld outputs checked\n",
              target_name(target), static_cast<long long>(cases), static_cast<long long>(survived),
              static_cast<long long>(checked));
  // 6 ops x 3 dtypes x 2 modes x 2 directions; no dy in forward problems, no bias in rms_norm.
  const std::int64_t expected = target == Target::kGradOutput ? 6 * 3 * 2
                                : target == Target::kBias     ? 5 * 3 * 2 * 2
                                                              : 6 * 3 * 2 * 2;
  EXPECT_EQ(cases, expected);
  EXPECT_EQ(survived, cases) << "every evaluation must return";
  EXPECT_GT(checked, 20 * survived);
}

INSTANTIATE_TEST_SUITE_P(EveryInput, NonFinite,
                         ::testing::Values(Target::kX, Target::kWeight, Target::kBias, Target::kGradOutput),
                         [](const auto& param_info) { return std::string(target_name(param_info.param)); });

/// A +-inf in x, by each framework's own formula (docs/semantics.md). Mean-subtracting norms:
/// mean = +-inf, x - mean is NaN or inf in every element of the set, the variance NaN: y, dx and
/// rstd are NaN throughout the set and the saved mean is the IEEE mean (+-inf). rms_norm (PyTorch
/// x * rsqrt(mean(x^2) + eps) * weight, Keras and ONNX likewise): mean(x^2) = inf, rstd =
/// rsqrt(inf) = 0, so each finite element gives x * 0 * gamma + beta, the inf element inf * 0 =
/// NaN; dx = rstd g - x rstd^3 / m sum(g x) is NaN throughout the set (0 * inf); dweight gets NaN
/// from the inf element only, and exactly nothing from the set's finite elements.
TEST(InfInASet, EachOpGivesWhatItsFormulaGives) {
  std::mt19937_64 rng(7);
  const double kInf = std::numeric_limits<double>::infinity();
  std::int64_t cases = 0, checked = 0;
  for (const OpShape& os : kShapes) {
    for (DType t : {DType::kFloat32, DType::kBFloat16, DType::kFloat64}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (bool bias : {false, true}) {
          for (double poison : {kInf, -kInf}) {
            Case clean = make_clean(os, t, Mode::kTrain, dir, rng);
            clean.problem.bias = bias;
            clean.bias.clear();
            if (bias)
              for (std::size_t a = 0; a < clean.weight.size(); ++a)
                clean.bias.push_back(round_to(t, 0.5 - 0.125 * a));
            Case bad = clean;
            const auto j = static_cast<std::int64_t>(rng() % bad.x.size());
            bad.x[static_cast<std::size_t>(j)] = poison;
            SCOPED_TRACE(to_string(bad.problem) + " with x[" + std::to_string(j) + "] = " + show(poison));
            const std::optional<reference::Result> a = evaluate_safely(clean), b = evaluate_safely(bad);
            if (!a || !b) continue;
            ++cases;
            const Problem& p = bad.problem;
            const bool rms = p.op == Op::kRmsNorm;
            const oracle::Structure st = oracle::structure_of(p);
            const std::int64_t set = st.set_of[static_cast<std::size_t>(j)];
            const std::vector<double> y = b->y.values();
            for (std::size_t i = 0; i < y.size(); ++i, ++checked) {
              const double gamma = clean.weight[static_cast<std::size_t>(st.affine_of[i])];
              const double beta = bias ? clean.bias[static_cast<std::size_t>(st.affine_of[i])] : 0.0;
              if (st.set_of[i] != set) {
                EXPECT_TRUE(same_value(a->y.values()[i], y[i])) << "y[" << i << "] outside the set changed";
              } else if (rms && static_cast<std::int64_t>(i) != j) {
                EXPECT_TRUE(same_value(round_to(t, bad.x[i] * 0.0 * gamma + beta), y[i]))
                    << "y[" << i << "] = " << show(y[i]) << ", want x * rsqrt(inf) * gamma + beta";
              } else {
                EXPECT_TRUE(std::isnan(y[i])) << "y[" << i << "] = " << show(y[i]) << ", want NaN";
              }
            }
            const std::vector<double> rstd = b->rstd->values();
            if (rms) {
              EXPECT_EQ(rstd[static_cast<std::size_t>(set)], 0.0) << "rsqrt(inf)";
            } else {
              EXPECT_TRUE(std::isnan(rstd[static_cast<std::size_t>(set)])) << "rstd " << show(rstd[set]);
              EXPECT_EQ(b->mean->values()[static_cast<std::size_t>(set)], poison) << "the IEEE mean";
            }
            ++checked;
            if (dir == Direction::kForward) continue;
            const std::vector<double> dx = b->dx->values();
            for (std::size_t i = 0; i < dx.size(); ++i, ++checked) {
              if (st.set_of[i] == set)
                EXPECT_TRUE(std::isnan(dx[i])) << "dx[" << i << "] = " << show(dx[i]) << ", want NaN";
              else
                EXPECT_TRUE(same_value(a->dx->values()[i], dx[i]))
                    << "dx[" << i << "] outside the set changed";
            }
            // dweight: NaN where the set reaches it through a NaN term. rms_norm's finite elements
            // add exactly 0, so every other position equals the clean case with that set's dy = 0.
            Case quiet = clean;
            for (const std::int64_t i : st.members[static_cast<std::size_t>(set)]) quiet.grad_output[i] = 0;
            const std::optional<reference::Result> q = evaluate_safely(quiet);
            if (!q) continue;
            const std::vector<double> dw = b->dweight->values(), dw_quiet = q->dweight->values();
            for (std::size_t c = 0; c < dw.size(); ++c, ++checked) {
              bool reached = false;
              for (const std::int64_t i : st.members[static_cast<std::size_t>(set)])
                reached |= static_cast<std::size_t>(st.affine_of[i]) == c && (!rms || i == j);
              if (reached)
                EXPECT_TRUE(std::isnan(dw[c])) << "dweight[" << c << "] = " << show(dw[c]) << ", want NaN";
              else
                EXPECT_TRUE(same_value(dw_quiet[c], dw[c]))
                    << "dweight[" << c << "] = " << show(dw[c]) << ", want " << show(dw_quiet[c]);
            }
          }
        }
      }
    }
  }
  // 6 ops x 3 dtypes x 2 directions x bias on/off x +-inf.
  EXPECT_EQ(cases, 6 * 3 * 2 * 2 * 2);
  EXPECT_GT(checked, 10 * cases);
}

/// A NaN in an rms_norm set: mean(x^2) is NaN, and so is every output of the set.
TEST(InfInASet, RmsNormWithANanAndAnInfIsNanThroughout) {
  std::mt19937_64 rng(8);
  const OpShape& os = kShapes[4];
  ASSERT_EQ(os.op, Op::kRmsNorm);
  for (Direction dir : {Direction::kForward, Direction::kBackward}) {
    Case c = make_clean(os, DType::kFloat32, Mode::kTrain, dir, rng);
    c.x[5] = std::numeric_limits<double>::infinity();  // row 1 of 4x5
    c.x[7] = std::numeric_limits<double>::quiet_NaN();
    const std::optional<reference::Result> r = evaluate_safely(c);
    ASSERT_TRUE(r);
    const std::vector<double> y = r->y.values();
    for (std::size_t i = 5; i < 10; ++i) EXPECT_TRUE(std::isnan(y[i])) << "y[" << i << "] = " << show(y[i]);
    for (std::size_t i = 0; i < 5; ++i) EXPECT_TRUE(std::isfinite(y[i])) << "y[" << i << "] = " << show(y[i]);
    EXPECT_TRUE(std::isnan(r->rstd->values()[1]));
    if (dir != Direction::kBackward) continue;
    for (std::size_t i = 5; i < 10; ++i) EXPECT_TRUE(std::isnan(r->dx->values()[i])) << "dx[" << i << "]";
  }
}

}  // namespace
}  // namespace normcheck
