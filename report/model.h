#pragma once
/// A results document (docs/report-schema.md) read into typed values, with everything the three
/// renderers need computed once: the conformance matrix's cells, the counts, each implementation's
/// worst error and aggregate ULP histogram. Building it IS the schema check: build_model is the one
/// place that knows the document's fields.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/outcome.h"
#include "normcheck/status.h"

namespace normcheck::report {

inline constexpr const char* kSchemaName = "normcheck-report";
inline constexpr int kSchemaVersion = 1;

struct Histogram {
  std::vector<double> edges;          ///< ascending; the last may be +inf
  std::vector<std::int64_t> counts;   ///< counts[i]: elements with error in [edges[i], edges[i+1])
  bool empty() const { return counts.empty(); }
  std::int64_t total() const;
};

/// What groups failing rows into causes (docs/report-schema.md, failure.signature).
struct Signature {
  std::string op, output, kind, dtype, layout;
  std::string title;  ///< for people: "layer_norm mean: accuracy (float32, contiguous)"
  bool operator==(const Signature&) const = default;
};

struct Failure {
  std::string problem, detail, repro;
  std::int64_t shrink_steps = 0;
  std::optional<Signature> signature;  ///< absent in documents written before causes
  std::optional<std::int64_t> elements;  ///< the minimal problem's element count
};

struct Row {
  std::string implementation, op, property, sentence, reason;
  Outcome outcome = Outcome::kPassed;
  std::int64_t cases = 0, cases_skipped = 0;
  /// The cases that compared something and the draws the implementation refused (absent in
  /// documents written before normcheck counted them: -1).
  std::int64_t cases_compared = -1, draws_refused = -1;
  double seconds = 0;
  std::optional<double> max_ulp, max_bound_fraction;
  Histogram histogram;
  std::optional<Failure> failure;  ///< always present on FAILED and FLAKY rows
};

struct Implementation {
  std::string name, kind, description, bug;  ///< kind: builtin | mutant | plugin
  bool is_mutant() const { return kind == "mutant"; }
};

struct Counts {
  int passed = 0, failed = 0, skipped = 0, mistrusted = 0, flaky = 0;
  void add(Outcome o);
  int total() const { return passed + failed + skipped + mistrusted + flaky; }
  /// The conformance rule without a policy: no FAILED, MISTRUSTED or FLAKY, and something PASSED.
  bool conforming() const { return failed == 0 && mistrusted == 0 && flaky == 0 && passed > 0; }
};

/// One cell of the conformance matrix: the rows of one implementation and op.
struct Cell {
  Outcome worst = Outcome::kPassed;
  int worst_count = 0;  ///< rows with the worst outcome
  int rows = 0;
  std::vector<std::size_t> row_indices;
};

/// An implementation under test (not a mutant), summed over its rows.
struct ImplementationStats {
  std::string name;
  Counts counts;
  std::optional<double> max_ulp, max_bound_fraction;
  std::optional<std::size_t> worst_row;  ///< the row with max_ulp
  Histogram histogram;                   ///< the rows' ulp_histograms added up
};

/// Which profile's conventions (refusals, NaN answers, running statistics) an implementation
/// follows, apart from its accuracy: a profile is PASSED when no case of it failed on a convention.
struct Fingerprint {
  std::string implementation;
  std::vector<std::pair<std::string, Outcome>> profiles;
  /// The failed rows that are not about conventions: accuracy, and the rest (a crash, a timeout,
  /// a relation that names no output); absent in older documents.
  std::optional<std::int64_t> accuracy_failed_rows, other_failed_rows;
};
/// "pytorch, onnx": the profiles whose conventions f follows (PASSED), or "no profile's".
std::string follows_text(const Fingerprint& f);
/// "3 failed rows" ("no failed rows"), plus ", 1 other failed row (crash, timeout, ...)"; "-" when
/// the document does not say.
std::string accuracy_text(const Fingerprint& f);
/// "c-norms follows pytorch conventions; accuracy: 3 failed rows".
std::string fingerprint_line(const Fingerprint& f);

/// Failing rows of one implementation whose minimal cases share a signature: one problem to fix.
struct Cause {
  std::string implementation;
  std::optional<Signature> signature;  ///< none: a row without one, a cause of its own
  std::vector<std::size_t> rows;       ///< indices into Model::rows, in document order
  std::size_t representative = 0;      ///< the row with the smallest minimal case
  /// "layer_norm mean: accuracy (float32, contiguous)", or the row's op and property.
  std::string title(const std::vector<Row>& all) const;
};

struct Mutant {
  std::string name, bug;
  bool killed = false;
  std::vector<std::string> killed_by;
};

struct KillMatrix {
  std::vector<std::string> properties;  ///< the columns: the listed properties, then any other killer
  std::vector<Mutant> mutants;
  int killed() const;
};

struct Meta {
  int schema_version = kSchemaVersion;
  std::string normcheck_version, created_utc, host_cpu, tier, seed, policy;  ///< policy: "" for none
  std::int64_t host_threads = 0, shard_index = 0, shard_count = 1;
  double wall_seconds = 0;
};

struct Model {
  Meta meta;
  std::vector<Implementation> implementations;
  std::vector<Row> rows;
  std::vector<std::string> ops;  ///< in order of first appearance
  std::vector<ImplementationStats> tested;  ///< the implementations under test, in document order
  std::map<std::pair<std::string, std::string>, Cell> cells;  ///< (implementation, op): tested only
  Counts counts;  ///< over the tested implementations' rows
  bool conforming = false;  ///< the rule (Counts::conforming), or the gate's verdict under a policy
  std::vector<Fingerprint> fingerprints;
  std::vector<Cause> causes;  ///< the tested implementations' FAILED rows grouped, most rows first
  KillMatrix kill;

  const Cell* cell(const std::string& implementation, const std::string& op) const;
  const Implementation* implementation(const std::string& name) const;
  /// The tested implementations' FAILED rows, worst first (largest bound fraction, then ULP).
  std::vector<const Row*> failures() const;
  /// The tested implementations' rows with the largest errors: FAILED and MISTRUSTED first, then by
  /// bound fraction and ULP (passing rows without any error left out); at most limit.
  std::vector<const Row*> worst_rows(std::size_t limit) const;
  /// The tested implementations' rows with the given outcome, in document order.
  std::vector<const Row*> rows_with(Outcome o) const;
};

enum class SummaryCheck { kCheck, kIgnore };

/// Reads and checks a results document. Errors are one line, "Expected X, but got Y in <source>".
/// With SummaryCheck::kCheck the stored summary must agree with the rows.
Expected<Model> build_model(const nlohmann::json& doc, std::string_view source,
                            SummaryCheck check = SummaryCheck::kCheck);

/// The document's "summary" object for these counts.
nlohmann::json summary_json(const Counts& counts, bool conforming);
/// The profiles of every fingerprint, in order of first appearance: the columns.
std::vector<std::string> fingerprint_profiles(const Model& m);
/// The document's "causes" array for the model's causes.
nlohmann::json causes_json(const Model& m);

namespace detail {
/// Fills ops, tested, cells, counts and causes from the rows and implementations (model.cc).
void compute_aggregates(Model& m);
}  // namespace detail

}  // namespace normcheck::report
