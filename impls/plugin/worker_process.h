#pragma once
/// The host's handle on one normcheck-worker process: starts it (posix_spawn), reads its hello,
/// sends requests and waits for replies with a timeout, and turns a dead or stuck worker into a
/// one-line error ("plugin crashed: signal 11 (Segmentation fault)", "plugin timed out after 10 s",
/// "plugin exceeded memory limit 4 GiB ..."). A worker that failed a call is dead: start another.
///
/// Containment: the worker runs in a session (and process group) of its own, so a plugin's
/// kill(0, ...) reaches only the worker and what it forked, and retiring a worker SIGKILLs that
/// whole group. It gets descriptors 0 (/dev/null), 1 and 2 (a pipe of its own, drained here: its
/// last words go into a crash message) and 3 (the socket), nothing else of the host's. The host
/// learns of its death from the process itself (pidfd, waitid), never only from EOF on a socket a
/// forked child may still hold, and every wait has a deadline.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "impls/plugin/wire.h"
#include "impls/plugin/worker_output.h"
#include "normcheck/status.h"

namespace normcheck::impls {

struct WorkerConfig {
  std::string worker_path;                         ///< the normcheck-worker executable
  std::string library_path;                        ///< the plugin, absolute
  std::chrono::milliseconds timeout{10'000};       ///< per request
  std::chrono::milliseconds load_timeout{30'000};  ///< for the hello
  std::uint64_t memory_limit = 0;                  ///< RLIMIT_AS of the worker; 0: none
};

/// What the plugin's table says (from the hello).
struct PluginInfo {
  std::string name, description;
  std::uint32_t flags = 0;
  bool has_backward = false;
};

/// "4 GiB", "256 MiB", "1000 bytes"; "10 s", "1.5 s".
std::string format_bytes(std::uint64_t bytes);
std::string format_seconds(std::chrono::milliseconds ms);

class WorkerProcess {
 public:
  /// Starts a worker for the library and waits for its hello. A load error (the worker's, or a
  /// failure to start or hear from it) comes back as a Status without the "cannot load plugin: "
  /// prefix.
  static Expected<std::unique_ptr<WorkerProcess>> start(const WorkerConfig& config);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  const PluginInfo& info() const { return info_; }
  bool alive() const { return pid_ > 0; }
  /// Sends a request (with fd as SCM_RIGHTS when >= 0) and returns the reply's bytes after the
  /// kind, which must equal the request's. On a crash, timeout or protocol error the worker is
  /// reaped (killed when needed), alive() turns false, and the error says what happened.
  Expected<std::vector<char>> call(const plugin_wire::Writer& request, plugin_wire::Kind kind, int fd = -1);

 private:
  explicit WorkerProcess(const WorkerConfig& c) : config_(c) {}
  /// Starts the process: its own session, its descriptors 0 to 3 and no others.
  Status spawn();
  /// Waits for the reply (timeout), reading a crash note if one comes first.
  Expected<std::vector<char>> await(plugin_wire::Kind kind, std::chrono::milliseconds timeout);
  /// recv_message's wait: the socket readable, the worker gone or the deadline, whichever comes
  /// first, draining the worker's output meanwhile.
  plugin_wire::RecvError wait_readable(int sock, bool has_deadline, plugin_wire::Clock::time_point deadline);
  /// Whether the worker has ended (it stays a zombie, unreaped, until retire()).
  bool ended() const;
  /// Why the worker died: its wait status (reaped here, with a kill after a short grace), the
  /// crash note, if any, and its last output.
  std::string death_message(bool have_note, std::uint32_t signal, bool memory_exhausted);
  /// The message with the worker's last output after it, when it wrote any.
  std::string with_last_words(std::string message) const;
  /// Ends the worker: closes the socket, waits up to grace for it to exit, SIGKILLs its process
  /// group (whatever it forked too) and reaps it. Its wait status; -2 when it had to be killed;
  /// -1 when there was none to reap.
  int retire(std::chrono::milliseconds grace);

  WorkerConfig config_;
  PluginInfo info_;
  int pid_ = -1;    ///< also its session and process group id
  int pidfd_ = -1;  ///< readable once it ends; -1 where pidfd_open is not available
  int sock_ = -1;
  WorkerOutput output_;
};

}  // namespace normcheck::impls
