// The reference against an independent rational oracle (tests/reference/oracle.h): for every op,
// mode, profile, dtype and direction, on small random inputs of several kinds, every output the
// reference gives must be bit-identical to the oracle's correctly rounded value (+0 == -0,
// NaN == NaN), and the Result must hold exactly the fields the problem defines.
#include "tests/reference/oracle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"
#include "tests/reference/harness.h"

namespace normcheck {
namespace {

using oracle::Case;
using testing::make_inputs;
using testing::same_value;
using testing::show;
using Dims = std::vector<std::int64_t>;

/// One shape of an op: x's shape, and normalized_shape (layer_norm / rms_norm) or groups (group_norm).
struct Geo {
  Dims shape, normalized_shape;
  std::int64_t groups = 1;
};

Geo plain(Dims shape) { return Geo{std::move(shape), {}, 1}; }
Geo trailing(Dims shape, Dims normalized) { return Geo{std::move(shape), std::move(normalized), 1}; }
Geo grouped(Dims shape, std::int64_t groups) { return Geo{std::move(shape), {}, groups}; }

std::vector<Geo> geos_of(Op op) {
  switch (op) {
    case Op::kBatchNorm:
      return {plain({4, 3}), plain({2, 3, 5}), plain({2, 2, 3, 2})};
    case Op::kLayerNorm:
      return {trailing({3, 7}, {7}), trailing({2, 3, 4}, {3, 4})};
    case Op::kGroupNorm:
      return {grouped({2, 6, 5}, 1), grouped({2, 6, 5}, 2), grouped({2, 6, 5}, 3), grouped({2, 6, 5}, 6)};
    case Op::kInstanceNorm:
      return {plain({2, 3, 6}), plain({2, 2, 2, 3})};
    case Op::kRmsNorm:
      return {trailing({3, 8}, {8}), trailing({2, 2, 4}, {2, 4})};
    case Op::kLayerNorm2d:
      return {plain({2, 3, 2, 2}), plain({2, 4, 3})};
  }
  return {};
}

/// The kinds of data: random around a small mean; a large offset with a small spread; some
/// constant sets; values whose statistics are exact by construction (var + eps a perfect square,
/// so y = +-gamma * d / r + beta lands on rounding midpoints); a wide dynamic range; the whole
/// case near the top or the bottom of the dtype's range (rstd, dx near overflow or subnormal).
enum class Kind { kNormal, kOffset, kConstant, kExact, kWide, kExtreme };
constexpr Kind kAllKinds[] = {Kind::kNormal, Kind::kOffset, Kind::kConstant,
                              Kind::kExact,  Kind::kWide,   Kind::kExtreme};
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kNormal:
      return "normal";
    case Kind::kOffset:
      return "offset";
    case Kind::kConstant:
      return "constant_sets";
    case Kind::kExact:
      return "exact";
    case Kind::kWide:
      return "wide";
    case Kind::kExtreme:
      return "extreme";
  }
  return "?";
}

/// What the cases of one test exercised (no test may pass vacuously).
struct Coverage {
  std::map<std::string, std::int64_t> seen;
  void note(const std::string& what) { ++seen[what]; }
  std::int64_t count(const std::string& what) const {
    auto it = seen.find(what);
    return it == seen.end() ? 0 : it->second;
  }
};

class CaseMaker {
 public:
  explicit CaseMaker(std::uint64_t seed) : rng_(seed) {}

