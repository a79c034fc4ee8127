#pragma once
/// summary.md: the report as a pull-request comment. Verdict line first, then the conformance matrix
/// (the distinct causes of the failures first, each with its rows and smallest case's repro;
/// implementation x op, worst outcome as a text marker, with each implementation's largest error),
/// the failures with their minimal problem and repro line (at most kMaxFailuresListed), the
/// MISTRUSTED and SKIPPED rows, the profile fingerprint and the mutant kill matrix's summary.
#include <cstddef>
#include <string>

#include "report/model.h"

namespace normcheck::report {

inline constexpr std::size_t kMaxFailuresListed = 20;
inline constexpr std::size_t kMaxCausesListed = 10;
inline constexpr std::size_t kMaxOtherRowsListed = 20;  ///< MISTRUSTED, SKIPPED rows each

std::string render_summary_md(const Model& m);

/// "2 causes in 14 failed rows": the distinct problems among the failures (Model::causes).
std::string causes_count_text(const Model& m);

/// "NOT CONFORMING: 2 causes in 14 failed rows (14 failed, 1 mistrusted, 5 passed, 2 skipped)": the verdict line's text, also
/// what `normcheck report` prints.
std::string verdict_text(const Model& m);

}  // namespace normcheck::report
