// read_results, validate_results, compute_summary: the document's way in.
#include <fstream>
#include <iterator>

#include "ci/report/model.h"
#include "ci/report/report.h"

namespace normcheck::report {

Expected<nlohmann::json> read_results(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error("Expected a readable results file at " + path + ", but got none");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at line 1, ..."
    if (const auto end = what.find("] "); what.rfind("[json.exception", 0) == 0 && end != std::string::npos)
      what = what.substr(end + 2);
    return Status::error("Expected JSON in " + path + ", but got a " + what);
  }
  NC_RETURN_IF_ERROR(validate_results(doc, path));
  return doc;
}

Status validate_results(const nlohmann::json& results, std::string_view source) {
  return build_model(results, source).status();
}

Expected<nlohmann::json> compute_summary(const nlohmann::json& results) {
  Expected<Model> m = build_model(results, "the results", SummaryCheck::kIgnore);
  if (!m) return m.status();
  return summary_json(m->counts, m->counts.conforming());
}

}  // namespace normcheck::report
