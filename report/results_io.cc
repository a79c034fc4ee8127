// read_results, validate_results, compute_summary: the document's way in.
#include "report/model.h"
#include "report/report.h"
#include "report/strict_json.h"

namespace normcheck::report {

Expected<nlohmann::json> read_results(const std::string& path) {
  Expected<std::string> text = read_bounded(path, "results file");
  if (!text) return text.status();
  Expected<nlohmann::json> doc = parse_json_strict(*text, "a JSON results document", path);
  if (!doc) return doc.status();
  NC_RETURN_IF_ERROR(validate_results(*doc, path));
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

Expected<nlohmann::json> compute_causes(const nlohmann::json& results) {
  Expected<Model> m = build_model(results, "the results", SummaryCheck::kIgnore);
  if (!m) return m.status();
  return causes_json(*m);
}

}  // namespace normcheck::report
