// normcheck gate --python, run as a user runs it (a child process): the NumPy example conforms, its
// one-pass-variance variant does not and its REPRO line replays the failure; each clause of the
// Python contract (docs/python-plugin.md) on one case (`gate --repro`), kept and broken; load
// errors; the torch.nn.functional adapter on the CPU where python3-torch is installed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/tools/run_normcheck.h"

namespace normcheck::tool::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kExamples = NC_PYTHON_EXAMPLES_DIR;     // examples/plugin/python
const std::string kObjects = NC_PYTHON_CONTRACT_OBJECTS;  // tests/impls/python/contract_objects.py
const std::string kNoDeterminism = NC_PYTHON_POLICY_NO_DETERMINISM;

json read_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return json::parse(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// The value of `--option '...'` in a REPRO line (single-quoted, no quote inside).
std::string quoted_after(const std::string& line, const std::string& option) {
  const std::size_t at = line.find(option + " '");
  if (at == std::string::npos) return {};
  const std::size_t begin = at + option.size() + 2;
  return line.substr(begin, line.find('\'', begin) - begin);
}

// ---- the NumPy example ----

TEST(PythonGate, NumpyExampleConformsOnLayerNormAndBatchNormFloat32AndFloat64) {
  ScratchDir dir;
  const RunResult r = run_normcheck({"gate", "--python", kExamples + "/numpy_norms.py:NumpyNorms", "--op",
                                     "layer_norm", "--op", "batch_norm", "--dtype", "float32", "--dtype",
                                     "float64", "--tier", "smoke", "--out", dir / "report", "--quiet"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "normcheck gate: numpy-norms CONFORMING")) << r.out;
  const json doc = read_json(dir / "report/results.json");
  EXPECT_EQ(doc["gate"]["plugin"], "python:" + kExamples + "/numpy_norms.py:NumpyNorms");
  int passed = 0;
  bool determinism_passed = false;
  for (const json& row : doc["results"]) {
    EXPECT_NE(row["outcome"], "FAILED") << row.dump();
    passed += row["outcome"] == "PASSED";
    determinism_passed |= row["property"] == "determinism" && row["outcome"] == "PASSED";
  }
  EXPECT_GE(passed, 24);  // 2 ops x 13..16 applicable properties, nothing vacuous
  EXPECT_TRUE(determinism_passed);
}

TEST(PythonGate, OnePassVarianceIsNotConformingAndItsReproReplays) {
  ScratchDir dir;
  const std::string broken = kExamples + "/numpy_norms_one_pass.py:OnePassVariance";
  const RunResult r = run_normcheck({"gate", "--python", broken, "--op", "layer_norm", "--dtype", "float32",
                                     "--tier", "smoke", "--out", dir / "report", "--quiet"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "numpy-norms-one-pass-variance NOT CONFORMING")) << r.out;
  const std::size_t at = r.out.find("REPRO: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string line = r.out.substr(at, r.out.find('\n', at) - at);
  EXPECT_EQ(quoted_after(line, "--python"), broken) << line;
  const std::string repro = quoted_after(line, "--repro");
  ASSERT_FALSE(repro.empty()) << line;
  // Replayed, the case fails again; the correct implementation passes the same case.
  const RunResult again = run_normcheck({"gate", "--python", broken, "--repro", repro}, dir.path());
  EXPECT_EQ(again.exit_code, 1) << again.out << again.err;
  EXPECT_TRUE(again.out.starts_with("FAILED ")) << again.out;
  const RunResult fixed = run_normcheck(
      {"gate", "--python", kExamples + "/numpy_norms.py:NumpyNorms", "--repro", repro}, dir.path());
  EXPECT_EQ(fixed.exit_code, 0) << fixed.out << fixed.err;
  EXPECT_TRUE(fixed.out.starts_with("PASSED ")) << fixed.out;
}

// ---- the contract, one case each ----

constexpr const char* kCase =
    "layer_norm shape=4x8 dtype=float32 normalized_shape=8 affine=0 bias=0 seed=3 property=differential";

RunResult gate_one(const ScratchDir& dir, const std::string& object, const std::string& problem = kCase,
                   std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"gate", "--python", kObjects + ":" + object, "--repro", problem};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_normcheck(args, dir.path());
}

TEST(PythonContract, OutputsWrittenInPlaceOrReturnedPass) {
  ScratchDir dir;
  for (const char* object : {"WritesInPlace", "ReadsThroughFromDlpack"}) {
    const RunResult r = gate_one(dir, object);
    EXPECT_EQ(r.exit_code, 0) << object << r.out << r.err;
    EXPECT_TRUE(r.out.starts_with("PASSED differential")) << object << r.out;
  }
}

TEST(PythonContract, ADottedModuleFromTheWorkingDirectoryLoads) {
  ScratchDir dir;
  fs::copy_file(kObjects, dir / "contract_objects.py");
  const RunResult r =
      run_normcheck({"gate", "--python", "contract_objects:WritesInPlace", "--repro", kCase}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("PASSED differential")) << r.out;
}

// Another Python first on PATH (a pyenv, a venv of another build) must not become the embedded
// interpreter's home: CPython looks its program name up on PATH unless it is a path. This
// "python3" has a standard library whose os.py fails on import.
TEST(PythonContract, TheEmbeddedPythonIsTheOneBuiltAgainstWhateverIsOnPath) {
  ScratchDir dir;
  const fs::path other = dir.path() / "other";
  fs::create_directories(other / "bin");
  fs::create_directories(other / "lib" / ("python" + std::string(NC_PYTHON_VERSION)));
  std::ofstream(other / "bin" / "python3") << "#!/bin/sh\n";
  fs::permissions(other / "bin" / "python3", fs::perms::owner_all);
  std::ofstream(other / "lib" / ("python" + std::string(NC_PYTHON_VERSION)) / "os.py")
      << "raise SystemExit('the wrong Python')\n";
  const std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", ((other / "bin").string() + ":" + path).c_str(), 1);
  const RunResult r = gate_one(dir, "WritesInPlace");
  setenv("PATH", path.c_str(), 1);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(r.out.starts_with("PASSED differential")) << r.out << r.err;
}

TEST(PythonContract, AnOutputLeftUnwrittenFails) {
  ScratchDir dir;
  const RunResult r = gate_one(dir, "WritesNothing");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "y elements beyond the bound; worst y[0]: got nan")) << r.out;
}