  Case make(Op op, DType dt, Mode mode, Profile profile, Direction dir, const Geo& geo, Kind kind,
            Coverage& cov) {
    Case c;
    Problem& p = c.problem;
    p = default_problem(op, geo.shape, profile);
    p.dtype = dt;
    p.mode = mode;
    p.direction = dir;
    if (op == Op::kLayerNorm || op == Op::kRmsNorm) p.normalized_shape = geo.normalized_shape;
    if (op == Op::kGroupNorm) p.num_groups = geo.groups;
    const bool has_running = op == Op::kBatchNorm || op == Op::kInstanceNorm;
    if (op == Op::kBatchNorm) p.track_running_stats = coin(0.75);
    if (op == Op::kInstanceNorm) p.track_running_stats = coin(0.5);
    p.affine = op == Op::kInstanceNorm ? coin(0.6) : coin(0.85);
    // A bias without weight (Keras' center=True, scale=False) wherever the profile allows it.
    p.bias = op != Op::kRmsNorm && (p.affine || profile != Profile::kOnnx) && coin(0.75);
    if (has_running) {
      const int r = pick(4);
      // momentum=none (the cumulative average) is batch_norm's; instance_norm refuses it (errors_test).
      if (profile == Profile::kPyTorch && r == 0 && op == Op::kBatchNorm) p.momentum = std::nullopt;
      if (r == 1) p.momentum = std::round(uniform(0.01, 0.99) * 100) / 100;
      if (r == 2 && coin(0.3)) p.momentum = 1.0;
      c.num_batches_tracked = coin(0.5) ? 0 : 1 + pick(40);
    }
    if (coin(0.25)) p.eps = std::vector<double>{1e-3, 0.1, 1e-6, 0.0}[pick(4)];
    if (op == Op::kRmsNorm && profile == Profile::kPyTorch && coin(0.5)) p.eps = std::nullopt;

    const oracle::Structure st = oracle::structure_of(p);
    const std::int64_t numel = numel_of(p.shape);
    c.x.assign(static_cast<std::size_t>(numel), 0.0);
    const bool rms = op == Op::kRmsNorm;
    double exact_var = -1;  // kExact: every set's variance (mean square for rms)
    switch (kind) {
      case Kind::kNormal: {
        const double mu = uniform(-2, 2), sigma = uniform(0.5, 2);
        for (double& v : c.x) v = value(dt, mu + sigma * normal());
        break;
      }
      case Kind::kOffset: {
        // float32: 1e4 + a spread of about 1; the other dtypes alike relative to their precision.
        double offset = 1e4, spread = 1;
        if (dt == DType::kFloat64) offset = 1e9, spread = 1e-3;
        if (dt == DType::kFloat16) offset = 300, spread = 2;
        if (dt == DType::kBFloat16) offset = 3000, spread = 60;
        for (double& v : c.x) v = value(dt, offset + spread * normal());
        break;
      }
      case Kind::kConstant: {
        for (std::int64_t k = 0; k < st.num_sets; ++k) {
          const bool constant = k == 0 || coin(0.5);
          const double level = std::vector<double>{1234.5, 0.1, -3.25, 10 * normal()}[pick(4)];
          for (std::int64_t i : st.members[k]) c.x[i] = value(dt, constant ? level : level + normal());
        }
        break;
      }
      case Kind::kExact: {
        // Per set: k values at o - d, k at o + d, the rest at o, with d = m: var = 2 k m (rms: o = 0,
        // the mean square is the same). eps = r^2 - var with r a power of two, so V = r^2 exactly.
        const auto m = static_cast<std::int64_t>(st.members[0].size());
        const std::int64_t half = m / 2;
        exact_var = static_cast<double>(2 * half * m);
        double r = 1;
        while (r * r <= exact_var) r *= 2;
        p.eps = r * r - exact_var;
        for (std::int64_t k = 0; k < st.num_sets; ++k) {
          const double o = rms ? 0.0 : static_cast<double>(pick(41)) - 20;
          std::vector<double> vals;
          for (std::int64_t j = 0; j < m; ++j) {
            vals.push_back(j < half       ? o - static_cast<double>(m)
                           : j < 2 * half ? o + static_cast<double>(m)
                                          : o);
          }
          std::shuffle(vals.begin(), vals.end(), rng_);
          for (std::size_t j = 0; j < vals.size(); ++j) c.x[st.members[k][j]] = vals[j];
        }
        break;
      }
      case Kind::kWide: {
        const int e = (dt == DType::kFloat16) ? 6 : 24;
        for (double& v : c.x) v = value(dt, normal() * std::ldexp(1.0, pick(2 * e + 1) - e));
        break;
      }
      case Kind::kExtreme: {
        // |x| about 2^(emax - 6) or 2^(emin + 4): squares far outside the dtype, rstd and dx
        // near its overflow or underflow.
        const int e = coin(0.5) ? info(dt).emax - 6 : info(dt).emin + 4;
        const double mu = uniform(-2, 2);
        for (double& v : c.x) v = value(dt, std::ldexp(mu + normal(), e));
        if (coin(0.5)) p.eps = 0.0;
        break;
      }
    }
    // eps = 0 needs every set to vary (V = var > 0); the rounding to a 16-bit dtype can flatten one.
    if (p.eps && *p.eps == 0) {
      bool flat = false;
      for (const auto& mem : st.members) {
        bool varies = false;
        for (std::int64_t i : mem) varies = varies || (rms ? c.x[i] != 0 : c.x[i] != c.x[mem[0]]);
        flat = flat || !varies;
      }
      if (flat) p.eps = 1e-5;
    }

    const std::size_t asize = static_cast<std::size_t>(st.affine_size);
    if (p.affine) {
      for (std::size_t a = 0; a < asize; ++a)
        c.weight.push_back(value(dt, (coin(0.8) ? 1 : -1) * uniform(0.25, 2)));
    }
    if (p.bias) {
      for (std::size_t a = 0; a < asize; ++a) c.bias.push_back(value(dt, normal()));
    }
    if (tracks_running_stats(p)) {
      const double center = kind == Kind::kOffset ? c.x[0] : 0.0;
      for (std::int64_t ch = 0; ch < p.shape[1]; ++ch) {
        c.running_mean.push_back(value(dt, center + normal()));
        c.running_var.push_back(kind == Kind::kExact ? value(dt, exact_var) : value(dt, uniform(0.2, 3)));
      }
    } else {
      c.num_batches_tracked = 0;
    }
    if (dir == Direction::kBackward) {
      for (std::int64_t i = 0; i < numel; ++i) {
        c.grad_output.push_back(kind == Kind::kExact ? value(dt, (pick(9) - 4) * 0.5) : value(dt, normal()));
      }
    }

    cov.note(std::string("kind:") + kind_name(kind));
    cov.note(std::string("mode:") + std::string(name(mode)));
    cov.note(std::string("profile:") + std::string(name(profile)));
    cov.note(std::string("direction:") + std::string(name(dir)));
    if (!p.affine) cov.note(p.bias ? "affine=0,bias=1" : "affine=0");
    if (p.affine && !p.bias) cov.note("affine=1,bias=0");
    if (p.affine && p.bias) cov.note("affine=1,bias=1");
    if (tracks_running_stats(p)) {
      cov.note(std::string("tracked,") + std::string(name(mode)));
      if (mode == Mode::kTrain && !p.momentum) cov.note("momentum=none");
      if (mode == Mode::kTrain && c.num_batches_tracked > 0) cov.note("num_batches_tracked>0");
    }
    if (has_running && !p.track_running_stats) cov.note("untracked");
    if (!p.eps) cov.note("eps=none");
    if (p.eps && *p.eps == 0) cov.note("eps=0");
    return c;
  }

