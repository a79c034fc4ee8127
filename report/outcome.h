#pragma once
/// A row's outcome (PASSED / FAILED / SKIPPED / MISTRUSTED / FLAKY), how bad it is, and how the
/// reports spell it.
#include <optional>
#include <string_view>

namespace normcheck::report {

enum class Outcome { kSkipped, kPassed, kMistrusted, kFlaky, kFailed };  // by severity

/// "PASSED" -> kPassed ...; nullopt for anything else.
std::optional<Outcome> parse_outcome(std::string_view s);
/// "PASSED", "FAILED", "SKIPPED", "MISTRUSTED", "FLAKY": the schema's spelling.
std::string_view outcome_name(Outcome o);
/// The text marker of a matrix cell: "pass", "FAIL", "skip", "MISTRUSTED", "FLAKY" (no emoji: PR comments
/// are also read in terminals and e-mail).
std::string_view outcome_marker(Outcome o);
/// The CSS class of an outcome in index.html: "pass", "fail", "skip", "mistrusted", "flaky".
std::string_view outcome_class(Outcome o);

/// Worse first: FAILED > FLAKY (failed, then passed on replay) > MISTRUSTED (not verified) > PASSED >
/// SKIPPED. A cell's outcome is the worst
/// of its rows; SKIPPED ranks last because a skip counts neither for nor against conformance (the
/// implementation supports no problem that row generates), so a cell is "skip" only when nothing in
/// it ran, and a cell of passes and skips is "pass".
inline int severity(Outcome o) { return static_cast<int>(o); }
inline Outcome worse(Outcome a, Outcome b) { return severity(a) >= severity(b) ? a : b; }

}  // namespace normcheck::report
