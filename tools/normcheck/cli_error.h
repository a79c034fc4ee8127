#pragma once
/// Reporting a user error: ONE line on stderr, "normcheck: error: <message>", and exit code 2 (3
/// for an implementation that could not be loaded).
#include <string>
#include <string_view>

#include "normcheck/status.h"

namespace normcheck::tool {

/// Prints "normcheck: error: <message>" on one line (newlines in message become spaces) and
/// returns kExitUsage.
int report_usage_error(std::string_view message);
inline int report_usage_error(const Status& s) { return report_usage_error(s.message()); }
/// The same line for an implementation that could not be loaded (LibTorch absent); returns kExitLoad.
int report_load_error(std::string_view message);

/// The message with every control character (newline, tab...) replaced by a space.
std::string one_line(std::string_view message);

/// Prefixes a failed status with context ("--weight: ..."); an ok status passes through.
Status with_context(std::string_view context, const Status& s);

}  // namespace normcheck::tool
