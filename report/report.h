#pragma once
/// The conformance report: a results document (docs/report-schema.md) and its renderings.
///
///   write_report(results, dir)   writes dir/results.json, summary.md, junit.xml, index.html
///   read_results(path)           reads and checks a stored results.json
///   merge_results({a, b, ...})   one document from the shards of a run
///
/// Every error is one line, "Expected X, but got Y in <file>".
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/status.h"

namespace normcheck::report {

/// The files write_report writes, in the order it stages them.
inline constexpr const char* kReportFiles[] = {"summary.md", "junit.xml", "index.html", "results.json"};

/// Checks results (as read_results does; source names it in errors), renders it, and makes the four
/// files out_dir's whole content as a set (report/atomic_dir.h): a reader that opens out_dir sees
/// the old report or the new one, whole, even when the writer is killed or another writes at once.
/// A failure replaces nothing.
Status write_report(const nlohmann::json& results, const std::string& out_dir);

/// Reads path and checks it: schema "normcheck-report", schema_version 1 (else "Expected
/// schema_version 1, but got 2 in results.json"), every field's type, the summary against the rows.
Expected<nlohmann::json> read_results(const std::string& path);

/// Checks a document already in memory; source names it in the error ("results.json", "shard 2").
Status validate_results(const nlohmann::json& results, std::string_view source = "the results");

/// The "summary" object the rows imply (docs/report-schema.md, "summary"): what the runner stores.
/// Errors as validate_results (the stored summary itself is not consulted).
Expected<nlohmann::json> compute_summary(const nlohmann::json& results);

/// The "causes" array the rows imply (docs/report-schema.md, "causes"): the tested
/// implementations' FAILED rows grouped by their failure's signature. The runner stores it; a
/// reader checks a stored one against it.
Expected<nlohmann::json> compute_causes(const nlohmann::json& results);

/// Merges the shards of one run (same schema_version, tier, normcheck_version, seed and policy, else an
/// error): results concatenated (a row in two shards is an error), implementations deduplicated by
/// name, profile fingerprints and the kill matrix united, summary recomputed, wall_seconds the
/// largest (shards run side by side), created_utc the latest, host the first shard's, shard
/// {"index": 0, "count": shards.size()}. names[i] (default "shard i+1") names shard i in errors.
Expected<nlohmann::json> merge_results(const std::vector<nlohmann::json>& shards,
                                       const std::vector<std::string>& names = {});

}  // namespace normcheck::report
