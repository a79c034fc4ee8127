#include "properties/runner.h"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include <rapidcheck.h>

#include "properties/generators.h"

namespace normcheck::properties {
namespace {

/// FNV-1a over the row's names: a stable per-row seed.
std::uint64_t row_seed(std::uint64_t base, std::string_view impl, Op op, std::string_view property) {
  std::uint64_t h = 1469598103934665603ull ^ base;
  auto mix = [&h](std::string_view s) {
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
  };
  mix(impl), mix(name(op)), mix(property);
  return h;
}

/// RC_PARAMS may set max_success / seed for a nightly run; otherwise the config decides.
bool rc_params_set(const char* key) {
  const char* env = std::getenv("RC_PARAMS");
  return env != nullptr && std::strstr(env, key) != nullptr;
}

void note(RowResult& row, const Problem& p, const CaseResult& r) {
  row.max_ulp = std::max(row.max_ulp, r.max_ulp);
  row.max_bound_fraction = std::max(row.max_bound_fraction, r.max_bound_fraction);
  row.no_ulp += r.no_ulp;
  for (int i = 0; i < kUlpBins; ++i) row.ulp_histogram[static_cast<std::size_t>(i)] += r.ulp_histogram[static_cast<std::size_t>(i)];
  Breakdown* b = nullptr;
  for (Breakdown& x : row.breakdown)
    if (x.dtype == p.dtype && x.profile == p.profile) b = &x;
  if (!b) {
    row.breakdown.push_back({p.dtype, p.profile});
    b = &row.breakdown.back();
  }
  ++b->cases;
  if (r.outcome == Outcome::kFailed) ++b->failed, b->failed_convention += is_convention(r.kind) ? 1 : 0;
  if (r.compared > 0) ++b->compared;
  b->max_ulp = std::max(b->max_ulp, r.max_ulp);
  b->max_bound_fraction = std::max(b->max_bound_fraction, r.max_bound_fraction);
}

/// RapidCheck loads its configuration once, on first use, and then prints the random seed it
/// picked ("Using configuration: seed=..."), a seed this runner never uses (each row's seed is
/// derived from the run's). Load it once with std::cerr silenced, unless the user set RC_PARAMS.
void load_rapidcheck_configuration_quietly() {
  static const bool kLoaded = [] {
    if (std::getenv("RC_PARAMS") != nullptr) return true;
    std::streambuf* saved = std::cerr.rdbuf(nullptr);
    (void)rc::detail::configuration();
    std::cerr.rdbuf(saved);
    return true;
  }();
  (void)kLoaded;
}

/// Counts the accepted shrinks (the steps from the first failure to the minimal one) and keeps
/// RapidCheck's own listeners (its reproduce-string printer) out of our output: the repro line is
/// ours.
class ShrinkCounter final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool accepted) override { steps += accepted ? 1 : 0; }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  int steps = 0;
};

}  // namespace

Signature signature(const Failure& f) {
  return {f.problem.op, f.output, f.kind, f.problem.dtype, f.problem.layout};
}

std::string to_string(const Signature& s) {
  return std::string(name(s.op)) + (s.output.empty() ? "" : " " + s.output) + ": " + std::string(words(s.kind)) +
         " (" + std::string(name(s.dtype)) + ", " + std::string(name(s.layout)) + ")";
}

std::string repro_line(const Problem& p, std::string_view impl, std::string_view property) {
  return "normcheck repro '" + to_string(p) + " impl=" + std::string(impl) + " property=" + std::string(property) + "'";
}

Expected<ReproCase> parse_repro(std::string_view line) {
  ReproCase c;
  std::string rest;
  std::istringstream is{std::string(line)};
  for (std::string tok; is >> tok;) {
    if (tok.rfind("impl=", 0) == 0) c.implementation = tok.substr(5);
    else if (tok.rfind("property=", 0) == 0) c.property = tok.substr(9);
    else rest += (rest.empty() ? "" : " ") + tok;
  }
  Expected<Problem> p = parse_problem(rest);
  if (!p) return p.status();
  c.problem = *p;
  return c;
}

CaseResult check_one(impls::Implementation& impl, const Property& property, const Problem& p, const CheckOptions& o) {
  if (const auto why = impl.supports(p)) return CaseResult::skipped(*why);
  return property.check(impl, p, o);
}

