// `normcheck repro ... --save DIR` and `normcheck gate --plugin P --repro ... --save DIR` (docs/gate.md,
// "Export a case"), and `normcheck gen-sample` drawing what the descriptor says, run as a user runs
// them: the saved inputs fed to `normcheck reference` give the saved reference outputs byte for
// byte, gen-sample writes the saved inputs again, the worst element in case.json is the one in the
// saved files, and a directory --save cannot write is exit 2 with one line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <set>

#include "normcheck/npy.h"
#include "properties/inputs.h"
#include "run_normcheck.h"
#include "tools/normcheck/input_set.h"

namespace normcheck::tool {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::HasSubstr;
using testing::line_count;
using testing::run_normcheck;
using testing::RunResult;
using testing::ScratchDir;
using ::testing::StartsWith;

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

json read_json(const fs::path& p) { return json::parse(bytes_of(p)); }

/// The .npy files under dir/part, by stem.
std::set<std::string> stems_in(const fs::path& dir) {
  std::set<std::string> out;
  for (const fs::directory_entry& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".npy") out.insert(e.path().stem().string());
  return out;
}

Tensor read(const fs::path& p) {
  Expected<Tensor> t = read_npy(p.string());
  EXPECT_TRUE(t) << t.message();
  return t ? std::move(*t) : Tensor();
}

/// A case.json number: a JSON number, or "nan" / "inf" / "-inf".
double number(const json& j) {
  if (j.is_number()) return j.get<double>();
  const std::string s = j.get<std::string>();
  if (s == "nan") return NAN;
  return s == "inf" ? INFINITY : -INFINITY;
}

bool same_value(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

/// `normcheck reference` on the saved inputs (every inputs/<slot>.npy under its option), into out.
RunResult reference_on_saved_inputs(const ScratchDir& dir, const json& c, const std::string& out) {
  std::vector<std::string> args = {"reference", "--problem", c["problem"], "--out", out};
  for (const InputSlot& slot : input_slots()) {
    const std::string file = "case/inputs/" + std::string(slot.name) + ".npy";
    if (!fs::exists(dir.path() / file)) continue;
    args.emplace_back(slot.option);
    args.push_back(file);
  }
  if (c.contains("num_batches_tracked")) {
    args.emplace_back("--num-batches-tracked");
    args.push_back(std::to_string(c["num_batches_tracked"].get<std::int64_t>()));
  }
  return run_normcheck(args, dir.path());
}

struct SavedCase {
  const char* line;     ///< the repro line's quoted part
  int exit_code;        ///< 1: the property fails on it
  const char* failing;  ///< the output that fails it, or "" for a pass
};

void PrintTo(const SavedCase& c, std::ostream* os) { *os << c.line; }

class CaseExportRoundTrip : public ::testing::TestWithParam<SavedCase> {};

TEST_P(CaseExportRoundTrip, SavedInputsGiveTheSavedReferenceAndTheJudgedElements) {
  const ScratchDir dir;
  const RunResult r = run_normcheck({"repro", GetParam().line, "--save", "case"}, dir.path());
  ASSERT_EQ(r.exit_code, GetParam().exit_code) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr("saved: case/case.json"));
  const json c = read_json(dir.path() / "case/case.json");
  Expected<Problem> p = parse_problem(c["problem"].get<std::string>());
  ASSERT_TRUE(p) << p.message();

  // The saved inputs through `normcheck reference`: the saved reference/, byte for byte.
  const RunResult again = reference_on_saved_inputs(dir, c, "again");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  ASSERT_EQ(stems_in(dir.path() / "again"), stems_in(dir.path() / "case/reference"));
  for (const std::string& stem : stems_in(dir.path() / "again"))
    EXPECT_EQ(bytes_of(dir.path() / "again" / (stem + ".npy")),
              bytes_of(dir.path() / "case/reference" / (stem + ".npy")))
        << stem;

  // gen-sample on the descriptor writes the saved inputs again: the properties' own data.
  const RunResult gs = run_normcheck({"gen-sample", "--problem", c["problem"], "--out", "gs"}, dir.path());
  ASSERT_EQ(gs.exit_code, 0) << gs.err;
  ASSERT_EQ(stems_in(dir.path() / "gs"), stems_in(dir.path() / "case/inputs"));
  for (const std::string& stem : stems_in(dir.path() / "gs"))
    EXPECT_EQ(bytes_of(dir.path() / "gs" / (stem + ".npy")),
              bytes_of(dir.path() / "case/inputs" / (stem + ".npy")))
        << stem;

  // Every listed file exists with the dtype and shape case.json gives; inputs in the problem's dtype.
  std::size_t files_on_disk = 0;
  for (const char* part : {"inputs", "reference", "implementation"})
    files_on_disk += stems_in(dir.path() / "case" / part).size();
  EXPECT_EQ(c["files"].size(), files_on_disk);
  for (const auto& [key, f] : c["files"].items()) {
    const Tensor t = read(dir.path() / "case" / (key + ".npy"));
    EXPECT_EQ(name(t.dtype()), f["dtype"].get<std::string>()) << key;
    EXPECT_EQ(t.shape(), f["shape"].get<std::vector<std::int64_t>>()) << key;
    if (key.rfind("inputs/", 0) == 0) {
      EXPECT_EQ(t.dtype(), p->dtype) << key;
    }
    if (key.ends_with("_bound")) {
      EXPECT_EQ(t.dtype(), DType::kFloat64) << key;
    }
  }
  EXPECT_EQ(read(dir.path() / "case/inputs/x.npy").shape(), p->shape);

  // The verdict's worst element is the one in the saved files: the implementation's output and
  // the reference's at its index, and the bound the reference gives there.
  const json& v = c["verdict"];
  EXPECT_EQ(v["outcome"], GetParam().exit_code == 1 ? "FAILED" : "PASSED");
  ASSERT_TRUE(v["worst"].is_object()) << v.dump();
  const json& w = v["worst"];
  if (*GetParam().failing) {
    EXPECT_EQ(w["output"], GetParam().failing);
  }
  const std::string output = w["output"];
  const auto i = w["index"].get<std::int64_t>();
  const Tensor got = read(dir.path() / "case/implementation" / (output + ".npy"));
  const Tensor want = read(dir.path() / "case/reference" / (output + ".npy"));
  const Tensor bound = read(dir.path() / "case/reference" / (output + "_bound.npy"));
  EXPECT_TRUE(same_value(got.view().get_linear(i), number(w["got"]))) << w.dump();
  EXPECT_TRUE(same_value(want.view().get_linear(i), number(w["want"]))) << w.dump();
  if (w.contains("bound") && std::isfinite(bound.view().get_linear(i))) {
    EXPECT_NEAR(number(w["bound"]), bound.view().get_linear(i), 1e-9 * bound.view().get_linear(i))
        << w.dump();
  }
  EXPECT_EQ(c["load"].size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CaseExportRoundTrip,
    ::testing::Values(
        // float16 backward with running statistics: every input slot, every output.
        SavedCase{"batch_norm shape=2x3x4 dtype=float16 direction=backward seed=3 "
                  "impl=mutant-backward-no-mean-term "
                  "property=differential",
                  1, "dx"},
        // bfloat16, channels_last, momentum=None (num_batches_tracked matters), values=uniform.
        SavedCase{"batch_norm shape=3x2x2x2 dtype=bfloat16 layout=channels_last momentum=none seed=5 "
                  "values=uniform:2:3 "
                  "impl=mutant-momentum-none-ignored property=differential",
                  1, "running_mean"},
        SavedCase{"group_norm shape=2x4x3 groups=2 dtype=float32 seed=9 values=exact_pairs:4 "
                  "impl=mutant-unbiased-output-variance property=differential",
                  1, "y"},
        // A passing case with a NaN planted: NaN where the reference has NaN.
        SavedCase{"layer_norm shape=3x5 normalized_shape=5 dtype=float64 seed=2 values=nan impl=cpu "
                  "property=differential",
                  0, ""}),
    [](const ::testing::TestParamInfo<SavedCase>& i) { return "Case" + std::to_string(i.index); });

/// Through the gate, the plugin's own outputs are saved: gate-crash copies x to y for batch_norm
/// (the saved y is the saved x) and crashes on layer_norm (no outputs: case.json says why).
TEST(CaseExport, GateSavesThePluginsOutputsOrWhyThereAreNone) {
  const ScratchDir dir;
  const std::string line = "batch_norm shape=2x3x2 seed=4 impl=gate-crash property=differential";
  const RunResult r =
      run_normcheck({"gate", "--plugin", NC_GATE_CRASH_PLUGIN, "--repro", line, "--save", "bn"}, dir.path());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const json bn = read_json(dir.path() / "bn/case.json");
  EXPECT_EQ(bn["implementation"]["status"], "ok");
  EXPECT_EQ(bn["implementation"]["name"], "gate-crash");
  EXPECT_THAT(bn["repro"].get<std::string>(), StartsWith("normcheck gate --plugin "));
  EXPECT_EQ(bn["verdict"]["output"], "y");
  EXPECT_EQ(bytes_of(dir.path() / "bn/implementation/y.npy"), bytes_of(dir.path() / "bn/inputs/x.npy"));

  const RunResult ln =
      run_normcheck({"gate", "--plugin", NC_GATE_CRASH_PLUGIN, "--timeout-s", "5", "--repro",
                     "layer_norm shape=2x3 normalized_shape=3 property=differential", "--save", "ln"},
                    dir.path());
  ASSERT_EQ(ln.exit_code, 1) << ln.out << ln.err;
  const json c = read_json(dir.path() / "ln/case.json");
  EXPECT_EQ(c["implementation"]["status"], "error");
  EXPECT_THAT(c["implementation"]["message"].get<std::string>(), HasSubstr("plugin crashed: signal 11"));
  EXPECT_TRUE(stems_in(dir.path() / "ln/implementation").empty());
  EXPECT_TRUE(fs::exists(dir.path() / "ln/reference/y_bound.npy"));
}

/// The reports say how to export a failure: summary.md once above its repro lines, index.html
/// beside each.
TEST(CaseExport, TheReportsSayHowToExportAFailure) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "p.json")
      << R"({"policy_version": 1, "ops": ["batch_norm"], "dtypes": ["float32"],
    "profiles": ["pytorch"], "properties": ["differential"]})";
  const RunResult r = run_normcheck(
      {"gate", "--plugin", NC_GATE_CRASH_PLUGIN, "--policy", "p.json", "--out", "report", "--quiet"},
      dir.path());
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;
  const std::string md = bytes_of(dir.path() / "report/summary.md");
  EXPECT_THAT(md, HasSubstr("Add `--save DIR` to a repro line to export its case"));
  EXPECT_LT(md.find("--save DIR"), md.find("normcheck gate --plugin")) << "above the repro lines";
  const std::string html = bytes_of(dir.path() / "report/index.html");
  const std::size_t repro = html.find("<div class=\"repro\">");
  ASSERT_NE(repro, std::string::npos);
  EXPECT_NE(html.find("add <code>--save DIR</code> to export the case", repro), std::string::npos);
}

