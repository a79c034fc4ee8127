// Differential properties: the implementation against the exact reference, and the two
// properties of a single run that need nothing else (determinism, finiteness).
#include <cmath>
#include <string>
#include <vector>

#include "properties/property.h"

namespace normcheck::properties {
namespace {

/// Generates p's inputs and runs both sides; a generator failure (never expected) is FAILED.
CaseResult differential(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  return judge(p, evaluate_both(impl, p, *in), in->views.x, o);
}

/// Repeated calls give the same bits in every output: one on fresh state (restart(): a plugin's
/// new worker) and kCalls - 1 more on the warm one, so a kernel whose 2nd call in a process
/// differs (a cached plan, a reused workspace) shows, and so does one that drifts later.
CaseResult determinism(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  constexpr int kCalls = 3;
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  if (Status s = impl.restart(); !s) return CaseResult::failed(s.message());
  // The fresh call is judged first: calls that all did nothing (an error, the poison left) would
  // agree vacuously.
  const Evaluated fresh = evaluate_both(impl, p, *in);
  if (auto v = settled(p, fresh, in->views.x, o)) return *v;
  CaseResult r;
  for (int k = 2; k <= kCalls; ++k) {
    const ImplRun warm = run_impl(impl, p, in->views);
    const std::string which = "the fresh call 1 and the warm call " + std::to_string(k);
    if (!warm.status.ok()) return CaseResult::failed(which + " differ: the warm one failed (" + warm.status.message() + ")");
    CaseResult d = same_bits(fresh.got.out.views, warm.out.views, which + " differ");
    if (!d.passed()) return d;
    r.compared += d.compared;
  }
  return r;
}

/// Finite inputs (eps > 0) give finite outputs wherever the exact answer is finite: no 0/0 from a
/// dropped eps, no overflow in an accumulator of squares, no inf written into running statistics.
CaseResult finite_in_finite_out(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  const Evaluated e = evaluate_both(impl, p, *in);
  if (!e.want || !e.got.status.ok()) return judge(p, e, in->views.x, o);  // a refusal, or an error
  std::int64_t compared = 0;
  for (const reference::NamedOutput& want : reference::present_outputs(*e.want)) {
    const std::optional<TensorView> view = output_named(e.got.out.views, want.name);
    if (!view) continue;
    const std::vector<double> w = want.value->values();
    const std::vector<double> b = want.bound ? want.bound->values() : std::vector<double>(w.size(), 0.0);
    for (std::int64_t i = 0; i < view->numel(); ++i) {
      if (!std::isfinite(w[static_cast<std::size_t>(i)])) continue;  // no finite answer to hold it to
      // An undecided element may be inf for a correct implementation (near overflow).
      if (reference::is_undecided(b[static_cast<std::size_t>(i)])) continue;
      ++compared;
      const double g = view->get_linear(i);
      if (!std::isfinite(g)) {
        return CaseResult::failed(std::isnan(g) ? FailureKind::kNanWhereNumber : FailureKind::kAccuracy,
                                  std::string(want.name),
                                  std::string(want.name) + "[" + std::to_string(i) + "] is " + std::to_string(g) +
                                  " for finite inputs (the exact value is " + std::to_string(w[static_cast<std::size_t>(i)]) + ")");
      }
    }
  }
  return CaseResult::checked(compared);
}

}  // namespace

std::vector<Property> differential_properties() {
  Domain all;
  all.values.push_back(ValueKind::kNaN);  // the reference defines where a NaN or inf goes too
  all.values.push_back(ValueKind::kInf);
  Domain nonfinite;
  nonfinite.values = {ValueKind::kNaN, ValueKind::kInf};
  Domain finite;
  finite.positive_eps = true;
  return {
      {"differential", "every output agrees with the exact reference within the per-element bound, and the "
                       "implementation refuses exactly the problems the profile defines as errors",
       all, differential},
      {"nonfinite_stays_in_its_set", "a NaN or inf planted in one set reaches that set's outputs only",
       nonfinite, differential},
      {"finite_in_finite_out", "finite inputs with eps > 0 give finite outputs and running statistics", finite,
       finite_in_finite_out},
      {"determinism", "repeated calls give identical bits", Domain{}, determinism},
  };
}

}  // namespace normcheck::properties
