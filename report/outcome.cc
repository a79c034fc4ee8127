#include "report/outcome.h"

namespace normcheck::report {

std::optional<Outcome> parse_outcome(std::string_view s) {
  if (s == "PASSED") return Outcome::kPassed;
  if (s == "FAILED") return Outcome::kFailed;
  if (s == "SKIPPED") return Outcome::kSkipped;
  if (s == "MISTRUSTED") return Outcome::kMistrusted;
  if (s == "FLAKY") return Outcome::kFlaky;
  return std::nullopt;
}

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kPassed: return "PASSED";
    case Outcome::kFailed: return "FAILED";
    case Outcome::kSkipped: return "SKIPPED";
    case Outcome::kMistrusted: return "MISTRUSTED";
    case Outcome::kFlaky: return "FLAKY";
  }
  return "?";
}

std::string_view outcome_marker(Outcome o) {
  switch (o) {
    case Outcome::kPassed: return "pass";
    case Outcome::kFailed: return "FAIL";
    case Outcome::kSkipped: return "skip";
    case Outcome::kMistrusted: return "MISTRUSTED";
    case Outcome::kFlaky: return "FLAKY";
  }
  return "?";
}

std::string_view outcome_class(Outcome o) {
  switch (o) {
    case Outcome::kPassed: return "pass";
    case Outcome::kFailed: return "fail";
    case Outcome::kSkipped: return "skip";
    case Outcome::kMistrusted: return "mistrusted";
    case Outcome::kFlaky: return "flaky";
  }
  return "?";
}

}  // namespace normcheck::report
