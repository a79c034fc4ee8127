// Malformed inputs through the command line, as a gate's user meets them: every malformed
// descriptor (`normcheck repro '<line>'`, `normcheck reference --problem`) and every malformed
// .npy file (`normcheck reference --input/--weight`) is answered by exit code 2, nothing on stdout
// and ONE line on stderr starting "normcheck: error: ". The fuzzers' seed corpora (fixtures/fuzz/)
// supply many of the inputs, so an input added there (a crash a fuzzer found) is checked here too.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
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

// ---- JSON files: the policy, the baseline, results.json for report and merge --------------------
// One reader for all of them (report/strict_json.h): a duplicate key, nesting past 64 levels or a
// file past 64 MiB is exit 2 and one line naming the file; a lenient reader kept the last of two
// keys (a second "dtypes" loosened a policy), crashed on 100,000 '[' and read /dev/zero until memory ran out.

/// The command that reads path as the given kind of file. gate reads its policy and baseline before
/// it loads the plugin; this one cannot be loaded (exit 3), so an accepted file cannot pass as an error.
std::vector<std::string> command_reading(const std::string& kind, const std::string& path) {
  if (kind == "policy" || kind == "baseline")
    return {"gate", "--plugin", NC_BAD_NAME_PLUGIN, "--" + kind, path, "--out", "report", "--quiet"};
  if (kind == "report") return {"report", path, "--out", "report"};
  return {"merge", path, "--out", "merged"};
}

struct BadJson {
  const char* name;
  const char* kind;  ///< policy, baseline, report or merge (results.json)
  std::string text;
  std::string message;  ///< a substring the error line must contain (before " in <path>")
};

std::vector<BadJson> bad_json() {
  const std::string deep = std::string(100'000, '[');
  const std::string deep_closed = deep + std::string(100'000, ']');
  const std::string too_deep = "more than 64 levels of nesting";
  return {
      {"PolicyDtypesTwice", "policy",
       R"({"policy_version": 1, "ops": ["layer_norm"], "dtypes": ["float32", "float16"], "dtypes": ["float32"]})",
       R"(the key "dtypes" twice, at dtypes)"},
      {"PolicyMultiplierTwice", "policy", R"({"policy_version": 1, "tolerance_multiplier": {"float32": 1, "float32": 1000000}})",
       R"(the key "float32" twice, at tolerance_multiplier.float32)"},
      {"PolicyMaySkipKeyTwice", "policy",
       R"({"policy_version": 1, "may_skip": [{"op": "layer_norm", "property": "differential", "property": "dx_sums"}]})",
       R"(the key "property" twice, at may_skip[0].property)"},
      {"BaselineRowsTwice", "baseline",
       R"({"normcheck_baseline": 1, "rows": [{"implementation": "c-norms", "op": "layer_norm", "property": "differential",
           "max_bound_fraction": 0.01, "max_ulp": 1}], "rows": []})",
       R"(the key "rows" twice, at rows)"},
      {"BaselineFigureTwice", "baseline",
       R"({"normcheck_baseline": 1, "rows": [{"implementation": "c-norms", "op": "layer_norm", "property": "differential",
           "max_ulp": 1, "max_ulp": 1e9}]})",
       R"(the key "max_ulp" twice, at rows[0].max_ulp)"},
      {"ResultsKeyTwiceForReport", "report", R"({"schema": "normcheck-report", "schema": "normcheck-report"})",
       R"(the key "schema" twice, at schema)"},
      {"ResultsKeyTwiceForMerge", "merge", R"({"results": [{"outcome": "FAILED", "outcome": "PASSED"}]})",
       R"(the key "outcome" twice, at results[0].outcome)"},
      {"PolicyDeep", "policy", deep, too_deep},
      {"PolicyDeepClosed", "policy", deep_closed, too_deep},
      {"BaselineDeep", "baseline", deep, too_deep},
      {"ResultsDeepForReport", "report", deep, too_deep},
      {"ResultsDeepForMerge", "merge", deep, too_deep},
      // Deep values inside a document: these crashed (SIGSEGV, exit 139) where an error message
      // printed the value (json::dump recurses once per level).
      {"PolicyDeepValue", "policy", R"({"policy_version": 1, "ops": )" + deep_closed + "}", too_deep},
      {"BaselineDeepValue", "baseline", R"({"normcheck_baseline": 1, "rows": [)" + deep_closed + "]}", too_deep},
      {"ResultsDeepValueForReport", "report", R"({"schema": )" + deep_closed + "}", too_deep},
      {"ResultsDeepValueForMerge", "merge", R"({"schema": )" + deep_closed + "}", too_deep},
  };
}

class BadJsonFile : public ::testing::TestWithParam<BadJson> {};

