// write_report: the four files, each written atomically.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "report/report.h"
#include "sample.h"

namespace normcheck::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::read_text;

class WriteReport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nc-write-report-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

TEST_F(WriteReport, CreatesTheDirectoryAndWritesTheFourFilesAndNothingElse) {
  const fs::path out = dir_ / "nested" / "report";
  ASSERT_TRUE(write_report(testing::sample(), out.string()).ok());
  dir_ = out;
  EXPECT_EQ(files(), (std::vector<std::string>{"index.html", "junit.xml", "results.json", "summary.md"}));
  EXPECT_EQ(nlohmann::json::parse(read_text((out / "results.json").string())), testing::sample());
  struct stat st {};
  ASSERT_EQ(::stat((out / "index.html").c_str(), &st), 0);
  EXPECT_NE(st.st_mode & S_IROTH, 0u) << "a report is readable like any new file, not 0600";
}

TEST_F(WriteReport, ReplacesAnExistingReportWhole) {
  fs::create_directories(dir_);
  for (const char* name : kReportFiles) std::ofstream(dir_ / name) << std::string(100000, 'x') << "stale";
  ASSERT_TRUE(write_report(testing::sample(), dir_.string()).ok());
  EXPECT_EQ(files(), (std::vector<std::string>{"index.html", "junit.xml", "results.json", "summary.md"}));
  for (const char* name : kReportFiles) {
    const std::string text = read_text((dir_ / name).string());
    EXPECT_EQ(text.find("stale"), std::string::npos) << name;
    EXPECT_EQ(text.find("xxxx"), std::string::npos) << name;
  }
  EXPECT_THAT(read_text((dir_ / "summary.md").string()), HasSubstr("NOT CONFORMING"));
}

TEST_F(WriteReport, AnInvalidDocumentWritesNothing) {
  nlohmann::json doc = testing::sample();
  doc["schema_version"] = 7;
  EXPECT_EQ(write_report(doc, dir_.string()).message(), "Expected schema_version 1, but got 7 in the results");
  EXPECT_FALSE(fs::exists(dir_));
}

TEST_F(WriteReport, AFailedWriteReplacesNothingAndLeavesNoTemporaryFile) {
  // summary.md, renamed first, is a directory with a file in it: its rename fails, after every
  // temporary file was written and before anything was replaced.
  fs::create_directories(dir_ / "summary.md" / "x");
  std::ofstream(dir_ / "junit.xml") << "old junit";
  const Status s = write_report(testing::sample(), dir_.string());
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("Expected to replace " + (dir_ / "summary.md").string()));
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
  EXPECT_EQ(files(), (std::vector<std::string>{"junit.xml", "summary.md"})) << "no temporary file left";
  EXPECT_EQ(read_text((dir_ / "junit.xml").string()), "old junit");
}

TEST_F(WriteReport, ARunWithNoRowsStillRenders) {
  nlohmann::json doc = testing::sample();
  doc["results"] = nlohmann::json::array();
  doc["profile_fingerprint"] = nlohmann::json::array();
  doc["kill_matrix"] = {{"properties", nlohmann::json::array()}, {"mutants", nlohmann::json::array()}};
  doc["summary"] = {{"conforming", false}, {"passed", 0}, {"failed", 0}, {"skipped", 0}, {"mistrusted", 0}};
  ASSERT_TRUE(write_report(doc, dir_.string()).ok());
  EXPECT_THAT(read_text((dir_ / "summary.md").string()), HasSubstr("NOT CONFORMING (0 failed"));
  EXPECT_THAT(read_text((dir_ / "index.html").string()), HasSubstr("No mutants in this run."));
}

TEST_F(WriteReport, AnUnwritableDirectoryIsAOneLineError) {
  const Status s = write_report(testing::sample(), "/proc/normcheck-report");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("Expected a directory at /proc/normcheck-report"));
}

}  // namespace
}  // namespace normcheck::report
