#include "properties/run_case.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>

#include "impls/input_snapshot.h"
#include "reference/refusals.h"

namespace normcheck::properties {
namespace {

std::string g9(double v) { return fmt_g(v, 9); }

/// The kind of an implementation's error. The plugin host words a dead or stuck worker with
/// fixed prefixes (impls/plugin/worker_process.cc); every other error is a refusal of the case.
FailureKind error_kind(const Status& s) {
  const std::string& m = s.message();
  if (m.rfind("plugin crashed: ", 0) == 0 || m.rfind("plugin exceeded memory limit ", 0) == 0) return FailureKind::kCrash;
  if (m.rfind("plugin timed out after ", 0) == 0) return FailureKind::kTimeout;
  return FailureKind::kRefused;
}

}  // namespace

std::string fmt_g(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

std::string_view name(Outcome o) {
  switch (o) {
    case Outcome::kPassed: return "PASSED";
    case Outcome::kFailed: return "FAILED";
    case Outcome::kSkipped: return "SKIPPED";
    case Outcome::kMistrusted: return "MISTRUSTED";
    case Outcome::kFlaky: return "FLAKY";
  }
  return "FAILED";
}

void CaseResult::absorb(const CaseResult& o) {
  auto rank = [](Outcome x) { return x == Outcome::kFailed ? 3 : x == Outcome::kMistrusted ? 2 : x == Outcome::kSkipped ? 1 : 0; };
  if (rank(o.outcome) > rank(outcome)) {
    outcome = o.outcome;
    detail = o.detail;
    kind = o.kind;
    output = o.output;
    if (o.worst) worst = o.worst;
  }
  if (o.max_bound_fraction > max_bound_fraction && !worst) worst = o.worst;
  compared += o.compared;
  no_ulp += o.no_ulp;
  max_ulp = std::max(max_ulp, o.max_ulp);
  max_bound_fraction = std::max(max_bound_fraction, o.max_bound_fraction);
  for (int i = 0; i < kUlpBins; ++i) ulp_histogram[static_cast<std::size_t>(i)] += o.ulp_histogram[static_cast<std::size_t>(i)];
}

std::string describe(std::string_view name, std::int64_t i, double got, double want, double bound,
                     const UlpDistance& ulp) {
  const double err = std::fabs(got - want);
  std::string s = std::string(name) + "[" + std::to_string(i) + "]: got " + g9(got) + ", want " + g9(want) +
                  " (bound " + g9(bound) + ", " + ulp.text();
  if (bound > 0 && std::isfinite(err)) s += ", " + g9(err / bound) + " bounds";
  return s + ")";
}

std::string describe(const Worst& w) {
  std::string s = w.output + "[" + std::to_string(w.index) + "]";
  if (!std::isnan(w.input)) s += " at input " + g9(w.input);
  s += ": got " + g9(w.got) + ", want " + g9(w.expected) + " (";
  s += w.no_ulp.empty() ? g9(w.ulp) + " ulp" : "no ULP distance: " + w.no_ulp;
  return s + ", " + g9(w.bound_fraction) + " bounds)";
}

CaseResult judge_refusal(const Status& want, const Status& got) {
  if (!want.is_refusal())
    return CaseResult::failed("the reference rejected the case's inputs (" + want.message() + "): a suite error");
  if (got.ok())
    return CaseResult::failed(FailureKind::kNotRefused, "",
                              "expected the refusal \"" + want.message() + "\", but the implementation returned outputs");
  if (!got.is_refusal()) {
    const FailureKind k = error_kind(got);
    return CaseResult::failed(k == FailureKind::kRefused ? FailureKind::kNotRefused : k, "",
                              "expected the refusal \"" + want.message() + "\", but got another error: " + got.message());
  }
  CaseResult r;
  r.compared = 1;
  const reference::Refusal* refusal = reference::refusal_named_in(want.message());
  if (refusal != nullptr && !reference::contains_key_phrase(got.message(), refusal->key))
    r.detail = "note: the refusal's message lacks the key phrase \"" + std::string(refusal->key) + "\": " + got.message();
  return r;
}

ImplRun run_impl(impls::Implementation& impl, const Problem& p, const Inputs& in) {
  ImplRun r;
  Expected<impls::OwnedOutputs> o = impls::allocate_outputs(p, in, impl.capabilities());
  if (!o) {
    r.status = o.status();
    return r;
  }
  r.out = std::move(*o);
  const impls::InputSnapshot inputs(in);
  try {
    r.status = impl.run(p, in, r.out.views);
  } catch (const std::exception& e) {
    r.status = Status::error(std::string("the implementation threw: ") + e.what());
  } catch (...) {
    r.status = Status::error("the implementation threw a non-standard exception");
  }
  if (r.status.ok()) r.status = r.out.check_guards();
  if (Status untouched = inputs.check(in); !untouched) r.status = untouched;  // even beside a refusal
  return r;
}

Evaluated evaluate_both(impls::Implementation& impl, const Problem& p, const GeneratedInputs& in) {
  Evaluated e;
  e.want = reference::evaluate(p, in.views);
  e.got = run_impl(impl, p, in.views);
  return e;
}

CaseResult judge(const Problem& p, const Evaluated& e, const TensorView& x, const CheckOptions& o) {
  if (!e.want) return judge_refusal(e.want.status(), e.got.status);
  if (!e.got.status.ok())
    return CaseResult::failed(error_kind(e.got.status), "", "unexpected error: " + e.got.status.message());
  if (e.want->certification.uncertified > 0) {
    return CaseResult::mistrusted(std::to_string(e.want->certification.uncertified) +
                                  " reference values could not be certified");
  }
  const Agreement a = compare(p, *e.want, e.got.out.views, o.bound_multiplier);
  CaseResult r;
  // The output that decides: the first with failures, else the one nearest its bound.
  const OutputAgreement* decisive = nullptr;
  for (const OutputAgreement& out : a.outputs) {
    r.compared += out.compared;
    r.max_ulp = std::max(r.max_ulp, out.max_ulp);
    r.max_bound_fraction = std::max(r.max_bound_fraction, out.max_bound_fraction);
    for (int i = 0; i < kUlpBins; ++i)
      r.ulp_histogram[static_cast<std::size_t>(i)] += out.ulp_histogram[static_cast<std::size_t>(i)];
    if (out.worst_index < 0) continue;
    if (!decisive || (decisive->failures == 0 &&
                      (out.failures > 0 || out.max_bound_fraction > decisive->max_bound_fraction)))
      decisive = &out;
  }
  if (decisive) {
    Worst w;
    w.output = decisive->name;
    w.index = decisive->worst_index;
    const bool elementwise = w.output == "y" || w.output == "dx";
    w.input = elementwise && w.index < x.numel() ? x.get_linear(w.index) : NAN;
    w.expected = decisive->worst_want;
    w.got = decisive->worst_got;
    // In ULP of the output's own dtype (the comparator's), not the problem's.
    w.ulp = decisive->worst_ulp.ulps;
    w.no_ulp = std::string(decisive->worst_ulp.none);
    w.bound_fraction = decisive->max_bound_fraction;
    r.worst = w;
    if (decisive->failures > 0) {
      r.outcome = Outcome::kFailed;
      r.kind = decisive->worst_kind;
      r.output = decisive->name;
      r.detail = std::to_string(decisive->failures) + " of " + std::to_string(decisive->compared) + " " +
                 decisive->name + " elements beyond the bound; worst " +
                 describe(w.output, w.index, w.got, w.expected, decisive->worst_bound, decisive->worst_ulp);
    }
  }
  for (const OutputAgreement& out : a.outputs) r.no_ulp += out.no_ulp;
  if (!a.num_batches_tracked_ok && r.outcome != Outcome::kFailed) {
    r.outcome = Outcome::kFailed;
    r.kind = FailureKind::kRunningStatistics;
    r.output = "num_batches_tracked";
    r.detail = "num_batches_tracked: got " + std::to_string(e.got.out.views.num_batches_tracked) + ", want " +
               std::to_string(e.want->num_batches_tracked);
  }
  return r;
}

std::optional<TensorView> output_named(const impls::Outputs& out, std::string_view name) {
  if (name == "y") return out.y;
  const std::pair<std::string_view, const std::optional<TensorView>*> rest[] = {
      {"mean", &out.mean}, {"rstd", &out.rstd}, {"running_mean", &out.running_mean}, {"running_var", &out.running_var},
      {"dx", &out.dx},     {"dweight", &out.dweight}, {"dbias", &out.dbias}};
  for (const auto& [n, view] : rest)
    if (n == name) return *view;
  return std::nullopt;
}

std::optional<CaseResult> settled(const Problem& p, const Evaluated& e, const TensorView& x, const CheckOptions& o,
                                  Provenance inputs) {
  if (!e.want || !e.got.status.ok()) return judge(p, e, x, o);
  if (inputs == Provenance::kOwnBuffers) return std::nullopt;
  for (const reference::NamedOutput& want : reference::present_outputs(*e.want)) {
    const std::optional<TensorView> view = output_named(e.got.out.views, want.name);
    if (!view) continue;
    const std::vector<double> w = want.value->values();
    const std::vector<double> b = want.bound ? want.bound->values() : std::vector<double>(w.size(), INFINITY);
    for (std::int64_t i = 0; i < view->numel(); ++i) {
      const double v = w[static_cast<std::size_t>(i)];
      // Only where the reference pins the value down (a finite bound): there NaN is no answer.
      if (std::isnan(view->get_linear(i)) && !std::isnan(v) && std::isfinite(b[static_cast<std::size_t>(i)]))
        return CaseResult::failed(FailureKind::kNanWhereNumber, std::string(want.name),
                                  std::string(want.name) + "[" + std::to_string(i) + "] is NaN where the exact value is " +
                                  g9(v) + " (an output left unwritten?)");
    }
  }
  return std::nullopt;
}

CaseResult compare_runs(std::string_view name, const TensorView& a, const TensorView& b, const Tensor& bound_a,
                        const Tensor& bound_b, const std::vector<double>& slack, const CheckOptions& o) {
  CaseResult r;
  const std::vector<double> ba = bound_a.values(), bb = bound_b.values();
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.get_linear(i), y = b.get_linear(i);
    // An undecided element on either side relates nothing: a correct implementation may give any
    // kind there (reference.h, kUndecided).
    if (reference::is_undecided(ba[static_cast<std::size_t>(i)]) || reference::is_undecided(bb[static_cast<std::size_t>(i)]))
      continue;
    if (std::isnan(x) && std::isnan(y)) continue;
    if (!slack.empty() && std::isinf(slack[static_cast<std::size_t>(i)])) continue;  // no relation here
    const double allowed = o.bound_multiplier * (ba[static_cast<std::size_t>(i)] + bb[static_cast<std::size_t>(i)]) +
                           (slack.empty() ? 0.0 : slack[static_cast<std::size_t>(i)]);
    const double err = x == y ? 0.0 : std::fabs(x - y);
    ++r.compared;
    const UlpDistance ulps = ulp_between(a.dtype, x, y);
    if (ulps.defined()) {
      ++r.ulp_histogram[static_cast<std::size_t>(ulp_bin(ulps.ulps))];
      r.max_ulp = std::max(r.max_ulp, ulps.ulps);
    } else {
      ++r.no_ulp;
    }
    const double fraction = err == 0 ? 0 : allowed > 0 ? err / allowed : INFINITY;
    if (fraction > r.max_bound_fraction || std::isnan(err)) {
      r.max_bound_fraction = std::isnan(err) ? INFINITY : fraction;
      r.worst = Worst{std::string(name), i, NAN, y, x, ulps.ulps, std::string(ulps.none), r.max_bound_fraction};
    }
    // Equal values satisfy every relation, even where the bounds are NaN (a set whose var + eps
    // is 0 has NaN bounds: found by the nightly tier with two equal zeros failing).
    if (err != 0 && !(err <= allowed) && r.outcome != Outcome::kFailed) {
      r.outcome = Outcome::kFailed;
      r.kind = value_kind(name);
      r.output = std::string(name);
      r.detail = describe(name, i, x, y, allowed, ulps);
    }
  }
  return r;
}

std::optional<CaseResult> first_bit_difference(std::string_view what, std::string_view name, const TensorView& u,
                                               const TensorView& v, std::int64_t* compared) {
  const std::size_t elem = size_of(u.dtype);
  for (std::int64_t i = 0; i < u.numel(); ++i) {
    if (compared) ++*compared;
    const void* pu = static_cast<const char*>(u.data) + u.offset_of_linear(i) * static_cast<std::int64_t>(elem);
    const void* pv = static_cast<const char*>(v.data) + v.offset_of_linear(i) * static_cast<std::int64_t>(elem);
    if (std::memcmp(pu, pv, elem) != 0) {
      return CaseResult::failed(value_kind(name), std::string(name),
                                std::string(what) + ": " + std::string(name) + "[" + std::to_string(i) + "] is " +
                                g9(u.get_linear(i)) + " in one and " + g9(v.get_linear(i)) + " in the other");
    }
  }
  return std::nullopt;
}

CaseResult same_bits(const impls::Outputs& a, const impls::Outputs& b, std::string_view what) {
  const std::pair<const char*, std::pair<const std::optional<TensorView>*, const std::optional<TensorView>*>> all[] = {
      {"mean", {&a.mean, &b.mean}}, {"rstd", {&a.rstd, &b.rstd}}, {"running_mean", {&a.running_mean, &b.running_mean}},
      {"running_var", {&a.running_var, &b.running_var}}, {"dx", {&a.dx, &b.dx}}, {"dweight", {&a.dweight, &b.dweight}},
      {"dbias", {&a.dbias, &b.dbias}}};
  std::int64_t compared = 0;
  auto differ = [&](const char* out, const TensorView& u, const TensorView& v) {
    return first_bit_difference(what, out, u, v, &compared);
  };
  if (auto d = differ("y", a.y, b.y)) return *d;
  for (const auto& [out, pair] : all) {
    if (pair.first->has_value() && pair.second->has_value())
      if (auto d = differ(out, **pair.first, **pair.second)) return *d;
  }
  if (a.running_mean && b.running_mean && a.num_batches_tracked != b.num_batches_tracked)
    return CaseResult::failed(FailureKind::kRunningStatistics, "num_batches_tracked",
                              std::string(what) + ": num_batches_tracked differs");
  CaseResult r;
  r.compared = compared;
  return r;
}

}  // namespace normcheck::properties
