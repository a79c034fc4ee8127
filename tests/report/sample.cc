#include "sample.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace normcheck::report::testing {

std::string sample_path() { return std::string(NC_REPORT_DATA_DIR) + "/sample_results.json"; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

nlohmann::json sample() {
  const std::string text = read_text(sample_path());
  if (text.empty()) ADD_FAILURE() << "cannot read " << sample_path();
  return nlohmann::json::parse(text);
}

}  // namespace normcheck::report::testing
