#pragma once
/// The machine-readable lines the commands print (one JSON object per line).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "normcheck/problem.h"
#include "reference/reference.h"

namespace normcheck::tool {

/// {"values", "fast", "bits256", "bits1024", "bits4096", "exact", "uncertified", "escalations"}:
/// fast..bits4096 are Certification::at_level[0..3].
nlohmann::ordered_json certification_json(const reference::Certification& c);

/// `normcheck reference`'s line: {"problem", "outputs", "num_batches_tracked", "certification"}.
std::string reference_summary_line(const Problem& p, const reference::Result& r);

}  // namespace normcheck::tool
