// libFuzzer harness for the gate's policy reader (parse_policy, tools/normcheck/policy.h) and its
// baseline reader (parse_baseline, tools/normcheck/baseline.h): any bytes either fail with a
// one-line message that names the file, or give a policy whose every list is non-empty, in suite
// order and free of duplicates, with multipliers in (0, 1e6]. The first byte picks the reader.
// Built with NORMCHECK_FUZZ=ON (clang); ci/fuzz.sh runs it on fixtures/fuzz/policy/.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tools/normcheck/baseline.h"
#include "tools/normcheck/policy.h"

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "policy_fuzz: %s\n  input: '%.*s'\n  %s\n", what, static_cast<int>(input.size()), input.data(),
               detail.c_str());
  std::abort();
}

void check_message(const normcheck::Status& s, std::string_view input) {
  const std::string& m = s.message();
  if (m.empty()) fail("an error without a message", input, "");
  if (m.find('\n') != std::string::npos || m.find('\r') != std::string::npos)
    fail("an error message of more than one line", input, m);
  if (m.find("fuzz.json") == std::string::npos) fail("an error message that does not name the file", input, m);
}

template <class T>
bool sorted_unique(const std::vector<T>& v, auto order) {
  std::vector<int> idx;
  for (const T& x : v) idx.push_back(order(x));
  return !v.empty() && std::adjacent_find(idx.begin(), idx.end(), std::greater_equal<>{}) == idx.end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace normcheck;
  using namespace normcheck::tool;
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    const Expected<Baseline> b = parse_baseline(text, "fuzz.json");
    if (!b) check_message(b.status(), text);
    else
      for (const BaselineRow& r : b->rows)
        if ((r.max_ulp && *r.max_ulp < 0) || (r.max_bound_fraction && *r.max_bound_fraction < 0))
          fail("a negative baseline figure", text, r.implementation);
    return 0;
  }
  const Expected<Policy> p = parse_policy(text, "fuzz.json");
  if (!p) {
    check_message(p.status(), text);
    return 0;
  }
  auto pos = [](const auto& all, auto x) {
    return static_cast<int>(std::find(std::begin(all), std::end(all), x) - std::begin(all));
  };
  if (!sorted_unique(p->ops, [&](Op o) { return pos(kAllOps, o); })) fail("ops not in suite order", text, "");
  if (!sorted_unique(p->dtypes, [&](DType d) { return pos(kAllDTypes, d); })) fail("dtypes not in order", text, "");
  if (!sorted_unique(p->profiles, [&](Profile q) { return pos(kAllProfiles, q); })) fail("profiles not in order", text, "");
  if (p->properties.empty()) fail("no properties", text, "");
  for (const double m : p->multiplier)
    if (!(m > 0 && m <= 1e6)) fail("a multiplier outside (0, 1e6]", text, std::to_string(m));
  for (const SkipRule& r : p->may_skip)
    if (!r.op && r.property.empty()) fail("a may_skip rule that matches everything", text, "");
  if (p->is_default()) fail("a parsed policy that claims to be the default", text, "");
  return 0;
}
