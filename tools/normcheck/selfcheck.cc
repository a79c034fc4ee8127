// The self-check's groups and cases. Every case is a small problem with seeded inputs; its outputs
// are judged by the oracle in selfcheck_oracle.cc, which shares no code with reference/.
#include "tools/normcheck/selfcheck.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "reference/reference.h"
#include "tools/normcheck/sample_inputs.h"
#include "tools/normcheck/selfcheck_oracle.h"

namespace normcheck::tool {
namespace {

using oracle::Rational;

/// y values checked against the oracle in each random problem (plus the first and the last).
constexpr int kSampledElements = 6;
/// dbias values checked against their exact sums in each backward problem.
constexpr int kSampledAffine = 4;

struct GroupKey {
  Op op;
  DType dtype;
  Mode mode;
  Direction direction;
};

std::int64_t pick(std::mt19937_64& rng, std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(hi - lo + 1));
}

bool has_running_stats(Op op) { return op == Op::kBatchNorm || op == Op::kInstanceNorm; }

/// The group's dtype, mode and direction on the op's PyTorch defaults. With batch_stats, batch_norm /
/// instance_norm in eval mode run untracked (so they normalize with batch statistics); otherwise eval
/// mode tracks, so that it exercises the running-statistics path.
Problem make_problem(const GroupKey& g, std::vector<std::int64_t> shape, std::vector<std::int64_t> normalized,
                     std::int64_t groups, bool batch_stats) {
  Problem p = default_problem(g.op, std::move(shape));
  if (!normalized.empty()) p.normalized_shape = std::move(normalized);
  p.num_groups = groups;
  p.dtype = g.dtype;
  p.mode = g.mode;
  p.direction = g.direction;
  if (has_running_stats(g.op) && g.mode == Mode::kEval) p.track_running_stats = !batch_stats;
  return p;
}

/// A random valid problem whose batch sets have at least 2 elements.
Problem random_problem(const GroupKey& g, std::mt19937_64& rng) {
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> normalized;
  std::int64_t groups = 1;
  auto add_spatial = [&](int count) {
    for (int d = 0; d < count; ++d) shape.push_back(pick(rng, 1, 3));
  };
  switch (g.op) {
    case Op::kBatchNorm: {
      shape = {pick(rng, 1, 3), pick(rng, 1, 3)};
      add_spatial(static_cast<int>(pick(rng, 0, 2)));
      if (numel_of(shape) / shape[1] < 2) shape[0] = 2;
      break;
    }
    case Op::kInstanceNorm:
      shape = {pick(rng, 1, 2), pick(rng, 1, 3), pick(rng, 2, 3)};
      add_spatial(static_cast<int>(pick(rng, 0, 1)));
      break;
    case Op::kGroupNorm: {
      groups = pick(rng, 1, 3);
      shape = {pick(rng, 1, 2), groups * pick(rng, 1, 2)};
      add_spatial(static_cast<int>(pick(rng, 0, 2)));
      if (numel_of(shape) / shape[0] / groups < 2) shape[1] = 2 * groups;
      break;
    }
    case Op::kLayerNorm:
    case Op::kRmsNorm: {
      const auto rank = static_cast<int>(pick(rng, 1, 3));
      for (int d = 0; d < rank; ++d) shape.push_back(pick(rng, 1, 4));
      if (shape.back() < 2) shape.back() = 2;
      const auto k = static_cast<std::size_t>(pick(rng, 1, rank));
      normalized.assign(shape.end() - static_cast<std::ptrdiff_t>(k), shape.end());
      break;
    }
    case Op::kLayerNorm2d:
      shape = {pick(rng, 1, 2), pick(rng, 2, 4), pick(rng, 1, 3)};
      add_spatial(static_cast<int>(pick(rng, 0, 1)));
      break;
  }
  return make_problem(g, std::move(shape), std::move(normalized), groups, /*batch_stats=*/false);
}

/// A problem whose batch sets have exactly two elements, without affine.
Problem pair_problem(const GroupKey& g, std::mt19937_64& rng) {
  std::vector<std::int64_t> shape, normalized;
  std::int64_t groups = 1;
  const std::int64_t n = pick(rng, 1, 3), c = pick(rng, 1, 3);
  switch (g.op) {
    case Op::kBatchNorm:
      shape = rng() % 2 ? std::vector<std::int64_t>{2, c} : std::vector<std::int64_t>{1, c, 1, 2};
      break;
    case Op::kInstanceNorm:
      shape = {n, c, 2};
      break;
    case Op::kGroupNorm:
      groups = c;
      shape = rng() % 2 ? std::vector<std::int64_t>{n, 2 * c} : std::vector<std::int64_t>{n, c, 2};
      break;
    case Op::kLayerNorm:
    case Op::kRmsNorm:
      shape = {n, c, 2};
      normalized = rng() % 2 ? std::vector<std::int64_t>{2} : std::vector<std::int64_t>{1, 2};
      if (normalized.size() == 2) shape[1] = 1;
      break;
    case Op::kLayerNorm2d:
      shape = {n, 2, c, pick(rng, 1, 2)};
      break;
  }
  Problem p = make_problem(g, std::move(shape), std::move(normalized), groups, /*batch_stats=*/true);
  p.affine = p.bias = false;
  return p;
}

/// One problem's outcome.
struct CaseOutcome {
  std::int64_t checked = 0;
  std::string failure;
};

std::string repro(const Problem& p, const SampleSpec& spec) {
  return fmt::format(" [problem: {}; inputs: seed {}, offset {}, spread {}]", to_string(p), spec.seed,
                     spec.offset, spec.spread);
}

/// Checks y at the given elements against the oracle, and dbias (backward) against exact sums.
CaseOutcome check_against_oracle(const Problem& p, const InputSet& in, const reference::Result& r,
                                 const std::vector<std::int64_t>& elements, std::mt19937_64& rng) {
  CaseOutcome out;
  const std::vector<double> x = in.x.values(), y = r.y.values();
  const std::vector<double> gamma = in.weight ? in.weight->values() : std::vector<double>{};
  const std::vector<double> beta = in.bias ? in.bias->values() : std::vector<double>{};
  const Rational eps = oracle::exact(effective_eps(p));
  const bool rms = p.op == Op::kRmsNorm;
  const auto sets = oracle::normalization_sets(p);
  for (std::int64_t i : elements) {
    const std::int64_t a = oracle::affine_index(p, i);
    oracle::ExactStats st;
    if (uses_running_stats(p)) {
      st.mean = oracle::exact(in.running_mean->values()[static_cast<std::size_t>(a)]);
      st.var = oracle::exact(in.running_var->values()[static_cast<std::size_t>(a)]);
    } else {
      const auto set = std::find_if(sets.begin(), sets.end(), [&](const std::vector<std::int64_t>& s) {
        return std::binary_search(s.begin(), s.end(), i);
      });
      st = oracle::exact_stats(x, *set, rms);
    }
    const Rational g = gamma.empty() ? Rational(1) : oracle::exact(gamma[static_cast<std::size_t>(a)]);
    const Rational b = beta.empty() ? Rational(0) : oracle::exact(beta[static_cast<std::size_t>(a)]);
    const Rational A = (oracle::exact(x[static_cast<std::size_t>(i)]) - st.mean) * g;
    ++out.checked;
    if (!oracle::is_correctly_rounded(y[static_cast<std::size_t>(i)], p.dtype, A, st.var + eps, b)) {
      out.failure = fmt::format("y[{}] = {} is not the correctly rounded (x - mean) * rstd * gamma + beta", i,
                                y[static_cast<std::size_t>(i)]);
      return out;
    }
  }
  if (p.direction != Direction::kBackward) return out;
  if (!r.dx) {
    out.failure = "Expected dx in a backward Result, but got none";
    return out;
  }
  for (double v : r.dx->values()) {
    if (!std::isfinite(v)) {
      out.failure = fmt::format("Expected finite dx for finite inputs, but got {}", v);
      return out;
    }
  }
  if (!r.dbias) return out;
  const std::vector<double> dy = in.grad_output->values(), dbias = r.dbias->values();
  const auto affine_count = static_cast<std::int64_t>(dbias.size());
  for (int k = 0; k < kSampledAffine; ++k) {
    const std::int64_t a = pick(rng, 0, affine_count - 1);
    Rational sum = 0;
    for (std::size_t i = 0; i < dy.size(); ++i) {
      if (oracle::affine_index(p, static_cast<std::int64_t>(i)) == a) sum += oracle::exact(dy[i]);
    }
    ++out.checked;
    if (!oracle::is_correctly_rounded(dbias[static_cast<std::size_t>(a)], p.dtype, sum)) {
      out.failure = fmt::format("dbias[{}] = {} is not the correctly rounded sum of dy", a,
                                dbias[static_cast<std::size_t>(a)]);
      return out;
    }
  }
  return out;
}

/// Evaluates, and checks what every case checks: success and no uncertified value.
std::string evaluate_checked(const Problem& p, const InputSet& in, reference::Result& r) {
  Expected<reference::Result> e = reference::evaluate(p, in.views());
  if (!e) return "evaluate() failed: " + e.message();
  r = std::move(*e);
  if (r.certification.uncertified != 0)
    return fmt::format("Expected 0 uncertified values, but got {}", r.certification.uncertified);
  if (r.y.shape() != p.shape) return "Expected y of the problem's shape, but got another";
  return {};
}

CaseOutcome random_case(const GroupKey& g, std::mt19937_64& rng) {
  const Problem p = random_problem(g, rng);
  constexpr double kOffsets[] = {0.0, 1.0, 100.0};
  constexpr double kSpreads[] = {1.0, 0.01};
  const SampleSpec spec{rng(), kOffsets[rng() % 3], kSpreads[rng() % 2]};
  CaseOutcome out;
  Expected<InputSet> in = make_sample_inputs(p, spec);
  if (!in) return {0, "cannot make inputs: " + in.message() + repro(p, spec)};
  reference::Result r;
  out.failure = evaluate_checked(p, *in, r);
  if (!out.failure.empty()) return {0, out.failure + repro(p, spec)};
  const std::int64_t total = numel_of(p.shape);
  std::vector<std::int64_t> elements{0, total - 1};
  for (int k = 0; k < kSampledElements; ++k) elements.push_back(pick(rng, 0, total - 1));
  out = check_against_oracle(p, *in, r, elements, rng);
  if (!out.failure.empty()) out.failure += repro(p, spec);
  return out;
}

/// A constant input (0 for rms_norm, which has no centring) normalizes to exactly beta.
CaseOutcome constant_case(const GroupKey& g, std::mt19937_64& rng) {
  Problem p = random_problem(g, rng);
  if (has_running_stats(p.op) && p.mode == Mode::kEval) p.track_running_stats = false;  // batch statistics
  const SampleSpec spec{rng(), 0.0, 1.0};
  Expected<InputSet> in = make_sample_inputs(p, spec);
  if (!in) return {0, "cannot make inputs: " + in.message() + repro(p, spec)};
  const double value = p.op == Op::kRmsNorm ? 0.0 : round_to(p.dtype, 100 * standard_normal(rng));
  in->x.fill(value);
  reference::Result r;
  std::string failure = evaluate_checked(p, *in, r);
  if (!failure.empty()) return {0, failure + repro(p, spec)};
  const std::vector<double> y = r.y.values();
  const std::vector<double> beta = in->bias ? in->bias->values() : std::vector<double>{};
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double b =
        beta.empty() ? 0.0
                     : beta[static_cast<std::size_t>(oracle::affine_index(p, static_cast<std::int64_t>(i)))];
    if (y[i] != b)
      return {0, fmt::format("Expected y[{}] == beta = {} for a constant input {}, but got {}", i, b, value,
                             y[i]) +
                     repro(p, spec)};
  }
  return {static_cast<std::int64_t>(y.size()), {}};
}

