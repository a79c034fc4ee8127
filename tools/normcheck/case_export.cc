#include "tools/normcheck/case_export.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "normcheck/npy.h"
#include "reference/reference.h"
#include "tools/normcheck/cli_error.h"
#include "tools/normcheck/exit_codes.h"
#include "tools/normcheck/output_files.h"
#include "tools/normcheck/sample_inputs.h"

namespace normcheck::tool {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

/// The folders save_case writes, one per side of the case.
constexpr std::string_view kInputs = "inputs", kReference = "reference", kImplementation = "implementation";
constexpr std::string_view kParts[] = {kInputs, kReference, kImplementation};
/// Every output an implementation may write, in the order reference::present_outputs lists them.
constexpr std::string_view kOutputNames[] = {"y",           "mean", "rstd",    "running_mean",
                                             "running_var", "dx",   "dweight", "dbias"};

/// A number, or "nan" / "inf" / "-inf" (JSON has no infinities), as results.json writes them.
Json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

/// The descriptor's fields as its line prints them: {"op": "batch_norm", "shape": "2x3", ...}.
Json params_of(const Problem& p) {
  std::istringstream line(to_string(p));
  Json j;
  std::string field;
  line >> field;
  j["op"] = field;
  while (line >> field) {
    const std::size_t eq = field.find('=');
    j[field.substr(0, eq)] = field.substr(eq + 1);
  }
  return j;
}

/// Writes v as dir/<part>/<name>.npy and lists it in files under "<part>/<name>".
Status write_listed(const std::string& dir, std::string_view part, std::string_view name, const TensorView& v,
                    Json& files) {
  const std::string key = std::string(part) + "/" + std::string(name);
  NC_RETURN_IF_ERROR(write_npy(dir + "/" + key + ".npy", v));
  files[key] = Json{{"dtype", std::string(normcheck::name(v.dtype))}, {"shape", v.shape}};
  return {};
}

/// The row-major multi-index of element i of an array of this shape.
std::vector<std::int64_t> unravel(std::int64_t i, const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> at(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    at[d] = shape[d] > 0 ? i % shape[d] : 0;
    i = shape[d] > 0 ? i / shape[d] : 0;
  }
  return at;
}

/// The worst element as the property judged it. Its bound is the allowance the check used
/// (|got - want| / bound_fraction), or else the reference's bound times the multiplier.
Json worst_json(const properties::Worst& w, const reference::Result* want, double multiplier) {
  const reference::NamedOutput* ref = nullptr;
  std::vector<reference::NamedOutput> outputs;
  if (want != nullptr) outputs = present_outputs(*want);
  for (const reference::NamedOutput& o : outputs)
    if (o.name == w.output && w.index >= 0 && w.index < o.value->numel()) ref = &o;
  Json j;
  j["output"] = w.output;
  j["index"] = w.index;
  if (ref != nullptr) j["position"] = unravel(w.index, ref->value->shape());
  if (!std::isnan(w.input)) j["input"] = number(w.input);
  j["got"] = number(w.got);
  j["want"] = number(w.expected);
  const double err = std::fabs(w.got - w.expected);
  if (std::isfinite(err) && err > 0 && std::isfinite(w.bound_fraction) && w.bound_fraction > 0) {
    j["bound"] = number(err / w.bound_fraction);
  } else if (ref != nullptr && ref->bound != nullptr) {
    j["bound"] = number(multiplier * ref->bound->view().get_linear(w.index));
  }
  j["ulps"] = number(w.ulp);
  j["bound_fraction"] = number(w.bound_fraction);
  return j;
}

/// Removes what an earlier export wrote into one of our folders: its .npy files, then the folder
/// when nothing else is left in it.
Status clear_earlier(const fs::path& folder) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(folder, ec))
    if (e.is_regular_file() && e.path().extension() == ".npy") fs::remove(e.path(), ec);
  if (ec)
    return Status::error("Expected to replace the earlier export in " + folder.string() +
                         ", but got: " + ec.message());
  fs::remove(folder, ec);  // fails, harmlessly, where the user keeps other files
  return {};
}

}  // namespace

std::string load_in_numpy(const std::string& dir) {
  return "import json, numpy as np  # bfloat16 files: import ml_dtypes first\n"
         "d = " +
         Json(dir).dump() +
         "; case = json.load(open(f\"{d}/case.json\"))\n"
         "a = {k: np.load(f\"{d}/{k}.npy\") for k in case[\"files\"]}  # a[\"inputs/x\"], "
         "a[\"reference/y\"], ...";
}

