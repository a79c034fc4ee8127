#include "run_normcheck.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace normcheck::tool::testing {
namespace {

namespace fs = std::filesystem;

/// s in single quotes for /bin/sh ('\'' for each quote inside).
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out.append("'\\''");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

}  // namespace

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

RunResult run_normcheck(const std::vector<std::string>& args, const fs::path& dir) {
  // Appends only: GCC 12 warns (-Wrestrict, a false positive) on some "literal" + std::string chains.
  const fs::path out = dir / ".stdout", err = dir / ".stderr";
  std::string cmd = "cd ";
  cmd.append(shell_quote(dir.string())).append(" && ").append(shell_quote(NORMCHECK_BIN));
  for (const std::string& a : args) cmd.append(" ").append(shell_quote(a));
  cmd.append(" >").append(shell_quote(out.string())).append(" 2>").append(shell_quote(err.string()));
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = file_text(out.string());
  r.err = file_text(err.string());
  return r;
}

ScratchDir::ScratchDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "scratch";
  std::replace(name.begin(), name.end(), '/', '_');
  path_ = fs::temp_directory_path() / ("normcheck-tools-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int line_count(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

}  // namespace normcheck::tool::testing
