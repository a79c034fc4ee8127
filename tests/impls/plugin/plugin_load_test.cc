// Loading plugins: every way a library can fail to be a plugin is a one-line load error that
// starts with "cannot load plugin: "; the example plugin loads with its name and capabilities.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/impls/plugin/plugin_test_util.h"

namespace normcheck::testing {
namespace {

/// The load error for path (the test fails if it loads).
std::string load_error(const std::string& path, const impls::PluginOptions& o = {}) {
  Expected<std::unique_ptr<impls::Implementation>> impl = impls::load_plugin(path, o);
  EXPECT_FALSE(impl.ok()) << path << " loaded";
  if (impl) return {};
  EXPECT_TRUE(impls::is_plugin_load_error(impl.status())) << impl.message();
  EXPECT_EQ(impl.message().find('\n'), std::string::npos) << impl.message();
  return impl.message();
}

TEST(PluginLoad, MissingFile) {
  const std::string m = load_error("/nonexistent/libnorms.so");
  EXPECT_EQ(
      m, "cannot load plugin: Expected a plugin library at /nonexistent/libnorms.so, but got no such file");
}

TEST(PluginLoad, Directory) {
  const std::string m = load_error(NC_BAD_PLUGIN_DIR);
  EXPECT_NE(m.find("but got a directory"), std::string::npos) << m;
}

TEST(PluginLoad, NotASharedLibrary) {
  const std::string path = (std::filesystem::temp_directory_path() / "normcheck_not_a_library.so").string();
  std::ofstream(path) << "not an ELF file\n";
  const std::string m = load_error(path);
  std::filesystem::remove(path);
  EXPECT_NE(m.find("dlopen failed: "), std::string::npos) << m;
}

TEST(PluginLoad, MissingEntrySymbol) {
  const std::string m = load_error(bad_plugin("no_entry"));
  EXPECT_NE(
      m.find(bad_plugin("no_entry") + ": Expected the entry symbol normcheck_plugin_entry, but got none"),
      std::string::npos)
      << m;
}

TEST(PluginLoad, NullTable) {
  const std::string m = load_error(bad_plugin("null_table"));
  EXPECT_NE(m.find("Expected normcheck_plugin_entry() to return a plugin table, but got NULL"),
            std::string::npos)
      << m;
}

TEST(PluginLoad, WrongAbiVersion) {
  const std::string m = load_error(bad_plugin("wrong_abi"));
  EXPECT_NE(m.find("Expected plugin ABI version 1, but got 99"), std::string::npos) << m;
}

TEST(PluginLoad, NullForwardPointer) {
  const std::string m = load_error(bad_plugin("null_forward"));
  EXPECT_NE(m.find("Expected a forward function, but got NULL"), std::string::npos) << m;
}

TEST(PluginLoad, MissingWorkerExecutable) {
  impls::PluginOptions o;
  o.worker_path = "/nonexistent/normcheck-worker";
  const std::string m = load_error(example_plugin(), o);
  EXPECT_NE(m.find("Expected the plugin worker executable at /nonexistent/normcheck-worker"),
            std::string::npos)
      << m;
}

TEST(PluginLoad, ExamplePluginNameDescriptionCapabilities) {
  auto impl = load_ok(example_plugin());
  ASSERT_TRUE(impl);
  EXPECT_EQ(impl->name(), "c-norms");
  EXPECT_NE(impl->description().find("Example C plugin"), std::string_view::npos);
  EXPECT_NE(impl->description().find(example_plugin()), std::string_view::npos);
  const impls::Capabilities& c = impl->capabilities();
  EXPECT_TRUE(c.saves_stats);
  EXPECT_EQ(c.directions.size(), 2u);  // it has a backward function
  EXPECT_EQ(c.devices, std::vector<Device>{Device::kCPU});
}

TEST(PluginLoad, ForwardOnlyPluginRefusesBackward) {
  auto impl = load_ok(bad_plugin("writes_nothing"));
  ASSERT_TRUE(impl);
  Problem p = layer_norm_problem(4);
  p.direction = Direction::kBackward;
  EXPECT_EQ(impl->supports(p).value_or(""), "direction backward not supported");
}

}  // namespace
}  // namespace normcheck::testing
