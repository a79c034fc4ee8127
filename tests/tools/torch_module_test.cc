// LibTorch is loaded on demand (issue 15, item 3): the normcheck programs start without it, only a
// run that asks for "torch" loads libnormcheck_torch.so, and where the module (or LibTorch) is
// missing, `--impl torch` is exit 3 with the loader's reason while the rest of normcheck works:
// the default run lists torch SKIPPED with that reason, `normcheck gate` on a plugin conforms.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "run_normcheck.h"

namespace normcheck::tool {
namespace {

using ::testing::HasSubstr;
using testing::line_count;
using ::testing::Not;
using testing::run_normcheck;
using testing::RunResult;
using testing::ScratchDir;
using ::testing::StartsWith;

/// What `ldd path` prints: every shared library the program needs, recursively.
std::string ldd(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(("ldd '" + path + "' 2>&1").c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  for (std::size_t n; pipe && (n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0;) out.append(buf, n);
  return out;
}

/// Sets an environment variable for this test's child processes; restores it at the end.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_, old_->c_str(), 1);
    else
      unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

/// One cheap row per implementation: layer_norm, one property, no mutants.
std::vector<std::string> small_run(const ScratchDir& dir, const std::string& out) {
  return {"run",          "--op",    "layer_norm", "--property", "differential",
          "--no-mutants", "--quiet", "--out",      dir / out};
}

std::vector<std::string> small_gate(const ScratchDir& dir) {
  return {"gate",       "--plugin", NC_EXAMPLE_PLUGIN, "--policy", NC_GATE_POLICY, "--op",
          "layer_norm", "--tier",   "smoke",           "--out",    dir / "gate",   "--quiet"};
}

// The libraries' names: LibTorch's and c10's (libtorch.so, libtorch_cpu.so, libc10.so, ...).
constexpr const char* kLibTorch = "libtorch";
constexpr const char* kC10 = "libc10";

TEST(TorchModule, TheNormcheckProgramsNeedNoLibTorch) {
  for (const char* program : {NORMCHECK_BIN, NC_WORKER_BIN}) {
    const std::string needed = ldd(program);
    ASSERT_THAT(needed, HasSubstr("libc.so")) << program << ": ldd listed nothing\n" << needed;
    EXPECT_THAT(needed, Not(HasSubstr(kLibTorch))) << program << "\n" << needed;
    EXPECT_THAT(needed, Not(HasSubstr(kC10))) << program << "\n" << needed;
  }
  // The check sees LibTorch where it is needed: the module links it.
  EXPECT_THAT(ldd(NC_TORCH_MODULE), HasSubstr(kLibTorch));
}

TEST(TorchModule, OnlyARunThatAsksForTorchLoadsIt) {
  const ScratchDir dir;
  const ScopedEnv debug("LD_DEBUG", "files");  // the dynamic loader names every library it opens
  const RunResult gen =
      run_normcheck({"gen-sample", "--problem", "layer_norm shape=1x4", "--out", dir / "in"}, dir.path());
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const RunResult reference =
      run_normcheck({"reference", "--problem", "layer_norm shape=1x4", "--input", dir / "in/x.npy",
                     "--weight", dir / "in/weight.npy", "--bias", dir / "in/bias.npy", "--out", dir / "ref"},
                    dir.path());
  ASSERT_EQ(reference.exit_code, 0) << reference.out;
  EXPECT_THAT(reference.err, Not(HasSubstr("libnormcheck_torch")));
  EXPECT_THAT(reference.err, Not(HasSubstr(kLibTorch)));
  const RunResult gate = run_normcheck(small_gate(dir), dir.path());
  ASSERT_EQ(gate.exit_code, 0) << gate.out;
  EXPECT_THAT(gate.err, Not(HasSubstr("libnormcheck_torch")));
  EXPECT_THAT(gate.err, Not(HasSubstr(kLibTorch)));
  const RunResult cpu = run_normcheck({"run", "--impl", "cpu", "--op", "layer_norm", "--property",
                                       "differential", "--no-mutants", "--quiet", "--out", dir / "cpu"},
                                      dir.path());
  ASSERT_EQ(cpu.exit_code, 0) << cpu.out;
  EXPECT_THAT(cpu.err, Not(HasSubstr("libnormcheck_torch")));
  // The check sees the module where it is loaded: a run of torch.
  const RunResult torch =
      run_normcheck({"run", "--impl", "torch", "--op", "layer_norm", "--dtype", "float32", "--property",
                     "differential", "--no-mutants", "--quiet", "--out", dir / "torch"},
                    dir.path());
  // A verdict, whichever (LibTorch has float32 findings at large offsets: docs/properties.md), on
  // cases LibTorch computed.
  ASSERT_TRUE(torch.exit_code == 0 || torch.exit_code == 1) << torch.out;
  EXPECT_GT(read_json(dir.path() / "torch/results.json")["results"][0]["cases_compared"].get<int>(), 0)
      << torch.out;
  EXPECT_THAT(torch.err, HasSubstr("libnormcheck_torch.so"));
  EXPECT_THAT(torch.err, HasSubstr(kLibTorch));
}

TEST(TorchModule, WithoutTheModuleTorchIsExit3AndTheRestOfNormcheckWorks) {
  const ScratchDir dir;
  const std::string absent = dir / "moved-away/libnormcheck_torch.so";
  const ScopedEnv module("NORMCHECK_TORCH_MODULE", absent);

  const RunResult asked =
      run_normcheck({"run", "--impl", "torch", "--op", "layer_norm", "--out", dir / "r1"}, dir.path());
  EXPECT_EQ(asked.exit_code, 3) << asked.out << asked.err;
  EXPECT_EQ(line_count(asked.err), 1) << asked.err;
  EXPECT_THAT(asked.err, StartsWith("normcheck: error: LibTorch implementation not available: Expected "
                                    "libnormcheck_torch.so at " +
                                    absent + ", but got none"));

  const RunResult repro =
      run_normcheck({"repro", "layer_norm shape=3x17 impl=torch property=differential"}, dir.path());
  EXPECT_EQ(repro.exit_code, 3) << repro.out << repro.err;
  EXPECT_THAT(repro.err, StartsWith("normcheck: error: LibTorch implementation not available: "));

  // The default run includes torch: its row is SKIPPED with the reason, the run still conforms.
  const RunResult all = run_normcheck(small_run(dir, "r2"), dir.path());
  ASSERT_EQ(all.exit_code, 0) << all.out << all.err;
  const nlohmann::json doc = read_json(dir.path() / "r2/results.json");
  bool torch_listed = false;
  for (const nlohmann::json& row : doc["results"]) {
    if (row["implementation"] != "torch") continue;
    torch_listed = true;
    EXPECT_EQ(row["outcome"], "SKIPPED") << row.dump();
    EXPECT_THAT(row["reason"].get<std::string>(), HasSubstr("LibTorch implementation not available"))
        << row.dump();
    EXPECT_EQ(row["cases_compared"], 0) << row.dump();
  }
  EXPECT_TRUE(torch_listed) << doc["results"].dump();

  const RunResult gate = run_normcheck(small_gate(dir), dir.path());
  ASSERT_EQ(gate.exit_code, 0) << gate.out << gate.err;
  EXPECT_THAT(gate.out, HasSubstr("CONFORMING"));
}

TEST(TorchModule, AModuleThatCannotLoadIsExit3WithTheLoadersReason) {
  const ScratchDir dir;
  const std::string broken = dir / "libnormcheck_torch.so";
  std::ofstream(broken) << "not a shared library\n";
  const ScopedEnv module("NORMCHECK_TORCH_MODULE", broken);
  const RunResult asked =
      run_normcheck({"run", "--impl", "torch", "--op", "layer_norm", "--out", dir / "r"}, dir.path());
  EXPECT_EQ(asked.exit_code, 3) << asked.out << asked.err;
  EXPECT_EQ(line_count(asked.err), 1) << asked.err;
  // dlerror's text: the path, then why ("invalid ELF header", "file too short").
  EXPECT_THAT(asked.err,
              StartsWith("normcheck: error: LibTorch implementation not available: " + broken + ": "));
}

/// `run --impl torch` with the module at `path`: exit 3 and one line, which is returned.
std::string refused_module(const std::string& path) {
  const ScratchDir dir;
  const ScopedEnv module("NORMCHECK_TORCH_MODULE", path);
  const RunResult asked =
      run_normcheck({"run", "--impl", "torch", "--op", "layer_norm", "--out", dir / "r"}, dir.path());
  EXPECT_EQ(asked.exit_code, 3) << asked.out << asked.err;
  EXPECT_EQ(line_count(asked.err), 1) << asked.err;
  return asked.err;
}

TEST(TorchModule, ALibraryWithoutTheEntryPointsIsRefused) {
  EXPECT_THAT(
      refused_module(NC_EXAMPLE_PLUGIN),  // a plugin, not our module
      StartsWith(
          "normcheck: error: LibTorch implementation not available: " + std::string(NC_EXAMPLE_PLUGIN) +
          ": Expected the entry points normcheck_torch_module_abi and normcheck_torch_implementations"));
}

TEST(TorchModule, AModuleOfAnotherBuildIsRefusedBeforeAnyObjectCrosses) {
  const std::string err = refused_module(NC_WRONG_ABI_MODULE);
  EXPECT_THAT(err, HasSubstr(": Expected a module of this build (normcheck-torch-module/1 "));
  EXPECT_THAT(err, HasSubstr("but got one of another (normcheck-torch-module/0 another build"));
}

}  // namespace
}  // namespace normcheck::tool
