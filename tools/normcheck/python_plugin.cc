#include "tools/normcheck/python_plugin.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace normcheck::tool {
namespace {

namespace fs = std::filesystem;

/// The installed host beside this program (bin/../lib/normcheck/), else the build tree's.
std::string host_path() {
#ifdef NORMCHECK_PYTHON_HOST_PATH
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path installed = (self.parent_path() / NORMCHECK_PYTHON_HOST_FROM_BINDIR).lexically_normal();
    if (fs::exists(installed, ec)) return installed.string();
  }
  return NORMCHECK_PYTHON_HOST_PATH;
#else
  return {};
#endif
}

Status python_host_available() {
  if (host_path().empty())
    return Status::error(
        "Expected a normcheck built with Python's embedding library (libpython3-dev) for "
        "--python, but this one was built without it");
  return Status{};
}

}  // namespace

Expected<std::string> prepare_python_plugin(const std::string& spec) {
  const std::size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    return Status::error("Expected --python MODULE:OBJECT (or path/file.py:OBJECT), but got '" + spec + "'");
  const std::string module = spec.substr(0, colon);
  std::error_code ec;
  if (module.ends_with(".py") && !fs::is_regular_file(module, ec))
    return Status::error("Expected --python with an existing .py file, but got '" + module +
                         "' (no such file)");
  if (Status s = python_host_available(); !s.ok()) return s;
  if (setenv("NORMCHECK_PYTHON", spec.c_str(), 1) != 0)
    return Status::error("cannot set NORMCHECK_PYTHON for the worker");
  return host_path();
}

}  // namespace normcheck::tool
