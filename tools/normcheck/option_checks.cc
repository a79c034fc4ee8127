#include "tools/normcheck/option_checks.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "tools/normcheck/cli_error.h"

namespace normcheck::tool {
namespace {

/// The value as the error line shows it: quoted, one line, shortened.
std::string shown(const std::string& value) {
  std::string s = one_line(value);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return "'" + s + "'";
}

/// "a finite number", "a finite number > 0", "a number in [0.001, 86400]"...
std::string interval(double lo, double hi, bool lo_open) {
  if (std::isinf(lo) && std::isinf(hi)) return "a finite number";
  if (std::isinf(hi)) return fmt::format("a finite number {} {}", lo_open ? ">" : ">=", lo);
  if (std::isinf(lo)) return fmt::format("a finite number <= {}", hi);
  return fmt::format("a number in {}{}, {}]", lo_open ? "(" : "[", lo, hi);
}

}  // namespace

CLI::Validator integer_in(std::uint64_t lo, std::uint64_t hi) {
  const std::string expected = fmt::format("an integer in [{}, {}]", lo, hi);
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        std::uint64_t n = 0;
        const char* end = value.data() + value.size();
        const auto [stop, error] = std::from_chars(value.data(), end, n, 10);
        if (value.empty() || error != std::errc() || stop != end || n < lo || n > hi)
          return "Expected " + expected + ", but got " + shown(value);
        value = std::to_string(n);
        return {};
      },
      fmt::format("in [{}, {}]", lo, hi));
}

CLI::Validator number_in(double lo, double hi, bool lo_open) {
  const std::string expected = interval(lo, hi, lo_open);
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        // strtod reads what CLI11's conversion (strtold) reads, hex floats and "nan" included.
        char* stop = nullptr;
        const double x = value.empty() ? 0 : std::strtod(value.c_str(), &stop);
        const bool read = !value.empty() && stop == value.c_str() + value.size();
        if (!read || !std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
          return "Expected " + expected + ", but got " + shown(value);
        return {};
      },
      expected.substr(2));  // the help's "FLOAT:number in [0.001, 86400]"
}

}  // namespace normcheck::tool
