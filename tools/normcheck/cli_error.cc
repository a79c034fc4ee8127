#include "tools/normcheck/cli_error.h"

#include <cstdio>
#include <string>

#include "tools/normcheck/exit_codes.h"

namespace normcheck::tool {

std::string one_line(std::string_view message) {
  std::string out(message);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

namespace {
int report_error(std::string_view message, int exit_code) {
  std::fprintf(stderr, "normcheck: error: %s\n", one_line(message).c_str());
  std::fflush(stderr);
  return exit_code;
}
}  // namespace

int report_usage_error(std::string_view message) { return report_error(message, kExitUsage); }

int report_load_error(std::string_view message) { return report_error(message, kExitLoad); }

Status with_context(std::string_view context, const Status& s) {
  if (s.ok()) return s;
  return Status::error(std::string(context) + ": " + s.message());
}

}  // namespace normcheck::tool