namespace {

/// Why a row's draws compared nothing, tallied: a SKIPPED row gives the most common, with its count.
struct Tally {
  std::map<std::string, int> count;
  std::string most_common(int draws) const {
    const auto top = std::max_element(count.begin(), count.end(),
                                      [](const auto& a, const auto& b) { return a.second < b.second; });
    if (top == count.end()) return "no case was drawn";
    return top->first + " (" + std::to_string(top->second) + " of " + std::to_string(draws) + " draws)";
  }
};

/// One case of a row: supports(), then the property. Counted into the row unless `count` is false
/// (RapidCheck's shrinking re-runs cases the row has counted already).
CaseResult run_case(impls::Implementation& impl, const Property& property, const Problem& p, const CheckOptions& o,
                    RowResult& row, Tally& skips, std::string& last_mistrust, bool count) {
  if (const auto why = impl.supports(p)) {
    if (count) ++row.cases_skipped, ++row.draws_refused, ++skips.count["refused by the implementation: " + *why];
    return CaseResult::skipped(*why);
  }
  CaseResult r = property.check(impl, p, o);
  if (!count) return r;
  if (r.outcome == Outcome::kSkipped) {
    ++row.cases_skipped, ++skips.count[r.detail];
    return r;
  }
  ++row.cases;
  if (r.compared > 0) ++row.cases_compared;
  if (r.outcome == Outcome::kPassed && row.note.empty() && r.detail.rfind("note: ", 0) == 0) row.note = r.detail;
  else if (r.outcome == Outcome::kPassed) ++skips.count["the case compared nothing" + (r.detail.empty() ? "" : ": " + r.detail)];
  if (r.outcome == Outcome::kMistrusted) ++row.cases_mistrusted, last_mistrust = r.detail;
  note(row, p, r);
  return r;
}

/// The row's fixed cases: the catalogs' problems of op inside the domain, then the special
/// configurations (properties/special_cases.h).
std::vector<FixedCase> fixed_cases(Op op, const Property& property, const impls::Capabilities& caps,
                                   const std::vector<FixedCase>& catalog) {
  std::vector<FixedCase> out;
  for (const FixedCase& f : catalog)
    if (f.problem.op == op && !outside_domain(f.problem, property.domain)) out.push_back(f);
  for (FixedCase& f : special_cases(op, property.domain, caps)) out.push_back(std::move(f));
  return out;
}

/// A fixed case's catalog expectations on top of a passing differential check.
void absorb_expectations(CaseResult& r, const FixedCase& f, impls::Implementation& impl, const Property& property,
                         const CheckOptions& check) {
  if (r.passed() && f.expectations && property.name == "differential") r.absorb(f.expectations(impl, check));
}

/// Reports a row's minimal failing case after checking it once more on a fresh worker
/// (restart(): no leak, crash or call count left over from the cases before): FAILED when it
/// fails again, with the replay's detail and worst element; FLAKY when it does not, with the
/// failure it had. `fixed` is the fixed case it was (its expectations are checked again too).
void report_failure(RowResult& row, impls::Implementation& impl, const Property& property, const CheckOptions& check,
                    Failure failure, const CaseResult& failed, const FixedCase* fixed, const std::string& shrink_note) {
  failure.detail = failed.detail;
  failure.worst = failed.worst;
  failure.kind = failed.kind, failure.output = failed.output;
  failure.repro = repro_line(failure.problem, impl.name(), property.name);
  const Status fresh = impl.restart();
  CaseResult replay = fresh.ok() ? check_one(impl, property, failure.problem, check) : CaseResult::failed(fresh.message());
  if (fixed && fresh.ok()) absorb_expectations(replay, *fixed, impl, property, check);
  const bool failed_again = replay.outcome == Outcome::kFailed;
  if (failed_again && fresh.ok())
    failure.detail = replay.detail, failure.worst = replay.worst, failure.kind = replay.kind, failure.output = replay.output;
  row.outcome = failed_again ? Outcome::kFailed : Outcome::kFlaky;
  if (failed_again)
    row.reason = failure.detail + (fresh.ok() ? "" : " (not replayed: " + fresh.message() + ")");
  else
    row.reason = "failed (" + failure.detail + "), but " + std::string(name(replay.outcome)) +
                 " when replayed alone on a fresh worker";
  if (!shrink_note.empty()) failure.detail += "; " + shrink_note, row.reason += "; " + shrink_note;
  row.failure = std::move(failure);
}

/// The row's smallest failing case so far: RapidCheck accepts a shrink exactly when it fails, so
/// the last failure seen is the current minimum. (RapidCheck's own account of it, which runs the
/// case once more and words the result its way, is not used.)
struct Smallest {
  Problem problem;
  CaseResult result;
};

}  // namespace

