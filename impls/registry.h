#pragma once
/// The implementations under test, behind one interface, found only through the registry.
///
/// A caller (the runner, a property) asks supports(problem): a problem outside the
/// implementation's capabilities is SKIPPED with the reason it gives, never attempted. Otherwise
/// it allocates the outputs the problem defines, poisons them with NaN, copies the running
/// buffers into them (they are updated in place), and calls run(). run() writes every output it
/// claims in Capabilities and returns a Status: an error the framework itself raises (PyTorch's
/// "Expected more than 1 value per channel when training") comes back as that error, so the
/// suite can compare it with what the profile requires.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/inputs.h"
#include "normcheck/problem.h"
#include "normcheck/status.h"
#include "normcheck/tensor.h"

namespace normcheck::impls {

/// Where an implementation writes. Views are preallocated by the caller in the problem's dtype
/// (mean/rstd in the stats dtype: float32 for 16/32-bit data, float64 for float64), dense in
/// logical row-major order unless the caller chooses another layout for y/dx.
struct Outputs {
  TensorView y;                                    ///< problem.shape
  std::optional<TensorView> mean, rstd;            ///< per normalization set, when the caller asks
  std::optional<TensorView> running_mean, running_var;  ///< in/out: hold the old values on entry
  std::int64_t num_batches_tracked = 0;            ///< in/out
  std::optional<TensorView> dx, dweight, dbias;    ///< backward problems
};

/// What an implementation can do. supports() checks a problem against it; an implementation may
/// refuse more (a shape it cannot handle) by overriding Implementation::supports.
struct Capabilities {
  std::vector<Op> ops;
  std::vector<DType> dtypes;
  std::vector<Layout> layouts;
  std::vector<Mode> modes;
  std::vector<Direction> directions;
  std::vector<Profile> profiles;
  std::vector<Device> devices;
  bool saves_stats = false;  ///< writes Outputs::mean / rstd (training or batch statistics)

  /// The reason p is outside these capabilities ("dtype bfloat16 not supported"), or nullopt.
  std::optional<std::string> refuses(const Problem& p, Device device) const;
  /// Every op, dtype, layout, mode, direction and profile, on the CPU (saves_stats false).
  static Capabilities everything_on_cpu();
};

class Implementation {
 public:
  virtual ~Implementation() = default;
  /// A stable, unique name: "cpu", "torch", "seed-groupnorm", "mutant-eps-outside-sqrt", ...
  virtual std::string_view name() const = 0;
  /// One line for reports: what it is and where it comes from.
  virtual std::string_view description() const = 0;
  virtual const Capabilities& capabilities() const = 0;
  /// nullopt when run(p) will be attempted; otherwise why not (reported as SKIPPED).
  virtual std::optional<std::string> supports(const Problem& p) const {
    return capabilities().refuses(p, capabilities().devices.empty() ? Device::kCPU : capabilities().devices[0]);
  }
  /// Forward (and, for direction=backward, backward) of p on the inputs, into out.
  virtual Status run(const Problem& p, const Inputs& in, Outputs& out) = 0;
  /// Makes the next run() start from fresh state, as a process that has run nothing yet (a
  /// plugin: a new worker). The determinism property compares a fresh call with warm ones.
  /// Built-ins keep no state between calls: nothing to do.
  virtual Status restart() { return {}; }
};

/// Every built-in implementation, in a fixed order, each made fresh (implementations may keep
/// scratch state; the registry hands out new ones so calls never share it). LibTorch's ("torch",
/// "torch-cuda") live in libnormcheck_torch.so, loaded on demand: here, and in make_implementation
/// only for a name LibTorch provides. Where the build has LibTorch but this machine cannot load the
/// module, "torch" is still listed: it refuses every problem with the reason ("LibTorch
/// implementation not available: <dlerror>"), so a run that includes it shows SKIPPED rows.
std::vector<std::unique_ptr<Implementation>> builtin_implementations();
/// The built-in implementation with this name, or nullptr.
std::unique_ptr<Implementation> make_implementation(std::string_view name);
/// The names of every built-in implementation.
std::vector<std::string> implementation_names();
/// Why the implementation `name` cannot be loaded on this machine (a name LibTorch provides, its
/// module or LibTorch missing), or nullopt. A caller that asked for it by name fails with this.
std::optional<std::string> unavailable_reason(std::string_view name);

/// Elements of NaN poison on each side of every output buffer allocate_outputs makes.
inline constexpr std::int64_t kGuardElements = 64;

/// A case's outputs, owned: allocated for p, poisoned with NaN, running buffers copied in. The
/// tensors are the storage behind `views`: y, mean, rstd, dx, dweight, dbias are flat buffers with
/// kGuardElements of poison before and after the dense row-major view, so a write outside the
/// output shows (check_guards).
struct OwnedOutputs {
  Tensor y, mean, rstd, running_mean, running_var, dx, dweight, dbias;
  Outputs views;
  /// An error naming the output whose guard elements changed, or ok.
  Status check_guards() const;
};
/// Allocates what p defines for an implementation with these capabilities.
Expected<OwnedOutputs> allocate_outputs(const Problem& p, const Inputs& in, const Capabilities& caps);

}  // namespace normcheck::impls
