#pragma once
/// `normcheck repro LINE --save DIR` and `normcheck gate --plugin P --repro LINE --save DIR`: one
/// case as files that anyone can load (docs/gate.md, "Export a case"):
///   DIR/inputs/<x, weight, bias, running_mean, running_var, grad_output>.npy   before the call
///   DIR/reference/<y, mean, rstd, running_mean, running_var, dx, dweight, dbias>.npy
///   DIR/reference/<name>_bound.npy   float64 per-element bounds, +inf where undecided
///   DIR/implementation/<name>.npy    what the implementation wrote (running stats: after the call)
///   DIR/case.json                    the descriptor, the verdict, the worst element, every file
/// inputs/ is what `normcheck gen-sample` writes for the descriptor and reference/ what
/// `normcheck reference` writes for those inputs, bit for bit.
#include <string>
#include <string_view>

#include "impls/registry.h"
#include "normcheck/status.h"
#include "properties/outcome.h"
#include "properties/run_case.h"
#include "properties/runner.h"

namespace normcheck::tool {

/// The three lines that load a saved case in NumPy, for the directory `dir` (case.json's "load"
/// note; docs/gate.md and the README show them): a["inputs/x"], a["reference/y"],
/// a["reference/y_bound"], a["implementation/y"], ...
std::string load_in_numpy(const std::string& dir);

/// Checks, before the case runs, that dir is a directory --save may write (creating it when
/// missing): a file in the way, a directory that cannot be written, or folders of ours already
/// there without an earlier case.json is an error. An earlier export in dir is replaced.
Status prepare_save_dir(const std::string& dir);

/// The replayed case and its verdict, as `repro` or `gate --repro` judged it.
struct ReplayedCase {
  properties::ReproCase line;
  std::string property;  ///< the property that judged it
  std::string repro;     ///< the command that replays it
  properties::CheckOptions check;
  properties::CaseResult verdict;
};

/// Writes the case into dir (prepared by prepare_save_dir): draws its inputs from the descriptor,
/// evaluates the reference and runs impl on them once more, and writes the files above.
Status save_case(impls::Implementation& impl, const ReplayedCase& c, const std::string& dir);

/// --save for `repro` and `gate --repro`: save_case, then "  saved: DIR/case.json ..." on stdout;
/// returns exit_code, or kExitUsage with one line on stderr when writing failed.
int save_replayed_case(impls::Implementation& impl, const ReplayedCase& c, const std::string& dir,
                       int exit_code);

}  // namespace normcheck::tool
