// The registry: every built-in implementation has a unique name, a description and honest
// capabilities, and is found by name.
#include "impls/registry.h"

#include <gtest/gtest.h>

#include <set>

namespace normcheck::impls {
namespace {

TEST(Registry, NamesAreUniqueAndEveryImplementationIsFoundByName) {
  const std::vector<std::string> names = implementation_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const std::string& n : names) {
    std::unique_ptr<Implementation> impl = make_implementation(n);
    ASSERT_NE(impl, nullptr) << n;
    EXPECT_EQ(impl->name(), n);
    EXPECT_FALSE(impl->description().empty()) << n;
    const Capabilities& c = impl->capabilities();
    EXPECT_FALSE(c.ops.empty() || c.dtypes.empty() || c.modes.empty() || c.directions.empty() ||
                 c.profiles.empty() || c.devices.empty())
        << n << " declares an empty capability list";
  }
  EXPECT_EQ(make_implementation("no-such-implementation"), nullptr);
}

TEST(Registry, OurKernelsAndTheSeedImplementationsAreRegistered) {
  const std::vector<std::string> names = implementation_names();
  for (const char* seed : {"cpu", "seed-groupnorm", "textbook-batchnorm"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), seed), names.end()) << seed;
  }
}

TEST(Registry, AProblemOutsideTheCapabilitiesIsRefusedWithAReason) {
  std::unique_ptr<Implementation> seed = make_implementation("seed-groupnorm");
  ASSERT_NE(seed, nullptr);
  const std::optional<std::string> why = seed->supports(default_problem(Op::kLayerNorm, {2, 3}));
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("layer_norm"), std::string::npos) << *why;
}

}  // namespace
}  // namespace normcheck::impls