Status prepare_save_dir(const std::string& dir) {
  NC_RETURN_IF_ERROR(ensure_directory(dir));
  // create_directories succeeds on an existing directory that cannot be written: try a file.
  const fs::path root(dir), probe = root / ".normcheck-save-probe";
  if (!std::ofstream(probe)) {
    return Status::error("Expected a directory we can write at " + dir +
                         ", but creating a file in it failed: " + std::strerror(errno));
  }
  std::error_code ec;
  fs::remove(probe, ec);
  const bool earlier = fs::exists(root / "case.json", ec);
  for (std::string_view part : kParts) {
    const fs::path folder = root / part;
    if (!fs::exists(folder, ec)) continue;
    if (!earlier) {
      return Status::error("Expected no " + folder.string() +
                           " (a folder --save writes) in a directory without " +
                           "an earlier case.json, but it exists");
    }
    NC_RETURN_IF_ERROR(clear_earlier(folder));
  }
  fs::remove(root / "case.json", ec);
  return {};
}

Status save_case(impls::Implementation& impl, const ReplayedCase& c, const std::string& dir) {
  const Problem& p = c.line.problem;
  Expected<InputSet> in = make_sample_inputs(p);
  if (!in) return in.status();
  std::error_code ec;
  for (std::string_view part : kParts) {
    fs::create_directories(fs::path(dir) / part, ec);
    if (ec)
      return Status::error("Expected to create " + dir + "/" + std::string(part) +
                           ", but got: " + ec.message());
  }
  Json files;
  for (const InputSlot& slot : input_slots()) {
    if (const Tensor* t = tensor_in(*in, slot))
      NC_RETURN_IF_ERROR(write_listed(dir, kInputs, slot.name, t->view(), files));
  }

  Json reference_side, implementation_side;
  const Expected<reference::Result> want = reference::evaluate(p, in->views());
  if (want) {
    for (const reference::NamedOutput& o : present_outputs(*want)) {
      NC_RETURN_IF_ERROR(write_listed(dir, kReference, o.name, o.value->view(), files));
      if (o.bound != nullptr)
        NC_RETURN_IF_ERROR(
            write_listed(dir, kReference, std::string(o.name) + "_bound", o.bound->view(), files));
    }
    reference_side["status"] = "ok";
    reference_side["num_batches_tracked"] = want->num_batches_tracked;
  } else {
    reference_side["status"] = "refused";
    reference_side["message"] = want.message();
  }

  implementation_side["name"] =
      c.line.implementation.empty() ? std::string(impl.name()) : c.line.implementation;
  const std::optional<std::string> unsupported = impl.supports(p);
  const properties::ImplRun got = unsupported
                                      ? properties::ImplRun{Status::error("unsupported: " + *unsupported), {}}
                                      : properties::run_impl(impl, p, in->views());
  if (got.status.ok()) {
    for (std::string_view name : kOutputNames) {
      if (const std::optional<TensorView> v = properties::output_named(got.out.views, name))
        NC_RETURN_IF_ERROR(write_listed(dir, kImplementation, name, *v, files));
    }
    implementation_side["status"] = "ok";
    if (tracks_running_stats(p))
      implementation_side["num_batches_tracked"] = got.out.views.num_batches_tracked;
  } else {
    implementation_side["status"] = got.status.is_refusal() ? "refused" : "error";
    implementation_side["message"] = got.status.message();
  }

  Json j;
  j["schema"] = "normcheck-case";
  j["schema_version"] = 1;
  j["problem"] = to_string(p);
  j["params"] = params_of(p);
  j["repro"] = c.repro;
  j["property"] = c.property;
  j["bound_multiplier"] = c.check.bound_multiplier;
  Json verdict;
  verdict["outcome"] = std::string(properties::name(c.verdict.outcome));
  verdict["output"] = c.verdict.worst ? Json(c.verdict.worst->output) : Json(nullptr);
  verdict["detail"] = c.verdict.detail;
  verdict["worst"] = c.verdict.worst
                         ? worst_json(*c.verdict.worst, want ? &*want : nullptr, c.check.bound_multiplier)
                         : Json(nullptr);
  j["verdict"] = std::move(verdict);
  if (tracks_running_stats(p)) j["num_batches_tracked"] = in->num_batches_tracked;  // before the call
  j["reference"] = std::move(reference_side);
  j["implementation"] = std::move(implementation_side);
  j["files"] = std::move(files);
  Json load = Json::array();
  std::istringstream lines(load_in_numpy(dir));
  for (std::string line; std::getline(lines, line);) load.push_back(line);
  j["load"] = std::move(load);  // one string per line
  const std::string path = dir + "/case.json";
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  out.close();
  if (!out) return Status::error("Expected to write " + path + ", but writing failed");
  return {};
}

int save_replayed_case(impls::Implementation& impl, const ReplayedCase& c, const std::string& dir,
                       int exit_code) {
  if (Status s = save_case(impl, c, dir); !s) return report_usage_error(with_context("--save", s));
  std::printf(
      "  saved: %s/case.json, inputs/, reference/, implementation/ (load: docs/gate.md, \"Export a case\")\n",
      dir.c_str());
  std::fflush(stdout);
  return exit_code;
}

}  // namespace normcheck::tool