TEST_P(BadJsonFile, ExitsWithCode2AndOneLineNamingTheFile) {
  ScratchDir dir;
  const std::string path = dir / "file.json";
  std::ofstream(path, std::ios::binary) << GetParam().text;
  const RunResult r = run_normcheck(command_reading(GetParam().kind, path), dir.path());
  EXPECT_TRUE(one_line_usage_error(r));
  EXPECT_THAT(r.err, HasSubstr(GetParam().message + " in " + path));
  EXPECT_FALSE(fs::exists(dir.path() / "report" / "results.json"));
}

INSTANTIATE_TEST_SUITE_P(Cases, BadJsonFile, ::testing::ValuesIn(bad_json()),
                         [](const ::testing::TestParamInfo<BadJson>& i) { return std::string(i.param.name); });

/// Every file of the policy fuzzer's corpus (fixtures/fuzz/policy: the first byte picks the reader,
/// odd for the baseline) through gate: read (the unloadable plugin then gives exit 3) or refused
/// with exit 2 in one line naming the file.
TEST(MalformedCorpus, EveryPolicyAndBaselineIsReadOrRefusedInOneLine) {
  ScratchDir dir;
  int refused = 0;
  for (const fs::path& f : corpus("policy")) {
    const std::string bytes = read_bytes(f);
    ASSERT_FALSE(bytes.empty()) << f;
    const std::string path = dir / f.filename().string();
    std::ofstream(path, std::ios::binary) << bytes.substr(1);
    SCOPED_TRACE(f.filename().string());
    const RunResult r = run_normcheck(command_reading(bytes[0] & 1 ? "baseline" : "policy", path), dir.path());
    if (r.exit_code == 3) continue;
    ++refused;
    EXPECT_TRUE(one_line_usage_error(r));
    EXPECT_THAT(r.err, HasSubstr(path));
  }
  EXPECT_GE(refused, 7) << "the corpus should keep its malformed policies and baselines";
}

/// /dev/zero never ends: each reader stops after 64 MiB (the test runs no longer than that read).
TEST(EndlessJsonFile, DevZeroIsRefusedAfter64MiB) {
  ScratchDir dir;
  for (const char* kind : {"policy", "baseline", "report", "merge"}) {
    const RunResult r = run_normcheck(command_reading(kind, "/dev/zero"), dir.path());
    EXPECT_TRUE(one_line_usage_error(r)) << kind;
    EXPECT_THAT(r.err, HasSubstr("of at most 64 MiB, but got more at /dev/zero")) << kind;
  }
}

// ---- numeric options -----------------------------------------------------------------------------
// Every numeric option is validated at parse time: exit 2, one line naming the option and the value.
// CLI11 alone read "--seed -1" as 2^64-1, clamped 2^64, read "010" as octal, and let "nan" through
// CLI::PositiveNumber (a nan --timeout-s switched the plugin timeout off).

struct BadOption {
  std::vector<std::string> command;  ///< the command and what it needs, without the bad option
  std::string option, value;
};

std::string option_case_name(const BadOption& b) {
  std::string name = b.command[0] + b.option + "_" + b.value;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return name;
}

std::vector<BadOption> bad_options() {
  // Each command is set up so that, were the value accepted, it would stop at once with another
  // error (exit 3 for the unloadable plugin, an unknown --tier or --op, a missing --input), never
  // with the option's name in the line.
  const std::vector<std::string> gate = {"gate", "--plugin", NC_BAD_NAME_PLUGIN, "--out", "report", "--quiet"};
  const std::vector<std::string> run = {"run", "--tier", "never", "--quiet"};
  const std::vector<std::string> run_shard = {"run", "--op", "no-such-op", "--quiet"};
  const std::vector<std::string> repro = {"repro", "batch_norm shape=2x3 impl=no-such-impl"};
  const std::vector<std::string> selfcheck = {"selfcheck"};
  const std::vector<std::string> demo = {"demo", "--out", "demo"};
  const std::vector<std::string> gen_sample = {"gen-sample", "--problem", "batch_norm shape=2x3 dtype=nope", "--out", "gs"};
  const std::vector<std::string> reference = {"reference", "--problem", "batch_norm shape=2x3", "--input", "missing.npy",
                                              "--out", "ref"};
  // One value per way a value can be wrong (each case starts normcheck once).
  std::vector<BadOption> cases;
  for (const char* v : {"nan", "inf", "0", "1e300", "0.0001"}) cases.push_back({gate, "--timeout-s", v});
  for (const char* v : {"-1", "18446744073709551616", "0x10", "1.5", "+1", ""}) cases.push_back({gate, "--seed", v});
  for (const char* v : {"-1", "18446744073709551616"}) cases.push_back({run, "--seed", v});
  for (const char* v : {"-1", "1099511627777"}) cases.push_back({gate, "--memory-limit-mb", v});
  for (const char* v : {"-1", "1000001", "1.5", "nan"}) cases.push_back({gate, "--shrink-budget-cases", v});
  for (const char* v : {"nan", "inf", "-1", "1e6"}) cases.push_back({gate, "--shrink-budget-s", v});
  for (const char* v : {"-1/2", "0/ 2", "0/4294967296", "1/1", "0/2x"}) cases.push_back({gate, "--shard", v});
  cases.push_back({run_shard, "--shard", "0/4294967296"});
  for (const char* v : {"nan", "inf", "2e6"}) cases.push_back({run, "--bound-multiplier", v});
  cases.push_back({repro, "--bound-multiplier", "nan"});
  for (const char* v : {"1001", "1e3"}) cases.push_back({selfcheck, "--cases", v});
  cases.push_back({selfcheck, "--seed", "-1"});
  cases.push_back({demo, "--seed", "-1"});
  cases.push_back({gen_sample, "--seed", "18446744073709551616"});
  for (const char* v : {"nan", "-1e999"}) cases.push_back({gen_sample, "--offset", v});
  for (const char* v : {"inf", "-1", "0"}) cases.push_back({gen_sample, "--spread", v});  // values= needs spread > 0
  for (const char* v : {"-1", "9223372036854775808"}) cases.push_back({reference, "--num-batches-tracked", v});
  return cases;
}