 private:
  double value(DType dt, double v) { return round_to(dt, v); }
  bool coin(double p) { return std::bernoulli_distribution(p)(rng_); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng_); }
  double normal() { return std::normal_distribution<double>(0, 1)(rng_); }
  std::mt19937_64 rng_;
};

/// Compares one output; returns the number of elements compared.
std::int64_t compare(const char* what, const std::optional<std::vector<double>>& expected, const Tensor* got,
                     DType dtype, const Dims& shape, int& reported) {
  EXPECT_EQ(expected.has_value(), got != nullptr)
      << what
      << (expected ? " is missing from the Result" : " is in the Result but the problem defines none");
  if (!expected || got == nullptr) return 0;
  EXPECT_EQ(got->dtype(), dtype) << what << ": dtype " << name(got->dtype()) << " instead of " << name(dtype);
  EXPECT_EQ(got->shape(), shape) << what << ": wrong shape";
  const std::vector<double> values = got->values();
  if (values.size() != expected->size()) {
    ADD_FAILURE() << what << ": " << values.size() << " elements, expected " << expected->size();
    return 0;
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (same_value(values[i], (*expected)[i])) continue;
    if (++reported <= 6) {
      ADD_FAILURE() << what << "[" << i << "]: expected " << show((*expected)[i]) << ", got "
                    << show(values[i]) << " (" << ulp_distance(dtype, values[i], (*expected)[i]) << " ulp)";
    }
  }
  return static_cast<std::int64_t>(values.size());
}