TEST(CaseExport, AnEarlierExportIsReplacedWhole) {
  const ScratchDir dir;
  const RunResult backward = run_normcheck(
      {"repro", "layer_norm shape=2x4 normalized_shape=4 direction=backward impl=cpu", "--save", "case"},
      dir.path());
  ASSERT_EQ(backward.exit_code, 0) << backward.err;
  ASSERT_TRUE(fs::exists(dir.path() / "case/reference/dx.npy"));
  const RunResult forward = run_normcheck(
      {"repro", "layer_norm shape=2x4 normalized_shape=4 impl=cpu", "--save", "case"}, dir.path());
  ASSERT_EQ(forward.exit_code, 0) << forward.err;
  for (const char* stale : {"inputs/grad_output.npy", "reference/dx.npy", "implementation/dx.npy"})
    EXPECT_FALSE(fs::exists(dir.path() / "case" / stale)) << stale;
  EXPECT_FALSE(read_json(dir.path() / "case/case.json")["files"].contains("reference/dx"));
}

struct BadSave {
  const char* name;
  std::vector<std::string> args;
  const char* message;
};

class CaseExportBadSave : public ::testing::TestWithParam<BadSave> {};

TEST_P(CaseExportBadSave, ExitsWithCode2AndOneLineBeforeTheCaseRuns) {
  const ScratchDir dir;
  std::ofstream(dir.path() / "a_file") << "not a directory\n";
  fs::create_directories(dir.path() / "theirs/inputs");  // a folder --save writes, no case.json
  const RunResult r = run_normcheck(GetParam().args, dir.path());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_EQ(r.out, "");  // before the case ran
  EXPECT_EQ(line_count(r.err), 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("normcheck: error: "));
  EXPECT_THAT(r.err, HasSubstr(GetParam().message));
}

