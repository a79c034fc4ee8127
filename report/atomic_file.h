#pragma once
/// Writing files so that a reader never sees half of one: each goes to a temporary file in the same
/// directory (".NAME.tmp-XXXXXX"), is flushed to disk (fsync), and is renamed over NAME; then the
/// directory itself is fsync'd so that the renames survive a crash.
#include <string>
#include <utility>
#include <vector>

#include "normcheck/status.h"

namespace normcheck::report {

struct NamedContent {
  std::string name;  ///< a file name inside the directory (no '/')
  std::string content;
};

/// Creates dir (and its parents) when missing, then writes every file atomically. All temporary
/// files are written and fsync'd before the first rename, so a failure while writing (disk full, no
/// permission) replaces nothing and leaves no temporary file behind; the renames then follow in
/// order (each one atomic on its own).
Status write_files_atomically(const std::string& dir, const std::vector<NamedContent>& files);

}  // namespace normcheck::report
