#include "tools/normcheck/progress_log.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tools/normcheck/option_checks.h"

namespace normcheck::tool {

std::string clock_text(double seconds) {
  const long long s = std::llround(std::max(seconds, 0.0));
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return fmt::format("{:02}:{:02}", s / 60, s % 60);
}

std::string progress_text(std::size_t done, std::size_t total, std::size_t failed, double elapsed_s) {
  std::string line = fmt::format("progress: {}/{} rows, {} failed, {} elapsed", done, total, failed, clock_text(elapsed_s));
  if (done > 0) line += ", ~" + clock_text(elapsed_s / static_cast<double>(done) * static_cast<double>(total - done)) + " left";
  return line;
}

void add_progress_interval_option(CLI::App& cmd, double& interval_s) {
  cmd.add_option("--progress-interval-s", interval_s,
                 "When stdout is not a terminal (CI): a progress line every this many seconds (0: every row)")
      ->check(number_in(0, kMaxProgressIntervalS))
      ->capture_default_str();
}

double log_interval(bool quiet, double interval_s) { return quiet || isatty(STDOUT_FILENO) ? -1 : interval_s; }

ProgressLog::ProgressLog(double interval_s, std::size_t total)
    : interval_s_(interval_s), total_(total), start_(Clock::now()), last_(start_) {}

void ProgressLog::row_done(bool failed) {
  ++done_;
  failed_ += failed ? 1 : 0;
  if (interval_s_ < 0) return;
  const Clock::time_point now = Clock::now();
  if (std::chrono::duration<double>(now - last_).count() < interval_s_) return;
  last_ = now;
  const std::string line = progress_text(done_, total_, failed_, std::chrono::duration<double>(now - start_).count());
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);  // a log is read while the run goes on
}

}  // namespace normcheck::tool
