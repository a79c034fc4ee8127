#include "tools/normcheck/reference_cmd.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <cstdio>
#include <limits>

#include "reference/reference.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/option_checks.h"
#include "tools/normcheck/output_files.h"
#include "tools/normcheck/report_json.h"

namespace normcheck::tool {
namespace {

/// evaluate() names inputs by their field (weight, running_var...): add the option that gives one.
std::string with_option_hint(const std::string& message) {
  for (const InputSlot& slot : input_slots()) {
    if (slot.name == "x") continue;
    for (const char* lead : {"Expected a ", "Expected no ", "Expected "}) {
      if (message.starts_with(lead + std::string(slot.name) + " "))
        return fmt::format("{} (option {})", message, slot.option);
    }
  }
  return message;
}

}  // namespace

CLI::App* add_reference_command(CLI::App& app, ReferenceOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "reference", "Evaluate one problem exactly: outputs correctly rounded to the dtype, with error bounds");
  cmd->add_option("--problem", o.problem,
                  "The one-line problem descriptor, e.g. 'layer_norm shape=4x8 dtype=float32'")
      ->required();
  cmd->add_option("--input", o.inputs.x, "x as .npy, the problem's shape and dtype")->required();
  cmd->add_option("--weight", o.inputs.weight, "gamma as .npy (affine=1)");
  cmd->add_option("--bias", o.inputs.bias, "beta as .npy (bias=1)");
  cmd->add_option("--running-mean", o.inputs.running_mean, "running_mean as .npy (track_running_stats=1)");
  cmd->add_option("--running-var", o.inputs.running_var, "running_var as .npy (track_running_stats=1)");
  cmd->add_option("--num-batches-tracked", o.num_batches_tracked,
                  "num_batches_tracked before this step (default 0)")
      ->transform(integer_in(0, std::numeric_limits<std::int64_t>::max()));
  cmd->add_option("--grad-output", o.inputs.grad_output, "dy as .npy (direction=backward)");
  cmd->add_option("--out", o.out, "Directory for <name>.npy and <name>_bound.npy (created if needed)")
      ->required();
  cmd->footer(std::string("Prints one JSON line: problem, outputs, num_batches_tracked, certification.\n") +
              kExitCodesHelp);
  return cmd;
}

Status check_inputs_against_problem(const Problem& p, const InputSet& in, const InputPaths& paths) {
  for (const InputSlot& slot : input_slots()) {
    const Tensor* t = tensor_in(in, slot);
    if (t == nullptr) continue;
    const std::string where = fmt::format("{} {}", slot.option, paths.of(slot.name));
    if (t->dtype() != p.dtype)
      return Status::error(fmt::format("{}: Expected dtype {} (the problem's dtype), but got {}", where,
                                       name(p.dtype), name(t->dtype())));
    if (slot.required && t->shape() != p.shape)
      return Status::error(fmt::format("{}: Expected shape [{}] (the problem's shape), but got [{}]", where,
                                       fmt::join(p.shape, ", "), fmt::join(t->shape(), ", ")));
  }
  return {};
}

int run_reference(const ReferenceOptions& o) {
  Expected<Problem> p = parse_problem(o.problem);
  if (!p) return report_usage_error(with_context("--problem", p.status()));
  Expected<InputSet> in = read_input_set(o.inputs, o.num_batches_tracked);
  if (!in) return report_usage_error(in.status());
  if (Status s = check_inputs_against_problem(*p, *in, o.inputs); !s) return report_usage_error(s);
  Expected<reference::Result> r = reference::evaluate(*p, in->views());
  if (!r) return report_usage_error(fmt::format("{}: {}", name(p->op), with_option_hint(r.message())));
  if (Status s = ensure_directory(o.out); !s) return report_usage_error(with_context("--out", s));
  if (Status s = write_outputs(o.out, *r); !s) return report_usage_error(with_context("--out", s));
  std::printf("%s\n", reference_summary_line(*p, *r).c_str());
  return kExitOk;
}

}  // namespace normcheck::tool