/// Two-element sets (a, b) normalize to +-sqrt(v / (v + eps)), v = ((a - b) / 2)^2, correctly rounded,
/// with the sign of a - b; rms_norm's pairs are (a, -a), v = a^2.
CaseOutcome pair_case(const GroupKey& g, std::mt19937_64& rng) {
  const Problem p = pair_problem(g, rng);
  const SampleSpec spec{rng(), 0.0, 1.0};
  Expected<InputSet> in = make_sample_inputs(p, spec);
  if (!in) return {0, "cannot make inputs: " + in.message() + repro(p, spec)};
  const auto sets = oracle::normalization_sets(p);
  if (p.op == Op::kRmsNorm) {
    for (const auto& s : sets) in->x.view().set_linear(s[1], -in->x.view().get_linear(s[0]));
  }
  reference::Result r;
  std::string failure = evaluate_checked(p, *in, r);
  if (!failure.empty()) return {0, failure + repro(p, spec)};
  const std::vector<double> x = in->x.values(), y = r.y.values();
  const Rational eps = oracle::exact(effective_eps(p));
  CaseOutcome out;
  for (const auto& s : sets) {
    if (s.size() != 2)
      return {0, fmt::format("Expected sets of 2 elements, but got {}", s.size()) + repro(p, spec)};
    const double a = x[static_cast<std::size_t>(s[0])], b = x[static_cast<std::size_t>(s[1])];
    const double y0 = y[static_cast<std::size_t>(s[0])], y1 = y[static_cast<std::size_t>(s[1])];
    const Rational half = p.op == Op::kRmsNorm ? oracle::exact(a) : (oracle::exact(a) - oracle::exact(b)) / 2;
    const Rational v = half * half, q = v / (v + eps);
    // |y0| vs the boundary t: sqrt(q) - t has the sign of q - t^2 for t >= 0.
    const bool magnitude_ok = oracle::is_correct_rounding(std::fabs(y0), p.dtype, [&](const Rational& t) {
      return t.sign() < 0 ? 1 : Rational(q - t * t).sign();
    });
    const int want_sign = half.sign();
    const bool sign_ok = y0 == 0 || (y0 > 0 ? 1 : -1) == want_sign;
    out.checked += 2;
    if (!magnitude_ok || !sign_ok || y1 != -y0)
      return {out.checked,
              fmt::format(
                  "Expected a pair ({}, {}) to give +-sqrt(v/(v+eps)) correctly rounded, but got ({}, {})", a,
                  b, y0, y1) +
                  repro(p, spec)};
  }
  return out;
}

