#include "tools/normcheck/gen_sample_cmd.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/option_checks.h"
#include "tools/normcheck/output_files.h"

namespace normcheck::tool {

CLI::App* add_gen_sample_command(CLI::App& app, GenSampleOptions& o) {
  CLI::App* cmd = app.add_subcommand("gen-sample", "Write seeded sample inputs for a problem as .npy files");
  cmd->group("");  // hidden from `normcheck --help`: a tool for developers
  cmd->add_option("--problem", o.problem, "The one-line problem descriptor")->required();
  cmd->add_option("--out", o.out, "Directory for x.npy, weight.npy, ... (created if needed)")->required();
  CLI::Option* seed = cmd->add_option("--seed", o.spec.seed, "Seed (default: the descriptor's seed= field)")
                           ->transform(any_seed());
  CLI::Option* offset =
      cmd->add_option("--offset", o.spec.offset,
                      "x ~ offset + spread * N(0, 1): replaces the descriptor's values= with normal:OFFSET:SPREAD")
          ->check(number_in(-kInf, kInf))
          ->capture_default_str();
  CLI::Option* spread =
      cmd->add_option("--spread", o.spec.spread,
                      "x ~ offset + spread * N(0, 1): replaces the descriptor's values= with normal:OFFSET:SPREAD")
          ->check(number_in(0, kInf, /*lo_open=*/true))
          ->capture_default_str();
  cmd->footer(std::string("Without --offset/--spread, x is drawn as the descriptor's values= says (normal:0:1 by "
                          "default), as the properties draw it.\n") +
              kExitCodesHelp);
  cmd->callback([&o, seed, offset, spread] {
    o.seed_given = seed->count() > 0;
    o.values_given = offset->count() + spread->count() > 0;
  });
  return cmd;
}

int run_gen_sample(const GenSampleOptions& o) {
  Expected<Problem> p = parse_problem(o.problem);
  if (!p) return report_usage_error(with_context("--problem", p.status()));
  if (o.seed_given) p->seed = o.spec.seed;
  if (o.values_given) p->values = with_sample_spec(*p, o.spec).values;
  if (Status s = validate(*p); !s) return report_usage_error(with_context("--offset/--spread", s));
  Expected<InputSet> in = make_sample_inputs(*p);
  if (!in) return report_usage_error(in.status());
  if (Status s = ensure_directory(o.out); !s) return report_usage_error(with_context("--out", s));
  Expected<std::vector<std::string>> written = write_input_set(o.out, *in);
  if (!written) return report_usage_error(with_context("--out", written.status()));
  nlohmann::ordered_json j;
  j["problem"] = to_string(*p);
  j["dir"] = o.out;
  j["inputs"] = *written;
  j["num_batches_tracked"] = in->num_batches_tracked;  // `normcheck reference --num-batches-tracked`
  std::printf("%s\n", j.dump().c_str());
  return kExitOk;
}

}  // namespace normcheck::tool
