#include "report/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace normcheck::report {
namespace {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

/// Writes content to a fresh temporary file next to final_path; sets temp_path once the file exists.
Status write_temporary(const std::string& final_path, const std::string& content, std::string& temp_path) {
  const fs::path p(final_path);
  std::string temp_name = ".";  // appends only: GCC 12 warns (-Wrestrict, a false positive) on "." + s + "..."
  temp_name.append(p.filename().string()).append(".tmp-XXXXXX");
  std::string pattern = (p.parent_path() / temp_name).string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) return Status::error("Expected to create a file next to " + final_path + ", but got: " + errno_text());
  temp_path = pattern;
  const mode_t mask = ::umask(0);  // mkstemp makes 0600; a report is as readable as any new file
  ::umask(mask);
  Status s;
  if (::fchmod(fd, 0666 & ~mask) != 0) s = Status::error("Expected to set the mode of " + temp_path + ", but got: " + errno_text());
  if (s.ok()) s = write_synced(fd, content, final_path);
  if (::close(fd) != 0 && s.ok()) s = Status::error("Expected to close " + final_path + ", but got: " + errno_text());
  return s;
}

}  // namespace

Status ensure_directory(const std::string& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  fs::create_directories(dir, ec);
  if (ec) return Status::error("Expected a directory at " + dir + " (or one we can create), but got: " + ec.message());
  if (!fs::is_directory(dir, ec)) return Status::error("Expected a directory at " + dir + ", but got something else");
  return {};
}

Status write_synced(int fd, const std::string& content, const std::string& path) {
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::error("Expected to write " + path + ", but got: " + errno_text());
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return Status::error("Expected to flush " + path + " to disk, but got: " + errno_text());
  return {};
}

void fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the renames are done, only their durability is at stake
  (void)::fsync(fd);
  ::close(fd);
}

Status write_files_atomically(const std::string& dir, const std::vector<NamedContent>& files) {
  NC_RETURN_IF_ERROR(ensure_directory(dir));
  std::vector<std::string> temps(files.size());
  Status s;
  for (std::size_t i = 0; i < files.size() && s.ok(); ++i)
    s = write_temporary((fs::path(dir) / files[i].name).string(), files[i].content, temps[i]);
  for (std::size_t i = 0; i < files.size() && s.ok(); ++i) {
    const std::string final_path = (fs::path(dir) / files[i].name).string();
    if (::rename(temps[i].c_str(), final_path.c_str()) != 0)
      s = Status::error("Expected to replace " + final_path + ", but got: " + errno_text());
    else
      temps[i].clear();
  }
  for (const std::string& t : temps) {
    if (!t.empty()) ::unlink(t.c_str());
  }
  fsync_directory(dir);
  return s;
}

}  // namespace normcheck::report
