#include "tools/normcheck/report_json.h"

#include "tools/normcheck/output_files.h"

namespace normcheck::tool {

nlohmann::ordered_json certification_json(const reference::Certification& c) {
  static_assert(reference::Certification::kLevels == 4, "the JSON names four levels");
  nlohmann::ordered_json j;
  j["values"] = c.values;
  j["fast"] = c.at_level[0];
  j["bits256"] = c.at_level[1];
  j["bits1024"] = c.at_level[2];
  j["bits4096"] = c.at_level[3];
  j["exact"] = c.exact;
  j["uncertified"] = c.uncertified;
  j["escalations"] = c.escalations();
  return j;
}

std::string reference_summary_line(const Problem& p, const reference::Result& r) {
  nlohmann::ordered_json j;
  j["problem"] = to_string(p);
  nlohmann::ordered_json names = nlohmann::ordered_json::array();
  for (const NamedOutput& o : present_outputs(r)) names.push_back(std::string(o.name));
  j["outputs"] = std::move(names);
  j["num_batches_tracked"] = r.num_batches_tracked;
  j["certification"] = certification_json(r.certification);
  return j.dump();
}

}  // namespace normcheck::tool
