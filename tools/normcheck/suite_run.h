#pragma once
/// What `normcheck run` and `normcheck gate` share: the loop over implementation x op x property
/// (properties::run_row), the terminal progress line, and the results document
/// (docs/report-schema.md) built from the rows.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "impls/registry.h"
#include "normcheck/status.h"
#include "properties/property.h"
#include "properties/runner.h"

namespace normcheck::tool {

/// One implementation of a run: what the report lists, and the implementation itself.
struct SuiteTarget {
  std::string name, kind, description, bug;  ///< kind: builtin | mutant | plugin; bug: mutants only
  /// Made when the loop reaches this target (a fresh one per target, as the registry hands out).
  std::function<std::unique_ptr<impls::Implementation>()> make;
};

/// Runs one row; the default is properties::run_row(impl, op, property, config).
using RowRunner = std::function<properties::RowResult(impls::Implementation&, Op, const properties::Property&)>;

struct SuitePlan {
  std::vector<Op> ops;                               ///< empty: every op
  std::vector<const properties::Property*> props;    ///< in order; never empty
  unsigned shard_index = 0, shard_count = 1;         ///< this process runs rows i, i+n, i+2n, ...
  bool progress = false;                             ///< the progress line on stderr
  double log_interval_s = -1;                        ///< >= 0: progress_log.h's lines on stdout
};

/// Every row of the plan, in order: target, op, property (the shard's rows only).
std::vector<properties::RowResult> run_suite(const std::vector<SuiteTarget>& targets, const SuitePlan& plan,
                                             const RowRunner& row);

/// A one-line progress indicator on stderr, "[k/n] impl op property", shown only when enabled
/// (a terminal, not --quiet) and once the run has taken longer than a second; erased at the end.
class ProgressLine {
 public:
  ProgressLine(bool enabled, std::size_t total);
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  void step(std::size_t index, std::string_view what);
  void clear();

 private:
  bool enabled_, shown_ = false;
  std::size_t total_;
  std::chrono::steady_clock::time_point start_;
};

/// The parts of the results document that are not rows.
struct SuiteMeta {
  std::string tier;
  std::uint64_t seed = 1;
  unsigned shard_index = 0, shard_count = 1;
  std::chrono::steady_clock::time_point start;
};

/// One row as the schema's "results" entry.
nlohmann::json row_json(const properties::RowResult& r);

/// The results document without "summary" (policy null, wall_seconds up to now): implementations,
/// results, profile_fingerprint, kill_matrix (columns: props).
nlohmann::json results_document(const SuiteMeta& meta, const std::vector<SuiteTarget>& targets,
                                const std::vector<properties::RowResult>& rows,
                                const std::vector<const properties::Property*>& props);

/// The console's view of a results document: ": 2 causes in 14 failed rows" for the verdict line
/// ("" when nothing failed); per cause (its "causes", distinct problems first) "  CAUSE 1 of 2:
/// layer_norm mean: accuracy (float32, contiguous): c-norms, 12 rows: layer_norm differential,
/// ..." with the REPRO line of its smallest case; per tested implementation "  fingerprint: c-norms
/// follows pytorch conventions; accuracy: 3 failed rows". All empty when no row failed.
struct ConsoleSummary {
  std::string count;
  std::vector<std::string> causes, fingerprints;
};
ConsoleSummary console_summary(const nlohmann::json& doc);

/// "  FAILED impl op property: [mean, accuracy] reason": the row's line, naming the output that
/// failed it (a property's name does not say it).
std::string failed_row_line(const properties::RowResult& r);

/// --shard i/n, checked: 0 <= i < n.
Status parse_shard(const std::string& text, unsigned& index, unsigned& count);

/// Names parsed with parse, or "Expected <what>, but got 'NAME'".
template <class T, class Parse>
Expected<std::vector<T>> parse_all(const std::vector<std::string>& names, Parse parse, const char* what) {
  std::vector<T> out;
  for (const std::string& n : names) {
    const std::optional<T> v = parse(n);
    if (!v) return Status::error(std::string("Expected ") + what + ", but got '" + n + "'");
    out.push_back(*v);
  }
  return out;
}

}  // namespace normcheck::tool
