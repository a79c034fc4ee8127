// The fatal-signal handler: async-signal-safe only (write, mmap, munmap, raise).
#include "impls/plugin/worker_crash.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "impls/plugin/wire.h"

namespace normcheck::impls::plugin_worker {
namespace {

int g_sock = -1;
std::uint64_t g_memory_limit = 0;
alignas(64) char g_alt_stack[1 << 16];

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE};
/// Less address space left than this counts as exhausted (a plugin that grows in chunks fails
/// its last allocation with at most one chunk left; 16 MiB covers typical chunks).
constexpr std::size_t kProbeBytes = std::size_t{16} << 20;

bool memory_exhausted(int interrupted_errno) {
  if (g_memory_limit == 0) return false;
  if (interrupted_errno == ENOMEM) return true;
  void* p = mmap(nullptr, kProbeBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return errno == ENOMEM;
  munmap(p, kProbeBytes);
  return false;
}

void on_fatal_signal(int sig) {
  const int interrupted_errno = errno;
  // One framed kCrash message, built by hand: u32 length, then kind, signal, memory flag.
  const std::uint32_t frame[4] = {12, static_cast<std::uint32_t>(plugin_wire::Kind::kCrash),
                                  static_cast<std::uint32_t>(sig),
                                  memory_exhausted(interrupted_errno) ? 1u : 0u};
  if (g_sock >= 0) {
    const ssize_t ignored = write(g_sock, frame, sizeof(frame));
    (void)ignored;
  }
  signal(sig, SIG_DFL);
  raise(sig);  // delivered when the handler returns: the worker dies of the original signal
}

}  // namespace

void install_crash_reporter(int sock, std::uint64_t memory_limit) {
  g_sock = sock;
  g_memory_limit = memory_limit;
  stack_t ss{};
  ss.ss_sp = g_alt_stack;
  ss.ss_size = sizeof(g_alt_stack);
  sigaltstack(&ss, nullptr);
  struct sigaction sa {};
  sa.sa_handler = on_fatal_signal;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int s : kFatalSignals) sigaction(s, &sa, nullptr);
}

}  // namespace normcheck::impls::plugin_worker
