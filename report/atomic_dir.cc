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

/// Whether an entry of the directory is the user's rather than the set's (or a temporary file).
bool is_foreign(const std::string& name, const std::vector<NamedContent>& files) {
  const bool ours = std::any_of(files.begin(), files.end(), [&](const NamedContent& f) { return f.name == name; });
  return !ours && !is_temporary(name);
}

/// Moves the user's entries of from into to (a name to already has stays where it is): they go
/// from the old set to the new one, and back when a write stops halfway.
Status move_foreign(const fs::path& from, const fs::path& to, const std::vector<NamedContent>& files) {
  std::error_code ec;
  if (!fs::is_directory(from, ec)) return {};
  for (const fs::directory_entry& e : fs::directory_iterator(from, ec)) {
    const std::string n = e.path().filename().string();
    if (!is_foreign(n, files)) continue;
    std::error_code made;
    fs::create_directory(to, made);  // a stale staging's entries go back to a DIR removed since
    const fs::path dest = to / n;
    if (::renameat2(AT_FDCWD, e.path().c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) != 0 && errno != EEXIST)
      return Status::error("Expected to move " + e.path().string() + " to " + dest.string() + ", but got: " + errno_text());
  }
  if (ec) return Status::error("Expected to list " + from.string() + ", but got: " + ec.message());
  return {};
}

Status check_replaceable(const Target& t) {
  std::error_code ec;
  if (fs::exists(t.dir, ec) && !fs::is_directory(t.dir, ec))
    return Status::error("Expected a directory at " + t.dir.string() + ", but got a file");
  return {};
}

/// Takes back what killed writers left beside dir (ours hold the lock, so no live writer owns a
/// staging directory): the user's entries return to dir, the rest is removed.
void recover_stale_staging(const Target& t, const std::vector<NamedContent>& files) {
  std::error_code ec;
  const std::string prefix = t.staging_prefix();
  for (const fs::directory_entry& e : fs::directory_iterator(t.parent, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() != prefix.size() + kMkdtempSuffix || n.rfind(prefix, 0) != 0) continue;
    if (move_foreign(e.path(), t.dir, files).ok()) fs::remove_all(e.path(), ec);
  }
}

/// dir is a mount point (a container's volume, a bind mount): it cannot be renamed, nor can
/// entries move out of it, only be written into. statx knows (Linux 5.8 on); before that, another
/// device than its parent's tells.
bool is_mount_point(const Target& t) {
  struct statx x {};
  if (::statx(AT_FDCWD, t.dir.c_str(), 0, STATX_BASIC_STATS, &x) == 0 && (x.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
    return (x.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  struct stat dir {}, parent {};
  return ::stat(t.dir.c_str(), &dir) == 0 && ::stat(t.parent.c_str(), &parent) == 0 && dir.st_dev != parent.st_dev;
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

/// The staged set becomes dir: exchanged with the old one, or renamed into place for a first
/// write. Sets unsupported (an errno) when the filesystem cannot do either (nothing changed then).
Status swap_in(const std::string& staging, const Target& t, bool exists, int& unsupported) {
  const unsigned flags = exists ? RENAME_EXCHANGE : RENAME_NOREPLACE;
  if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, t.dir.c_str(), flags) == 0) return {};
  const int error = errno;
  if (!exists && cannot_exchange(error) && ::rename(staging.c_str(), t.dir.c_str()) == 0) return {};
  if (exists && cannot_exchange(error)) unsupported = error;
  return Status::error("Expected to put the new " + t.dir.string() + " in place, but got: " + std::strerror(error));
}

Status replace_one_by_one_warning(const Target& t, const std::vector<NamedContent>& files, const char* why) {
  std::fprintf(stderr, "normcheck: warning: %s cannot be swapped whole (%s): its files are replaced one by one\n",
               t.dir.c_str(), why);
  return replace_one_by_one(t, files);
}

}  // namespace

Status replace_directory(const std::string& dir, const std::vector<NamedContent>& files) {
  Expected<Target> target = resolve(dir);
  if (!target) return target.status();
  const Target& t = *target;
  NC_RETURN_IF_ERROR(ensure_directory(t.parent.string()));
  const FileLock lock(t.lock());
  NC_RETURN_IF_ERROR(lock.status());
  NC_RETURN_IF_ERROR(check_replaceable(t));
  recover_stale_staging(t, files);
  std::error_code ec;
  const bool exists = fs::exists(t.dir, ec);
  if (exists && is_mount_point(t)) return replace_one_by_one_warning(t, files, "a mount point");

  std::string staging = (t.parent / (t.staging_prefix() + std::string(kMkdtempSuffix, 'X'))).string();
  if (::mkdtemp(staging.data()) == nullptr)
    return Status::error("Expected to create a directory beside " + t.dir.string() + ", but got: " + errno_text());
  Status s;
  if (::chmod(staging.c_str(), directory_mode(t)) != 0)
    s = Status::error("Expected to set the mode of " + staging + ", but got: " + errno_text());
  if (s.ok()) s = stage(staging, files);
  if (s.ok() && exists) {
    s = move_foreign(t.dir, staging, files);  // the user's entries go with the new set
    kill_point(files.size() + 1);
  }
  int unsupported = 0;
  if (s.ok()) s = swap_in(staging, t, exists, unsupported);
  if (s.ok()) {
    kill_point(files.size() + 2);
    fsync_directory(t.parent.string());
  }
  // staging now holds the old set after a swap, or the unused new one (and the user's entries,
  // which go back) after an error.
  if (Status back = move_foreign(staging, t.dir, files); back.ok()) fs::remove_all(staging, ec);
  else if (s.ok()) s = back;
  if (unsupported != 0) return replace_one_by_one_warning(t, files, std::strerror(unsupported));
  return s;
}

}  // namespace normcheck::report
