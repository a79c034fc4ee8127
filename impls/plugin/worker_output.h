#pragma once
/// Where a worker's stdout and stderr go: one pipe the host drains while it waits on the worker,
/// keeping the last few KiB, so the plugin's output needs nothing of the host's own stdout and
/// stderr (closed, a full pipe, a `| cat` that must end) and its last words can name a crash.
#include <cstddef>
#include <string>

namespace normcheck::impls {

class WorkerOutput {
 public:
  /// The bytes kept: the tail of everything the worker wrote.
  static constexpr std::size_t kKeep = 4096;

  WorkerOutput() = default;
  ~WorkerOutput();
  WorkerOutput(const WorkerOutput&) = delete;
  WorkerOutput& operator=(const WorkerOutput&) = delete;

  /// Takes the pipe's read end (made non-blocking here); the worker has the write end.
  void adopt(int read_end);
  /// The end to poll for POLLIN; -1 before adopt() and once every writer has closed the pipe.
  int read_end() const { return read_; }
  /// Reads what the pipe holds now (up to 256 KiB), keeping the tail.
  void drain();
  /// The end of what was written, at most kShown characters ("..." first when cut), as one
  /// printable line (" | " between lines); "" when nothing was.
  std::string last_words() const;

 private:
  static constexpr std::size_t kShown = 300;
  int read_ = -1;
  std::string tail_;
};

}  // namespace normcheck::impls
