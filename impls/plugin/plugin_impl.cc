// A plugin as an Implementation: supports() asks the plugin through the worker; run() puts the
// case in shared memory, asks the worker to run it, and copies the outputs back.
#include "impls/plugin/plugin_impl.h"

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <utility>

#include "impls/plugin/case_region.h"
#include "impls/plugin/normcheck_plugin.h"
#include "impls/plugin/worker_process.h"

namespace normcheck::impls {
namespace {

using plugin_wire::Kind;
using plugin_wire::Reader;
using plugin_wire::Writer;

/// A plugin's text as one line (reports and test messages are line-oriented).
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

/// What a failed forward/backward means to the suite (docs/plugin-abi.md, "Errors").
Status status_of(std::int32_t code, const std::string& message) {
  const std::string text = message.empty() ? "(no message)" : message;
  switch (code) {
    case NC_ERROR_INPUT:
      return Status::refusal(text);  // the framework's own refusal: the only error a refusal case passes with
    case NC_ERROR_UNSUPPORTED:
      return Status::error("plugin refused at run time: " + text);
    default:
      return Status::error("plugin error " + std::to_string(code) + ": " + text);
  }
}

Capabilities superset(const PluginInfo& info) {
  Capabilities c = Capabilities::everything_on_cpu();
  if (!info.has_backward) c.directions = {Direction::kForward};
  c.saves_stats = (info.flags & NC_PLUGIN_SAVES_STATS) != 0;
  return c;
}

class PluginImplementation final : public Implementation {
 public:
  /// given_path: the library as the user named it, for reports (relative stays relative: a report
  /// names no directory of the machine that ran it).
  PluginImplementation(WorkerConfig config, std::unique_ptr<WorkerProcess> worker, const std::string& given_path)
      : config_(std::move(config)), info_(worker->info()), worker_(std::move(worker)) {
    description_ = one_line(info_.description) + " (plugin " + one_line(given_path) + ")";
    caps_ = superset(info_);
  }

  std::string_view name() const override { return info_.name; }
  std::string_view description() const override { return description_; }
  const Capabilities& capabilities() const override { return caps_; }

  std::optional<std::string> supports(const Problem& p) const override {
    if (auto reason = caps_.refuses(p, Device::kCPU)) return reason;
    const std::string line = to_string(p);
    Writer w(Kind::kSupports);
    w.str(line);
    Expected<std::vector<char>> reply = call(w, Kind::kSupports);
    if (!reply) {
      // Not a reason to skip: the case is attempted and run() reports what happened.
      pending_ = {line, Status::error(reply.message() + " (in supports())")};
      return std::nullopt;
    }
    Reader r(*reply);
    r.u32();
    const bool yes = r.u32() != 0;
    const std::string reason = one_line(r.str());
    if (yes) return std::nullopt;
    return reason.empty() ? "refused by the plugin's supports() (no reason given)" : reason;
  }

  /// A new worker: the plugin is loaded again and its entry called, as after a crash.
  Status restart() override {
    worker_.reset();  // ends the old worker (its destructor kills and reaps it)
    Expected<std::unique_ptr<WorkerProcess>> fresh = WorkerProcess::start(config_);
    if (!fresh) return Status::error("cannot restart the plugin worker: " + fresh.message());
    worker_ = std::move(*fresh);
    return {};
  }

  Status run(const Problem& p, const Inputs& in, Outputs& out) override {
    const std::string line = to_string(p);
    if (pending_) {
      auto pending = std::exchange(pending_, std::nullopt);
      if (pending->first == line) return pending->second;
    }
    NC_RETURN_IF_ERROR(validate(p));
    if (p.direction == Direction::kBackward && !info_.has_backward)
      return Status::error("Expected a plugin with a backward function, but " + info_.name + " has none");
    Expected<CaseRegion> region = CaseRegion::create(p, in, out);
    if (!region) return region.status();
    Writer w(Kind::kRun);
    w.str(line);
    w.i64(out.num_batches_tracked);
    w.i64(static_cast<std::int64_t>(region->size()));
    for (const plugin_wire::SlotLayout& s : region->slots()) w.slot(s);
    Expected<std::vector<char>> reply = call(w, Kind::kRun, region->fd());
    if (!reply) return reply.status();
    Reader r(*reply);
    r.u32();
    const auto code = static_cast<std::int32_t>(r.u32());
    const std::string message = one_line(r.str());
    const std::int64_t nbt = r.i64();
    if (r.failed())
      return Status::error("Expected a complete reply from the plugin worker, but got a truncated one");
    NC_RETURN_IF_ERROR(region->check_writes());  // before the code: a refusal that wrote past y FAILS
    if (code != NC_OK) return status_of(code, message);
    region->copy_outputs_to(out);
    out.num_batches_tracked = nbt;
    return {};
  }

 private:
  /// One request to a live worker (started afresh when the last one died).
  Expected<std::vector<char>> call(const Writer& w, Kind kind, int fd = -1) const {
    if (!worker_ || !worker_->alive()) {
      Expected<std::unique_ptr<WorkerProcess>> fresh = WorkerProcess::start(config_);
      if (!fresh) return Status::error("cannot restart the plugin worker: " + fresh.message());
      worker_ = std::move(*fresh);
    }
    return worker_->call(w, kind, fd);
  }

  WorkerConfig config_;
  PluginInfo info_;
  std::string description_;
  Capabilities caps_;
  mutable std::unique_ptr<WorkerProcess> worker_;
  /// A failure in supports(p), returned by the run(p) that follows.
  mutable std::optional<std::pair<std::string, Status>> pending_;
};

}  // namespace

std::string resolve_worker_path(const PluginOptions& options) {
  namespace fs = std::filesystem;
  if (!options.worker_path.empty()) return options.worker_path;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = exe.parent_path() / "normcheck-worker";
    if (access(beside.c_str(), X_OK) == 0) return beside.string();
  }
#ifdef NORMCHECK_PLUGIN_WORKER_PATH
  return NORMCHECK_PLUGIN_WORKER_PATH;
#else
  return "normcheck-worker";
#endif
}

Expected<std::unique_ptr<Implementation>> load_plugin(const std::string& path, const PluginOptions& options) {
  namespace fs = std::filesystem;
  const std::string prefix(kPluginLoadErrorPrefix);
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st))
    return Status::error(prefix + "Expected a plugin library at " + path + ", but got no such file");
  if (fs::is_directory(st))
    return Status::error(prefix + "Expected a plugin library at " + path + ", but got a directory");
  WorkerConfig config;
  config.library_path = fs::absolute(path, ec).lexically_normal().string();  // dlopen must not search
  config.worker_path = resolve_worker_path(options);
  config.timeout = options.timeout;
  config.load_timeout = options.load_timeout;
  config.memory_limit = options.memory_limit;
  if (access(config.worker_path.c_str(), X_OK) != 0)
    return Status::error(prefix + "Expected the plugin worker executable at " + config.worker_path +
                         ", but got none (set PluginOptions::worker_path)");
  Expected<std::unique_ptr<WorkerProcess>> worker = WorkerProcess::start(config);
  if (!worker) {  // one line whatever the worker or the plugin's name carried
    std::string why = worker.message();
    for (char& ch : why)
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = ' ';
    return Status::error(prefix + config.library_path + ": " + why);
  }
  return std::unique_ptr<Implementation>(new PluginImplementation(std::move(config), std::move(*worker), path));
}

}  // namespace normcheck::impls
