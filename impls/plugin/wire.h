#pragma once
/// The messages between the host (plugin_impl.cc) and normcheck-worker over their socketpair:
/// each is a u32 byte count followed by that many bytes, built with Writer and read with Reader
/// (little-endian, fixed-width fields, strings as u32 length + bytes). A run request carries the
/// case's shared-memory file descriptor as SCM_RIGHTS ancillary data.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/status.h"

namespace normcheck::impls::plugin_wire {

/// The first u32 of every message.
enum class Kind : std::uint32_t {
  kHello = 1,     ///< worker -> host once, after loading: ok + table info, or the load error
  kSupports = 2,  ///< host -> worker: a descriptor; worker -> host: supported + reason
  kRun = 3,       ///< host -> worker: descriptor + slots (+ fd); worker -> host: code + message
  kCrash = 4,     ///< worker -> host from the fatal-signal handler: signal + memory exhausted
};

/// The tensors of a case, in this order, in the shared region (and in nc_tensors).
enum Slot : int {
  kX,
  kWeight,
  kBias,
  kRunningMean,
  kRunningVar,
  kGradOutput,
  kY,
  kMean,
  kRstd,
  kDx,
  kDweight,
  kDbias,
  kNumSlots
};
const char* slot_name(int slot);

/// Where one tensor lies in the case's region.
struct SlotLayout {
  bool present = false;
  std::uint32_t dtype = 0;                   ///< normcheck::DType
  std::int64_t offset = 0;                   ///< bytes from the region's start (64-byte aligned)
  std::vector<std::int64_t> shape, strides;  ///< strides in elements
};

/// The most bytes a message may have (a descriptor and twelve slot layouts need about 2 KB).
inline constexpr std::uint32_t kMaxMessage = 1u << 20;
/// The capacity of the message/reason buffers handed to the plugin.
inline constexpr std::size_t kMessageCapacity = 1024;

class Writer {
 public:
  explicit Writer(Kind k) { u32(static_cast<std::uint32_t>(k)); }
  void u32(std::uint32_t v) { raw(&v, 4); }
  void i64(std::int64_t v) { raw(&v, 8); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void slot(const SlotLayout& s);
  const std::vector<char>& bytes() const { return bytes_; }

 private:
  void raw(const void* p, std::size_t n) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + n);
    if (n != 0) std::memcpy(bytes_.data() + at, p, n);
  }
  std::vector<char> bytes_;
};

/// Reads fields in order; a read past the end sets failed() and yields zeros / empty strings.
class Reader {
 public:
  explicit Reader(const std::vector<char>& b) : b_(b) {}
  std::uint32_t u32() { return fixed<std::uint32_t>(); }
  std::int64_t i64() { return fixed<std::int64_t>(); }
  std::string str();
  SlotLayout slot();
  bool failed() const { return failed_; }

 private:
  template <class T>
  T fixed() {
    T v{};
    if (pos_ + sizeof(T) > b_.size()) {
      failed_ = true;
      return v;
    }
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  const std::vector<char>& b_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

/// Sends one framed message (and fd, when >= 0, as SCM_RIGHTS). Never raises SIGPIPE.
Status send_message(int sock, const Writer& w, int fd = -1);

/// Why recv_message returned without a message. kPeerGone: the process at the other end ended
/// (another process, one it forked, may still hold its end open, so no EOF need come).
enum class RecvError { kNone, kTimeout, kClosed, kBadMessage, kPeerGone };
struct Received {
  RecvError error = RecvError::kNone;
  std::vector<char> bytes;
  int fd = -1;  ///< a received descriptor (the caller closes it), or -1
};

using Clock = std::chrono::steady_clock;
/// How recv_message waits for sock to become readable (or hung up) before a deadline (none when
/// !has_deadline): kNone when it is, else kTimeout or kPeerGone. The default polls sock alone.
using WaitReadable = std::function<RecvError(int sock, bool has_deadline, Clock::time_point deadline)>;
RecvError poll_readable(int sock, bool has_deadline, Clock::time_point deadline);
/// The milliseconds poll() may wait: until the deadline (-1, forever, without one), at most cap
/// when cap >= 0.
int poll_ms(bool has_deadline, Clock::time_point deadline, std::chrono::milliseconds cap = std::chrono::milliseconds(-1));

/// Receives one framed message, waiting at most `timeout` in total (negative: forever).
Received recv_message(int sock, std::chrono::milliseconds timeout, const WaitReadable& wait = poll_readable);

}  // namespace normcheck::impls::plugin_wire
