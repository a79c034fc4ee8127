#pragma once
/// The hand-written sample results document (data/sample_results.json) and what it holds.
#include <nlohmann/json.hpp>
#include <string>

namespace normcheck::report::testing {

/// data/sample_results.json, parsed (aborts the test on failure).
nlohmann::json sample();
std::string sample_path();
std::string read_text(const std::string& path);

/// The plugin whose name is an HTML injection: if the page ever ran it, body gets data-pwned.
inline constexpr const char* kHostileName = "evil<script>document.body.setAttribute('data-pwned','1')</script>";

// The sample's tested rows: 5 passed, 2 failed, 1 skipped, 1 mistrusted (the mutant's row is not counted).
inline constexpr int kPassed = 5, kFailed = 2, kSkipped = 1, kMistrusted = 1, kTestedRows = 9;
inline constexpr int kMutants = 3, kSurvivors = 1;

}  // namespace normcheck::report::testing
