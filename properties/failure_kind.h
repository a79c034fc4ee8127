#pragma once
/// The kind of a failed case, the part of a failure's signature (report: causes) that says how it
/// failed.
#include <cstdint>
#include <string_view>

namespace normcheck::properties {

/// What kind of failure a FAILED case is: with the op, the output that failed, the dtype and the
/// layout it is the signature by which the report groups failing rows into causes (one bug
/// usually fails several properties the same way). Set where the failure is classified, never
/// parsed back from the detail text.
enum class FailureKind : std::uint8_t {
  kOther,              ///< a relation that names no output, or a suite error
  kRefused,            ///< an error where the profile defines an answer
  kNotRefused,         ///< outputs (or another error) where the profile requires a refusal
  kNanWhereNumber,     ///< NaN (or an output left unwritten) where the exact value is a number
  kNumberWhereNan,     ///< a number where the exact value is NaN
  kAccuracy,           ///< a value beyond its bound (or a relation between values broken)
  kRunningStatistics,  ///< running_mean, running_var or num_batches_tracked off
  kCrash,              ///< the implementation crashed (a signal in the plugin's worker)
  kTimeout,            ///< the implementation ran past the per-case timeout
};
/// The schema's spelling: "other", "refused", "not_refused", "nan_where_number",
/// "number_where_nan", "accuracy", "running_statistics", "crash", "timeout".
std::string_view name(FailureKind k);
/// For people: "an error where the profile defines an answer", "NaN where a number is due", ...
std::string_view words(FailureKind k);
/// The kind of a value disagreement on output `output`: kRunningStatistics for running_mean,
/// running_var and num_batches_tracked, else kAccuracy.
FailureKind value_kind(std::string_view output);
/// Whether a failure of this kind is a matter of convention (which answers, refusals and running
/// statistics a profile defines: refused, not refused, NaN where a number is due and the reverse,
/// running statistics) rather than of accuracy, a crash or a timeout: the profile fingerprint
/// shows the two apart.
bool is_convention(FailureKind k);

}  // namespace normcheck::properties