std::optional<std::vector<double>> as_optional(const std::vector<double>& v) { return v; }
const Tensor* ptr(const std::optional<Tensor>& t) { return t ? &*t : nullptr; }

/// Checks that every bound tensor accompanies its value tensor, and that bounds are >= 0.
void check_bounds_present(const reference::Result& r) {
  auto pair = [](const char* what, const std::optional<Tensor>& v, const std::optional<Tensor>& b) {
    EXPECT_EQ(v.has_value(), b.has_value()) << what << " and its bound come together";
    if (!b) return;
    EXPECT_EQ(b->dtype(), DType::kFloat64) << what << "_bound is float64";
    EXPECT_EQ(b->shape(), v->shape()) << what << "_bound has the value's shape";
    for (double e : b->values()) EXPECT_TRUE(e >= 0 && std::isfinite(e)) << what << "_bound holds " << e;
  };
  pair("y", std::optional<Tensor>(r.y), std::optional<Tensor>(r.y_bound));
  pair("mean", r.mean, r.mean_bound);
  pair("rstd", r.rstd, r.rstd_bound);
  pair("running_mean", r.running_mean, r.running_mean_bound);
  pair("running_var", r.running_var, r.running_var_bound);
  pair("dx", r.dx, r.dx_bound);
  pair("dweight", r.dweight, r.dweight_bound);
  pair("dbias", r.dbias, r.dbias_bound);
}

struct Totals {
  std::int64_t cases = 0, values = 0, inexact_sums = 0;
  std::int64_t exact_decisions = 0;  ///< values the reference settled by its exact (rational) decision
  double min_margin_log2 = 1e300;
};

/// Runs one case through both and compares everything.
void run_case(const Case& c, Totals& totals) {
  const Problem& p = c.problem;
  SCOPED_TRACE(to_string(p));
  const int parts_before =
      ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
  const oracle::Outputs want = oracle::solve(c);
  testing::OwnedInputs in = make_inputs(c);
  Expected<reference::Result> got = reference::evaluate(p, in.inputs);
  ASSERT_TRUE(got.ok()) << got.message() << "\n" << show(c);
  const reference::Result& r = *got;
  const DType t = p.dtype, sdt = oracle::stats_dtype_of(t);
  const oracle::Structure st = oracle::structure_of(p);
  const Dims set_shape{st.num_sets},
      channel_shape{p.op == Op::kBatchNorm || p.op == Op::kInstanceNorm ? p.shape[1] : 0};
  const Dims ashape = affine_shape(p);
  int reported = 0;
  std::int64_t n = 0;
  n += compare("y", as_optional(want.y), &r.y, t, p.shape, reported);
  n += compare("mean", want.mean, ptr(r.mean), sdt, set_shape, reported);
  n += compare("rstd", want.rstd, ptr(r.rstd), sdt, set_shape, reported);
  n += compare("running_mean", want.running_mean, ptr(r.running_mean), t, channel_shape, reported);
  n += compare("running_var", want.running_var, ptr(r.running_var), t, channel_shape, reported);
  n += compare("dx", want.dx, ptr(r.dx), t, p.shape, reported);
  n += compare("dweight", want.dweight, ptr(r.dweight), t, ashape, reported);
  n += compare("dbias", want.dbias, ptr(r.dbias), t, ashape, reported);
  EXPECT_EQ(r.num_batches_tracked, want.num_batches_tracked) << "num_batches_tracked";
  EXPECT_EQ(r.certification.uncertified, 0) << "values no level could certify";
  if (want.inexact_sums > 0) {
    // The 2000-bit sums carry an error below 2^-1990 * sum |terms|: a margin above 2^-1900 of
    // that proves the oracle's rounding decision.
    EXPECT_GT(want.min_margin_log2, -1900.0)
        << "a weight gradient too close to a rounding boundary to decide";
    totals.inexact_sums += want.inexact_sums;
    totals.min_margin_log2 = std::min(totals.min_margin_log2, want.min_margin_log2);
  }
  if (::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count() > parts_before) {
    ADD_FAILURE() << "inputs of the failing case:\n" << show(c);
  }
  totals.values += n;
  totals.exact_decisions += r.certification.exact;
  ++totals.cases;
}

