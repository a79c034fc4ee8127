// Differential properties: the implementation against the exact reference, and the two
// properties of a single run that need nothing else (determinism, finiteness).
#include <cmath>

#include "properties/property.h"

namespace normcheck::properties {
namespace {

/// Generates p's inputs and runs both sides; a generator failure (never expected) is FAILED.
CaseResult differential(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  return judge(p, evaluate_both(impl, p, *in), in->views.x, o);
}

/// The same call twice gives the same bits in every output.
CaseResult determinism(impls::Implementation& impl, const Problem& p, const CheckOptions& o) {
  Expected<GeneratedInputs> in = make_inputs(p);
  if (!in) return CaseResult::failed("inputs: " + in.message());
  // Two calls that both did nothing (an error, the poison left) would agree vacuously.
  const Evaluated first = evaluate_both(impl, p, *in);
  if (auto v = settled(p, first, in->views.x, o)) return *v;
  const ImplRun& a = first.got;
  const ImplRun b = run_impl(impl, p, in->views);
  if (a.status.ok() != b.status.ok()) return CaseResult::failed("one call failed and the other did not");
  return same_bits(a.out.views, b.out.views, "two identical calls differ");
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
    for (std::int64_t i = 0; i < view->numel(); ++i) {
      if (!std::isfinite(w[static_cast<std::size_t>(i)])) continue;  // no finite answer to hold it to
      ++compared;
      const double g = view->get_linear(i);
      if (!std::isfinite(g)) {
        return CaseResult::failed(std::string(want.name) + "[" + std::to_string(i) + "] is " + std::to_string(g) +
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
