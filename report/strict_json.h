#pragma once
/// The one way normcheck reads JSON (a policy, a baseline, results.json for report and merge): a
/// document that a lenient reader would take differently from what its author wrote is refused.
///  - A duplicate key. nlohmann::json, like most parsers, keeps the last value, so a second
///    "dtypes" or a second "float32" multiplier loosens a policy without a word; here it is an
///    error naming the key, its path in the document and the file.
///  - Nesting deeper than kMaxJsonDepth: no document of normcheck's is deeper than 6 levels, and
///    the recursive consumers of a parsed value (dump, comparison) overflow the stack on 10^5.
///  - A file larger than kMaxJsonBytes, read with a bounded read: /dev/zero or an endless FIFO
///    ends in an error, not in exhausted memory.
/// Every error is one line: "Expected <what>, but got <problem> in <source>".
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "normcheck/status.h"

namespace normcheck::report {

inline constexpr int kMaxJsonDepth = 64;
inline constexpr std::size_t kMaxJsonBytes = std::size_t{64} << 20;  // 64 MiB

/// Parses text strictly. what names the document ("a JSON policy document"), source the file.
Expected<nlohmann::json> parse_json_strict(std::string_view text, std::string_view what, std::string_view source);

/// The bytes of the file at path, at most max_bytes of them (more is an error, found after reading
/// max_bytes + 1). what names the file ("policy file"); errors name path.
Expected<std::string> read_bounded(const std::string& path, std::string_view what,
                                   std::size_t max_bytes = kMaxJsonBytes);

}  // namespace normcheck::report
