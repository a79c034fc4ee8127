#pragma once
/// The shrink budget (docs/gate.md, "Shrinking"): a failing row's search for a smaller failing case
/// may try so many candidates (each runs the implementation) for so many seconds, and a run's rows
/// together ten rows' worth. A plugin that fails only now and then (a leak, a late crash, a hang
/// every few calls) fails many candidates for reasons unrelated to them: without a budget its
/// search ends only when RapidCheck's shrink tree does, which took hundreds of seconds per row.
#include <chrono>
#include <string>

namespace normcheck::properties {

struct ShrinkBudget {
  int cases = 200;       ///< shrink candidates tried
  double seconds = 60;   ///< wall clock from the row's first failure
};

/// A run's total: this many rows' worth of the row budget.
inline constexpr int kRunBudgetRows = 10;

/// What a run has left of its total, spent by its rows in turn.
struct ShrinkAccount {
  int cases = 0;
  double seconds = 0;
  static ShrinkAccount for_run(const ShrinkBudget& row) {
    return {row.cases * kRunBudgetRows, row.seconds * kRunBudgetRows};
  }
};

/// One row's shrinking: started at its first failure, it allows another candidate while both the
/// row's budget and what the run has left remain; settle() charges the run with what it spent.
class ShrinkMeter {
 public:
  /// run: the run's account, or null for no run total.
  ShrinkMeter(const ShrinkBudget& row, ShrinkAccount* run) : row_(row), run_(run) {}
  void start();
  bool started() const { return started_; }
  /// Whether another candidate may run. Once false, false for good, and stop_note() says why.
  bool allows_another();
  void spend() { ++tried_; }
  int tried() const { return tried_; }
  /// "shrinking stopped after 200 cases / 3.2 s (the row's shrink budget)", or "" when the search
  /// ended on its own.
  const std::string& stop_note() const { return stop_note_; }
  /// Charges the run's account (once, at the end of the row).
  void settle();

 private:
  double elapsed() const;

  ShrinkBudget row_;
  ShrinkAccount* run_;
  bool started_ = false, settled_ = false;
  int tried_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::string stop_note_;
};

}  // namespace normcheck::properties