TEST(PythonContract, ReturnedOutputsOfTheWrongDtypeShapeOrNameFailSayingSo) {
  ScratchDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"ReturnsWrongDtype", "plugin error 3: ValueError: Expected y as float32, but got float64"},
      {"ReturnsWrongShape", "plugin error 3: ValueError: Expected y of shape (4, 8), but got shape (8, 4)"},
      {"ReturnsUnknownOutput", "Expected outputs among this call's tensors (x, y), but got 'z'"}};
  for (const auto& [object, message] : cases) {
    const RunResult r = gate_one(dir, object);
    EXPECT_EQ(r.exit_code, 1) << object << r.out << r.err;
    EXPECT_TRUE(has(r.out, message)) << object << r.out;
  }
}

TEST(PythonContract, AnUncaughtExceptionFailsWithTheTracebacksLastLines) {
  ScratchDir dir;
  const RunResult r = gate_one(dir, "Raises");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "plugin error 3: ZeroDivisionError: division by zero (at contract_objects.py:"))
      << r.out;
  EXPECT_TRUE(has(r.out, " in divide <- contract_objects.py:")) << r.out;
  EXPECT_TRUE(has(r.out, " in forward)")) << r.out;
}

TEST(PythonContract, InputErrorIsTheFrameworksRefusal) {
  ScratchDir dir;
  // Where the profile requires that refusal, it passes; where it defines outputs, it fails.
  const RunResult required = gate_one(
      dir, "RaisesInputError",
      "batch_norm shape=1x3 dtype=float32 mode=train track_running_stats=0 seed=3 property=differential");
  EXPECT_EQ(required.exit_code, 0) << required.out << required.err;
  EXPECT_TRUE(required.out.starts_with("PASSED")) << required.out;
  const RunResult defined = gate_one(dir, "RaisesInputError");
  EXPECT_EQ(defined.exit_code, 1) << defined.out << defined.err;
  EXPECT_TRUE(has(defined.out, "Expected more than 1 value per channel when training")) << defined.out;
}

