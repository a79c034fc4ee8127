// write_report: the four files, written and swapped in as a set.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>

#include "report/report.h"
#include "sample.h"

namespace normcheck::report {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
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

/// The sample with its "cpu" implementation renamed "cpu-run<id>": every one of the four files names
/// it, so each file says which write it came from.
nlohmann::json sample_of_run(int id) {
  const std::string from = "cpu", to = "cpu-run" + std::to_string(id);
  nlohmann::json doc = testing::sample();
  for (nlohmann::json& impl : doc["implementations"])
    if (impl["name"] == from) impl["name"] = to;
  for (nlohmann::json& row : doc["results"])
    if (row["implementation"] == from) row["implementation"] = to;
  for (nlohmann::json& fp : doc["profile_fingerprint"])
    if (fp["implementation"] == from) fp["implementation"] = to;
  return doc;
}

/// The run id a file's text carries, or nullopt when it carries none or several different ones.
std::optional<int> run_id_in(const std::string& text) {
  static const std::regex kRunId("cpu-run([0-9]+)");
  std::set<int> ids;
  for (std::sregex_iterator m(text.begin(), text.end(), kRunId), end; m != end; ++m) ids.insert(std::stoi((*m)[1]));
  if (ids.size() != 1) return std::nullopt;
  return *ids.begin();
}

/// The report's files read through one open directory (what a reader that opens DIR/ sees), or
/// nullopt when a file vanished under the reader (a writer removed the set it had opened).
std::optional<std::vector<std::string>> read_set(const fs::path& dir) {
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd < 0) return std::nullopt;
  std::vector<std::string> texts;
  for (const char* name : kReportFiles) {
    const int fd = ::openat(dfd, name, O_RDONLY);
    if (fd < 0) break;
    std::string text;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    texts.push_back(std::move(text));
  }
  ::close(dfd);
  if (texts.size() != std::size(kReportFiles)) return std::nullopt;
  return texts;
}

/// The one run id all four files carry; a failure names the file that differs.
std::optional<int> whole_report_id(const std::vector<std::string>& texts) {
  std::optional<int> id;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::optional<int> file_id = run_id_in(texts[i]);
    if (!file_id || (id && *file_id != *id)) {
      ADD_FAILURE() << kReportFiles[i] << " is from another run than " << kReportFiles[0];
      return std::nullopt;
    }
    id = file_id;
  }
  return id;
}

