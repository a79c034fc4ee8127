// Starting, talking to and burying normcheck-worker processes.
#include "impls/plugin/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern char** environ;

namespace normcheck::impls {
namespace {

using plugin_wire::Kind;
using plugin_wire::Reader;
using plugin_wire::Clock;
using plugin_wire::poll_ms;
using plugin_wire::RecvError;

/// The descriptor number the worker finds its socket at.
constexpr int kChildFd = 3;
/// Descriptors the host passes are moved to this or above: never one of the worker's 0 to 3 that
/// the spawn's actions write (a dup2 onto one would clobber another's source), nor the host's
/// own 0 to 2 when it runs with them closed (its stderr writes would go into the socket).
constexpr int kLowestPassedFd = 10;
/// Without a pidfd, how often a wait looks whether the worker has ended.
constexpr std::chrono::milliseconds kDeathPoll{20};

/// fd moved to kLowestPassedFd or above (close-on-exec), the original closed; -1 on failure.
int moved_up(int fd) {
  if (fd < 0 || fd >= kLowestPassedFd) return fd;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, kLowestPassedFd);
  close(fd);
  return moved;
}

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

Status WorkerProcess::spawn() {
  const WorkerConfig& c = config_;
  int sv[2], out[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return Status::error(std::string("cannot create the worker's socket: ") + std::strerror(errno));
  sock_ = moved_up(sv[0]);
  const int child_sock = moved_up(sv[1]);
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(child_sock);
    return Status::error(std::string("cannot create the worker's output pipe: ") + std::strerror(errno));
  }
  output_.adopt(moved_up(out[0]));
  const int child_out = moved_up(out[1]);
  if (sock_ < 0 || child_sock < 0 || output_.read_end() < 0 || child_out < 0) {
    close(child_sock), close(child_out);
    return Status::error(std::string("cannot place the worker's descriptors: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, child_sock, kChildFd);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, child_out, STDOUT_FILENO);  // the host's stdout and stderr stay its own
  posix_spawn_file_actions_adddup2(&fa, child_out, STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&fa, kChildFd + 1);  // report files, `| cat` pipes: none inherited
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A session of its own: kill(0, sig) in the plugin reaches no further than the worker's group,
  // which retire() kills whole; and no controlling terminal to stop it (SIGTTIN) or signal it.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  const std::string fd_arg = std::to_string(kChildFd), limit_arg = std::to_string(c.memory_limit);
  std::vector<char*> argv = {const_cast<char*>(c.worker_path.c_str()),
                             const_cast<char*>("--fd"),
                             const_cast<char*>(fd_arg.c_str()),
                             const_cast<char*>("--memory-limit"),
                             const_cast<char*>(limit_arg.c_str()),
                             const_cast<char*>(c.library_path.c_str()),
                             nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, c.worker_path.c_str(), &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(child_sock);
  close(child_out);
  if (rc != 0) return Status::error("cannot start the plugin worker " + c.worker_path + ": " + std::strerror(rc));
  pid_ = pid;
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // -1 on kernels before 5.3: ended() polls
  return {};
}

Expected<std::unique_ptr<WorkerProcess>> WorkerProcess::start(const WorkerConfig& c) {
  std::unique_ptr<WorkerProcess> w(new WorkerProcess(c));
  if (Status s = w->spawn(); !s) return s;
  Expected<std::vector<char>> hello = w->await(Kind::kHello, c.load_timeout);
  if (!hello) return Status::error("the worker failed while loading the library: " + hello.message());
  Reader r(*hello);
  r.u32();  // kind
  if (r.u32() == 0) {
    const std::string why = r.str();
    // The worker exits after a failed load; what it printed (a Python host's traceback) ends the line.
    w->retire(std::chrono::milliseconds(500));
    return Status::error(w->with_last_words(why));
  }
  w->info_.name = r.str();
  w->info_.description = r.str();
  w->info_.flags = r.u32();
  w->info_.has_backward = r.u32() != 0;
  if (r.failed()) {
    w->retire(std::chrono::milliseconds(0));
    return Status::error("Expected a complete hello from the worker, but got a truncated one");
  }
  return w;
}

WorkerProcess::~WorkerProcess() {
  retire(std::chrono::milliseconds(500));  // the worker reads EOF and exits; what it forked is killed
  if (pidfd_ >= 0) close(pidfd_);
}

Expected<std::vector<char>> WorkerProcess::call(const plugin_wire::Writer& request, Kind kind, int fd) {
  if (!alive()) return Status::error("plugin worker is not running");
  if (Status s = plugin_wire::send_message(sock_, request, fd); !s)
    return Status::error(death_message(false, 0, false));
  return await(kind, config_.timeout);
}

Expected<std::vector<char>> WorkerProcess::await(Kind kind, std::chrono::milliseconds timeout) {
  plugin_wire::Received m = plugin_wire::recv_message(
      sock_, timeout, [this](int sock, bool has_deadline, Clock::time_point deadline) {
        return wait_readable(sock, has_deadline, deadline);
      });
  if (m.fd >= 0) close(m.fd);  // the worker never sends descriptors
  if (m.error == RecvError::kTimeout) {
    retire(std::chrono::milliseconds(0));
    return Status::error(with_last_words("plugin timed out after " + format_seconds(timeout)));
  }
  if (m.error == RecvError::kClosed || m.error == RecvError::kPeerGone)
    return Status::error(death_message(false, 0, false));
  if (m.error == RecvError::kBadMessage) {
    retire(std::chrono::milliseconds(0));
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
    retire(std::chrono::milliseconds(0));
    return Status::error("Expected a reply of kind " + std::to_string(static_cast<std::uint32_t>(kind)) +
                         " from the plugin worker, but got " +
                         std::to_string(static_cast<std::uint32_t>(got)));
  }
  return std::move(m.bytes);
}

RecvError WorkerProcess::wait_readable(int sock, bool has_deadline, Clock::time_point deadline) {
  for (;;) {
    if (has_deadline && Clock::now() >= deadline) return RecvError::kTimeout;
    // poll() skips negative descriptors: no pidfd, or the output pipe closed by every writer.
    pollfd fds[3] = {{sock, POLLIN, 0}, {output_.read_end(), POLLIN, 0}, {pidfd_, POLLIN, 0}};
    const int r = poll(fds, 3, poll_ms(has_deadline, deadline, pidfd_ >= 0 ? std::chrono::milliseconds(-1) : kDeathPoll));
    if (r < 0 && errno != EINTR) return RecvError::kNone;  // the read says what is wrong
    if (fds[1].revents != 0) output_.drain();
    if (fds[0].revents != 0) return RecvError::kNone;  // a reply (or a crash note) first, even from the dead
    if (ended()) return RecvError::kPeerGone;
  }
}

bool WorkerProcess::ended() const {
  if (pid_ <= 0) return true;
  siginfo_t info{};
  // WNOWAIT: the worker stays a zombie, so its process group id cannot be reused before retire().
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return errno != EINTR;
  return info.si_pid == pid_;
}

std::string WorkerProcess::death_message(bool have_note, std::uint32_t note_signal, bool memory_exhausted) {
  const int status = retire(std::chrono::milliseconds(2000));
  const int sig =
      status >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : (have_note ? static_cast<int>(note_signal) : 0);
  if (memory_exhausted && config_.memory_limit > 0)
    return with_last_words("plugin exceeded memory limit " + format_bytes(config_.memory_limit) + " (" +
                           signal_text(sig) + ")");
  if (sig != 0) return with_last_words("plugin crashed: " + signal_text(sig));
  if (status == -2)
    return with_last_words("plugin crashed: it closed the worker's connection and did not exit (killed)");
  if (status >= 0 && WIFEXITED(status))
    return with_last_words("plugin crashed: the worker exited with status " + std::to_string(WEXITSTATUS(status)));
  return with_last_words("plugin crashed: the worker is gone");
}

std::string WorkerProcess::with_last_words(std::string message) const {
  const std::string words = output_.last_words();
  if (!words.empty()) message += "; its last output: " + words;
  return message;
}

int WorkerProcess::retire(std::chrono::milliseconds grace) {
  if (sock_ >= 0) close(sock_);  // a live worker reads EOF and exits
  sock_ = -1;
  if (pid_ <= 0) return -1;
  const Clock::time_point deadline = Clock::now() + grace;
  bool exited = ended();
  while (!exited && Clock::now() < deadline) {
    pollfd fds[2] = {{output_.read_end(), POLLIN, 0}, {pidfd_, POLLIN, 0}};
    if (poll(fds, 2, poll_ms(true, deadline, pidfd_ >= 0 ? std::chrono::milliseconds(-1) : kDeathPoll)) > 0 &&
        fds[0].revents != 0)
      output_.drain();
    exited = ended();
  }
  // The whole group: the worker, if it still runs, and whatever the plugin forked. The worker is
  // unreaped until below, so the group id is still its own.
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  pid_t reaped = -1;
  do {
    reaped = waitpid(pid_, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  pid_ = -1;
  output_.drain();  // the last words (the group is dead: no more will come)
  if (reaped < 0) return -1;
  return exited ? status : -2;
}

}  // namespace normcheck::impls
