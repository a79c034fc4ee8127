// normcheck-worker: hosts one plugin library in its own process for the host (plugin_impl.cc).
//
//   normcheck-worker --fd N --memory-limit BYTES LIBRARY
//
// Loads LIBRARY, sends one kHello (the table's name, description, flags, or the load error), then
// serves kSupports / kRun requests on socket N one at a time until the host closes it. Each run
// request carries a shared-memory descriptor; the worker maps it, points DLTensors into it, calls
// the plugin and unmaps it. Crashes are reported by worker_crash.cc; hangs are the host's to kill.
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "impls/plugin/normcheck_plugin.h"
#include "impls/plugin/wire.h"
#include "impls/plugin/worker_crash.h"
#include "impls/plugin/worker_plugin.h"
#include "normcheck/problem.h"

namespace normcheck::impls::plugin_worker {
namespace {

using plugin_wire::Kind;
using plugin_wire::Reader;
using plugin_wire::Writer;

struct Args {
  int fd = -1;
  std::uint64_t memory_limit = 0;
  std::string library;
};

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    if (s == "--fd" && i + 1 < argc) {
      a.fd = std::atoi(argv[++i]);
    } else if (s == "--memory-limit" && i + 1 < argc) {
      a.memory_limit = std::strtoull(argv[++i], nullptr, 10);
    } else if (a.library.empty() && !s.starts_with("--")) {
      a.library = s;
    } else {
      return false;
    }
  }
  return a.fd >= 0 && !a.library.empty();
}

/// The plugin's message buffer as a string: at most kMessageCapacity - 1 bytes, NUL or not.
std::string message_of(const char* buf) {
  return std::string(buf, strnlen(buf, plugin_wire::kMessageCapacity - 1));
}

void reply_supports(int sock, const nc_plugin_v1& t, Reader& r) {
  const std::string line = r.str();
  Writer w(Kind::kSupports);
  Expected<Problem> p = parse_problem(line);
  if (!p) {
    w.u32(0);
    w.str("invalid problem: " + p.message());
    (void)send_message(sock, w);
    return;
  }
  const nc_problem q = to_nc_problem(*p, line, 0);
  char reason[plugin_wire::kMessageCapacity] = {};
  const int yes = t.supports(&q, reason, sizeof(reason));
  w.u32(yes != 0 ? 1 : 0);
  w.str(message_of(reason));
  (void)send_message(sock, w);
}

/// Runs one case on the mapped region; returns the plugin's code (or a worker-side error code).
int run_case(const nc_plugin_v1& t, Reader& r, int fd, std::string& message, std::int64_t& nbt) {
  const std::string line = r.str();
  nbt = r.i64();
  const auto size = static_cast<std::uint64_t>(r.i64());
  std::array<plugin_wire::SlotLayout, plugin_wire::kNumSlots> slots;
  for (auto& s : slots) s = r.slot();
  Expected<Problem> p = parse_problem(line);
  if (r.failed() || fd < 0 || !p) {
    message = "worker: malformed run request" + (p ? std::string() : ": " + p.message());
    return NC_ERROR_INTERNAL;
  }
  void* base = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) {
    message = "worker: cannot map the case's " + std::to_string(size) + " bytes of shared memory (" +
              std::strerror(errno) + "; the memory limit counts them)";
    return NC_ERROR_INTERNAL;
  }
  CaseTensors ct;
  int code = NC_OK;
  if (Status s = bind_case_tensors(slots, static_cast<char*>(base), size, ct); !s) {
    message = "worker: " + s.message();
    code = NC_ERROR_INTERNAL;
  }
  nc_problem q = to_nc_problem(*p, line, nbt);
  char buf[plugin_wire::kMessageCapacity] = {};
  errno = 0;  // the crash reporter reads errno: start from a clean one
  if (code == NC_OK) code = t.forward(&q, &ct.tensors, buf, sizeof(buf));
  nbt = q.params.num_batches_tracked;
  if (code == NC_OK && p->direction == Direction::kBackward) {
    if (t.backward == nullptr) {
      std::snprintf(buf, sizeof(buf), "the plugin has no backward function");
      code = NC_ERROR_UNSUPPORTED;
    } else {
      code = t.backward(&q, &ct.tensors, buf, sizeof(buf));
    }
  }
  if (message.empty()) message = message_of(buf);
  munmap(base, size);
  return code;
}

void reply_run(int sock, const nc_plugin_v1& t, Reader& r, int fd) {
  std::string message;
  std::int64_t nbt = 0;
  const int code = run_case(t, r, fd, message, nbt);
  if (fd >= 0) close(fd);
  Writer w(Kind::kRun);
  w.u32(static_cast<std::uint32_t>(code));
  w.str(message);
  w.i64(nbt);
  (void)send_message(sock, w);
}

void send_hello(int sock, const Expected<const nc_plugin_v1*>& t) {
  Writer w(Kind::kHello);
  w.u32(t ? 1 : 0);
  if (!t) {
    w.str(t.message());
  } else {
    w.str((*t)->name);
    w.str((*t)->description);
    w.u32((*t)->flags);
    w.u32((*t)->backward != nullptr ? 1 : 0);
  }
  (void)send_message(sock, w);
}

int serve(const Args& a) {
  const int sock = a.fd;
  prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the host
  // stdout is the host's pipe (worker_process.cc), not a terminal: line-buffer it, so what the
  // plugin printed before a crash reaches the host's crash message.
  std::setvbuf(stdout, nullptr, _IOLBF, BUFSIZ);
  const rlimit no_core{0, 0};
  setrlimit(RLIMIT_CORE, &no_core);  // a crashing plugin is expected here, not a core file
  install_crash_reporter(sock, a.memory_limit);
  const Expected<const nc_plugin_v1*> table = load_plugin_table(a.library);
  // AddressSanitizer reserves terabytes of shadow address space: RLIMIT_AS cannot work beside it.
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool kCanLimitAddressSpace = false;
#else
  constexpr bool kCanLimitAddressSpace = true;
#endif
  if (table && a.memory_limit > 0 && kCanLimitAddressSpace) {
    const rlimit as{a.memory_limit, a.memory_limit};
    if (setrlimit(RLIMIT_AS, &as) != 0) std::fprintf(stderr, "normcheck-worker: cannot set RLIMIT_AS\n");
  }
  send_hello(sock, table);
  if (!table) return 1;
  for (;;) {
    plugin_wire::Received m = plugin_wire::recv_message(sock, std::chrono::milliseconds(-1));
    if (m.error != plugin_wire::RecvError::kNone) return 0;  // the host closed the socket: done
    Reader r(m.bytes);
    const auto kind = static_cast<Kind>(r.u32());
    if (kind == Kind::kSupports) {
      reply_supports(sock, **table, r);
    } else if (kind == Kind::kRun) {
      reply_run(sock, **table, r, m.fd);
      m.fd = -1;
    } else {
      return 2;  // not a request this worker knows: the host sees EOF
    }
    if (m.fd >= 0) close(m.fd);
  }
}

}  // namespace
}  // namespace normcheck::impls::plugin_worker

int main(int argc, char** argv) {
  normcheck::impls::plugin_worker::Args a;
  if (!normcheck::impls::plugin_worker::parse_args(argc, argv, a)) {
    std::fprintf(stderr,
                 "usage: normcheck-worker --fd N [--memory-limit BYTES] LIBRARY\n"
                 "(started by normcheck to host a plugin; not meant to be run by hand)\n");
    return 2;
  }
  return normcheck::impls::plugin_worker::serve(a);
}
