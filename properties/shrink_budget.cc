#include "properties/shrink_budget.h"

#include <algorithm>
#include <cstdio>

namespace normcheck::properties {

void ShrinkMeter::start() {
  if (started_) return;
  started_ = true;
  start_ = std::chrono::steady_clock::now();
}

double ShrinkMeter::elapsed() const {
  return started_ ? std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() : 0;
}

bool ShrinkMeter::allows_another() {
  if (!stop_note_.empty()) return false;
  const double s = elapsed();
  // The binding limit is the smaller of the row's budget and what the run has left.
  const bool run_binds_cases = run_ && run_->cases < row_.cases;
  const bool run_binds_seconds = run_ && run_->seconds < row_.seconds;
  const int max_cases = run_binds_cases ? run_->cases : row_.cases;
  const double max_seconds = run_binds_seconds ? run_->seconds : row_.seconds;
  const bool out_of_cases = tried_ >= max_cases, out_of_time = s >= max_seconds;
  if (!out_of_cases && !out_of_time) return true;
  const bool run_binds = out_of_cases ? run_binds_cases : run_binds_seconds;
  char note[128];
  std::snprintf(note, sizeof note, "shrinking stopped after %d cases / %.1f s (%s)", tried_, s,
                run_binds ? "the run's shrink budget is spent" : "the row's shrink budget");
  stop_note_ = note;
  return false;
}

void ShrinkMeter::settle() {
  if (settled_ || !run_ || !started_) return;
  settled_ = true;
  run_->cases = std::max(0, run_->cases - tried_);
  run_->seconds = std::max(0.0, run_->seconds - elapsed());
}

}  // namespace normcheck::properties
