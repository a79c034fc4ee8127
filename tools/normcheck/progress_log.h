#pragma once
/// The progress of a run as lines for a log (issue 14, item 5): when stdout is not a terminal (every
/// CI system), `gate` and `run` print
///
///   progress: 37/120 rows, 2 failed, 01:12 elapsed, ~02:42 left
///
/// at most once per interval (--progress-interval-s, default 10 s; 0: after every row), the
/// estimate from the mean time per row so far. (On a terminal the one-line indicator on stderr,
/// ProgressLine in suite_run.h, does this job.)
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstddef>
#include <string>

namespace normcheck::tool {

/// The default of --progress-interval-s and its upper bound (a day).
inline constexpr double kDefaultProgressIntervalS = 10, kMaxProgressIntervalS = 86400;

/// "01:12" (minutes:seconds, rounded to the second), "1:02:03" from an hour on.
std::string clock_text(double seconds);

/// One line, without the newline: done of total rows, failed so far, elapsed, and (done > 0) the
/// estimate elapsed / done * (total - done).
std::string progress_text(std::size_t done, std::size_t total, std::size_t failed, double elapsed_s);

/// --progress-interval-s on cmd (seconds, 0 to a day; "--progress-interval-s: Expected ..." else).
void add_progress_interval_option(CLI::App& cmd, double& interval_s);

/// The interval a run logs at: interval_s, or -1 (none) under --quiet or when stdout is a terminal.
double log_interval(bool quiet, double interval_s);

class ProgressLog {
 public:
  /// interval_s < 0: prints nothing.
  ProgressLog(double interval_s, std::size_t total);
  /// Counts a finished row and prints a line to stdout when the interval has passed since the last.
  void row_done(bool failed);

 private:
  using Clock = std::chrono::steady_clock;
  double interval_s_;
  std::size_t total_, done_ = 0, failed_ = 0;
  Clock::time_point start_, last_;
};

}  // namespace normcheck::tool