/// Random cases per (op, dtype, mode, profile, direction, shape, kind).
constexpr int kRepeats = 2;

class ReferenceVsOracle : public ::testing::TestWithParam<std::tuple<Op, DType>> {};

TEST_P(ReferenceVsOracle, EveryOutputIsTheCorrectlyRoundedExactValue) {
  const auto [op, dt] = GetParam();
  CaseMaker maker(0x5eed0000u + 16 * static_cast<unsigned>(op) + static_cast<unsigned>(dt));
  Coverage cov;
  Totals totals;
  for (Mode mode : {Mode::kTrain, Mode::kEval}) {
    for (Profile profile : kAllProfiles) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (const Geo& geo : geos_of(op)) {
          for (int repeat = 0; repeat < kRepeats; ++repeat) {
            for (Kind kind : kAllKinds) {
              const Case c = maker.make(op, dt, mode, profile, dir, geo, kind, cov);
              run_case(c, totals);
              if (::testing::Test::HasFatalFailure()) return;
            }
          }
        }
      }
    }
  }
  std::printf(
      "[ oracle   ] %s %s: %lld cases, %lld values compared, %lld settled by the reference's exact "
      "decision, %lld weight gradients decided at 2000 bits (min margin 2^%.0f)\n",
      std::string(name(op)).c_str(), std::string(name(dt)).c_str(), static_cast<long long>(totals.cases),
      static_cast<long long>(totals.values), static_cast<long long>(totals.exact_decisions),
      static_cast<long long>(totals.inexact_sums), totals.inexact_sums ? totals.min_margin_log2 : 0.0);
  RecordProperty("cases", static_cast<int>(totals.cases));
  RecordProperty("values", static_cast<int>(totals.values));

  // Not vacuous: every combination ran, and the flags the op has were exercised.
  const std::int64_t per_combo = static_cast<std::int64_t>(geos_of(op).size() * std::size(kAllKinds));
  EXPECT_EQ(totals.cases, 2 * 3 * 2 * kRepeats * per_combo);
  EXPECT_GT(totals.values, 20 * totals.cases);
  EXPECT_GT(totals.exact_decisions, 0)
      << "no value needed the reference's exact decision (midpoints untested)";
  for (const char* what :
       {"mode:train", "mode:eval", "profile:pytorch", "profile:keras", "profile:onnx", "direction:forward",
        "direction:backward", "kind:exact", "kind:constant_sets", "affine=1,bias=0", "eps=0"}) {
    EXPECT_GT(cov.count(what), 0) << "no case with " << what;
  }
  if (op != Op::kRmsNorm) {
    EXPECT_GT(cov.count("affine=1,bias=1"), 0);
    EXPECT_GT(cov.count("affine=0,bias=1"), 0);
  }
  EXPECT_GT(cov.count("affine=0"), 0);
  if (op == Op::kBatchNorm || op == Op::kInstanceNorm) {
    for (const char* what : {"tracked,train", "tracked,eval", "untracked", "num_batches_tracked>0"}) {
      EXPECT_GT(cov.count(what), 0) << "no case with " << what;
    }
  }
  if (op == Op::kBatchNorm) {
    EXPECT_GT(cov.count("momentum=none"), 0) << "no case with momentum=none";
  }
  if (op == Op::kRmsNorm) {
    EXPECT_GT(cov.count("eps=none"), 0);
  }
  const bool multi_set_weight = op == Op::kLayerNorm || op == Op::kGroupNorm || op == Op::kInstanceNorm ||
                                op == Op::kLayerNorm2d || op == Op::kRmsNorm;
  if (multi_set_weight) {
    EXPECT_GT(totals.inexact_sums, 0) << "no weight gradient needed the 2000-bit check";
  }
}

