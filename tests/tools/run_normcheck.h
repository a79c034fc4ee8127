#pragma once
/// Runs the normcheck binary (NORMCHECK_BIN, set by CMake) as a child process, in a scratch
/// directory, and captures what a user would see.
#include <filesystem>
#include <string>
#include <vector>

namespace normcheck::tool::testing {

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

/// Runs `normcheck args...` with dir as the working directory.
RunResult run_normcheck(const std::vector<std::string>& args, const std::filesystem::path& dir);

/// A fresh directory for one test, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// The whole file (empty when it cannot be read), and text written as the whole file.
std::string file_text(const std::string& path);
void write_file(const std::string& path, const std::string& text);

/// The number of '\n'-terminated lines in s.
int line_count(const std::string& s);

}  // namespace normcheck::tool::testing
