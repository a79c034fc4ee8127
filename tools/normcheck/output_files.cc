#include "tools/normcheck/output_files.h"

#include "normcheck/npy.h"

namespace normcheck::tool {

Status write_outputs(const std::string& dir, const reference::Result& r) {
  for (const NamedOutput& o : present_outputs(r)) {
    const std::string stem = dir + "/" + std::string(o.name);
    NC_RETURN_IF_ERROR(write_npy(stem + ".npy", o.value->view()));
    if (o.bound != nullptr) NC_RETURN_IF_ERROR(write_npy(stem + "_bound.npy", o.bound->view()));
  }
  return {};
}

}  // namespace normcheck::tool
