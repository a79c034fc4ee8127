#include "tools/normcheck/output_files.h"

#include <filesystem>
#include <system_error>

#include "normcheck/npy.h"

namespace normcheck::tool {
Status ensure_directory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  fs::create_directories(dir, ec);
  if (ec)
    return Status::error("Expected a directory at " + dir +
                         " (or one we can create), but got: " + ec.message());
  if (!fs::is_directory(dir, ec))
    return Status::error("Expected a directory at " + dir + ", but got something else");
  return {};
}

Status write_outputs(const std::string& dir, const reference::Result& r) {
  for (const NamedOutput& o : present_outputs(r)) {
    const std::string stem = dir + "/" + std::string(o.name);
    NC_RETURN_IF_ERROR(write_npy(stem + ".npy", o.value->view()));
    if (o.bound != nullptr) NC_RETURN_IF_ERROR(write_npy(stem + "_bound.npy", o.bound->view()));
  }
  return {};
}

}  // namespace normcheck::tool