RowResult run_row(impls::Implementation& impl, Op op, const Property& property, const RunConfig& config) {
  RowResult row;
  row.implementation = std::string(impl.name());
  row.property = std::string(property.name);
  row.sentence = std::string(property.sentence);
  row.op = op;
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&] {
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return row;
  };
  if (const auto why = empty_intersection(op, property.domain, impl.capabilities())) {
    row.outcome = Outcome::kSkipped;
    row.reason = *why;
    return finish();
  }
  Tally skips;
  std::string last_mistrust;

  // The fixed cases first, the same at every seed; a failure among them is reported as it is
  // (they are minimal by design: no shrinking).
  for (const FixedCase& f : fixed_cases(op, property, impl.capabilities(), config.catalog)) {
    const int checked = row.cases;
    CaseResult r = run_case(impl, property, f.problem, config.check, row, skips, last_mistrust, true);
    row.fixed_cases += row.cases - checked;
    const bool passed = r.passed();
    absorb_expectations(r, f, impl, property, config.check);
    if (passed && r.outcome == Outcome::kMistrusted) ++row.cases_mistrusted, last_mistrust = r.detail;
    if (r.outcome != Outcome::kFailed) continue;
    Failure failure;
    failure.problem = f.problem, failure.fixed_case = f.name;
    report_failure(row, impl, property, config.check, std::move(failure), r, &f, "");
    return finish();
  }

  // RapidCheck's configuration (RC_PARAMS) only when the user set it: reading it otherwise prints
  // the random seed it picked, which this runner never uses.
  rc::detail::TestParams params = std::getenv("RC_PARAMS") ? rc::detail::configuration().testParams
                                                            : rc::detail::TestParams{};
  if (!rc_params_set("max_success")) params.maxSuccess = config.cases > 0 ? config.cases : cases_per_row(config.tier);
  if (!rc_params_set("seed")) params.seed = row_seed(config.seed, impl.name(), op, property.name);
  // A refusal costs nothing but the supports() call, and implementations with narrow
  // capabilities (a mutant of momentum=None only) need many draws to get their cases.
  params.maxDiscardRatio = 50;
  rc::detail::TestMetadata metadata;
  metadata.id = row.implementation + "/" + std::string(name(op)) + "/" + row.property;

  const rc::Gen<Problem> gen = gen_problem(op, property.domain, impl.capabilities(), config.tier);
  ShrinkMeter meter(config.shrink, config.run_shrink);
  std::optional<Smallest> smallest;
  load_rapidcheck_configuration_quietly();
  ShrinkCounter listener;
  const auto result = rc::detail::checkProperty(rc::detail::toProperty(
      [&] {
        const Problem p = *gen;
        if (meter.started()) {
          // While shrinking, a candidate runs only within the budget; one that does not run, or
          // that is the smallest failing case itself, is rejected (RapidCheck tries the next).
          if (to_string(p) == to_string(smallest->problem) || !meter.allows_another()) return;
          meter.spend();
        }
        CaseResult r;
        try {
          r = run_case(impl, property, p, config.check, row, skips, last_mistrust, !meter.started());
        } catch (const std::exception& e) {
          r = CaseResult::failed(std::string("internal error: ") + e.what());
        }
        if (r.outcome == Outcome::kSkipped) RC_DISCARD("skipped");
        if (r.outcome == Outcome::kFailed) {
          meter.start();
          smallest = Smallest{p, r};
          RC_FAIL("failed");
        }
      }),
      metadata, params, listener);
  meter.settle();

  if (smallest) {
    Failure failure;
    failure.problem = smallest->problem;
    failure.shrink_steps = listener.steps;
    failure.shrink_cases = meter.tried();
    report_failure(row, impl, property, config.check, std::move(failure), smallest->result, nullptr,
                   meter.stop_note());
  } else if (result.template is<rc::detail::Error>()) {
    // Only a reproduce string in RC_PARAMS that names no case of this row leads here.
    row.outcome = Outcome::kFailed;
    row.reason = "internal: the reproduce string in RC_PARAMS does not reproduce a case of this row";
  } else if (row.cases_compared == 0) {
    // Nothing compared: no evidence either way (every draw refused, or nothing to relate).
    row.outcome = Outcome::kSkipped;
    row.reason = "no case compared anything: " + skips.most_common(row.cases + row.cases_skipped);
  }
  if (row.outcome == Outcome::kPassed && row.cases_mistrusted > 0) {
    row.outcome = Outcome::kMistrusted;
    row.reason = std::to_string(row.cases_mistrusted) + " of " + std::to_string(row.cases) + " cases: " + last_mistrust;
  }
  if (row.outcome == Outcome::kPassed) row.reason = row.note;
  return finish();
}

}  // namespace normcheck::properties