std::vector<BadSave> bad_saves() {
  const std::string line = "batch_norm shape=2x3 impl=cpu";
  std::vector<BadSave> out = {
      {"AFile", {"repro", line, "--save", "a_file"}, "--save: Expected a directory at a_file"},
      {"UnderAFile", {"repro", line, "--save", "a_file/case"}, "--save: Expected a directory at a_file/case"},
      {"FoldersOfOursWithoutCaseJson", {"repro", line, "--save", "theirs"}, "(a folder --save writes)"},
      // Input errors come before the plugin is loaded (exit 2, not 3).
      {"GateAFile",
       {"gate", "--plugin", "no-such-plugin.so", "--repro", line, "--save", "a_file"},
       "--save: Expected a directory at a_file"},
      {"GateWithoutRepro",
       {"gate", "--plugin", "no-such-plugin.so", "--save", "case"},
       "Expected --save with --repro"},
  };
  // A directory that exists but takes no file (root may write anywhere else).
  if (fs::is_directory("/proc/self"))
    out.push_back({"Unwritable",
                   {"repro", line, "--save", "/proc/self"},
                   "Expected a directory we can write at /proc/self"});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Cases, CaseExportBadSave, ::testing::ValuesIn(bad_saves()),
                         [](const ::testing::TestParamInfo<BadSave>& i) {
                           return std::string(i.param.name);
                         });

