#pragma once
/// The worker's last words: on a fatal signal (SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE) it sends
/// the host a kCrash message with the signal and whether memory ran out (the interrupted code saw
/// ENOMEM, or the address space is within a probe of the memory limit), then dies of the signal.
#include <cstdint>

namespace normcheck::impls::plugin_worker {

/// Installs the handlers (on an alternate stack, so stack overflow is reported too). sock is
/// the socket to the host; memory_limit the RLIMIT_AS in bytes (0: none).
void install_crash_reporter(int sock, std::uint64_t memory_limit);

}  // namespace normcheck::impls::plugin_worker
