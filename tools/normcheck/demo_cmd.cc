#include "tools/normcheck/demo_cmd.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "reference/reference.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/option_checks.h"
#include "tools/normcheck/output_files.h"
#include "tools/normcheck/sample_inputs.h"
#include "tools/normcheck/selfcheck_cmd.h"

namespace normcheck::tool {
namespace {

/// The sample data: a large offset against a unit spread (kappa = 100), where the float32 mean loses
/// digits and the exact statistics matter.
constexpr double kSampleOffset = 100.0;
constexpr double kSampleSpread = 1.0;

std::vector<Problem> sample_problems(std::uint64_t seed) {
  Problem bn = default_problem(Op::kBatchNorm, {8, 16, 14, 14});  // BatchNorm2d(16), training
  Problem ln = default_problem(Op::kLayerNorm, {64, 1024});       // LayerNorm(1024)
  for (Problem* p : {&bn, &ln}) {
    p->dtype = DType::kFloat32;
    p->mode = Mode::kTrain;
    p->seed = seed;
  }
  return {bn, ln};
}

/// "batch_norm_8x16x14x14_float32": the sample's folder name.
std::string folder_name(const Problem& p) {
  return fmt::format("{}_{}_{}", name(p.op), fmt::join(p.shape, "x"), name(p.dtype));
}

/// Evaluates one sample, writes its inputs and outputs, prints the summary. kExitOk or kExitUsage.
int run_sample(const Problem& p, const std::string& root) {
  Expected<InputSet> in = make_sample_inputs(p, {p.seed, kSampleOffset, kSampleSpread});
  if (!in) return report_usage_error(in.status());
  const auto start = std::chrono::steady_clock::now();
  Expected<reference::Result> r = reference::evaluate(p, in->views());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!r) return report_usage_error(with_context(name(p.op), r.status()));

  const std::string dir = root + "/" + folder_name(p);
  if (Status s = ensure_directory(dir); !s) return report_usage_error(with_context("--out", s));
  if (auto w = write_input_set(dir, *in); !w) return report_usage_error(with_context("--out", w.status()));
  if (Status s = write_outputs(dir, *r); !s) return report_usage_error(with_context("--out", s));

  double max_abs_y = 0;
  for (double v : r->y.values()) max_abs_y = std::max(max_abs_y, std::fabs(v));
  const reference::Certification& c = r->certification;
  std::printf("%s\n", to_string(p).c_str());
  std::printf("  max |y| = %.6g over %lld elements; reference time %.1f ms\n", max_abs_y,
              static_cast<long long>(r->y.numel()), ms);
  std::printf("  %s\n",
              fmt::format("certified {} values: {} by the fast evaluation, {} escalated ({} at 256 bits, "
                          "{} at 1024, {} at 4096, {} exact), {} uncertified",
                          c.values, c.at_level[0], c.escalations(), c.at_level[1], c.at_level[2],
                          c.at_level[3], c.exact, c.uncertified)
                  .c_str());
  std::printf("  inputs and outputs: %s/\n", dir.c_str());
  return kExitOk;
}

}  // namespace

CLI::App* add_demo_command(CLI::App& app, DemoOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "demo", "Self-check, then evaluate two sample problems and write them as .npy (the default command)");
  cmd->add_option("--out", o.out, "Directory for the samples")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of the sample data")->transform(any_seed())->capture_default_str();
  cmd->footer(kExitCodesHelp);
  return cmd;
}

int run_demo(const DemoOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  const int selfcheck = run_selfcheck_command(o.selfcheck, /*only_failures=*/true);
  for (const Problem& p : sample_problems(o.seed)) {
    std::printf("\n");
    if (int rc = run_sample(p, o.out); rc != kExitOk) return rc;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\nwall time %.2f s%s\n", seconds,
              selfcheck == kExitOk ? "" : "; the SELFCHECK FAILED: see above");
  return selfcheck;
}

}  // namespace normcheck::tool
