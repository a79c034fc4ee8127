// libFuzzer harness for the problem descriptor (parse_problem, include/normcheck/problem.h): any
// bytes either fail with a one-line message or give a valid problem whose canonical line parses
// back to an equal problem and prints the same line again; the valid problem's derived numbers
// (geometry, affine shape, the layout's strides) are computed without undefined behaviour.
// Built with NORMCHECK_FUZZ=ON (clang); ci/fuzz.sh runs it on fixtures/fuzz/descriptor/.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normcheck/problem.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "descriptor_fuzz: %s\n  input: '%.*s'\n  %s\n", what, static_cast<int>(input.size()),
               input.data(), detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace normcheck;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const Expected<Problem> p = parse_problem(line);
  if (!p) {
    const std::string& m = p.message();
    if (m.empty()) fail("an error without a message", line, "");
    if (m.find('\n') != std::string::npos) fail("an error message of more than one line", line, m);
    return 0;
  }
  const std::string text = to_string(*p);
  const Expected<Problem> q = parse_problem(text);
  if (!q) fail("the canonical line does not parse back", line, text + "\n  " + q.message());
  if (!(*q == *p)) fail("parse(to_string(p)) != p", line, text + "\n  reprinted: " + to_string(*q));
  if (to_string(*q) != text)
    fail("the canonical line is not a fixed point", line, text + "\n  " + to_string(*q));
  if (!validate(*p)) fail("a parsed problem does not validate", line, validate(*p).message());

  // What every consumer derives from a valid problem (kernels, generators, the reference).
  const Expected<Geometry> g = geometry(*p);
  if (!g) fail("geometry() refuses a valid problem", line, g.message());
  if (g->num_sets < 0 || g->set_size < 0) fail("negative geometry", line, text);
  (void)affine_shape(*p);
  (void)strides_for(p->layout, p->shape);
  (void)effective_eps(*p);
  (void)tracks_running_stats(*p);
  return 0;
}
