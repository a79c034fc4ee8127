// Malformed inputs through the command line, as a gate's user meets them: every malformed
// descriptor (`normcheck repro '<line>'`, `normcheck reference --problem`) and every malformed
// .npy file (`normcheck reference --input/--weight`) is answered by exit code 2, nothing on stdout
// and ONE line on stderr starting "normcheck: error: ". The fuzzers' seed corpora (fixtures/fuzz/)
// supply many of the inputs, so an input added there (a crash a fuzzer found) is checked here too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "normcheck/npy.h"
#include "normcheck/problem.h"
#include "run_normcheck.h"

namespace normcheck::tool {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::line_count;
using testing::run_normcheck;
using testing::RunResult;
using testing::ScratchDir;

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// The files of fixtures/fuzz/<corpus>, sorted (the test order stays stable).
std::vector<fs::path> corpus(const std::string& name) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(NC_FUZZ_CORPUS_DIR) / name))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

/// The usage-error contract: exit 2, stdout empty, one line on stderr.
::testing::AssertionResult one_line_usage_error(const RunResult& r) {
  if (r.exit_code != 2)
    return ::testing::AssertionFailure() << "exit code " << r.exit_code << ", stderr: " << r.err;
  if (!r.out.empty()) return ::testing::AssertionFailure() << "stdout not empty: " << r.out;
  if (line_count(r.err) != 1 || r.err.back() != '\n')
    return ::testing::AssertionFailure() << line_count(r.err) << " lines on stderr: " << r.err;
  if (r.err.rfind("normcheck: error: ", 0) != 0) return ::testing::AssertionFailure() << "stderr: " << r.err;
  return ::testing::AssertionSuccess();
}

// ---- normcheck repro with a malformed line ---------------------------------------------------------

struct BadLine {
  const char* name;
  std::string line;     ///< the whole argument of repro
  const char* message;  ///< a substring the error line must contain
};

/// Lines the descriptor corpus (below) does not already cover, and the repro line's own fields.
std::vector<BadLine> bad_lines() {
  return {
      {"OnlySpaces", " \t ", "empty line"},
      {"OnlyImpl", "impl=cpu", "Expected an op name"},
      {"MissingShape", "batch_norm dtype=float32 impl=cpu", "Expected a shape"},
      {"DimOutOfRange", "batch_norm shape=99999999999999999999x3 impl=cpu", "bad dim"},
      {"NegativeEps", "batch_norm shape=2x3 eps=-1 impl=cpu", "eps"},
      {"EpsOutOfRange", "batch_norm shape=2x3 eps=1e999 impl=cpu", "eps"},
      {"NewlineInside", "batch_norm shape=2x3\ncolour=red impl=cpu", "Unknown field 'colour'"},
      {"ControlCharacterInValue", std::string("batch_norm shape=2x3 dtype=flo\x01\x1b[31mat impl=cpu"),
       "dtype"},
      {"LongGarbageToken", "batch_norm shape=2x3 " + std::string(1 << 16, 'x') + " impl=cpu", "key=value"},
      {"NoImpl", "batch_norm shape=2x3", "impl=NAME"},
      {"UnknownImpl", "batch_norm shape=2x3 impl=no-such-impl", "implementation name"},
      {"UnknownProperty", "batch_norm shape=2x3 impl=cpu property=no-such-property", "property name"},
  };
}

class ReproBadLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(ReproBadLine, ExitsWithCode2AndOneLine) {
  ScratchDir dir;
  const RunResult r = run_normcheck({"repro", GetParam().line}, dir.path());
  EXPECT_TRUE(one_line_usage_error(r));
  EXPECT_THAT(r.err, HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(Cases, ReproBadLine, ::testing::ValuesIn(bad_lines()),
                         [](const ::testing::TestParamInfo<BadLine>& i) {
                           return std::string(i.param.name);
                         });

/// Every descriptor in the fuzz corpus that parse_problem refuses is refused the same way by
/// `normcheck repro` (reference --problem reads it with the same parse_problem: reference_cmd_test),
/// with parse_problem's message in the line.
TEST(MalformedCorpus, EveryRefusedDescriptorIsOneLineAndExitCode2) {
  ScratchDir dir;
  int refused = 0;
  for (const fs::path& f : corpus("descriptor")) {
    const std::string line = read_bytes(f);
    const Expected<Problem> p = parse_problem(line);
    if (p) continue;
    ++refused;
    SCOPED_TRACE(f.filename().string() + ": " + p.message());
    const RunResult repro = run_normcheck({"repro", line + " impl=cpu"}, dir.path());
    EXPECT_TRUE(one_line_usage_error(repro));
    EXPECT_THAT(repro.err, HasSubstr(p.message()));
  }
  EXPECT_GE(refused, 10) << "the corpus should keep its malformed descriptors";
}

// ---- .npy files ------------------------------------------------------------------------------------

/// Every .npy file in the fuzz corpus that read_npy refuses is refused by `normcheck reference`
/// with read_npy's message (which names the file) in the one line; the valid ones, given for a
/// problem of another shape, are a one-line error too.
TEST(MalformedCorpus, EveryNpyIsReadOrRefusedInOneLine) {
  ScratchDir dir;
  int refused = 0;
  for (const fs::path& f : corpus("npy")) {
    const Expected<Tensor> t = read_npy(f.string());
    SCOPED_TRACE(f.filename().string() + ": " + (t ? std::string("readable") : t.message()));
    const RunResult r = run_normcheck(
        {"reference", "--problem", "batch_norm shape=5x7", "--input", f.string(), "--out", "out"},
        dir.path());
    EXPECT_TRUE(one_line_usage_error(r));
    if (t) {
      EXPECT_THAT(r.err, HasSubstr("the problem's"));
      continue;
    }
    ++refused;
    // The CLI replaces control characters by spaces; read_npy's messages have none to replace.
    EXPECT_THAT(r.err, HasSubstr("--input: " + t.message()));
  }
  EXPECT_GE(refused, 15) << "the corpus should keep its malformed .npy files";
}

/// A malformed .npy as another input than x: the option that names it leads the line.
TEST(MalformedNpy, AsWeightTheLineNamesTheOption) {
  ScratchDir dir;
  ASSERT_TRUE(write_npy(dir / "x.npy", Tensor::empty(DType::kFloat32, {2, 3}).view()));
  const std::string bad = (fs::path(NC_FUZZ_CORPUS_DIR) / "npy" / "truncated_header.npy").string();
  const RunResult r = run_normcheck(
      {"reference", "--problem", "batch_norm shape=2x3", "--input", "x.npy", "--weight", bad, "--out", "out"},
      dir.path());
  EXPECT_TRUE(one_line_usage_error(r));
  EXPECT_THAT(r.err, HasSubstr("--weight: " + bad + ": Expected a header of"));
}

TEST(MalformedNpy, AnEmptyFileAndADirectoryAreRefused) {
  ScratchDir dir;
  std::ofstream(dir / "empty.npy").close();
  for (const std::string& input : {std::string("empty.npy"), dir.path().string()}) {
    const RunResult r = run_normcheck(
        {"reference", "--problem", "batch_norm shape=2x3", "--input", input, "--out", "out"}, dir.path());
    EXPECT_TRUE(one_line_usage_error(r)) << input;
    EXPECT_THAT(r.err, HasSubstr("--input: ")) << input;
  }
}

// ---- plugin libraries ------------------------------------------------------------------------------
// gate_test covers a missing file, a missing entry symbol, a wrong ABI version, a NULL table and a
// NULL forward pointer (exit 3, one line); tests/impls/plugin covers lying capabilities (a plugin
// that claims a problem and crashes, hangs, errs or writes nothing). What is left: libraries that
// are not libraries, and a plugin whose name would break the one line.

/// The load-error contract: exit 3, stdout empty, one line "normcheck: error: cannot load plugin: ".
::testing::AssertionResult one_line_load_error(const RunResult& r) {
  if (r.exit_code != 3)
    return ::testing::AssertionFailure() << "exit code " << r.exit_code << ", stderr: " << r.err;
  if (!r.out.empty()) return ::testing::AssertionFailure() << "stdout not empty: " << r.out;
  if (line_count(r.err) != 1)
    return ::testing::AssertionFailure() << line_count(r.err) << " lines: " << r.err;
  if (r.err.rfind("normcheck: error: cannot load plugin: ", 0) != 0)
    return ::testing::AssertionFailure() << "stderr: " << r.err;
  return ::testing::AssertionSuccess();
}

TEST(MalformedPlugin, NotALibraryEmptyFileOrDirectoryExit3WithOneLine) {
  ScratchDir dir;
  std::ofstream(dir / "text.so") << "not an ELF file\n";
  std::ofstream(dir / "empty.so").close();
  // The .npy corpus doubles as a set of files that are not shared libraries.
  const std::string npy = (fs::path(NC_FUZZ_CORPUS_DIR) / "npy" / "f4_4.npy").string();
  for (const std::string& plugin : {dir / "text.so", dir / "empty.so", npy, dir.path().string()}) {
    const RunResult r = run_normcheck({"gate", "--plugin", plugin, "--out", dir / "report"}, dir.path());
    EXPECT_TRUE(one_line_load_error(r)) << plugin;
    EXPECT_FALSE(fs::exists(dir.path() / "report" / "results.json")) << plugin;
  }
}

TEST(MalformedPlugin, ANameWithANewlineAndAnEscapeStaysOneLine) {
  ScratchDir dir;
  const RunResult r =
      run_normcheck({"gate", "--plugin", NC_BAD_NAME_PLUGIN, "--out", dir / "report"}, dir.path());
  EXPECT_TRUE(one_line_load_error(r));
  EXPECT_THAT(r.err, HasSubstr("Expected a plugin name of 1..64 characters"));
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "a raw terminal escape reached stderr";
}

// ---- problems too large for any machine ------------------------------------------------------------

/// Valid descriptors whose inputs cannot be allocated (an empty x but 2^63-1 weights) are an input
/// error like any other too-large problem (2^40 float64 weights: "out of memory", exit 2), not an
/// internal one (they exited 4 with "cannot create std::vector larger than max_size()" until
/// main.cc mapped std::length_error like std::bad_alloc).
TEST(TooLarge, AnUnallocatableProblemIsAUsageError) {
  ScratchDir dir;
  for (const char* line :
       {"layer_norm shape=0x9223372036854775807 normalized_shape=9223372036854775807 impl=cpu",
        "batch_norm shape=0x4611686018427387904 impl=cpu"}) {
    const RunResult r = run_normcheck({"repro", line}, dir.path());
    EXPECT_TRUE(one_line_usage_error(r)) << line;
  }
}

}  // namespace
}  // namespace normcheck::tool
