#pragma once
/// A third-party plugin library (impls/plugin/normcheck_plugin.h, docs/plugin-abi.md) as an
/// Implementation. The library is never loaded into this process: a normcheck-worker process
/// dlopens it and runs each case on tensors in shared memory. A case that crashes the worker,
/// hangs past the timeout or exceeds the memory limit returns an error Status naming it, and
/// the next call starts a fresh worker, so a gate keeps going.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "impls/registry.h"
#include "normcheck/status.h"

namespace normcheck::impls {

struct PluginOptions {
  /// Per request (one case's run, or one supports query). Past it the worker is killed.
  std::chrono::milliseconds timeout{10'000};
  /// For loading the library (the worker's dlopen and the entry call).
  std::chrono::milliseconds load_timeout{30'000};
  /// RLIMIT_AS of the worker process, in bytes; 0: no limit. The case's shared region counts.
  std::uint64_t memory_limit = std::uint64_t{4} << 30;
  /// The normcheck-worker executable; empty: next to this program, else the build tree's.
  std::string worker_path;
};

/// Every load error's message starts with this, so a command can tell "the plugin cannot be
/// loaded" (exit 3) from other errors.
inline constexpr std::string_view kPluginLoadErrorPrefix = "cannot load plugin: ";
inline bool is_plugin_load_error(const Status& s) {
  return !s.ok() && std::string_view(s.message()).starts_with(kPluginLoadErrorPrefix);
}

/// Starts a worker for the library at path and checks it: a missing file, a library dlopen
/// refuses, a missing entry symbol, a NULL table, a wrong ABI version, a bad name or NULL
/// required function pointers each come back as a one-line "cannot load plugin: ..." error.
/// The Implementation's name() is the plugin's name. Not thread-safe: one call at a time.
Expected<std::unique_ptr<Implementation>> load_plugin(const std::string& path,
                                                      const PluginOptions& options = {});

/// The worker executable load_plugin uses for these options (see PluginOptions::worker_path).
std::string resolve_worker_path(const PluginOptions& options);

}  // namespace normcheck::impls