std::string group_name(const GroupKey& g) {
  return fmt::format("{} {} {} {}", name(g.op), name(g.dtype), name(g.mode), name(g.direction));
}

GroupOutcome run_group(const GroupKey& g, std::uint64_t seed, int cases) {
  std::mt19937_64 rng(seed);
  GroupOutcome out;
  out.name = group_name(g);
  auto record = [&](const CaseOutcome& c) {
    ++out.problems;
    out.values_checked += c.checked;
    if (out.failure.empty() && !c.failure.empty()) out.failure = c.failure;
  };
  for (int k = 0; k < cases && out.passed(); ++k) record(random_case(g, rng));
  if (out.passed()) record(constant_case(g, rng));
  if (out.passed()) record(pair_case(g, rng));
  return out;
}

}  // namespace

int SelfcheckReport::passed() const {
  return static_cast<int>(
      std::count_if(groups.begin(), groups.end(), [](const GroupOutcome& g) { return g.passed(); }));
}
int SelfcheckReport::failed() const { return static_cast<int>(groups.size()) - passed(); }

SelfcheckReport run_selfcheck(const SelfcheckOptions& options) {
  SelfcheckReport report;
  std::uint64_t index = 0;
  for (Op op : kAllOps) {
    for (DType dtype : kAllDTypes) {
      for (Mode mode : {Mode::kTrain, Mode::kEval}) {
        for (Direction direction : {Direction::kForward, Direction::kBackward}) {
          // One stream per group, derived from the seed and the group's position (golden-ratio spread).
          const std::uint64_t seed = options.seed ^ (0x9e3779b97f4a7c15ULL * ++index);
          report.groups.push_back(run_group({op, dtype, mode, direction}, seed, options.cases));
        }
      }
    }
  }
  return report;
}

}  // namespace normcheck::tool
