#pragma once
/// index.html: one static page, no network (inline CSS, inline SVG, a small inline script; a
/// Content-Security-Policy that forbids loading anything). Sections: the verdict; the conformance
/// matrix (implementation x op, colored by worst outcome, with a legend); the worst cases with their
/// repro lines and copy buttons; an ULP error histogram per implementation; the profile fingerprint;
/// the mutant x property kill matrix; every row, filterable. Every string from the document is
/// HTML-escaped (html_escape), so no name can inject markup.
#include <string>

#include "report/model.h"

namespace normcheck::report {

inline constexpr std::size_t kWorstCasesShown = 20;

std::string render_index_html(const Model& m);

}  // namespace normcheck::report
