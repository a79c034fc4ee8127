#pragma once
/// Running one problem through the reference and an implementation under test, and the verdicts
/// the properties share. Inputs are copied for each side: the implementation updates its own
/// copy of the running buffers (allocate_outputs), the reference reads the originals.
#include <optional>
#include <string>

#include "impls/registry.h"
#include "properties/inputs.h"
#include "properties/outcome.h"
#include "reference/reference.h"

namespace normcheck::properties {

/// The policy's knobs a check reads.
struct CheckOptions {
  double bound_multiplier = 1.0;  ///< on top of the reference's bound (docs/tolerances.md)
  /// The ops the run gates (empty: all). A relation whose other side is an op outside them takes
  /// that side from the reference instead of asking the implementation.
  std::vector<Op> ops;
};

/// An implementation's run: its status and its (guarded, poisoned) outputs.
struct ImplRun {
  Status status;
  impls::OwnedOutputs out;
};

/// Allocates guarded NaN-poisoned outputs and calls impl.run; a C++ exception thrown by the
/// implementation becomes an error status, and so does a write outside an output buffer.
ImplRun run_impl(impls::Implementation& impl, const Problem& p, const Inputs& in);

/// One problem through both sides, on the given inputs.
struct Evaluated {
  Expected<reference::Result> want = Status::error("not evaluated");
  ImplRun got;
};
Evaluated evaluate_both(impls::Implementation& impl, const Problem& p, const GeneratedInputs& in);

/// The differential verdict: the reference's refusals and the implementation's agree (an error
/// where the profile requires one, none where it defines a value); every output the
/// implementation claims agrees within multiplier x bound; MISTRUSTED if the reference could not
/// certify a value. x gives the worst element's input.
CaseResult judge(const Problem& p, const Evaluated& e, const TensorView& x, const CheckOptions& o);

/// judge()'s verdict where the reference refused (`want`, the profile's refusal): only the
/// implementation's own refusal (Status::refusal: NC_ERROR_INPUT, a framework's input check)
/// passes; outputs, an internal error, "unsupported", a crash, a timeout or a guard violation
/// FAIL saying what came instead. The message is matched by the refusal's key phrase
/// (reference/refusals.h, ignoring case); a refusal without it still passes, with "note: ..." in
/// detail, since frameworks reword their messages across versions.
CaseResult judge_refusal(const Status& want, const Status& got);

/// The implementation's output `name` ("y", "mean", "rstd", "running_mean", ..., "dbias"), or
/// nullopt where it has none.
std::optional<TensorView> output_named(const impls::Outputs& out, std::string_view name);

/// What every property settles about one run before relating it to anything, or nullopt to go on:
/// where either side refused, judge()'s verdict (a matched refusal, or FAILED for an error where
/// the profile defines an answer or outputs where it requires an error); FAILED where the
/// implementation left NaN where the reference has a number (an output left unwritten: the poison
/// stays). A relation between two runs that both did nothing would otherwise hold vacuously.
/// Provenance::kOwnBuffers: the run read buffers the implementation itself wrote (its running
/// statistics after a training step): an overflowed buffer can leave NaN where the reference,
/// reading the same buffer, has a number, so only refusals and errors are settled there; the
/// relation judges the rest (found: mutants-base, float16 values=large, eval after a full step).
enum class Provenance { kGenerated, kOwnBuffers };
std::optional<CaseResult> settled(const Problem& p, const Evaluated& e, const TensorView& x, const CheckOptions& o,
                                  Provenance inputs = Provenance::kGenerated);

/// The worst disagreement of two runs' outputs `name`, element by element, allowing
/// multiplier x (bound_a + bound_b) + slack_i: for relations whose two sides have exact values
/// that differ by at most slack (0 for an exact relation).
CaseResult compare_runs(std::string_view name, const TensorView& a, const TensorView& b, const Tensor& bound_a,
                        const Tensor& bound_b, const std::vector<double>& slack, const CheckOptions& o);

/// The first element where two runs' output `name` differs bit for bit, as a failure "what:
/// name[i] is a in one and b in the other", or nullopt; *compared (when given) counts the elements seen.
std::optional<CaseResult> first_bit_difference(std::string_view what, std::string_view name, const TensorView& a,
                                               const TensorView& b, std::int64_t* compared = nullptr);

/// Bitwise equality of every output two runs wrote ("determinism", "eval == train").
CaseResult same_bits(const impls::Outputs& a, const impls::Outputs& b, std::string_view what);

/// The worst element for people: "mean[0]: got 316, want 316.227753 (7462 ulp, 2615 bounds)";
/// "at input x" only for an elementwise output (y, dx), and "no ULP distance: NaN against a
/// number" where a ULP count means nothing.
std::string describe(const Worst& w);

/// v with `digits` significant digits (%g), for the one-line failure details.
std::string fmt_g(double v, int digits = 6);

/// "name[i]: got g, want w (bound b, u ulp, f bounds)"; where no ULP distance means anything,
/// "no ULP distance: NaN against a number" in its place (UlpDistance::text).
std::string describe(std::string_view name, std::int64_t i, double got, double want, double bound,
                     const UlpDistance& ulp);

}  // namespace normcheck::properties
