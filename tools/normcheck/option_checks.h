#pragma once
/// Validators for every numeric option of normcheck. CLI11's own conversions are lenient in ways
/// that change what a run does without a word: strtoull reads "-1" as 2^64-1, clamps 2^64 to
/// 2^64-1 and reads "010" as octal; "nan" and "inf" pass CLI::PositiveNumber (a nan timeout
/// switched the plugin timeout off). These refuse such a value with one line naming the option
/// and the value ("--seed: Expected an integer in [0, 18446744073709551615], but got '-1'"); the
/// command line reports it with exit code 2.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <limits>

namespace normcheck::tool {

inline constexpr double kInf = std::numeric_limits<double>::infinity();
/// gate --timeout-s: from 1 ms (the timeout's unit: below it the timeout would be 0) to a day.
inline constexpr double kMinTimeoutS = 0.001, kMaxTimeoutS = 86400;
/// gate --memory-limit-mb: up to 1 EiB; past it the limit in bytes overflows.
inline constexpr std::uint64_t kMaxMemoryLimitMb = std::uint64_t{1} << 40;
/// gate --shrink-budget-cases, --shrink-budget-s: 0 (no shrinking) up to a million cases, a day
/// (the run's total, ten times these, stays an int and finite).
inline constexpr std::uint64_t kMaxShrinkBudgetCases = 1000000;
inline constexpr double kMaxShrinkBudgetS = 86400;

/// A decimal integer in [lo, hi] (no sign, no spaces, no 0x); leading zeros are read as decimal.
/// Rewrites the value to its plain digits, so that CLI11's conversion reads what was checked.
CLI::Validator integer_in(std::uint64_t lo, std::uint64_t hi);

/// Every seed: the whole of std::uint64_t, nothing clamped.
inline CLI::Validator any_seed() { return integer_in(0, std::numeric_limits<std::uint64_t>::max()); }

/// A finite number x with lo <= x <= hi (lo < x where lo_open); an infinite bound is no bound.
CLI::Validator number_in(double lo, double hi, bool lo_open = false);

}  // namespace normcheck::tool