TEST(PythonContract, UnsupportedErrorAtRunTimeFails) {
  ScratchDir dir;
  const RunResult r = gate_one(dir, "RaisesUnsupported");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "plugin refused at run time: changed my mind")) << r.out;
}

TEST(PythonContract, SupportsReasonSkipsButSupportsExceptionFails) {
  ScratchDir dir;
  const RunResult refused = gate_one(dir, "RefusesWithReason");
  EXPECT_EQ(refused.exit_code, 0) << refused.out << refused.err;
  EXPECT_TRUE(refused.out.starts_with("SKIPPED")) << refused.out;
  EXPECT_TRUE(has(refused.out, "no layer norms today")) << refused.out;
  const RunResult raised = gate_one(dir, "SupportsRaises");
  EXPECT_EQ(raised.exit_code, 1) << raised.out << raised.err;
  EXPECT_TRUE(has(raised.out, "supports() raised RuntimeError: supports is broken")) << raised.out;
}

TEST(PythonContract, ACrashOrAHangFailsTheCaseInTheWorker) {
  ScratchDir dir;
  const RunResult crash = gate_one(dir, "Aborts");
  EXPECT_EQ(crash.exit_code, 1) << crash.out << crash.err;
  EXPECT_TRUE(has(crash.out, "plugin crashed: signal 6")) << crash.out;
  const RunResult hang = gate_one(dir, "Hangs", kCase, {"--timeout-s", "2"});
  EXPECT_EQ(hang.exit_code, 1) << hang.out << hang.err;
  EXPECT_TRUE(has(hang.out, "plugin timed out after 2 s")) << hang.out;
}

