// The worker's output pipe and its tail.
#include "impls/plugin/worker_output.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace normcheck::impls {

WorkerOutput::~WorkerOutput() {
  if (read_ >= 0) close(read_);
}

void WorkerOutput::adopt(int read_end) {
  read_ = read_end;
  fcntl(read_, F_SETFL, fcntl(read_, F_GETFL) | O_NONBLOCK);  // drain() reads what is there, never waits
}

void WorkerOutput::drain() {
  char buf[1 << 14];
  // At most 16 reads (256 KiB) a call: a plugin writing without end cannot hold the host here;
  // the caller's wait, with its deadline, comes back for the rest.
  for (int reads = 0; read_ >= 0 && reads < 16; ++reads) {
    const ssize_t n = read(read_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;  // EAGAIN: nothing more now
    if (n == 0) {       // every writer is gone
      close(read_);
      read_ = -1;
      return;
    }
    tail_.append(buf, static_cast<std::size_t>(n));
    if (tail_.size() > kKeep) tail_.erase(0, tail_.size() - kKeep);
  }
}

std::string WorkerOutput::last_words() const {
  const std::size_t end = tail_.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  std::string shown;
  for (std::size_t i = 0; i <= end; ++i) {
    const auto c = static_cast<unsigned char>(tail_[i]);
    if (c == '\n') shown += " | ";
    else if (c < 0x20 || c == 0x7f) shown += '?';
    else shown += static_cast<char>(c);
  }
  if (shown.size() <= kShown) return shown;
  return "..." + shown.substr(shown.size() - (kShown - 3));
}

}  // namespace normcheck::impls
