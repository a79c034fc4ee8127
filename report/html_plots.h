#pragma once
/// The inline SVG plots of index.html.
#include <string>

#include "report/model.h"

namespace normcheck::report {

/// A bar chart of h (bins of ULP error, counts on a log scale, each bar labelled with its count), as an
/// <svg> element; a short note instead when h has no counts.
std::string ulp_histogram_svg(const Histogram& h);

/// "12", "3.4k", "5.6M": a count in at most four characters or so.
std::string compact_count(std::int64_t n);

}  // namespace normcheck::report