/// Forks a writer that writes sample_of_run(id) into dir with NORMCHECK_TEST_KILL_AFTER=kill_after
/// (0: none); its wait status.
int write_in_child(const fs::path& dir, int id, int kill_after) {
  const nlohmann::json doc = sample_of_run(id);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (kill_after > 0) ::setenv("NORMCHECK_TEST_KILL_AFTER", std::to_string(kill_after).c_str(), 1);
    ::_exit(write_report(doc, dir.string()).ok() ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

/// The entries of dir's parent that belong to dir's report (its name, a dot and its name, ...).
std::vector<std::string> report_entries_beside(const fs::path& dir) {
  std::vector<std::string> names;
  const std::string name = dir.filename().string();
  for (const auto& e : fs::directory_iterator(dir.parent_path())) {
    const std::string n = e.path().filename().string();
    if (n == name || n.rfind("." + name, 0) == 0) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

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

TEST_F(WriteReport, AFailedWriteReplacesNothingAndLeavesNothingBehind) {
  // A disk that fills while the new set is staged, as a file size limit in a child: its writes fail
  // with EFBIG after the first few KiB of index.html.
  const fs::path out = dir_ / "report";
  fs::create_directories(dir_);
  ASSERT_TRUE(write_report(sample_of_run(1), out.string()).ok());
  const nlohmann::json doc = sample_of_run(2);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{8192, 8192};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    const Status s = write_report(doc, out.string());
    const bool one_line_error = !s.ok() && s.message().find("File too large") != std::string::npos &&
                                s.message().find('\n') == std::string::npos;
    ::_exit(one_line_error ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the write did not fail with one line";
  const std::optional<std::vector<std::string>> texts = read_set(out);
  ASSERT_TRUE(texts.has_value());
  EXPECT_EQ(whole_report_id(*texts), 1) << "the old report stays";
  EXPECT_EQ(report_entries_beside(out), (std::vector<std::string>{".report.lock", "report"}));
}

// What else the directory holds (a baseline, the demo's samples) is the user's: it stays.
TEST_F(WriteReport, OtherEntriesOfTheDirectoryStay) {
  fs::create_directories(dir_ / "sample" / "layer_norm");
  std::ofstream(dir_ / "baseline.json") << "mine";
  std::ofstream(dir_ / "sample" / "layer_norm" / "x.npy") << "mine too";
  ASSERT_TRUE(write_report(testing::sample(), dir_.string()).ok());
  ASSERT_TRUE(write_report(testing::sample(), dir_.string()).ok());
  EXPECT_EQ(files(), (std::vector<std::string>{"baseline.json", "index.html", "junit.xml", "results.json", "sample",
                                               "summary.md"}));
  EXPECT_EQ(read_text((dir_ / "baseline.json").string()), "mine");
  EXPECT_EQ(read_text((dir_ / "sample" / "layer_norm" / "x.npy").string()), "mine too");
}

TEST_F(WriteReport, TheWorkingDirectoryOrDotIsRefused) {
  EXPECT_EQ(write_report(testing::sample(), ".").message(), "Expected a directory with a name of its own, but got '.'");
  fs::create_directories(dir_ / "inner");
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_ / "inner");
  const Status s = write_report(testing::sample(), dir_.string());
  fs::current_path(cwd);
  EXPECT_EQ(s.message(), "Expected a directory that does not hold the working directory, but got '" + dir_.string() + "'");
  EXPECT_TRUE(fs::exists(dir_ / "inner"));
}

TEST_F(WriteReport, ALinkToTheDirectoryStaysALink) {
  fs::create_directories(dir_ / "real");
  fs::create_directory_symlink("real", dir_ / "link");
  ASSERT_TRUE(write_report(sample_of_run(4), (dir_ / "link").string()).ok());
  EXPECT_TRUE(fs::is_symlink(dir_ / "link"));
  const std::optional<std::vector<std::string>> texts = read_set(dir_ / "real");
  ASSERT_TRUE(texts.has_value());
  EXPECT_EQ(whole_report_id(*texts), 4);
}

// A directory that cannot be exchanged (a mount point: a CI container's volume) still gets the
// new report, file by file, and keeps the user's files: a tmpfs (another filesystem) and a bind
// mount of the same one (nothing can move out of it: EXDEV). Needs a private mount namespace (root
// or user namespaces).
TEST_F(WriteReport, AMountPointIsWrittenFileByFile) {
  const fs::path out = dir_ / "report", source = dir_ / "bound";
  constexpr int kCannotMount = 77;
  for (const bool bind : {false, true}) {
    SCOPED_TRACE(bind ? "a bind mount" : "a tmpfs");
    fs::remove_all(dir_);
    fs::create_directories(out);
    fs::create_directories(source);
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          (bind ? ::mount(source.c_str(), out.c_str(), nullptr, MS_BIND, nullptr)
                : ::mount("tmpfs", out.c_str(), "tmpfs", 0, nullptr)) != 0)
        ::_exit(kCannotMount);
      bool ok = write_report(sample_of_run(1), out.string()).ok();
      std::ofstream(out / "keep.txt") << "mine";
      ok = write_report(sample_of_run(2), out.string()).ok() && ok;
      const std::optional<std::vector<std::string>> texts = read_set(out);
      ok = ok && texts && run_id_in((*texts)[0]) == 2 && run_id_in((*texts)[3]) == 2;
      ok = ok && read_text((out / "keep.txt").string()) == "mine";
      ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == kCannotMount) GTEST_SKIP() << "cannot mount in a private mount namespace here";
    EXPECT_EQ(WEXITSTATUS(status), 0) << "the report on a mount point was not replaced, or the user's file went";
    EXPECT_EQ(report_entries_beside(out), (std::vector<std::string>{".report.lock", "report"}));
  }
}

TEST_F(WriteReport, ARunWithNoRowsStillRenders) {
  nlohmann::json doc = testing::sample();
  doc["results"] = nlohmann::json::array();
  doc["profile_fingerprint"] = nlohmann::json::array();
  doc["kill_matrix"] = {{"properties", nlohmann::json::array()}, {"mutants", nlohmann::json::array()}};
  doc["summary"] = {{"conforming", false}, {"passed", 0}, {"failed", 0}, {"skipped", 0}, {"mistrusted", 0}};
  ASSERT_TRUE(write_report(doc, dir_.string()).ok());
  EXPECT_THAT(read_text((dir_ / "summary.md").string()), HasSubstr("NOT CONFORMING (0 failed"));
  // No mutants, no mutant section (issue 14, item 5).
  EXPECT_THAT(read_text((dir_ / "index.html").string()), Not(HasSubstr("id=\"mutants\"")));
  EXPECT_THAT(read_text((dir_ / "summary.md").string()), Not(HasSubstr("Mutants")));
}

TEST_F(WriteReport, AnUnwritableDirectoryIsAOneLineError) {
  const Status s = write_report(testing::sample(), "/proc/normcheck-report");
  EXPECT_THAT(s.message(), HasSubstr("/proc/.normcheck-report.lock, but got: "));
  EXPECT_EQ(s.message().find('\n'), std::string::npos);
}

// Issue 13, item 7: a writer SIGKILLed after each step of the write (the steps of the test hook:
// 1-4 each file of the new set written, 5 the user's entries carried over, 6 the new set in place)
// leaves the old report or the new one, whole, never a mix; the next write leaves nothing of the
// killed one behind, and the user's entries where they were.
TEST_F(WriteReport, AWriterKilledAtAnyStepLeavesTheOldReportOrTheNewOneWhole) {
  const fs::path out = dir_ / "report";
  for (const bool had_report : {true, false}) {
    for (int step = 1; step <= 6; ++step) {
      if (step == 5 && !had_report) continue;  // a first write has nothing to carry over
      SCOPED_TRACE("killed after step " + std::to_string(step) + (had_report ? ", over an old report" : ", first write"));
      fs::remove_all(dir_);
      fs::create_directories(dir_);
      if (had_report) {
        ASSERT_TRUE(write_report(sample_of_run(1), out.string()).ok());
        fs::create_directories(out / "notes");
        std::ofstream(out / "notes" / "keep.txt") << "mine";
      }
      const int status = write_in_child(out, 2, step);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the hook did not kill at step " << step;
      const std::optional<std::vector<std::string>> texts = read_set(out);
      if (!texts) {
        EXPECT_FALSE(had_report) << "the old report is gone";
        EXPECT_FALSE(fs::exists(out)) << "a first write killed midway leaves no report, not a partial one";
      } else {
        const std::optional<int> id = whole_report_id(*texts);
        EXPECT_TRUE(id == 2 || (had_report && id == 1));
      }
      // The next write takes over: a whole report, nothing of the killed writer beside it.
      ASSERT_TRUE(write_report(sample_of_run(3), out.string()).ok());
      const std::optional<std::vector<std::string>> after = read_set(out);
      ASSERT_TRUE(after.has_value());
      EXPECT_EQ(whole_report_id(*after), 3);
      dir_ = out;
      std::vector<std::string> expected{"index.html", "junit.xml", "results.json", "summary.md"};
      if (had_report) expected.insert(expected.begin() + 2, "notes");
      EXPECT_EQ(files(), expected);
      if (had_report) {
        EXPECT_EQ(read_text((out / "notes" / "keep.txt").string()), "mine");
      }
      dir_ = out.parent_path();
      EXPECT_EQ(report_entries_beside(out), (std::vector<std::string>{".report.lock", "report"}));
    }
  }
}

// Two writers on one directory, many times over, while a reader keeps opening it: every set the
// reader sees, and the one left at the end, is one writer's whole report.
TEST_F(WriteReport, ConcurrentWritersLeaveOneWholeReport) {
  const fs::path out = dir_ / "report";
  fs::create_directories(dir_);
  ASSERT_TRUE(write_report(sample_of_run(0), out.string()).ok());
  constexpr int kWrites = 40;
  std::vector<pid_t> writers;
  for (int w = 1; w <= 2; ++w) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      bool ok = true;
      for (int i = 0; i < kWrites; ++i) ok = write_report(sample_of_run(w * 1000 + i), out.string()).ok() && ok;
      ::_exit(ok ? 0 : 1);
    }
    writers.push_back(pid);
  }
  int whole_reads = 0, mixed_reads = 0;
  for (int running = 2; running > 0;) {
    const std::optional<std::vector<std::string>> texts = read_set(out);
    if (texts) {
      std::set<std::optional<int>> ids;
      for (const std::string& t : *texts) ids.insert(run_id_in(t));
      (ids.size() == 1 && *ids.begin() ? whole_reads : mixed_reads)++;
    }
    running = 0;
    for (const pid_t pid : writers) running += ::waitpid(pid, nullptr, WNOHANG) == 0 ? 1 : 0;
  }
  for (const pid_t pid : writers) ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(mixed_reads, 0) << "a reader saw files of different writes together (" << whole_reads << " whole)";
  EXPECT_GT(whole_reads, 0) << "the reader never read the report";
  const std::optional<std::vector<std::string>> last = read_set(out);
  ASSERT_TRUE(last.has_value());
  const std::optional<int> id = whole_report_id(*last);
  EXPECT_TRUE(id == 1000 + kWrites - 1 || id == 2000 + kWrites - 1) << "the last write of either writer wins";
  EXPECT_EQ(report_entries_beside(out), (std::vector<std::string>{".report.lock", "report"}));
}

}  // namespace
}  // namespace normcheck::report
