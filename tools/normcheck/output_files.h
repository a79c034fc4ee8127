#pragma once
/// The reference's outputs as files: DIR/<name>.npy in the output's dtype and DIR/<name>_bound.npy
/// (float64) for its per-element error bound.
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/status.h"
#include "reference/reference.h"
#include "report/atomic_file.h"

namespace normcheck::tool {

using reference::NamedOutput;
using reference::present_outputs;

/// Creates dir and its parents when missing; an error says why ("Expected a directory ..., but ...").
using report::ensure_directory;

/// Writes every present output and its bound into dir (which must exist).
Status write_outputs(const std::string& dir, const reference::Result& r);

}  // namespace normcheck::tool
