// libFuzzer harness for the .npy reader (read_npy, include/normcheck/npy.h): any bytes either fail
// with a one-line message or give a tensor of the header's shape whose bytes survive a write_npy /
// read_npy round trip. read_npy takes a path, so the bytes go into a memfd read through
// /proc/self/fd/N (no disk traffic). Built with NORMCHECK_FUZZ=ON (clang); ci/fuzz.sh runs it on
// fixtures/fuzz/npy/.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "normcheck/npy.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "npy_fuzz: %s\n  %s\n", what, detail.c_str());
  std::abort();
}

int memfd() {
  static const int fd = [] {
    const int f = memfd_create("npy_fuzz", 0);
    if (f < 0) fail("memfd_create failed", std::strerror(errno));
    return f;
  }();
  return fd;
}

std::string scratch_dir() {
  static const std::string dir = [] {
    const char* shm = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(shm) + "/npy_fuzz." + std::to_string(getpid());
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace normcheck;
  const int fd = memfd();
  if (ftruncate(fd, 0) != 0) fail("ftruncate failed", std::strerror(errno));
  if (size > 0 && pwrite(fd, data, size, 0) != static_cast<ssize_t>(size))
    fail("pwrite failed", std::strerror(errno));
  const std::string path = "/proc/self/fd/" + std::to_string(fd);

  Expected<Tensor> t = read_npy(path);
  if (!t) {
    const std::string& m = t.message();
    if (m.empty()) fail("an error without a message", "");
    if (m.find('\n') != std::string::npos || m.find('\r') != std::string::npos)
      fail("an error message of more than one line", m);
    return 0;
  }
  const std::size_t nbytes = static_cast<std::size_t>(t->numel()) * size_of(t->dtype());
  if (nbytes > size)
    fail("a tensor larger than its file", std::to_string(nbytes) + " > " + std::to_string(size));
  // Round trip: what we read, written and read again, is the same array (small ones: it costs a file).
  if (nbytes > (std::size_t{1} << 16)) return 0;
  const std::string copy = scratch_dir();
  if (Status s = write_npy(copy, t->view()); !s)
    fail("write_npy failed on what read_npy returned", s.message());
  Expected<Tensor> again = read_npy(copy);
  unlink(copy.c_str());
  if (!again) fail("read_npy refuses what write_npy wrote", again.message());
  if (again->dtype() != t->dtype() || again->shape() != t->shape())
    fail("round trip changed dtype or shape", path);
  if (nbytes > 0 && std::memcmp(again->data(), t->data(), nbytes) != 0)
    fail("round trip changed the data", path);
  return 0;
}
