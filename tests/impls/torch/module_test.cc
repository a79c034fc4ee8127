// The registry's "torch" comes from libnormcheck_torch.so, dlopened on demand: it is the adapter
// this test links directly (impls/torch/torch_impl.h), so the same description and capabilities
// and, on the same inputs, the same bits in every output. The module changes where the code
// lives, nothing it computes.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "impls/registry.h"
#include "impls/torch/torch_impl.h"
#include "normcheck/problem.h"
#include "tests/impls/harness.h"

namespace normcheck {
namespace {

std::unique_ptr<impls::Implementation> linked_torch() {
  std::vector<std::unique_ptr<impls::Implementation>> v;
  impls::add_torch_implementations(v);
  NC_CHECK(v.size() == 1);
  return std::move(v[0]);
}

TEST(TorchModule, TheRegistrysTorchIsTheLinkedAdapter) {
  ASSERT_EQ(impls::unavailable_reason("torch"), std::nullopt);
  const std::unique_ptr<impls::Implementation> loaded = impls::make_implementation("torch");
  const std::unique_ptr<impls::Implementation> linked = linked_torch();
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->name(), "torch");
  EXPECT_EQ(loaded->description(), linked->description());
  const impls::Capabilities& a = loaded->capabilities();
  const impls::Capabilities& b = linked->capabilities();
  EXPECT_EQ(a.ops, b.ops);
  EXPECT_EQ(a.dtypes, b.dtypes);
  EXPECT_EQ(a.layouts, b.layouts);
  EXPECT_EQ(a.modes, b.modes);
  EXPECT_EQ(a.directions, b.directions);
  EXPECT_EQ(a.profiles, b.profiles);
  EXPECT_EQ(a.devices, b.devices);
  EXPECT_EQ(a.saves_stats, b.saves_stats);
}

TEST(TorchModule, TheRegistrysTorchComputesTheLinkedAdaptersBits) {
  const std::unique_ptr<impls::Implementation> loaded = impls::make_implementation("torch");
  const std::unique_ptr<impls::Implementation> linked = linked_torch();
  ASSERT_NE(loaded, nullptr);
  std::vector<Problem> problems;
  for (const char* line :
       {"layer_norm shape=4x3x8 dtype=float32", "batch_norm shape=5x3x4 dtype=float64 direction=backward",
        "batch_norm shape=2x6x5x3 layout=channels_last", "group_norm shape=2x6x5 groups=3 dtype=float32",
        "instance_norm shape=2x3x7 track_running_stats=1 mode=eval"}) {
    const Expected<Problem> p = parse_problem(line);
    ASSERT_TRUE(p) << line << ": " << p.message();
    problems.push_back(*p);
  }
  for (const Problem& p : problems) {
    const testing::OwnedInputs in =
        testing::make_inputs(p, {.offset = 3, .spread = 2, .constant = false, .seed = 11});
    const testing::RunResult a = testing::run_impl(*loaded, p, in.inputs);
    const testing::RunResult b = testing::run_impl(*linked, p, in.inputs);
    ASSERT_TRUE(a.status.ok()) << to_string(p) << ": " << a.status.message();
    ASSERT_TRUE(b.status.ok()) << to_string(p) << ": " << b.status.message();
    EXPECT_EQ(testing::all_bits(a.out.views), testing::all_bits(b.out.views)) << to_string(p);
  }
}

}  // namespace
}  // namespace normcheck
