// Framing, field encoding and descriptor passing for the host <-> worker socket.
#include "impls/plugin/wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace normcheck::impls::plugin_wire {
namespace {

/// Reads exactly n bytes into dst; keeps the first descriptor that arrives with them.
RecvError read_exact(int sock, char* dst, std::size_t n, bool has_deadline, Clock::time_point deadline,
                     const WaitReadable& wait, int& fd) {
  std::size_t got = 0;
  while (got < n) {
    if (const RecvError e = wait(sock, has_deadline, deadline); e != RecvError::kNone) return e;
    iovec iov{dst + got, n - got};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (r <= 0) return RecvError::kClosed;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      int received = -1;
      std::memcpy(&received, CMSG_DATA(c), sizeof(int));
      if (fd < 0) {
        fd = received;
      } else {
        close(received);
      }
    }
    got += static_cast<std::size_t>(r);
  }
  return RecvError::kNone;
}

}  // namespace

int poll_ms(bool has_deadline, Clock::time_point deadline, std::chrono::milliseconds cap) {
  long long ms = cap.count() >= 0 ? cap.count() : -1;
  if (has_deadline) {
    const long long left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    ms = ms < 0 ? std::max(0LL, left) : std::clamp(left, 0LL, ms);
  }
  return static_cast<int>(std::min<long long>(ms, 1 << 30));
}

RecvError poll_readable(int sock, bool has_deadline, Clock::time_point deadline) {
  for (;;) {
    if (has_deadline && Clock::now() >= deadline) return RecvError::kTimeout;
    pollfd p{sock, POLLIN, 0};
    const int r = poll(&p, 1, poll_ms(has_deadline, deadline));
    if (r > 0) return RecvError::kNone;  // readable, or hung up / error: the read says which
    if (r < 0 && errno != EINTR) return RecvError::kNone;
  }
}

const char* slot_name(int slot) {
  static const char* const kNames[kNumSlots] = {"x",           "weight",      "bias",    "running_mean",
                                                "running_var", "grad_output", "y",       "mean",
                                                "rstd",        "dx",          "dweight", "dbias"};
  return slot >= 0 && slot < kNumSlots ? kNames[slot] : "?";
}

void Writer::slot(const SlotLayout& s) {
  u32(s.present ? 1 : 0);
  u32(s.dtype);
  i64(s.offset);
  u32(static_cast<std::uint32_t>(s.shape.size()));
  for (std::size_t i = 0; i < s.shape.size(); ++i) {
    i64(s.shape[i]);
    i64(s.strides[i]);
  }
}

std::string Reader::str() {
  const std::uint32_t n = u32();
  if (failed_ || pos_ + n > b_.size()) {
    failed_ = true;
    return {};
  }
  std::string s(b_.data() + pos_, n);
  pos_ += n;
  return s;
}

SlotLayout Reader::slot() {
  SlotLayout s;
  s.present = u32() != 0;
  s.dtype = u32();
  s.offset = i64();
  const std::uint32_t ndim = u32();
  if (ndim > 16) {
    failed_ = true;
    return s;
  }
  for (std::uint32_t i = 0; i < ndim && !failed_; ++i) {
    s.shape.push_back(i64());
    s.strides.push_back(i64());
  }
  return s;
}

Status send_message(int sock, const Writer& w, int fd) {
  const std::vector<char>& body = w.bytes();
  const auto n = static_cast<std::uint32_t>(body.size());
  std::vector<char> frame(4 + body.size());
  std::memcpy(frame.data(), &n, 4);
  std::memcpy(frame.data() + 4, body.data(), body.size());
  std::size_t sent = 0;
  while (sent < frame.size()) {
    iovec iov{frame.data() + sent, frame.size() - sent};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (fd >= 0 && sent == 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    const ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      return Status::error(std::string("cannot send to the plugin worker: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(r);
  }
  return {};
}

Received recv_message(int sock, std::chrono::milliseconds timeout, const WaitReadable& wait) {
  const bool has_deadline = timeout.count() >= 0;
  const Clock::time_point deadline = Clock::now() + timeout;
  Received out;
  std::uint32_t n = 0;
  out.error = read_exact(sock, reinterpret_cast<char*>(&n), 4, has_deadline, deadline, wait, out.fd);
  if (out.error == RecvError::kNone && (n < 4 || n > kMaxMessage)) out.error = RecvError::kBadMessage;
  if (out.error == RecvError::kNone) {
    out.bytes.resize(n);
    out.error = read_exact(sock, out.bytes.data(), n, has_deadline, deadline, wait, out.fd);
  }
  if (out.error != RecvError::kNone && out.fd >= 0) {
    close(out.fd);
    out.fd = -1;
  }
  return out;
}

}  // namespace normcheck::impls::plugin_wire