// Under the worker's address-space limit an allocation fails inside Python: NumPy's MemoryError is
// the case's error, and the worker lives on.
TEST(PythonContract, AnAllocationPastTheMemoryLimitFailsTheCase) {
  ScratchDir dir;
  const RunResult r = gate_one(dir, "AllocatesTooMuch", kCase, {"--memory-limit-mb", "1024"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(has(r.out, "plugin error 3: MemoryError: Unable to allocate 4.00 GiB")) << r.out;
}

TEST(PythonContract, ATensorKeptPastItsCallRefusesToBeRead) {
  ScratchDir dir;
  // determinism calls the same worker three times: the second call reads the first call's x.
  const RunResult r = gate_one(
      dir, "KeepsTensors",
      "layer_norm shape=4x8 dtype=float32 normalized_shape=8 affine=0 bias=0 seed=3 property=determinism");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(
      has(r.out, "BufferError: Expected a tensor of the current call, but got x of a call that has returned"))
      << r.out;
}

// ---- load errors ----

TEST(PythonLoad, AMalformedSpecOrAMissingFileIsAUsageError) {
  ScratchDir dir;
  const RunResult no_colon = run_normcheck({"gate", "--python", "numpy_norms", "--repro", kCase}, dir.path());
  EXPECT_EQ(no_colon.exit_code, 2) << no_colon.out << no_colon.err;
  EXPECT_TRUE(
      has(no_colon.err, "Expected --python MODULE:OBJECT (or path/file.py:OBJECT), but got 'numpy_norms'"))
      << no_colon.err;
  const RunResult missing = run_normcheck({"gate", "--python", "nowhere.py:X", "--repro", kCase}, dir.path());
  EXPECT_EQ(missing.exit_code, 2) << missing.out << missing.err;
  EXPECT_TRUE(has(missing.err, "'nowhere.py' (no such file)")) << missing.err;
  const RunResult both =
      run_normcheck({"gate", "--python", kObjects + ":WritesInPlace", "--plugin", "x.so"}, dir.path());
  EXPECT_EQ(both.exit_code, 2) << both.out << both.err;
}

TEST(PythonLoad, AnObjectThatCannotLoadIsALoadErrorWithItsTraceback) {
  ScratchDir dir;
  const std::pair<const char*, const char*> cases[] = {
      {"NoSuchObject", "AttributeError: module 'contract_objects' has no attribute 'NoSuchObject'"},
      {"NoForward", "Expected NoForward to have a method forward(), but it has none"},
      {"BadName", "Expected BadName.name of 1..64 characters [A-Za-z0-9._-], but got 'has spaces'"}};
  for (const auto& [object, message] : cases) {
    const RunResult r = gate_one(dir, object);
    EXPECT_EQ(r.exit_code, 3) << object << r.out << r.err;
    EXPECT_TRUE(has(r.err, message)) << object << r.err;
    EXPECT_TRUE(has(r.err, "normcheck: error: cannot load plugin: ")) << object << r.err;
  }
}

// ---- torch.nn.functional through the adapter (python3-torch, CPU) ----

/// A gate of the torch adapter, or the reason torch is absent (the adapter's import fails).
struct TorchGate {
  RunResult r;
  std::string absent;
};
TorchGate gate_torch(const ScratchDir& dir, const std::vector<std::string>& narrowing) {
  std::vector<std::string> args{
      "gate",         "--python",     kExamples + "/torch_functional.py:TorchFunctional",
      "--policy",     kNoDeterminism, "--out",
      dir / "report", "--quiet"};
  args.insert(args.end(), narrowing.begin(), narrowing.end());
  TorchGate g{run_normcheck(args, dir.path()), {}};
  if (g.r.exit_code == 3 && has(g.r.err, "No module named 'torch'"))
    g.absent = "python3-torch is not installed";
  return g;
}

// layer_norm and batch_norm on the CPU: every row runs (more than 100 cases compare), and where a
// row fails the failure is torch's answer (a comparator's finding, a refusal's wording), never the
// adapter's own error; the batch_norm rows that exercise the adapter's running statistics, eval
// mode, layouts and backward pass. docs/properties.md ("Two routes to PyTorch") lists every row
// and why it may differ from the C++ adapter's.
TEST(PythonTorch, FunctionalAdapterRunsEveryRowOnTheCpu) {
  ScratchDir dir;
  const TorchGate g = gate_torch(dir, {"--op", "layer_norm", "--op", "batch_norm"});
  if (!g.absent.empty()) GTEST_SKIP() << g.absent;
  ASSERT_TRUE(g.r.exit_code == 0 || g.r.exit_code == 1) << g.r.out << g.r.err;
  const json doc = read_json(dir / "report/results.json");
  EXPECT_EQ(doc["implementations"][0]["name"], "torch-functional");
  int compared = 0;
  for (const json& row : doc["results"]) {
    compared += row["cases_compared"].get<int>();
    const std::string reason = row.value("reason", "");
    for (const char* adapter_error : {"plugin error", "plugin refused at run time", "plugin crashed",
                                      "timed out", "plugin modified its input", "plugin wrote"}) {
      EXPECT_FALSE(has(reason, adapter_error)) << row.dump();
    }
    if (row["op"] != "batch_norm") continue;
    for (const char* p : {"eval_does_not_update", "eval_is_per_sample", "train_ignores_running_stats",
                          "eval_equals_train_without_running_stats", "layout_equivalence", "dx_sums"}) {
      if (row["property"] == p) {
        EXPECT_EQ(row["outcome"], "PASSED") << row.dump();
      }
    }
  }
  EXPECT_GT(compared, 100);
}

}  // namespace
}  // namespace normcheck::tool::testing