std::string param_name(const ::testing::TestParamInfo<std::tuple<Op, DType>>& info) {
  return std::string(name(std::get<0>(info.param))) + "_" + std::string(name(std::get<1>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(AllOpsAllDTypes, ReferenceVsOracle,
                         ::testing::Combine(::testing::ValuesIn(kAllOps), ::testing::ValuesIn(kAllDTypes)),
                         param_name);

// ---------------------------------------------------------------------------------------------
// The Result's shape: every value tensor comes with its bound, whatever the mode.

TEST(ReferenceResult, EveryValueTensorComesWithItsBound) {
  CaseMaker maker(0xb0b0);
  Coverage cov;
  int checked = 0;
  for (Op op : kAllOps) {
    for (Mode mode : {Mode::kTrain, Mode::kEval}) {
      for (Direction dir : {Direction::kForward, Direction::kBackward}) {
        for (int repeat = 0; repeat < 4; ++repeat) {  // the maker varies affine and tracking
          const Case c = maker.make(op, DType::kFloat32, mode, Profile::kPyTorch, dir, geos_of(op)[0],
                                    Kind::kNormal, cov);
          SCOPED_TRACE(to_string(c.problem));
          testing::OwnedInputs in = make_inputs(c);
          Expected<reference::Result> r = reference::evaluate(c.problem, in.inputs);
          ASSERT_TRUE(r.ok()) << r.message();
          check_bounds_present(*r);
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(cov.count("tracked,eval"), 0);
  EXPECT_GT(cov.count("tracked,train"), 0);
  EXPECT_EQ(checked, 6 * 2 * 2 * 4);
}

// ---------------------------------------------------------------------------------------------
// A weight gradient whose terms have distinct V that are rational squares: the sum is rational
// and can sit exactly on a rounding midpoint, which only an exact decision settles.
//   layer_norm (2, 2), normalized (2), eps = 0: row 0 = [0, 2] (mean 1, V = 1), row 1 = [0, 4]
//   (mean 2, V = 4); dweight_0 = dy_00 (0 - 1) / 1 + dy_10 (0 - 2) / 2 = -(dy_00 + dy_10).
//   dy_00 = 1, dy_10 = half an ulp of 1: -(1 + u) is the midpoint between -1 and -(1 + 2u): -1.

TEST(ReferenceVsOracleTies, WeightGradientOnAMidpointWithDistinctSquareVariances) {
  for (DType t : {DType::kFloat64, DType::kFloat32, DType::kFloat16, DType::kBFloat16}) {
    Case c;
    c.problem = default_problem(Op::kLayerNorm, {2, 2});
    c.problem.dtype = t;
    c.problem.eps = 0.0;
    c.problem.direction = Direction::kBackward;
    c.problem.bias = false;
    const double half_ulp = info(t).epsilon / 2;
    c.x = {0, 2, 0, 4};
    c.weight = {1, 1};
    c.grad_output = {1, 0.5, half_ulp, 0.25};
    SCOPED_TRACE(to_string(c.problem));
    const oracle::Outputs want = oracle::solve(c);
    ASSERT_TRUE(want.dweight.has_value());
    EXPECT_EQ((*want.dweight)[0], -1.0) << "the oracle breaks the tie to even";
    Totals totals;
    run_case(c, totals);
    EXPECT_EQ(totals.cases, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// The oracle itself: its rounding agrees with the vocabulary's conversions from double (which
// dtype_test checks exhaustively), so a disagreement above is not the oracle's rounding.

TEST(Oracle, RoundRationalOfADoubleMatchesRoundTo) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::uint64_t> bits;
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    const double v = std::bit_cast<double>(bits(rng));
    if (!std::isfinite(v)) continue;
    for (DType t : kAllDTypes) {
      ASSERT_TRUE(same_value(oracle::round_rational(oracle::exact(v), t), round_to(t, v)))
          << show(v) << " to " << name(t);
      ++checked;
    }
  }
  EXPECT_GT(checked, 70000);
}

TEST(Oracle, SqrtFormOfAPerfectSquareIsTheRationalRounding) {
  // A / sqrt(V) + B with V = (p/q)^2 equals the rational A q / p + B.
  std::mt19937_64 rng(8);
  std::uniform_int_distribution<int> small(1, 1000);
  int checked = 0;
  for (int i = 0; i < 3000; ++i) {
    const oracle::Rational root(small(rng), small(rng));
    const oracle::Rational A(small(rng) - 500, small(rng)), B(small(rng) - 500, small(rng));
    for (DType t : kAllDTypes) {
      const bool same =
          same_value(oracle::round_sqrt_form(A, root * root, B, t), oracle::round_rational(A / root + B, t));
      EXPECT_TRUE(same);
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12000);
}

}  // namespace
}  // namespace normcheck