class BadOptionValue : public ::testing::TestWithParam<BadOption> {};

TEST_P(BadOptionValue, ExitsWithCode2AndOneLineNamingOptionAndValue) {
  ScratchDir dir;
  std::vector<std::string> args = GetParam().command;
  args.push_back(GetParam().option + "=" + GetParam().value);  // "=": a value "-1" cannot pass for an option
  const RunResult r = run_normcheck(args, dir.path());
  EXPECT_TRUE(one_line_usage_error(r));
  EXPECT_THAT(r.err, HasSubstr(GetParam().option));
  // An empty value is CLI11's own error: "--seed: 1 required ... missing".
  EXPECT_THAT(r.err, HasSubstr(GetParam().value.empty() ? "missing" : "'" + GetParam().value + "'"));
}

INSTANTIATE_TEST_SUITE_P(Cases, BadOptionValue, ::testing::ValuesIn(bad_options()),
                         [](const ::testing::TestParamInfo<BadOption>& i) {
                           return option_case_name(i.param) + std::to_string(i.index);  // "-1", "+1": both "_1"
                         });

/// `--seed -1` (a separate word) is read as the value -1 and refused like `--seed=-1`.
TEST(BadOptionValue, ANegativeSeedAsTheNextWordIsRefused) {
  ScratchDir dir;
  const RunResult r = run_normcheck({"run", "--tier", "never", "--seed", "-1"}, dir.path());
  EXPECT_TRUE(one_line_usage_error(r));
  EXPECT_THAT(r.err, HasSubstr("--seed: Expected an integer in [0, 18446744073709551615], but got '-1'"));
}

/// No false alarm: the extremes of each range are accepted, and the seed used is the one written
/// (gen-sample prints the problem with the seed that made its data).
TEST(GoodOptionValue, TheRangesEndsAreAcceptedAndSeedsReadAsDecimal) {
  ScratchDir dir;
  for (const auto& [written, used] : {std::pair{"18446744073709551615", "seed=18446744073709551615"},
                                      std::pair{"010", "seed=10"}, std::pair{"0", "batch_norm"}}) {
    const RunResult r = run_normcheck(
        {"gen-sample", "--problem", "batch_norm shape=2x3", "--out", "gs", "--seed", written, "--offset", "-1e300",
         "--spread", "1e-300"},
        dir.path());
    EXPECT_EQ(r.exit_code, 0) << written << ": " << r.err;
    EXPECT_THAT(r.out, HasSubstr(used)) << written;
  }
  // gate: every option accepted, the run goes on to load the plugin (which fails: exit 3).
  const RunResult gate = run_normcheck({"gate", "--plugin", NC_BAD_NAME_PLUGIN, "--out", "report", "--seed", "0",
                                        "--timeout-s", "0.001", "--memory-limit-mb", "1099511627776", "--shard", "4294967294/4294967295",
                                        "--shrink-budget-cases", "0", "--shrink-budget-s", "0"},
                                       dir.path());
  EXPECT_EQ(gate.exit_code, 3) << gate.err;
  const RunResult gate_high = run_normcheck({"gate", "--plugin", NC_BAD_NAME_PLUGIN, "--out", "report", "--timeout-s",
                                             "86400", "--memory-limit-mb", "0", "--shard", "0/1", "--shrink-budget-cases",
                                             "1000000", "--shrink-budget-s", "86400"},
                                            dir.path());
  EXPECT_EQ(gate_high.exit_code, 3) << gate_high.err;
}

}  // namespace
}  // namespace normcheck::tool
