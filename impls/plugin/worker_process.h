#pragma once
/// The host's handle on one normcheck-worker process: starts it (posix_spawn), reads its hello,
/// sends requests and waits for replies with a timeout, and turns a dead or stuck worker into a
/// one-line error ("plugin crashed: signal 11 (Segmentation fault)", "plugin timed out after 10 s",
/// "plugin exceeded memory limit 4 GiB ..."). A worker that failed a call is dead: start another.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "impls/plugin/wire.h"
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
  WorkerProcess(const WorkerConfig& c, int pid, int sock) : config_(c), pid_(pid), sock_(sock) {}
  /// Waits for the reply (timeout), reading a crash note if one comes first.
  Expected<std::vector<char>> await(plugin_wire::Kind kind, std::chrono::milliseconds timeout);
  /// Why the worker died: its wait status (reaped here, with a kill after a short grace) and
  /// the crash note, if any.
  std::string death_message(bool have_note, std::uint32_t signal, bool memory_exhausted);
  void kill_and_reap();
  int reap(std::chrono::milliseconds grace);

  WorkerConfig config_;
  PluginInfo info_;
  int pid_ = -1;
  int sock_ = -1;
};

}  // namespace normcheck::impls
