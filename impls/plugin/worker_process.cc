// Starting, talking to and burying normcheck-worker processes.
#include "impls/plugin/worker_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

extern char** environ;

namespace normcheck::impls {
namespace {

using plugin_wire::Kind;
using plugin_wire::Reader;
using plugin_wire::RecvError;

/// The descriptor number the worker finds its socket at.
constexpr int kChildFd = 3;

std::string signal_text(int sig) {
  const char* s = strsignal(sig);
  return "signal " + std::to_string(sig) + " (" + (s ? s : "unknown") + ")";
}

}  // namespace

std::string format_bytes(std::uint64_t b) {
  constexpr std::uint64_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (b != 0 && b % kGiB == 0) return std::to_string(b / kGiB) + " GiB";
  if (b != 0 && b % kMiB == 0) return std::to_string(b / kMiB) + " MiB";
  if (b != 0 && b % kKiB == 0) return std::to_string(b / kKiB) + " KiB";
  return std::to_string(b) + " bytes";
}

std::string format_seconds(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

Expected<std::unique_ptr<WorkerProcess>> WorkerProcess::start(const WorkerConfig& c) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Status::error(std::string("cannot create the worker's socket: ") + std::strerror(errno));
  if (sv[1] == kChildFd) {  // dup2(fd, fd) would keep FD_CLOEXEC: move it out of the way first
    const int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, kChildFd + 1);
    close(sv[1]);
    sv[1] = moved;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, sv[1], kChildFd);
  posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);  // keep the host's stdout clean
  const std::string fd_arg = std::to_string(kChildFd), limit_arg = std::to_string(c.memory_limit);
  std::vector<char*> argv = {const_cast<char*>(c.worker_path.c_str()),
                             const_cast<char*>("--fd"),
                             const_cast<char*>(fd_arg.c_str()),
                             const_cast<char*>("--memory-limit"),
                             const_cast<char*>(limit_arg.c_str()),
                             const_cast<char*>(c.library_path.c_str()),
                             nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, c.worker_path.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(sv[1]);
  if (rc != 0) {
    close(sv[0]);
    return Status::error("cannot start the plugin worker " + c.worker_path + ": " + std::strerror(rc));
  }
  std::unique_ptr<WorkerProcess> w(new WorkerProcess(c, pid, sv[0]));
  Expected<std::vector<char>> hello = w->await(Kind::kHello, c.load_timeout);
  if (!hello) return Status::error("the worker failed while loading the library: " + hello.message());
  Reader r(*hello);
  r.u32();  // kind
  if (r.u32() == 0) {
    Status load_error = Status::error(r.str());
    w->kill_and_reap();
    return load_error;
  }
  w->info_.name = r.str();
  w->info_.description = r.str();
  w->info_.flags = r.u32();
  w->info_.has_backward = r.u32() != 0;
  if (r.failed()) {
    w->kill_and_reap();
    return Status::error("Expected a complete hello from the worker, but got a truncated one");
  }
  return w;
}

WorkerProcess::~WorkerProcess() {
  if (pid_ <= 0) return;
  close(sock_);  // the worker reads EOF and exits
  sock_ = -1;
  reap(std::chrono::milliseconds(500));
}

Expected<std::vector<char>> WorkerProcess::call(const plugin_wire::Writer& request, Kind kind, int fd) {
  if (!alive()) return Status::error("plugin worker is not running");
  if (Status s = plugin_wire::send_message(sock_, request, fd); !s)
    return Status::error(death_message(false, 0, false));
  return await(kind, config_.timeout);
}

Expected<std::vector<char>> WorkerProcess::await(Kind kind, std::chrono::milliseconds timeout) {
  plugin_wire::Received m = plugin_wire::recv_message(sock_, timeout);
  if (m.fd >= 0) close(m.fd);  // the worker never sends descriptors
  if (m.error == RecvError::kTimeout) {
    kill_and_reap();
    return Status::error("plugin timed out after " + format_seconds(timeout));
  }
  if (m.error == RecvError::kClosed) return Status::error(death_message(false, 0, false));
  if (m.error == RecvError::kBadMessage) {
    kill_and_reap();
    return Status::error("plugin worker sent a malformed message (did the plugin write to descriptor 3?)");
  }
  Reader r(m.bytes);
  const auto got = static_cast<Kind>(r.u32());
  if (got == Kind::kCrash) {
    const std::uint32_t sig = r.u32();
    const bool memory = r.u32() != 0;
    return Status::error(death_message(true, sig, memory));
  }
  if (got != kind) {
    kill_and_reap();
    return Status::error("Expected a reply of kind " + std::to_string(static_cast<std::uint32_t>(kind)) +
                         " from the plugin worker, but got " +
                         std::to_string(static_cast<std::uint32_t>(got)));
  }
  return std::move(m.bytes);
}

std::string WorkerProcess::death_message(bool have_note, std::uint32_t note_signal, bool memory_exhausted) {
  const int status = reap(std::chrono::milliseconds(2000));
  const int sig =
      status >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : (have_note ? static_cast<int>(note_signal) : 0);
  if (memory_exhausted && config_.memory_limit > 0)
    return "plugin exceeded memory limit " + format_bytes(config_.memory_limit) + " (" + signal_text(sig) +
           ")";
  if (sig != 0) return "plugin crashed: " + signal_text(sig);
  if (status == -2) return "plugin crashed: it closed the worker's connection and did not exit (killed)";
  if (status >= 0 && WIFEXITED(status))
    return "plugin crashed: the worker exited with status " + std::to_string(WEXITSTATUS(status));
  return "plugin crashed: the worker is gone";
}

void WorkerProcess::kill_and_reap() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  close(sock_);
  sock_ = -1;
  pid_ = -1;
}

/// The wait status of the worker, waiting up to grace for it to exit; after that it is killed
/// (-2 returned). -1: it could not be reaped (already gone).
int WorkerProcess::reap(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  int status = 0, result = -1;
  for (;;) {
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      result = status;
      break;
    }
    if (r < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      result = -2;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (sock_ >= 0) close(sock_);
  sock_ = -1;
  pid_ = -1;
  return result;
}

}  // namespace normcheck::impls
