#include "report/atomic_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace normcheck::report {
namespace {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

constexpr const char kStagingInfix[] = ".new-";
constexpr std::size_t kMkdtempSuffix = 6;  // the XXXXXX of mkdtemp

/// The test hook of atomic_dir.h: SIGKILL after step k of NORMCHECK_TEST_KILL_AFTER=k.
void kill_point(std::size_t step) {
  const char* k = std::getenv("NORMCHECK_TEST_KILL_AFTER");
  if (k != nullptr && std::strtoull(k, nullptr, 10) == step) ::raise(SIGKILL);
}

/// Where the set goes: dir (a link resolved), its parent, and the names of the lock and the staging.
struct Target {
  fs::path dir, parent;
  std::string name;
  fs::path lock() const { return parent / ("." + name + ".lock"); }
  std::string staging_prefix() const { return "." + name + kStagingInfix; }
};

Expected<Target> resolve(const std::string& given) {
  std::error_code ec;
  fs::path p = fs::path(given).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "report/" names report
  if (fs::is_symlink(p, ec)) {
    p = fs::canonical(p, ec);  // the link stays; the directory it names is replaced
    if (ec) return Status::error("Expected " + given + " to link to a directory, but got: " + ec.message());
  }
  const std::string name = p.filename().string();
  if (name.empty() || name == "." || name == "..")
    return Status::error("Expected a directory with a name of its own, but got '" + given + "'");
  const fs::path absolute = fs::weakly_canonical(fs::absolute(p, ec), ec);
  const fs::path cwd = fs::current_path(ec);
  const auto [end, _] = std::mismatch(absolute.begin(), absolute.end(), cwd.begin(), cwd.end());
  if (!ec && end == absolute.end())
    return Status::error("Expected a directory that does not hold the working directory, but got '" + given + "'");
  return Target{p, p.has_parent_path() ? p.parent_path() : fs::path("."), name};
}

/// An exclusive flock on path, held until the object dies.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      status_ = Status::error("Expected to open the lock file " + path.string() + ", but got: " + errno_text());
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      status_ = Status::error("Expected to lock " + path.string() + ", but got: " + errno_text());
      return;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  const Status& status() const { return status_; }

 private:
  int fd_ = -1;
  Status status_;
};

/// A per-file writer's temporary file (atomic_file.h), what a killed one leaves.
bool is_temporary(const std::string& name) { return name.front() == '.' && name.find(".tmp-") != std::string::npos; }

/// dir, when it exists, must be a directory holding only files of the set (or the temporary files
/// of a per-file writer, which go with the old set).
Status check_replaceable(const Target& t, const std::vector<NamedContent>& files) {
  std::error_code ec;
  if (!fs::exists(t.dir, ec)) return {};
  if (!fs::is_directory(t.dir, ec)) return Status::error("Expected a directory at " + t.dir.string() + ", but got a file");
  std::string names;
  for (const NamedContent& f : files) names += (names.empty() ? "" : ", ") + f.name;
  for (const fs::directory_entry& e : fs::directory_iterator(t.dir, ec)) {
    const std::string n = e.path().filename().string();
    const bool ours = std::any_of(files.begin(), files.end(), [&](const NamedContent& f) { return f.name == n; });
    if (!ours && !is_temporary(n))
      return Status::error("Expected " + t.dir.string() + " to hold only a report (" + names + "), but got '" + n +
                           "' in it: give the report a directory of its own");
  }
  if (ec) return Status::error("Expected to list " + t.dir.string() + ", but got: " + ec.message());
  return {};
}

/// Removes what killed writers left beside dir: staging directories (ours hold the lock, so no
/// live writer owns one).
void remove_stale_staging(const Target& t) {
  std::error_code ec;
  const std::string prefix = t.staging_prefix();
  for (const fs::directory_entry& e : fs::directory_iterator(t.parent, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() == prefix.size() + kMkdtempSuffix && n.rfind(prefix, 0) == 0) fs::remove_all(e.path(), ec);
  }
}

/// The mode of the new directory: the old one's, or what mkdir would give (mkdtemp makes 0700).
mode_t directory_mode(const Target& t) {
  struct stat st {};
  if (::stat(t.dir.c_str(), &st) == 0) return st.st_mode & 07777;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0777 & ~mask;
}

Status stage(const std::string& staging, const std::vector<NamedContent>& files) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string path = staging + "/" + files[i].name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return Status::error("Expected to create " + path + ", but got: " + errno_text());
    Status s = write_synced(fd, files[i].content, path);
    if (::close(fd) != 0 && s.ok()) s = Status::error("Expected to close " + path + ", but got: " + errno_text());
    NC_RETURN_IF_ERROR(s);
    kill_point(i + 1);
  }
  fsync_directory(staging);
  return {};
}

/// Errors of renameat2 that say "this filesystem or this directory cannot be exchanged".
bool cannot_exchange(int error) {
  return error == EINVAL || error == ENOSYS || error == EBUSY || error == EXDEV || error == EOPNOTSUPP;
}

/// The fallback: each file replaced atomically on its own, through a temporary file inside dir
/// (dir may be another filesystem than the staging), after those of killed writers are removed.
Status replace_one_by_one(const Target& t, const std::vector<NamedContent>& files) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(t.dir, ec))
    if (is_temporary(e.path().filename().string())) fs::remove(e.path(), ec);
  return write_files_atomically(t.dir.string(), files);
}

/// The staged set becomes dir: exchanged with the old one, or renamed into place for a first write.
Status swap_in(const std::string& staging, const Target& t, const std::vector<NamedContent>& files) {
  std::error_code ec;
  const bool exists = fs::exists(t.dir, ec);
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, t.dir.c_str(), exists ? RENAME_EXCHANGE : RENAME_NOREPLACE) == 0)
    return {};
  const int error = errno;
  if (!exists && cannot_exchange(error) && ::rename(staging.c_str(), t.dir.c_str()) == 0) return {};
  if (exists && cannot_exchange(error)) {
    std::fprintf(stderr, "normcheck: warning: %s cannot be swapped whole (%s): its files are replaced one by one\n",
                 t.dir.c_str(), std::strerror(error));
    return replace_one_by_one(t, files);
  }
  return Status::error("Expected to put the new " + t.dir.string() + " in place, but got: " + std::strerror(error));
}

}  // namespace

Status replace_directory(const std::string& dir, const std::vector<NamedContent>& files) {
  Expected<Target> target = resolve(dir);
  if (!target) return target.status();
  const Target& t = *target;
  NC_RETURN_IF_ERROR(ensure_directory(t.parent.string()));
  const FileLock lock(t.lock());
  NC_RETURN_IF_ERROR(lock.status());
  NC_RETURN_IF_ERROR(check_replaceable(t, files));
  remove_stale_staging(t);

  std::string staging = (t.parent / (t.staging_prefix() + std::string(kMkdtempSuffix, 'X'))).string();
  if (::mkdtemp(staging.data()) == nullptr)
    return Status::error("Expected to create a directory beside " + t.dir.string() + ", but got: " + errno_text());
  Status s;
  if (::chmod(staging.c_str(), directory_mode(t)) != 0)
    s = Status::error("Expected to set the mode of " + staging + ", but got: " + errno_text());
  if (s.ok()) s = stage(staging, files);
  if (s.ok()) s = swap_in(staging, t, files);
  if (s.ok()) {
    kill_point(files.size() + 1);
    fsync_directory(t.parent.string());
  }
  std::error_code ec;
  fs::remove_all(staging, ec);  // the old set after an exchange; the unused new one after an error
  return s;
}

}  // namespace normcheck::report
