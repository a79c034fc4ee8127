#include "report/atomic_dir.h"
#include "report/index_html.h"
#include "report/junit_xml.h"
#include "report/model.h"
#include "report/report.h"
#include "report/summary_md.h"

namespace normcheck::report {

Status write_report(const nlohmann::json& results, const std::string& out_dir) {
  Expected<Model> model = build_model(results, "the results");
  if (!model) return model.status();
  // Invalid UTF-8 in a string built in memory becomes U+FFFD rather than an exception.
  std::string json = results.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return replace_directory(out_dir, {{"summary.md", render_summary_md(*model)},
                                    {"junit.xml", render_junit_xml(*model)},
                                    {"index.html", render_index_html(*model)},
                                    {"results.json", std::move(json)}});
}

}  // namespace normcheck::report