/// gen-sample writes x for `problem` and returns its values; the same as the properties draw.
std::vector<double> gen_sample_x(const std::string& problem) {
  const ScratchDir dir;
  const RunResult r = run_normcheck({"gen-sample", "--problem", problem, "--out", "gs"}, dir.path());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const Tensor x = read(dir.path() / "gs/x.npy");
  Expected<Problem> p = parse_problem(problem);
  EXPECT_TRUE(p) << p.message();
  Expected<properties::GeneratedInputs> drawn = properties::make_inputs(*p);
  EXPECT_TRUE(drawn) << drawn.message();
  const std::vector<double> v = x.values(), want = drawn->x.values();
  EXPECT_EQ(v.size(), want.size());
  for (std::size_t i = 0; i < v.size() && i < want.size(); ++i)
    EXPECT_TRUE(same_value(v[i], want[i])) << problem << " x[" << i << "]: " << v[i] << " vs " << want[i];
  return v;
}

TEST(GenSample, HonoursValuesConstant) {
  for (double v : gen_sample_x("layer_norm shape=3x4 normalized_shape=4 values=constant:3.5"))
    EXPECT_EQ(v, 3.5);
}

TEST(GenSample, HonoursValuesUniformItsRangeAndSpread) {
  const std::vector<double> x =
      gen_sample_x("batch_norm shape=8x4x8 dtype=float64 seed=3 values=uniform:10:2");
  for (double v : x) EXPECT_TRUE(v >= 8 && v <= 12) << v;
  EXPECT_LT(*std::min_element(x.begin(), x.end()), 9);  // it spans the range, not a point in it
  EXPECT_GT(*std::max_element(x.begin(), x.end()), 11);
}

TEST(GenSample, HonoursValuesNanAndInfOnePlanted) {
  for (const char* kind : {"nan", "inf"}) {
    const std::vector<double> x = gen_sample_x(std::string("group_norm shape=2x4x3 groups=2 values=") + kind);
    const auto planted = std::count_if(
        x.begin(), x.end(), [&](double v) { return kind[0] == 'n' ? std::isnan(v) : v == INFINITY; });
    EXPECT_EQ(planted, 1) << kind;
    EXPECT_EQ(std::count_if(x.begin(), x.end(), [](double v) { return std::isfinite(v); }),
              static_cast<long>(x.size()) - 1);
  }
}

TEST(GenSample, HonoursValuesTinyAndLarge) {
  const std::vector<double> tiny = gen_sample_x("layer_norm shape=4x16 normalized_shape=16 values=tiny");
  for (double v : tiny)
    EXPECT_LT(std::fabs(v), 1e-36) << v;  // 4 x float32's smallest normal (1.2e-38) x N(0, 1)
  EXPECT_GT(*std::max_element(tiny.begin(), tiny.end()), 0);
  const std::vector<double> large = gen_sample_x("layer_norm shape=4x16 normalized_shape=16 values=large");
  double top = 0;
  for (double v : large) top = std::max(top, std::fabs(v));
  EXPECT_GT(top, 1e15);  // sqrt(FLT_MAX / 64) = 2.3e18 at most
}

TEST(GenSample, HonoursValuesExactPairsEverySetsMeanExact) {
  const std::vector<double> x = gen_sample_x("layer_norm shape=3x6 normalized_shape=6 values=exact_pairs:4");
  for (std::size_t row = 0; row < 3; ++row) {
    double sum = 0;
    for (std::size_t j = 0; j < 6; ++j) sum += x[row * 6 + j];
    EXPECT_EQ(sum, 24.0) << row;
  }
}

TEST(GenSample, OffsetAndSpreadReplaceTheValuesAndTheLineSaysSo) {
  const ScratchDir dir;
  const RunResult r = run_normcheck({"gen-sample", "--problem", "batch_norm shape=2x3 values=constant:1",
                                     "--out", "gs", "--offset", "5", "--spread", "0.5"},
                                    dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("values=normal:5:0.5"));
  const std::vector<double> x = read(dir.path() / "gs/x.npy").values();
  EXPECT_NE(*std::min_element(x.begin(), x.end()), *std::max_element(x.begin(), x.end()));
  for (double v : x) EXPECT_NEAR(v, 5, 3) << v;  // 6 draws within 6 sigma
}

}  // namespace
}  // namespace normcheck::tool
