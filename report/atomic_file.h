#pragma once
/// Writing files so that a reader never sees half of one: each goes to a temporary file in the same
/// directory (".NAME.tmp-XXXXXX"), is flushed to disk (fsync), and is renamed over NAME; then the
/// directory itself is fsync'd so that the renames survive a crash. (A set of files that must be
/// seen whole, the report, is written by replace_directory in atomic_dir.h.)
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

/// Creates dir and its parents when missing; "Expected a directory at DIR ..., but got ..." when it
/// cannot.
Status ensure_directory(const std::string& dir);

/// Writes all of content to the open file fd (path names it in errors) and flushes it to disk.
Status write_synced(int fd, const std::string& content, const std::string& path);

/// Flushes dir's entries (renames, new files) to disk; best effort.
void fsync_directory(const std::string& dir);

}  // namespace normcheck::report
